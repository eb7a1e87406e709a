// berth-runtime: entry point. Parses the global flags, dispatches to a command, maps errors
// to runc's exit code (1) and prints them to stderr and, with --log, to the log file.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <set>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "cli.h"

namespace berth::cli {

runtime::GlobalOptions Globals::Options() const {
  runtime::GlobalOptions o;
  o.root = root;
  o.systemd_cgroup = systemd_cgroup;
  return o;
}

namespace {

// runc (urfave/cli, Go's flag package) accepts "-root x" as well as "--root x"; podman,
// containerd and scripts use both. Rewrite single-dash long flags to CLI11's form.
std::vector<std::string> NormalizeArgs(int argc, char** argv, const std::set<std::string>& longs) {
  std::vector<std::string> out;
  bool after_command_args = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") after_command_args = true;
    if (!after_command_args && a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string name = a.substr(1, a.find('=') == std::string::npos ? std::string::npos
                                                                       : a.find('=') - 1);
      if (longs.count(name)) a = "-" + a;
    }
    out.push_back(std::move(a));
  }
  return out;
}

// The command the arguments name: the first word that is not a global flag or its value.
// "" when there is none or help is asked for (then every command is registered).
std::string CommandName(const std::vector<std::string>& args) {
  static const std::set<std::string> kWithValue = {"--root", "--log", "--log-format",
                                                   "--rootless", "--criu"};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help" || a == "--help-all") return "";
    if (a.empty() || a[0] != '-') return a == "ls" ? "list" : a;
    if (kWithValue.count(a)) ++i;
  }
  return "";
}

void CollectLongNames(const CLI::App* app, std::set<std::string>& out) {
  for (const CLI::Option* o : app->get_options()) {
    for (const auto& n : o->get_lnames()) out.insert(n);
  }
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    CollectLongNames(sub, out);
  }
}

int Main(int argc, char** argv) {
  log::SetProgramName("berth-runtime");
  CLI::App app{"berth-runtime: an OCI runtime (runc-compatible command line)", "berth-runtime"};
  app.require_subcommand(0, 1);
  app.fallthrough(false);
  Globals g;
  bool version = false;
  app.add_flag("-v,--version", version, "print the version");
  app.add_option("--root", g.root, "directory for the state of containers")->capture_default_str();
  app.add_option("--log", g.log_file, "log file (default: stderr)");
  app.add_option("--log-format", g.log_format, "log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", g.debug, "debug logging");
  app.add_flag("--systemd-cgroup", g.systemd_cgroup, "use the systemd cgroup driver");
  app.add_option("--rootless", g.rootless, "rootless mode: true, false or auto");
  app.add_option("--criu", g.criu, "path to criu (checkpoint/restore is not supported)");

  // Long names for "-flag" normalization: every command's, so look ahead at the raw args
  // for the command name first (single-dash globals are rare and need no lookup).
  std::vector<std::string> raw(argv + 1, argv + argc);
  for (auto& a : raw) {
    if (a.size() > 2 && a[0] == '-' && a[1] != '-') {
      std::string n = a.substr(1, a.find('=') - 1);
      if (n == "root" || n == "log" || n == "log-format" || n == "rootless" || n == "criu" ||
          n == "debug" || n == "systemd-cgroup") {
        a = "-" + a;
      }
    }
  }
  std::string only = CommandName(raw);
  std::vector<Command> commands;
  AddLifecycleCommands(app, g, commands, only);
  AddExecCommands(app, g, commands, only);
  AddInfoCommands(app, g, commands, only);
  if (commands.empty() && !only.empty()) {
    // Not a command we know: register them all so CLI11 reports it properly.
    only.clear();
    AddLifecycleCommands(app, g, commands, only);
    AddExecCommands(app, g, commands, only);
    AddInfoCommands(app, g, commands, only);
  }

  std::set<std::string> longs;
  CollectLongNames(&app, longs);
  std::vector<std::string> args = NormalizeArgs(argc, argv, longs);
  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "berth-runtime: %s\n", e.what());
    return 1;
  }
  if (version) {
    std::printf("berth-runtime version %s\nspec: %s\n", BERTH_VERSION,
                std::string(oci::kSpecVersion).c_str());
    return 0;
  }
  int log_fd = -1;
  if (!g.log_file.empty()) {
    log_fd = ::open(g.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      std::fprintf(stderr, "berth-runtime: open log file `%s`: %m\n", g.log_file.c_str());
      return 1;
    }
  }
  log::Configure(g.debug ? log::Level::kDebug : log::Level::kWarn,
                 g.log_format == "json" ? log::Format::kJson : log::Format::kText, log_fd);
  for (auto& c : commands) {
    if (!c.app->parsed()) continue;
    Result<int> r = c.run();
    if (!r) {
      log::Error(r.error().message());
      return 1;
    }
    return *r;
  }
  std::fputs(app.help().c_str(), stderr);
  return 1;
}

}  // namespace
}  // namespace berth::cli

int main(int argc, char** argv) {
  berth::log::Trace("main");
  try {
    return berth::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    // Last resort: libberth does not throw, but a library under it might.
    std::fprintf(stderr, "berth-runtime: internal error: %s\n", e.what());
    return 1;
  }
}
