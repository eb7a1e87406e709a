// berth/runtime: config.json `mounts` inside the container's rootfs, before pivot_root.
//
// Every destination is resolved inside the rootfs (sys::OpenInRoot), created as a directory
// or a file as the source requires, and the mount is attached to that resolved object
// through its fd, so a symlink in the rootfs can never redirect a mount onto the host.
// Bind mounts are cloned with open_tree(2), get their flags with mount_setattr(2) while
// still detached (no window with the wrong flags), and are attached with move_mount(2).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

struct CgroupMountInfo {
  bool unified_only = false;  // cgroup v2 host
  // v1: host mount point of each hierarchy -> the comma list of its controllers, and the
  // container's leaf directory in it.
  struct Hierarchy {
    std::string mount_point;  // "/sys/fs/cgroup/cpu"
    std::string options;      // "cpu" or "name=systemd" or "cpu,cpuacct"
    std::string leaf;         // "/sys/fs/cgroup/cpu/<path>"
  };
  std::vector<Hierarchy> hierarchies;
  std::string unified_leaf;   // cgroup2 leaf (v2 host, or hybrid's unified hierarchy)
  std::string unified_mount;  // where cgroup2 is mounted on the host
};

struct MountContext {
  int root_fd = -1;        // the rootfs (O_PATH directory)
  std::string rootfs;      // its host path, for messages
  std::string bundle;      // relative bind sources are relative to the bundle
  bool in_user_ns = false;
  bool new_net_ns = false;
  bool new_ipc_ns = false;
  bool new_cgroup_ns = false;
  CgroupMountInfo cgroup;
  // Called once before the first cgroup mount: the container must be in its cgroup (and
  // its cgroup namespace) before the hierarchies are mounted.
  std::function<Status()> before_cgroup_mount;
};

// Mounts every entry in order; errors name the entry ("mounts[3] `/data`: ...").
Status MountAll(const MountContext& ctx, const std::vector<oci::Mount>& mounts);

// True if the config bind-mounts something over /dev (then berth creates no device nodes).
bool DevIsBindMounted(const std::vector<oci::Mount>& mounts);

}  // namespace berth::runtime
