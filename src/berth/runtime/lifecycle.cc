// berth/runtime: operations on an existing container: state, list, kill, delete, pause,
// resume, ps, update, stats and events.
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <optional>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/runtime/hooks.h"
#include "berth/runtime/runtime.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

// Defined in create.cc.
Status DestroyContainer(const GlobalOptions& g, const ContainerRecord& rec, cgroup::Manager* cg,
                        const oci::Spec* spec);

namespace {

Result<std::unique_ptr<cgroup::Manager>> LoadCgroup(const ContainerRecord& rec) {
  BERTH_ASSIGN_OR_RETURN(cgroup::Layout layout, cgroup::DetectLayout());
  return cgroup::LoadManager(layout, rec.cgroup);
}

Status NotRunning(const std::string& id) {
  return Fail(ErrorCode::kFailedPrecondition, StrCat("container ", Quote(id), " is not running"));
}

// Waits until the init is gone (it is not our child: watch its pidfd).
void WaitInitExit(const ContainerRecord& rec, std::chrono::milliseconds timeout) {
  auto fd = sys::PidfdOpen(rec.pid);
  if (!fd || !InitAlive(rec)) return;
  (void)sys::WaitPidfdExit(fd->get(), timeout);
}

}  // namespace

Result<ContainerInfo> Inspect(const GlobalOptions& g, const std::string& id) {
  ContainerInfo info;
  BERTH_ASSIGN_OR_RETURN(info.record, LoadRecord(g.root, id));
  BERTH_ASSIGN_OR_RETURN(info.status, GetStatus(g.root, info.record));
  return info;
}

Result<std::vector<ContainerInfo>> ListContainers(const GlobalOptions& g) {
  BERTH_ASSIGN_OR_RETURN(auto ids, ListIds(g.root));
  std::vector<ContainerInfo> out;
  for (const auto& id : ids) {
    auto info = Inspect(g, id);
    if (info) out.push_back(std::move(*info));  // a container deleted meanwhile is skipped
  }
  return out;
}

oci::State StateOf(const ContainerInfo& info) {
  const ContainerRecord& r = info.record;
  oci::State st;
  st.oci_version = std::string(oci::kSpecVersion);
  st.id = r.id;
  st.pid = info.status == ContainerStatus::kStopped ? 0 : r.pid;
  st.status = std::string(StatusName(info.status));
  st.bundle = r.bundle;
  st.rootfs = r.rootfs;
  st.created = r.created;
  st.owner = r.owner;
  st.annotations = r.annotations;
  return st;
}

Status Kill(const GlobalOptions& g, const std::string& id, int sig, bool all) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  if (info.status == ContainerStatus::kStopped) {
    // With --all, leftover processes of a container without its own pid namespace are
    // still worth signalling.
    if (!all) return NotRunning(id);
  }
  if (all) {
    BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
    BERTH_TRY(cg->Signal(sig));
    // A frozen task only dies once thawed.
    if (info.status == ContainerStatus::kPaused && sig == SIGKILL) (void)cg->Thaw();
    return Ok();
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd pidfd, OpenInitPidfd(info.record));
  BERTH_TRY_CTX(sys::PidfdSendSignal(pidfd.get(), sig), StrCat("signal container ", Quote(id)));
  if (info.status == ContainerStatus::kPaused && sig == SIGKILL) {
    BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
    (void)cg->Thaw();
  }
  return Ok();
}

Status Delete(const GlobalOptions& g, const std::string& id, bool force) {
  auto rec = LoadRecord(g.root, id);
  if (!rec) {
    if (force && rec.error().code() == ErrorCode::kNotFound) return Ok();
    return Unexpected(std::move(rec).error());
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd lock, LockContainer(g.root, id));
  BERTH_ASSIGN_OR_RETURN(ContainerStatus st, GetStatus(g.root, *rec));
  if ((st == ContainerStatus::kRunning || st == ContainerStatus::kPaused) && !force) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("cannot delete container ", Quote(id), " that is not stopped: ",
                       StatusName(st), " (use --force)"));
  }
  auto cg = LoadCgroup(*rec);
  if (!cg) log::Warn(StrCat("container ", Quote(id), ": ", cg.error().message()));
  if (st != ContainerStatus::kStopped) {
    if (cg) {
      (void)(*cg)->Signal(SIGKILL);
      if (st == ContainerStatus::kPaused) (void)(*cg)->Thaw();
    }
    if (auto fd = OpenInitPidfd(*rec); fd.has_value()) (void)sys::PidfdSendSignal(fd->get(), SIGKILL);
    WaitInitExit(*rec, std::chrono::seconds(10));
  }
  if (!rec->HasHooks("poststop")) return DestroyContainer(g, *rec, cg ? cg->get() : nullptr, nullptr);
  auto spec = LoadSpec(g.root, id);
  return DestroyContainer(g, *rec, cg ? cg->get() : nullptr, spec ? &*spec : nullptr);
}

