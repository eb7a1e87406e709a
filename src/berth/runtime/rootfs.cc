#include "berth/runtime/rootfs.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/runtime/devices.h"
#include "berth/sys/mountinfo.h"
#include "berth/sys/safe_path.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

namespace {

unsigned long PropagationFlags(const std::string& p) {
  if (p == "shared") return MS_SHARED;
  if (p == "rshared") return MS_SHARED | MS_REC;
  if (p == "slave") return MS_SLAVE;
  if (p == "rslave") return MS_SLAVE | MS_REC;
  if (p == "private") return MS_PRIVATE;
  if (p == "rprivate") return MS_PRIVATE | MS_REC;
  if (p == "unbindable") return MS_UNBINDABLE;
  if (p == "runbindable") return MS_UNBINDABLE | MS_REC;
  return 0;
}

// pivot_root refuses a new root whose parent mount is shared; make that one mount private.
Status MakeParentMountPrivate(const std::string& rootfs) {
  BERTH_ASSIGN_OR_RETURN(auto mounts, sys::ReadMountInfo());
  std::string parent = rootfs.substr(0, rootfs.find_last_of('/'));
  if (parent.empty()) parent = "/";
  const sys::MountInfo* m = sys::FindMountFor(mounts, parent);
  if (m && m->IsShared()) {
    if (::mount(nullptr, m->mount_point.c_str(), nullptr, MS_PRIVATE, nullptr) != 0) {
      return ErrnoFail(StrCat("make ", Quote(m->mount_point), " private"));
    }
  }
  return Ok();
}

Status MaskPath(int root_fd, const std::string& path) {
  auto fd = sys::OpenInRoot(root_fd, path, O_PATH | O_NOFOLLOW);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT) return Ok();
    return Unexpected(std::move(fd).error());
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return ErrnoFail(StrCat("stat ", Quote(path)));
  int tree = -1;
  if (S_ISDIR(st.st_mode)) {
    // An empty read-only tmpfs hides a directory.
    int fs = ::fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return ErrnoFail("fsopen tmpfs");
    UniqueFd fsfd(fs);
    if (::fsconfig(fs, FSCONFIG_SET_STRING, "size", "0", 0) != 0 ||
        ::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
      return ErrnoFail("create tmpfs");
    }
    tree = ::fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID |
                                              MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (tree < 0) return ErrnoFail("fsmount tmpfs");
  } else {
    // Anything else is covered by the container's /dev/null.
    tree = ::open_tree(AT_FDCWD, "/dev/null", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) return ErrnoFail("open `/dev/null`");
  }
  UniqueFd t(tree);
  if (::move_mount(tree, "", fd->get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return ErrnoFail("move_mount");
  return Ok();
}

Status ReadonlyPath(int root_fd, const std::string& path) {
  auto fd = sys::OpenInRoot(root_fd, path, O_PATH | O_NOFOLLOW);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT) return Ok();
    return Unexpected(std::move(fd).error());
  }
  // Clone the subtree at that path and re-attach it read-only over itself; the clone keeps
  // the original's other flags (which may be locked in a user namespace).
  int tree = ::open_tree(fd->get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
                                            AT_EMPTY_PATH);
  if (tree < 0) return ErrnoFail("open_tree");
  UniqueFd t(tree);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
    return ErrnoFail("mount_setattr");
  if (::move_mount(tree, "", fd->get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
    return ErrnoFail("move_mount");
  return Ok();
}

}  // namespace

Result<UniqueFd> PrepareRootfs(const RootfsPlan& plan) {
  const oci::Spec& spec = *plan.spec;
  const std::string& prop = spec.linux_config ? spec.linux_config->rootfs_propagation : "";
  // Our mount events must not reach the host unless the config asks for shared propagation:
  // start from rslave, or from what rootfsPropagation says.
  unsigned long root_prop = prop.empty() ? (MS_SLAVE | MS_REC) : PropagationFlags(prop);
  if (::mount(nullptr, "/", nullptr, root_prop, nullptr) != 0) {
    return ErrnoFail("set propagation of `/`");
  }
  if (PropagationFlags(prop) & MS_SHARED) BERTH_TRY(MakeParentMountPrivate(plan.rootfs));
  // pivot_root needs the new root to be a mount point.
  if (::mount(plan.rootfs.c_str(), plan.rootfs.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    return ErrnoFail(StrCat("bind rootfs ", Quote(plan.rootfs)));
  }
  int rfd = ::open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rfd < 0) return ErrnoFail(StrCat("open rootfs ", Quote(plan.rootfs)));
  UniqueFd root(rfd);

  MountContext ctx;
  ctx.root_fd = rfd;
  ctx.rootfs = plan.rootfs;
  ctx.bundle = plan.bundle;
  ctx.in_user_ns = plan.in_user_ns;
  ctx.new_net_ns = plan.new_net_ns;
  ctx.new_ipc_ns = plan.new_ipc_ns;
  ctx.new_cgroup_ns = plan.new_cgroup_ns;
  ctx.cgroup = plan.cgroup;
  ctx.before_cgroup_mount = plan.before_cgroup_mount;
  BERTH_TRY(MountAll(ctx, spec.mounts));

  static const std::vector<oci::Device> kNone;
  const auto& devices = spec.linux_config ? spec.linux_config->devices : kNone;
  bool dev_bound = DevIsBindMounted(spec.mounts);
  BERTH_TRY(CreateDevices(rfd, devices, !dev_bound, plan.in_user_ns));
  if (!dev_bound) BERTH_TRY(CreateDevSymlinks(rfd));
  return root;
}

Status EnterRootfs(const RootfsPlan& plan, int rootfs_fd) {
  if (::fchdir(rootfs_fd) != 0) return ErrnoFail("chdir to rootfs");
  if (plan.no_pivot) {
    if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) return ErrnoFail("move rootfs to `/`");
    if (::chroot(".") != 0) return ErrnoFail("chroot");
  } else {
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves
    // only the new root. Making it rslave first keeps the unmount from reaching the host.
    if (sys::PivotRoot(".", ".") != 0) return ErrnoFail("pivot_root");
    if (::mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) != 0)
      return ErrnoFail("make old root rslave");
    if (::umount2(".", MNT_DETACH) != 0) return ErrnoFail("detach old root");
  }
  if (::chdir("/") != 0) return ErrnoFail("chdir `/`");
  return Ok();
}

