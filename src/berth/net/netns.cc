#include "berth/net/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <system_error>
#include <thread>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::net {
namespace {

// Runs `fn` on a fresh thread and waits for it. setns/unshare(CLONE_NEWNET) change only the
// calling thread, so doing them on a throwaway thread leaves the caller's namespace alone and
// costs a thread start (~tens of µs) rather than a fork.
Status OnNewThread(const std::function<Status()>& fn) {
  Status result;
  try {
    std::thread t([&] { result = fn(); });
    t.join();
  } catch (const std::system_error& e) {
    return SysFail(e.code().value(), "start thread");
  }
  return result;
}

// A new netns has `lo` down; 127.0.0.1 works only once it is up.
Status LoopbackUp() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoFail("socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) != 0) return ErrnoFail("get flags of `lo`");
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) != 0) return ErrnoFail("bring `lo` up");
  return Ok();
}

}  // namespace

Status CreateNetns(const std::string& path) {
  std::string what = StrCat("create netns ", Quote(path));
  // The mount point first: an existing path fails here with EEXIST before any namespace is
  // made, and the file is ours to remove on the way out.
  {
    int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) return Unexpected(Error::Errno("create mount point").Wrap(what));
    ::close(fd);
  }
  Defer unlink_file([&] { ::unlink(path.c_str()); });

  Status st = OnNewThread([&]() -> Status {
    // Only this thread moves; it exits right after, and the bind mount keeps the namespace.
    if (::unshare(CLONE_NEWNET) != 0) return ErrnoFail("unshare network namespace");
    BERTH_TRY(LoopbackUp());
    // Mounts are per mount namespace, which all threads share: the mount is visible to the
    // whole process (and to runtimes started from it) once this returns.
    if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) != 0) {
      return ErrnoFail("bind-mount /proc/thread-self/ns/net");
    }
    return Ok();
  });
  if (!st) return Unexpected(std::move(st).error().Wrap(what));
  unlink_file.Cancel();
  return Ok();
}

Status RemoveNetns(const std::string& path) {
  // Loop: a path mounted twice (a crashed retry) needs two unmounts before unlink works.
  for (int i = 0; i < 8; ++i) {
    if (::umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) break;  // not (or no longer) a mount point
    return ErrnoFail(StrCat("unmount netns ", Quote(path)));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return ErrnoFail(StrCat("remove netns ", Quote(path)));
  }
  return Ok();
}

Result<UniqueFd> OpenNetns(const std::string& path) { return OpenFile(path, O_RDONLY); }

Status InNetns(int netns_fd, const std::function<Status()>& fn) {
  return OnNewThread([&]() -> Status {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) return ErrnoFail("enter network namespace");
    return fn();
  });
}

}  // namespace berth::net