Status Pause(const GlobalOptions& g, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  if (info.status != ContainerStatus::kRunning && info.status != ContainerStatus::kCreated) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", Quote(id), " is not running: ", StatusName(info.status)));
  }
  BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
  return cg->Freeze();
}

Status Resume(const GlobalOptions& g, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  if (info.status != ContainerStatus::kPaused) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", Quote(id), " is not paused: ", StatusName(info.status)));
  }
  BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
  return cg->Thaw();
}

Result<std::vector<pid_t>> Pids(const GlobalOptions& g, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
  return cg->Processes();
}

Status Update(const GlobalOptions& g, const std::string& id, const oci::Resources& r) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord rec, LoadRecord(g.root, id));
  BERTH_ASSIGN_OR_RETURN(UniqueFd lock, LockContainer(g.root, id));
  BERTH_ASSIGN_OR_RETURN(ContainerStatus st, GetStatus(g.root, rec));
  if (st == ContainerStatus::kStopped) return NotRunning(id);
  BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(rec));
  BERTH_TRY(cg->Apply(r));
  // Keep the saved config in step, so `exec`, `events` and a later `update` see it.
  BERTH_ASSIGN_OR_RETURN(oci::Spec spec, LoadSpec(g.root, id));
  if (!spec.linux_config) spec.linux_config.emplace();
  Json merged = oci::ToJson(spec.linux_config->resources.value_or(oci::Resources()));
  merged.merge_patch(oci::ToJson(r));
  BERTH_ASSIGN_OR_RETURN(spec.linux_config->resources,
                         oci::ResourcesFromJson(merged, "linux.resources"));
  return SaveConfig(g.root, id, oci::ToJson(spec));
}

Result<cgroup::Stats> Stats(const GlobalOptions& g, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  if (info.status == ContainerStatus::kStopped) return Unexpected(NotRunning(id).error());
  BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
  return cg->GetStats();
}

Result<uint64_t> OomKills(const GlobalOptions& g, const std::string& id) {
  // Also for a stopped container: its cgroup (and the kernel's counter) lives until Delete.
  // Only the counter is read: the full stats of a dead container fail on other files.
  BERTH_ASSIGN_OR_RETURN(ContainerRecord rec, LoadRecord(g.root, id));
  auto counter = [](const std::string& file) -> std::optional<uint64_t> {
    auto text = ReadFile(file);
    if (!text) return std::nullopt;
    for (auto& line : Split(*text, '\n')) {
      if (line.rfind("oom_kill ", 0) == 0) {
        if (auto n = ParseUint64(line.substr(9), file); n.has_value()) return *n;
      }
    }
    return std::nullopt;
  };
  if (auto it = rec.cgroup_paths.find("memory"); it != rec.cgroup_paths.end()) {
    if (auto n = counter(it->second + "/memory.oom_control")) return *n;
  }
  if (auto it = rec.cgroup_paths.find(""); it != rec.cgroup_paths.end()) {
    if (auto n = counter(it->second + "/memory.events")) return *n;
  }
  return uint64_t{0};
}

Status Events(const GlobalOptions& g, const std::string& id, std::chrono::milliseconds interval,
              const std::function<bool(const Json&)>& emit) {
  BERTH_ASSIGN_OR_RETURN(ContainerInfo info, Inspect(g, id));
  if (info.status == ContainerStatus::kStopped) return NotRunning(id);
  BERTH_ASSIGN_OR_RETURN(auto cg, LoadCgroup(info.record));
  auto oom = cg->OomEventFd();
  auto next = std::chrono::steady_clock::now();
  while (true) {
    auto now = std::chrono::steady_clock::now();
    if (now >= next) {
      if (!InitAlive(info.record)) return Ok();
      BERTH_ASSIGN_OR_RETURN(cgroup::Stats s, cg->GetStats());
      Json ev = {{"type", "stats"}, {"id", id}, {"data", cgroup::StatsToJson(s)}};
      if (!emit(ev)) return Ok();
      next = now + interval;
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
    struct pollfd p = {oom ? oom->get() : -1, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(wait.count(), 0)));
    if (n > 0 && (p.revents & POLLIN)) {
      char buf[256];
      (void)::read(p.fd, buf, sizeof buf);
      if (!emit(Json{{"type", "oom"}, {"id", id}})) return Ok();
    }
  }
}

Result<oci::Process> ContainerProcess(const GlobalOptions& g, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(oci::Spec spec, LoadSpec(g.root, id));
  if (!spec.process) return Fail(ErrorCode::kInternal, "saved config has no process");
  return *spec.process;
}

}  // namespace berth::runtime
