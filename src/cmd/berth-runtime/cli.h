// berth-runtime: the runc-compatible command line. Each command parses its flags, calls
// libberth (berth/runtime/runtime.h) and prints in runc's formats; exit codes are runc's (1
// for an error, the container's own code for `run` and `exec` in the foreground).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/runtime/runtime.h"

namespace berth::cli {

// Flags that come before the command.
struct Globals {
  std::string root = std::string(runtime::kDefaultStateRoot);
  std::string log_file;
  std::string log_format = "text";
  bool debug = false;
  bool systemd_cgroup = false;
  std::string rootless = "auto";
  std::string criu;

  runtime::GlobalOptions Options() const;
};

// A registered command: its CLI11 subcommand and what runs it. `Run` returns the exit code,
// or an error that main() prints (exit 1).
struct Command {
  CLI::App* app = nullptr;
  std::function<Result<int>()> run;
};

// Each file registers its commands on `app`; the closures own their flag storage. `only`
// names the one command the command line asks for ("" registers all, e.g. for --help):
// building CLI11's option objects for every command costs more than the rest of `state`.
void AddLifecycleCommands(CLI::App& app, const Globals& g, std::vector<Command>& out,
                          std::string_view only);
void AddInfoCommands(CLI::App& app, const Globals& g, std::vector<Command>& out,
                     std::string_view only);
void AddExecCommands(CLI::App& app, const Globals& g, std::vector<Command>& out,
                     std::string_view only);
inline bool Wanted(std::string_view only, std::string_view name) {
  return only.empty() || only == name;
}

// Helpers shared by the command files.
Result<uint64_t> ParseBytes(const std::string& s, std::string_view flag);
Result<std::chrono::milliseconds> ParseDuration(const std::string& s, std::string_view flag);

}  // namespace berth::cli
