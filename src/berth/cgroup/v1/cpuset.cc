// berth/cgroup/v1: the cpuset controller: cpus and mems, and the initialisation every new
// v1 cpuset cgroup needs before it can take tasks.
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

bool WantsCpuset(const oci::CpuResources& c) { return !c.cpus.empty() || !c.mems.empty(); }

Status ApplyCpuset(const std::string& dir, const oci::CpuResources& c) {
  // cpus before mems: both are independent, but this is the order runc uses, so errors
  // from a bad config look the same.
  if (!c.cpus.empty())
    BERTH_TRY(WriteField("linux.resources.cpu.cpus", dir, "cpuset.cpus", c.cpus));
  if (!c.mems.empty())
    BERTH_TRY(WriteField("linux.resources.cpu.mems", dir, "cpuset.mems", c.mems));
  return Ok();
}

Status InitCpuset(const std::string& mount, const std::string& leaf) {
  std::string parent = mount;
  std::string_view rest = std::string_view(leaf).substr(mount.size());
  for (const std::string& part : SplitNonEmpty(rest, '/')) {
    std::string dir = JoinPath(parent, part);
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      BERTH_ASSIGN_OR_RETURN(std::string mine, ReadCgroupFile(dir, file));
      if (!mine.empty()) continue;
      BERTH_ASSIGN_OR_RETURN(std::string from, ReadCgroupFile(parent, file));
      BERTH_TRY_CTX(WriteCgroupFile(dir, file, from), "initialise cpuset");
    }
    parent = dir;
  }
  return Ok();
}

}  // namespace berth::cgroup::v1
