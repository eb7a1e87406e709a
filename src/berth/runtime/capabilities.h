// berth/runtime: Linux capabilities by name, and applying the five sets of
// process.capabilities to the calling process around its uid change.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

// "CAP_SYS_ADMIN" -> 21. Names unknown to this build are errors.
Result<int> CapabilityFromName(std::string_view name);
std::string CapabilityName(int cap);
// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int LastCapability();
// All capability names this build knows, in number order (for `features`, `spec`).
std::vector<std::string> AllCapabilityNames();

struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;
};

// Resolves names to bits. A capability unknown to this build, or beyond the kernel's
// cap_last_cap, is left out with a warning naming it (leaving it out only takes a privilege
// away); a malformed name is an error naming the field.
Result<CapabilitySets> ResolveCapabilities(const oci::Capabilities& caps,
                                           std::string_view field = "process.capabilities");

// Step 1, while still privileged: keep capabilities across the uid change
// (PR_SET_KEEPCAPS) and drop everything outside `bounding` from the bounding set.
Status PrepareCapabilities(const CapabilitySets& sets);
// Step 2, after setresuid/setresgid: set effective/permitted/inheritable, clear keep-caps,
// raise the ambient set.
Status ApplyCapabilities(const CapabilitySets& sets);

}  // namespace berth::runtime
