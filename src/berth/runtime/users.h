// berth/runtime: the container process's identity: supplementary groups, gid, uid, umask,
// and HOME when the config does not set it.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

// setgroups (always: the host's supplementary groups must not leak in), setresgid,
// setresuid. `setgroups_allowed` is false in a user namespace whose setgroups is denied.
Status SwitchUser(const oci::User& user, bool setgroups_allowed);

// The umask the process gets: the configured one, else 0022 (like runc).
mode_t ProcessUmask(const oci::User& user);

// HOME from the container's /etc/passwd for `uid` (called after pivot_root), "/" if absent.
std::string HomeForUid(uint32_t uid);

// Appends HOME=... when `env` has no HOME.
void EnsureHome(std::vector<std::string>& env, uint32_t uid);

}  // namespace berth::runtime
