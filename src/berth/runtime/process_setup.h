// berth/runtime: the last steps of every container process, shared by the init (create/run)
// and by `exec`: resource limits and scheduling, identity and capabilities, no_new_privs,
// seccomp, closing inherited fds, and the exec through the sealed trampoline.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"
#include "berth/runtime/capabilities.h"
#include "berth/runtime/rlimits.h"
#include "berth/runtime/seccomp.h"

namespace berth::runtime {

// What the parent resolved before forking, so the child only applies it.
struct ProcessPlan {
  const oci::Process* process = nullptr;
  CapabilitySets caps;
  std::vector<ResolvedRlimit> rlimits;
  std::optional<unsigned long> personality;
  const SeccompProgram* seccomp = nullptr;
  int seccomp_memfd = -1;        // the filter's bytes, when the trampoline loads it
  std::string seccomp_listener_path;  // linux.seccomp.listenerPath
  std::string seccomp_listener_metadata;
  std::string state_json;        // the container state, sent with a seccomp listener fd
  int trampoline_fd = -1;
  // An O_PATH fd of the exec fifo: the trampoline, not the init, waits there for `start`.
  int start_fifo_fd = -1;
  // Keep PR_SET_PDEATHSIG across the identity switch (which clears it): the trampoline
  // clears it at `start`.
  bool die_with_parent = false;
  int preserve_fds = 0;
  bool setgroups_allowed = true;
};

// Resolves process-level settings in the parent; errors name the fields. `quiet`: limits
// adjusted to the host are reported at info level only (exec; create already warned).
Status ResolveProcessPlan(const oci::Spec& spec, const oci::Process& process, ProcessPlan* plan,
                          bool quiet = false);

// Pins the calling process to a cpu list ("0-3,7"), for process.execCPUAffinity.
Status SetCpuAffinity(const std::string& list);

// --preserve-fds N: fds 3..3+N-1 must be open (then every fd berth opens is above them, and
// only the caller's fds are passed in).
Status CheckPreservedFds(int n);

// Docker/runc semantics for repeated keys in process.env: the last value wins, at the
// position of the first occurrence.
std::vector<std::string> DedupeEnv(const std::vector<std::string>& env);

// PATH lookup inside the container (after pivot_root), as runc does it; the error message
// contains "executable file not found in $PATH" / "no such file or directory" /
// "permission denied", which podman maps to exit codes 127 and 126.
Result<std::string> LookPath(const std::string& name, const std::vector<std::string>& env);

// Applies everything and execs. Returns only on failure.
Error FinalizeAndExec(const ProcessPlan& plan, const std::string& path,
                      const std::vector<std::string>& env);

}  // namespace berth::runtime
