#include "harness/console.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/strings.h"

namespace berth::itest {

namespace {

bool WaitReadable(int fd, std::chrono::milliseconds timeout) {
  struct pollfd p = {fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
}

}  // namespace

Result<ConsoleSocket> ConsoleSocket::Listen(const std::string& path) {
  ConsoleSocket s;
  s.path_ = path;
  s.listener_.Reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.listener_) return ErrnoFail("socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return InvalidArgument("console socket path too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  // SAFETY: sockaddr_un is the sockaddr for AF_UNIX.
  if (::bind(s.listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoFail(StrCat("bind ", Quote(path)));
  }
  if (::listen(s.listener_.get(), 4) != 0) return ErrnoFail("listen");
  return s;
}

Result<UniqueFd> ConsoleSocket::ReceiveMaster(std::chrono::milliseconds timeout) {
  if (!WaitReadable(listener_.get(), timeout)) {
    return Fail(ErrorCode::kTimeout, "no connection on the console socket");
  }
  UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return ErrnoFail("accept");
  if (!WaitReadable(conn.get(), timeout)) {
    return Fail(ErrorCode::kTimeout, "no message on the console socket");
  }
  char name[256];
  struct iovec iov = {name, sizeof name};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) return ErrnoFail("recvmsg");
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return UniqueFd(fd);
    }
  }
  return Fail(ErrorCode::kInvalidArgument, "console socket message carried no fd");
}

std::string ReadUntil(int fd, const std::function<bool(const std::string&)>& done,
                      std::chrono::milliseconds timeout) {
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(text)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !WaitReadable(fd, left)) break;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;  // EIO: the slave side closed
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

}  // namespace berth::itest
