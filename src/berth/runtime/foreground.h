// berth/runtime: a container process in the foreground of `run` or `exec`: signals the
// runtime receives are forwarded to it, orphans are reaped, and with a terminal the pty
// master is relayed to the runtime's own stdio (raw mode, window size kept in sync).
#pragma once

#include <signal.h>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/sys/process.h"

namespace berth::runtime {

class ForegroundSignals {
 public:
  // Blocks SIGCHLD and the signals to forward, and reads them from a signalfd. Must be
  // called before the container process is cloned (it unblocks them itself).
  static Result<ForegroundSignals> Block();
  ForegroundSignals(ForegroundSignals&& o) noexcept
      : fd_(std::move(o.fd_)), old_(o.old_), active_(std::exchange(o.active_, false)) {}
  ForegroundSignals& operator=(ForegroundSignals&&) = delete;
  ~ForegroundSignals();
  int fd() const { return fd_.get(); }

 private:
  ForegroundSignals() = default;
  UniqueFd fd_;
  sigset_t old_ = {};
  bool active_ = false;
};

// Waits for `process` to exit while forwarding signals and relaying the pty (if
// pty_master >= 0). Returns its exit code (128+signal when killed). With
// `kill_on_interrupt`, the terminating signals kill it instead of being forwarded.
Result<int> WaitForeground(sys::ChildProcess& process, ForegroundSignals& signals, int pty_master,
                           bool kill_on_interrupt = false);

}  // namespace berth::runtime
