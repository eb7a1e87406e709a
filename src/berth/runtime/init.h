// berth/runtime: the container's init, i.e. what the child cloned into the new namespaces
// does before it becomes the container's process. The parent (runtime.cc) resolves and
// opens everything that can be checked up front and hands it over in an InitPlan; the
// child applies it in the order the kernel requires and reports each failure to the parent
// over the sync socket.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "berth/runtime/namespaces.h"
#include "berth/runtime/process_setup.h"
#include "berth/runtime/rootfs.h"
#include "berth/runtime/sync.h"

namespace berth::runtime {

struct InitPlan {
  std::string id;
  std::string bundle;
  const oci::Spec* spec = nullptr;
  NamespacePlan* namespaces = nullptr;
  RootfsPlan rootfs;
  ProcessPlan process;
  SyncSocket* sync = nullptr;  // the child's end
  pid_t parent_pid = 0;
  // `create`: block on ROOT/ID/exec.fifo (opened through this directory fd) until `start`.
  // `run`: wait for kStart on the sync socket instead.
  int state_dir_fd = -1;
  bool wait_fifo = false;
  bool parent_runs_hooks = false;  // prestart/createRuntime hooks: pause before pivot_root
  int console_socket = -1;         // connected --console-socket
  bool pty_to_parent = false;      // terminal relayed by the runtime (`run -t` in foreground)
  bool no_new_keyring = false;
  // The init shares the runtime's memory and the runtime sleeps until it execs (CLONE_VM |
  // CLONE_VFORK): no messages from the parent, so the init joins its cgroup itself
  // (`join_cgroup`) and reports only failures. It must leave the parent's objects as they
  // are (no Close/Reset on anything the plan points to) and never wait on the parent.
  bool shared_memory = false;
  std::function<Status()> join_cgroup;
};

// Runs in the cloned child; never returns.
[[noreturn]] void InitMain(InitPlan& plan);

}  // namespace berth::runtime
