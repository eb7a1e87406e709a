// berth/engine: containers from images, without a daemon. Every `berth` command opens the
// engine, does its work through libberth in-process and exits; a small per-container
// monitor process (engine/monitor/) holds each running container's stdio and records its
// exit. State:
//   ROOT (default /var/lib/berth): berth.db (images, containers, volumes), content/,
//       layers/, containers/<id>/ (config.json bundle, snapshot/, hosts, resolv.conf,
//       hostname, ctr.log*), volumes/<name>/_data
//   RUNROOT (default /run/berth): runtime/ (berth::runtime state), containers/<id>/
//       (the monitor's attach socket, exit file, monitor.log)
// The truth about a container is the record plus what the kernel says: every command
// reconciles a record whose monitor died (kill -9) before showing or changing it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/engine/network.h"
#include "berth/engine/run_config.h"
#include "berth/image/archive.h"
#include "berth/image/image_store.h"
#include "berth/runtime/runtime.h"

namespace berth::engine {

struct EngineOptions {
  std::string root = "/var/lib/berth";
  std::string runroot = "/run/berth";
  std::string berth_binary;  // the berth CLI, run by monitors after exit (default /proc/self/exe)
  std::string nft_helper;    // berth-nft (default: next to berth_binary)
};

enum class State { kCreated, kRunning, kPaused, kRestarting, kExited, kRemoving, kDead };
std::string_view StateName(State s);

struct Health {
  std::string status;  // "" (none), "starting", "healthy", "unhealthy"
  int failing_streak = 0;
  Json log = Json::array();  // last results [{Start, End, ExitCode, Output}]
};

struct ContainerRecord {
  std::string id;
  std::string name;
  std::string image;     // image id "sha256:..."
  std::string image_ref; // as the user gave it
  std::string created;   // RFC 3339 nanoseconds
  RunConfig config;      // flags as given
  oci::ContainerConfig image_config;  // the image's config at create time
  std::vector<std::string> chain_ids;
  State state = State::kCreated;
  pid_t pid = 0;          // container init
  pid_t monitor_pid = 0;
  uint64_t monitor_start = 0;  // its /proc start time: a reused pid is not our monitor
  std::string started_at, finished_at;
  int exit_code = 0;
  bool oom_killed = false;
  bool stopped_by_user = false;
  int restart_count = 0;
  std::string error;
  Health health;
  std::vector<NetworkAttachment> networks;  // one per network it is connected to
  std::vector<PortMapping> ports;           // published ports, host ports resolved
};

struct RunResult {
  std::string id;
  std::optional<int> exit_code;  // foreground only
};

class ContainerStore;
class NetworkStore;

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options);
  ~Engine();

  const EngineOptions& options() const { return options_; }
  image::ImageStore& images() { return *images_; }
  runtime::GlobalOptions RuntimeOptions() const;
  std::string ContainerDir(const std::string& id) const;  // ROOT/containers/<id>
  std::string RunDir(const std::string& id) const;        // RUNROOT/containers/<id>

  // ---- containers
  // `create`: record, snapshot, bundle; nothing runs yet.
  Result<ContainerRecord> Create(const RunConfig& config);
  // `start`: launch the monitor and the container; with `attach`, relay stdio and return
  // the exit code (after cleanup).
  Result<std::optional<int>> Start(const std::string& name_or_id, bool attach, bool interactive);
  // `run` = Create + Start (+ attach unless detached).
  Result<RunResult> Run(const RunConfig& config);
  Status Stop(const std::string& name_or_id, std::optional<int> timeout_s);
  Status Restart(const std::string& name_or_id, std::optional<int> timeout_s);
  Status Kill(const std::string& name_or_id, int signal);
  Status Remove(const std::string& name_or_id, bool force, bool volumes);
  Status Pause(const std::string& name_or_id);
  Status Unpause(const std::string& name_or_id);
  Status Rename(const std::string& name_or_id, const std::string& new_name);
  // Blocks until the container is not running; its exit code.
  Result<int> Wait(const std::string& name_or_id);

  // The record, reconciled with the kernel.
  Result<ContainerRecord> Get(const std::string& name_or_id);
  Result<std::vector<ContainerRecord>> List(bool all);
  Json Inspect(const ContainerRecord& c);

  struct ExecConfig {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string user, workdir;
    bool tty = false, interactive = false, detach = false, privileged = false;
  };
  Result<int> Exec(const std::string& name_or_id, const ExecConfig& e);
  Result<std::vector<std::vector<std::string>>> Top(const std::string& name_or_id);  // ps rows
  Result<cgroup::Stats> Stats(const std::string& name_or_id);
  std::string LogPath(const ContainerRecord& c) const;

  // `cp`: container paths resolve inside the container's rootfs (symlinks stay inside).
  // `dest` "-": a tar of `src` (named by its basename) on stdout; `src` "-": a tar read from
  // stdin is extracted into the directory `dest` (entries cannot leave it).
  Status CopyFromContainer(const std::string& name_or_id, const std::string& src,
                           const std::string& dest);
  Status CopyToContainer(const std::string& src, const std::string& name_or_id,
                         const std::string& dest);
  // `diff`: [("A"|"C"|"D", path)].
  Result<std::vector<std::pair<char, std::string>>> Diff(const std::string& name_or_id);
  // `export`: the container's filesystem as a tar.
  Status Export(const std::string& name_or_id, const std::string& path);
  Result<image::ImageRecord> Commit(const std::string& name_or_id,
                                    const image::NewImageOptions& options);

  // Called by the monitor (through `berth container cleanup`) after the container exited:
  // records the exit, tears down the runtime state and mounts, then restarts it (this
  // process becomes the new monitor) or removes it (--rm) as its policy says.
  Status CleanupAfterExit(const std::string& id);
  // Records that the container runs under `monitor` (its init's pid from the run dir): by
  // `start` once the monitor is up, or by the monitor (`container started ID`) when it
  // started the container for a client that died first.
  Result<ContainerRecord> MarkRunning(const std::string& id, pid_t monitor);
  // Runs one health check (through `berth container healthcheck`).
  Status RunHealthcheck(const std::string& id);

  // ---- volumes
  struct Volume {
    std::string name;
    std::string created;
    std::map<std::string, std::string> labels;
    std::string mountpoint;
  };
  Result<Volume> CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels);
  Result<std::vector<Volume>> ListVolumes();
  Result<Volume> GetVolume(const std::string& name);
  Status RemoveVolume(const std::string& name, bool force);
  Result<std::vector<std::string>> PruneVolumes();
  // Removes stopped and created containers, then the unused cgroup parents.
  Result<std::vector<std::string>> PruneContainers();
  // rmdir of the per-hierarchy parent cgroups (kCgroupParent) no container uses; the count.
  int PruneCgroupParents();

  // ---- networks
  // The default network `bridge` is made on first use.
  Result<NetworkRecord> CreateNetwork(const NetworkCreateOptions& options);
  Result<std::vector<NetworkRecord>> ListNetworks();
  Result<NetworkRecord> GetNetwork(const std::string& name_or_id);
  // Refused while containers are connected unless `force` (then they are disconnected).
  Status RemoveNetwork(const std::string& name_or_id, bool force);
  // Removes the user-defined networks no container is connected to; their names.
  Result<std::vector<std::string>> PruneNetworks();
  struct ConnectOptions {
    std::string ip, ip6;
    std::vector<std::string> aliases;
  };
  Status ConnectNetwork(const std::string& network, const std::string& container,
                        const ConnectOptions& options);
  Status DisconnectNetwork(const std::string& network, const std::string& container, bool force);
  Json InspectNetwork(const NetworkRecord& n);
  // Names of the containers connected to `n`, by id.
  Result<std::map<std::string, NetworkAttachment>> NetworkContainers(const NetworkRecord& n);

  // ---- images (beyond what ImageStore offers): refuse removing one a container uses
  // unless forced (and then the container keeps its layers).
  Result<std::vector<std::string>> RemoveImage(const std::string& ref, bool force);

 private:
  Engine() = default;
  // The record with its state made true: a container whose monitor died (kill -9) is
  // stopped and cleaned up here.
  Result<ContainerRecord> Reconcile(ContainerRecord c);
  bool MonitorAlive(const ContainerRecord& c) const;
  // Forks the monitor, creates the container in it and waits until it is ready. In the
  // monitor itself (restart) `in_place` skips the fork: this process becomes the monitor.
  // `meanwhile` runs once the container is created, while the monitor starts up (given
  // the monitor's pid); its failure fails the launch, after killing the monitor.
  Result<pid_t> LaunchMonitor(const ContainerRecord& c, bool in_place,
                              const oci::Spec* spec = nullptr,
                              const std::function<Status(pid_t)>& meanwhile = nullptr);
  // A restart in the monitor's process (restart policy) that failed before the container
  // ran: undoes what it set up and records the container exited, with `why`.
  void EndFailedRestart(const ContainerRecord& c, const Error& why);
  // Stops the runtime container and unmounts the snapshot; idempotent.
  Status Teardown(const ContainerRecord& c);
  // Unmounts the snapshot of a container that does not run (after cp/diff/export mounted it).
  Status UnmountIdleSnapshot(const ContainerRecord& c);
  // The runtime's record and cgroups of an earlier run; the snapshot mount stays.
  Status RemoveRuntimeState(const ContainerRecord& c);
  // Removes snapshot, files, layer holds and the record.
  // `exited`: nothing runs in the container any more (its init was reaped).
  Status Destroy(const ContainerRecord& c, bool volumes, bool exited = false);
  Status EnsureMounted(const ContainerRecord& c);
  Status WaitMonitorGone(const ContainerRecord& c, std::chrono::milliseconds timeout, bool* gone);
  Result<std::string> PrepareVolume(const std::string& name, const std::string& rootfs,
                                    const std::string& target, bool* created);

  // Networks (network_attach.cc). At create: leases addresses and resolves published ports
  // into `c`; the kernel side is made at each start (SetUpNetworks, before the container
  // exists) and removed by Teardown (TearDownNetworks); Destroy releases the leases.
  Status AttachNetworksAtCreate(ContainerRecord& c);
  Status SetUpNetworks(const ContainerRecord& c);
  Status TearDownNetworks(const ContainerRecord& c);
  Status SetUpAttachment(const ContainerRecord& c, const NetworkAttachment& a, int netns_fd);
  Result<NetworkAttachment> LeaseAttachment(const NetworkRecord& n, const ContainerRecord& c,
                                            const std::string& ifname, const ConnectOptions& o);
  Result<NetworkRecord> DefaultNetwork();
  Status EnsureNetworkUp(const NetworkRecord& n);
  // Rebuilds the nftables table from the network records and the published ports of the
  // containers whose network namespace exists.
  Status SyncFirewall();
  // Rewrites `n`'s DNS records from the containers on it and starts or stops its server.
  // `removing`: the network goes away, so its server stops whatever the records say.
  Status SyncDns(const NetworkRecord& n, bool removing = false);
  std::string NetnsPath(const std::string& id) const;  // RUNROOT/netns/<id>
  // Kernel names are per store, so that two stores (--root) on one host, as the tests run
  // them, do not share a bridge or a rule table: `berth0` and table `berth` for the default
  // root, `berth<tag>` and `berth_<tag>` for another (tag: a hash of the root).
  std::string StoreTag() const;
  std::string FirewallTable() const;
  std::string DefaultBridgeName() const;
  // Every bridge a store makes carries "berth store ROOT" as its alias. A store removed by
  // hand (rm -rf of a scratch root) leaves its bridges and rule table behind; prune removes
  // those of roots that no longer exist (and have no ports). Best effort: failures are
  // warnings. Returns how many bridges went.
  int RemoveOrphanedNetworks();
  std::string BridgeAlias() const;  // "berth store ROOT", or "" for a root too long for it
  // Removes a network's kernel state, DNS server and record (no container may use it).
  Status DeleteNetwork(const NetworkRecord& n);
  std::string NetworkRunDir(const NetworkRecord& n) const;  // RUNROOT/networks/<id>
  // The hosts and resolv.conf texts of a container on a bridge network.
  Result<std::string> HostsFile(const ContainerRecord& c, const std::string& hostname);
  Result<std::string> ResolvConf(const ContainerRecord& c);

  EngineOptions options_;
  std::unique_ptr<image::ImageStore> images_;
  std::unique_ptr<ContainerStore> containers_;
  std::unique_ptr<NetworkStore> networks_;
  // The spec the last Create wrote to config.json, for the Start that follows in `run`.
  std::optional<std::pair<std::string, oci::Spec>> created_spec_;
};

// [a-zA-Z0-9][a-zA-Z0-9_.-]*, as docker accepts.
Status ValidateContainerName(const std::string& name);

// The exit status docker's CLI uses for an error of berth itself before the container ran.
inline constexpr int kExitEngineError = 125;
inline constexpr int kExitCannotInvoke = 126;
inline constexpr int kExitNotFound = 127;

}  // namespace berth::engine