Status FinishRootfs(const RootfsPlan& plan) {
  const oci::Spec& spec = *plan.spec;
  UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoFail("open `/`");
  if (spec.linux_config) {
    const auto& lc = *spec.linux_config;
    for (size_t i = 0; i < lc.masked_paths.size(); ++i) {
      BERTH_TRY_CTX(MaskPath(root.get(), lc.masked_paths[i]),
                    StrCat("linux.maskedPaths[", static_cast<uint64_t>(i), "] ",
                           Quote(lc.masked_paths[i])));
    }
    for (size_t i = 0; i < lc.readonly_paths.size(); ++i) {
      BERTH_TRY_CTX(ReadonlyPath(root.get(), lc.readonly_paths[i]),
                    StrCat("linux.readonlyPaths[", static_cast<uint64_t>(i), "] ",
                           Quote(lc.readonly_paths[i])));
    }
  }
  if (spec.root.readonly) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(root.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
      return ErrnoFail("root.readonly: remount `/` read-only");
  }
  const std::string& prop = spec.linux_config ? spec.linux_config->rootfs_propagation : "";
  if (!prop.empty()) {
    if (::mount(nullptr, "/", nullptr, PropagationFlags(prop), nullptr) != 0)
      return ErrnoFail(StrCat("linux.rootfsPropagation: set ", Quote(prop)));
  }
  return Ok();
}

}  // namespace berth::runtime
