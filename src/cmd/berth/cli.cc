// berth CLI: the registry of commands, the engine handle and the exit-code mapping.
#include "cli.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cstdio>
#include <set>

#include "berth/base/strings.h"

namespace berth::cli {

Result<engine::Engine*> Context::Engine() {
  if (!engine_) {
    engine::EngineOptions o;
    o.root = g.root;
    o.runroot = g.runroot;
    BERTH_ASSIGN_OR_RETURN(engine_, engine::Engine::Open(o));
  }
  return engine_.get();
}

CLI::App* Registry::Add(CLI::App* parent, std::string_view names, std::string_view description) {
  std::vector<std::string> list = Split(names, ',');
  if (!only_.empty()) {
    bool wanted = false;
    for (const auto& n : list) wanted = wanted || n == only_;
    if (!wanted) return nullptr;
  }
  CLI::App* sub = parent->add_subcommand(list[0], std::string(description));
  for (size_t i = 1; i < list.size(); ++i) sub->alias(list[i]);
  return sub;
}

void Registry::Push(CLI::App* app, std::function<Result<int>()> run, ErrorStyle style) {
  commands_.push_back({app, std::move(run), style});
}

int ExitCodeFor(const Error& e, ErrorStyle style) {
  if (style == ErrorStyle::kPlain) return engine::kExitEngineError;
  const std::string& m = e.message();
  // The runtime's `exec: "PROG": stat PROG: ...` (a program under a mount, which the engine
  // leaves to it) reaches us as the monitor's text, without its error code.
  bool exec_failed = m.find("exec: \"") != std::string::npos;
  if (e.code() == ErrorCode::kPermissionDenied ||
      (exec_failed && m.find("ermission denied") != std::string::npos)) {
    return engine::kExitCannotInvoke;
  }
  if (m.find("executable file not found") != std::string::npos ||
      (exec_failed && m.find("No such file or directory") != std::string::npos)) {
    return engine::kExitNotFound;
  }
  return engine::kExitEngineError;
}

CLI::Option* AddMulti(CLI::App* app, const std::string& name, std::vector<std::string>& out,
                      const std::string& description) {
  // One value per occurrence: `-e A busybox` must not take `busybox` as a second value.
  return app->add_option(name, out, description)->allow_extra_args(false)->take_all();
}

namespace {
// nftw has no user pointer; DirSize is not reentrant and runs on one thread.
int64_t g_dir_size = 0;
std::set<std::pair<dev_t, ino_t>>* g_seen = nullptr;
}  // namespace

int64_t DirSize(const std::string& path) {
  std::set<std::pair<dev_t, ino_t>> seen;
  g_seen = &seen;
  g_dir_size = 0;
  nftw(
      path.c_str(),
      [](const char*, const struct stat* st, int type, struct FTW*) {
        if (type == FTW_F && g_seen->insert({st->st_dev, st->st_ino}).second) {
          g_dir_size += st->st_size;
        }
        return 0;
      },
      32, FTW_PHYS | FTW_MOUNT);
  g_seen = nullptr;
  return g_dir_size;
}

CLI::Option* AddIgnoredFlag(CLI::App* app, const std::string& name,
                            const std::string& description) {
  static bool ignored = false;  // trivially initialized: no work at startup
  return app->add_flag(name, ignored, description);
}

void Print(std::string_view text) { std::fwrite(text.data(), 1, text.size(), stdout); }

std::map<std::string, std::string> ParseKeyValues(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& kv : items) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      out[kv] = "";
    } else {
      out[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  return out;
}

}  // namespace berth::cli
