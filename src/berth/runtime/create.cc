// berth/runtime: create, start and run. The parent resolves the config, creates the state
// directory and the cgroup, clones the init into its namespaces and drives it through the
// sync socket; every step registers its undo so a failure anywhere leaves nothing behind.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <optional>

#include "berth/base/defer.h"
#include "berth/base/failpoint.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/runtime/console.h"
#include "berth/runtime/devices.h"
#include "berth/runtime/exec_protection.h"
#include "berth/runtime/foreground.h"
#include "berth/runtime/hooks.h"
#include "berth/runtime/init.h"
#include "berth/runtime/runtime.h"
#include "berth/runtime/seccomp_cache.h"
#include "berth/runtime/sync.h"
#include "berth/sys/process.h"
#include "berth/sys/safe_path.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

namespace {

// realpath(3) readlinks every component; the kernel knows the answer for an open fd.
Result<std::string> RealPath(const std::string& p, std::string_view what) {
  UniqueFd fd(::open(p.c_str(), O_PATH | O_CLOEXEC));
  if (!fd.valid()) return ErrnoFail(StrCat(what, " ", Quote(p)));
  char buf[PATH_MAX];
  ssize_t n = ::readlink(sys::FdPath(fd.get()).c_str(), buf, sizeof buf - 1);
  if (n <= 0) return ErrnoFail(StrCat(what, " ", Quote(p)));
  return std::string(buf, static_cast<size_t>(n));
}

// The v1 hierarchies and v2 leaf a `cgroup` mount inside the container needs.
CgroupMountInfo MountInfoFor(const cgroup::Layout& layout, const cgroup::Manager& m) {
  CgroupMountInfo info;
  auto paths = m.Paths();
  info.unified_only = layout.mode == cgroup::Mode::kUnified;
  info.unified_mount = layout.unified_mount;
  if (auto it = paths.find(""); it != paths.end()) info.unified_leaf = it->second;
  std::map<std::string, std::vector<std::string>> by_mount;
  for (const auto& [ctrl, mp] : layout.v1_mounts) by_mount[mp].push_back(ctrl);
  for (const auto& [mp, ctrls] : by_mount) {
    CgroupMountInfo::Hierarchy h;
    h.mount_point = mp;
    h.options = Join(ctrls, ",");
    for (const auto& c : ctrls) {
      if (auto it = paths.find(c); it != paths.end()) h.leaf = it->second;
    }
    if (!h.leaf.empty()) info.hierarchies.push_back(h);
  }
  return info;
}

// The init's entry when it shares our memory (CLONE_VM | CLONE_VFORK).
struct SharedInit {
  InitPlan* plan;
  int parent_sync_fd;  // our end, which the child's copy of the fd table also holds
};

int SharedInitMain(void* arg) {
  auto* a = static_cast<SharedInit*>(arg);
  ::close(a->parent_sync_fd);  // the raw fd: the SyncSocket object is the parent's
  InitMain(*a->plan);
}

bool HasProcMount(const oci::Spec& spec) {
  for (const auto& m : spec.mounts)
    if (m.destination == "/proc" && m.type == "proc") return true;
  return false;
}

// What Create hands to Start/Run in the same process.
struct Launched {
  ContainerRecord record;
  sys::ChildProcess init;
  SyncSocket sync;
  UniqueFd pty_master;
  std::unique_ptr<cgroup::Manager> cgroup;
  // The caller's spec when it passed one (copying and freeing it costs more than a pointer:
  // the init shares our heap copy-on-write), else the bundle's, owned here.
  std::unique_ptr<oci::Spec> owned_spec;
  const oci::Spec* spec = nullptr;
};

enum class Mode { kCreate, kRun };

// `detach` (run only): nobody will relay a terminal, so one needs --console-socket.
Result<Launched> Launch(const GlobalOptions& g, const CreateOptions& o, Mode mode, bool detach) {
  BERTH_TRY(ValidateId(o.id));
  if (g.systemd_cgroup) {
    return Fail(ErrorCode::kUnsupported,
                "--systemd-cgroup: the systemd cgroup driver is not supported (use cgroupfs)");
  }
  BERTH_TRY(CheckPreservedFds(o.preserve_fds));
  BERTH_ASSIGN_OR_RETURN(std::string bundle, RealPath(o.bundle, "bundle"));
  Launched out;
  log::Trace("launch");
  if (o.spec) {
    out.spec = o.spec;
  } else {
    BERTH_ASSIGN_OR_RETURN(oci::Spec loaded, oci::LoadSpec(bundle + "/config.json"));
    out.owned_spec = std::make_unique<oci::Spec>(std::move(loaded));
    out.spec = out.owned_spec.get();
  }
  log::Trace("config parsed");
  const oci::Spec& spec = *out.spec;
  BERTH_TRY_CTX(oci::Validate(spec), bundle + "/config.json");
  if (!spec.process) return InvalidArgument("config.json: process: required to create a container");
  bool terminal = spec.process->terminal;
  if (terminal && o.console_socket.empty() && (mode == Mode::kCreate || detach)) {
    return InvalidArgument(
        "process.terminal is true: --console-socket is required unless `run` stays attached");
  }
  // `run` in the foreground relays the terminal itself.
  bool pty_to_parent = terminal && o.console_socket.empty() && mode == Mode::kRun && !detach;
  static const oci::Linux kNoLinux;
  const oci::Linux& lc = spec.linux_config ? *spec.linux_config : kNoLinux;
  std::string rootfs_in = spec.root.path[0] == '/' ? spec.root.path : bundle + "/" + spec.root.path;
  BERTH_ASSIGN_OR_RETURN(std::string rootfs, RealPath(rootfs_in, "root.path"));

  // Fields that restrict or shape the container but that this runtime does not implement
  // are refused, never ignored.
  if (lc.intel_rdt) {
    return Fail(ErrorCode::kUnsupported, "linux.intelRdt: Intel RDT (resctrl) is not supported");
  }
  if (!lc.net_devices.empty()) {
    return Fail(ErrorCode::kUnsupported, "linux.netDevices: moving network devices is not supported");
  }
  if (!lc.mount_label.empty() && ::access("/sys/fs/selinux/enforce", F_OK) != 0) {
    return Fail(ErrorCode::kUnsupported, "linux.mountLabel: SELinux is not enabled on this host");
  }
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    if (!spec.mounts[i].uid_mappings.empty() || !spec.mounts[i].gid_mappings.empty()) {
      return Fail(ErrorCode::kUnsupported,
                  StrCat("mounts[", static_cast<uint64_t>(i), "].uidMappings: idmapped mounts are "
                         "not supported"));
    }
  }

