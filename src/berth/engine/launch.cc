// `berth start` / `run`: fork the monitor, create the container inside it through the
// runtime library (so the container's init is the monitor's child), exec berth-monitor,
// then start the container from the CLI once the monitor listens.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <functional>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/base/unique_fd.h"
#include "berth/engine/attach.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/monitor/monitor_protocol.h"
#include "berth/engine/monitor_launch.h"
#include "berth/engine/spec_gen.h"
#include "berth/oci/spec.h"
#include "berth/runtime/console.h"
#include "berth/runtime/container_state.h"
#include "berth/sys/process.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

// RUNDIR/init.pid: written by the runtime once the init exists.
constexpr const char* kInitPidFile = "init.pid";

Result<pid_t> ReadInitPid(const std::string& run_dir) {
  std::string path = StrCat(run_dir, "/", kInitPidFile);
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  BERTH_ASSIGN_OR_RETURN(int64_t pid, ParseInt64(Trim(text), path));
  if (pid <= 0) return InvalidArgument(StrCat(path, ": not a pid: ", Quote(text)));
  return static_cast<pid_t>(pid);
}

// Whether `path` (absolute, in the container) is at or below a mount of the spec: what the
// rootfs holds there now is not what the container will see.
bool UnderMount(const std::vector<oci::Mount>& mounts, const std::string& path) {
  for (const auto& m : mounts) {
    const std::string& d = m.destination;
    if (d.empty() || d == "/") continue;
    if (path == d || (path.starts_with(d) && (d.back() == '/' || path[d.size()] == '/'))) return true;
  }
  return false;
}

// The container's program must exist and be executable in its rootfs: docker's 127 and
// 126 come from here, before anything starts. A program under a mount (-v /host/bin:/opt/bin)
// is left to the runtime, which sees the mounts.
Status CheckExecutable(const std::string& rootfs, const oci::Process& p,
                       const std::vector<oci::Mount>& mounts) {
  if (p.args.empty()) return InvalidArgument("no command specified");
  const std::string& prog = p.args[0];
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(rootfs, O_PATH | O_DIRECTORY));
  auto check = [&](const std::string& path) -> Result<bool> {
    if (UnderMount(mounts, path)) return true;
    auto fd = sys::OpenInRoot(root.get(), path, O_PATH);
    if (!fd) return false;
    struct stat st;
    if (::fstat(fd->get(), &st) != 0) return false;
    if (S_ISDIR(st.st_mode) || !(st.st_mode & 0111)) {
      return Fail(ErrorCode::kPermissionDenied, StrCat("exec: \"", prog, "\": permission denied"));
    }
    return true;
  };
  if (prog.find('/') != std::string::npos) {
    std::string path = prog[0] == '/' ? prog : StrCat(p.cwd.empty() ? "/" : p.cwd, "/", prog);
    BERTH_ASSIGN_OR_RETURN(bool found, check(path));
    if (!found) {
      return Fail(ErrorCode::kNotFound,
                  StrCat("exec: \"", prog, "\": executable file not found (stat ", prog,
                         ": no such file or directory)"));
    }
    return Ok();
  }
  std::string path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto& e : p.env) {
    if (e.rfind("PATH=", 0) == 0) path_env = e.substr(5);
  }
  std::optional<Error> denied;
  for (auto& dir : Split(path_env, ':')) {
    if (dir.empty()) continue;
    auto found = check(StrCat(dir, "/", prog));
    if (!found) {
      denied = found.error();
      continue;
    }
    if (*found) return Ok();
  }
  if (denied) return Unexpected(*denied);
  return Fail(ErrorCode::kNotFound,
              StrCat("exec: \"", prog, "\": executable file not found in $PATH"));
}

Result<UniqueFd> ListenUnix(const std::string& path) {
  ::unlink(path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoFail("socket");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return InvalidArgument(StrCat("socket path too long: ", path));
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return ErrnoFail(StrCat("bind ", Quote(path)));
  }
  if (::listen(fd.get(), 1) != 0) return ErrnoFail("listen");
  return fd;
}

