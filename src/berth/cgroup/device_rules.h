// berth/cgroup: linux.resources.devices in kernel terms, shared by the v1 writer
// (devices.allow/devices.deny) and the v2 BPF program.
//
// Semantics (both versions): rules apply in order on top of "allow everything" (what a new
// v1 cgroup inherits); for each access bit of a request the last rule that matches the
// device and names that bit decides; a rule of type `a` with no major/minor and all of rwm
// resets the policy to its verdict. So a list that starts with a deny-all is default deny.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::cgroup {

// Access bits, the same values as BPF_DEVCG_ACC_* so the BPF program uses them directly.
inline constexpr uint8_t kAccMknod = 1, kAccRead = 2, kAccWrite = 4, kAccAll = 7;

struct DevRule {
  bool allow = false;
  char type = 'a';     // 'a' (any), 'c' or 'b'
  int64_t major = -1;  // -1: any
  int64_t minor = -1;
  uint8_t access = kAccAll;

  // Type `a`, any major and minor, all access: a reset of the whole policy.
  bool IsWildcard() const { return type == 'a' && major < 0 && minor < 0 && access == kAccAll; }
  bool operator==(const DevRule&) const = default;
};

// "c 1:3 rwm", "a *:* rwm": the v1 devices.allow/deny line (without the verdict).
std::string DevRuleV1String(const DevRule& r);
// "rwm" subset in that order.
std::string AccessString(uint8_t access);
Result<uint8_t> ParseAccess(std::string_view s, std::string_view field);

// OCI rules to kernel rules; errors name "linux.resources.devices[i].<field>".
Result<std::vector<DevRule>> ConvertDeviceRules(const std::vector<oci::DeviceRule>& rules);

// The rules after the last reset, and the verdict for requests none of them decides.
struct DevicePolicy {
  bool default_allow = true;
  std::vector<DevRule> rules;
};
DevicePolicy EffectivePolicy(const std::vector<DevRule>& rules);

}  // namespace berth::cgroup