  // Everything that can be checked is checked before anything is created.
  log::Trace("config validated");
  BERTH_ASSIGN_OR_RETURN(cgroup::Layout layout, cgroup::DetectLayout());
  log::Trace("cgroup layout");
  bool clone_into = layout.mode == cgroup::Mode::kUnified;
  BERTH_ASSIGN_OR_RETURN(NamespacePlan ns, PlanNamespaces(lc, clone_into));
  if (ns.new_user && (lc.uid_mappings.empty() || lc.gid_mappings.empty())) {
    return InvalidArgument("linux.uidMappings/gidMappings: required with a new user namespace");
  }
  ProcessPlan proc;
  BERTH_TRY(ResolveProcessPlan(spec, *spec.process, &proc));
  std::optional<SeccompProgram> seccomp;
  UniqueFd seccomp_memfd;
  if (lc.seccomp) {
    BERTH_ASSIGN_OR_RETURN(seccomp, CompileSeccompCached(*lc.seccomp, SeccompCacheDir(g)));
    BERTH_ASSIGN_OR_RETURN(seccomp_memfd,
                           FilterMemfd(seccomp->filter.data(),
                                       seccomp->filter.size() * sizeof(struct sock_filter)));
    proc.seccomp = &*seccomp;
    proc.seccomp_memfd = seccomp_memfd.get();
    proc.seccomp_listener_path = lc.seccomp->listener_path;
    proc.seccomp_listener_metadata = lc.seccomp->listener_metadata;
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd trampoline, SealedTrampoline());
  proc.trampoline_fd = trampoline.get();
  proc.preserve_fds = o.preserve_fds;
  log::Trace("process resolved");

