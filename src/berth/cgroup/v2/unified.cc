// berth/cgroup/v2: linux.resources.unified (raw cgroup2 files) and rdma.max.
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/rdma.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

Status ApplyUnified(const Leaf& leaf, const std::map<std::string, std::string>& kv) {
  for (const auto& [key, value] : kv) {
    std::string field = StrCat("linux.resources.unified[\"", key, "\"]");
    // Only files of the leaf itself: no path separators, no way out of the directory.
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos ||
        key[0] == '.') {
      return InvalidArgument(StrCat(field, ": not a file name of the container's cgroup"));
    }
    if (!HasFile(leaf.dir(), key)) {
      // "memory.high" lives in the memory controller: enable it if it is only off.
      size_t dot = key.find('.');
      std::string controller = key.substr(0, dot);
      if (dot != std::string::npos && controller != "cgroup") {
        BERTH_TRY(leaf.EnableController(controller, field));
      }
    }
    BERTH_TRY(WriteField(field, leaf.dir(), key, value));
  }
  return Ok();
}

Status ApplyRdma(const Leaf& leaf, const std::map<std::string, oci::RdmaLimit>& rdma) {
  if (rdma.empty()) return Ok();
  BERTH_TRY(leaf.EnableController("rdma", "linux.resources.rdma"));
  return cgroup::ApplyRdma(leaf.dir(), rdma);
}

}  // namespace berth::cgroup::v2
