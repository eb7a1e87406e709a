// berth/engine: the container's capability set (--cap-add/--cap-drop/--privileged) and
// --security-opt, as docker interprets them.
#include <algorithm>
#include <set>

#include "berth/base/strings.h"
#include "berth/engine/spec_gen_internal.h"
#include "berth/runtime/capabilities.h"

namespace berth::engine::internal {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}

// "sys_admin", "CAP_SYS_ADMIN", "Sys_Admin" -> CAP_SYS_ADMIN's number; "ALL" -> -1.
Result<int> CapNumber(std::string_view flag, std::string_view name) {
  std::string n = Upper(Trim(name));
  if (n == "ALL" || n == "CAP_ALL") return -1;
  if (!n.starts_with("CAP_")) n = "CAP_" + n;
  auto cap = runtime::CapabilityFromName(n);
  if (!cap) return InvalidArgument(StrCat(flag, ": unknown capability ", Quote(name)));
  return *cap;
}

std::set<int> AllNumbers() {
  std::set<int> all;
  for (const auto& n : AllKernelCapabilities())
    if (auto c = runtime::CapabilityFromName(n)) all.insert(*c);
  return all;
}

}  // namespace

std::vector<std::string> AllKernelCapabilities() {
  std::vector<std::string> out;
  int last = runtime::LastCapability();
  for (const auto& n : runtime::AllCapabilityNames()) {
    auto c = runtime::CapabilityFromName(n);
    if (c && *c <= last) out.push_back(n);
  }
  return out;
}

Result<std::vector<std::string>> ComputeCapabilities(const RunConfig& run) {
  std::set<int> adds, drops;
  bool add_all = false, drop_all = false;
  for (const auto& a : run.cap_add) {
    BERTH_ASSIGN_OR_RETURN(int c, CapNumber("--cap-add", a));
    if (c < 0)
      add_all = true;
    else
      adds.insert(c);
  }
  for (const auto& d : run.cap_drop) {
    BERTH_ASSIGN_OR_RETURN(int c, CapNumber("--cap-drop", d));
    if (c < 0)
      drop_all = true;
    else
      drops.insert(c);
  }
  // Docker's rules: --privileged gets everything (adds and drops ignored); adding ALL
  // keeps all but the drops; dropping ALL keeps only the adds; otherwise the default set
  // minus the drops plus the adds (an add wins over a drop of the same capability).
  std::set<int> caps;
  if (run.privileged) {
    caps = AllNumbers();
  } else if (add_all) {
    caps = AllNumbers();
    for (int d : drops) caps.erase(d);
  } else if (drop_all) {
    caps = adds;
  } else {
    for (const auto& n : DefaultCapabilities())
      if (auto c = runtime::CapabilityFromName(n)) caps.insert(*c);
    for (int d : drops) caps.erase(d);
    caps.insert(adds.begin(), adds.end());
  }
  std::vector<std::string> out;
  for (int c : caps) out.push_back(runtime::CapabilityName(c));
  return out;
}

Result<SecurityOptions> ParseSecurityOptions(const std::vector<std::string>& opts) {
  SecurityOptions out;
  for (const auto& raw : opts) {
    // docker accepts both `key=value` and the older `key:value`.
    size_t sep = raw.find_first_of("=:");
    std::string key = raw.substr(0, sep);
    std::string value = sep == std::string::npos ? "" : raw.substr(sep + 1);
    if (key == "seccomp") {
      if (value.empty())
        return InvalidArgument("--security-opt: seccomp needs a profile path or `unconfined`");
      if (value == "unconfined") {
        out.seccomp = SecurityOptions::Seccomp::kUnconfined;
      } else if (value == "builtin" || value == "default") {
        out.seccomp = SecurityOptions::Seccomp::kDefault;
      } else {
        out.seccomp = SecurityOptions::Seccomp::kProfile;
        out.seccomp_profile = value;
      }
    } else if (key == "no-new-privileges") {
      if (value.empty() || value == "true")
        out.no_new_privileges = true;
      else if (value == "false")
        out.no_new_privileges = false;
      else
        return InvalidArgument(
            StrCat("--security-opt: invalid no-new-privileges value ", Quote(value)));
    } else if (key == "systempaths" && value == "unconfined") {
      out.unmask_paths = true;
    } else if ((key == "label" && value == "disable") ||
               (key == "apparmor" && value == "unconfined")) {
      // No SELinux or AppArmor confinement is applied by berth: already what was asked.
    } else {
      return InvalidArgument(StrCat("--security-opt: unknown or unsupported option ", Quote(raw)));
    }
  }
  return out;
}

}  // namespace berth::engine::internal
