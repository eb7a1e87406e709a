#include "berth/runtime/sync.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

#include "berth/base/strings.h"

namespace berth::runtime {

namespace {
constexpr size_t kMaxPayload = 64 * 1024;
constexpr size_t kMaxFds = 4;
}  // namespace

Result<std::pair<SyncSocket, SyncSocket>> SyncSocket::Pair() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return ErrnoFail("socketpair");
  return std::make_pair(SyncSocket(UniqueFd(sv[0])), SyncSocket(UniqueFd(sv[1])));
}

Status SyncSocket::Send(SyncType type, std::string_view payload, const std::vector<int>& fds) {
  if (payload.size() > kMaxPayload || fds.size() > kMaxFds)
    return Fail(ErrorCode::kInternal, "sync message too large");
  uint8_t t = static_cast<uint8_t>(type);
  struct iovec iov[2] = {{&t, 1}, {const_cast<char*>(payload.data()), payload.size()}};
  struct msghdr msg = {};
  msg.msg_iov = iov;
  msg.msg_iovlen = payload.empty() ? 1 : 2;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  if (!fds.empty()) {
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  while (::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return ErrnoFail("send to sync socket");
  }
  return Ok();
}

Result<SyncMessage> SyncSocket::Recv() {
  std::string buf(kMaxPayload + 1, '\0');
  struct iovec iov = {buf.data(), buf.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n;
  bool reset_seen = false;
  while ((n = ::recvmsg(fd_.get(), &msg, MSG_CMSG_CLOEXEC)) < 0) {
    if (errno == EINTR) continue;
    // A peer that exits with unread messages of ours (an init failing before it reads
    // kCgroupReady) resets the connection, and the kernel reports that before the messages
    // it had queued for us, such as the init's error: read on once to get them.
    if (errno == ECONNRESET && !reset_seen) {
      reset_seen = true;
      continue;
    }
    return ErrnoFail("receive from sync socket");
  }
  SyncMessage out;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
        out.fds.emplace_back(fd);
      }
    }
  }
  if (n == 0) return Fail(ErrorCode::kFailedPrecondition, "peer closed the sync socket");
  out.type = static_cast<SyncType>(static_cast<uint8_t>(buf[0]));
  out.payload.assign(buf.data() + 1, static_cast<size_t>(n - 1));
  return out;
}

Result<SyncMessage> SyncSocket::Expect(SyncType type) {
  BERTH_ASSIGN_OR_RETURN(SyncMessage m, Recv());
  if (m.type == SyncType::kError) return Unexpected(Error::Decode(m.payload));
  if (m.type != type) {
    return Fail(ErrorCode::kInternal,
                StrCat("sync: expected message ", static_cast<int>(type), ", got ",
                       static_cast<int>(m.type)));
  }
  return m;
}

}  // namespace berth::runtime
