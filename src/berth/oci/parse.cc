// berth/oci: config.json -> Spec. One ReadValue per model type, member names as the
// runtime-spec's Go bindings spell them; types are strict, unknown members ignored.
#include <string>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/oci/reader.h"
#include "berth/oci/spec.h"

namespace berth::oci {
// The overloads live in the reader's namespace so that the generic vector/optional/map
// readers find them by argument-dependent lookup.
namespace internal {

// ---- process ----

static Status ReadValue(const Reader& r, ConsoleSize& c) {
  return ObjectReader(r).Get("height", c.height).Get("width", c.width).Done();
}

static Status ReadValue(const Reader& r, User& u) {
  return ObjectReader(r)
      .Get("uid", u.uid)
      .Get("gid", u.gid)
      .Get("umask", u.umask)
      .Get("additionalGids", u.additional_gids)
      .Get("username", u.username)
      .Done();
}

static Status ReadValue(const Reader& r, Capabilities& c) {
  return ObjectReader(r)
      .Get("bounding", c.bounding)
      .Get("effective", c.effective)
      .Get("inheritable", c.inheritable)
      .Get("permitted", c.permitted)
      .Get("ambient", c.ambient)
      .Done();
}

static Status ReadValue(const Reader& r, Rlimit& l) {
  return ObjectReader(r).Get("type", l.type).Get("hard", l.hard).Get("soft", l.soft).Done();
}

static Status ReadValue(const Reader& r, Scheduler& s) {
  return ObjectReader(r)
      .Get("policy", s.policy)
      .Get("nice", s.nice)
      .Get("priority", s.priority)
      .Get("flags", s.flags)
      .Get("runtime", s.runtime)
      .Get("deadline", s.deadline)
      .Get("period", s.period)
      .Done();
}

static Status ReadValue(const Reader& r, IoPriority& p) {
  return ObjectReader(r).Get("class", p.io_class).Get("priority", p.priority).Done();
}

static Status ReadValue(const Reader& r, CpuAffinity& a) {
  return ObjectReader(r).Get("initial", a.initial).Get("final", a.final).Done();
}

static Status ReadValue(const Reader& r, Process& p) {
  return ObjectReader(r)
      .Get("terminal", p.terminal)
      .Get("consoleSize", p.console_size)
      .Get("user", p.user)
      .Get("args", p.args)
      .Get("commandLine", p.command_line)
      .Get("env", p.env)
      .Get("cwd", p.cwd)
      .Get("capabilities", p.capabilities)
      .Get("rlimits", p.rlimits)
      .Get("noNewPrivileges", p.no_new_privileges)
      .Get("apparmorProfile", p.apparmor_profile)
      .Get("oomScoreAdj", p.oom_score_adj)
      .Get("selinuxLabel", p.selinux_label)
      .Get("scheduler", p.scheduler)
      .Get("ioPriority", p.io_priority)
      .Get("execCPUAffinity", p.exec_cpu_affinity)
      .Done();
}

// ---- root, mounts, hooks ----

static Status ReadValue(const Reader& r, Root& root) {
  return ObjectReader(r).Get("path", root.path).Get("readonly", root.readonly).Done();
}

static Status ReadValue(const Reader& r, IdMapping& m) {
  return ObjectReader(r)
      .Get("containerID", m.container_id)
      .Get("hostID", m.host_id)
      .Get("size", m.size)
      .Done();
}

static Status ReadValue(const Reader& r, Mount& m) {
  return ObjectReader(r)
      .Get("destination", m.destination)
      .Get("type", m.type)
      .Get("source", m.source)
      .Get("options", m.options)
      .Get("uidMappings", m.uid_mappings)
      .Get("gidMappings", m.gid_mappings)
      .Done();
}

static Status ReadValue(const Reader& r, Hook& h) {
  return ObjectReader(r)
      .Get("path", h.path)
      .Get("args", h.args)
      .Get("env", h.env)
      .Get("timeout", h.timeout)
      .Done();
}

static Status ReadValue(const Reader& r, Hooks& h) {
  return ObjectReader(r)
      .Get("prestart", h.prestart)
      .Get("createRuntime", h.create_runtime)
      .Get("createContainer", h.create_container)
      .Get("startContainer", h.start_container)
      .Get("poststart", h.poststart)
      .Get("poststop", h.poststop)
      .Done();
}

// ---- linux ----

static Status ReadValue(const Reader& r, Namespace& ns) {
  std::string type;
  BERTH_TRY(ObjectReader(r).Require("type", type).Get("path", ns.path).Done());
  // The model holds the type as an enum, so an unknown name cannot be carried to Validate.
  auto t = ParseNamespaceType(type);
  if (!t) return r.Field("type").Fail(StrCat("unknown namespace type ", Quote(type)));
  ns.type = *t;
  return Ok();
}

static Status ReadValue(const Reader& r, TimeOffset& t) {
  return ObjectReader(r).Get("secs", t.secs).Get("nanosecs", t.nanosecs).Done();
}

static Status ReadValue(const Reader& r, Device& d) {
  BERTH_TRY(ObjectReader(r)
                .Get("type", d.type)
                .Get("path", d.path)
                .Get("major", d.major)
                .Get("minor", d.minor)
                .Get("fileMode", d.file_mode)
                .Get("uid", d.uid)
                .Get("gid", d.gid)
                .Done());
  // major and minor are plain integers in the model, so "required unless the type is p" is
  // checked here, where absence is still visible.
  if (d.type == "c" || d.type == "b" || d.type == "u") {
    for (const char* key : {"major", "minor"}) {
      Reader f = r.Field(key);
      if (!f.present()) return f.Fail(StrCat("required for device type ", Quote(d.type)));
    }
  }
  return Ok();
}

static Status ReadValue(const Reader& r, DeviceRule& d) {
  return ObjectReader(r)
      .Get("allow", d.allow)
      .Get("type", d.type)
      .Get("major", d.major)
      .Get("minor", d.minor)
      .Get("access", d.access)
      .Done();
}

static Status ReadValue(const Reader& r, MemoryResources& m) {
  return ObjectReader(r)
      .Get("limit", m.limit)
      .Get("reservation", m.reservation)
      .Get("swap", m.swap)
      .Get("kernel", m.kernel)
      .Get("kernelTCP", m.kernel_tcp)
      .Get("swappiness", m.swappiness)
      .Get("disableOOMKiller", m.disable_oom_killer)
      .Get("useHierarchy", m.use_hierarchy)
      .Get("checkBeforeUpdate", m.check_before_update)
      .Done();
}

static Status ReadValue(const Reader& r, CpuResources& c) {
  return ObjectReader(r)
      .Get("shares", c.shares)
      .Get("quota", c.quota)
      .Get("burst", c.burst)
      .Get("period", c.period)
      .Get("realtimeRuntime", c.realtime_runtime)
      .Get("realtimePeriod", c.realtime_period)
      .Get("cpus", c.cpus)
      .Get("mems", c.mems)
      .Get("idle", c.idle)
      .Done();
}

static Status ReadValue(const Reader& r, PidsResources& p) {
  return ObjectReader(r).Get("limit", p.limit).Done();
}

static Status ReadValue(const Reader& r, WeightDevice& w) {
  return ObjectReader(r)
      .Get("major", w.major)
      .Get("minor", w.minor)
      .Get("weight", w.weight)
      .Get("leafWeight", w.leaf_weight)
      .Done();
}

static Status ReadValue(const Reader& r, ThrottleDevice& t) {
  return ObjectReader(r).Get("major", t.major).Get("minor", t.minor).Get("rate", t.rate).Done();
}

static Status ReadValue(const Reader& r, BlockIoResources& b) {
  return ObjectReader(r)
      .Get("weight", b.weight)
      .Get("leafWeight", b.leaf_weight)
      .Get("weightDevice", b.weight_device)
      .Get("throttleReadBpsDevice", b.throttle_read_bps_device)
      .Get("throttleWriteBpsDevice", b.throttle_write_bps_device)
      .Get("throttleReadIOPSDevice", b.throttle_read_iops_device)
      .Get("throttleWriteIOPSDevice", b.throttle_write_iops_device)
      .Done();
}

static Status ReadValue(const Reader& r, HugepageLimit& h) {
  return ObjectReader(r).Get("pageSize", h.page_size).Get("limit", h.limit).Done();
}

static Status ReadValue(const Reader& r, NetworkPriority& p) {
  return ObjectReader(r).Get("name", p.name).Get("priority", p.priority).Done();
}

static Status ReadValue(const Reader& r, NetworkResources& n) {
  return ObjectReader(r).Get("classID", n.class_id).Get("priorities", n.priorities).Done();
}

static Status ReadValue(const Reader& r, RdmaLimit& l) {
  return ObjectReader(r).Get("hcaHandles", l.hca_handles).Get("hcaObjects", l.hca_objects).Done();
}

static Status ReadValue(const Reader& r, Resources& res) {
  return ObjectReader(r)
      .Get("devices", res.devices)
      .Get("memory", res.memory)
      .Get("cpu", res.cpu)
      .Get("pids", res.pids)
      .Get("blockIO", res.block_io)
      .Get("hugepageLimits", res.hugepage_limits)
      .Get("network", res.network)
      .Get("rdma", res.rdma)
      .Get("unified", res.unified)
      .Done();
}

static Status ReadValue(const Reader& r, SeccompArg& a) {
  return ObjectReader(r)
      .Get("index", a.index)
      .Get("value", a.value)
      .Get("valueTwo", a.value_two)
      .Get("op", a.op)
      .Done();
}

static Status ReadValue(const Reader& r, SeccompSyscall& s) {
  return ObjectReader(r)
      .Get("names", s.names)
      .Get("action", s.action)
      .Get("errnoRet", s.errno_ret)
      .Get("args", s.args)
      .Done();
}

static Status ReadValue(const Reader& r, Seccomp& s) {
  return ObjectReader(r)
      .Get("defaultAction", s.default_action)
      .Get("defaultErrnoRet", s.default_errno_ret)
      .Get("architectures", s.architectures)
      .Get("flags", s.flags)
      .Get("listenerPath", s.listener_path)
      .Get("listenerMetadata", s.listener_metadata)
      .Get("syscalls", s.syscalls)
      .Done();
}

static Status ReadValue(const Reader& r, Personality& p) {
  return ObjectReader(r).Get("domain", p.domain).Get("flags", p.flags).Done();
}

static Status ReadValue(const Reader& r, IntelRdt& i) {
  return ObjectReader(r)
      .Get("closID", i.clos_id)
      .Get("schemata", i.schemata)
      .Get("l3CacheSchema", i.l3_cache_schema)
      .Get("memBwSchema", i.mem_bw_schema)
      .Get("enableCMT", i.enable_cmt)
      .Get("enableMBM", i.enable_mbm)
      .Done();
}

static Status ReadValue(const Reader& r, NetDevice& d) {
  return ObjectReader(r).Get("name", d.name).Done();
}

static Status ReadValue(const Reader& r, Linux& l) {
  return ObjectReader(r)
      .Get("namespaces", l.namespaces)
      .Get("uidMappings", l.uid_mappings)
      .Get("gidMappings", l.gid_mappings)
      .Get("timeOffsets", l.time_offsets)
      .Get("devices", l.devices)
      .Get("netDevices", l.net_devices)
      .Get("resources", l.resources)
      .Get("cgroupsPath", l.cgroups_path)
      .Get("sysctl", l.sysctl)
      .Get("seccomp", l.seccomp)
      .Get("rootfsPropagation", l.rootfs_propagation)
      .Get("maskedPaths", l.masked_paths)
      .Get("readonlyPaths", l.readonly_paths)
      .Get("mountLabel", l.mount_label)
      .Get("personality", l.personality)
      .Get("intelRdt", l.intel_rdt)
      .Done();
}

// ---- the document ----

// Sections for other platforms are kept only as "present" flags; Validate refuses them.
static Status ReadPresence(const Reader& r, std::string_view key, bool& present) {
  Reader f = r.Field(key);
  if (!f.present()) return Ok();
  BERTH_TRY(f.ExpectObject());
  present = true;
  return Ok();
}

static Status ReadValue(const Reader& r, Spec& s) {
  BERTH_TRY(ObjectReader(r)
                .Get("ociVersion", s.oci_version)
                .Get("root", s.root)
                .Get("process", s.process)
                .Get("hostname", s.hostname)
                .Get("domainname", s.domainname)
                .Get("mounts", s.mounts)
                .Get("hooks", s.hooks)
                .Get("annotations", s.annotations)
                .Get("linux", s.linux_config)
                .Done());
  BERTH_TRY(ReadPresence(r, "windows", s.has_windows));
  BERTH_TRY(ReadPresence(r, "solaris", s.has_solaris));
  BERTH_TRY(ReadPresence(r, "vm", s.has_vm));
  BERTH_TRY(ReadPresence(r, "zos", s.has_zos));
  return Ok();
}

template <class T>
static Result<T> ReadDocument(const Json& j, std::string_view what) {
  T out{};
  BERTH_TRY(ReadValue(Reader(what, j), out));
  return out;
}

}  // namespace internal

Result<Spec> SpecFromJson(const Json& j, std::string_view what) {
  return internal::ReadDocument<Spec>(j, what);
}

Result<Spec> ParseSpec(std::string_view text, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(text, what));
  return SpecFromJson(j, what);
}

Result<Spec> LoadSpec(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseSpec(text, path);
}

Result<Process> ProcessFromJson(const Json& j, std::string_view what) {
  return internal::ReadDocument<Process>(j, what);
}

Result<Resources> ResourcesFromJson(const Json& j, std::string_view what) {
  return internal::ReadDocument<Resources>(j, what);
}

}  // namespace berth::oci
