// berth/oci: Spec -> canonical config.json. Member names and omission rules follow the
// runtime-spec Go bindings (zero values they tag omitempty are left out), except that a
// present-but-empty optional (a capability set, a section) is written so it reads back equal.
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "berth/oci/spec.h"

namespace berth::oci {
namespace {

// Scalars first: the container helpers below find these by ordinary lookup and the struct
// encoders further down (in berth::oci, like the model types) by argument-dependent lookup.
Json Encode(const std::string& s) { return s; }
template <class T>
requires std::is_arithmetic_v<T> Json Encode(T v) { return v; }

template <class T>
void Put(Json& j, const char* key, const T& v) {
  j[key] = Encode(v);
}

// Omitted when equal to the type's zero value, as Go's omitempty does.
template <class T>
void PutNonZero(Json& j, const char* key, const T& v) {
  if (v != T{}) j[key] = Encode(v);
}

template <class T>
void PutOpt(Json& j, const char* key, const std::optional<T>& v) {
  if (v) j[key] = Encode(*v);
}

template <class T>
Json EncodeArray(const std::vector<T>& v) {
  Json a = Json::array();
  for (const auto& x : v) a.push_back(Encode(x));
  return a;
}

template <class T>
void PutArray(Json& j, const char* key, const std::vector<T>& v) {
  if (!v.empty()) j[key] = EncodeArray(v);
}

template <class T>
void PutOptArray(Json& j, const char* key, const std::optional<std::vector<T>>& v) {
  if (v) j[key] = EncodeArray(*v);
}

template <class T>
void PutMap(Json& j, const char* key, const std::map<std::string, T>& m) {
  if (m.empty()) return;
  Json o = Json::object();
  for (const auto& [k, v] : m) o[k] = Encode(v);
  j[key] = std::move(o);
}

}  // namespace

// ---- process ----

static Json Encode(const ConsoleSize& c) { return {{"height", c.height}, {"width", c.width}}; }

static Json Encode(const User& u) {
  Json j = {{"uid", u.uid}, {"gid", u.gid}};
  PutOpt(j, "umask", u.umask);
  PutArray(j, "additionalGids", u.additional_gids);
  PutNonZero(j, "username", u.username);
  return j;
}

static Json Encode(const Capabilities& c) {
  Json j = Json::object();
  PutOptArray(j, "bounding", c.bounding);
  PutOptArray(j, "effective", c.effective);
  PutOptArray(j, "inheritable", c.inheritable);
  PutOptArray(j, "permitted", c.permitted);
  PutOptArray(j, "ambient", c.ambient);
  return j;
}

static Json Encode(const Rlimit& l) {
  return {{"type", l.type}, {"hard", l.hard}, {"soft", l.soft}};
}

static Json Encode(const Scheduler& s) {
  Json j = {{"policy", s.policy}};
  PutNonZero(j, "nice", s.nice);
  PutNonZero(j, "priority", s.priority);
  PutArray(j, "flags", s.flags);
  PutNonZero(j, "runtime", s.runtime);
  PutNonZero(j, "deadline", s.deadline);
  PutNonZero(j, "period", s.period);
  return j;
}

static Json Encode(const IoPriority& p) {
  return {{"class", p.io_class}, {"priority", p.priority}};
}

static Json Encode(const CpuAffinity& a) {
  Json j = Json::object();
  PutNonZero(j, "initial", a.initial);
  PutNonZero(j, "final", a.final);
  return j;
}

static Json Encode(const Process& p) {
  Json j = Json::object();
  PutNonZero(j, "terminal", p.terminal);
  PutOpt(j, "consoleSize", p.console_size);
  Put(j, "user", p.user);
  PutArray(j, "args", p.args);
  PutNonZero(j, "commandLine", p.command_line);
  PutArray(j, "env", p.env);
  Put(j, "cwd", p.cwd);
  PutOpt(j, "capabilities", p.capabilities);
  PutArray(j, "rlimits", p.rlimits);
  PutNonZero(j, "noNewPrivileges", p.no_new_privileges);
  PutNonZero(j, "apparmorProfile", p.apparmor_profile);
  PutOpt(j, "oomScoreAdj", p.oom_score_adj);
  PutNonZero(j, "selinuxLabel", p.selinux_label);
  PutOpt(j, "scheduler", p.scheduler);
  PutOpt(j, "ioPriority", p.io_priority);
  PutOpt(j, "execCPUAffinity", p.exec_cpu_affinity);
  return j;
}

// ---- root, mounts, hooks ----

static Json Encode(const Root& r) {
  Json j = {{"path", r.path}};
  PutNonZero(j, "readonly", r.readonly);
  return j;
}

static Json Encode(const IdMapping& m) {
  return {{"containerID", m.container_id}, {"hostID", m.host_id}, {"size", m.size}};
}

static Json Encode(const Mount& m) {
  Json j = {{"destination", m.destination}};
  PutNonZero(j, "type", m.type);
  PutNonZero(j, "source", m.source);
  PutArray(j, "options", m.options);
  PutArray(j, "uidMappings", m.uid_mappings);
  PutArray(j, "gidMappings", m.gid_mappings);
  return j;
}

static Json Encode(const Hook& h) {
  Json j = {{"path", h.path}};
  PutArray(j, "args", h.args);
  PutArray(j, "env", h.env);
  PutOpt(j, "timeout", h.timeout);
  return j;
}

static Json Encode(const Hooks& h) {
  Json j = Json::object();
  PutArray(j, "prestart", h.prestart);
  PutArray(j, "createRuntime", h.create_runtime);
  PutArray(j, "createContainer", h.create_container);
  PutArray(j, "startContainer", h.start_container);
  PutArray(j, "poststart", h.poststart);
  PutArray(j, "poststop", h.poststop);
  return j;
}

// ---- linux ----

static Json Encode(const Namespace& ns) {
  Json j = {{"type", std::string(NamespaceTypeName(ns.type))}};
  PutNonZero(j, "path", ns.path);
  return j;
}

static Json Encode(const TimeOffset& t) {
  Json j = Json::object();
  PutNonZero(j, "secs", t.secs);
  PutNonZero(j, "nanosecs", t.nanosecs);
  return j;
}

static Json Encode(const Device& d) {
  Json j = {{"path", d.path}, {"type", d.type}, {"major", d.major}, {"minor", d.minor}};
  PutOpt(j, "fileMode", d.file_mode);
  PutOpt(j, "uid", d.uid);
  PutOpt(j, "gid", d.gid);
  return j;
}

static Json Encode(const DeviceRule& d) {
  Json j = {{"allow", d.allow}};
  PutNonZero(j, "type", d.type);
  PutOpt(j, "major", d.major);
  PutOpt(j, "minor", d.minor);
  PutNonZero(j, "access", d.access);
  return j;
}

static Json Encode(const MemoryResources& m) {
  Json j = Json::object();
  PutOpt(j, "limit", m.limit);
  PutOpt(j, "reservation", m.reservation);
  PutOpt(j, "swap", m.swap);
  PutOpt(j, "kernel", m.kernel);
  PutOpt(j, "kernelTCP", m.kernel_tcp);
  PutOpt(j, "swappiness", m.swappiness);
  PutOpt(j, "disableOOMKiller", m.disable_oom_killer);
  PutOpt(j, "useHierarchy", m.use_hierarchy);
  PutOpt(j, "checkBeforeUpdate", m.check_before_update);
  return j;
}

static Json Encode(const CpuResources& c) {
  Json j = Json::object();
  PutOpt(j, "shares", c.shares);
  PutOpt(j, "quota", c.quota);
  PutOpt(j, "burst", c.burst);
  PutOpt(j, "period", c.period);
  PutOpt(j, "realtimeRuntime", c.realtime_runtime);
  PutOpt(j, "realtimePeriod", c.realtime_period);
  PutNonZero(j, "cpus", c.cpus);
  PutNonZero(j, "mems", c.mems);
  PutOpt(j, "idle", c.idle);
  return j;
}

static Json Encode(const PidsResources& p) { return {{"limit", p.limit}}; }

static Json Encode(const WeightDevice& w) {
  Json j = {{"major", w.major}, {"minor", w.minor}};
  PutOpt(j, "weight", w.weight);
  PutOpt(j, "leafWeight", w.leaf_weight);
  return j;
}

static Json Encode(const ThrottleDevice& t) {
  return {{"major", t.major}, {"minor", t.minor}, {"rate", t.rate}};
}

static Json Encode(const BlockIoResources& b) {
  Json j = Json::object();
  PutOpt(j, "weight", b.weight);
  PutOpt(j, "leafWeight", b.leaf_weight);
  PutArray(j, "weightDevice", b.weight_device);
  PutArray(j, "throttleReadBpsDevice", b.throttle_read_bps_device);
  PutArray(j, "throttleWriteBpsDevice", b.throttle_write_bps_device);
  PutArray(j, "throttleReadIOPSDevice", b.throttle_read_iops_device);
  PutArray(j, "throttleWriteIOPSDevice", b.throttle_write_iops_device);
  return j;
}

static Json Encode(const HugepageLimit& h) {
  return {{"pageSize", h.page_size}, {"limit", h.limit}};
}

static Json Encode(const NetworkPriority& p) {
  return {{"name", p.name}, {"priority", p.priority}};
}

static Json Encode(const NetworkResources& n) {
  Json j = Json::object();
  PutOpt(j, "classID", n.class_id);
  PutArray(j, "priorities", n.priorities);
  return j;
}

static Json Encode(const RdmaLimit& l) {
  Json j = Json::object();
  PutOpt(j, "hcaHandles", l.hca_handles);
  PutOpt(j, "hcaObjects", l.hca_objects);
  return j;
}

static Json Encode(const Resources& r) {
  Json j = Json::object();
  PutArray(j, "devices", r.devices);
  PutOpt(j, "memory", r.memory);
  PutOpt(j, "cpu", r.cpu);
  PutOpt(j, "pids", r.pids);
  PutOpt(j, "blockIO", r.block_io);
  PutArray(j, "hugepageLimits", r.hugepage_limits);
  PutOpt(j, "network", r.network);
  PutMap(j, "rdma", r.rdma);
  PutMap(j, "unified", r.unified);
  return j;
}

static Json Encode(const SeccompArg& a) {
  Json j = {{"index", a.index}, {"value", a.value}, {"op", a.op}};
  PutNonZero(j, "valueTwo", a.value_two);
  return j;
}

static Json Encode(const SeccompSyscall& s) {
  Json j = {{"names", EncodeArray(s.names)}, {"action", s.action}};
  PutOpt(j, "errnoRet", s.errno_ret);
  PutArray(j, "args", s.args);
  return j;
}

static Json Encode(const Seccomp& s) {
  Json j = {{"defaultAction", s.default_action}};
  PutOpt(j, "defaultErrnoRet", s.default_errno_ret);
  PutArray(j, "architectures", s.architectures);
  PutArray(j, "flags", s.flags);
  PutNonZero(j, "listenerPath", s.listener_path);
  PutNonZero(j, "listenerMetadata", s.listener_metadata);
  PutArray(j, "syscalls", s.syscalls);
  return j;
}

static Json Encode(const Personality& p) {
  Json j = {{"domain", p.domain}};
  PutArray(j, "flags", p.flags);
  return j;
}

static Json Encode(const IntelRdt& i) {
  Json j = Json::object();
  PutNonZero(j, "closID", i.clos_id);
  PutNonZero(j, "schemata", i.schemata);
  PutNonZero(j, "l3CacheSchema", i.l3_cache_schema);
  PutNonZero(j, "memBwSchema", i.mem_bw_schema);
  PutOpt(j, "enableCMT", i.enable_cmt);
  PutOpt(j, "enableMBM", i.enable_mbm);
  return j;
}

static Json Encode(const NetDevice& d) {
  Json j = Json::object();
  PutNonZero(j, "name", d.name);
  return j;
}

static Json Encode(const Linux& l) {
  Json j = Json::object();
  PutArray(j, "namespaces", l.namespaces);
  PutArray(j, "uidMappings", l.uid_mappings);
  PutArray(j, "gidMappings", l.gid_mappings);
  PutMap(j, "timeOffsets", l.time_offsets);
  PutArray(j, "devices", l.devices);
  PutMap(j, "netDevices", l.net_devices);
  PutOpt(j, "resources", l.resources);
  PutNonZero(j, "cgroupsPath", l.cgroups_path);
  PutMap(j, "sysctl", l.sysctl);
  PutOpt(j, "seccomp", l.seccomp);
  PutNonZero(j, "rootfsPropagation", l.rootfs_propagation);
  PutArray(j, "maskedPaths", l.masked_paths);
  PutArray(j, "readonlyPaths", l.readonly_paths);
  PutNonZero(j, "mountLabel", l.mount_label);
  PutOpt(j, "personality", l.personality);
  PutOpt(j, "intelRdt", l.intel_rdt);
  return j;
}

Json ToJson(const Spec& s) {
  Json j = {{"ociVersion", s.oci_version}, {"root", Encode(s.root)}};
  PutOpt(j, "process", s.process);
  PutNonZero(j, "hostname", s.hostname);
  PutNonZero(j, "domainname", s.domainname);
  PutArray(j, "mounts", s.mounts);
  PutOpt(j, "hooks", s.hooks);
  PutMap(j, "annotations", s.annotations);
  PutOpt(j, "linux", s.linux_config);
  // Only presence is modelled for other platforms' sections; keep it so Validate still sees it.
  for (auto [key, present] :
       {std::pair{"windows", s.has_windows}, std::pair{"solaris", s.has_solaris},
        std::pair{"vm", s.has_vm}, std::pair{"zos", s.has_zos}}) {
    if (present) j[key] = Json::object();
  }
  return j;
}

Json ToJson(const Process& process) { return Encode(process); }
Json ToJson(const Resources& resources) { return Encode(resources); }

}  // namespace berth::oci
