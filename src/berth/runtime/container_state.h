// berth/runtime: the on-disk record of a container (ROOT/ID/state.json) and the status
// derived from it and from the kernel: a container is "stopped" when its init is gone (the
// pid is dead, a zombie, or reused by a process with another start time), "created" while
// its exec fifo exists, "paused" while its cgroup is frozen, and "running" otherwise.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

inline constexpr std::string_view kStateFile = "state.json";
inline constexpr std::string_view kExecFifo = "exec.fifo";

enum class ContainerStatus { kCreating, kCreated, kRunning, kPaused, kStopped };
std::string_view StatusName(ContainerStatus s);

struct ContainerRecord {
  std::string id;
  std::string bundle;
  std::string rootfs;
  pid_t pid = 0;
  uint64_t pid_start_time = 0;  // /proc/PID/stat field 22, guards against pid reuse
  std::string created;          // RFC 3339 with nanoseconds, UTC
  std::string owner;            // "" like runc when run by root
  // The config the container was created from lives in its own file (LoadConfig): parsing
  // it costs ~0.2 ms, and start, delete and the exit path need only these two parts of it.
  std::vector<std::string> hook_kinds;  // "poststart", ...: the kinds with hooks to run
  std::map<std::string, std::string> annotations;
  bool HasHooks(const char* kind) const;
  Json cgroup;                  // cgroup::Manager::Save()
  std::map<std::string, std::string> cgroup_paths;  // hierarchy -> leaf (for fast status)
  bool cgroup_owned = true;     // false when the container joined an existing cgroup
  // The config is the bundle's config.json, which its owner (the engine) never changes:
  // no copy in the state directory until `update` writes one.
  bool config_in_bundle = false;
  std::vector<std::string> namespaces;  // types of the namespaces the init lives in

  Json ToJson() const;
  static Result<ContainerRecord> FromJson(const Json& j);
};

// ROOT/ID.
std::string ContainerDir(const std::string& root, const std::string& id);

// Container ids are what runc accepts: [A-Za-z0-9_+.-]+, not "." or "..".
Status ValidateId(const std::string& id);

Result<ContainerRecord> LoadRecord(const std::string& root, const std::string& id);
// ROOT/ID/config.json: the canonical config the container was created from (kept in step by
// `update`). Records of older berth versions carry it inside state.json instead.
inline constexpr std::string_view kConfigFile = "config.json";
Result<Json> LoadConfig(const std::string& root, const std::string& id);
Result<oci::Spec> LoadSpec(const std::string& root, const std::string& id);
Status SaveConfig(const std::string& root, const std::string& id, const Json& config);
// The parts of `config` the record keeps (hook kinds, annotations).
void SummarizeConfig(const oci::Spec& spec, ContainerRecord* rec);
Status SaveRecord(const std::string& root, const ContainerRecord& rec);
// SaveRecord in two steps: write under a temporary name (returned), then rename into place.
Result<std::string> WritePendingRecord(const std::string& root, const ContainerRecord& rec);
Status CommitPendingRecord(const std::string& root, const ContainerRecord& rec,
                           const std::string& pending);
Result<std::vector<std::string>> ListIds(const std::string& root);

// True while the init recorded in `rec` is the same live (non-zombie) process.
bool InitAlive(const ContainerRecord& rec);
Result<ContainerStatus> GetStatus(const std::string& root, const ContainerRecord& rec);

// A pidfd for the init, verified to be the recorded process (no reuse race): opened first,
// then the start time is compared.
Result<UniqueFd> OpenInitPidfd(const ContainerRecord& rec);

// An exclusive flock on ROOT/ID held for the duration of a state-changing command.
Result<UniqueFd> LockContainer(const std::string& root, const std::string& id);

// The current time as runc prints it (Go's RFC3339Nano: "2024-01-02T03:04:05.1234Z").
std::string NowRfc3339Nano();

}  // namespace berth::runtime
