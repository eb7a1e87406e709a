#include "berth/runtime/namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

namespace {

std::string MapText(const std::vector<oci::IdMapping>& maps) {
  std::string out;
  for (const auto& m : maps) out += StrCat(m.container_id, " ", m.host_id, " ", m.size, "\n");
  return out;
}

// The ioctl NS_GET_NSTYPE says what kind of namespace an fd is.
Status CheckNamespaceFd(int fd, oci::NamespaceType type, const std::string& path,
                        const std::string& field) {
  int kind = ::ioctl(fd, NS_GET_NSTYPE);
  if (kind < 0) {
    return SysFail(errno, StrCat(field, ": ", Quote(path), " is not a namespace"));
  }
  if (kind != oci::NamespaceCloneFlag(type)) {
    return InvalidArgument(StrCat(field, ": ", Quote(path), " is not a ",
                                  oci::NamespaceTypeName(type), " namespace"));
  }
  return Ok();
}

}  // namespace

Result<NamespacePlan> PlanNamespaces(const oci::Linux& lc, bool cgroup_into_clone) {
  NamespacePlan plan;
  std::vector<std::pair<oci::NamespaceType, UniqueFd>> user_join, other_joins;
  for (size_t i = 0; i < lc.namespaces.size(); ++i) {
    const auto& ns = lc.namespaces[i];
    std::string field = StrCat("linux.namespaces[", static_cast<uint64_t>(i), "]");
    if (ns.path.empty()) {
      plan.types.emplace_back(oci::NamespaceTypeName(ns.type));
      switch (ns.type) {
        case oci::NamespaceType::kCgroup:
          if (cgroup_into_clone) plan.clone_flags |= CLONE_NEWCGROUP;
          else plan.unshare_cgroup = true;
          break;
        case oci::NamespaceType::kTime:
          plan.unshare_time = true;
          break;
        case oci::NamespaceType::kUser:
          plan.new_user = true;
          plan.clone_flags |= CLONE_NEWUSER;
          break;
        case oci::NamespaceType::kNetwork:
          plan.unshare_net = true;
          break;
        default:
          plan.clone_flags |= static_cast<uint64_t>(oci::NamespaceCloneFlag(ns.type));
      }
      continue;
    }
    int fd = ::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoFail(StrCat(field, ": open ", Quote(ns.path)));
    UniqueFd f(fd);
    BERTH_TRY(CheckNamespaceFd(fd, ns.type, ns.path, field));
    plan.types.emplace_back(oci::NamespaceTypeName(ns.type));
    if (ns.type == oci::NamespaceType::kPid) {
      plan.join_pid = std::move(f);
    } else if (ns.type == oci::NamespaceType::kUser) {
      user_join.emplace_back(ns.type, std::move(f));
    } else {
      other_joins.emplace_back(ns.type, std::move(f));
    }
  }
  // The user namespace is joined first: it owns the others, and joining it is what grants
  // the capabilities needed to join them.
  for (auto& j : user_join) plan.joins.push_back(std::move(j));
  for (auto& j : other_joins) plan.joins.push_back(std::move(j));
  return plan;
}

Status JoinNamespaces(NamespacePlan& plan, bool keep_fds) {
  for (auto& [type, fd] : plan.joins) {
    if (::setns(fd.get(), oci::NamespaceCloneFlag(type)) != 0) {
      return ErrnoFail(StrCat("join ", oci::NamespaceTypeName(type), " namespace"));
    }
    if (!keep_fds) fd.Reset();
  }
  return Ok();
}

bool JoinsAllowSharedMemory(const NamespacePlan& plan) {
  if (plan.join_pid.valid()) return false;
  for (const auto& [type, fd] : plan.joins) {
    if (type != oci::NamespaceType::kNetwork && type != oci::NamespaceType::kIpc &&
        type != oci::NamespaceType::kUts) {
      return false;
    }
  }
  return true;
}

Status WriteIdMaps(pid_t pid, const oci::Linux& lc) {
  std::string base = StrCat("/proc/", static_cast<int64_t>(pid));
  if (!lc.uid_mappings.empty()) {
    BERTH_TRY_CTX(WriteExisting(base + "/uid_map", MapText(lc.uid_mappings)),
                  "linux.uidMappings");
  }
  if (!lc.gid_mappings.empty()) {
    // An unprivileged writer must deny setgroups first; root may keep it.
    if (::geteuid() != 0) BERTH_TRY(WriteExisting(base + "/setgroups", "deny"));
    BERTH_TRY_CTX(WriteExisting(base + "/gid_map", MapText(lc.gid_mappings)),
                  "linux.gidMappings");
  }
  return Ok();
}

Status SetupTimeNamespace(const oci::Linux& lc) {
  if (::unshare(CLONE_NEWTIME) != 0) return ErrnoFail("unshare time namespace");
  std::string offsets;
  for (const auto& [clock, off] : lc.time_offsets) {
    offsets += StrCat(clock, " ", off.secs, " ", off.nanosecs, "\n");
  }
  if (!offsets.empty()) {
    BERTH_TRY_CTX(WriteExisting("/proc/self/timens_offsets", offsets), "linux.timeOffsets");
  }
  return Ok();
}

}  // namespace berth::runtime
