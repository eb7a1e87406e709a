#include "berth/engine/attach.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <deque>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/engine/monitor/monitor_protocol.h"

namespace berth::engine {

namespace {

// Puts a terminal in raw mode for its lifetime.
class RawTerminal {
 public:
  explicit RawTerminal(int fd) {
    if (!isatty(fd) || tcgetattr(fd, &saved_) < 0) return;
    termios raw = saved_;
    cfmakeraw(&raw);  // the container's own pty does all line discipline
    if (tcsetattr(fd, TCSANOW, &raw) == 0) fd_ = fd;
  }
  ~RawTerminal() {
    if (fd_ >= 0) tcsetattr(fd_, TCSANOW, &saved_);
  }
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  termios saved_ = {};
};

// Reads SIGWINCH through a signalfd for its lifetime; the old mask comes back afterwards.
class WinchSignal {
 public:
  WinchSignal() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    if (sigprocmask(SIG_BLOCK, &set, &old_) < 0) return;
    active_ = true;
    fd_.Reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  }
  ~WinchSignal() {
    fd_.Reset();
    if (!active_) return;
    // Drop a SIGWINCH still pending, so unblocking does not run the default action late.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGWINCH);
    timespec zero = {};
    while (sigtimedwait(&set, nullptr, &zero) > 0) {
    }
    sigprocmask(SIG_SETMASK, &old_, nullptr);
  }
  WinchSignal(const WinchSignal&) = delete;
  WinchSignal& operator=(const WinchSignal&) = delete;
  int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  sigset_t old_ = {};
  bool active_ = false;
};

std::string Message(char type, std::string_view payload = {}) {
  std::string m(1, type);
  m.append(payload);
  return m;
}

std::optional<std::string> ResizeMessage(int in_fd, int out_fd) {
  winsize ws = {};
  if (ioctl(out_fd, TIOCGWINSZ, &ws) < 0 && ioctl(in_fd, TIOCGWINSZ, &ws) < 0) return {};
  berth_monitor_winsize w = {ws.ws_row, ws.ws_col};
  return Message(BERTH_MSG_RESIZE, std::string_view(reinterpret_cast<const char*>(&w), sizeof w));
}

// Writes everything, waiting when the fd is non-blocking; false when the fd is unusable.
bool WriteOut(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w > 0) {
      p += w;
      n -= static_cast<size_t>(w);
    } else if (w < 0 && errno == EAGAIN) {
      pollfd pf = {fd, POLLOUT, 0};
      poll(&pf, 1, -1);
    } else if (!(w < 0 && errno == EINTR)) {
      return false;
    }
  }
  return true;
}

// Tracks how much of the detach sequence has been typed; bytes that might start it are held.
class DetachMatcher {
 public:
  explicit DetachMatcher(std::vector<char> keys) : keys_(std::move(keys)) {}
  // Appends the bytes to forward to `out`; true when the sequence completed.
  bool Feed(const char* p, size_t n, std::string& out) {
    for (size_t i = 0; i < n; i++) {
      if (keys_.empty()) {
        out.push_back(p[i]);
        continue;
      }
      if (p[i] == keys_[matched_]) {
        if (++matched_ == keys_.size()) return true;
        continue;
      }
      out.append(keys_.data(), matched_);
      matched_ = 0;
      if (p[i] == keys_[0]) {
        matched_ = 1;
      } else {
        out.push_back(p[i]);
      }
    }
    return false;
  }

 private:
  std::vector<char> keys_;
  size_t matched_ = 0;
};

}  // namespace

Result<std::vector<char>> ParseDetachKeys(std::string_view keys) {
  std::vector<char> out;
  if (keys.empty()) return out;
  for (const auto& k : Split(keys, ',')) {
    if (k.size() == 1) {
      out.push_back(k[0]);
      continue;
    }
    if (k.size() == 6 && k.starts_with("ctrl-")) {
      char c = k[5];
      if (c >= 'a' && c <= 'z') {
        out.push_back(static_cast<char>(c - 'a' + 1));
        continue;
      }
      if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
        out.push_back(static_cast<char>(c == '@' ? 0 : c - '@'));
        continue;
      }
    }
    return InvalidArgument(StrCat("detach keys: invalid key ", Quote(k)));
  }
  return out;
}

Result<UniqueFd> ConnectAttach(const std::string& run_dir) {
  std::string path = StrCat(run_dir, "/", BERTH_MONITOR_ATTACH_SOCKET);
  UniqueFd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoFail("attach: socket");
  UniqueFd dir;
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::string target = path;
  if (target.size() >= sizeof addr.sun_path) {
    // Too long for sun_path: reach it through the directory's fd.
    BERTH_ASSIGN_OR_RETURN_CTX(dir, OpenFile(run_dir, O_PATH | O_DIRECTORY), "attach");
    target = StrCat("/proc/self/fd/", dir.get(), "/", BERTH_MONITOR_ATTACH_SOCKET);
  }
  memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  while (connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == EINTR) continue;
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return Unexpected(Error(ErrorCode::kNotFound,
                              StrCat("attach: connect ", Quote(path), ": ", strerror(errno)),
                              errno));
    }
    return ErrnoFail(StrCat("attach: connect ", Quote(path)));
  }
  return sock;
}

