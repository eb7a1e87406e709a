#include "berth/runtime/console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/strings.h"
#include "berth/sys/safe_path.h"

namespace berth::runtime {

Result<Pty> OpenPty(const std::optional<oci::ConsoleSize>& size) {
  int m = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (m < 0) return ErrnoFail("open `/dev/ptmx`");
  Pty pty;
  pty.master.Reset(m);
  int unlock = 0;
  if (::ioctl(m, TIOCSPTLCK, &unlock) != 0) return ErrnoFail("unlock pty");
  int s = ::ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (s < 0) return ErrnoFail("open pty slave");
  pty.slave.Reset(s);
  if (size && size->height > 0 && size->width > 0) {
    struct winsize ws = {};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (::ioctl(m, TIOCSWINSZ, &ws) != 0) return ErrnoFail("process.consoleSize: set size");
  }
  return pty;
}

Status AttachTerminal(int slave, uid_t owner) {
  // The user of the container owns its terminal (group stays devpts' tty group).
  if (::fchown(slave, owner, static_cast<gid_t>(-1)) != 0 && errno != EINVAL) {
    return ErrnoFail("chown pty");
  }
  if (::setsid() < 0 && errno != EPERM) return ErrnoFail("setsid");
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) return ErrnoFail("set controlling terminal");
  for (int fd = 0; fd < 3; ++fd) {
    if (::dup2(slave, fd) < 0) return ErrnoFail("dup pty to stdio");
  }
  return Ok();
}

Status MountConsole(int slave) {
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoFail("open `/`");
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, sys::EnsureFileInRoot(root.get(), "/dev/console", 0600));
  int tree = ::open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree < 0) return ErrnoFail("bind the terminal to `/dev/console`");
  UniqueFd t(tree);
  if (::move_mount(tree, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return ErrnoFail("bind the terminal to `/dev/console`");
  return Ok();
}

Result<UniqueFd> ConnectConsoleSocket(const std::string& path) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    return InvalidArgument(StrCat("--console-socket: path too long: ", Quote(path)));
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return ErrnoFail("socket");
  UniqueFd s(fd);
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoFail(StrCat("--console-socket: connect ", Quote(path)));
  }
  return s;
}

Status SendConsoleFd(int socket_fd, int master_fd) {
  // The payload is the terminal's name, as runc sends it; receivers only use the fd.
  static const char kName[] = "/dev/ptmx";
  struct iovec iov = {const_cast<char*>(kName), sizeof kName - 1};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &master_fd, sizeof(int));
  while (::sendmsg(socket_fd, &msg, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) return ErrnoFail("--console-socket: send terminal");
  }
  return Ok();
}

}  // namespace berth::runtime
