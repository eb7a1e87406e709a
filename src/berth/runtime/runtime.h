// berth/runtime: the container lifecycle, as libberth's API. berth-runtime (the runc-style
// CLI) and the engine call these; nothing here prints or parses command lines.
//
//   Create  -> state "created": the init waits on ROOT/ID/exec.fifo
//   Start   -> releases it: "running"
//   Run     -> Create + Start in one process, optionally waiting for the exit
//   Kill, Pause, Resume, Update, Exec, Pids, Stats while it lives
//   Delete  -> cgroups removed, poststop hooks run, ROOT/ID removed
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/cgroup/manager.h"
#include "berth/oci/spec.h"
#include "berth/oci/state.h"
#include "berth/runtime/container_state.h"
#include "berth/runtime/paths.h"

namespace berth::runtime {

struct GlobalOptions {
  std::string root = std::string(kDefaultStateRoot);
  bool systemd_cgroup = false;
};

// ROOT/@cache/seccomp: compiled filters ('@' cannot start a container id, so no clash).
inline std::string SeccompCacheDir(const GlobalOptions& g) { return g.root + "/@cache/seccomp"; }

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string console_socket;
  std::string pid_file;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  // The bundle's config.json already parsed by the caller (the engine has it in memory);
  // null: read it from the bundle.
  const oci::Spec* spec = nullptr;
  // The caller owns the bundle and never changes its config.json: the runtime reads it from
  // there instead of keeping a copy (one 12 kB JSON serialization and file less per create).
  bool config_in_bundle = false;
  // The calling process lives on until the container has started (the engine's launcher
  // becomes the container's monitor): the init can then share its memory while it sets up
  // (see Create), because dying with its parent until `start` loses nothing. `berth-runtime
  // create` exits at once, so its init must outlive it.
  bool caller_outlives_start = false;
};

struct RunOptions {
  CreateOptions create;
  bool detach = false;
  bool keep = false;  // keep the container's state after it exits (foreground only)
  // SIGINT, SIGTERM, SIGHUP or SIGQUIT to the caller kill the container (SIGKILL) instead of
  // being forwarded: a build step's shell, pid 1 of its namespace, would ignore them.
  bool kill_on_interrupt = false;
};

Status Create(const GlobalOptions& g, const CreateOptions& o);
Status Start(const GlobalOptions& g, const std::string& id);
// The container's exit code in the foreground; 0 when detached.
Result<int> Run(const GlobalOptions& g, const RunOptions& o);

struct ContainerInfo {
  ContainerRecord record;
  ContainerStatus status = ContainerStatus::kStopped;
};
Result<ContainerInfo> Inspect(const GlobalOptions& g, const std::string& id);
Result<std::vector<ContainerInfo>> ListContainers(const GlobalOptions& g);
// The OCI state object runc prints for `state` (and each entry of `list --format json`).
oci::State StateOf(const ContainerInfo& info);

Status Kill(const GlobalOptions& g, const std::string& id, int sig, bool all);
Status Delete(const GlobalOptions& g, const std::string& id, bool force);
Status Pause(const GlobalOptions& g, const std::string& id);
Status Resume(const GlobalOptions& g, const std::string& id);
Result<std::vector<pid_t>> Pids(const GlobalOptions& g, const std::string& id);
Status Update(const GlobalOptions& g, const std::string& id, const oci::Resources& r);
Result<cgroup::Stats> Stats(const GlobalOptions& g, const std::string& id);
// OOM kills in the container's cgroup, also after its init exited (until Delete).
Result<uint64_t> OomKills(const GlobalOptions& g, const std::string& id);

// Calls `emit` with runc-style event objects ({"type":"stats"|"oom",...}) every `interval`
// until the container stops or `emit` returns false.
Status Events(const GlobalOptions& g, const std::string& id, std::chrono::milliseconds interval,
              const std::function<bool(const Json&)>& emit);

struct ExecOptions {
  oci::Process process;
  std::string console_socket;
  std::string pid_file;
  bool detach = false;
  bool ignore_paused = false;
  int preserve_fds = 0;
};
// The process's exit code in the foreground; 0 when detached.
Result<int> Exec(const GlobalOptions& g, const std::string& id, const ExecOptions& o);

// The container's process spec, as a base for `exec` arguments.
Result<oci::Process> ContainerProcess(const GlobalOptions& g, const std::string& id);

}  // namespace berth::runtime
