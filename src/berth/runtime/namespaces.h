// berth/runtime: which namespaces a container gets and how: created by clone3, created
// later by unshare (cgroup after the cgroup move, time so offsets can be written before any
// task enters it), or joined by path with setns. Also the user namespace id maps.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

struct NamespacePlan {
  uint64_t clone_flags = 0;      // CLONE_NEW* passed to clone3
  bool unshare_cgroup = false;   // unshare(CLONE_NEWCGROUP) once the child is in its cgroup
  bool unshare_time = false;     // unshare(CLONE_NEWTIME) + offsets; the exec enters it
  // A new network namespace costs ~0.35 ms to create: the child makes it with unshare while
  // the parent sets up cgroups, instead of the parent waiting for it inside clone3.
  bool unshare_net = false;
  bool new_user = false;
  UniqueFd join_pid;  // joined pid namespace: the parent setns()es into it before clone3
  // Namespaces the child joins with setns, user first (it owns the others).
  std::vector<std::pair<oci::NamespaceType, UniqueFd>> joins;
  std::vector<std::string> types;  // every namespace type the container has its own of
};

// Opens every path to join now (in the parent) so a bad path fails before anything is
// created, and checks it is a namespace of the right type. `cgroup_into_clone`: the child
// is placed in its cgroup at clone time (cgroup v2), so a new cgroup namespace can be
// created by clone3 too.
Result<NamespacePlan> PlanNamespaces(const oci::Linux& linux_config, bool cgroup_into_clone);

// In the child: setns into each joined namespace, in order. `keep_fds`: a child that shares
// the parent's memory leaves the fds to the parent (they close at its exec); closing them
// through the shared UniqueFds would hide them from the parent, which would then keep its
// own copies (and the namespaces they pin) open.
Status JoinNamespaces(NamespacePlan& plan, bool keep_fds = false);

// Namespaces a child sharing its parent's memory joins: network, ipc and uts (setns checks
// only capabilities for them). The others keep the fork path: a joined pid namespace applies
// only at clone, and user, mount, cgroup and time joins change what the shared-memory init
// relies on (credentials, the filesystem view, its cgroup).
bool JoinsAllowSharedMemory(const NamespacePlan& plan);

// Parent side: writes /proc/PID/{uid,gid}_map (and setgroups when needed).
Status WriteIdMaps(pid_t pid, const oci::Linux& linux_config);

// Child side: unshare(CLONE_NEWTIME) and write linux.timeOffsets.
Status SetupTimeNamespace(const oci::Linux& linux_config);

}  // namespace berth::runtime
