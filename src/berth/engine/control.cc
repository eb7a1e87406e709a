// Changing a container's state from outside: stop, kill, rm, pause, rename, wait.
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/engine/attach.h"
#include "berth/engine/engine.h"
#include "berth/sys/process.h"
#include "berth/sys/signals.h"

namespace berth::engine {
namespace {

bool IsActive(const ContainerRecord& c) {
  return c.state == State::kRunning || c.state == State::kPaused || c.state == State::kRestarting;
}

Result<int> StopSignal(const ContainerRecord& c) {
  std::string s = !c.config.stop_signal.empty()      ? c.config.stop_signal
                  : !c.image_config.stop_signal.empty() ? c.image_config.stop_signal
                                                        : "SIGTERM";
  return sys::ParseSignal(s);
}

}  // namespace

Status Engine::WaitMonitorGone(const ContainerRecord& c, std::chrono::milliseconds timeout,
                               bool* gone) {
  *gone = true;
  if (!MonitorAlive(c)) return Ok();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, c.monitor_pid, 0)));
  if (!pidfd.valid()) return Ok();  // already gone
  if (!MonitorAlive(c)) return Ok();  // the pid was reused between the checks
  BERTH_ASSIGN_OR_RETURN(*gone, sys::WaitPidfdExit(pidfd.get(), timeout));
  return Ok();
}

Status Engine::Stop(const std::string& name_or_id, std::optional<int> timeout_s) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  if (!IsActive(c)) return Ok();
  BERTH_ASSIGN_OR_RETURN(c, containers_->Update(c.id, [](ContainerRecord& r) -> Status {
                           r.stopped_by_user = true;
                           return Ok();
                         }));
  int timeout = timeout_s.value_or(c.config.stop_timeout.value_or(10));
  BERTH_ASSIGN_OR_RETURN(int sig, StopSignal(c));
  auto rt = RuntimeOptions();
  if (c.state != State::kRestarting) {
    (void)runtime::Kill(rt, c.id, sig, false);
    if (c.state == State::kPaused) (void)runtime::Resume(rt, c.id);
  }
  bool gone = false;
  BERTH_TRY(WaitMonitorGone(c, std::chrono::seconds(std::max(timeout, 0)), &gone));
  if (!gone) {
    (void)runtime::Kill(rt, c.id, SIGKILL, true);
    BERTH_TRY(WaitMonitorGone(c, std::chrono::seconds(30), &gone));
    if (!gone) {
      return Fail(ErrorCode::kTimeout,
                  StrCat("container ", c.name, ": still running 30 s after SIGKILL"));
    }
  }
  (void)Get(c.id);  // reconcile
  return Ok();
}

Status Engine::Restart(const std::string& name_or_id, std::optional<int> timeout_s) {
  BERTH_TRY(Stop(name_or_id, timeout_s));
  BERTH_TRY(Start(name_or_id, false, false));
  return Ok();
}

Status Engine::Kill(const std::string& name_or_id, int signal) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  if (!IsActive(c) || c.state == State::kRestarting) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("cannot kill container ", c.name, ": container is not running"));
  }
  if (signal == SIGKILL || signal == SIGTERM) {
    BERTH_TRY(containers_->Update(c.id, [](ContainerRecord& r) -> Status {
      r.stopped_by_user = true;
      return Ok();
    }));
  }
  BERTH_TRY(runtime::Kill(RuntimeOptions(), c.id, signal, false));
  if (signal == SIGKILL) {
    bool gone = false;
    (void)WaitMonitorGone(c, std::chrono::seconds(10), &gone);
  }
  return Ok();
}

Status Engine::Remove(const std::string& name_or_id, bool force, bool volumes) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  if (IsActive(c)) {
    if (!force) {
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat("cannot remove container \"/", c.name, "\": container is ",
                         StateName(c.state), ": stop the container before removing or force remove"));
    }
    BERTH_TRY(containers_->Update(c.id, [](ContainerRecord& r) -> Status {
      r.stopped_by_user = true;
      return Ok();
    }));
    auto rt = RuntimeOptions();
    (void)runtime::Kill(rt, c.id, SIGKILL, true);
    if (c.state == State::kPaused) (void)runtime::Resume(rt, c.id);
    bool gone = false;
    BERTH_TRY(WaitMonitorGone(c, std::chrono::seconds(10), &gone));
    if (!gone && MonitorAlive(c)) ::kill(c.monitor_pid, SIGKILL);
  }
  BERTH_ASSIGN_OR_RETURN(std::optional<ContainerRecord> now, containers_->FindById(c.id));
  if (!now) return Ok();  // --rm cleanup got there first
  return Destroy(*now, volumes);
}

Status Engine::Pause(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  if (c.state != State::kRunning) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", c.name, " is not running"));
  }
  BERTH_TRY(runtime::Pause(RuntimeOptions(), c.id));
  BERTH_TRY(containers_->Update(c.id, [](ContainerRecord& r) -> Status {
    if (r.state == State::kRunning) r.state = State::kPaused;
    return Ok();
  }));
  return Ok();
}

Status Engine::Unpause(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  if (c.state != State::kPaused) {
    return Fail(ErrorCode::kFailedPrecondition, StrCat("container ", c.name, " is not paused"));
  }
  BERTH_TRY(runtime::Resume(RuntimeOptions(), c.id));
  BERTH_TRY(containers_->Update(c.id, [](ContainerRecord& r) -> Status {
    if (r.state == State::kPaused) r.state = State::kRunning;
    return Ok();
  }));
  return Ok();
}

Status Engine::Rename(const std::string& name_or_id, const std::string& new_name) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(ValidateContainerName(new_name));
  auto r = containers_->Update(c.id, [&](ContainerRecord& rec) -> Status {
    rec.name = new_name;
    return Ok();
  });
  if (!r) {
    if (auto other = containers_->Find(new_name); other && other->id != c.id) {
      return Fail(ErrorCode::kAlreadyExists,
                  StrCat("container name \"/", new_name, "\" is already in use by container \"",
                         other->id, "\""));
    }
    return Unexpected(r.error());
  }
  // The new name resolves on its networks, the old one no longer.
  if (PathExists(NetnsPath(c.id))) {
    for (const auto& a : c.networks) {
      auto n = GetNetwork(a.network_id);
      if (n && n->dns) BERTH_TRY(SyncDns(*n));
    }
  }
  return Ok();
}

Result<int> Engine::Wait(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  std::string id = c.id;
  // A --rm container's record is gone by the time its monitor is: hear the exit code from
  // the monitor itself, as an attached client does.
  if (c.config.auto_remove && IsActive(c) && c.state != State::kRestarting) {
    if (auto sock = ConnectAttach(RunDir(id)); sock.has_value()) {
      if (auto code = AwaitExitMessage(sock->get())) return *code;
    }
  }
  while (IsActive(c)) {
    bool gone = false;
    BERTH_TRY(WaitMonitorGone(c, std::chrono::hours(24 * 365), &gone));
    auto now = Get(id);
    if (!now) {
      if (now.error().code() == ErrorCode::kNotFound) return c.exit_code;
      return Unexpected(now.error());
    }
    c = std::move(*now);
    if (c.state == State::kRestarting) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      BERTH_ASSIGN_OR_RETURN(c, Get(id));
    }
  }
  return c.exit_code;
}

}  // namespace berth::engine
