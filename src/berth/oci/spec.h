// berth/oci: the OCI runtime-spec (config.json) model for Linux, version 1.x.
//
// Parse() reads config.json strictly: a field of the wrong type is an error naming its path
// ("linux.resources.memory.limit: expected an integer, got a string"); unknown properties are
// ignored as the spec requires. Validate() checks the semantic rules the runtime relies on.
// ToJson() writes the canonical form back (used for the saved copy in the state directory).
// Optional fields the spec marks as pointers are std::optional here: absent differs from zero.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::oci {

inline constexpr std::string_view kSpecVersion = "1.2.0";

struct IdMapping {
  uint32_t container_id = 0;
  uint32_t host_id = 0;
  uint32_t size = 0;

  bool operator==(const IdMapping&) const = default;
};

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings;  // idmapped mounts (runtime-spec 1.1)
  std::vector<IdMapping> gid_mappings;

  bool operator==(const Mount&) const = default;
};

struct Rlimit {
  std::string type;  // "RLIMIT_NOFILE", ...
  uint64_t soft = 0;
  uint64_t hard = 0;

  bool operator==(const Rlimit&) const = default;
};

// Each set is optional: an absent set differs from an empty one only in the saved copy.
struct Capabilities {
  std::optional<std::vector<std::string>> bounding;
  std::optional<std::vector<std::string>> effective;
  std::optional<std::vector<std::string>> inheritable;
  std::optional<std::vector<std::string>> permitted;
  std::optional<std::vector<std::string>> ambient;

  bool operator==(const Capabilities&) const = default;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;  // Windows only; ignored on Linux

  bool operator==(const User&) const = default;
};

struct ConsoleSize {
  uint32_t height = 0;
  uint32_t width = 0;

  bool operator==(const ConsoleSize&) const = default;
};

struct Scheduler {
  std::string policy;  // SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE
  int32_t nice = 0;
  int32_t priority = 0;
  std::vector<std::string> flags;
  uint64_t runtime = 0;
  uint64_t deadline = 0;
  uint64_t period = 0;

  bool operator==(const Scheduler&) const = default;
};

struct IoPriority {
  std::string io_class;  // IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE
  int32_t priority = 0;

  bool operator==(const IoPriority&) const = default;
};

struct CpuAffinity {
  std::string initial;  // cpu list, e.g. "0-3,7"
  std::string final;

  bool operator==(const CpuAffinity&) const = default;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::string command_line;  // Windows only
  std::vector<std::string> env;
  std::string cwd;
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int32_t> oom_score_adj;
  std::string selinux_label;
  std::optional<Scheduler> scheduler;
  std::optional<IoPriority> io_priority;
  std::optional<CpuAffinity> exec_cpu_affinity;

  bool operator==(const Process&) const = default;
};

struct Root {
  std::string path;
  bool readonly = false;

  bool operator==(const Root&) const = default;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int32_t> timeout;  // seconds, > 0

  bool operator==(const Hook&) const = default;
};

struct Hooks {
  std::vector<Hook> prestart;  // deprecated in the spec, still run
  std::vector<Hook> create_runtime;
  std::vector<Hook> create_container;
  std::vector<Hook> start_container;
  std::vector<Hook> poststart;
  std::vector<Hook> poststop;

  bool operator==(const Hooks&) const = default;
};

enum class NamespaceType { kPid, kNetwork, kMount, kIpc, kUts, kUser, kCgroup, kTime };
// "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time".
std::string_view NamespaceTypeName(NamespaceType t);
std::optional<NamespaceType> ParseNamespaceType(std::string_view name);
// CLONE_NEW* flag of a namespace type.
int NamespaceCloneFlag(NamespaceType t);
// The name of the namespace's file under /proc/PID/ns ("net" for network, ...).
std::string_view NamespaceProcName(NamespaceType t);

struct Namespace {
  NamespaceType type = NamespaceType::kPid;
  std::string path;  // empty: create a new one; otherwise join this one

  bool operator==(const Namespace&) const = default;
};

struct TimeOffset {
  int64_t secs = 0;
  uint32_t nanosecs = 0;

  bool operator==(const TimeOffset&) const = default;
};

struct Device {
  std::string type;  // "c", "b", "u" (unbuffered char) or "p" (fifo)
  std::string path;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;

  bool operator==(const Device&) const = default;
};

struct DeviceRule {
  bool allow = false;
  std::string type;  // "a", "c" or "b"; empty means "a"
  std::optional<int64_t> major;  // absent: any (*)
  std::optional<int64_t> minor;
  std::string access;  // subset of "rwm"; empty means "rwm"

  bool operator==(const DeviceRule&) const = default;
};

struct MemoryResources {
  std::optional<int64_t> limit;        // bytes; -1 unlimited
  std::optional<int64_t> reservation;  // soft limit
  std::optional<int64_t> swap;         // memory+swap limit, -1 unlimited
  std::optional<int64_t> kernel;       // deprecated, refused when set
  std::optional<int64_t> kernel_tcp;
  std::optional<uint64_t> swappiness;
  std::optional<bool> disable_oom_killer;
  std::optional<bool> use_hierarchy;
  std::optional<bool> check_before_update;

  bool operator==(const MemoryResources&) const = default;
};

struct CpuResources {
  std::optional<uint64_t> shares;
  std::optional<int64_t> quota;
  std::optional<uint64_t> burst;
  std::optional<uint64_t> period;
  std::optional<int64_t> realtime_runtime;
  std::optional<uint64_t> realtime_period;
  std::string cpus;
  std::string mems;
  std::optional<int64_t> idle;

  bool operator==(const CpuResources&) const = default;
};

struct PidsResources {
  int64_t limit = 0;  // <= 0: unlimited