std::optional<int> AwaitExitMessage(int sock) {
  std::vector<char> buf(1 + BERTH_MONITOR_MAX_PAYLOAD + 64);
  for (;;) {
    ssize_t n = recv(sock, buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EINTR || errno == ECONNRESET)) continue;  // see RelayAttach
    if (n <= 0) return std::nullopt;
    if (buf[0] == BERTH_MSG_EXIT && static_cast<size_t>(n - 1) >= sizeof(berth_monitor_exit)) {
      berth_monitor_exit ex;
      memcpy(&ex, buf.data() + 1, sizeof ex);
      return ex.exit_code;
    }
  }
}

Status SendAttachMessage(int sock, char type, std::string_view payload) {
  std::string m = Message(type, payload);
  while (send(sock, m.data(), m.size(), MSG_NOSIGNAL) < 0) {
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      pollfd p = {sock, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    return ErrnoFail("attach: send");
  }
  return Ok();
}

Result<std::optional<int>> RelayAttach(int sock, const AttachOptions& o) {
  std::vector<char> keys;
  if (o.tty && o.attach_stdin) {
    BERTH_ASSIGN_OR_RETURN(keys, ParseDetachKeys(o.detach_keys));
  }
  DetachMatcher detach(std::move(keys));
  if (o.detached) *o.detached = false;

  // Neither side may block on a send while the other waits to deliver output to it.
  int flags = fcntl(sock, F_GETFL);
  if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
    return ErrnoFail("attach: set socket non-blocking");
  }
  std::optional<RawTerminal> raw;
  std::optional<WinchSignal> winch;
  std::deque<std::string> outbox;
  if (o.tty) {
    if (o.attach_stdin) raw.emplace(o.in_fd);
    winch.emplace();
    if (auto m = ResizeMessage(o.in_fd, o.out_fd)) outbox.push_back(std::move(*m));
  }

  bool in_open = o.attach_stdin;
  bool out_ok = true, err_ok = true;
  std::optional<int> exit_code;
  std::vector<char> buf_storage(1 + BERTH_MONITOR_MAX_PAYLOAD + 64);
  char* buf = buf_storage.data();
  for (;;) {
    pollfd p[3] = {{sock, static_cast<short>(POLLIN | (outbox.empty() ? 0 : POLLOUT)), 0},
                   {in_open && outbox.empty() ? o.in_fd : -1, POLLIN, 0},
                   {winch && winch->fd() >= 0 ? winch->fd() : -1, POLLIN, 0}};
    if (poll(p, 3, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail("attach: poll");
    }
    if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(sock, buf, buf_storage.size(), 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      // A seqpacket socket reports the peer's reset before the messages still queued for
      // us (the exit code among them); the next recv returns those, then end of stream.
      if (n < 0 && errno == ECONNRESET) {
        log::Trace("attach: connection reset");
        continue;
      }
      if (n < 0) return ErrnoFail("attach: receive");
      if (n == 0) {
        log::Trace("attach: end of stream");
        return exit_code;  // the monitor's cleanup has finished
      }
      const char* data = buf + 1;
      size_t len = static_cast<size_t>(n - 1);
      switch (buf[0]) {
        case BERTH_MSG_STDOUT:
          if (out_ok) out_ok = WriteOut(o.out_fd, data, len);
          break;
        case BERTH_MSG_STDERR:
          if (err_ok) err_ok = WriteOut(o.err_fd, data, len);
          break;
        case BERTH_MSG_EXIT:
          log::Trace("attach: exit message");
          if (len >= sizeof(berth_monitor_exit)) {
            berth_monitor_exit ex;
            memcpy(&ex, data, sizeof ex);
            exit_code = ex.exit_code;
            in_open = false;  // nobody reads stdin any more
          }
          break;
        default:
          break;
      }
    }
    if (p[0].revents & POLLOUT) {
      while (!outbox.empty()) {
        ssize_t w = send(sock, outbox.front().data(), outbox.front().size(), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) break;  // EAGAIN, or the monitor is gone (the read side sees it)
        outbox.pop_front();
      }
    }
    if (p[1].revents) {
      char in[BERTH_MONITOR_MAX_PAYLOAD];
      ssize_t n = read(o.in_fd, in, sizeof in);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        in_open = false;
        if (!o.tty) outbox.push_back(Message(BERTH_MSG_CLOSE_STDIN));
      } else {
        std::string fwd;
        bool done = detach.Feed(in, static_cast<size_t>(n), fwd);
        if (!fwd.empty()) outbox.push_back(Message(BERTH_MSG_STDIN, fwd));
        if (done) {
          // What was typed before the detach keys still goes to the container.
          for (const auto& m : outbox) {
            if (!SendAttachMessage(sock, m[0], std::string_view(m).substr(1))) break;
          }
          if (o.detached) *o.detached = true;
          return std::optional<int>();
        }
      }
    }
    if (p[2].revents) {
      signalfd_siginfo si;
      while (read(winch->fd(), &si, sizeof si) > 0) {
      }
      if (auto m = ResizeMessage(o.in_fd, o.out_fd)) outbox.push_back(std::move(*m));
    }
    // Try to send right away; POLLOUT picks up the rest.
    while (!outbox.empty()) {
      ssize_t w = send(sock, outbox.front().data(), outbox.front().size(), MSG_NOSIGNAL);
      if (w < 0) break;
      outbox.pop_front();
    }
  }
}

}  // namespace berth::engine