  // The state directory is the container's name claim: created exclusively.
  BERTH_TRY(MkdirAll(g.root, 0700));
  std::string dir = ContainerDir(g.root, o.id);
  // 0711: a user-namespaced init (not host root) must reach exec.fifo inside it.
  if (::mkdir(dir.c_str(), 0711) != 0) {
    if (errno == EEXIST) {
      return Fail(ErrorCode::kAlreadyExists, StrCat("container ", Quote(o.id), " already exists"));
    }
    return ErrnoFail(StrCat("create ", Quote(dir)));
  }
  Defer remove_dir([&] { (void)RemoveAll(dir); });
  BERTH_TRY(Failpoint("create:after-state-dir"));
  log::Trace("state dir");

  cgroup::Config cg_config;
  cg_config.path = lc.cgroups_path;
  cg_config.container_id = o.id;
  BERTH_ASSIGN_OR_RETURN(out.cgroup, cgroup::NewManager(layout, cg_config));
  cgroup::Manager& cg = *out.cgroup;
  bool cgroup_created = false;
  Defer destroy_cgroup([&] {
    bool had_init = out.init.valid();
    out.init.KillAndReap();  // the init first: a live member keeps the cgroup busy
    if (cgroup_created) {
      (void)cg.Signal(SIGKILL);
      (void)cg.Destroy();
    }
    // Like runc, poststop hooks also run when a create fails: they undo what prestart and
    // createRuntime hooks may have set up.
    if (had_init && spec.hooks && !spec.hooks->poststop.empty()) {
      RunHooksBestEffort(spec.hooks->poststop, "poststop",
                         HookStateJson(o.id, "stopped", 0, bundle, spec.annotations), bundle);
    }
  });
  auto setup_cgroup = [&]() -> berth::Status {
    cgroup_created = true;
    BERTH_TRY_CTX(cg.Create(), "create cgroup");
    oci::Resources res = lc.resources.value_or(oci::Resources());
    // The nodes the container gets must stay usable under its device rules.
    if (!res.devices.empty()) {
      for (auto& r : DeviceRulesForNodes(lc.devices)) res.devices.push_back(r);
    }
    BERTH_TRY(cg.Apply(res));
    BERTH_TRY(Failpoint("create:after-cgroup"));
    log::Trace("cgroup applied");
    return Ok();
  };
  // cgroup v2 places the child at clone time, so its cgroup must exist first; otherwise the
  // cgroup is made while the child sets up its rootfs (the two run on separate CPUs).
  if (clone_into) BERTH_TRY(setup_cgroup());

  UniqueFd console;
  if (!o.console_socket.empty()) {
    BERTH_ASSIGN_OR_RETURN(console, ConnectConsoleSocket(o.console_socket));
  }
  BERTH_ASSIGN_OR_RETURN(auto pair, SyncSocket::Pair());
  out.sync = std::move(pair.first);
  SyncSocket child_sync = std::move(pair.second);

