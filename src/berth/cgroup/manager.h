// berth/cgroup: one manager interface over cgroup v1 (legacy), hybrid (v1 controllers plus a
// cgroup2 hierarchy) and v2 (unified). The runtime sees only Manager; the files that write
// each controller live under v1/ and v2/, one file per controller.
//
// A Manager owns one container's cgroup: it creates the leaf directory in every hierarchy
// (and missing parents), applies resources, moves processes in, freezes, kills, reports
// stats and removes what it created. Requests the host cannot honour (a controller or file
// that does not exist) are errors naming the config.json field, never silently skipped.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"

namespace berth::cgroup {

enum class Mode {
  kLegacy,   // v1 hierarchies only
  kHybrid,   // v1 hierarchies for controllers, plus a cgroup2 mount (usually .../unified)
  kUnified,  // cgroup v2 only
};
std::string_view ModeName(Mode m);

// Where the hierarchies are mounted. DetectLayout() reads /proc/self/mountinfo; tests build
// one by hand over a fake cgroupfs tree.
struct Layout {
  Mode mode = Mode::kUnified;
  std::string unified_mount;  // the cgroup2 mount point ("" in pure legacy)
  // v1: controller name (or "name=systemd") -> mount point. Co-mounted controllers
  // ("cpu,cpuacct") map each name to the same mount point.
  std::map<std::string, std::string> v1_mounts;
  // Controllers the cgroup2 root offers (its cgroup.controllers).
  std::vector<std::string> unified_controllers;
  // Mount point -> the mount's root inside its hierarchy (mountinfo field 4). Absent means
  // "/". Differs from "/" when a cgroupfs was bind-mounted from a subtree (inside a
  // container); /proc/PID/cgroup paths are then translated by stripping this prefix.
  std::map<std::string, std::string> mount_roots;
};
Result<Layout> DetectLayout();
// The same from mountinfo text; reads `cgroup.controllers` of the cgroup2 mount if any.
Result<Layout> LayoutFromMountInfo(std::string_view mountinfo);

// The cgroup of `pid` in each hierarchy, from /proc/PID/cgroup: key is the controller list
// as the kernel prints it ("cpu", "name=systemd", "cpu,cpuacct") or "" for cgroup2.
Result<std::map<std::string, std::string>> ProcessCgroups(pid_t pid);
// Parses /proc/PID/cgroup text ("4:memory:/a/b" lines).
Result<std::map<std::string, std::string>> ParseProcCgroups(std::string_view text);

struct Config {
  // linux.cgroupsPath: absolute ("/a/b") is relative to each hierarchy's root; relative
  // ("a/b") is relative to the caller's own cgroup; empty means "<caller's cgroup>/<id>".
  std::string path;
  std::string container_id;
  // The caller's own cgroups as ProcessCgroups() reports them; read from /proc/self/cgroup
  // when unset. Tests set it to place relative paths inside a fake tree.
  std::optional<std::map<std::string, std::string>> own_cgroups;
};

// Counters in the shape runc's `events` prints (see StatsToJson).
struct CpuStats {
  uint64_t total_ns = 0, user_ns = 0, kernel_ns = 0;
  std::vector<uint64_t> percpu_ns;
  std::vector<uint64_t> percpu_user_ns, percpu_kernel_ns;  // v1 cpuacct only
  uint64_t periods = 0, throttled_periods = 0, throttled_ns = 0;
};
struct MemoryEntry {
  uint64_t usage = 0, max_usage = 0, limit = 0, failcnt = 0;
};
struct MemoryStats {
  uint64_t cache = 0;
  MemoryEntry usage, swap, kernel, kernel_tcp;
  bool use_hierarchy = false;
  std::map<std::string, uint64_t> raw;  // memory.stat
};
struct PidsStats {
  uint64_t current = 0, limit = 0;  // limit 0: unlimited
};
struct BlkioEntry {
  uint64_t major = 0, minor = 0;
  std::string op;
  uint64_t value = 0;
};
struct BlkioStats {
  std::vector<BlkioEntry> io_service_bytes_recursive, io_serviced_recursive;
};
struct HugetlbStats {
  uint64_t usage = 0, max_usage = 0, failcnt = 0;
};
struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  BlkioStats blkio;
  std::map<std::string, HugetlbStats> hugetlb;  // page size ("2MB") -> counters
  uint64_t oom_kills = 0;
};
// runc's `events --stats` "data" object.
Json StatsToJson(const Stats& s);

enum class FreezerState { kThawed, kFreezing, kFrozen };

class Manager {
 public:
  virtual ~Manager() = default;

  // Creates the container's cgroup in every hierarchy (and missing parents). Idempotent.
  virtual Status Create() = 0;
  // Writes the resources present in `r` (absent fields are left as they are), in an order
  // the kernel accepts (e.g. memory+swap before memory when lowering). Used by create and
  // by `update`. Errors name the config field: "linux.resources.memory.limit: ...".
  virtual Status Apply(const oci::Resources& r) = 0;
  // Moves a process (all its threads) into the cgroup in every hierarchy.
  virtual Status AddProcess(pid_t pid) = 0;
  // cgroup2 only: an fd of the leaf directory for clone3(CLONE_INTO_CGROUP); -1 otherwise.
  virtual int CloneIntoFd() const = 0;

  virtual Result<std::vector<pid_t>> Processes() = 0;
  virtual Status Freeze() = 0;  // returns once the cgroup is frozen
  virtual Status Thaw() = 0;
  virtual Result<FreezerState> GetFreezerState() = 0;
  // Signals every process in the cgroup (cgroup.kill for SIGKILL on v2).
  virtual Status Signal(int sig) = 0;
  virtual Result<Stats> GetStats() = 0;
  // An fd that becomes readable on each OOM kill in the cgroup (v1: eventfd on
  // memory.oom_control; v2: inotify on memory.events).
  virtual Result<UniqueFd> OomEventFd() = 0;

  // Removes the directories this container owns (the leaf; parents are left). Retries
  // briefly while the kernel still counts exiting tasks. Missing directories are not an
  // error.
  virtual Status Destroy() = 0;
  // True if the leaf still exists anywhere.
  virtual bool Exists() = 0;

  // The leaf path per hierarchy, for state.json and for tests. Keys as ProcessCgroups():
  // each v1 controller name ("cpu", "name=systemd"; co-mounted ones each get an entry) and ""
  // for the cgroup2 leaf (pure v2, and the cgroup2 half of a hybrid host).
  virtual std::map<std::string, std::string> Paths() const = 0;
  // What LoadManager needs to find this cgroup again from another process.
  virtual Json Save() const = 0;
};

Result<std::unique_ptr<Manager>> NewManager(const Layout& layout, const Config& config);
Result<std::unique_ptr<Manager>> LoadManager(const Layout& layout, const Json& saved);

// Which controllers and features the host offers, for `features` and error messages.
Json FeaturesJson(const Layout& layout);

}  // namespace berth::cgroup