Result<UniqueFd> ReceiveFd(int listener) {
  UniqueFd conn(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn.valid()) return ErrnoFail("accept the console socket connection");
  char data[256];
  struct iovec iov = {data, sizeof data};
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  if (::recvmsg(conn.get(), &msg, MSG_CMSG_CLOEXEC) < 0) return ErrnoFail("receive the pty master");
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  if (!cm || cm->cmsg_type != SCM_RIGHTS) return Fail(ErrorCode::kInternal, "no pty master received");
  int fd;
  std::memcpy(&fd, CMSG_DATA(cm), sizeof fd);
  return UniqueFd(fd);
}

}  // namespace

// The child side of LaunchMonitor: never returns.
// `on_fail`: an in-place restart has nobody reading `ready_w`, so its failures are recorded
// through it before the process ends.
[[noreturn]] static void MonitorChild(Engine& e, const ContainerRecord& c, const oci::Spec* spec,
                                      int ready_w,
                                      const std::function<Status(pid_t)>& before_exec,
                                      const std::function<void(const Error&)>& on_fail = nullptr) {
  auto die = [&](const Error& err) {
    std::string msg = err.message();
    if (msg.empty()) msg = "monitor launch failed";
    (void)!::write(ready_w, msg.data(), msg.size());
    if (on_fail) on_fail(err);
    ::_exit(125);
  };
  std::string run = e.RunDir(c.id);
  const RunConfig& rc = c.config;
  UniqueFd stdin_w, out_r, err_r, master, listener;
  runtime::CreateOptions co;
  co.id = c.id;
  co.bundle = e.ContainerDir(c.id);
  co.spec = spec;
  co.config_in_bundle = true;  // the engine never rewrites a container's config.json
  co.caller_outlives_start = true;  // this process becomes the container's monitor
  // The init's pid for the monitor and the launcher, without parsing the runtime's state.
  co.pid_file = run + "/" + kInitPidFile;
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  std::string console_dir;
  if (rc.tty) {
    // sun_path holds 108 bytes: a long run root gets a private directory under /tmp.
    co.console_socket = run + "/console.sock";
    if (co.console_socket.size() >= 100) {
      char tmpl[] = "/tmp/berth-console.XXXXXX";
      if (!::mkdtemp(tmpl)) die(Error::Errno("mkdtemp for the console socket"));
      console_dir = tmpl;
      co.console_socket = console_dir + "/s";
    }
    auto l = ListenUnix(co.console_socket);
    if (!l) die(l.error());
    listener = std::move(*l);
    ::dup2(devnull, 0);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
  } else {
    int in[2] = {-1, -1}, out[2], errp[2];
    if (rc.interactive && ::pipe2(in, O_CLOEXEC) != 0) die(Error::Errno("pipe"));
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(errp, O_CLOEXEC) != 0) die(Error::Errno("pipe"));
    ::dup2(rc.interactive ? in[0] : devnull, 0);
    ::dup2(out[1], 1);
    ::dup2(errp[1], 2);
    if (rc.interactive) {
      ::close(in[0]);
      stdin_w = UniqueFd(in[1]);
    }
    ::close(out[1]);
    ::close(errp[1]);
    out_r = UniqueFd(out[0]);
    err_r = UniqueFd(errp[0]);
  }
  auto created = runtime::Create(e.RuntimeOptions(), co);
  if (!created) {
    if (rc.tty) ::unlink(co.console_socket.c_str());
    if (!console_dir.empty()) ::rmdir(console_dir.c_str());
    die(created.error());
  }
  if (rc.tty) {
    auto m = ReceiveFd(listener.get());
    if (!m) die(m.error());
    master = std::move(*m);
    ::unlink(co.console_socket.c_str());
    if (!console_dir.empty()) ::rmdir(console_dir.c_str());
  }
  // The container has its copies; ours would keep its pipes open past its exit.
  ::dup2(devnull, 0);
  ::dup2(devnull, 1);
  ::dup2(devnull, 2);
  auto init_pid = ReadInitPid(run);
  if (!init_pid) die(init_pid.error());
  MonitorConfig mc;
  mc.monitor_path = MonitorBinaryPath();
  mc.id = c.id;
  mc.run_dir = run;
  mc.init_pid = *init_pid;
  mc.log_path = e.LogPath(c);
  mc.log_max_size = rc.log_max_size;
  mc.log_max_file = rc.log_max_file;
  mc.tty = rc.tty;
  mc.open_stdin = rc.interactive;
  mc.stdin_fd = rc.tty ? -1 : stdin_w.get();
  mc.stdout_fd = rc.tty ? master.get() : out_r.get();
  mc.stderr_fd = rc.tty ? -1 : err_r.get();
  mc.ready_fd = ready_w;
  mc.exit_command = {e.options().berth_binary, "--root", e.options().root, "--runroot",
                     e.options().runroot, "container", "cleanup", c.id};
  if (!c.config.health.disable &&
      (!c.config.health.test.empty() || c.image_config.healthcheck)) {
    int64_t interval = c.config.health.interval_ns;
    if (interval == 0 && c.image_config.healthcheck) interval = c.image_config.healthcheck->interval_ns;
    if (interval == 0) interval = int64_t{30} * 1000000000;
    std::vector<std::string> t = c.config.health.test.empty() ? c.image_config.healthcheck->test
                                                               : c.config.health.test;
    if (!t.empty() && t[0] != "NONE") {
      mc.health_interval_ns = interval;
      mc.health_cmd = {e.options().berth_binary, "--root", e.options().root, "--runroot",
                           e.options().runroot, "container", "healthcheck", c.id};
    }
  }
  if (before_exec) {
    auto st = before_exec(mc.init_pid);
    if (!st) die(st.error());
  } else {
    // Our parent starts the container once the monitor is up; should it die first, the
    // monitor does (a container never waits for a start nobody will make).
    mc.start_fifo = StrCat(runtime::ContainerDir(e.RuntimeOptions().root, c.id), "/", runtime::kExecFifo);
    mc.client_pid = ::getppid();
    mc.started_command = {e.options().berth_binary, "--root", e.options().root, "--runroot",
                          e.options().runroot, "container", "started", c.id,
                          std::to_string(::getpid())};  // ours is the monitor's pid
  }
  ::alarm(0);  // a pending alarm would survive the exec and kill the monitor
  ExecMonitor(mc);
}