  UniqueFd state_dir_fd;
  if (mode == Mode::kCreate) {
    std::string fifo = StrCat(dir, "/", kExecFifo);
    // World-writable like runc's, so a user-namespaced init can open it.
    mode_t old = ::umask(0);
    int r = ::mkfifo(fifo.c_str(), 0622);
    ::umask(old);
    if (r != 0) return ErrnoFail(StrCat("mkfifo ", Quote(fifo)));
    state_dir_fd.Reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!state_dir_fd.valid()) return ErrnoFail(StrCat("open ", Quote(dir)));
  }

  InitPlan plan;
  plan.id = o.id;
  plan.bundle = bundle;
  plan.spec = &spec;
  plan.namespaces = &ns;
  plan.rootfs.spec = &spec;
  plan.rootfs.rootfs = rootfs;
  plan.rootfs.bundle = bundle;
  plan.rootfs.no_pivot = o.no_pivot;
  plan.rootfs.in_user_ns = ns.new_user || lc.FindNamespace(oci::NamespaceType::kUser);
  auto has_own = [&](oci::NamespaceType t) { return lc.FindNamespace(t) != nullptr; };
  plan.rootfs.new_net_ns = has_own(oci::NamespaceType::kNetwork);
  plan.rootfs.new_ipc_ns = has_own(oci::NamespaceType::kIpc);
  plan.rootfs.new_cgroup_ns = has_own(oci::NamespaceType::kCgroup);
  plan.rootfs.cgroup = MountInfoFor(layout, cg);
  plan.process = proc;
  plan.process.setgroups_allowed = true;
  plan.sync = &child_sync;
  plan.parent_pid = ::getpid();
  plan.state_dir_fd = state_dir_fd.get();
  plan.wait_fifo = mode == Mode::kCreate;
  plan.parent_runs_hooks = spec.hooks && (!spec.hooks->prestart.empty() ||
                                          !spec.hooks->create_runtime.empty());
  plan.console_socket = console.get();
  plan.pty_to_parent = pty_to_parent;
  plan.no_new_keyring = o.no_new_keyring;

  // The usual container starts its init sharing our memory, as vfork does, and we sleep
  // until it has exec'd the trampoline that waits for `start`: no copy of our page tables,
  // no copy-on-write faults in either process (~140 of them at ~15-30 us in these VMs), no
  // teardown of a copied address space at its exec, no dialogue. It needs nothing from us
  // meanwhile: no user namespace to map, no hooks, nothing to join but network, ipc or uts
  // namespaces (a berth container's network namespace is made beforehand), `create` (not `run`) and
  // a /proc for the trampoline, and a caller that outlives `start` (the init keeps dying with
  // it until then). The sanitizers cannot follow a second task on one heap.
  bool shared_init = mode == Mode::kCreate && o.caller_outlives_start && !ns.new_user &&
                     JoinsAllowSharedMemory(ns) && !ns.unshare_time && HasProcMount(spec) &&
                     !(spec.hooks && (!spec.hooks->prestart.empty() ||
                                      !spec.hooks->create_runtime.empty() ||
                                      !spec.hooks->create_container.empty() ||
                                      !spec.hooks->start_container.empty()));
#if defined(__SANITIZE_ADDRESS__)
  shared_init = false;
