// berth/cgroup/v2: the pids controller.
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

Status ApplyPids(const Leaf& leaf, const oci::PidsResources& p) {
  constexpr std::string_view kField = "linux.resources.pids.limit";
  BERTH_TRY(leaf.EnableController("pids", kField));
  // <= 0 means unlimited in the runtime spec.
  return WriteField(kField, leaf.dir(), "pids.max",
                    p.limit > 0 ? StrCat(p.limit) : std::string("max"));
}

Status ReadPidsStats(const std::string& dir, PidsStats& out) {
  BERTH_ASSIGN_OR_RETURN(out.current, ReadUint(dir, "pids.current"));
  BERTH_ASSIGN_OR_RETURN(uint64_t max, ReadUint(dir, "pids.max"));
  out.limit = max == kMax ? 0 : max;
  return Ok();
}

}  // namespace berth::cgroup::v2