Result<pid_t> Engine::LaunchMonitor(const ContainerRecord& c, bool in_place,
                                    const oci::Spec* spec,
                                    const std::function<Status(pid_t)>& meanwhile) {
  std::string run = RunDir(c.id);
  BERTH_TRY(MkdirAll(run, 0700));
  ::unlink((run + "/exit").c_str());
  // The network namespace and its links exist before the container joins them.
  BERTH_TRY(SetUpNetworks(c));
  if (in_place) {
    int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    // Restart in the old monitor's process: start the container here, then become its
    // monitor (its output waits in the pipes meanwhile).
    MonitorChild(*this, c, spec, null_fd, [&](pid_t init) -> Status {
      BERTH_ASSIGN_OR_RETURN(uint64_t mstart, sys::ProcessStartTime(::getpid()));
      BERTH_TRY(containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
        r.state = State::kRunning;
        r.pid = init;
        r.monitor_pid = ::getpid();
        r.monitor_start = mstart;
        r.started_at = NowRfc3339();
        return Ok();
      }));
      return runtime::Start(RuntimeOptions(), c.id);
    }, [&](const Error& why) { EndFailedRestart(c, why); });
  }
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return ErrnoFail("pipe");
  UniqueFd ready_r(ready[0]);
  // The child shares our memory and we sleep until it execs the monitor (or dies), as with
  // vfork: no page tables to copy and no copy-on-write faults in either process, which cost
  // ~2 ms here with fork(). The child only runs libberth code and ends in exec or _exit.
  struct ChildArgs {
    Engine* engine;
    const ContainerRecord* record;
    const oci::Spec* spec;
    int ready_w;
  } args{this, &c, spec, ready[1]};
  constexpr size_t kChildStack = size_t{8} << 20;  // touched lazily
  void* stack = ::mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    ::close(ready[1]);
    return ErrnoFail("map a stack for the monitor's launcher");
  }
  auto child = [](void* p) -> int {
    auto* a = static_cast<ChildArgs*>(p);
    // We sleep in clone() until the exec, so the deadline for a stuck setup (a hook, the
    // init) is the child's own: SIGALRM ends it, and we see the ready pipe close.
    ::alarm(60);
    ::setsid();
    ::signal(SIGPIPE, SIG_DFL);
    MonitorChild(*a->engine, *a->record, a->spec, a->ready_w, nullptr);
  };
  int flags = CLONE_VM | CLONE_VFORK;
