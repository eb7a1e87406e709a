// Tests of ToJson: the spec's member names, absent optionals staying absent, and the round
// trip SpecFromJson(ToJson(x)) == x over every field of the model.
#include <gtest/gtest.h>

#include "berth/oci/spec.h"
#include "berth/oci/test_util.h"

namespace berth::oci {
namespace {

// Every field set to something other than its zero value.
Spec FullSpec() {
  Spec s;
  s.oci_version = "1.2.0";
  s.root = {"rootfs", true};
  Process p;
  p.terminal = true;
  p.console_size = ConsoleSize{24, 80};
  p.user.uid = 1000;
  p.user.gid = 1001;
  p.user.umask = 022;
  p.user.additional_gids = {5, 10};
  p.user.username = "ignored-on-linux";
  p.args = {"/bin/sh", "-c", "echo <&>"};
  p.command_line = "cmd.exe";
  p.env = {"PATH=/bin", "EMPTY="};
  p.cwd = "/work";
  p.capabilities = Capabilities{std::vector<std::string>{"CAP_KILL"}, std::vector<std::string>{},
                                std::nullopt, std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"},
                                std::vector<std::string>{"CAP_NET_RAW"}};
  p.rlimits = {{"RLIMIT_NOFILE", 1024, 4096}, {"RLIMIT_CORE", 0, UINT64_MAX}};
  p.no_new_privileges = true;
  p.apparmor_profile = "berth-default";
  p.oom_score_adj = -500;
  p.selinux_label = "system_u:system_r:container_t:s0";
  p.scheduler = Scheduler{"SCHED_DEADLINE", -5, 0, {"SCHED_FLAG_RECLAIM"}, 10, 20, 30};
  p.io_priority = IoPriority{"IOPRIO_CLASS_BE", 4};
  p.exec_cpu_affinity = CpuAffinity{"0-1", "1"};
  s.process = p;
  s.hostname = "web";
  s.domainname = "example.org";
  s.mounts = {
      {"/proc", "proc", "proc", {}, {}, {}},
      {"/data", "bind", "/srv/data", {"rbind", "ro"}, {{0, 100000, 65536}}, {{0, 200000, 65536}}},
  };
  Hooks h;
  h.prestart = {{"/usr/bin/hook", {"hook", "prestart"}, {"A=1"}, 5}};
  h.create_runtime = {{"/cr", {}, {}, std::nullopt}};
  h.create_container = {{"/cc", {}, {}, 1}};
  h.start_container = {{"/sc", {"sc"}, {}, std::nullopt}};
  h.poststart = {{"/ps", {}, {"B=2"}, std::nullopt}};
  h.poststop = {{"/pst", {}, {}, 30}};
  s.hooks = h;
  s.annotations = {{"io.example/key", "value"}, {"plain", ""}};

  Linux l;
  l.namespaces = {{NamespaceType::kPid, ""},    {NamespaceType::kNetwork, "/run/netns/n1"},
                  {NamespaceType::kMount, ""},  {NamespaceType::kIpc, ""},
                  {NamespaceType::kUts, ""},    {NamespaceType::kUser, ""},
                  {NamespaceType::kCgroup, ""}, {NamespaceType::kTime, ""}};
  l.uid_mappings = {{0, 100000, 65536}};
  l.gid_mappings = {{0, 100000, 65536}, {65536, 1, 1}};
  l.time_offsets = {{"monotonic", {-10, 5}}, {"boottime", {100, 0}}};
  l.devices = {{"c", "/dev/fuse", 10, 229, 0666, 0, 0}, {"p", "/dev/fifo", 0, 0, {}, {}, {}}};
  l.net_devices = {{"eth1", {"net0"}}, {"dummy0", {""}}};
  Resources r;
  r.devices = {{false, "", {}, {}, "rwm"}, {true, "c", 10, 229, "rw"}, {true, "b", 8, {}, "r"}};
  r.memory = MemoryResources{1 << 30, 1 << 29, -1, std::nullopt, 1 << 20, 60, true, false, true};
  r.cpu = CpuResources{1024, 50000, 1000, 100000, 950000, 1000000, "0-1", "0", 1};
  r.pids = PidsResources{128};
  BlockIoResources b;
  b.weight = 500;
  b.leaf_weight = 300;
  b.weight_device = {{8, 0, 600, 400}, {8, 16, 200, std::nullopt}};
  b.throttle_read_bps_device = {{8, 0, 1 << 20}};
  b.throttle_write_bps_device = {{8, 0, 1 << 21}};
  b.throttle_read_iops_device = {{8, 16, 300}};
  b.throttle_write_iops_device = {{8, 16, 400}};
  r.block_io = b;
  r.hugepage_limits = {{"2MB", 1 << 22}, {"1GB", 0}};
  r.network = NetworkResources{0x100001, {{"eth0", 5}}};
  r.rdma = {{"mlx5_1", {3, 10000}}, {"rxe3", {std::nullopt, 7}}};
  r.unified = {{"memory.high", "max"}, {"io.max", "8:0 rbps=1"}};
  l.resources = r;
  l.cgroups_path = "/berth/web";
  l.sysctl = {{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "65536"}};
  Seccomp sc;
  sc.default_action = "SCMP_ACT_ERRNO";
  sc.default_errno_ret = 38;
  sc.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"};
  sc.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  sc.listener_path = "/run/seccomp.sock";
  sc.listener_metadata = "meta";
  sc.syscalls = {
      {{"read", "write"}, "SCMP_ACT_ALLOW", std::nullopt, {}},
      {{"personality"}, "SCMP_ACT_ALLOW", std::nullopt, {{0, 0xffffffff, 8, "SCMP_CMP_MASKED_EQ"}}},
      {{"mkdir"}, "SCMP_ACT_NOTIFY", std::nullopt, {}},
      {{"ptrace"}, "SCMP_ACT_ERRNO", 1, {{1, 2, 0, "SCMP_CMP_EQ"}}}};
  l.seccomp = sc;
  l.rootfs_propagation = "rslave";
  l.masked_paths = {"/proc/kcore"};
  l.readonly_paths = {"/proc/sys"};
  l.mount_label = "system_u:object_r:container_file_t:s0";
  l.personality = Personality{"LINUX32", {}};
  l.intel_rdt = IntelRdt{"clos1", "L3:0=7f0", "L3:0=ff", "MB:0=20", true, false};
  s.linux_config = l;
  return s;
}

TEST(SerializeTest, RoundTripsEveryField) {
  Spec s = FullSpec();
  Json j = ToJson(s);
  auto back = SpecFromJson(j);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_TRUE(*back == s) << j.dump(2);
  // And through text.
  auto text = ParseSpec(j.dump());
  ASSERT_TRUE(text.has_value()) << text.error().message();
  EXPECT_TRUE(*text == s);
  // The full spec is also a valid one.
  auto st = Validate(s);
  EXPECT_TRUE(st.has_value()) << st.error().message();
}

TEST(SerializeTest, RoundTripsOtherPlatformFlags) {
  Spec s;
  s.oci_version = "1.0.0";
  s.has_vm = true;
  s.has_zos = true;
  auto back = SpecFromJson(ToJson(s));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(*back == s);
}

TEST(SerializeTest, UsesTheSpecsMemberNames) {
  Json j = ToJson(FullSpec());
  const Json& p = j["process"];
  EXPECT_EQ(j["ociVersion"], "1.2.0");
  EXPECT_EQ(p["noNewPrivileges"], true);
  EXPECT_EQ(p["oomScoreAdj"], -500);
  EXPECT_EQ(p["apparmorProfile"], "berth-default");
  EXPECT_EQ(p["selinuxLabel"], "system_u:system_r:container_t:s0");
  EXPECT_EQ(p["consoleSize"], Json::parse(R"({"height": 24, "width": 80})"));
  EXPECT_EQ(p["user"]["additionalGids"], Json::parse("[5, 10]"));
  EXPECT_EQ(p["user"]["umask"], 18);
  EXPECT_EQ(p["ioPriority"]["class"], "IOPRIO_CLASS_BE");
  EXPECT_EQ(p["execCPUAffinity"]["initial"], "0-1");
  EXPECT_EQ(p["rlimits"][0],
            Json::parse(R"({"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096})"));
  EXPECT_EQ(p["capabilities"]["effective"], Json::array());  // present though empty
  EXPECT_FALSE(p["capabilities"].contains("inheritable"));

  const Json& l = j["linux"];
  EXPECT_EQ(l["cgroupsPath"], "/berth/web");
  EXPECT_EQ(l["rootfsPropagation"], "rslave");
  EXPECT_EQ(l["maskedPaths"][0], "/proc/kcore");
  EXPECT_EQ(l["readonlyPaths"][0], "/proc/sys");
  EXPECT_EQ(l["mountLabel"], "system_u:object_r:container_file_t:s0");
  EXPECT_EQ(l["uidMappings"][0],
            Json::parse(R"({"containerID": 0, "hostID": 100000, "size": 65536})"));
  EXPECT_EQ(l["timeOffsets"]["monotonic"], Json::parse(R"({"secs": -10, "nanosecs": 5})"));
  EXPECT_EQ(l["netDevices"]["eth1"]["name"], "net0");
  EXPECT_EQ(l["namespaces"][1], Json::parse(R"({"type": "network", "path": "/run/netns/n1"})"));
  EXPECT_EQ(l["devices"][0]["fileMode"], 0666);
  EXPECT_EQ(l["intelRdt"]["closID"], "clos1");
  EXPECT_EQ(l["intelRdt"]["enableCMT"], true);

  const Json& r = l["resources"];
  EXPECT_EQ(r["devices"][0], Json::parse(R"({"allow": false, "access": "rwm"})"));
  EXPECT_EQ(r["memory"]["kernelTCP"], 1 << 20);
  EXPECT_EQ(r["memory"]["disableOOMKiller"], true);
  EXPECT_EQ(r["memory"]["useHierarchy"], false);
  EXPECT_EQ(r["memory"]["checkBeforeUpdate"], true);
  EXPECT_EQ(r["cpu"]["realtimeRuntime"], 950000);
  EXPECT_EQ(r["cpu"]["realtimePeriod"], 1000000);
  EXPECT_EQ(r["blockIO"]["leafWeight"], 300);
  EXPECT_EQ(r["blockIO"]["weightDevice"][0]["leafWeight"], 400);
  EXPECT_EQ(r["blockIO"]["throttleReadBpsDevice"][0]["rate"], 1 << 20);
  EXPECT_EQ(r["blockIO"]["throttleWriteBpsDevice"][0]["rate"], 1 << 21);
  EXPECT_EQ(r["blockIO"]["throttleReadIOPSDevice"][0]["rate"], 300);
  EXPECT_EQ(r["blockIO"]["throttleWriteIOPSDevice"][0]["rate"], 400);
  EXPECT_EQ(r["hugepageLimits"][0], Json::parse(R"({"pageSize": "2MB", "limit": 4194304})"));
  EXPECT_EQ(r["network"]["classID"], 0x100001);
  EXPECT_EQ(r["rdma"]["mlx5_1"]["hcaHandles"], 3);
  EXPECT_EQ(r["unified"]["memory.high"], "max");

  const Json& sc = l["seccomp"];
  EXPECT_EQ(sc["defaultErrnoRet"], 38);
  EXPECT_EQ(sc["listenerPath"], "/run/seccomp.sock");
  EXPECT_EQ(sc["listenerMetadata"], "meta");
  EXPECT_EQ(sc["syscalls"][1]["args"][0],
            Json::parse(R"({"index": 0, "value": 4294967295, "valueTwo": 8,
                            "op": "SCMP_CMP_MASKED_EQ"})"));
  EXPECT_EQ(sc["syscalls"][3]["errnoRet"], 1);

  EXPECT_EQ(j["hooks"]["createRuntime"][0], Json::parse(R"({"path": "/cr"})"));
  EXPECT_EQ(j["hooks"]["prestart"][0]["timeout"], 5);
  EXPECT_TRUE(j["hooks"].contains("createContainer"));
  EXPECT_TRUE(j["hooks"].contains("startContainer"));
  EXPECT_EQ(j["mounts"][1]["gidMappings"][0]["hostID"], 200000);
}

TEST(SerializeTest, AbsentStaysAbsent) {
  Spec s;
  s.oci_version = "1.0.0";
  s.root.path = "rootfs";
  Process p;
  p.args = {"sh"};
  p.cwd = "/";
  s.process = p;
  Linux l;
  Resources r;
  r.memory = MemoryResources{};
  r.memory->limit = 0;
  l.resources = r;
  s.linux_config = l;
  EXPECT_EQ(ToJson(s), Json::parse(R"({
      "ociVersion": "1.0.0",
      "root": {"path": "rootfs"},
      "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
      "linux": {"resources": {"memory": {"limit": 0}}}})"));
}

TEST(SerializeTest, ProcessAndResourcesAlone) {
  Spec s = FullSpec();
  auto p = ProcessFromJson(ToJson(*s.process), "process.json");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_TRUE(*p == *s.process);
  auto r = ResourcesFromJson(ToJson(*s.linux_config->resources), "resources.json");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(*r == *s.linux_config->resources);
}

// Documents written by Go tools are already canonical: parsing and writing them back gives
// the same JSON, so nothing is lost or invented in the saved copy.
TEST(SerializeTest, GoWrittenConfigsComeBackUnchanged) {
  for (const char* name : {"runc_spec.json", "runc_spec_rootless.json", "podman_config.json"}) {
    SCOPED_TRACE(name);
    auto original = ParseJson(testing::ReadTestData(name), name);
    ASSERT_TRUE(original.has_value()) << original.error().message();
    auto spec = SpecFromJson(*original, name);
    ASSERT_TRUE(spec.has_value()) << spec.error().message();
    EXPECT_EQ(ToJson(*spec), *original);
  }
}

}  // namespace
}  // namespace berth::oci
