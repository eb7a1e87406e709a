// berth/cgroup/v1: net_cls (classid for tc/iptables) and net_prio (per-interface priority).
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

Status ApplyNetClassId(const std::string& dir, uint32_t class_id) {
  return WriteField("linux.resources.network.classID", dir, "net_cls.classid", StrCat(class_id));
}

Status ApplyNetPriorities(const std::string& dir, const std::vector<oci::NetworkPriority>& prios) {
  for (size_t i = 0; i < prios.size(); ++i) {
    const auto& p = prios[i];
    std::string field = StrCat("linux.resources.network.priorities[", i, "]");
    if (p.name.empty() || p.name.find_first_of(" \n") != std::string::npos) {
      return InvalidArgument(StrCat(field, ".name: ", Quote(p.name), " is not an interface name"));
    }
    // One "ifname prio" line per write: the kernel parses a single entry per write.
    BERTH_TRY(WriteField(field, dir, "net_prio.ifpriomap", StrCat(p.name, " ", p.priority)));
  }
  return Ok();
}

}  // namespace berth::cgroup::v1
