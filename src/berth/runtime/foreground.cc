#include "berth/runtime/foreground.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

namespace {

constexpr int kForwarded[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGALRM, SIGCONT, SIGTSTP, SIGWINCH};

void CopyWindowSize(int from, int to) {
  struct winsize ws;
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Moves what is readable on `from` to `to`; false at EOF or error.
bool Pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  (void)WriteAll(to, std::string_view(buf, static_cast<size_t>(n)), "terminal");
  return true;
}

// Raw mode on our terminal while relaying, restored on every exit path.
class RawMode {
 public:
  explicit RawMode(int fd) : fd_(fd) {
    if (::isatty(fd) && ::tcgetattr(fd, &saved_) == 0) {
      struct termios raw = saved_;
      ::cfmakeraw(&raw);
      active_ = ::tcsetattr(fd, TCSANOW, &raw) == 0;
    }
  }
  ~RawMode() {
    if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
  }

 private:
  int fd_;
  struct termios saved_ = {};
  bool active_ = false;
};

}  // namespace

Result<ForegroundSignals> ForegroundSignals::Block() {
  ForegroundSignals s;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (int sig : kForwarded) sigaddset(&set, sig);
  if (::sigprocmask(SIG_BLOCK, &set, &s.old_) != 0) return ErrnoFail("sigprocmask");
  s.active_ = true;
  int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return ErrnoFail("signalfd");
  s.fd_.Reset(fd);
  return s;
}

ForegroundSignals::~ForegroundSignals() {
  if (active_) ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

Result<int> WaitForeground(sys::ChildProcess& process, ForegroundSignals& signals,
                           int pty_master, bool kill_on_interrupt) {
  pid_t pid = process.pid();
  std::optional<RawMode> raw;
  bool stdin_open = pty_master >= 0;
  if (pty_master >= 0) {
    raw.emplace(STDIN_FILENO);
    CopyWindowSize(STDIN_FILENO, pty_master);
  }
  std::optional<int> code;
  while (!code) {
    struct pollfd fds[3] = {{signals.fd(), POLLIN, 0},
                            {pty_master, POLLIN, 0},
                            {stdin_open ? STDIN_FILENO : -1, POLLIN, 0}};
    int n = ::poll(fds, 3, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail("poll");
    }
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      if (!Pump(pty_master, STDOUT_FILENO)) pty_master = -1;
    }
    if (fds[2].revents & (POLLIN | POLLHUP)) {
      if (!Pump(STDIN_FILENO, pty_master)) stdin_open = false;
    }
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (::read(signals.fd(), &si, sizeof si) == sizeof si) {
        int sig = static_cast<int>(si.ssi_signo);
        if (sig == SIGCHLD) continue;
        if (sig == SIGWINCH) {
          if (pty_master >= 0) CopyWindowSize(STDIN_FILENO, pty_master);
          continue;
        }
        if (kill_on_interrupt &&
            (sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT)) {
          sig = SIGKILL;
        }
        (void)process.Signal(sig);
      }
      // Reap everything: the init, and orphans we adopted as subreaper.
      while (true) {
        int st;
        pid_t r = ::waitpid(-1, &st, WNOHANG);
        if (r <= 0) break;
        if (r == pid) code = sys::ExitCodeFromWaitStatus(st);
      }
    }
  }
  process.Release();
  // Drain what the process wrote before it exited.
  if (pty_master >= 0) {
    int fl = ::fcntl(pty_master, F_GETFL);
    ::fcntl(pty_master, F_SETFL, fl | O_NONBLOCK);
    while (Pump(pty_master, STDOUT_FILENO)) {
      struct pollfd p = {pty_master, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) break;
    }
  }
  return *code;
}

}  // namespace berth::runtime
