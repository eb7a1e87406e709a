// berth/cgroup: the rdma controller, which has the same rdma.max format in v1 and v2.
#pragma once

#include <map>
#include <string>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::cgroup {

// One "<device> hca_handle=N hca_object=M" line per device (unset counts omitted).
Status ApplyRdma(const std::string& dir, const std::map<std::string, oci::RdmaLimit>& rdma);
std::string RdmaLine(const std::string& device, const oci::RdmaLimit& limit);

}  // namespace berth::cgroup
