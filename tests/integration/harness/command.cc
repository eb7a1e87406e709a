#include "harness/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>

#include "berth/base/file.h"
#include "berth/base/strings.h"

extern char** environ;

namespace berth::itest {

namespace {

std::string ReadOrEmpty(const std::string& path) {
  auto r = ReadFile(path);
  return r ? *r : std::string();
}

std::string Truncated(const std::string& s) {
  constexpr size_t kMax = 4000;
  if (s.size() <= kMax) return s;
  return s.substr(0, kMax / 2) + "\n...[truncated]...\n" + s.substr(s.size() - kMax / 2);
}

std::vector<std::string> BuildEnv(const CommandOptions& opts) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; e++) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& name : opts.unset_env) env.erase(name);
  for (const auto& kv : opts.env) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace

std::string CommandResult::ReadOut() const { return ReadOrEmpty(out_path); }
std::string CommandResult::ReadErr() const { return ReadOrEmpty(err_path); }

std::string CommandResult::Describe() const {
  std::string s = Join(argv, " ");
  s += timed_out ? " -> TIMED OUT" : StrCat(" -> exit ", exit_code);
  s += "\nstdout: " + Truncated(out) + "\nstderr: " + Truncated(err);
  return s;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& work_dir,
                         const CommandOptions& opts) {
  static std::atomic<int> counter{0};
  CommandResult res;
  res.argv = argv;
  int n = counter++;
  // The pid keeps names apart when several test processes share `work_dir`.
  std::string base = StrCat(work_dir, "/cmd-", ::getpid(), "-", n);
  res.out_path = base + ".out";
  res.err_path = base + ".err";

  // O_CLOEXEC everywhere: the child gets only what it dup2()s.
  int out_fd = ::open(res.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err_fd = ::open(res.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int in_fd = opts.stdin_fd;
  bool close_in = false;
  if (in_fd < 0) {
    std::string in_path = "/dev/null";
    if (!opts.stdin_data.empty()) {
      in_path = base + ".in";
      (void)WriteFile(in_path, opts.stdin_data);
    }
    in_fd = ::open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
    close_in = true;
  }
  if (out_fd < 0 || err_fd < 0 || in_fd < 0) {
    res.err = StrCat("harness: cannot open output files in ", work_dir, ": ", strerror(errno));
    for (int fd : {out_fd, err_fd}) {
      if (fd >= 0) ::close(fd);
    }
    if (close_in && in_fd >= 0) ::close(in_fd);
    return res;
  }

  std::vector<std::string> env = BuildEnv(opts);
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: only async-signal-safe calls until execve.
    ::setpgid(0, 0);
    // Move passed fds out of the way first, so dup2 onto 3.. cannot clobber one of them.
    int tmp[64];
    size_t npass = opts.pass_fds.size() < 64 ? opts.pass_fds.size() : 64;
    for (size_t i = 0; i < npass; i++) tmp[i] = ::fcntl(opts.pass_fds[i], F_DUPFD, 100);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    for (size_t i = 0; i < npass; i++) ::dup2(tmp[i], 3 + static_cast<int>(i));
    // close_range(2): everything the test process holds beyond what we pass.
    ::syscall(SYS_close_range, 3 + npass, ~0U, 0);
    if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) ::_exit(126);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  if (close_in) ::close(in_fd);
  if (pid < 0) {
    res.err = StrCat("harness: fork: ", strerror(errno));
    return res;
  }

  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  auto deadline = start + opts.timeout;
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(-pid, SIGKILL);  // its process group, which we created
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    } else {
      ::usleep(10000);
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  res.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  if (!res.timed_out) {
    if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) res.exit_code = 128 + WTERMSIG(status);
  }
  res.out = res.ReadOut();
  res.err = res.ReadErr();
  return res;
}

}  // namespace berth::itest
