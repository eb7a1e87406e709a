#include "berth/sys/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/syscalls.h"

namespace berth::sys {

namespace {

// /proc/PID/stat: "pid (comm) state ppid ..."; comm may contain spaces and parens, so
// fields are counted from the last ')'.
Result<std::vector<std::string>> StatFieldsAfterComm(pid_t pid) {
  BERTH_ASSIGN_OR_RETURN(std::string stat,
                         ReadFile(StrCat("/proc/", static_cast<int64_t>(pid), "/stat")));
  size_t p = stat.rfind(')');
  if (p == std::string::npos || p + 2 > stat.size())
    return Fail(ErrorCode::kInternal, StrCat("malformed /proc/", static_cast<int64_t>(pid), "/stat"));
  return SplitNonEmpty(std::string_view(stat).substr(p + 2), ' ');
}

}  // namespace

Result<uint64_t> ProcessStartTime(pid_t pid) {
  BERTH_ASSIGN_OR_RETURN(auto f, StatFieldsAfterComm(pid));
  // Fields after comm start at field 3 (state); start time is field 22.
  if (f.size() < 20) return Fail(ErrorCode::kInternal, "short /proc/PID/stat");
  return ParseUint64(f[19], "/proc/PID/stat starttime");
}

Result<char> ProcessStateChar(pid_t pid) {
  BERTH_ASSIGN_OR_RETURN(auto f, StatFieldsAfterComm(pid));
  if (f.empty() || f[0].empty()) return Fail(ErrorCode::kInternal, "short /proc/PID/stat");
  return f[0][0];
}

int ExitCodeFromWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    KillAndReap();
    pid_ = std::exchange(o.pid_, -1);
    pidfd_ = std::move(o.pidfd_);
  }
  return *this;
}

ChildProcess::~ChildProcess() { KillAndReap(); }

void ChildProcess::KillAndReap() {
  if (pid_ <= 0) return;
  if (pidfd_.valid()) {
    (void)PidfdSendSignal(pidfd_.get(), SIGKILL);
  } else {
    ::kill(pid_, SIGKILL);
  }
  int st;
  while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  pidfd_.Reset();
}

pid_t ChildProcess::Release() {
  pidfd_.Reset();
  return std::exchange(pid_, -1);
}

Result<int> ChildProcess::Wait() {
  if (pid_ <= 0) return Fail(ErrorCode::kInternal, "wait: no child");
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0) {
    if (errno != EINTR) return ErrnoFail(StrCat("waitpid ", static_cast<int64_t>(pid_)));
  }
  pid_ = -1;
  pidfd_.Reset();
  return st;
}

Result<std::optional<int>> ChildProcess::WaitFor(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return Fail(ErrorCode::kInternal, "wait: no child");
  BERTH_ASSIGN_OR_RETURN(bool exited, WaitPidfdExit(pidfd_.get(), timeout));
  if (!exited) return std::optional<int>();
  BERTH_ASSIGN_OR_RETURN(int st, Wait());
  return std::optional<int>(st);
}

Status ChildProcess::Signal(int sig) {
  if (pid_ <= 0) return Fail(ErrorCode::kInternal, "signal: no child");
  return PidfdSendSignal(pidfd_.get(), sig);
}

Result<bool> WaitPidfdExit(int pidfd, std::chrono::milliseconds timeout) {
  struct pollfd p = {pidfd, POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    int ms = timeout.count() < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, left.count()));
    int n = ::poll(&p, 1, ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail("poll pidfd");
    }
    return n > 0;
  }
}

Result<ChildProcess> Spawn(const SpawnOptions& opts) {
  int in_pipe[2] = {-1, -1};
  if (opts.stdin_data && ::pipe2(in_pipe, O_CLOEXEC) != 0) return ErrnoFail("pipe2");
  UniqueFd in_r(in_pipe[0]), in_w(in_pipe[1]);

  std::vector<char*> argv, envp;
  for (auto& a : opts.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : opts.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  char** child_env = opts.inherit_env ? environ : envp.data();

  int pidfd = -1;
  struct clone_args args = {};
  args.flags = CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  pid_t pid = Clone3(&args);
  if (pid < 0) return ErrnoFail(StrCat("spawn ", Quote(opts.path)));
  if (pid == 0) {
    // Child: async-signal-safe calls only until exec.
    if (in_r.valid()) ::dup2(in_r.get(), 0);
    if (opts.stdout_fd >= 0) ::dup2(opts.stdout_fd, 1);
    if (opts.stderr_fd >= 0) ::dup2(opts.stderr_fd, 2);
    ::close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!opts.cwd.empty()) (void)!::chdir(opts.cwd.c_str());
    ::execve(opts.path.c_str(), argv.data(), child_env);
    ::_exit(127);
  }
  ChildProcess child(pid, UniqueFd(pidfd));
  in_r.Reset();
  if (opts.stdin_data) {
    // A hook that does not read stdin closes it; EPIPE is not an error then.
    struct sigaction ign = {}, old = {};
    ign.sa_handler = SIG_IGN;
    ::sigaction(SIGPIPE, &ign, &old);
    (void)WriteAll(in_w.get(), *opts.stdin_data, "stdin");
    ::sigaction(SIGPIPE, &old, nullptr);
    in_w.Reset();
  }
  return child;
}

}  // namespace berth::sys
