// berth/cgroup: NewManager/LoadManager and the behaviour both managers share (see
// manager_common.h).
#include "berth/cgroup/manager_common.h"

#include <signal.h>
#include <unistd.h>

#include <set>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/paths.h"

namespace berth::cgroup {

Status ManagerBase::Signal(int sig) {
  std::string kill_dir = sig == SIGKILL ? KillDir() : "";
  if (!kill_dir.empty() && HasFile(kill_dir, "cgroup.kill")) {
    // cgroup.kill (5.14+) kills every task, including ones forking right now.
    BERTH_TRY(WriteCgroupFile(kill_dir, "cgroup.kill", "1"));
    // In hybrid mode a process could sit in the v1 leaves only; catch it too.
    BERTH_ASSIGN_OR_RETURN(auto pids, Processes());
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
    // Frozen tasks die only once thawed.
    auto state = GetFreezerState();
    if (state.has_value() && *state != FreezerState::kThawed) BERTH_TRY(Thaw());
    return Ok();
  }
  // Freeze so that no process forks a child we would miss, signal, then restore. A paused
  // container stays paused, except after SIGKILL, whose victims must run to die.
  auto state = GetFreezerState();
  bool was_thawed = state.has_value() && *state == FreezerState::kThawed;
  bool froze = was_thawed && Freeze().has_value();
  auto pids = Processes();
  if (pids.has_value()) {
    for (pid_t pid : *pids) {
      // kill(2): ESRCH means it already exited, which is fine.
      if (::kill(pid, sig) != 0 && errno != ESRCH) {
        int err = errno;
        if (froze) (void)Thaw();
        return SysFail(err, StrCat("signal ", static_cast<int64_t>(pid)));
      }
    }
  }
  bool thaw = froze || (sig == SIGKILL && state.has_value() && !was_thawed);
  if (thaw) BERTH_TRY(Thaw());
  if (!pids.has_value()) return Unexpected(std::move(pids).error());
  return Ok();
}

Status ManagerBase::Destroy() {
  std::set<std::string> dirs;
  for (const auto& [key, dir] : paths_) dirs.insert(dir);
  Status first = Ok();
  for (const std::string& dir : dirs) {
    auto st = RemoveCgroup(dir);
    // Keep going: one busy hierarchy must not leave the others behind.
    if (!st.has_value() && first.has_value()) first = std::move(st);
  }
  return first;
}

bool ManagerBase::Exists() {
  for (const auto& [key, dir] : paths_) {
    if (IsDir(dir)) return true;
  }
  return false;
}

Json ManagerBase::Save() const {
  Json paths = Json::object();
  for (const auto& [key, dir] : paths_) paths[key] = dir;
  return Json{{"mode", std::string(ModeName(layout_.mode))}, {"paths", paths}};
}

namespace {

Result<std::string> LeafIn(const Layout& layout, const Config& config,
                           const std::map<std::string, std::string>& own, const std::string& mount,
                           const std::vector<std::string>& controllers) {
  BERTH_ASSIGN_OR_RETURN(std::string rel, OwnCgroupIn(own, controllers, MountRoot(layout, mount)));
  BERTH_ASSIGN_OR_RETURN(std::string cg, ContainerCgroup(config, rel));
  return JoinPath(mount, cg);
}

}  // namespace

Result<std::unique_ptr<Manager>> NewManager(const Layout& layout, const Config& config) {
  std::map<std::string, std::string> own;
  if (config.own_cgroups) {
    own = *config.own_cgroups;
  } else {
    BERTH_ASSIGN_OR_RETURN(own, ProcessCgroups(::getpid()));
  }
  if (layout.mode == Mode::kUnified) {
    if (layout.unified_mount.empty()) return InvalidArgument("cgroup layout: no cgroup2 mount");
    BERTH_ASSIGN_OR_RETURN(std::string dir, LeafIn(layout, config, own, layout.unified_mount, {}));
    return MakeManagerV2(layout, v2::Leaf(layout.unified_mount, dir));
  }
  std::map<std::string, std::string> leaves;
  for (const auto& [mount, names] : V1Hierarchies(layout)) {
    BERTH_ASSIGN_OR_RETURN(leaves[mount], LeafIn(layout, config, own, mount, names));
  }
  v2::Leaf unified;
  if (layout.mode == Mode::kHybrid && !layout.unified_mount.empty()) {
    BERTH_ASSIGN_OR_RETURN(std::string dir, LeafIn(layout, config, own, layout.unified_mount, {}));
    unified = v2::Leaf(layout.unified_mount, dir);
  }
  return MakeManagerV1(layout, std::move(leaves), std::move(unified));
}

Result<std::unique_ptr<Manager>> LoadManager(const Layout& layout, const Json& saved) {
  if (!saved.is_object() || !saved.contains("mode") || !saved["mode"].is_string() ||
      !saved.contains("paths") || !saved["paths"].is_object()) {
    return InvalidArgument("saved cgroup state: expected {\"mode\": ..., \"paths\": {...}}");
  }
  std::string mode = saved["mode"].get<std::string>();
  if (mode != ModeName(layout.mode)) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("saved cgroup state: the container was created in ", mode,
                       " mode, the host is now ", ModeName(layout.mode)));
  }
  std::map<std::string, std::string> leaves;
  v2::Leaf unified;
  for (const auto& [key, value] : saved["paths"].items()) {
    if (!value.is_string()) return InvalidArgument(StrCat("saved cgroup state: paths.", key));
    std::string dir = value.get<std::string>();
    bool v2_key = key.empty();
    std::string mount;
    if (v2_key && !layout.unified_mount.empty()) {
      mount = layout.unified_mount;
    } else if (!v2_key && layout.mode != Mode::kUnified && layout.v1_mounts.count(key)) {
      mount = layout.v1_mounts.at(key);
    } else {
      // A hierarchy no longer mounted: nothing of it can be reached or removed.
      log::Debug(StrCat("saved cgroup state: ignoring ", Quote(key), ", not mounted"));
      continue;
    }
    if (!IsLeafUnder(dir, mount)) {
      return InvalidArgument(
          StrCat("saved cgroup state: ", Quote(dir), " is not a cgroup under ", Quote(mount)));
    }
    if (v2_key) {
      unified = v2::Leaf(mount, dir);
    } else {
      leaves[mount] = dir;
    }
  }
  if (layout.mode == Mode::kUnified) {
    if (!unified.valid()) return InvalidArgument("saved cgroup state: no cgroup2 path");
    return MakeManagerV2(layout, std::move(unified));
  }
  return MakeManagerV1(layout, std::move(leaves), std::move(unified));
}

}  // namespace berth::cgroup
