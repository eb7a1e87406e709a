#include <sched.h>

#include "berth/oci/spec.h"
#include "berth/sys/syscalls.h"

namespace berth::oci {

namespace {
struct NsName {
  NamespaceType type;
  std::string_view name;
  std::string_view proc;
  int flag;
};
constexpr NsName kNamespaces[] = {
    {NamespaceType::kPid, "pid", "pid", CLONE_NEWPID},
    {NamespaceType::kNetwork, "network", "net", CLONE_NEWNET},
    {NamespaceType::kMount, "mount", "mnt", CLONE_NEWNS},
    {NamespaceType::kIpc, "ipc", "ipc", CLONE_NEWIPC},
    {NamespaceType::kUts, "uts", "uts", CLONE_NEWUTS},
    {NamespaceType::kUser, "user", "user", CLONE_NEWUSER},
    {NamespaceType::kCgroup, "cgroup", "cgroup", CLONE_NEWCGROUP},
    {NamespaceType::kTime, "time", "time", CLONE_NEWTIME},
};
}  // namespace

std::string_view NamespaceTypeName(NamespaceType t) {
  for (const auto& n : kNamespaces)
    if (n.type == t) return n.name;
  return "unknown";
}

std::optional<NamespaceType> ParseNamespaceType(std::string_view name) {
  for (const auto& n : kNamespaces)
    if (n.name == name) return n.type;
  return std::nullopt;
}

int NamespaceCloneFlag(NamespaceType t) {
  for (const auto& n : kNamespaces)
    if (n.type == t) return n.flag;
  return 0;
}

std::string_view NamespaceProcName(NamespaceType t) {
  for (const auto& n : kNamespaces)
    if (n.type == t) return n.proc;
  return "";
}

const Namespace* Linux::FindNamespace(NamespaceType t) const {
  for (const auto& n : namespaces)
    if (n.type == t) return &n;
  return nullptr;
}

}  // namespace berth::oci
