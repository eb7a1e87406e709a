// berth CLI: hidden commands the per-container monitor runs: `container cleanup ID` after
// the container exited, `container healthcheck ID` for each health check, `container started
// ID` after it started the container for a client that died.
#include <memory>

#include "cli.h"

namespace berth::cli {

void AddInternalCommands(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  enum class Kind { kCleanup, kHealthcheck, kStarted };
  struct Internal {
    Kind kind;
    const char* name;
    const char* help;
  };
  static const Internal kInternal[] = {
      {Kind::kCleanup, "cleanup", "record a container's exit (run by its monitor)"},
      {Kind::kHealthcheck, "healthcheck", "run one health check (run by its monitor)"},
      {Kind::kStarted, "started",
       "record that the monitor started a container whose client died (run by its monitor)"},
  };
  for (const Internal& in : kInternal) {
    CLI::App* sub = r.Add(parent, in.name, in.help);
    if (!sub) continue;
    sub->group("");  // hidden from help
    auto id = std::make_shared<std::string>();
    sub->add_option("id", *id, "container id")->required();
    auto monitor = std::make_shared<int>(0);
    if (in.kind == Kind::kStarted) sub->add_option("monitor", *monitor, "the monitor's pid")->required();
    Kind kind = in.kind;
    r.Push(sub, [id, kind, monitor, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      switch (kind) {
        case Kind::kCleanup:
          BERTH_TRY(eng->CleanupAfterExit(*id));
          break;
        case Kind::kHealthcheck:
          BERTH_TRY(eng->RunHealthcheck(*id));
          break;
        case Kind::kStarted:
          BERTH_TRY(eng->MarkRunning(*id, static_cast<pid_t>(*monitor)));
          break;
      }
      return 0;
    });
  }
}

}  // namespace berth::cli
