// berth/cgroup/v1: the pids controller.
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

Status ApplyPids(const std::string& dir, const oci::PidsResources& p) {
  // <= 0 means unlimited in the runtime spec.
  std::string v = p.limit > 0 ? StrCat(p.limit) : std::string("max");
  return WriteField("linux.resources.pids.limit", dir, "pids.max", v);
}

Status ReadPidsStats(const std::string& dir, PidsStats& out) {
  BERTH_ASSIGN_OR_RETURN(out.current, ReadUint(dir, "pids.current"));
  BERTH_ASSIGN_OR_RETURN(uint64_t max, ReadUint(dir, "pids.max"));
  out.limit = max == kMax ? 0 : max;
  return Ok();
}

}  // namespace berth::cgroup::v1
