// berth/runtime: `exec`, a new process in a running container. The runtime enters the
// container's pid namespace only for the clone; the child joins the other namespaces through
// the init's pidfd (setns(2) with a pidfd enters all of them at once, user first) and then
// ends exactly like the init does (process_setup.h).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/runtime/console.h"
#include "berth/runtime/exec_protection.h"
#include "berth/runtime/foreground.h"
#include "berth/runtime/hooks.h"
#include "berth/runtime/runtime.h"
#include "berth/runtime/seccomp_cache.h"
#include "berth/runtime/sync.h"
#include "berth/runtime/process_setup.h"
#include "berth/runtime/users.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

namespace {

struct ExecChildPlan {
  ProcessPlan process;
  SyncSocket* sync = nullptr;
  pid_t parent_pid = 0;
  int init_pidfd = -1;
  int ns_flags = 0;  // namespaces to join through the pidfd
  int console_socket = -1;
  bool pty_to_parent = false;
};

Result<std::string> ExecSetUp(ExecChildPlan& p, std::vector<std::string>* env) {
  const oci::Process& proc = *p.process.process;
  BERTH_TRY(p.sync->Expect(SyncType::kGo));
  if (const auto& aff = p.process.process->exec_cpu_affinity; aff && !aff->initial.empty()) {
    // execCPUAffinity.initial: where the runtime's setup runs inside the container.
    BERTH_TRY_CTX(SetCpuAffinity(aff->initial), "process.execCPUAffinity.initial");
  }
  if (p.ns_flags != 0 && ::setns(p.init_pidfd, p.ns_flags) != 0) {
    return ErrnoFail("join the container's namespaces");
  }
  if (proc.oom_score_adj) {
    BERTH_ASSIGN_OR_RETURN(int adj, ClampOomScoreAdj(*proc.oom_score_adj));
    BERTH_TRY(ApplyOomScoreAdj(adj));
  }
  std::string cwd = proc.cwd.empty() ? "/" : proc.cwd;
  if (::chdir(cwd.c_str()) != 0) return ErrnoFail(StrCat("process.cwd: chdir ", Quote(cwd)));
  if (proc.terminal) {
    BERTH_ASSIGN_OR_RETURN(Pty pty, OpenPty(proc.console_size));
    if (p.console_socket >= 0) {
      BERTH_TRY(SendConsoleFd(p.console_socket, pty.master.get()));
      ::close(p.console_socket);
    } else if (p.pty_to_parent) {
      BERTH_TRY(p.sync->Send(SyncType::kFd, "pty", {pty.master.get()}));
    } else {
      return InvalidArgument("process.terminal is true but no --console-socket was given");
    }
    BERTH_TRY(AttachTerminal(pty.slave.get(), proc.user.uid));
  }
  *env = DedupeEnv(proc.env);
  EnsureHome(*env, proc.user.uid);
  return LookPath(proc.args.empty() ? "" : proc.args[0], *env);
}

[[noreturn]] void ExecMain(ExecChildPlan& p) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // (A dead parent shows up as EOF on the sync socket; getppid() is 0 in a new pid namespace.)
  ::prctl(PR_SET_DUMPABLE, 0);
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  std::vector<std::string> env;
  auto path = ExecSetUp(p, &env);
  if (!path) {
    (void)p.sync->SendError(path.error());
    ::_exit(1);
  }
  if (!p.sync->Send(SyncType::kReady) || !p.sync->Expect(SyncType::kStart)) ::_exit(1);
  // The death signal survives exec: clear it before the runtime may exit (--detach), and only
  // then tell it so.
  ::prctl(PR_SET_PDEATHSIG, 0);
  (void)p.sync->Send(SyncType::kAck);
  // The sync socket stays open (close-on-exec) so a failure of the last steps reaches the
  // runtime as an error; EOF tells it the program runs.
  Error err = FinalizeAndExec(p.process, *path, env);
  (void)p.sync->SendError(err);
  ::_exit(err.sys_errno() == ENOENT ? 127 : 126);
}

// The namespaces of `pid` that differ from ours, as CLONE_NEW* flags (pid excluded).
Result<int> NamespacesToJoin(pid_t pid, const std::vector<std::string>& types) {
  int flags = 0;
  for (const auto& t : types) {
    auto type = oci::ParseNamespaceType(t);
    if (!type || *type == oci::NamespaceType::kPid) continue;
    std::string name(oci::NamespaceProcName(*type));
    struct stat theirs, ours;
    if (::stat(StrCat("/proc/", static_cast<int64_t>(pid), "/ns/", name).c_str(), &theirs) != 0)
      return ErrnoFail(StrCat("stat the container's ", t, " namespace"));
    if (::stat(StrCat("/proc/self/ns/", name).c_str(), &ours) != 0 || theirs.st_ino != ours.st_ino)
      flags |= oci::NamespaceCloneFlag(*type);
  }
  return flags;
}

}  // namespace

