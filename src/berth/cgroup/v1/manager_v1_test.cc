// Unit tests: the v1/hybrid manager against a fake cgroupfs laid out like this host (v1
// controllers in separate hierarchies, name=systemd, and a cgroup2 mount offering hugetlb).
#include <gtest/gtest.h>
#include <signal.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fake_cgroupfs.h"
#include "berth/cgroup/manager.h"

namespace berth::cgroup {
namespace {

using testing::FakeCgroupfs;

const std::vector<std::string> kControllers = {"cpu",     "cpuacct", "cpuset", "memory",
                                               "devices", "freezer", "blkio",  "pids"};

// The files a real kernel creates in a new cgroup of each hierarchy.
const std::map<std::string, std::vector<std::string>> kFiles = {
    {"cpu",
     {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us", "cpu.cfs_burst_us", "cpu.rt_period_us",
      "cpu.rt_runtime_us", "cpu.idle", "cpu.stat"}},
    {"cpuacct", {"cpuacct.usage"}},
    {"cpuset", {"cpuset.cpus", "cpuset.mems"}},
    {"memory",
     {"memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.soft_limit_in_bytes",
      "memory.swappiness", "memory.oom_control", "memory.kmem.tcp.limit_in_bytes",
      "memory.usage_in_bytes"}},
    {"devices", {"devices.allow", "devices.deny", "devices.list"}},
    {"freezer", {"freezer.state"}},
    {"blkio",
     {"blkio.bfq.weight", "blkio.bfq.weight_device", "blkio.throttle.read_bps_device",
      "blkio.throttle.write_bps_device", "blkio.throttle.read_iops_device",
      "blkio.throttle.write_iops_device"}},
    {"pids", {"pids.max"}},
    {"systemd", {}},
    {"unified",
     {"cgroup.controllers", "cgroup.subtree_control", "cgroup.kill", "hugetlb.2MB.max",
      "memory.high"}},
};

class ManagerV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& [h, files] : kFiles) fs_.Dir(h);
    for (const std::string& c : kControllers) layout_.v1_mounts[c] = fs_.Path(c);
    layout_.v1_mounts["name=systemd"] = fs_.Path("systemd");
    layout_.mode = Mode::kHybrid;
    layout_.unified_mount = fs_.Path("unified");
    layout_.unified_controllers = {"hugetlb"};
    fs_.File("cpuset/cpuset.cpus", "0-1\n");
    fs_.File("cpuset/cpuset.mems", "0\n");
    fs_.File("unified/cgroup.controllers", "hugetlb\n");
    fs_.File("unified/cgroup.subtree_control", "");
  }

  // What the kernel would show in `rel` of every hierarchy once created.
  void KernelCreates(const std::string& rel) {
    for (const auto& [h, files] : kFiles) {
      for (const std::string& f : files) fs_.File(StrCat(h, "/", rel, "/", f));
      fs_.File(StrCat(h, "/", rel, "/cgroup.procs"));
    }
    fs_.File(StrCat("memory/", rel, "/memory.limit_in_bytes"), "9223372036854771712\n");
    fs_.File(StrCat("memory/", rel, "/memory.memsw.limit_in_bytes"), "9223372036854771712\n");
    fs_.File(StrCat("devices/", rel, "/devices.list"), "a *:* rwm\n");
    fs_.File(StrCat("freezer/", rel, "/freezer.state"), "THAWED\n");
    fs_.File(StrCat("unified/", rel, "/cgroup.controllers"), "hugetlb\n");
  }

  std::unique_ptr<Manager> Make(std::string path) {
    Config c;
    c.path = std::move(path);
    c.container_id = "ctr";
    c.own_cgroups = std::map<std::string, std::string>{{"memory", "/process_api/h"}, {"", "/"}};
    auto m = NewManager(layout_, c);
    EXPECT_TRUE(m.has_value()) << m.error().message();
    return m.has_value() ? std::move(*m) : nullptr;
  }

  FakeCgroupfs fs_;
  Layout layout_;
};

