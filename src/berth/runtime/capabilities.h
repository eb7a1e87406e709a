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

// "CAP_SYS_ADMIN" -> 21. Names unknown to this build are errors. Names are upper case, as
// capabilities(7) writes them and runc compares them.
Result<int> CapabilityFromName(std::string_view name);
// The name, or "CAP_<number>" for a capability newer than this build's table.
std::string CapabilityName(int cap);
// The highest capability the running kernel knows (/proc/sys/kernel/cap_last_cap).
int LastCapability();
// All capability names this build knows, in number order (for `features`, `spec`).
std::vector<std::string> AllCapabilityNames();

struct CapabilitySets {
  uint64_t bounding = 0, effective = 0, inheritable = 0, permitted = 0, ambient = 0;

  bool operator==(const CapabilitySets&) const = default;
};

// "`CAP_CHOWN`, `CAP_KILL`" for messages; "none" for an empty set.
std::string CapabilityNames(uint64_t bits);

// The calling thread's sets: capget(2), PR_CAPBSET_READ and PR_CAP_AMBIENT_IS_SET.
Result<CapabilitySets> CurrentCapabilities();
// Whether the calling thread has `cap` in its effective set. Note that the kernel checks
// some capabilities (CAP_SYS_RESOURCE for rlimits and oom_score_adj) in the initial user
// namespace only.
bool HasEffectiveCapability(int cap);

// Resolves names to bits. A capability unknown to this build, or beyond the kernel's
// cap_last_cap, is left out with a warning naming it and the set (leaving it out only takes
// a privilege away; runc does the same); a malformed name (empty, or characters other than
// letters, digits and `_`) is an error naming the field. So is an effective capability
// outside the permitted set, which the kernel would refuse. An ambient capability outside
// permitted or inheritable is left out with a warning: the kernel cannot raise it, and runc
// runs such configs with a warning too.
Result<CapabilitySets> ResolveCapabilities(const oci::Capabilities& caps,
                                           std::string_view field = "process.capabilities");

// The container's init calls, in this order:
//   PrepareCapabilities -> setgroups/setresgid/setresuid -> ApplyCapabilities
//
// Step 1, while still privileged: keep capabilities across the uid change
// (PR_SET_KEEPCAPS) and drop everything outside `bounding` from the bounding set. It must
// run before the uid change: dropping from the bounding set needs CAP_SETPCAP in the
// effective set, which setresuid to a non-root uid clears, and without keep-caps that uid
// change would clear the permitted set too.
Status PrepareCapabilities(const CapabilitySets& sets);
// Step 2, after setresuid/setresgid: set effective/permitted/inheritable (capset), clear
// keep-caps, clear and raise the ambient set. It must run after the uid change so that the
// change cannot alter the sets, and the ambient raise last because the kernel raises only
// capabilities already in the new permitted and inheritable sets.
// Requested capabilities this process does not hold (not in its permitted set, e.g. the
// CAP_SYS_RESOURCE this host's root lacks) are left out with a warning: a privileged
// container then runs with what the runtime has. An effective or ambient capability outside
// the requested permitted (and, for ambient, inheritable) set is an error naming it.
Status ApplyCapabilities(const CapabilitySets& sets);

}  // namespace berth::runtime
