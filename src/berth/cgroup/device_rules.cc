// berth/cgroup: OCI device rules to kernel rules (see device_rules.h).
#include "berth/cgroup/device_rules.h"

#include "berth/base/strings.h"

namespace berth::cgroup {

std::string AccessString(uint8_t access) {
  std::string s;
  if (access & kAccRead) s.push_back('r');
  if (access & kAccWrite) s.push_back('w');
  if (access & kAccMknod) s.push_back('m');
  return s;
}

std::string DevRuleV1String(const DevRule& r) {
  auto num = [](int64_t n) { return n < 0 ? std::string("*") : StrCat(n); };
  return StrCat(r.type, ' ', num(r.major), ':', num(r.minor), ' ', AccessString(r.access));
}

Result<uint8_t> ParseAccess(std::string_view s, std::string_view field) {
  if (s.empty()) return kAccAll;
  uint8_t out = 0;
  for (char c : s) {
    switch (c) {
      case 'r':
        out |= kAccRead;
        break;
      case 'w':
        out |= kAccWrite;
        break;
      case 'm':
        out |= kAccMknod;
        break;
      default:
        return InvalidArgument(StrCat(field, ": ", Quote(s), " is not a subset of `rwm`"));
    }
  }
  return out;
}

Result<std::vector<DevRule>> ConvertDeviceRules(const std::vector<oci::DeviceRule>& rules) {
  std::vector<DevRule> out;
  out.reserve(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    const oci::DeviceRule& in = rules[i];
    std::string field = StrCat("linux.resources.devices[", i, "]");
    DevRule r;
    r.allow = in.allow;
    if (in.type.empty() || in.type == "a") {
      r.type = 'a';
    } else if (in.type == "c" || in.type == "b") {
      r.type = in.type[0];
    } else {
      return InvalidArgument(StrCat(field, ".type: ", Quote(in.type), " is not `a`, `c` or `b`"));
    }
    // Majors are 12 bits and minors 20 bits in a dev_t; anything else cannot match.
    if (in.major) {
      if (*in.major < 0 || *in.major > 0xfff) {
        return InvalidArgument(StrCat(field, ".major: ", *in.major, " is out of range"));
      }
      r.major = *in.major;
    }
    if (in.minor) {
      if (*in.minor < 0 || *in.minor > 0xfffff) {
        return InvalidArgument(StrCat(field, ".minor: ", *in.minor, " is out of range"));
      }
      r.minor = *in.minor;
    }
    BERTH_ASSIGN_OR_RETURN(r.access, ParseAccess(in.access, StrCat(field, ".access")));
    out.push_back(r);
  }
  return out;
}

DevicePolicy EffectivePolicy(const std::vector<DevRule>& rules) {
  DevicePolicy p;
  for (const DevRule& r : rules) {
    if (r.IsWildcard()) {
      // Everything before a reset is overridden by it for every request.
      p.default_allow = r.allow;
      p.rules.clear();
    } else {
      p.rules.push_back(r);
    }
  }
  return p;
}

}  // namespace berth::cgroup