TEST_F(ManagerV1Test, PathsCoverEveryHierarchyAndFollowOwnCgroups) {
  auto m = Make("");
  ASSERT_TRUE(m);
  auto p = m->Paths();
  EXPECT_EQ(p.size(), kControllers.size() + 2);
  EXPECT_EQ(p["cpu"], fs_.Path("cpu/ctr"));
  EXPECT_EQ(p["memory"], fs_.Path("memory/process_api/h/ctr"));
  EXPECT_EQ(p["name=systemd"], fs_.Path("systemd/ctr"));
  EXPECT_EQ(p[""], fs_.Path("unified/ctr"));
  EXPECT_EQ(m->CloneIntoFd(), -1);
}

TEST_F(ManagerV1Test, CreateInitialisesCpusetAndApplyWritesEveryController) {
  KernelCreates("berth");
  KernelCreates("berth/c1");
  auto m = Make("/berth/c1");
  ASSERT_TRUE(m);
  auto st = m->Create();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  // Empty cpuset.cpus/mems were filled from the parent, at every level.
  EXPECT_EQ(fs_.Read("cpuset/berth/cpuset.cpus"), "0-1");
  EXPECT_EQ(fs_.Read("cpuset/berth/c1/cpuset.mems"), "0");

  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  r.memory->reservation = 128 << 20;
  r.memory->swappiness = 10;
  r.memory->disable_oom_killer = true;
  r.memory->kernel_tcp = 64 << 20;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 1000;
  r.cpu->realtime_period = 1000000;
  r.cpu->realtime_runtime = 950000;
  r.cpu->idle = 1;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{64};
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  r.block_io->throttle_read_bps_device = {{8, 0, 1048576}};
  r.block_io->weight_device = {{8, 16, 300, std::nullopt}};
  r.hugepage_limits = {{"2MB", 4 << 21}};
  r.unified = {{"memory.high", "max"}};
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", 136, std::nullopt, "rw"}};
  st = m->Apply(r);
  ASSERT_TRUE(st.has_value()) << st.error().message();

  EXPECT_EQ(fs_.Read("memory/berth/c1/memory.limit_in_bytes"), "268435456");
  EXPECT_EQ(fs_.Read("memory/berth/c1/memory.memsw.limit_in_bytes"), "536870912");
  EXPECT_EQ(fs_.Read("memory/berth/c1/memory.soft_limit_in_bytes"), "134217728");
  EXPECT_EQ(fs_.Read("memory/berth/c1/memory.swappiness"), "10");
  EXPECT_EQ(fs_.Read("memory/berth/c1/memory.oom_control"), "1");
  EXPECT_EQ(fs_.Read("memory/berth/c1/memory.kmem.tcp.limit_in_bytes"), "67108864");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.shares"), "512");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.cfs_burst_us"), "1000");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.rt_period_us"), "1000000");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.rt_runtime_us"), "950000");
  EXPECT_EQ(fs_.Read("cpu/berth/c1/cpu.idle"), "1");
  EXPECT_EQ(fs_.Read("cpuset/berth/c1/cpuset.cpus"), "0");
  EXPECT_EQ(fs_.Read("pids/berth/c1/pids.max"), "64");
  // This host's blkio has BFQ's file names only.
  EXPECT_EQ(fs_.Read("blkio/berth/c1/blkio.bfq.weight"), "500");
  EXPECT_EQ(fs_.Read("blkio/berth/c1/blkio.bfq.weight_device"), "8:16 300");
  EXPECT_EQ(fs_.Read("blkio/berth/c1/blkio.throttle.read_bps_device"), "8:0 1048576");
  // hugetlb exists only on the cgroup2 mount: enabled there and written under its leaf.
  EXPECT_EQ(fs_.Read("unified/cgroup.subtree_control"), "+hugetlb");
  EXPECT_EQ(fs_.Read("unified/berth/cgroup.subtree_control"), "+hugetlb");
  EXPECT_EQ(fs_.Read("unified/berth/c1/hugetlb.2MB.max"), "8388608");
  EXPECT_EQ(fs_.Read("unified/berth/c1/memory.high"), "max");
  // Default deny first, then the allow rules (the fake keeps the last write).
  EXPECT_EQ(fs_.Read("devices/berth/c1/devices.deny"), "a *:* rwm");
  EXPECT_EQ(fs_.Read("devices/berth/c1/devices.allow"), "c 136:* rw");
}

