// berth/engine: launching berth-monitor (see monitor/monitor_protocol.h for its fds,
// messages and files), waiting until it is ready, and reading the exit file it leaves.
//
// Flow: the engine forks a child that setsid()s, creates the container (the init becomes its
// child) and calls ExecMonitor with the container's stdio and the write end of a ready pipe.
// The engine's process keeps the read end (and closes its own copy of the write end!) and
// calls WaitMonitorReady before connecting to the attach socket.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::engine {

struct MonitorConfig {
  std::string monitor_path;  // empty: MonitorBinaryPath()
  std::string id;
  std::string run_dir;  // must exist; the attach socket and exit file go there
  pid_t init_pid = -1;  // must be a child of the calling process
  std::string log_path;  // empty: no log (--log-driver none)
  int64_t log_max_size = 0;  // bytes; 0 = never rotate
  int log_max_file = 1;      // files kept in total, including the current one
  bool tty = false;          // stdout_fd is a pty master
  bool open_stdin = false;   // with tty: clients may write to the pty (-i)
  // Given fds are moved to the protocol's fixed numbers; -1 = none. They may be any
  // numbers, including 0-6 (overlaps are handled).
  int stdin_fd = -1;   // write end of the container's stdin pipe (no tty)
  int stdout_fd = -1;  // read end of its stdout pipe, or the pty master
  int stderr_fd = -1;  // read end of its stderr pipe (no tty)
  int ready_fd = -1;   // write end of the ready pipe
  int64_t health_interval_ns = 0;        // 0 = no health checks
  std::vector<std::string> health_cmd;   // argv (absolute path first), run every interval
  std::vector<std::string> exit_command; // argv (absolute path first); empty = just exit
  // The runtime's exec fifo of a created container and the pid of the berth command that
  // is about to start it: if that command dies first, the monitor starts the container.
  std::string start_fifo;
  pid_t client_pid = -1;
  std::vector<std::string> started_command;  // run by the monitor after such a start
  std::optional<std::vector<std::string>> env;  // nullopt: the caller's environment
};

// The monitor's argv for `config` (argv[0] is the monitor path).
std::vector<std::string> MonitorArgv(const MonitorConfig& config);

// Execs berth-monitor in the calling (forked, single-threaded) process: fds 0-2 become
// /dev/null, the config's fds move to 3-6, every other fd is closed. Never returns: if the
// exec fails, the error text goes to the ready fd and the process exits with 127.
[[noreturn]] void ExecMonitor(const MonitorConfig& config);

// Waits for the ready byte. A message on the pipe (an error from the monitor or the exec)
// becomes the error; EOF without anything means the monitor died before it was ready.
Status WaitMonitorReady(int ready_read_fd, std::chrono::milliseconds timeout);

struct ExitInfo {
  int exit_code = 0;  // status, or 128 + signal
  int signal = 0;
  std::string started_at;   // RFC3339Nano UTC
  std::string finished_at;
};

// RUN_DIR/exit; nullopt while it does not exist (the container has not exited).
Result<std::optional<ExitInfo>> ReadExitFile(const std::string& run_dir);

// Where the helper programs are, first match wins:
//   $BERTH_MONITOR (or $BERTH_INIT) if set,
//   the directory of /proc/self/exe,
//   <that directory>/../libexec/berth/,
//   /usr/libexec/berth/,
//   the build tree berth was built in (development builds).
// If none exists the first candidate that was tried is returned, so the error names it.
std::string MonitorBinaryPath();
std::string InitBinaryPath();

}  // namespace berth::engine
