#include "berth/runtime/init.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <cstring>
#include <unistd.h>

#include <linux/keyctl.h>

#include "berth/base/failpoint.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/runtime/console.h"
#include "berth/runtime/container_state.h"
#include "berth/runtime/hooks.h"
#include "berth/runtime/users.h"

namespace berth::runtime {

namespace {

// Signal state inherited from the runtime must not reach the container: handlers reset,
// ignored signals restored, nothing blocked.
void ResetSignals() {
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

Status WriteSysctls(const oci::Linux& lc) {
  for (const auto& [key, value] : lc.sysctl) {
    std::string p = "/proc/sys/";
    for (char c : key) p.push_back(c == '.' ? '/' : c);
    BERTH_TRY_CTX(WriteExisting(p, value), StrCat("linux.sysctl ", Quote(key)));
  }
  return Ok();
}

Status SetHostnames(const oci::Spec& spec) {
  if (!spec.hostname.empty() &&
      ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0) {
    return ErrnoFail(StrCat("hostname: sethostname ", Quote(spec.hostname)));
  }
  if (!spec.domainname.empty() &&
      ::setdomainname(spec.domainname.data(), spec.domainname.size()) != 0) {
    return ErrnoFail(StrCat("domainname: setdomainname ", Quote(spec.domainname)));
  }
  return Ok();
}

// Like runc, a missing working directory is created (after pivot_root, so inside the new
// root, and before the root may become read-only).
Status EnsureCwd(const std::string& cwd) {
  std::string dir = cwd.empty() ? "/" : cwd;
  if (::access(dir.c_str(), F_OK) == 0) return Ok();
  BERTH_TRY_CTX(MkdirAll(dir, 0755), "process.cwd");
  return Ok();
}

Status ChdirCwd(const std::string& cwd) {
  std::string dir = cwd.empty() ? "/" : cwd;
  if (::chdir(dir.c_str()) != 0) return ErrnoFail(StrCat("process.cwd: chdir ", Quote(dir)));
  return Ok();
}

// Everything up to "ready"; returns the resolved program path.
Result<std::string> SetUp(InitPlan& p, std::vector<std::string>* env, pid_t* host_pid) {
  const oci::Spec& spec = *p.spec;
  const oci::Process& proc = *p.process.process;
  static const oci::Linux kNoLinux;
  const oci::Linux& lc = spec.linux_config ? *spec.linux_config : kNoLinux;

  log::Trace("init: start");
  if (const auto& aff = p.process.process->exec_cpu_affinity; aff && !aff->initial.empty()) {
    // execCPUAffinity.initial: where the runtime's setup runs inside the container.
    BERTH_TRY_CTX(SetCpuAffinity(aff->initial), "process.execCPUAffinity.initial");
  }
  if (!p.shared_memory) {
    BERTH_ASSIGN_OR_RETURN(SyncMessage go, p.sync->Expect(SyncType::kGo));
    log::Trace("init: go");
    *host_pid = static_cast<pid_t>(ParseInt64(go.payload, "pid").value_or(0));
  }
  if (p.namespaces->new_user) {
    // The parent wrote our id maps: become root of the new user namespace.
    if (::syscall(SYS_setresgid, 0, 0, 0) != 0 || ::syscall(SYS_setresuid, 0, 0, 0) != 0) {
      return ErrnoFail("become root in the user namespace (is uid/gid 0 mapped?)");
    }
  }
  BERTH_TRY(JoinNamespaces(*p.namespaces, /*keep_fds=*/p.shared_memory));
  // After the joins: a joined user namespace must own the new network namespace.
  if (p.namespaces->unshare_net && ::unshare(CLONE_NEWNET) != 0) {
    return ErrnoFail("create the network namespace");
  }
  // The parent creates and joins our cgroup while we set up; we wait for it only where it
  // matters: before mounting cgroup hierarchies, creating a cgroup namespace, or exec.
  bool in_cgroup = false;
  auto wait_cgroup = [&]() -> Status {
    if (in_cgroup) return Ok();
    if (p.shared_memory) {
      BERTH_TRY_CTX(p.join_cgroup(), "join cgroup");
    } else {
      BERTH_TRY(p.sync->Expect(SyncType::kCgroupReady));
    }
    in_cgroup = true;
    log::Trace("init: in cgroup");
    if (p.namespaces->unshare_cgroup && ::unshare(CLONE_NEWCGROUP) != 0) {
      return ErrnoFail("unshare cgroup namespace");
    }
    return Ok();
  };
  p.rootfs.before_cgroup_mount = wait_cgroup;
  if (p.namespaces->unshare_time) BERTH_TRY(SetupTimeNamespace(lc));
  BERTH_TRY(SetHostnames(spec));
  BERTH_TRY(WriteSysctls(lc));
  if (proc.oom_score_adj) {
    BERTH_ASSIGN_OR_RETURN(int adj, ClampOomScoreAdj(*proc.oom_score_adj));
    BERTH_TRY(ApplyOomScoreAdj(adj));
  }
  if (!p.no_new_keyring) {
    // A session keyring of its own, so the container cannot read the host's keys.
    std::string name = "_ses." + p.id;
    if (::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name.c_str()) < 0 &&
        errno != ENOSYS && errno != EDQUOT) {
      return ErrnoFail("join session keyring");
    }
  }

  log::Trace("init: namespaces done");
  BERTH_ASSIGN_OR_RETURN(UniqueFd root_fd, PrepareRootfs(p.rootfs));
  log::Trace("init: rootfs prepared");
  BERTH_TRY(wait_cgroup());  // hooks see the container in its cgroup
  BERTH_TRY(Failpoint("init:after-mounts"));
  if (p.parent_runs_hooks) {
    BERTH_TRY(p.sync->Send(SyncType::kRunHooks));
    BERTH_TRY(p.sync->Expect(SyncType::kHooksDone));
  }
  if (spec.hooks && !spec.hooks->create_container.empty()) {
    std::string state = HookStateJson(p.id, "creating", *host_pid, p.bundle, spec.annotations);
    BERTH_TRY(RunHooks(spec.hooks->create_container, "createContainer", state, p.bundle));
  }
  BERTH_TRY(EnterRootfs(p.rootfs, root_fd.get()));
  root_fd.Reset();
  BERTH_TRY(Failpoint("init:after-pivot"));
  log::Trace("init: pivoted");
  BERTH_TRY(EnsureCwd(proc.cwd));
  BERTH_TRY(FinishRootfs(p.rootfs));
  log::Trace("init: rootfs finished");
  BERTH_TRY(ChdirCwd(proc.cwd));

  if (proc.terminal) {
    BERTH_ASSIGN_OR_RETURN(Pty pty, OpenPty(proc.console_size));
    BERTH_TRY(MountConsole(pty.slave.get()));
    if (p.console_socket >= 0) {
      BERTH_TRY(SendConsoleFd(p.console_socket, pty.master.get()));
      ::close(p.console_socket);
      p.console_socket = -1;
    } else if (p.pty_to_parent) {
      BERTH_TRY(p.sync->Send(SyncType::kFd, "pty", {pty.master.get()}));
    } else {
      return InvalidArgument("process.terminal is true but no --console-socket was given");
    }
    BERTH_TRY(AttachTerminal(pty.slave.get(), proc.user.uid));
  } else {
    // A session of its own: the container must not share the caller's terminal session.
    ::setsid();
  }
  *env = DedupeEnv(proc.env);
  EnsureHome(*env, proc.user.uid);
  BERTH_ASSIGN_OR_RETURN(std::string path, LookPath(proc.args.empty() ? "" : proc.args[0], *env));
  BERTH_TRY(Failpoint("init:before-ready"));
  return path;
}

}  // namespace

void InitMain(InitPlan& p) {
  // Die with the runtime while it still owns us; cleared once it has recorded the container.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // (A dead parent shows up as EOF on the sync socket; getppid() is 0 in a new pid namespace.)
  // Nothing in the container may ptrace us or open our /proc files while we hold host fds.
  ::prctl(PR_SET_DUMPABLE, 0);
  ResetSignals();

  std::vector<std::string> env;
  pid_t host_pid = 0;
  auto path = SetUp(p, &env, &host_pid);
  if (!path) {
    (void)p.sync->SendError(path.error());
    ::_exit(1);
  }
  if (!p.shared_memory) {
    if (!p.sync->Send(SyncType::kReady)) ::_exit(1);
    // `create`: wait until the record is committed, stop dying with the runtime (which exits
    // next) and say so. `run`: kStart means both.
    auto committed = p.sync->Expect(p.wait_fifo ? SyncType::kCommitted : SyncType::kStart);
    if (!committed) ::_exit(1);  // the runtime died or gave up: it removes what it made
    ::prctl(PR_SET_PDEATHSIG, 0);
    if (p.wait_fifo) (void)p.sync->Send(SyncType::kAck);
  }
  // Sharing memory, the init still dies with the runtime: the trampoline stops that once
  // `start` comes (the record is committed by then).
  p.process.die_with_parent = p.shared_memory;

  // The start channel: `start`'s fifo, or the sync socket for `run`. It stays open until the
  // exec (close-on-exec), so whoever started us learns when the program runs (EOF) or why it
  // could not (an error written to it).
  const oci::Spec& spec = *p.spec;
  const bool start_hooks = spec.hooks && !spec.hooks->start_container.empty();
  UniqueFd fifo;
  auto wait_for_start = [&] {
    // Blocks until `start` opens the fifo for reading.
    fifo.Reset(::openat(p.state_dir_fd, std::string(kExecFifo).c_str(), O_WRONLY | O_CLOEXEC));
    if (!fifo.valid() || ::write(fifo.get(), "0", 1) != 1) {
      log::Error(StrCat("container ", Quote(p.id), ": wait for start: ", strerror(errno)));
      ::_exit(1);
    }
  };
  // Without startContainer hooks nothing needs the init after `start`: the trampoline waits
  // in its place (it reopens the fifo through /proc/self/fd), so the init's exec, and with it
  // the teardown of the runtime's address space, happens now rather than after `start`.
  UniqueFd fifo_path;
  if (p.wait_fifo && !start_hooks) {
    fifo_path.Reset(::openat(p.state_dir_fd, std::string(kExecFifo).c_str(), O_PATH | O_CLOEXEC));
    if (fifo_path.valid() && ::access(StrCat("/proc/self/fd/", fifo_path.get()).c_str(), F_OK) != 0) {
      fifo_path.Reset();  // no /proc in the container: wait here
    }
    p.process.start_fifo_fd = fifo_path.get();
  }
  if (p.shared_memory && !fifo_path.valid()) {
    // The runtime sleeps until our exec: waiting here would wait forever.
    (void)p.sync->SendError(Error(ErrorCode::kInternal, "wait for start: no /proc in the container"));
    ::_exit(1);
  }
  if (p.wait_fifo && !p.shared_memory) {
    if (!fifo_path.valid()) wait_for_start();
    p.sync->Close();
  }
  auto fail = [&](const Error& e, int code) {
    // Tell `start` why; sharing memory, `create` (which is still waiting) hears it.
    if (p.wait_fifo && !p.shared_memory && !fifo.valid()) wait_for_start();
    if (fifo.valid()) {
      (void)WriteAll(fifo.get(), e.message(), "start channel");
    } else {
      (void)p.sync->SendError(e);
    }
    log::Error(StrCat("container ", Quote(p.id), ": ", e.message()));
    ::_exit(code);
  };

  if (start_hooks) {
    std::string state = HookStateJson(p.id, "created", host_pid, p.bundle, spec.annotations);
    auto st = RunHooks(spec.hooks->start_container, "startContainer", state, p.bundle);
    if (!st) fail(st.error(), 1);
  }
  log::Trace("init: exec");
  Error err = FinalizeAndExec(p.process, *path, env);
  fail(err, err.sys_errno() == ENOENT ? 127 : 126);
  ::_exit(126);  // not reached: fail() exits
}

}  // namespace berth::runtime
