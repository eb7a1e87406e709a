// berth/oci: checks of the linux section: namespaces and what depends on them (id mappings,
// time offsets, sysctls, hostname, network devices), devices, seccomp and the rest.
#include "berth/oci/validate_linux.h"

#include <set>
#include <string>

#include "berth/oci/validate_util.h"

namespace berth::oci::internal {
namespace {

constexpr std::string_view kPropagations[] = {
    "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable",
};
constexpr std::string_view kDeviceTypes[] = {"c", "b", "u", "p"};
constexpr std::string_view kPersonalityDomains[] = {"LINUX", "LINUX32"};
constexpr std::string_view kTimeClocks[] = {"monotonic", "boottime"};

// Sysctls the kernel scopes to a namespace; every other one would change the host.
struct SysctlRule {
  std::string_view name;
  bool prefix;  // `name` is a prefix rather than the whole key
  NamespaceType ns;
};
constexpr SysctlRule kSysctlRules[] = {
    {"kernel.shm", true, NamespaceType::kIpc},
    {"kernel.msg", true, NamespaceType::kIpc},
    {"kernel.sem", false, NamespaceType::kIpc},
    {"fs.mqueue.", true, NamespaceType::kIpc},
    {"net.", true, NamespaceType::kNetwork},
    {"kernel.hostname", false, NamespaceType::kUts},
    {"kernel.domainname", false, NamespaceType::kUts},
};

// The namespace that needs to be listed for `field`, or an error naming it.
Status NeedNamespace(std::string_view field, const Linux& l, NamespaceType t) {
  if (l.FindNamespace(t) != nullptr) return Ok();
  std::string_view name = NamespaceTypeName(t);
  return FieldError(field, StrCat("needs ", name.starts_with('i') ? "an " : "a ", name,
                                  " namespace, which linux.namespaces does not list"));
}

Status CheckNamespaces(const Linux& l) {
  std::set<NamespaceType> seen;
  for (size_t i = 0; i < l.namespaces.size(); ++i) {
    const Namespace& ns = l.namespaces[i];
    std::string f = Field("linux.namespaces", i);
    if (!seen.insert(ns.type).second)
      return FieldError(Field(f, "type"),
                        StrCat("duplicate namespace ", Quote(NamespaceTypeName(ns.type))));
    if (!ns.path.empty()) BERTH_TRY(CheckAbsolutePath(Field(f, "path"), ns.path));
  }
  return Ok();
}

Status CheckTimeOffsets(const Linux& l) {
  if (l.time_offsets.empty()) return Ok();
  const Namespace* time_ns = l.FindNamespace(NamespaceType::kTime);
  // Offsets can only be written before the first process enters the namespace.
  if (time_ns == nullptr || !time_ns->path.empty())
    return FieldError("linux.timeOffsets", "needs a new time namespace");
  for (const auto& [clock, offset] : l.time_offsets) {
    std::string f = Field("linux.timeOffsets", clock);
    if (!OneOf(kTimeClocks, clock))
      return FieldError(f, StrCat("unknown clock ", Quote(clock), " (monotonic or boottime)"));
    if (offset.nanosecs >= 1'000'000'000)
      return FieldError(Field(f, "nanosecs"), "must be below 1000000000");
  }
  return Ok();
}

Status CheckDevices(const Linux& l) {
  for (size_t i = 0; i < l.devices.size(); ++i) {
    const Device& d = l.devices[i];
    std::string f = Field("linux.devices", i);
    BERTH_TRY(CheckKnown(Field(f, "type"), d.type, kDeviceTypes, "device type"));
    BERTH_TRY(CheckAbsolutePath(Field(f, "path"), d.path));
    if (d.major < 0 || d.minor < 0) return FieldError(f, "major and minor must not be negative");
  }
  return Ok();
}

Status CheckSysctl(const Linux& l) {
  for (const auto& [key, value] : l.sysctl) {
    std::string f = Field("linux.sysctl", key);
    // sysctl(8) accepts '/' as the separator too.
    std::string name = key;
    for (char& c : name)
      if (c == '/') c = '.';
    const SysctlRule* rule = nullptr;
    for (const auto& r : kSysctlRules) {
      if (r.prefix ? name.starts_with(r.name) : name == r.name) rule = &r;
    }
    if (rule == nullptr)
      return FieldError(f, "not a namespaced sysctl; setting it would change the host");
    BERTH_TRY(NeedNamespace(f, l, rule->ns));
  }
  return Ok();
}

// Network interface names: IFNAMSIZ (16) including the NUL, no '/', ':' or whitespace.
Status CheckInterfaceName(std::string_view field, std::string_view name) {
  bool ok = !name.empty() && name.size() < 16 && name != "." && name != "..";
  for (char c : name) ok = ok && c != '/' && c != ':' && c != ' ' && c != '\t' && c != '\n' && c;
  if (!ok) return FieldError(field, StrCat("invalid network interface name ", Quote(name)));
  return Ok();
}

Status CheckNetDevices(const Linux& l) {
  if (l.net_devices.empty()) return Ok();
  BERTH_TRY(NeedNamespace("linux.netDevices", l, NamespaceType::kNetwork));
  for (const auto& [host_name, dev] : l.net_devices) {
    std::string f = Field("linux.netDevices", host_name);
    BERTH_TRY(CheckInterfaceName(f, host_name));
    if (!dev.name.empty()) BERTH_TRY(CheckInterfaceName(Field(f, "name"), dev.name));
  }
  return Ok();
}

bool TakesErrno(std::string_view action) {
  return action == "SCMP_ACT_ERRNO" || action == "SCMP_ACT_TRACE";
}

Status CheckSeccomp(const Seccomp& s) {
  const std::string f = "linux.seccomp";
  BERTH_TRY(
      CheckKnown(Field(f, "defaultAction"), s.default_action, kSeccompActions, "seccomp action"));
  if (s.default_action == "SCMP_ACT_NOTIFY")
    return FieldError(Field(f, "defaultAction"), "SCMP_ACT_NOTIFY cannot be the default action");
  if (s.default_errno_ret && !TakesErrno(s.default_action))
    return FieldError(Field(f, "defaultErrnoRet"),
                      StrCat("not allowed with default action ", s.default_action));
  for (size_t i = 0; i < s.architectures.size(); ++i)
    BERTH_TRY(CheckKnown(Field(Field(f, "architectures"), i), s.architectures[i],
                         kSeccompArchitectures, "seccomp architecture"));
  for (size_t i = 0; i < s.flags.size(); ++i)
    BERTH_TRY(CheckKnown(Field(Field(f, "flags"), i), s.flags[i], kSeccompFlags, "seccomp flag"));

  bool notify = false;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const SeccompSyscall& sc = s.syscalls[i];
    std::string sf = Field(Field(f, "syscalls"), i);
    if (sc.names.empty()) return FieldError(Field(sf, "names"), "must not be empty");
    for (size_t n = 0; n < sc.names.size(); ++n)
      if (sc.names[n].empty()) return FieldError(Field(Field(sf, "names"), n), "must not be empty");
    BERTH_TRY(CheckKnown(Field(sf, "action"), sc.action, kSeccompActions, "seccomp action"));
    notify = notify || sc.action == "SCMP_ACT_NOTIFY";
    if (sc.errno_ret && !TakesErrno(sc.action))
      return FieldError(Field(sf, "errnoRet"), StrCat("not allowed with action ", sc.action));
    for (size_t a = 0; a < sc.args.size(); ++a) {
      std::string af = Field(Field(sf, "args"), a);
      // Six syscall arguments: seccomp_data.args[6].
      if (sc.args[a].index >= 6)
        return FieldError(Field(af, "index"), StrCat("must be below 6, got ", sc.args[a].index));
      BERTH_TRY(CheckKnown(Field(af, "op"), sc.args[a].op, kSeccompOperators, "seccomp operator"));
    }
  }
  if (notify) BERTH_TRY(CheckAbsolutePath(Field(f, "listenerPath"), s.listener_path));
  if (!s.listener_metadata.empty() && s.listener_path.empty())
    return FieldError(Field(f, "listenerMetadata"), "needs listenerPath");
  return Ok();
}

Status CheckPersonality(const Personality& p) {
  BERTH_TRY(
      CheckKnown("linux.personality.domain", p.domain, kPersonalityDomains, "personality domain"));
  if (!p.flags.empty())
    return FieldError("linux.personality.flags", "no personality flags are defined");
  return Ok();
}

Status CheckIntelRdt(const IntelRdt& rdt) {
  // closID names a directory under /sys/fs/resctrl.
  const std::string& id = rdt.clos_id;
  if (id == "." || id == ".." || id.find('/') != std::string::npos ||
      id.find('\0') != std::string::npos)
    return FieldError("linux.intelRdt.closID", StrCat("invalid class of service ", Quote(id)));
  if (!rdt.mem_bw_schema.empty() &&
      (!rdt.mem_bw_schema.starts_with("MB:") || rdt.mem_bw_schema.find('\n') != std::string::npos))
    return FieldError("linux.intelRdt.memBwSchema", "must start with `MB:` and be one line");
  return Ok();
}

Status CheckPathList(std::string_view field, const std::vector<std::string>& paths) {
  for (size_t i = 0; i < paths.size(); ++i) BERTH_TRY(CheckAbsolutePath(Field(field, i), paths[i]));
  return Ok();
}

}  // namespace

Status CheckIdMappings(std::string_view field, const std::vector<IdMapping>& mappings) {
  for (size_t i = 0; i < mappings.size(); ++i) {
    const IdMapping& m = mappings[i];
    std::string f = Field(field, i);
    if (m.size == 0) return FieldError(Field(f, "size"), "must be positive");
    uint64_t end = static_cast<uint64_t>(m.size) - 1;
    if (m.container_id + end > UINT32_MAX || m.host_id + end > UINT32_MAX)
      return FieldError(f, "range goes past 4294967295");
  }
  return Ok();
}

Status CheckUtsFields(const Spec& spec, const Linux& l) {
  if (!spec.hostname.empty()) BERTH_TRY(NeedNamespace("hostname", l, NamespaceType::kUts));
  if (!spec.domainname.empty()) BERTH_TRY(NeedNamespace("domainname", l, NamespaceType::kUts));
  // runc refuses a kernel.hostname sysctl that contradicts the hostname field; so do we.
  const std::pair<const char*, const std::string*> fields[] = {
      {"kernel.hostname", &spec.hostname},
      {"kernel.domainname", &spec.domainname},
  };
  for (const auto& [key, value] : fields) {
    auto it = l.sysctl.find(key);
    if (it != l.sysctl.end() && !value->empty() && it->second != *value)
      return FieldError(Field("linux.sysctl", key), StrCat("conflicts with ", Quote(*value)));
  }
  return Ok();
}

Status CheckLinux(const Linux& l) {
  BERTH_TRY(CheckNamespaces(l));
  if (!l.uid_mappings.empty())
    BERTH_TRY(NeedNamespace("linux.uidMappings", l, NamespaceType::kUser));
  if (!l.gid_mappings.empty())
    BERTH_TRY(NeedNamespace("linux.gidMappings", l, NamespaceType::kUser));
  BERTH_TRY(CheckIdMappings("linux.uidMappings", l.uid_mappings));
  BERTH_TRY(CheckIdMappings("linux.gidMappings", l.gid_mappings));
  BERTH_TRY(CheckTimeOffsets(l));
  BERTH_TRY(CheckDevices(l));
  BERTH_TRY(CheckNetDevices(l));
  if (l.resources) BERTH_TRY(ValidateResources(*l.resources));
  BERTH_TRY(CheckSysctl(l));
  if (l.seccomp) BERTH_TRY(CheckSeccomp(*l.seccomp));
  BERTH_TRY(
      CheckKnown("linux.rootfsPropagation", l.rootfs_propagation, kPropagations, "propagation"));
  BERTH_TRY(CheckPathList("linux.maskedPaths", l.masked_paths));
  BERTH_TRY(CheckPathList("linux.readonlyPaths", l.readonly_paths));
  if (l.personality) BERTH_TRY(CheckPersonality(*l.personality));
  if (l.intel_rdt) BERTH_TRY(CheckIntelRdt(*l.intel_rdt));
  return Ok();
}

}  // namespace berth::oci::internal
