// berth/engine: docker/podman seccomp profiles (the JSON with "defaultAction", "archMap",
// "syscalls"[].includes/excludes) turned into linux.seccomp for one container: rules whose
// capability, architecture or kernel conditions do not hold are left out, and archMap picks
// the native architecture and its sub-architectures.
#include <sys/utsname.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/spec_gen_internal.h"

namespace berth::engine {
namespace internal {
namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Reads j[key] as T when present; nlohmann's throw on a type mismatch stays in here.
template <class T>
Status Get(const Json& j, std::string_view key, T& out, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Ok();
  try {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!it->is_number_integer() || (std::is_unsigned_v<T> && !it->is_number_unsigned()))
        throw std::invalid_argument("expected a non-negative integer");
    }
    out = it->template get<T>();
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat(where, ".", key, ": ", e.what()));
  }
  return Ok();
}

Status CheckObject(const Json& j, std::string_view where) {
  if (!j.is_object()) return InvalidArgument(StrCat(where, ": expected an object"));
  return Ok();
}

Status ParseCondition(const Json& j, std::string_view where, std::vector<std::string>& caps,
                      std::vector<std::string>& arches, std::string* min_kernel) {
  if (j.is_null()) return Ok();
  BERTH_TRY(CheckObject(j, where));
  BERTH_TRY(Get(j, "caps", caps, where));
  BERTH_TRY(Get(j, "arches", arches, where));
  std::string mk;
  BERTH_TRY(Get(j, "minKernel", mk, where));
  if (!mk.empty()) {
    if (min_kernel == nullptr)
      return InvalidArgument(StrCat(where, ".minKernel: not supported in excludes"));
    int a = 0, b = 0;
    if (sscanf(mk.c_str(), "%d.%d", &a, &b) != 2)
      return InvalidArgument(StrCat(where, ".minKernel: invalid kernel version ", Quote(mk)));
    *min_kernel = mk;
  }
  return Ok();
}

Result<ProfileRule> ParseRule(const Json& j, const std::string& where) {
  BERTH_TRY(CheckObject(j, where));
  ProfileRule r;
  std::string name;
  BERTH_TRY(Get(j, "name", name, where));
  BERTH_TRY(Get(j, "names", r.names, where));
  if (!name.empty() && !r.names.empty())
    return InvalidArgument(StrCat(where, ": use either `name` or `names`, not both"));
  if (!name.empty()) r.names.push_back(name);
  if (r.names.empty()) return InvalidArgument(StrCat(where, ": no syscall names"));
  BERTH_TRY(Get(j, "action", r.action, where));
  if (r.action.empty()) return InvalidArgument(StrCat(where, ".action: required"));
  uint32_t e = 0;
  if (j.contains("errnoRet") && !j["errnoRet"].is_null()) {
    BERTH_TRY(Get(j, "errnoRet", e, where));
    r.errno_ret = e;
  }
  if (auto it = j.find("args"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument(StrCat(where, ".args: expected an array"));
    for (size_t i = 0; i < it->size(); ++i) {
      std::string aw = StrCat(where, ".args[", i, "]");
      const Json& a = (*it)[i];
      BERTH_TRY(CheckObject(a, aw));
      oci::SeccompArg arg;
      BERTH_TRY(Get(a, "index", arg.index, aw));
      BERTH_TRY(Get(a, "value", arg.value, aw));
      BERTH_TRY(Get(a, "valueTwo", arg.value_two, aw));
      BERTH_TRY(Get(a, "op", arg.op, aw));
      r.args.push_back(std::move(arg));
    }
  }
  if (j.contains("includes"))
    BERTH_TRY(ParseCondition(j["includes"], where + ".includes", r.include_caps, r.include_arches,
                             &r.include_min_kernel));
  if (j.contains("excludes"))
    BERTH_TRY(ParseCondition(j["excludes"], where + ".excludes", r.exclude_caps, r.exclude_arches,
                             nullptr));
  return r;
}

bool KernelAtLeast(const SeccompContext& ctx, const std::string& version) {
  int a = 0, b = 0;
  if (sscanf(version.c_str(), "%d.%d", &a, &b) != 2) return false;
  return ctx.kernel_major > a || (ctx.kernel_major == a && ctx.kernel_minor >= b);
}

bool RuleApplies(const ProfileRule& r, const SeccompContext& ctx) {
  for (const auto& c : r.include_caps)
    if (!Contains(ctx.caps, c)) return false;
  if (!r.include_arches.empty() && !Contains(r.include_arches, ctx.go_arch)) return false;
  if (!r.include_min_kernel.empty() && !KernelAtLeast(ctx, r.include_min_kernel)) return false;
  for (const auto& c : r.exclude_caps)
    if (Contains(ctx.caps, c)) return false;
  if (Contains(r.exclude_arches, ctx.go_arch)) return false;
  return true;
}

std::string GoArchFromMachine(std::string_view m) {
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "i386" || m == "i686") return "386";
  if (m.starts_with("arm")) return "arm";
  if (m == "ppc64le") return "ppc64le";
  if (m == "s390x") return "s390x";
  if (m == "riscv64") return "riscv64";
  if (m == "mips64") return "mips64";
  return std::string(m);
}

}  // namespace

