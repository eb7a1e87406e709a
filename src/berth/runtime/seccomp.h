// berth/runtime: seccomp filters from linux.seccomp, compiled with libseccomp.
//
// Compilation happens in the runtime before it forks (so errors reach the user with the
// field at fault and the child does no allocation); loading happens as the last step
// before exec, with the raw seccomp(2) syscall so every SECCOMP_FILTER_FLAG_* is honoured.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

struct SeccompProgram {
  std::vector<struct sock_filter> filter;
  unsigned int flags = 0;     // SECCOMP_FILTER_FLAG_* for seccomp(2)
  bool new_listener = false;  // SCMP_ACT_NOTIFY used: a listener fd is created on load
};

// Every name is checked: unknown actions, operators, architectures and flags are errors
// ("linux.seccomp.syscalls[3].action: unknown action `SCMP_ACT_FOO`"). A syscall unknown to
// libseccomp is skipped when its rule allows it, and an error when its rule restricts it.
Result<SeccompProgram> CompileSeccomp(const oci::Seccomp& seccomp);

// Installs the filter on the calling process. Returns the listener fd when new_listener,
// an invalid fd otherwise. Without no_new_privs the caller must hold CAP_SYS_ADMIN.
Result<UniqueFd> LoadSeccomp(const SeccompProgram& program);

// For `features`: actions, operators, architectures and flags this build knows.
struct SeccompFeatures {
  std::vector<std::string> actions, operators, archs, known_flags, supported_flags;
};
SeccompFeatures GetSeccompFeatures();

}  // namespace berth::runtime