TEST_F(ManagerV1Test, UnsupportedRequestsNameTheField) {
  KernelCreates("c2");
  ::unlink(fs_.Path("memory/c2/memory.memsw.limit_in_bytes").c_str());
  auto m = Make("/c2");
  ASSERT_TRUE(m);
  auto expect_error = [&](const oci::Resources& r, const std::string& prefix) {
    auto st = m->Apply(r);
    ASSERT_FALSE(st.has_value()) << prefix;
    EXPECT_EQ(st.error().message().rfind(prefix, 0), 0u) << st.error().message();
  };
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->swap = 1 << 30;
  expect_error(r, "linux.resources.memory.swap: not supported by this host");
  r.memory = oci::MemoryResources{};
  r.memory->kernel = 1 << 20;
  expect_error(r, "linux.resources.memory.kernel");
  r = {};
  r.block_io = oci::BlockIoResources{};
  r.block_io->leaf_weight = 10;
  expect_error(r,
               "linux.resources.blockIO.leafWeight: not supported by this host (no "
               "`blkio.leaf_weight`");
  ::unlink(fs_.Path("blkio/c2/blkio.bfq.weight").c_str());
  r.block_io->leaf_weight.reset();
  r.block_io->weight = 100;
  expect_error(r,
               "linux.resources.blockIO.weight: not supported by this host (no "
               "`blkio.weight` or `blkio.bfq.weight`");
  r = {};
  r.network = oci::NetworkResources{};
  r.network->class_id = 0x100001;
  expect_error(r, "linux.resources.network.classID: not supported by this host (no `net_cls`");
  r = {};
  r.rdma["mlx5_0"] = oci::RdmaLimit{10, 10};
  expect_error(r, "linux.resources.rdma: not supported by this host");
  r = {};
  r.hugepage_limits = {{"1GB", 1 << 30}};
  expect_error(r, "linux.resources.hugepageLimits[0].pageSize: not supported by this host");
  r = {};
  r.unified = {{"../escape", "1"}};
  expect_error(r, "linux.resources.unified[\"../escape\"]");
  r = {};
  r.devices = {{true, "a", std::nullopt, std::nullopt, "r"}};
  expect_error(r, "linux.resources.devices[0]");
  r = {};
  r.memory = oci::MemoryResources{};
  r.memory->swappiness = 150;
  expect_error(r, "linux.resources.memory.swappiness");
}

TEST_F(ManagerV1Test, MemoryLimitAgainstMemswInForce) {
  KernelCreates("c5");
  fs_.File("memory/c5/memory.memsw.limit_in_bytes", "100000000\n");
  auto m = Make("/c5");
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 200000000;
  auto st = m->Apply(r);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message().rfind("linux.resources.memory.limit: 200000000 exceeds the "
                                       "memory+swap limit in force (100000000)",
                                       0),
            0u)
      << st.error().message();
  r.memory->limit = 50000000;
  ASSERT_TRUE(m->Apply(r).has_value());
  EXPECT_EQ(fs_.Read("memory/c5/memory.limit_in_bytes"), "50000000");
  r.memory->swap = 40000000;
  st = m->Apply(r);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message().rfind("linux.resources.memory.swap: 40000000 is below", 0), 0u);
  // -1: unlimited memory, and memory+swap follows.
  r.memory->limit = -1;
  r.memory->swap.reset();
  ASSERT_TRUE(m->Apply(r).has_value());
  EXPECT_EQ(fs_.Read("memory/c5/memory.limit_in_bytes"), "-1");
  EXPECT_EQ(fs_.Read("memory/c5/memory.memsw.limit_in_bytes"), "-1");
}

