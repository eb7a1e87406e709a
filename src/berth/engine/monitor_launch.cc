#include "berth/engine/monitor_launch.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/engine/monitor/monitor_protocol.h"

extern char** environ;

namespace berth::engine {

namespace {

// Reports a failure through the ready pipe and exits (after fork of a single-threaded
// process, so allocating is fine).
[[noreturn]] void Die(int ready_fd, const char* what, int err) {
  if (ready_fd >= 0) {
    std::string msg = StrCat("start monitor: ", what, ": ", strerror(err));
    ssize_t ignored = write(ready_fd, msg.data(), msg.size());
    (void)ignored;
  }
  _exit(127);
}

std::string HelperPath(const char* env_var, const char* name) {
  if (const char* v = getenv(env_var); v && *v) return v;
  std::vector<std::string> candidates;
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto dir = exe.parent_path();
    candidates.push_back((dir / name).string());
    candidates.push_back((dir.parent_path() / "libexec" / "berth" / name).string());
  }
  candidates.push_back(StrCat("/usr/libexec/berth/", name));
#ifdef BERTH_BUILD_DIR
  candidates.push_back(StrCat(BERTH_BUILD_DIR, "/", name));
#endif
  for (const auto& c : candidates)
    if (access(c.c_str(), X_OK) == 0) return c;
  return candidates.front();
}

}  // namespace

std::string MonitorBinaryPath() { return HelperPath("BERTH_MONITOR", "berth-monitor"); }
std::string InitBinaryPath() { return HelperPath("BERTH_INIT", "berth-init"); }

std::vector<std::string> MonitorArgv(const MonitorConfig& c) {
  std::vector<std::string> argv = {c.monitor_path.empty() ? MonitorBinaryPath() : c.monitor_path,
                                   "--id", c.id, "--dir", c.run_dir, "--pid",
                                   std::to_string(c.init_pid)};
  if (!c.log_path.empty()) {
    argv.insert(argv.end(), {"--log", c.log_path});
    if (c.log_max_size > 0) {
      argv.insert(argv.end(), {"--log-max-size", std::to_string(c.log_max_size),
                               "--log-max-file", std::to_string(c.log_max_file)});
    }
  }
  if (c.tty) argv.push_back("--tty");
  if (c.open_stdin) argv.push_back("--stdin");
  if (c.health_interval_ns > 0 && !c.health_cmd.empty()) {
    argv.insert(argv.end(), {"--health-interval", std::to_string(c.health_interval_ns)});
    for (const auto& a : c.health_cmd) argv.insert(argv.end(), {"--health-arg", a});
  }
  if (!c.start_fifo.empty() && c.client_pid > 0) {
    argv.insert(argv.end(), {"--start-fifo", c.start_fifo, "--client-pid",
                             std::to_string(c.client_pid)});
    for (const auto& a : c.started_command) argv.insert(argv.end(), {"--started-arg", a});
  }
  argv.push_back("--");
  argv.insert(argv.end(), c.exit_command.begin(), c.exit_command.end());
  return argv;
}

void ExecMonitor(const MonitorConfig& config) {
  // Everything that allocates happens before the fds move.
  std::vector<std::string> args = MonitorArgv(config);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  std::vector<char*> envp;
  char** env = environ;
  if (config.env) {
    env_storage = *config.env;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    env = envp.data();
  }

  // Copy every source above the targets first, so that moving one onto its fixed number
  // cannot clobber another that happens to sit there.
  constexpr int kHigh = BERTH_MONITOR_FIRST_FREE_FD + 3;
  const int sources[4] = {config.stdin_fd, config.stdout_fd, config.stderr_fd, config.ready_fd};
  int copies[4];
  int ready = config.ready_fd;
  for (int i = 0; i < 4; i++) {
    copies[i] = sources[i] < 0 ? -1 : fcntl(sources[i], F_DUPFD_CLOEXEC, kHigh);
    if (sources[i] >= 0 && copies[i] < 0) Die(ready, "duplicate fd", errno);
  }
  ready = copies[3];
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) Die(ready, "open `/dev/null`", errno);
  int high_null = fcntl(null_fd, F_DUPFD_CLOEXEC, kHigh);
  if (high_null < 0) Die(ready, "duplicate fd", errno);
  close(null_fd);
  for (int fd = 0; fd < 3; fd++)
    if (dup2(high_null, fd) < 0) Die(ready, "dup2 /dev/null", errno);
  for (int i = 0; i < 4; i++) {
    int target = BERTH_MONITOR_FD_STDIN + i;
    if (copies[i] < 0) {
      close(target);
    } else if (dup2(copies[i], target) < 0) {  // dup2 clears FD_CLOEXEC on the target
      Die(ready, "dup2", errno);
    }
  }
  if (copies[3] >= 0) ready = BERTH_MONITOR_FD_READY;
  // SAFETY: raw syscall so this works whatever glibc provides; closes the copies too.
  if (syscall(SYS_close_range, BERTH_MONITOR_FIRST_FREE_FD, ~0U, 0) < 0) {
    for (int fd = BERTH_MONITOR_FIRST_FREE_FD; fd < 65536; fd++) close(fd);
  }
  execve(argv[0], argv.data(), env);
  Die(ready, StrCat("exec `", argv[0], "`").c_str(), errno);
}

Status WaitMonitorReady(int ready_read_fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string got;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Fail(ErrorCode::kTimeout, "wait for monitor: no ready byte in time");
    }
    pollfd p = {ready_read_fd, POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ErrnoFail("wait for monitor: poll");
    if (r == 0) continue;
    char buf[1024];
    ssize_t n = read(ready_read_fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoFail("wait for monitor: read ready pipe");
    if (n == 0) break;
    got.append(buf, static_cast<size_t>(n));
    if (got[0] == '\0') return Ok();
    if (got.size() > 4096) break;
  }
  if (got.empty()) {
    return Fail(ErrorCode::kInternal, "wait for monitor: it exited before it was ready");
  }
  return Fail(ErrorCode::kInternal, got);
}

Result<std::optional<ExitInfo>> ReadExitFile(const std::string& run_dir) {
  std::string path = StrCat(run_dir, "/", BERTH_MONITOR_EXIT_FILE);
  auto text = ReadFile(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) return std::optional<ExitInfo>();
    return Unexpected(std::move(text).error());
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(*text, path));
  ExitInfo info;
  try {
    info.exit_code = j.at("exit_code").get<int>();
    info.signal = j.value("signal", 0);
    info.started_at = j.value("started_at", "");
    info.finished_at = j.value("finished_at", "");
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat(Quote(path), ": ", e.what()));
  }
  return std::optional<ExitInfo>(std::move(info));
}

}  // namespace berth::engine
