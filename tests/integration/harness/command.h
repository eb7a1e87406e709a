// Integration-test harness: running a program (the runtime under test, ip, ...) with a
// timeout and capturing what it printed.
//
// Output goes to files, not pipes: a runtime in non-terminal mode hands its own stdout and
// stderr to the container process, so after `create` or `run -d` the container keeps writing
// to them. With files the command returns as soon as the runtime exits, and tests can read
// the container's later output from the same files (CommandResult::ReadOut).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace berth::itest {

struct CommandOptions {
  // Extra environment (KEY=VALUE) on top of the test process's environment.
  std::vector<std::string> env;
  // Environment variables to remove (names).
  std::vector<std::string> unset_env;
  // Written to a file that becomes stdin; empty: /dev/null (unless stdin_fd is set).
  std::string stdin_data;
  int stdin_fd = -1;
  // Descriptors passed to the child as 3, 4, ... (for --preserve-fds and fd-leak checks).
  std::vector<int> pass_fds;
  std::string cwd;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

struct CommandResult {
  std::vector<std::string> argv;
  int exit_code = -1;  // exit status, or 128 + signal; -1 if it could not start
  bool timed_out = false;
  std::string out;  // stdout and stderr as they were when the command exited
  std::string err;
  std::string out_path;  // the files behind them (still written by detached containers)
  std::string err_path;
  std::chrono::milliseconds elapsed{0};

  bool ok() const { return exit_code == 0 && !timed_out; }
  // Re-reads stdout/stderr (a detached container may have written more).
  std::string ReadOut() const;
  std::string ReadErr() const;
  // "argv... -> exit N\nstdout: ...\nstderr: ..." for assertion messages.
  std::string Describe() const;
};

// Runs argv[0] (a path) with argv. Output files are created in `work_dir`. The child runs
// in its own process group, which is killed with SIGKILL on timeout. Only fds 0-2 and
// `pass_fds` reach the child.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& work_dir,
                         const CommandOptions& opts = {});

}  // namespace berth::itest