#endif
  if (const char* v = std::getenv("BERTH_FORK_INIT"); v && *v == '1') shared_init = false;
  pid_t pid = -1;
  if (shared_init) {
    // The init joins the cgroup itself (no CLONE_INTO_CGROUP with clone()), before any
    // cgroup namespace of its own.
    if (!clone_into) BERTH_TRY(setup_cgroup());
    if (ns.clone_flags & CLONE_NEWCGROUP) {
      ns.clone_flags &= ~static_cast<uint64_t>(CLONE_NEWCGROUP);
      ns.unshare_cgroup = true;
    }
    plan.shared_memory = true;
    plan.join_cgroup = [&cg] { return cg.AddProcess(0); };  // 0: the writer itself
    SharedInit args{&plan, out.sync.fd()};
    // Touched lazily; the lowest page is a guard, so an overflow faults instead of writing
    // into whatever mapping lies below in the memory we share.
    constexpr size_t kStack = size_t{8} << 20, kGuard = 4096;
    void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return ErrnoFail("map a stack for the container's init");
    (void)::mprotect(stack, kGuard, PROT_NONE);
    int pidfd = -1;
    int flags = static_cast<int>(ns.clone_flags) | CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD;
    // No handler of ours may run in the child on our memory before it resets them all (it
    // unblocks signals then).
    sigset_t all, old;
    sigfillset(&all);
    ::sigprocmask(SIG_SETMASK, &all, &old);
    pid = ::clone(SharedInitMain, static_cast<char*>(stack) + kStack, flags, &args, &pidfd);
    int clone_errno = errno;
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
    ::munmap(stack, kStack);
    if (pid < 0) return SysFail(clone_errno, "clone the container's init");
    out.init = sys::ChildProcess(pid, UniqueFd(pidfd));
    child_sync.Close();
    BERTH_TRY(Failpoint("create:after-clone"));
    log::Trace("cloned");
    // We wake when it has exec'd the trampoline (which waits for `start`) or when it is
    // exiting: an error message says why; a signal says nothing.
    if (auto msg = out.sync.Recv(); msg.has_value()) {
      if (msg->type == SyncType::kError) return Unexpected(Error::Decode(msg->payload));
      return Fail(ErrorCode::kInternal, "unexpected message from the container's init");
    }
    // Exec'd: its executable is the sealed trampoline (an exiting task has none).
    char exe[64] = {};
    ssize_t n = ::readlink(StrCat("/proc/", static_cast<int64_t>(pid), "/exe").c_str(), exe,
                           sizeof exe - 1);
    bool execd = n > 0 && std::string_view(exe, static_cast<size_t>(n)).starts_with("/memfd:berth-exec");
    auto st = execd ? out.init.WaitFor(std::chrono::milliseconds(0))
                    : out.init.WaitFor(std::chrono::milliseconds(1000));
    if (!execd || !st || *st) {
      std::string how = st && *st ? StrCat(" (exit status ", sys::ExitCodeFromWaitStatus(**st), ")") : "";
      if (auto stats = cg.GetStats(); stats.has_value() && stats->oom_kills > 0) {
        return Fail(ErrorCode::kFailedPrecondition,
                    "linux.resources.memory.limit: the container's init was killed by the OOM "
                    "killer during setup; the memory limit is too low");
      }
      return Fail(ErrorCode::kInternal, StrCat("container init exited during setup", how));
    }
  }

  // A joined pid namespace applies to the children of the caller: enter it just for the
  // clone, then come back so hooks run in our own.
  UniqueFd own_pidns;
  if (ns.join_pid.valid()) {
    own_pidns.Reset(::open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC));
    if (::setns(ns.join_pid.get(), CLONE_NEWPID) != 0) {
      return ErrnoFail("linux.namespaces: join pid namespace");
    }
  }
  if (!shared_init) {
    int pidfd = -1;
    struct clone_args args = {};
    args.flags = ns.clone_flags | CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    if (clone_into && cg.CloneIntoFd() >= 0) {
      args.flags |= CLONE_INTO_CGROUP;
      args.cgroup = static_cast<uint64_t>(cg.CloneIntoFd());
    }
    pid = sys::Clone3(&args);
    if (pid == 0) {
      out.sync.Close();
      InitMain(plan);
    }
    int clone_errno = errno;
    if (own_pidns.valid()) (void)::setns(own_pidns.get(), CLONE_NEWPID);
    if (pid < 0) return SysFail(clone_errno, "clone the container's init");
    out.init = sys::ChildProcess(pid, UniqueFd(pidfd));
    child_sync.Close();
    BERTH_TRY(Failpoint("create:after-clone"));
    log::Trace("cloned");

    if (ns.new_user) BERTH_TRY(WriteIdMaps(pid, lc));
    // A failed send means the init is gone; the loop below reports how it ended.
    (void)out.sync.Send(SyncType::kGo, StrCat(static_cast<int64_t>(pid)));
    if (!clone_into) {
      BERTH_TRY(setup_cgroup());
      BERTH_TRY_CTX(cg.AddProcess(pid), "join cgroup");
    }
    (void)out.sync.Send(SyncType::kCgroupReady);
    log::Trace("cgroup joined");
  }

  // The record is written while the init sets up, under a temporary name; renaming it into
  // place when the init is ready is what makes the container visible.
  ContainerRecord& rec = out.record;
  rec.id = o.id;
  rec.bundle = bundle;
  rec.rootfs = rootfs;
  rec.pid = pid;
  BERTH_ASSIGN_OR_RETURN(rec.pid_start_time, sys::ProcessStartTime(pid));
  rec.created = NowRfc3339Nano();
  SummarizeConfig(spec, &rec);
  rec.config_in_bundle = o.config_in_bundle;
  if (!o.config_in_bundle) {
    BERTH_TRY(WriteNewFile(StrCat(dir, "/", kConfigFile), oci::ToJson(spec).dump(), 0600));
  }
  rec.cgroup = cg.Save();
  rec.cgroup_paths = cg.Paths();
  rec.namespaces = ns.types;
  BERTH_ASSIGN_OR_RETURN(std::string pending, WritePendingRecord(g.root, rec));
  log::Trace("record written");

  while (!shared_init) {
    auto msg = out.sync.Recv();
    if (!msg) {
      // The init died without a word: report how, and name the memory limit if the OOM
      // killer took it.
      auto st = out.init.WaitFor(std::chrono::milliseconds(1000));
      std::string how = st && *st ? StrCat(" (exit status ", sys::ExitCodeFromWaitStatus(**st), ")") : "";
      if (cgroup_created) {
        if (auto stats = cg.GetStats(); stats.has_value() && stats->oom_kills > 0) {
          return Fail(ErrorCode::kFailedPrecondition,
                      StrCat("linux.resources.memory.limit: the container's init was killed by "
                             "the OOM killer during setup; the memory limit is too low"));
        }
      }
      return Fail(ErrorCode::kInternal, StrCat("container init exited during setup", how));
    }
    if (msg->type == SyncType::kError) return Unexpected(Error::Decode(msg->payload));
    if (msg->type == SyncType::kFd && !msg->fds.empty()) {
      out.pty_master = std::move(msg->fds[0]);
      continue;
    }
    if (msg->type == SyncType::kRunHooks) {
      std::string state = HookStateJson(o.id, "creating", pid, bundle, spec.annotations);
      BERTH_TRY(RunHooks(spec.hooks->prestart, "prestart", state, bundle));
      BERTH_TRY(RunHooks(spec.hooks->create_runtime, "createRuntime", state, bundle));
      BERTH_TRY(out.sync.Send(SyncType::kHooksDone));
      continue;
    }
    if (msg->type == SyncType::kReady) break;
    return Fail(ErrorCode::kInternal, "unexpected message from the container's init");
  }
  BERTH_TRY(Failpoint("create:before-state-write"));
  log::Trace("init ready");

  BERTH_TRY(CommitPendingRecord(g.root, rec, pending));
  if (!o.pid_file.empty()) {
    BERTH_TRY_CTX(AtomicWriteFile(o.pid_file, StrCat(static_cast<int64_t>(pid)), 0644,
                                  Durability::kAtomicOnly),
                  "--pid-file");
  }
  Defer remove_pid_file([&] {
    if (!o.pid_file.empty()) ::unlink(o.pid_file.c_str());
  });
  if (mode == Mode::kCreate && !shared_init) {
    BERTH_TRY(out.sync.Send(SyncType::kCommitted));
    BERTH_TRY(out.sync.Expect(SyncType::kAck));
  }
  log::Trace("committed");

  remove_pid_file.Cancel();
  destroy_cgroup.Cancel();
  remove_dir.Cancel();
  return out;
}