#if defined(__SANITIZE_ADDRESS__)
  // LeakSanitizer would count what the child allocated in our heap as our leaks.
  flags = 0;
#endif
  pid_t pid = ::clone(child, static_cast<char*>(stack) + kChildStack, flags | SIGCHLD, &args);
  int clone_err = errno;
  ::munmap(stack, kChildStack);
  ::close(ready[1]);
  if (pid < 0) return SysFail(clone_err, "start the monitor's launcher");
  auto kill_monitor = [&] {
    ::kill(pid, SIGKILL);
    int status;
    ::waitpid(pid, &status, 0);
  };
  // With CLONE_VFORK the child has created the container and exec'd the monitor by now (or
  // died): `meanwhile` overlaps the monitor's own start-up. Without it (a plain fork under
  // ASan) only the ready message says the container exists.
  Status meanwhile_st = Ok();
  bool meanwhile_ran = false;
  if (meanwhile && flags != 0) {
    meanwhile_st = meanwhile(pid);
    meanwhile_ran = true;
  }
  auto ready_st = WaitMonitorReady(ready_r.get(), std::chrono::seconds(60));
  if (!ready_st) {
    kill_monitor();
    return Unexpected(ready_st.error());  // the launcher's reason beats meanwhile's
  }
  if (meanwhile && !meanwhile_ran) meanwhile_st = meanwhile(pid);
  if (!meanwhile_st) {
    kill_monitor();
    return Unexpected(meanwhile_st.error());
  }
  // The monitor is detached (setsid) and re-parented when we exit; we never wait for it.
  return pid;
}

Result<ContainerRecord> Engine::MarkRunning(const std::string& id, pid_t monitor) {
  BERTH_ASSIGN_OR_RETURN(pid_t init_pid, ReadInitPid(RunDir(id)));
  BERTH_ASSIGN_OR_RETURN(uint64_t mstart, sys::ProcessStartTime(monitor));
  return containers_->Update(id, [&](ContainerRecord& r) -> Status {
    r.state = State::kRunning;
    r.pid = init_pid;
    r.monitor_pid = monitor;
    r.monitor_start = mstart;
    r.started_at = NowRfc3339();
    r.stopped_by_user = false;
    r.exit_code = 0;
    r.oom_killed = false;
    r.error.clear();
    if (!r.health.status.empty() || !r.config.health.test.empty() || r.image_config.healthcheck) {
      r.health.status = "starting";
      r.health.failing_streak = 0;
    }
    return Ok();
  });
}