Result<int> Exec(const GlobalOptions& g, const std::string& id, const ExecOptions& o) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  if (info.status == ContainerStatus::kStopped) {
    return Fail(ErrorCode::kFailedPrecondition, "cannot exec in a stopped container");
  }
  if (info.status == ContainerStatus::kPaused && !o.ignore_paused) {
    return Fail(ErrorCode::kFailedPrecondition,
                "cannot exec in a paused container (use --ignore-paused to override)");
  }
  const ContainerRecord& rec = info.record;
  BERTH_ASSIGN_OR_RETURN(oci::Spec spec, LoadSpec(g.root, rec.id));
  BERTH_TRY(oci::ValidateProcess(o.process));
  BERTH_TRY(CheckPreservedFds(o.preserve_fds));
  if (o.process.terminal && o.detach && o.console_socket.empty()) {
    return InvalidArgument("cannot allocate a tty for a detached process without --console-socket");
  }
  ProcessPlan proc;
  BERTH_TRY(ResolveProcessPlan(spec, o.process, &proc, /*quiet=*/true));
  std::optional<SeccompProgram> seccomp;
  UniqueFd seccomp_memfd;
  if (spec.linux_config && spec.linux_config->seccomp) {
    BERTH_ASSIGN_OR_RETURN(seccomp, CompileSeccompCached(*spec.linux_config->seccomp, SeccompCacheDir(g)));
    BERTH_ASSIGN_OR_RETURN(seccomp_memfd,
                           FilterMemfd(seccomp->filter.data(),
                                       seccomp->filter.size() * sizeof(struct sock_filter)));
    proc.seccomp = &*seccomp;
    proc.seccomp_memfd = seccomp_memfd.get();
    proc.seccomp_listener_path = spec.linux_config->seccomp->listener_path;
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd trampoline, SealedTrampoline());
  proc.trampoline_fd = trampoline.get();
  proc.preserve_fds = o.preserve_fds;

  BERTH_ASSIGN_OR_RETURN(UniqueFd pidfd, OpenInitPidfd(rec));
  BERTH_ASSIGN_OR_RETURN(int ns_flags, NamespacesToJoin(rec.pid, rec.namespaces));
  BERTH_ASSIGN_OR_RETURN(cgroup::Layout layout, cgroup::DetectLayout());
  BERTH_ASSIGN_OR_RETURN(auto cg, cgroup::LoadManager(layout, rec.cgroup));

  std::optional<ForegroundSignals> signals;
  if (!o.detach) {
    BERTH_ASSIGN_OR_RETURN(ForegroundSignals blocked, ForegroundSignals::Block());
    signals.emplace(std::move(blocked));
  }
  UniqueFd console;
  if (!o.console_socket.empty()) {
    BERTH_ASSIGN_OR_RETURN(console, ConnectConsoleSocket(o.console_socket));
  }
  BERTH_ASSIGN_OR_RETURN(auto pair, SyncSocket::Pair());
  SyncSocket sync = std::move(pair.first);
  SyncSocket child_sync = std::move(pair.second);

  ExecChildPlan plan;
  plan.process = proc;
  plan.sync = &child_sync;
  plan.parent_pid = ::getpid();
  plan.init_pidfd = pidfd.get();
  plan.ns_flags = ns_flags;
  plan.console_socket = console.get();
  plan.pty_to_parent = o.process.terminal && o.console_socket.empty();

  // The pid namespace applies to children of the caller: enter it for the clone only.
  UniqueFd own_pidns, their_pidns;
  bool join_pid = false;
  for (const auto& t : rec.namespaces) join_pid |= (t == "pid");
  if (join_pid) {
    own_pidns.Reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (::setns(pidfd.get(), CLONE_NEWPID) != 0) return ErrnoFail("enter the container's pid namespace");
  }
  int child_pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uintptr_t>(&child_pidfd);
  args.exit_signal = SIGCHLD;
  if (cg->CloneIntoFd() >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<uint64_t>(cg->CloneIntoFd());
  }
  pid_t pid = sys::Clone3(&args);
  if (pid == 0) {
    sync.Close();
    ExecMain(plan);
  }
  int clone_errno = errno;
  if (own_pidns.valid()) (void)::setns(own_pidns.get(), CLONE_NEWPID);
  if (pid < 0) return SysFail(clone_errno, "clone the exec process");
  sys::ChildProcess child(pid, UniqueFd(child_pidfd));
  child_sync.Close();
  if (!(args.flags & CLONE_INTO_CGROUP)) BERTH_TRY_CTX(cg->AddProcess(pid), "join cgroup");
  BERTH_TRY(sync.Send(SyncType::kGo));
  UniqueFd pty_master;
  while (true) {
    auto msg = sync.Recv();
    if (!msg) return Fail(ErrorCode::kInternal, "exec process exited during setup");
    if (msg->type == SyncType::kError) return Unexpected(Error::Decode(msg->payload));
    if (msg->type == SyncType::kFd && !msg->fds.empty()) {
      pty_master = std::move(msg->fds[0]);
      continue;
    }
    if (msg->type == SyncType::kReady) break;
  }
  if (!o.pid_file.empty()) {
    BERTH_TRY_CTX(AtomicWriteFile(o.pid_file, StrCat(static_cast<int64_t>(pid)), 0644,
                                  Durability::kAtomicOnly),
                  "--pid-file");
  }
  BERTH_TRY(sync.Send(SyncType::kStart));
  // kAck: the child no longer dies with us. Then EOF once the program runs, or its error.
  for (int i = 0; i < 2; ++i) {
    auto m = sync.Recv();
    if (!m) break;
    if (m->type == SyncType::kError) {
      (void)child.Wait();
      return Unexpected(Error::Decode(m->payload));
    }
  }
  sync.Close();
  if (o.detach) {
    child.Release();
    return 0;
  }
  return WaitForeground(child, *signals, pty_master.get());
}

}  // namespace berth::runtime
