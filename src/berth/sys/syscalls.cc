#include "berth/sys/syscalls.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <vector>

#include "berth/base/strings.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

namespace berth::sys {

pid_t Clone3(struct clone_args* args) {
  // SAFETY: no CLONE_VM and no stack: the child continues on a copy of our stack, like fork.
  return static_cast<pid_t>(::syscall(SYS_clone3, args, sizeof(*args)));
}

long Openat2(int dirfd, const char* path, struct open_how* how) {
  return ::syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

int PivotRoot(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}

Result<UniqueFd> PidfdOpen(pid_t pid) {
  // glibc 2.36's <sys/pidfd.h> lacks extern "C"; call the syscall directly.
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return ErrnoFail(StrCat("pidfd_open ", static_cast<int64_t>(pid)));
  // pidfds are always close-on-exec.
  return UniqueFd(fd);
}

Status PidfdSendSignal(int pidfd, int sig) {
  if (::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) != 0) return ErrnoFail("pidfd_send_signal");
  return Ok();
}

Result<UniqueFd> DupAbove(UniqueFd fd, int min) {
  int n = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, min);
  if (n < 0) return ErrnoFail("fcntl F_DUPFD_CLOEXEC");
  return UniqueFd(n);
}

static Status ForEachOpenFd(int first, int (*op)(int)) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return ErrnoFail("open `/proc/self/fd`");
  std::vector<int> fds;
  while (struct dirent* de = ::readdir(d)) {
    if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
    int fd = ::atoi(de->d_name);
    if (fd >= first && fd != ::dirfd(d)) fds.push_back(fd);
  }
  ::closedir(d);
  for (int fd : fds) op(fd);
  return Ok();
}

Status CloseFdsFrom(int first) {
  if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return Ok();
  return ForEachOpenFd(first, [](int fd) { return ::close(fd); });
}

Status CloexecFdsFrom(int first) {
  if (::close_range(static_cast<unsigned>(first), ~0U, CLOSE_RANGE_CLOEXEC) == 0) return Ok();
  return ForEachOpenFd(first, [](int fd) { return ::fcntl(fd, F_SETFD, FD_CLOEXEC); });
}

}  // namespace berth::sys
