#include "berth/runtime/container_state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/oci/state.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

std::string_view StatusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreating: return "creating";
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kPaused: return "paused";
    case ContainerStatus::kStopped: return "stopped";
  }
  return "unknown";
}

Json ContainerRecord::ToJson() const {
  Json j;
  j["id"] = id;
  j["bundle"] = bundle;
  j["rootfs"] = rootfs;
  j["pid"] = pid;
  j["pid_start_time"] = pid_start_time;
  j["created"] = created;
  j["owner"] = owner;
  j["hook_kinds"] = hook_kinds;
  j["annotations"] = annotations;
  j["cgroup"] = cgroup;
  j["cgroup_paths"] = cgroup_paths;
  j["cgroup_owned"] = cgroup_owned;
  if (config_in_bundle) j["config_in_bundle"] = true;
  j["namespaces"] = namespaces;
  return j;
}

Result<ContainerRecord> ContainerRecord::FromJson(const Json& j) {
  try {
    ContainerRecord r;
    r.id = j.at("id").get<std::string>();
    r.bundle = j.at("bundle").get<std::string>();
    r.rootfs = j.at("rootfs").get<std::string>();
    r.pid = j.at("pid").get<pid_t>();
    r.pid_start_time = j.at("pid_start_time").get<uint64_t>();
    r.created = j.at("created").get<std::string>();
    r.owner = j.value("owner", "");
    r.hook_kinds = j.value("hook_kinds", std::vector<std::string>());
    r.annotations = j.value("annotations", std::map<std::string, std::string>());
    if (auto legacy = j.find("config"); legacy != j.end()) {
      // An older berth's record: the config is inline.
      if (auto hooks = legacy->find("hooks"); hooks != legacy->end() && hooks->is_object()) {
        for (const auto& [kind, list] : hooks->items())
          if (list.is_array() && !list.empty()) r.hook_kinds.push_back(kind);
      }
      if (auto a = legacy->find("annotations"); a != legacy->end() && a->is_object()) {
        for (const auto& [k, v] : a->items())
          if (v.is_string()) r.annotations[k] = v.get<std::string>();
      }
    }
    r.cgroup = j.value("cgroup", Json());
    r.cgroup_paths = j.value("cgroup_paths", std::map<std::string, std::string>());
    r.cgroup_owned = j.value("cgroup_owned", true);
    r.config_in_bundle = j.value("config_in_bundle", false);
    r.namespaces = j.value("namespaces", std::vector<std::string>());
    return r;
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat("malformed container state: ", e.what()));
  }
}

std::string ContainerDir(const std::string& root, const std::string& id) {
  return StrCat(root, "/", id);
}

Status ValidateId(const std::string& id) {
  if (id.empty()) return InvalidArgument("container id cannot be empty");
  if (id == "." || id == "..") return InvalidArgument(StrCat("invalid container id ", Quote(id)));
  if (id.size() > 1024) return InvalidArgument("container id is too long");
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '.';
    if (!ok) return InvalidArgument(StrCat("invalid container id ", Quote(id)));
  }
  return Ok();
}

bool ContainerRecord::HasHooks(const char* kind) const {
  return std::find(hook_kinds.begin(), hook_kinds.end(), kind) != hook_kinds.end();
}

void SummarizeConfig(const oci::Spec& spec, ContainerRecord* rec) {
  rec->hook_kinds.clear();
  if (spec.hooks) {
    const oci::Hooks& h = *spec.hooks;
    const std::pair<const char*, const std::vector<oci::Hook>*> kinds[] = {
        {"prestart", &h.prestart},           {"createRuntime", &h.create_runtime},
        {"createContainer", &h.create_container}, {"startContainer", &h.start_container},
        {"poststart", &h.poststart},         {"poststop", &h.poststop}};
    for (const auto& [name, list] : kinds)
      if (!list->empty()) rec->hook_kinds.emplace_back(name);
  }
  rec->annotations = spec.annotations;
}

Result<Json> LoadConfig(const std::string& root, const std::string& id) {
  BERTH_TRY(ValidateId(id));
  std::string path = StrCat(ContainerDir(root, id), "/", kConfigFile);
  auto text = ReadFile(path);
  if (!text && text.error().sys_errno() == ENOENT) {
    // The bundle's own (config_in_bundle), or, from an older berth, inside state.json.
    std::string state = StrCat(ContainerDir(root, id), "/", kStateFile);
    BERTH_ASSIGN_OR_RETURN(std::string st_text, ReadFile(state));
    BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(st_text, state));
    if (j.value("config_in_bundle", false) && j.contains("bundle") && j["bundle"].is_string()) {
      std::string in_bundle = StrCat(j["bundle"].get<std::string>(), "/config.json");
      BERTH_ASSIGN_OR_RETURN(std::string bundle_text, ReadFile(in_bundle));
      return ParseJson(bundle_text, in_bundle);
    }
    if (auto c = j.find("config"); c != j.end() && c->is_object()) return *c;
    return Fail(ErrorCode::kNotFound, StrCat("container ", Quote(id), ": no ", Quote(path)));
  }
  if (!text) return Unexpected(std::move(text).error());
  return ParseJson(*text, path);
}

