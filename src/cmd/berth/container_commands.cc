// berth CLI: container lifecycle: start, stop, restart, kill, rm, wait, rename, pause,
// unpause. Commands taking several containers go on after a failure, print each error and
// exit 125 at the end, as docker does; on success they print the argument given.
#include <cstdio>
#include <memory>

#include "berth/base/strings.h"
#include "berth/sys/signals.h"
#include "cli.h"

namespace berth::cli {
namespace {

// Runs `fn` for each name; prints the name on success, the error on failure.
Result<int> ForEach(const std::vector<std::string>& names,
                    const std::function<Status(const std::string&)>& fn, bool echo = true) {
  int rc = 0;
  for (const auto& n : names) {
    Status s = fn(n);
    if (!s) {
      std::fflush(stdout);
      std::fprintf(stderr, "Error: %s\n", s.error().message().c_str());
      rc = engine::kExitEngineError;
    } else if (echo) {
      Print(n + "\n");
    }
  }
  return rc;
}

struct Names {
  std::vector<std::string> names;
};

CLI::App* AddNamesCommand(Registry& r, CLI::App* parent, std::string_view names,
                          std::string_view description, std::shared_ptr<Names>& out) {
  CLI::App* sub = r.Add(parent, names, description);
  if (!sub) return nullptr;
  out = std::make_shared<Names>();
  sub->add_option("containers", out->names, "container names or ids")->required();
  return sub;
}

}  // namespace

void AddContainerCommands(CLI::App* parent, bool in_group, Registry& r) {
  Context& ctx = r.ctx();
  std::shared_ptr<Names> n;

  if (CLI::App* sub = AddNamesCommand(r, parent, "start", "start stopped containers", n)) {
    auto attach = std::make_shared<std::pair<bool, bool>>(false, false);
    sub->add_flag("-a,--attach", attach->first, "attach stdout/stderr and forward signals");
    sub->add_flag("-i,--interactive", attach->second, "attach the container's stdin");
    r.Push(
        sub,
        [n, attach, &ctx]() -> Result<int> {
          BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
          bool a = attach->first || attach->second;
          if (a) {
            if (n->names.size() != 1) {
              return InvalidArgument("you cannot start and attach multiple containers at once");
            }
            BERTH_ASSIGN_OR_RETURN(std::optional<int> code,
                                   eng->Start(n->names[0], true, attach->second));
            return code.value_or(0);
          }
          return ForEach(n->names, [eng](const std::string& c) -> Status {
            BERTH_TRY(eng->Start(c, false, false));
            return Ok();
          });
        },
        ErrorStyle::kContainer);
  }

  for (bool restart : {false, true}) {
    CLI::App* sub = AddNamesCommand(r, parent, restart ? "restart" : "stop",
                                    restart ? "restart containers" : "stop running containers", n);
    if (!sub) continue;
    auto timeout = std::make_shared<std::optional<int>>();
    sub->add_option("-t,--time,--timeout", *timeout, "seconds to wait before killing");
    r.Push(sub, [n, timeout, restart, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      return ForEach(n->names, [&](const std::string& c) -> Status {
        return restart ? eng->Restart(c, *timeout) : eng->Stop(c, *timeout);
      });
    });
  }

  if (CLI::App* sub =
          AddNamesCommand(r, parent, "kill", "send a signal to running containers", n)) {
    auto sig = std::make_shared<std::string>("KILL");
    sub->add_option("-s,--signal", *sig, "signal to send")->capture_default_str();
    r.Push(sub, [n, sig, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(int signo, sys::ParseSignal(*sig));
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      return ForEach(n->names, [&](const std::string& c) { return eng->Kill(c, signo); });
    });
  }

  if (CLI::App* sub =
          AddNamesCommand(r, parent, in_group ? "rm,remove" : "rm", "remove containers", n)) {
    auto fl = std::make_shared<std::pair<bool, bool>>(false, false);
    sub->add_flag("-f,--force", fl->first, "kill and remove a running container");
    sub->add_flag("-v,--volumes", fl->second, "remove the container's anonymous volumes");
    r.Push(sub, [n, fl, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      return ForEach(n->names,
                     [&](const std::string& c) { return eng->Remove(c, fl->first, fl->second); });
    });
  }

  for (bool pause : {true, false}) {
    CLI::App* sub = AddNamesCommand(
        r, parent, pause ? "pause" : "unpause",
        pause ? "pause every process of containers" : "resume paused containers", n);
    if (!sub) continue;
    r.Push(sub, [n, pause, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      return ForEach(n->names,
                     [&](const std::string& c) { return pause ? eng->Pause(c) : eng->Unpause(c); });
    });
  }

  if (CLI::App* sub = AddNamesCommand(r, parent, "wait",
                                      "block until containers stop, print their exit codes", n)) {
    r.Push(sub, [n, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      return ForEach(
          n->names,
          [&](const std::string& c) -> Status {
            BERTH_ASSIGN_OR_RETURN(int code, eng->Wait(c));
            Print(StrCat(code, "\n"));
            std::fflush(stdout);
            return Ok();
          },
          false);
    });
  }

  if (CLI::App* sub = r.Add(parent, "rename", "rename a container")) {
    auto names = std::make_shared<std::pair<std::string, std::string>>();
    sub->add_option("container", names->first, "container name or id")->required();
    sub->add_option("new_name", names->second, "new name")->required();
    r.Push(sub, [names, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_TRY(eng->Rename(names->first, names->second));
      return 0;
    });
  }
}

}  // namespace berth::cli
