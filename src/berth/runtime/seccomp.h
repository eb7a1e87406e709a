// berth/runtime: seccomp filters from linux.seccomp, compiled with libseccomp.
//
// Compilation happens in the runtime before it forks (so errors reach the user with the
// field at fault and the child does no allocation); loading happens as the last step
// before exec, with the raw seccomp(2) syscall so every SECCOMP_FILTER_FLAG_* is honoured.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <string_view>
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
// `field` prefixes every error (the path of the seccomp object in its document).
//
// Rules follow runc, the reference peers' profiles are written against:
// - a rule whose action equals the default action is skipped (libseccomp refuses it);
// - args with distinct indexes are one rule (all must match); when an index repeats, each
//   arg becomes its own rule (any may match), since libseccomp cannot test one argument
//   twice in a rule;
// - an unknown syscall is skipped when its rule's action is SCMP_ACT_ALLOW or SCMP_ACT_LOG
//   (the default action, usually stricter, then applies), skipped with a warning when the
//   rule restricts it but the default action denies it too (only the way it is denied
//   changes), and an error when the rule restricts it and the default action would let it
//   through (dropping that rule would open a hole);
// - flags are checked against the running kernel (a flag it lacks is an error), and so are
//   the actions used (SECCOMP_GET_ACTION_AVAIL).
Result<SeccompProgram> CompileSeccomp(const oci::Seccomp& seccomp,
                                      std::string_view field = "linux.seccomp");

// Installs the filter on the calling process. Returns the listener fd when new_listener,
// an invalid fd otherwise. Without no_new_privs the caller must hold CAP_SYS_ADMIN.
// Allocates nothing unless it fails, so it is safe as the last step before exec.
// Note for the caller: once a filter with SCMP_ACT_NOTIFY rules is loaded, every notified
// syscall blocks until someone answers on the listener, so the listener fd must leave this
// process (to the parent) by syscalls the profile does not notify.
Result<UniqueFd> LoadSeccomp(const SeccompProgram& program);

// For `features`: actions, operators, architectures and flags this build knows.
// `archs` lists the architectures libseccomp can build filters for; `supported_flags` the
// known flags the running kernel accepts.
struct SeccompFeatures {
  std::vector<std::string> actions, operators, archs, known_flags, supported_flags;
};
SeccompFeatures GetSeccompFeatures();

}  // namespace berth::runtime
