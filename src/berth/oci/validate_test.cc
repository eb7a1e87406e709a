// Tests of Validate: each rule refuses a bad spec with a message naming the field, and the
// configs real tools write pass.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "berth/oci/default_spec.h"
#include "berth/oci/spec.h"
#include "berth/oci/test_util.h"

namespace berth::oci {
namespace {

// runc's default spec, with a seccomp section so the seccomp rules have something to break.
Spec BaseSpec() {
  auto s = SpecFromJson(DefaultSpec(false));
  EXPECT_TRUE(s.has_value());
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ALLOW";
  sc.syscalls = {{{"reboot"}, "SCMP_ACT_ERRNO", 1, {}}};
  s->linux_config->seccomp = sc;
  return *s;
}

Linux& LinuxOf(Spec& s) { return *s.linux_config; }
Process& ProcOf(Spec& s) { return *s.process; }
Resources& ResOf(Spec& s) {
  if (!LinuxOf(s).resources) LinuxOf(s).resources = Resources{};
  return *LinuxOf(s).resources;
}
void AddNs(Spec& s, NamespaceType t, std::string path = "") {
  LinuxOf(s).namespaces.push_back({t, std::move(path)});
}
void RemoveNs(Spec& s, NamespaceType t) {
  std::erase_if(LinuxOf(s).namespaces, [t](const Namespace& n) { return n.type == t; });
}

struct Case {
  const char* name;
  std::function<void(Spec&)> mutate;
  const char* message;  // the whole message
};

class ValidateErrorTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidateErrorTest, NamesTheField) {
  Spec s = BaseSpec();
  GetParam().mutate(s);
  auto st = Validate(s);
  ASSERT_FALSE(st.has_value()) << "accepted: " << ToJson(s).dump(2);
  EXPECT_EQ(st.error().message(), GetParam().message);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(
    Rules, ValidateErrorTest,
    ::testing::Values(
        // ---- top level ----
        Case{"NoVersion", [](Spec& s) { s.oci_version = ""; }, "ociVersion: required"},
        Case{"BadVersion", [](Spec& s) { s.oci_version = "1.0"; },
             "ociVersion: `1.0` is not a MAJOR.MINOR.PATCH version"},
        Case{"Version2", [](Spec& s) { s.oci_version = "2.0.0"; },
             "ociVersion: unsupported version `2.0.0`: berth implements runtime-spec 1.x"},
        Case{"NoRoot", [](Spec& s) { s.root.path = ""; }, "root.path: required"},
        Case{"NoProcess", [](Spec& s) { s.process.reset(); }, "process: required"},
        Case{"Windows", [](Spec& s) { s.has_windows = true; }, "windows: unsupported on linux"},
        Case{"Solaris", [](Spec& s) { s.has_solaris = true; }, "solaris: unsupported on linux"},
        Case{"Vm", [](Spec& s) { s.has_vm = true; }, "vm: unsupported on linux"},
        Case{"Zos", [](Spec& s) { s.has_zos = true; }, "zos: unsupported on linux"},
        Case{"EmptyAnnotationKey", [](Spec& s) { s.annotations[""] = "x"; },
             "annotations: keys must not be empty"},
        Case{"HostnameWithoutUts", [](Spec& s) { RemoveNs(s, NamespaceType::kUts); },
             "hostname: needs a uts namespace, which linux.namespaces does not list"},
        Case{"DomainnameWithoutUts",
             [](Spec& s) {
               s.hostname = "";
               s.domainname = "example.org";
               RemoveNs(s, NamespaceType::kUts);
             },
             "domainname: needs a uts namespace, which linux.namespaces does not list"},
        Case{"HostnameSysctlConflict",
             [](Spec& s) { LinuxOf(s).sysctl["kernel.hostname"] = "other"; },
             "linux.sysctl[\"kernel.hostname\"]: conflicts with `runc`"},
        // ---- process ----
        Case{"NoArgs", [](Spec& s) { ProcOf(s).args.clear(); }, "process.args: must not be empty"},
        Case{"EmptyArg0", [](Spec& s) { ProcOf(s).args = {""}; },
             "process.args[0]: must not be empty"},
        Case{"NoCwd", [](Spec& s) { ProcOf(s).cwd = ""; }, "process.cwd: required"},
        Case{"RelativeCwd", [](Spec& s) { ProcOf(s).cwd = "work"; },
             "process.cwd: `work` is not an absolute path"},
        Case{"EnvWithoutEquals", [](Spec& s) { ProcOf(s).env.push_back("FOO"); },
             "process.env[2]: `FOO` is not of the form KEY=VALUE"},
        Case{"EnvEmptyName", [](Spec& s) { ProcOf(s).env.push_back("=x"); },
             "process.env[2]: `=x` has an empty name"},
        Case{"UnknownRlimit",
             [](Spec& s) {
               ProcOf(s).rlimits.push_back({"RLIMIT_FOO", 1, 1});
             },
             "process.rlimits[1].type: unknown rlimit `RLIMIT_FOO`"},
        Case{"DuplicateRlimit",
             [](Spec& s) {
               ProcOf(s).rlimits.push_back({"RLIMIT_NOFILE", 1, 1});
             },
             "process.rlimits[1].type: duplicate rlimit `RLIMIT_NOFILE`"},
        Case{"SoftAboveHard", [](Spec& s) { ProcOf(s).rlimits[0].soft = 2048; },
             "process.rlimits[0]: soft limit 2048 exceeds hard limit 1024"},
        Case{"OomScoreAdj", [](Spec& s) { ProcOf(s).oom_score_adj = 1001; },
             "process.oomScoreAdj: must be between -1000 and 1000, got 1001"},
        Case{"SchedPolicy",
             [](Spec& s) { ProcOf(s).scheduler = Scheduler{.policy = "SCHED_FAST"}; },
             "process.scheduler.policy: unknown scheduler policy `SCHED_FAST`"},
        Case{"SchedFlag",
             [](Spec& s) {
               ProcOf(s).scheduler = Scheduler{.policy = "SCHED_OTHER", .flags = {"SCHED_FLAG_X"}};
             },
             "process.scheduler.flags[0]: unknown scheduler flag `SCHED_FLAG_X`"},
        Case{"SchedNice",
             [](Spec& s) { ProcOf(s).scheduler = Scheduler{.policy = "SCHED_OTHER", .nice = 20}; },
             "process.scheduler.nice: must be between -20 and 19, got 20"},
        Case{
            "SchedFifoPriority",
            [](Spec& s) { ProcOf(s).scheduler = Scheduler{.policy = "SCHED_FIFO", .priority = 0}; },
            "process.scheduler.priority: must be between 1 and 99 for SCHED_FIFO, got 0"},
        Case{"SchedDeadline",
             [](Spec& s) {
               ProcOf(s).scheduler =
                   Scheduler{.policy = "SCHED_DEADLINE", .runtime = 5, .deadline = 4};
             },
             "process.scheduler.runtime: must not exceed deadline"},
        Case{"IoPriorityClass",
             [](Spec& s) {
               ProcOf(s).io_priority = IoPriority{"IOPRIO_CLASS_X", 0};
             },
             "process.ioPriority.class: unknown ioPriority class `IOPRIO_CLASS_X`"},
        Case{"IoPriorityLevel",
             [](Spec& s) {
               ProcOf(s).io_priority = IoPriority{"IOPRIO_CLASS_BE", 8};
             },
             "process.ioPriority.priority: must be between 0 and 7, got 8"},
        Case{"CpuAffinity",
             [](Spec& s) {
               ProcOf(s).exec_cpu_affinity = CpuAffinity{"3-1", ""};
             },
             "process.execCPUAffinity.initial: invalid cpu list `3-1`"},
        // ---- mounts ----
        Case{"MountNoDestination", [](Spec& s) { s.mounts[2].destination = ""; },
             "mounts[2].destination: required"},
        Case{"MountBadType", [](Spec& s) { s.mounts[0].type = "proc,ro"; },
             "mounts[0].type: invalid filesystem type `proc,ro`"},
        Case{"MountEmptyOption", [](Spec& s) { s.mounts[1].options.push_back(""); },
             "mounts[1].options[4]: invalid option ``"},
        Case{"BindWithoutSource",
             [](Spec& s) {
               s.mounts.push_back({"/data", "bind", "", {"rbind"}, {}, {}});
             },
             "mounts[7].source: required for a bind mount"},
        Case{"IdmapHalf",
             [](Spec& s) {
               s.mounts.push_back({"/data", "bind", "/srv", {"bind"}, {{0, 1000, 1}}, {}});
             },
             "mounts[7]: uidMappings and gidMappings must be given together"},
        Case{"IdmapNotBind",
             [](Spec& s) {
               s.mounts.push_back({"/t", "tmpfs", "tmpfs", {}, {{0, 1000, 1}}, {{0, 1000, 1}}});
             },
             "mounts[7]: uidMappings and gidMappings need a bind mount"},
        // ---- hooks ----
        Case{"HookRelativePath",
             [](Spec& s) {
               s.hooks = Hooks{.poststop = {{"hook.sh", {}, {}, {}}}};
             },
             "hooks.poststop[0].path: `hook.sh` is not an absolute path"},
        Case{"HookTimeout",
             [](Spec& s) {
               s.hooks = Hooks{.create_runtime = {{"/bin/true", {}, {}, 0}}};
             },
             "hooks.createRuntime[0].timeout: must be positive, got 0"},
        Case{"HookEnv",
             [](Spec& s) {
               s.hooks = Hooks{.prestart = {{"/bin/true", {}, {"NOVALUE"}, {}}}};
             },
             "hooks.prestart[0].env[0]: `NOVALUE` is not of the form KEY=VALUE"},
        // ---- namespaces and what depends on them ----
        Case{"DuplicateNamespace", [](Spec& s) { AddNs(s, NamespaceType::kPid); },
             "linux.namespaces[5].type: duplicate namespace `pid`"},
        Case{"RelativeNamespacePath", [](Spec& s) { LinuxOf(s).namespaces[1].path = "netns/a"; },
             "linux.namespaces[1].path: `netns/a` is not an absolute path"},
        Case{"MappingsWithoutUserns",
             [](Spec& s) {
               LinuxOf(s).uid_mappings = {{0, 1000, 1}};
             },
             "linux.uidMappings: needs a user namespace, which linux.namespaces does not list"},
        Case{"EmptyMapping",
             [](Spec& s) {
               AddNs(s, NamespaceType::kUser);
               LinuxOf(s).gid_mappings = {{0, 1000, 0}};
             },
             "linux.gidMappings[0].size: must be positive"},
        Case{"TimeOffsetsWithoutTimens",
             [](Spec& s) {
               LinuxOf(s).time_offsets["monotonic"] = {1, 0};
             },
             "linux.timeOffsets: needs a new time namespace"},
        Case{"TimeOffsetsJoinedTimens",
             [](Spec& s) {
               AddNs(s, NamespaceType::kTime, "/proc/1/ns/time");
               LinuxOf(s).time_offsets["monotonic"] = {1, 0};
             },
             "linux.timeOffsets: needs a new time namespace"},
        Case{"TimeOffsetsClock",
             [](Spec& s) {
               AddNs(s, NamespaceType::kTime);
               LinuxOf(s).time_offsets["realtime"] = {1, 0};
             },
             "linux.timeOffsets.realtime: unknown clock `realtime` (monotonic or boottime)"},
        Case{"SysctlNotNamespaced", [](Spec& s) { LinuxOf(s).sysctl["vm.swappiness"] = "10"; },
             "linux.sysctl[\"vm.swappiness\"]: not a namespaced sysctl; setting it would change "
             "the host"},
        Case{"SysctlNeedsNetns",
             [](Spec& s) {
               RemoveNs(s, NamespaceType::kNetwork);
               LinuxOf(s).sysctl["net.ipv4.ip_forward"] = "1";
             },
             "linux.sysctl[\"net.ipv4.ip_forward\"]: needs a network namespace, which "
             "linux.namespaces does not list"},
        Case{"SysctlNeedsIpcns",
             [](Spec& s) {
               RemoveNs(s, NamespaceType::kIpc);
               LinuxOf(s).sysctl["kernel.shmmax"] = "1";
             },
             "linux.sysctl[\"kernel.shmmax\"]: needs an ipc namespace, which linux.namespaces "
             "does not list"},
        Case{"SysctlMqueueNeedsIpcns",
             [](Spec& s) {
               RemoveNs(s, NamespaceType::kIpc);
               LinuxOf(s).sysctl["fs/mqueue/msg_max"] = "1";
             },
             "linux.sysctl[\"fs/mqueue/msg_max\"]: needs an ipc namespace, which "
             "linux.namespaces does not list"},
        Case{"SysctlDomainnameNeedsUts",
             [](Spec& s) {
               s.hostname = "";
               RemoveNs(s, NamespaceType::kUts);
               LinuxOf(s).sysctl["kernel.domainname"] = "x";
             },
             "linux.sysctl[\"kernel.domainname\"]: needs a uts namespace, which linux.namespaces "
             "does not list"},
        Case{"NetDevicesNeedNetns",
             [](Spec& s) {
               RemoveNs(s, NamespaceType::kNetwork);
               LinuxOf(s).net_devices["eth1"] = {};
             },
             "linux.netDevices: needs a network namespace, which linux.namespaces does not list"},
        Case{"NetDeviceName", [](Spec& s) { LinuxOf(s).net_devices["eth1"] = {"a/b"}; },
             "linux.netDevices.eth1.name: invalid network interface name `a/b`"},
        // ---- devices ----
        Case{"DeviceType",
             [](Spec& s) {
               LinuxOf(s).devices.push_back({"x", "/dev/x", 1, 1, {}, {}, {}});
             },
             "linux.devices[0].type: unknown device type `x`"},
        Case{"DevicePath",
             [](Spec& s) {
               LinuxOf(s).devices.push_back({"c", "dev/x", 1, 1, {}, {}, {}});
             },
             "linux.devices[0].path: `dev/x` is not an absolute path"},
        Case{"DeviceNegative",
             [](Spec& s) {
               LinuxOf(s).devices.push_back({"b", "/dev/x", -1, 1, {}, {}, {}});
             },
             "linux.devices[0]: major and minor must not be negative"},
        // ---- resources ----
        Case{"DeviceRuleType",
             [](Spec& s) {
               ResOf(s).devices.push_back({true, "x", {}, {}, "r"});
             },
             "linux.resources.devices[1].type: unknown device type `x`"},
        Case{"DeviceRuleAccess", [](Spec& s) { ResOf(s).devices[0].access = "rwx"; },
             "linux.resources.devices[0].access: `rwx` is not a combination of r, w and m"},
        Case{"KernelMemory",
             [](Spec& s) {
               ResOf(s).memory = MemoryResources{};
               ResOf(s).memory->kernel = -1;
             },
             "linux.resources.memory.kernel: kernel memory limits are not supported "
             "(deprecated; gone since Linux 5.4)"},
        Case{"SwapBelowLimit",
             [](Spec& s) {
               ResOf(s).memory = MemoryResources{};
               ResOf(s).memory->limit = 200;
               ResOf(s).memory->swap = 100;
             },
             "linux.resources.memory.swap: memory+swap limit 100 is below the memory limit 200"},
        Case{"Swappiness",
             [](Spec& s) {
               ResOf(s).memory = MemoryResources{};
               ResOf(s).memory->swappiness = 101;
             },
             "linux.resources.memory.swappiness: must be between 0 and 100, got 101"},
        Case{"CpuBurst",
             [](Spec& s) {
               ResOf(s).cpu = CpuResources{};
               ResOf(s).cpu->quota = 1000;
               ResOf(s).cpu->burst = 2000;
             },
             "linux.resources.cpu.burst: must not exceed quota 1000"},
        Case{"Cpuset",
             [](Spec& s) {
               ResOf(s).cpu = CpuResources{};
               ResOf(s).cpu->cpus = "0-";
             },
             "linux.resources.cpu.cpus: invalid cpu list `0-`"},
        Case{"WeightDevice",
             [](Spec& s) {
               ResOf(s).block_io = BlockIoResources{};
               ResOf(s).block_io->weight_device = {{8, 0, {}, {}}};
             },
             "linux.resources.blockIO.weightDevice[0]: needs weight or leafWeight"},
        Case{"PageSize",
             [](Spec& s) {
               ResOf(s).hugepage_limits = {{"2M", 1}};
             },
             "linux.resources.hugepageLimits[0].pageSize: invalid huge page size `2M`"},
        Case{"Rdma", [](Spec& s) { ResOf(s).rdma["mlx5_1"] = {}; },
             "linux.resources.rdma.mlx5_1: needs hcaHandles or hcaObjects"},
        Case{"Unified", [](Spec& s) { ResOf(s).unified["../memory.max"] = "1"; },
             "linux.resources.unified: invalid cgroup file name `../memory.max`"},
        // ---- seccomp ----
        Case{"SeccompNoDefault", [](Spec& s) { LinuxOf(s).seccomp->default_action = ""; },
             "linux.seccomp.defaultAction: required"},
        Case{"SeccompDefault",
             [](Spec& s) { LinuxOf(s).seccomp->default_action = "SCMP_ACT_DENY"; },
             "linux.seccomp.defaultAction: unknown seccomp action `SCMP_ACT_DENY`"},
        Case{"SeccompNotifyDefault",
             [](Spec& s) { LinuxOf(s).seccomp->default_action = "SCMP_ACT_NOTIFY"; },
             "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action"},
        Case{"SeccompDefaultErrno", [](Spec& s) { LinuxOf(s).seccomp->default_errno_ret = 1; },
             "linux.seccomp.defaultErrnoRet: not allowed with default action SCMP_ACT_ALLOW"},
        Case{"SeccompArch",
             [](Spec& s) {
               LinuxOf(s).seccomp->architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
             },
             "linux.seccomp.architectures[1]: unknown seccomp architecture `SCMP_ARCH_Z80`"},
        Case{"SeccompFlag",
             [](Spec& s) { LinuxOf(s).seccomp->flags = {"SECCOMP_FILTER_FLAG_NEW"}; },
             "linux.seccomp.flags[0]: unknown seccomp flag `SECCOMP_FILTER_FLAG_NEW`"},
        Case{"SeccompNoNames", [](Spec& s) { LinuxOf(s).seccomp->syscalls[0].names.clear(); },
             "linux.seccomp.syscalls[0].names: must not be empty"},
        Case{"SeccompNoAction", [](Spec& s) { LinuxOf(s).seccomp->syscalls[0].action = ""; },
             "linux.seccomp.syscalls[0].action: required"},
        Case{"SeccompErrnoWithAllow",
             [](Spec& s) { LinuxOf(s).seccomp->syscalls[0].action = "SCMP_ACT_ALLOW"; },
             "linux.seccomp.syscalls[0].errnoRet: not allowed with action SCMP_ACT_ALLOW"},
        Case{"SeccompArgIndex",
             [](Spec& s) {
               LinuxOf(s).seccomp->syscalls[0].args = {{6, 0, 0, "SCMP_CMP_EQ"}};
             },
             "linux.seccomp.syscalls[0].args[0].index: must be below 6, got 6"},
        Case{"SeccompArgOp",
             [](Spec& s) {
               LinuxOf(s).seccomp->syscalls[0].args = {{0, 0, 0, "SCMP_CMP_XOR"}};
             },
             "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator `SCMP_CMP_XOR`"},
        Case{"SeccompNotifyNeedsListener",
             [](Spec& s) {
               LinuxOf(s).seccomp->syscalls.push_back({{"mount"}, "SCMP_ACT_NOTIFY", {}, {}});
             },
             "linux.seccomp.listenerPath: required"},
        Case{"SeccompMetadataNeedsListener",
             [](Spec& s) { LinuxOf(s).seccomp->listener_metadata = "x"; },
             "linux.seccomp.listenerMetadata: needs listenerPath"},
        // ---- the rest of linux ----
        Case{"Propagation", [](Spec& s) { LinuxOf(s).rootfs_propagation = "rshared,private"; },
             "linux.rootfsPropagation: unknown propagation `rshared,private`"},
        Case{"MaskedPath", [](Spec& s) { LinuxOf(s).masked_paths.push_back("proc/kcore"); },
             "linux.maskedPaths[10]: `proc/kcore` is not an absolute path"},
        Case{"ReadonlyPath", [](Spec& s) { LinuxOf(s).readonly_paths[0] = ""; },
             "linux.readonlyPaths[0]: required"},
        Case{"PersonalityDomain",
             [](Spec& s) {
               LinuxOf(s).personality = Personality{"LINUX64", {}};
             },
             "linux.personality.domain: unknown personality domain `LINUX64`"},
        Case{"PersonalityFlags",
             [](Spec& s) {
               LinuxOf(s).personality = Personality{"LINUX", {"ADDR_NO_RANDOMIZE"}};
             },
             "linux.personality.flags: no personality flags are defined"},
        Case{"ClosId", [](Spec& s) { LinuxOf(s).intel_rdt = IntelRdt{.clos_id = "../x"}; },
             "linux.intelRdt.closID: invalid class of service `../x`"},
        Case{"MemBwSchema",
             [](Spec& s) { LinuxOf(s).intel_rdt = IntelRdt{.mem_bw_schema = "L3:0=1"}; },
             "linux.intelRdt.memBwSchema: must start with `MB:` and be one line"}),
    CaseName);

TEST(ValidateTest, DefaultSpecsAreValid) {
  for (bool rootless : {false, true}) {
    auto s = SpecFromJson(DefaultSpec(rootless));
    ASSERT_TRUE(s.has_value()) << s.error().message();
    auto st = Validate(*s);
    EXPECT_TRUE(st.has_value()) << st.error().message();
  }
  auto st = Validate(BaseSpec());
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

TEST(ValidateTest, RelativeMountDestinationIsAWarning) {
  Spec s = BaseSpec();
  s.mounts.push_back({"tmp", "tmpfs", "tmpfs", {}, {}, {}});
  std::vector<std::string> warnings;
  auto st = Validate(s, &warnings);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0],
            "mounts[7].destination: `tmp` is not absolute; it is taken as relative "
            "to `/`");
  EXPECT_TRUE(Validate(s).has_value());
}

TEST(ValidateTest, JoinedNamespacesSatisfyDependents) {
  // As with runc, a joined namespace (a pod's infra container) is the container's own.
  Spec s = BaseSpec();
  LinuxOf(s).namespaces[1].path = "/run/netns/pod";
  LinuxOf(s).sysctl["net.core.somaxconn"] = "1024";
  EXPECT_TRUE(Validate(s).has_value());
}

TEST(ValidateTest, UnsupportedThingsSayUnsupported) {
  Spec s = BaseSpec();
  s.has_windows = true;
  EXPECT_EQ(Validate(s).error().code(), ErrorCode::kUnsupported);
  s = BaseSpec();
  ResOf(s).memory = MemoryResources{};
  ResOf(s).memory->kernel = 1 << 20;
  EXPECT_EQ(Validate(s).error().code(), ErrorCode::kUnsupported);
  s = BaseSpec();
  ProcOf(s).cwd = "x";
  EXPECT_EQ(Validate(s).error().code(), ErrorCode::kInvalidArgument);
}

TEST(ValidateTest, ProcessAloneUsesTheGivenField) {
  Process p;
  p.args = {"ls"};
  p.cwd = "tmp";
  auto st = ValidateProcess(p, "exec");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(), "exec.cwd: `tmp` is not an absolute path");
}

TEST(ValidateTest, ResourcesAloneUseTheGivenField) {
  Resources r;
  r.devices = {{true, "c", 1, 3, "rwq"}};
  auto st = ValidateResources(r, "resources");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(),
            "resources.devices[0].access: `rwq` is not a combination of r, w and m");
}

}  // namespace
}  // namespace berth::oci
