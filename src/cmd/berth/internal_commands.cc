// berth CLI: hidden commands the per-container monitor runs: `container cleanup ID` after
// the container exited, `container healthcheck ID` for each health check.
#include <memory>

#include "cli.h"

namespace berth::cli {

void AddInternalCommands(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  for (bool cleanup : {true, false}) {
    CLI::App* sub = r.Add(parent, cleanup ? "cleanup" : "healthcheck",
                          cleanup ? "record a container's exit (run by its monitor)"
                                  : "run one health check (run by its monitor)");
    if (!sub) continue;
    sub->group("");  // hidden from help
    auto id = std::make_shared<std::string>();
    sub->add_option("id", *id, "container id")->required();
    r.Push(sub, [id, cleanup, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      if (cleanup) {
        BERTH_TRY(eng->CleanupAfterExit(*id));
      } else {
        BERTH_TRY(eng->RunHealthcheck(*id));
      }
      return 0;
    });
  }
}

}  // namespace berth::cli