TEST_F(ManagerV1Test, LegacyHostRefusesUnified) {
  layout_.mode = Mode::kLegacy;
  layout_.unified_mount.clear();
  layout_.unified_controllers.clear();
  KernelCreates("c3");
  auto m = Make("/c3");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->Paths().count(""), 0u);
  oci::Resources r;
  r.unified = {{"memory.high", "max"}};
  auto st = m->Apply(r);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message().rfind("linux.resources.unified: not supported", 0), 0u);
  r = {};
  r.hugepage_limits = {{"2MB", 1}};
  st = m->Apply(r);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("no `hugetlb` cgroup controller"), std::string::npos);
}

TEST_F(ManagerV1Test, AddProcessFreezerAndKillFile) {
  KernelCreates("c4");
  auto m = Make("/c4");
  ASSERT_TRUE(m);
  ASSERT_TRUE(m->AddProcess(4242).has_value());
  for (const char* h : {"cpu", "memory", "pids", "systemd", "unified"}) {
    EXPECT_EQ(fs_.Read(StrCat(h, "/c4/cgroup.procs")), "4242") << h;
  }
  ASSERT_TRUE(m->Freeze().has_value());
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kFrozen);
  ASSERT_TRUE(m->Thaw().has_value());
  EXPECT_EQ(fs_.Read("freezer/c4/freezer.state"), "THAWED");
  // SIGKILL goes through the cgroup2 leaf's cgroup.kill. The fake procs lists no live pid.
  fs_.File("freezer/c4/cgroup.procs", "");
  ASSERT_TRUE(m->Signal(SIGKILL).has_value());
  EXPECT_EQ(fs_.Read("unified/c4/cgroup.kill"), "1");
}

TEST_F(ManagerV1Test, CreateDestroyLeavesParentsAndRollsBack) {
  Layout small;
  small.mode = Mode::kLegacy;
  small.v1_mounts = {{"pids", fs_.Path("pids")}, {"name=systemd", fs_.Path("systemd")}};
  Config c;
  c.path = "/parent/leaf";
  c.own_cgroups = std::map<std::string, std::string>{};
  auto m = NewManager(small, c);
  ASSERT_TRUE(m.has_value());
  ASSERT_TRUE((*m)->Create().has_value());
  ASSERT_TRUE((*m)->Create().has_value());  // idempotent
  EXPECT_TRUE((*m)->Exists());
  EXPECT_TRUE(fs_.Exists("pids/parent/leaf"));
  ASSERT_TRUE((*m)->Destroy().has_value());
  EXPECT_FALSE((*m)->Exists());
  EXPECT_FALSE(fs_.Exists("systemd/parent/leaf"));
  EXPECT_TRUE(fs_.Exists("systemd/parent"));
  ASSERT_TRUE((*m)->Destroy().has_value());  // missing is fine

  // A cpuset hierarchy whose new directory has no files fails initialisation: what Create
  // made in the other hierarchies is removed again.
  small.v1_mounts["cpuset"] = fs_.Path("cpuset");
  auto m2 = NewManager(small, c);
  ASSERT_TRUE(m2.has_value());
  ::rmdir(fs_.Path("pids/parent").c_str());
  EXPECT_FALSE((*m2)->Create().has_value());
  EXPECT_FALSE(fs_.Exists("pids/parent"));
  EXPECT_FALSE(fs_.Exists("cpuset/parent"));
}

TEST_F(ManagerV1Test, SaveLoadRoundTrip) {
  auto m = Make("/berth/rt");
  ASSERT_TRUE(m);
  Json saved = m->Save();
  EXPECT_EQ(saved["mode"], "hybrid");
  auto back = LoadManager(layout_, Json::parse(saved.dump()));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ((*back)->Paths(), m->Paths());

  Layout v2 = layout_;
  v2.mode = Mode::kUnified;
  EXPECT_FALSE(LoadManager(v2, saved).has_value());
  Json evil = saved;
  evil["paths"]["memory"] = fs_.Path("memory/../../etc");
  EXPECT_FALSE(LoadManager(layout_, evil).has_value());
  Json gone = saved;
  gone["paths"]["net_cls"] = "/sys/fs/cgroup/net_cls/x";  // not mounted now: ignored
  EXPECT_TRUE(LoadManager(layout_, gone).has_value());
}

}  // namespace
}  // namespace berth::cgroup