Result<std::optional<int>> Engine::Start(const std::string& name_or_id, bool attach,
                                         bool interactive) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  if (c.state == State::kRunning || c.state == State::kPaused || c.state == State::kRestarting) {
    return std::optional<int>();  // docker: starting a running container is a no-op
  }
  // Leftovers of an interrupted start; a snapshot still mounted (by create) is reused.
  BERTH_TRY(RemoveRuntimeState(c));
  BERTH_TRY(EnsureMounted(c));
  // `run` made the spec a moment ago: parsing config.json again (here and in the runtime)
  // would cost milliseconds on the start path.
  oci::Spec spec;
  if (created_spec_ && created_spec_->first == c.id) {
    spec = std::move(created_spec_->second);
    created_spec_.reset();
  } else {
    BERTH_ASSIGN_OR_RETURN(spec, oci::LoadSpec(ContainerDir(c.id) + "/config.json"));
  }
  {
    std::string rootfs = spec.root.path[0] == '/' ? spec.root.path
                                                 : ContainerDir(c.id) + "/" + spec.root.path;
    oci::Process p = *spec.process;
    // Under --init the program is berth-init (bind-mounted at start); check the workload.
    if (c.config.init) {
      auto dashdash = std::find(p.args.begin(), p.args.end(), "--");
      if (dashdash != p.args.end()) p.args.erase(p.args.begin(), dashdash + 1);
    }
    BERTH_TRY(CheckExecutable(rootfs, p, spec.mounts));
  }
  log::Trace("start: checked");
  // The record says "running" while the monitor starts up (it is the monitor's pid that
  // makes the record true); a failed launch puts back what it said before.
  const ContainerRecord before = c;
  bool recorded = false;
  auto record_running = [&](pid_t monitor) -> Status {
    BERTH_ASSIGN_OR_RETURN(c, MarkRunning(c.id, monitor));
    recorded = true;
    log::Trace("start: record running");
    return Ok();
  };
  auto launched = LaunchMonitor(before, false, &spec, record_running);
  log::Trace("start: monitor ready");
  if (!launched) {
    if (recorded) {
      (void)containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
        r.state = before.state;
        r.pid = before.pid;
        r.monitor_pid = before.monitor_pid;
        r.monitor_start = before.monitor_start;
        r.started_at = before.started_at;
        r.stopped_by_user = before.stopped_by_user;
        r.exit_code = before.exit_code;
        r.oom_killed = before.oom_killed;
        r.error = before.error;
        r.health = before.health;
        return Ok();
      });
    }
    (void)Teardown(before);  // the init the child created, if it got that far
    return Unexpected(launched.error());
  }
  UniqueFd sock;
  if (attach) {
    auto connected = ConnectAttach(RunDir(c.id));
    if (!connected) {
      // Not started, and it must not be: the monitor would start it once we are gone.
      (void)runtime::Kill(RuntimeOptions(), c.id, SIGKILL, true);
      return Unexpected(std::move(connected).error());
    }
    sock = std::move(*connected);
  }
  log::Trace("start: attached");
  auto started = runtime::Start(RuntimeOptions(), c.id);
  if (!started) {
    // The monitor sees the init die and records the failure through its cleanup.
    (void)runtime::Kill(RuntimeOptions(), c.id, SIGKILL, true);
    return Unexpected(started.error());
  }
  log::Trace("start: started");
  // While the container runs: time for the disk work of a checkpoint, which otherwise some
  // later command pays for on its critical path.
  if (!attach) {
    (void)images_->db().CheckpointIfLong();
    return std::optional<int>();
  }
  (void)SendAttachMessage(sock.get(), BERTH_MSG_STARTED);  // the real start time
  // Without a restart policy the attached CLI cleans up itself once the container exits,
  // sparing the monitor an exec of berth; if we die first, the next command does it.
  bool cleanup_here = c.config.restart.name == "no" || c.config.restart.name.empty();
  if (cleanup_here) cleanup_here = SendAttachMessage(sock.get(), BERTH_MSG_CLIENT_CLEANUP).has_value();
  (void)images_->db().CheckpointIfLong();  // as above, while the container runs
  AttachOptions ao;
  ao.attach_stdin = interactive;
  ao.tty = c.config.tty;
  bool detached = false;
  ao.detached = &detached;
  BERTH_ASSIGN_OR_RETURN(std::optional<int> code, RelayAttach(sock.get(), ao));
  log::Trace("start: exit relayed");
  if (cleanup_here && !detached) BERTH_TRY(CleanupAfterExit(c.id));
  log::Trace("start: cleaned up");
  if (!code) {
    // The monitor went away without reporting: the record knows what happened.
    BERTH_ASSIGN_OR_RETURN(ContainerRecord after, Get(c.id));
    return std::optional<int>(after.exit_code);
  }
  return code;
}

Result<RunResult> Engine::Run(const RunConfig& config) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Create(config));
  RunResult out;
  out.id = c.id;
  auto started = Start(c.id, !config.detach, config.interactive);
  if (!started) {
    // docker removes a --rm container whose start failed; others stay "created".
    if (config.auto_remove) {
      if (auto now = containers_->FindById(c.id); now && *now) {
        bool gone = false;
        (void)WaitMonitorGone(**now, std::chrono::seconds(10), &gone);
        (void)Destroy(**now, true);
      }
    }
    return Unexpected(started.error());
  }
  out.exit_code = *started;
  return out;
}

}  // namespace berth::engine
