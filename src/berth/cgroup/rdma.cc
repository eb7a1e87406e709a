// berth/cgroup: rdma.max writer (v1 and v2).
#include "berth/cgroup/rdma.h"

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"

namespace berth::cgroup {

std::string RdmaLine(const std::string& device, const oci::RdmaLimit& l) {
  std::string line = device;
  if (l.hca_handles) line += StrCat(" hca_handle=", *l.hca_handles);
  if (l.hca_objects) line += StrCat(" hca_object=", *l.hca_objects);
  return line;
}

Status ApplyRdma(const std::string& dir, const std::map<std::string, oci::RdmaLimit>& rdma) {
  for (const auto& [device, limit] : rdma) {
    std::string field = StrCat("linux.resources.rdma.", device);
    if (device.empty() || device.find_first_of(" \n") != std::string::npos) {
      return InvalidArgument(StrCat(field, ": ", Quote(device), " is not a device name"));
    }
    if (!limit.hca_handles && !limit.hca_objects) continue;
    BERTH_TRY(WriteField(field, dir, "rdma.max", RdmaLine(device, limit)));
  }
  return Ok();
}

}  // namespace berth::cgroup
