// berth/sys: processes berth starts or watches: pidfd-owned children that are killed and
// reaped unless waited for, and /proc facts that tell a live pid from a reused one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

// Field 22 of /proc/PID/stat (start time in clock ticks since boot).
Result<uint64_t> ProcessStartTime(pid_t pid);
// Field 3 of /proc/PID/stat ('R', 'S', 'Z', ...).
Result<char> ProcessStateChar(pid_t pid);

// Exit code as shells report it: the status, or 128 + signal number.
int ExitCodeFromWaitStatus(int status);

// A child process owned through a pidfd. If it is never waited for, the destructor kills it
// with SIGKILL and reaps it, so an error path cannot leave it behind.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(pid_t pid, UniqueFd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildProcess(ChildProcess&& o) noexcept
      : pid_(std::exchange(o.pid_, -1)), pidfd_(std::move(o.pidfd_)) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  bool valid() const { return pid_ > 0; }

  // Blocks until the child exits; returns the raw wait status.
  Result<int> Wait();
  // Waits up to `timeout`; nullopt if still running.
  Result<std::optional<int>> WaitFor(std::chrono::milliseconds timeout);
  Status Signal(int sig);
  // Kills (SIGKILL) and reaps.
  void KillAndReap();
  // Gives up ownership: the process is no longer killed or reaped by this object.
  pid_t Release();

 private:
  pid_t pid_ = -1;
  UniqueFd pidfd_;
};

// Waits until the process behind `pidfd` (not necessarily our child) exits, up to
// `timeout`; true if it exited.
Result<bool> WaitPidfdExit(int pidfd, std::chrono::milliseconds timeout);

struct SpawnOptions {
  std::string path;
  std::vector<std::string> args;  // argv, including argv[0]
  std::vector<std::string> env;
  bool inherit_env = false;  // use the caller's environment instead of `env`
  std::string cwd;           // working directory; kept if empty or missing
  std::optional<std::string> stdin_data;  // written to the child's stdin, then closed
  int stdout_fd = -1;  // -1: inherit
  int stderr_fd = -1;
};

// fork + exec a helper program (hooks, ps). The child gets only fds 0-2.
Result<ChildProcess> Spawn(const SpawnOptions& opts);

}  // namespace berth::sys