  bool operator==(const PidsResources&) const = default;
};

struct WeightDevice {
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;

  bool operator==(const WeightDevice&) const = default;
};

struct ThrottleDevice {
  int64_t major = 0;
  int64_t minor = 0;
  uint64_t rate = 0;

  bool operator==(const ThrottleDevice&) const = default;
};

struct BlockIoResources {
  std::optional<uint16_t> weight;
  std::optional<uint16_t> leaf_weight;
  std::vector<WeightDevice> weight_device;
  std::vector<ThrottleDevice> throttle_read_bps_device;
  std::vector<ThrottleDevice> throttle_write_bps_device;
  std::vector<ThrottleDevice> throttle_read_iops_device;
  std::vector<ThrottleDevice> throttle_write_iops_device;

  bool operator==(const BlockIoResources&) const = default;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB", ...
  uint64_t limit = 0;

  bool operator==(const HugepageLimit&) const = default;
};

struct NetworkPriority {
  std::string name;
  uint32_t priority = 0;

  bool operator==(const NetworkPriority&) const = default;
};

struct NetworkResources {
  std::optional<uint32_t> class_id;
  std::vector<NetworkPriority> priorities;

  bool operator==(const NetworkResources&) const = default;
};

struct RdmaLimit {
  std::optional<uint32_t> hca_handles;
  std::optional<uint32_t> hca_objects;

  bool operator==(const RdmaLimit&) const = default;
};

struct Resources {
  std::vector<DeviceRule> devices;
  std::optional<MemoryResources> memory;
  std::optional<CpuResources> cpu;
  std::optional<PidsResources> pids;
  std::optional<BlockIoResources> block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::optional<NetworkResources> network;
  std::map<std::string, RdmaLimit> rdma;
  std::map<std::string, std::string> unified;  // cgroup v2 file -> value

  bool operator==(const Resources&) const = default;
};

struct SeccompArg {
  uint32_t index = 0;
  uint64_t value = 0;
  uint64_t value_two = 0;
  std::string op;  // SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE, SCMP_CMP_GT, SCMP_CMP_MASKED_EQ

  bool operator==(const SeccompArg&) const = default;
};

struct SeccompSyscall {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;

  bool operator==(const SeccompSyscall&) const = default;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path;
  std::string listener_metadata;
  std::vector<SeccompSyscall> syscalls;

  bool operator==(const Seccomp&) const = default;
};

struct Personality {
  std::string domain;  // LINUX or LINUX32
  std::vector<std::string> flags;

  bool operator==(const Personality&) const = default;
};

struct IntelRdt {
  std::string clos_id;
  std::string schemata;  // written as is to resctrl's `schemata` (runtime-spec 1.2)
  std::string l3_cache_schema;
  std::string mem_bw_schema;
  std::optional<bool> enable_cmt;
  std::optional<bool> enable_mbm;

  bool operator==(const IntelRdt&) const = default;
};

struct NetDevice {
  std::string name;  // name inside the container; empty keeps the host name

  bool operator==(const NetDevice&) const = default;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings;
  std::vector<IdMapping> gid_mappings;
  std::map<std::string, TimeOffset> time_offsets;  // "monotonic", "boottime"
  std::vector<Device> devices;
  std::map<std::string, NetDevice> net_devices;
  std::optional<Resources> resources;
  std::string cgroups_path;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::string rootfs_propagation;  // shared, slave, private, unbindable (r-prefixed too)
  std::vector<std::string> masked_paths;
  std::vector<std::string> readonly_paths;
  std::string mount_label;
  std::optional<Personality> personality;
  std::optional<IntelRdt> intel_rdt;

  // The namespace entry of a type, if the config lists it.
  const Namespace* FindNamespace(NamespaceType t) const;

  bool operator==(const Linux&) const = default;
};

struct Spec {
  std::string oci_version;
  Root root;
  std::optional<Process> process;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  std::optional<Hooks> hooks;
  std::map<std::string, std::string> annotations;
  std::optional<Linux> linux_config;  // "linux" (a macro name under GNU extensions)
  // Sections for other platforms; their presence on Linux is refused by Validate().
  bool has_windows = false;
  bool has_solaris = false;
  bool has_vm = false;
  bool has_zos = false;

  bool operator==(const Spec&) const = default;
};

// Parses config.json text. `what` prefixes errors (usually the file's path).
Result<Spec> ParseSpec(std::string_view text, std::string_view what = "config.json");
Result<Spec> SpecFromJson(const Json& j, std::string_view what = "config.json");
// Reads and parses BUNDLE/config.json.
Result<Spec> LoadSpec(const std::string& path);

// Parsers for the pieces other commands read on their own: `exec --process FILE` and
// `update -r FILE`.
Result<Process> ProcessFromJson(const Json& j, std::string_view what);
Result<Resources> ResourcesFromJson(const Json& j, std::string_view what);

// Canonical runtime-spec JSON (the Go bindings' names; optional fields absent stay absent,
// zero values the Go bindings omit are omitted). SpecFromJson(ToJson(s)) == s.
Json ToJson(const Spec& spec);
Json ToJson(const Process& process);
Json ToJson(const Resources& resources);

// Semantic checks, each error names the field: "process.cwd: must be an absolute path".
// Returns the first problem found. What runc accepts with a warning (a relative mount
// destination) is not an error: it is appended to `warnings` when that is not null.
Status Validate(const Spec& spec);
Status Validate(const Spec& spec, std::vector<std::string>* warnings);
Status ValidateProcess(const Process& process, std::string_view field = "process");
// The resources alone (`update -r FILE`); `field` prefixes the paths in errors.
Status ValidateResources(const Resources& resources, std::string_view field = "linux.resources");

}  // namespace berth::oci
