// berth/sys: thin wrappers for the syscalls glibc 2.36 does not wrap (clone3, openat2,
// pivot_root) and Result-returning forms of the ones berth calls everywhere.
#pragma once

#include <linux/openat2.h>
#include <linux/sched.h>
#include <sys/types.h>

#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

namespace berth::sys {

// clone3(2) without a new stack: returns 0 in the child, the child's pid in the parent.
// The caller is single-threaded (fork semantics); `pidfd` receives a pidfd when
// CLONE_PIDFD is in args->flags.
pid_t Clone3(struct clone_args* args);

long Openat2(int dirfd, const char* path, struct open_how* how);
int PivotRoot(const char* new_root, const char* put_old);

Result<UniqueFd> PidfdOpen(pid_t pid);
// Sends `sig` through a pidfd (no pid-reuse race).
Status PidfdSendSignal(int pidfd, int sig);

// Moves `fd` to a number >= `min` (F_DUPFD_CLOEXEC) and closes the old one.
Result<UniqueFd> DupAbove(UniqueFd fd, int min);

// Closes every fd >= `first`, for a process about to exec into a container.
// Uses close_range(2), with a /proc/self/fd fallback.
Status CloseFdsFrom(int first);

// Marks fds >= `first` close-on-exec (close_range CLOSE_RANGE_CLOEXEC), for preserve-fds.
Status CloexecFdsFrom(int first);

}  // namespace berth::sys
