// berth/oci (internal): checks of the linux section, called by Validate().
#pragma once

#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::oci::internal {

// Everything under "linux" (namespaces, mappings, devices, sysctl, seccomp, resources, ...).
Status CheckLinux(const Linux& linux_config);
// hostname and domainname need a uts namespace; a kernel.hostname sysctl must agree with them.
Status CheckUtsFields(const Spec& spec, const Linux& linux_config);
// Each mapping maps at least one id, and the range does not wrap around 2^32.
Status CheckIdMappings(std::string_view field, const std::vector<IdMapping>& mappings);

}  // namespace berth::oci::internal
