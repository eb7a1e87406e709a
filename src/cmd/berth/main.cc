// berth: entry point. Parses the global flags, registers only the command the arguments
// name, runs it and maps errors to docker's exit codes (cli.h, ExitCodeFor).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>

#include <unistd.h>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "cli.h"

namespace berth::cli {
namespace {

constexpr std::string_view kGroups[] = {"container", "image", "volume", "network", "system",
                                        "registry", "builder"};

std::string GroupHelp(std::string_view group) {
  if (group == "registry") return "serve an OCI registry";
  if (group == "builder") return "manage the build cache";
  return StrCat("manage ", group, "s");
}

bool IsGroup(std::string_view w) {
  for (auto g : kGroups) {
    if (g == w) return true;
  }
  return false;
}

// The command words: ("", "ps") for `berth --root x ps -a`, ("image", "ls") for
// `berth image ls`. Empty words when help is asked for before them or none is given.
std::pair<std::string, std::string> CommandWords(const std::vector<std::string>& args) {
  static const std::set<std::string_view> kWithValue = {
      "--root", "--runroot", "-l", "--log-level", "-H", "--host", "--config", "-c", "--context"};
  std::string first;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") return {first.empty() ? "" : first, ""};
    if (a.empty() || a[0] != '-') {
      if (!first.empty()) return {first, a};
      if (!IsGroup(a)) return {"", a};
      first = a;
      continue;
    }
    if (first.empty() && kWithValue.count(a)) ++i;
  }
  return {first, ""};
}

void AddGroupCommands(std::string_view group, CLI::App* g, Registry& r) {
  if (group == "container") {
    AddRunCommands(g, true, r);
    AddContainerCommands(g, true, r);
    AddContainerInfoCommands(g, true, r);
    AddContainerFileCommands(g, true, r);
    AddInternalCommands(g, r);
  } else if (group == "image") {
    AddImageCommands(g, true, r);
  } else if (group == "volume") {
    AddVolumeCommands(g, r);
  } else if (group == "network") {
    AddNetworkCommands(g, r);
  } else if (group == "system") {
    AddSystemCommands(g, true, r);
  } else if (group == "registry") {
    AddRegistryCommands(g, r);
  } else if (group == "builder") {
    AddBuildCommands(g, true, r);
  }
}

void AddTopCommands(CLI::App& app, Registry& r) {
  AddRunCommands(&app, false, r);
  AddContainerCommands(&app, false, r);
  AddContainerInfoCommands(&app, false, r);
  AddContainerFileCommands(&app, false, r);
  AddImageCommands(&app, false, r);
  AddBuildCommands(&app, false, r);
  AddSystemCommands(&app, false, r);
}

// After a command has run nothing is left to do but free memory, which the kernel does
// faster: `run` forked the container's init from this heap, so every page a destructor
// writes is a copy-on-write fault (~15 us here; ~0.6 ms in all). The database needs no
// close: each connection starts with recovery. Sanitizer builds return normally so that
// LeakSanitizer still checks the heap.
void ExitWithoutDestructors(int code) {
#if !defined(__SANITIZE_ADDRESS__)
  std::fflush(nullptr);
  ::_exit(code);
#else
  (void)code;
#endif
}

int Main(int argc, char** argv) {
  log::SetProgramName("berth");
  Context ctx;
  if (const char* v = std::getenv("BERTH_ROOT"); v && *v) ctx.g.root = v;
  if (const char* v = std::getenv("BERTH_RUNROOT"); v && *v) ctx.g.runroot = v;

  CLI::App app{"berth: containers from images, without a daemon", "berth"};
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  bool version = false;
  app.add_flag("-v,--version", version, "print the version and exit");
  app.add_option("--root", ctx.g.root, "directory of images, containers and volumes")
      ->capture_default_str();
  app.add_option("--runroot", ctx.g.runroot, "directory of runtime state")->capture_default_str();
  app.add_option("-l,--log-level", ctx.g.log_level, "debug, info, warn, error or fatal")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "fatal"}));
  app.add_flag("-D,--debug", ctx.g.debug, "debug logging");

  std::vector<std::string> raw(argv + 1, argv + argc);
  auto [group, only] = CommandWords(raw);
  auto registry = std::make_unique<Registry>(ctx, only);
  if (!group.empty()) {
    CLI::App* g = app.add_subcommand(group, GroupHelp(group));
    g->require_subcommand(1, 1);
    AddGroupCommands(group, g, *registry);
    if (registry->commands().empty() && !only.empty()) {
      std::fprintf(stderr, "berth: '%s' is not a berth %s command.\nSee 'berth %s --help'.\n",
                   only.c_str(), group.c_str(), group.c_str());
      return engine::kExitEngineError;
    }
  } else {
    AddTopCommands(app, *registry);
    if (registry->commands().empty() && !only.empty()) {
      std::fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'.\n",
                   only.c_str());
      return engine::kExitEngineError;
    }
    if (only.empty()) {
      for (auto name : kGroups) {
        app.add_subcommand(std::string(name), GroupHelp(name));
      }
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string cmd = group.empty() ? only : StrCat(group, " ", only);
    std::fprintf(stderr, "berth: %s\nSee 'berth %s%s--help'.\n", e.what(), cmd.c_str(),
                 cmd.empty() ? "" : " ");
    return engine::kExitEngineError;
  }
  log::Trace("cli: parsed");
  if (version) {
    std::printf("berth version %s\n", BERTH_VERSION);
    return 0;
  }
  log::Level level = log::Level::kWarn;
  if (ctx.g.debug || ctx.g.log_level == "debug")
    level = log::Level::kDebug;
  else if (ctx.g.log_level == "info")
    level = log::Level::kInfo;
  else if (ctx.g.log_level == "error" || ctx.g.log_level == "fatal")
    level = log::Level::kError;
  log::Configure(level, log::Format::kText, -1);

  for (auto& c : registry->commands()) {
    if (!c.app->parsed()) continue;
    Result<int> r = c.run();
    int code = 0;
    if (!r) {
      std::fflush(stdout);
      std::fprintf(stderr, "%s%s\n", c.style == ErrorStyle::kRun ? "berth: " : "Error: ",
                   r.error().message().c_str());
      code = ExitCodeFor(r.error(), c.style);
    } else {
      code = *r;
    }
    log::Trace("main: done");
    ExitWithoutDestructors(code);
    return code;
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace berth::cli

int main(int argc, char** argv) {
  berth::log::Trace("main");
  try {
    int code = berth::cli::Main(argc, argv);
    berth::log::Trace("main: done");
    return code;
  } catch (const std::exception& e) {
    // Last resort: libberth does not throw, but a library under it might.
    std::fprintf(stderr, "berth: internal error: %s\n", e.what());
    return berth::engine::kExitEngineError;
  }
}
