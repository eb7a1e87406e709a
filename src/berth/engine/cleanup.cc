// What happens after a container's init exits: the monitor execs `berth container cleanup`,
// which lands here in the monitor's own process. It records the exit (and OOM kills), tears
// the runtime container down, then restarts it per its policy (this process becoming the
// new monitor) or removes it (--rm).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/monitor_launch.h"

namespace berth::engine {
namespace {

bool ShouldRestart(const ContainerRecord& c, int exit_code) {
  if (c.stopped_by_user) return false;
  const RestartPolicy& p = c.config.restart;
  if (p.name == "always" || p.name == "unless-stopped") return true;
  if (p.name == "on-failure") {
    return exit_code != 0 && (p.max_retries == 0 || c.restart_count < p.max_retries);
  }
  return false;
}

}  // namespace

Status Engine::CleanupAfterExit(const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(std::optional<ContainerRecord> found, containers_->FindById(id));
  if (!found) return Ok();  // removed meanwhile (rm -f)
  ContainerRecord c = std::move(*found);
  BERTH_ASSIGN_OR_RETURN(std::optional<ExitInfo> exit, ReadExitFile(RunDir(id)));
  bool oom = false;
  if (auto kills = runtime::OomKills(RuntimeOptions(), id); kills.has_value()) oom = *kills > 0;
  log::Trace("cleanup: exit read");
  int code = exit ? exit->exit_code : 137;
  // --rm without a restart policy: the record goes next, so it is not updated first (if we
  // die in between, the next command sees a dead monitor and finishes the job).
  if (c.config.auto_remove && !ShouldRestart(c, code)) {
    // The exit file means the monitor reaped the init (and with it the pid namespace).
    BERTH_TRY(Destroy(c, true, /*exited=*/exit.has_value()));
    log::Trace("cleanup: removed");
    return Ok();
  }
  BERTH_TRY(Teardown(c));
  log::Trace("cleanup: torn down");
  bool restart = false;
  BERTH_ASSIGN_OR_RETURN(c, containers_->Update(id, [&](ContainerRecord& r) -> Status {
                           restart = ShouldRestart(r, code);
                           r.exit_code = code;
                           r.oom_killed = oom;
                           r.pid = 0;
                           r.finished_at = exit && !exit->finished_at.empty() ? exit->finished_at
                                                                              : NowRfc3339();
                           if (!exit) r.error = "no exit status was recorded";
                           if (restart) {
                             r.state = State::kRestarting;
                             ++r.restart_count;
                           } else {
                             r.state = State::kExited;
                             r.monitor_pid = 0;
                             if (!r.health.status.empty()) r.health.status = "unhealthy";
                           }
                           return Ok();
                         }));
  if (restart) {
    // docker's back-off: 100 ms doubling per restart, at most a minute.
    int shift = std::min(c.restart_count - 1, 10);
    auto delay = std::min(std::chrono::milliseconds(100 << std::max(shift, 0)),
                          std::chrono::milliseconds(60000));
    std::this_thread::sleep_for(delay);
    BERTH_ASSIGN_OR_RETURN(std::optional<ContainerRecord> now, containers_->FindById(id));
    if (!now) return Ok();
    if (now->stopped_by_user) {
      BERTH_TRY(containers_->Update(id, [](ContainerRecord& r) -> Status {
        r.state = State::kExited;
        r.monitor_pid = 0;
        return Ok();
      }));
      return Ok();
    }
    Status relaunched = EnsureMounted(*now);
    if (relaunched) {
      auto launched = LaunchMonitor(*now, /*in_place=*/true);  // does not return on success
      if (!launched) relaunched = Unexpected(launched.error());
    }
    if (!relaunched) {
      EndFailedRestart(*now, relaunched.error());
      return relaunched;
    }
    return Ok();
  }
  if (c.config.auto_remove) BERTH_TRY(Destroy(c, true));
  return Ok();
}

void Engine::EndFailedRestart(const ContainerRecord& c, const Error& why) {
  // The record says so, instead of "restarting" for ever; nothing of the attempt stays
  // (runtime state, network namespace, the snapshot's mount).
  if (auto st = Teardown(c); !st) log::Warn(StrCat("container ", c.name, ": ", st.error().message()));
  (void)containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
    r.state = State::kExited;
    r.pid = 0;
    r.monitor_pid = 0;
    r.error = StrCat("restart: ", why.message());
    return Ok();
  });
}

}  // namespace berth::engine