// Removes a stopped container: leftover processes, cgroup, poststop hooks, state.
Status Destroy(const GlobalOptions& g, const ContainerRecord& rec, cgroup::Manager* cg,
               const oci::Spec* spec) {
  Status result = Ok();
  if (cg) {
    // Usually nothing is left (the init's pid namespace took everyone with it); killing
    // through the freezer is only worth it when something is.
    auto left = cg->Processes();
    if (!left.has_value() || !left->empty()) (void)cg->Signal(SIGKILL);
    auto d = cg->Destroy();
    if (!d) result = d;
  }
  if (spec && spec->hooks && !spec->hooks->poststop.empty()) {
    std::string state = HookStateJson(rec.id, "stopped", 0, rec.bundle, spec->annotations);
    RunHooksBestEffort(spec->hooks->poststop, "poststop", state, rec.bundle);
  }
  auto r = RemoveAll(ContainerDir(g.root, rec.id));
  if (result.has_value() && !r.has_value()) result = r;
  return result;
}

}  // namespace

Status DestroyContainer(const GlobalOptions& g, const ContainerRecord& rec, cgroup::Manager* cg,
                        const oci::Spec* spec) {
  return Destroy(g, rec, cg, spec);
}

Status Create(const GlobalOptions& g, const CreateOptions& o) {
  BERTH_ASSIGN_OR_RETURN(Launched l, Launch(g, o, Mode::kCreate, /*detach=*/true));
  l.init.Release();  // the init outlives us; its new parent (a subreaper or pid 1) reaps it
  return Ok();
}

