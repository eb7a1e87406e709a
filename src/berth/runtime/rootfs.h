// berth/runtime: the container's root filesystem, in three steps run by its init inside its
// new mount namespace: Prepare (propagation, the rootfs bind, config mounts, device nodes,
// /dev links), Enter (pivot_root, or MS_MOVE + chroot with --no-pivot) and Finish (masked
// and read-only paths, read-only root, rootfsPropagation). Masked and read-only paths are
// resolved to fds inside the new root and mounted through those fds, so a container
// cannot swap them for symlinks while they are set up.
#pragma once

#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"
#include "berth/runtime/mounts.h"

namespace berth::runtime {

struct RootfsPlan {
  const oci::Spec* spec = nullptr;
  std::string rootfs;  // host path of the root filesystem
  std::string bundle;
  bool no_pivot = false;
  bool in_user_ns = false;
  bool new_net_ns = false;
  bool new_ipc_ns = false;
  bool new_cgroup_ns = false;
  CgroupMountInfo cgroup;
  std::function<Status()> before_cgroup_mount;  // see MountContext
};

// Everything before the root changes. Returns an fd of the prepared rootfs.
Result<UniqueFd> PrepareRootfs(const RootfsPlan& plan);
Status EnterRootfs(const RootfsPlan& plan, int rootfs_fd);
Status FinishRootfs(const RootfsPlan& plan);

}  // namespace berth::runtime