Result<oci::Spec> LoadSpec(const std::string& root, const std::string& id) {
  BERTH_ASSIGN_OR_RETURN(Json j, LoadConfig(root, id));
  return oci::SpecFromJson(j, StrCat(ContainerDir(root, id), "/", kConfigFile));
}

Status SaveConfig(const std::string& root, const std::string& id, const Json& config) {
  return AtomicWriteFile(StrCat(ContainerDir(root, id), "/", kConfigFile), config.dump(), 0600,
                         Durability::kAtomicOnly);
}

Result<ContainerRecord> LoadRecord(const std::string& root, const std::string& id) {
  BERTH_TRY(ValidateId(id));
  std::string path = StrCat(ContainerDir(root, id), "/", kStateFile);
  auto text = ReadFile(path);
  if (!text) {
    if (text.error().sys_errno() == ENOENT) {
      return Fail(ErrorCode::kNotFound, StrCat("container ", Quote(id), " does not exist"));
    }
    return Unexpected(std::move(text).error());
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(*text, path));
  BERTH_ASSIGN_OR_RETURN_CTX(ContainerRecord rec, ContainerRecord::FromJson(j), path);
  return rec;
}

Status SaveRecord(const std::string& root, const ContainerRecord& rec) {
  // Runtime state describes processes, which do not survive a machine crash either: atomic
  // replacement is needed (readers never see a torn file), durability is not.
  return AtomicWriteFile(StrCat(ContainerDir(root, rec.id), "/", kStateFile), rec.ToJson().dump(),
                         0600, Durability::kAtomicOnly);
}

Result<std::string> WritePendingRecord(const std::string& root, const ContainerRecord& rec) {
  std::string pending = StrCat(ContainerDir(root, rec.id), "/", kStateFile, ".pending");
  BERTH_TRY(WriteFile(pending, rec.ToJson().dump(), 0600));
  return pending;
}

Status CommitPendingRecord(const std::string& root, const ContainerRecord& rec,
                           const std::string& pending) {
  std::string path = StrCat(ContainerDir(root, rec.id), "/", kStateFile);
  if (::rename(pending.c_str(), path.c_str()) != 0) {
    return ErrnoFail(StrCat("rename ", Quote(pending), " to ", Quote(path)));
  }
  return Ok();
}

Result<std::vector<std::string>> ListIds(const std::string& root) {
  std::vector<std::string> ids;
  DIR* d = ::opendir(root.c_str());
  if (!d) {
    if (errno == ENOENT) return ids;
    return ErrnoFail(StrCat("open ", Quote(root)));
  }
  while (struct dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n == "." || n == ".." || !ValidateId(n).has_value()) continue;
    if (PathExists(StrCat(root, "/", n, "/", kStateFile))) ids.push_back(n);
  }
  ::closedir(d);
  std::sort(ids.begin(), ids.end());
  return ids;
}

bool InitAlive(const ContainerRecord& rec) {
  if (rec.pid <= 0) return false;
  auto start = sys::ProcessStartTime(rec.pid);
  if (!start || *start != rec.pid_start_time) return false;
  auto st = sys::ProcessStateChar(rec.pid);
  return st && *st != 'Z' && *st != 'X';
}

static bool CgroupFrozen(const ContainerRecord& rec) {
  if (auto it = rec.cgroup_paths.find("freezer"); it != rec.cgroup_paths.end()) {
    auto s = ReadFile(it->second + "/freezer.state");
    return s && Trim(*s) == "FROZEN";
  }
  if (auto it = rec.cgroup_paths.find(""); it != rec.cgroup_paths.end()) {
    auto s = ReadFile(it->second + "/cgroup.events");
    return s && s->find("frozen 1") != std::string::npos;
  }
  return false;
}

Result<ContainerStatus> GetStatus(const std::string& root, const ContainerRecord& rec) {
  if (!InitAlive(rec)) return ContainerStatus::kStopped;
  if (PathExists(StrCat(ContainerDir(root, rec.id), "/", kExecFifo))) return ContainerStatus::kCreated;
  if (CgroupFrozen(rec)) return ContainerStatus::kPaused;
  return ContainerStatus::kRunning;
}

Result<UniqueFd> OpenInitPidfd(const ContainerRecord& rec) {
  if (rec.pid <= 0) return Fail(ErrorCode::kFailedPrecondition, "container has no init process");
  auto fd = sys::PidfdOpen(rec.pid);
  if (!fd) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", Quote(rec.id), " is not running"));
  }
  // The pidfd pins the process; if the start time still matches, it is our init.
  if (!InitAlive(rec)) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", Quote(rec.id), " is not running"));
  }
  return fd;
}

Result<UniqueFd> LockContainer(const std::string& root, const std::string& id) {
  std::string dir = ContainerDir(root, id);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return Fail(ErrorCode::kNotFound, StrCat("container ", Quote(id), " does not exist"));
    return ErrnoFail(StrCat("open ", Quote(dir)));
  }
  UniqueFd lock(fd);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoFail(StrCat("lock ", Quote(dir)));
  }
  return lock;
}

std::string NowRfc3339Nano() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return oci::FormatCreated(ts);
}

}  // namespace berth::runtime