std::string NativeScmpArch(std::string_view go_arch) {
  static constexpr std::pair<std::string_view, std::string_view> kArches[] = {
      {"amd64", "SCMP_ARCH_X86_64"},    {"386", "SCMP_ARCH_X86"},
      {"arm64", "SCMP_ARCH_AARCH64"},   {"arm", "SCMP_ARCH_ARM"},
      {"ppc64le", "SCMP_ARCH_PPC64LE"}, {"s390x", "SCMP_ARCH_S390X"},
      {"riscv64", "SCMP_ARCH_RISCV64"}, {"mips64", "SCMP_ARCH_MIPS64"},
  };
  for (auto [go, scmp] : kArches)
    if (go == go_arch) return std::string(scmp);
  return "";
}

SeccompContext HostSeccompContext(const std::vector<std::string>& caps) {
  SeccompContext ctx;
  ctx.caps = caps;
  struct utsname u {};
  if (uname(&u) == 0) {
    ctx.go_arch = GoArchFromMachine(u.machine);
    sscanf(u.release, "%d.%d", &ctx.kernel_major, &ctx.kernel_minor);
  }
  return ctx;
}

Result<Profile> ParseProfile(const Json& j, std::string_view what) {
  std::string w(what);
  BERTH_TRY(CheckObject(j, w));
  Profile p;
  BERTH_TRY(Get(j, "defaultAction", p.default_action, w));
  if (p.default_action.empty()) return InvalidArgument(StrCat(w, ".defaultAction: required"));
  if (j.contains("defaultErrnoRet") && !j["defaultErrnoRet"].is_null()) {
    uint32_t e = 0;
    BERTH_TRY(Get(j, "defaultErrnoRet", e, w));
    p.default_errno_ret = e;
  }
  BERTH_TRY(Get(j, "architectures", p.architectures, w));
  if (auto it = j.find("archMap"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument(StrCat(w, ".archMap: expected an array"));
    for (size_t i = 0; i < it->size(); ++i) {
      std::string aw = StrCat(w, ".archMap[", i, "]");
      BERTH_TRY(CheckObject((*it)[i], aw));
      std::pair<std::string, std::vector<std::string>> entry;
      BERTH_TRY(Get((*it)[i], "architecture", entry.first, aw));
      BERTH_TRY(Get((*it)[i], "subArchitectures", entry.second, aw));
      p.arch_map.push_back(std::move(entry));
    }
  }
  if (!p.architectures.empty() && !p.arch_map.empty())
    return InvalidArgument(StrCat(w, ": use either `architectures` or `archMap`, not both"));
  BERTH_TRY(Get(j, "flags", p.flags, w));
  BERTH_TRY(Get(j, "listenerPath", p.listener_path, w));
  BERTH_TRY(Get(j, "listenerMetadata", p.listener_metadata, w));
  if (auto it = j.find("syscalls"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument(StrCat(w, ".syscalls: expected an array"));
    for (size_t i = 0; i < it->size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(ProfileRule r, ParseRule((*it)[i], StrCat(w, ".syscalls[", i, "]")));
      p.rules.push_back(std::move(r));
    }
  }
  return p;
}

Result<oci::Seccomp> ResolveProfile(const Profile& p, const SeccompContext& ctx) {
  oci::Seccomp s;
  s.default_action = p.default_action;
  s.default_errno_ret = p.default_errno_ret;
  s.flags = p.flags;
  s.listener_path = p.listener_path;
  s.listener_metadata = p.listener_metadata;
  if (!p.architectures.empty()) {
    s.architectures = p.architectures;
  } else {
    std::string native = NativeScmpArch(ctx.go_arch);
    for (const auto& [arch, subs] : p.arch_map) {
      if (arch != native) continue;
      s.architectures.push_back(arch);
      s.architectures.insert(s.architectures.end(), subs.begin(), subs.end());
    }
  }
  for (const auto& r : p.rules) {
    if (!RuleApplies(r, ctx)) continue;
    oci::SeccompSyscall sc;
    sc.names = r.names;
    sc.action = r.action;
    sc.errno_ret = r.errno_ret;
    sc.args = r.args;
    s.syscalls.push_back(std::move(sc));
  }
  return s;
}

}  // namespace internal

Result<oci::Seccomp> LoadSeccompProfile(const std::string& path,
                                        const std::vector<std::string>& caps) {
  std::string what = StrCat("seccomp profile ", Quote(path));
  BERTH_ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(path), "load seccomp profile");
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(text, what));
  BERTH_ASSIGN_OR_RETURN(internal::Profile p, internal::ParseProfile(j, what));
  return internal::ResolveProfile(p, internal::HostSeccompContext(caps));
}

Result<oci::Seccomp> LoadSeccompProfile(const std::string& path) {
  return LoadSeccompProfile(path, DefaultCapabilities());
}

}  // namespace berth::engine