Status Start(const GlobalOptions& g, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord rec, LoadRecord(g.root, id));
  BERTH_ASSIGN_OR_RETURN(UniqueFd lock, LockContainer(g.root, id));
  BERTH_ASSIGN_OR_RETURN(ContainerStatus st, GetStatus(g.root, rec));
  if (st == ContainerStatus::kStopped) {
    return Fail(ErrorCode::kFailedPrecondition, "cannot start a container that has stopped");
  }
  if (st != ContainerStatus::kCreated) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("cannot start an already ", StatusName(st), " container"));
  }
  // The pidfd first: opening the fifo releases the init, which may exit at once.
  BERTH_ASSIGN_OR_RETURN(UniqueFd pidfd, OpenInitPidfd(rec));
  std::string fifo = StrCat(ContainerDir(g.root, id), "/", kExecFifo);
  BERTH_ASSIGN_OR_RETURN(UniqueFd ff, OpenFile(fifo, O_RDONLY | O_NONBLOCK));
  struct pollfd fds[2] = {{ff.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  while (true) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoFail("wait for the container's init");
    break;
  }
  char byte = 0;
  if (!(fds[0].revents & POLLIN) || ::read(ff.get(), &byte, 1) != 1) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", Quote(id), ": init exited before it could start"));
  }
  ::unlink(fifo.c_str());
  // The init keeps the fifo open until its exec: EOF means the program runs, text is the
  // reason it could not (a failing startContainer hook, a refused capability, ...).
  int fl = ::fcntl(ff.get(), F_GETFL);
  ::fcntl(ff.get(), F_SETFL, fl & ~O_NONBLOCK);
  BERTH_ASSIGN_OR_RETURN(std::string failure, ReadFd(ff.get(), "exec fifo"));
  if (!failure.empty()) {
    return Fail(ErrorCode::kFailedPrecondition, StrCat("start container ", Quote(id), ": ", failure));
  }
  if (!rec.HasHooks("poststart")) return Ok();
  auto spec = LoadSpec(g.root, id);
  if (spec && spec->hooks && !spec->hooks->poststart.empty()) {
    std::string state = HookStateJson(id, "running", rec.pid, rec.bundle, spec->annotations);
    RunHooksBestEffort(spec->hooks->poststart, "poststart", state, rec.bundle);
  }
  return Ok();
}

Result<int> Run(const GlobalOptions& g, const RunOptions& o) {
  // Foreground: forward signals to the container and reap everything it orphans.
  std::optional<ForegroundSignals> signals;
  if (!o.detach) {
    BERTH_ASSIGN_OR_RETURN(ForegroundSignals blocked, ForegroundSignals::Block());
    signals.emplace(std::move(blocked));
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  }
  BERTH_ASSIGN_OR_RETURN(Launched l, Launch(g, o.create, Mode::kRun, o.detach));
  bool relay = l.spec->process->terminal && o.create.console_socket.empty();
  if (relay && !l.pty_master.valid()) {
    return Fail(ErrorCode::kInternal, "no terminal received from the container");
  }
  BERTH_TRY(l.sync.Send(SyncType::kStart));
  // EOF once the program runs; an error if the last steps failed (see InitMain).
  if (auto m = l.sync.Recv(); m.has_value() && m->type == SyncType::kError) {
    Error e = Error::Decode(m->payload);
    (void)l.init.Wait();
    if (!o.keep) (void)Destroy(g, l.record, l.cgroup.get(), l.spec);
    return Unexpected(std::move(e));
  }
  l.sync.Close();
  if (l.spec->hooks && !l.spec->hooks->poststart.empty()) {
    std::string state = HookStateJson(o.create.id, "running", l.record.pid, l.record.bundle,
                                      l.spec->annotations);
    RunHooksBestEffort(l.spec->hooks->poststart, "poststart", state, l.record.bundle);
  }
  if (o.detach) {
    l.init.Release();
    return 0;
  }
  BERTH_ASSIGN_OR_RETURN(int code, WaitForeground(l.init, *signals, l.pty_master.get(), o.kill_on_interrupt));
  log::Trace("exited");
  if (!o.keep) {
    auto st = Destroy(g, l.record, l.cgroup.get(), l.spec);
    if (!st) log::Warn(st.error().message());
    log::Trace("destroyed");
  }
  return code;
}

}  // namespace berth::runtime
