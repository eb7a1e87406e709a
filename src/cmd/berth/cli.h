// berth: the docker-style command line. Each command parses its flags, calls libberth
// (berth/engine/engine.h, berth/image/*) and prints in docker's formats. main.cc maps
// errors to docker's exit codes (see ExitCodeFor) and prints them.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
// engine.h uses image::NewImageOptions without including archive.h.
#include "berth/engine/engine.h"
#include "berth/image/archive.h"

namespace berth::cli {

// Flags before the command (env BERTH_ROOT / BERTH_RUNROOT give the defaults).
struct Globals {
  std::string root = "/var/lib/berth";
  std::string runroot = "/run/berth";
  std::string log_level = "warn";
  bool debug = false;
};

// What every command shares: the globals and the engine, opened on first use.
class Context {
 public:
  Globals g;
  Result<engine::Engine*> Engine();

 private:
  std::unique_ptr<engine::Engine> engine_;
};

// How main() reports a command's error.
enum class ErrorStyle {
  kPlain,      // "Error: <message>", exit 125
  kRun,        // "berth: <message>", exit 125/126/127 (run, create)
  kContainer,  // "Error: <message>", exit 125/126/127 (start -a, exec)
};

struct Command {
  CLI::App* app = nullptr;
  std::function<Result<int>()> run;
  ErrorStyle style = ErrorStyle::kPlain;
};

// Registers only the command the command line names (`only`, "" = all, for help and for
// unknown commands): building CLI11 options for ~60 commands would cost more than a fast
// `berth run` can afford.
class Registry {
 public:
  Registry(Context& ctx, std::string_view only) : ctx_(ctx), only_(only) {}
  // `names`: "ls,list,ps" — the first is the name, the rest aliases. nullptr when the
  // command line does not ask for it.
  CLI::App* Add(CLI::App* parent, std::string_view names, std::string_view description);
  void Push(CLI::App* app, std::function<Result<int>()> run, ErrorStyle style = ErrorStyle::kPlain);
  Context& ctx() { return ctx_; }
  std::vector<Command>& commands() { return commands_; }

 private:
  Context& ctx_;
  std::string only_;
  std::vector<Command> commands_;
};

// Each file registers its commands under `parent`: the root app (`in_group` false: docker's
// top-level shortcuts such as `ps`, `rmi`) or the group app (`container`, `image`, ...).
void AddContainerCommands(CLI::App* parent, bool in_group, Registry& r);      // lifecycle
void AddRunCommands(CLI::App* parent, bool in_group, Registry& r);            // run, create
void AddContainerInfoCommands(CLI::App* parent, bool in_group, Registry& r);  // ps, logs, ...
void AddContainerFileCommands(CLI::App* parent, bool in_group, Registry& r);  // cp, export, ...
void AddImageCommands(CLI::App* parent, bool in_group, Registry& r);
// pull, push (also under `image`), login, logout (top level only): from AddImageCommands.
void AddRegistryClientCommands(CLI::App* parent, bool in_group, Registry& r);
// run/create's --pull POLICY (always, missing, newer, never) for `image`; returns the name
// to create the container from (a short name becomes the name it was found or pulled under).
Result<std::string> PullForRun(Context& ctx, const std::string& image, const std::string& policy);
void AddVolumeCommands(CLI::App* parent, Registry& r);  // group only
void AddNetworkCommands(CLI::App* parent, Registry& r);  // group only
void AddPortCommand(CLI::App* parent, Registry& r);      // `port`, top level and in `container`
void AddRegistryCommands(CLI::App* parent, Registry& r);  // group only: serve
// `build` (top level and `image build`), `builder build|prune` (group).
void AddBuildCommands(CLI::App* parent, bool in_group, Registry& r);
void AddSystemCommands(CLI::App* parent, bool in_group, Registry& r);
void AddInternalCommands(CLI::App* parent, Registry& r);  // hidden, under `container`

// Docker's exit codes for an error of berth itself:
//   126  the container's command could not be invoked: ErrorCode::kPermissionDenied from
//        run/create/start/exec (exec(2) gave EACCES, or the path is a directory)
//   127  the command was not found: ErrorCode::kNotFound whose message contains
//        "executable file not found" (exec(2) gave ENOENT, or no such file in $PATH)
//   125  anything else (bad flag, unknown image, name conflict, ...)
// For styles other than kRun/kContainer, always 125.
int ExitCodeFor(const Error& e, ErrorStyle style);

// ---- helpers shared by the command files
// Adds a repeatable option taking one value per occurrence (`-e A -e B`).
CLI::Option* AddMulti(CLI::App* app, const std::string& name, std::vector<std::string>& out,
                      const std::string& description);
// A flag berth accepts for compatibility and ignores.
CLI::Option* AddIgnoredFlag(CLI::App* app, const std::string& name, const std::string& description);
// Writes `text` to stdout as is.
void Print(std::string_view text);
// Prints docker's "WARNING! ...\nAre you sure you want to continue? [y/N]" and reads the
// answer from stdin.
bool Confirm(std::string_view warning);
// Bytes of the files under `path` (0 if it does not exist); hard links counted once.
int64_t DirSize(const std::string& path);
// Removes images no container uses (only unnamed ones unless `all`), appending docker's
// "Deleted Images:" section to `out`; returns the bytes freed (image_commands.cc).
Result<int64_t> PruneImages(engine::Engine& eng, bool all, std::string& out);
// "key=value" pairs (--label, --filter) into a map; a bare key maps to "".
std::map<std::string, std::string> ParseKeyValues(const std::vector<std::string>& items);

}  // namespace berth::cli
