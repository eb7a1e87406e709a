#include "berth/image/snapshot.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/snapshot_internal.h"

namespace berth::image {

namespace {

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0) {
    if (errno == EEXIST)
      return Fail(ErrorCode::kAlreadyExists, StrCat("create ", Quote(path), ": already exists"));
    return ErrnoFail(StrCat("create ", Quote(path)));
  }
  // mkdir's mode is filtered by the umask; these modes are part of the layout.
  if (::chmod(path.c_str(), mode) != 0) return ErrnoFail(StrCat("chmod ", Quote(path)));
  return Ok();
}

// True when `path` is the root of a mount (the overlay is attached there).
Result<bool> IsMountRoot(const std::string& path) {
  struct statx stx;
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, 0, &stx) != 0) {
    if (errno == ENOENT) return false;
    return ErrnoFail(StrCat("stat ", Quote(path)));
  }
  if (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
    return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
  struct stat self, parent;
  if (::stat(path.c_str(), &self) != 0 || ::stat((path + "/..").c_str(), &parent) != 0)
    return ErrnoFail(StrCat("stat ", Quote(path)));
  return self.st_dev != parent.st_dev;
}

// overlayfs needs at least one lower layer: an image without layers gets an empty one.
Result<std::vector<std::string>> EffectiveLowers(const Snapshot& s,
                                                 const std::vector<std::string>& lowers) {
  if (!lowers.empty()) return lowers;
  std::string empty = s.dir + "/empty";
  if (::mkdir(empty.c_str(), 0755) != 0 && errno != EEXIST)
    return ErrnoFail(StrCat("create ", Quote(empty)));
  return std::vector<std::string>{empty};
}

}  // namespace

SnapshotKind DefaultSnapshotKind() {
  const char* env = std::getenv("BERTH_SNAPSHOTTER");
  std::string_view v = env ? env : "";
  if (v == "copy") return SnapshotKind::kCopy;
  if (v == "overlay") return SnapshotKind::kOverlay;
  static const bool overlay = internal::OverlaySupported();
  return overlay ? SnapshotKind::kOverlay : SnapshotKind::kCopy;
}

Snapshot SnapshotAt(const std::string& dir, SnapshotKind kind, bool ephemeral) {
  Snapshot s;
  s.kind = kind;
  s.ephemeral = ephemeral;
  s.dir = dir;
  s.rootfs = dir + "/merged";
  s.upper = kind == SnapshotKind::kOverlay ? dir + "/upper" : s.rootfs;
  return s;
}

Result<Snapshot> CreateSnapshot(const std::string& dir, const std::vector<std::string>& lowers,
                                SnapshotKind kind, bool ephemeral) {
  Snapshot s = SnapshotAt(dir, kind, ephemeral);
  auto create = [&]() -> Status {
    // 0711: a user-namespaced container's root must still be able to reach its rootfs.
    if (::mkdir(dir.c_str(), 0711) != 0 && errno != EEXIST)
      return ErrnoFail(StrCat("create ", Quote(dir)));
    BERTH_TRY(MakeDir(s.rootfs, 0755));
    if (kind == SnapshotKind::kCopy) {
      for (const std::string& lower : lowers) BERTH_TRY(internal::ApplyLayerCopy(lower, s.rootfs));
      return Ok();
    }
    BERTH_TRY(MakeDir(s.upper, 0755));
    BERTH_TRY(MakeDir(dir + "/work", 0700));
    return MountSnapshot(s, lowers);
  };
  auto st = create();
  if (!st.has_value()) {
    if (st.error().code() != ErrorCode::kAlreadyExists) (void)RemoveSnapshot(s);
    return Unexpected(std::move(st).error().Wrap(StrCat("create snapshot ", Quote(dir))));
  }
  return s;
}

Status MountSnapshot(const Snapshot& s, const std::vector<std::string>& lowers) {
  if (s.kind == SnapshotKind::kCopy) return Ok();
  BERTH_ASSIGN_OR_RETURN(bool mounted, IsMountRoot(s.rootfs));
  if (mounted) return Ok();
  BERTH_ASSIGN_OR_RETURN(auto effective, EffectiveLowers(s, lowers));
  if (s.ephemeral) {
    // An earlier volatile mount leaves WORKDIR/work/incompat/volatile; the kernel refuses to
    // mount over it.
    (void)RemoveAll(s.dir + "/work/work/incompat");
  }
  BERTH_TRY(internal::MountOverlay(effective, s.upper, s.dir + "/work", s.rootfs, s.ephemeral));
  // Private: the rootfs's mount events must not propagate to or from the host's mounts.
  if (::mount(nullptr, s.rootfs.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
    int err = errno;
    (void)::umount2(s.rootfs.c_str(), MNT_DETACH);
    return SysFail(err, StrCat("make ", Quote(s.rootfs), " private"));
  }
  return Ok();
}

Status UnmountSnapshot(const Snapshot& s) {
  if (s.kind == SnapshotKind::kCopy) return Ok();
  // A few rounds: a crashed run may have stacked more than one mount here.
  for (int i = 0; i < 8; ++i) {
    BERTH_ASSIGN_OR_RETURN(bool mounted, IsMountRoot(s.rootfs));
    if (!mounted) return Ok();
    if (::umount2(s.rootfs.c_str(), UMOUNT_NOFOLLOW) == 0) continue;
    if (errno == EINVAL || errno == ENOENT) return Ok();
    // Busy (a process still has a cwd or an open file there): detach it lazily. EINVAL
    // there means another berth process unmounted it in between: the loop looks again.
    if (errno != EBUSY) return ErrnoFail(StrCat("unmount ", Quote(s.rootfs)));
    if (::umount2(s.rootfs.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) != 0 && errno != EINVAL)
      return ErrnoFail(StrCat("unmount ", Quote(s.rootfs)));
  }
  return Fail(ErrorCode::kFailedPrecondition, StrCat("unmount ", Quote(s.rootfs), ": still mounted"));
}

Status RemoveSnapshot(const Snapshot& s) {
  BERTH_TRY(UnmountSnapshot(s));
  struct stat st;
  if (::lstat(s.dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoFail(StrCat("stat ", Quote(s.dir)));
  }
  std::string dir = s.dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  size_t slash = dir.rfind('/');
  std::string parent = slash == std::string::npos ? "." : (slash == 0 ? "/" : dir.substr(0, slash));
  std::string name = slash == std::string::npos ? dir : dir.substr(slash + 1);
  BERTH_ASSIGN_OR_RETURN(UniqueFd pfd, OpenFile(parent, O_PATH | O_DIRECTORY));
  // Stay on the snapshot's filesystem: anything still mounted inside is not ours to delete.
  BERTH_TRY_CTX(internal::RemoveTreeAt(pfd.get(), name, dir, &st.st_dev),
                StrCat("remove snapshot ", Quote(dir)));
  return Ok();
}

}  // namespace berth::image
