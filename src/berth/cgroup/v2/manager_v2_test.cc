// Unit tests: the v2 manager and the v2 conversions against a fake cgroup2 tree.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fake_cgroupfs.h"
#include "berth/cgroup/manager.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup {
namespace {

using testing::FakeCgroupfs;

TEST(V2ConversionTest, SharesToWeight) {
  EXPECT_EQ(v2::SharesToWeight(0), 0u);
  EXPECT_EQ(v2::SharesToWeight(2), 1u);
  EXPECT_EQ(v2::SharesToWeight(1024), 39u);
  EXPECT_EQ(v2::SharesToWeight(262144), 10000u);
}

TEST(V2ConversionTest, BlkioWeightToIoWeight) {
  EXPECT_EQ(v2::BlkioWeightToIoWeight(10), 1u);
  EXPECT_EQ(v2::BlkioWeightToIoWeight(500), 4950u);
  EXPECT_EQ(v2::BlkioWeightToIoWeight(1000), 10000u);
}

TEST(V2ConversionTest, SwapMaxValue) {
  EXPECT_EQ(*v2::SwapMaxValue(0, -1), "max");  // unlimited memory, swap unset
  EXPECT_EQ(*v2::SwapMaxValue(-1, 100), "max");
  EXPECT_EQ(*v2::SwapMaxValue(0, 100), "");
  EXPECT_EQ(*v2::SwapMaxValue(300, 100), "200");
  EXPECT_EQ(*v2::SwapMaxValue(100, 100), "0");  // swap disabled
  EXPECT_FALSE(v2::SwapMaxValue(50, 100).has_value());
  EXPECT_FALSE(v2::SwapMaxValue(300, 0).has_value());
  EXPECT_FALSE(v2::SwapMaxValue(300, -1).has_value());
}

class ManagerV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string all = "cpuset cpu io memory hugetlb pids\n";
    for (const char* d : {"", "berth"}) {
      fs_.File(JoinPath(d, "cgroup.controllers"), all);
      fs_.File(JoinPath(d, "cgroup.subtree_control"), "");
    }
    leaf_ = "berth/c1";
    fs_.File(Leaf("cgroup.controllers"), all);
    fs_.Files(leaf_, {"cpu.weight", "cpu.max.burst", "cpu.idle", "cpuset.cpus", "cpuset.mems",
                      "memory.swap.max", "memory.low", "memory.high", "pids.max", "io.max",
                      "io.weight", "hugetlb.2MB.max", "cgroup.procs", "cgroup.freeze",
                      "cgroup.kill", "cgroup.subtree_control"});
    fs_.File(Leaf("cpu.max"), "max 100000\n");
    fs_.File(Leaf("memory.max"), "max\n");
    fs_.File(Leaf("cgroup.events"), "populated 0\nfrozen 0\n");
    layout_.mode = Mode::kUnified;
    layout_.unified_mount = fs_.root();
    layout_.unified_controllers = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids"};
    Config c;
    c.path = "/berth/c1";
    auto m = NewManager(layout_, c);
    ASSERT_TRUE(m.has_value()) << m.error().message();
    m_ = std::move(*m);
  }

  std::string Leaf(std::string_view f) const { return JoinPath(leaf_, f); }

  void ExpectError(const oci::Resources& r, const std::string& prefix) {
    auto st = m_->Apply(r);
    ASSERT_FALSE(st.has_value()) << prefix;
    EXPECT_EQ(st.error().message().rfind(prefix, 0), 0u) << st.error().message();
  }

  FakeCgroupfs fs_;
  Layout layout_;
  std::string leaf_;
  std::unique_ptr<Manager> m_;
};

TEST_F(ManagerV2Test, ApplyWritesV2Files) {
  EXPECT_GE(m_->CloneIntoFd(), 0);  // the leaf exists already
  EXPECT_EQ(m_->Paths(), (std::map<std::string, std::string>{{"", fs_.Path(leaf_)}}));
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 256 << 20;
  r.memory->swap = 512 << 20;
  r.memory->reservation = 128 << 20;
  r.memory->disable_oom_killer = false;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 1024;
  r.cpu->quota = 50000;
  r.cpu->period = 100000;
  r.cpu->burst = 10000;
  r.cpu->idle = 0;
  r.cpu->cpus = "0-1";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{0};
  r.block_io = oci::BlockIoResources{};
  r.block_io->weight = 500;
  r.block_io->throttle_write_iops_device = {{8, 0, 0}};
  r.hugepage_limits = {{"2MB", 2 << 21}};
  r.unified = {{"memory.high", "1073741824"}};
  auto st = m_->Apply(r);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(fs_.Read(Leaf("memory.max")), "268435456");
  EXPECT_EQ(fs_.Read(Leaf("memory.swap.max")), "268435456");
  EXPECT_EQ(fs_.Read(Leaf("memory.low")), "134217728");
  EXPECT_EQ(fs_.Read(Leaf("cpu.weight")), "39");
  EXPECT_EQ(fs_.Read(Leaf("cpu.max")), "50000 100000");
  EXPECT_EQ(fs_.Read(Leaf("cpu.max.burst")), "10000");
  EXPECT_EQ(fs_.Read(Leaf("cpu.idle")), "0");
  EXPECT_EQ(fs_.Read(Leaf("cpuset.cpus")), "0-1");
  EXPECT_EQ(fs_.Read(Leaf("pids.max")), "max");
  EXPECT_EQ(fs_.Read(Leaf("io.weight")), "default 4950");
  EXPECT_EQ(fs_.Read(Leaf("io.max")), "8:0 wiops=max");
  EXPECT_EQ(fs_.Read(Leaf("hugetlb.2MB.max")), "4194304");
  EXPECT_EQ(fs_.Read(Leaf("memory.high")), "1073741824");

  // An update of the period alone keeps the quota in force.
  r = {};
  r.cpu = oci::CpuResources{};
  r.cpu->period = 20000;
  ASSERT_TRUE(m_->Apply(r).has_value());
  EXPECT_EQ(fs_.Read(Leaf("cpu.max")), "50000 20000");
  // Unlimited memory with swap unset: both unlimited.
  r = {};
  r.memory = oci::MemoryResources{};
  r.memory->limit = -1;
  ASSERT_TRUE(m_->Apply(r).has_value());
  EXPECT_EQ(fs_.Read(Leaf("memory.max")), "max");
  EXPECT_EQ(fs_.Read(Leaf("memory.swap.max")), "max");
}

TEST_F(ManagerV2Test, EnablesControllersDownThePath) {
  oci::Resources r;
  r.pids = oci::PidsResources{10};
  ASSERT_TRUE(m_->Apply(r).has_value());
  EXPECT_EQ(fs_.Read("cgroup.subtree_control"), "+pids");
  EXPECT_EQ(fs_.Read("berth/cgroup.subtree_control"), "+pids");
  EXPECT_EQ(fs_.Read(Leaf("cgroup.subtree_control")), "");  // never the leaf itself
  // A controller the root does not offer is an error naming the field.
  r = {};
  r.rdma["mlx5_0"] = oci::RdmaLimit{1, std::nullopt};
  ExpectError(r,
              "linux.resources.rdma: not supported by this host (controller `rdma` is not "
              "available in");
}

TEST_F(ManagerV2Test, V1OnlyKnobsAreErrors) {
  oci::Resources r;
  r.cpu = oci::CpuResources{};
  r.cpu->realtime_runtime = 1000;
  ExpectError(r, "linux.resources.cpu.realtimeRuntime: not supported");
  r = {};
  r.memory = oci::MemoryResources{};
  r.memory->disable_oom_killer = true;
  ExpectError(r, "linux.resources.memory.disableOOMKiller: not supported");
  r.memory = oci::MemoryResources{};
  r.memory->swappiness = 60;
  ExpectError(r, "linux.resources.memory.swappiness: not supported");
  r.memory = oci::MemoryResources{};
  r.memory->kernel_tcp = 1;
  ExpectError(r, "linux.resources.memory.kernelTCP: not supported");
  r.memory = oci::MemoryResources{};
  r.memory->limit = 100;
  r.memory->swap = 50;
  ExpectError(r, "linux.resources.memory.swap: 50 is below");
  r = {};
  r.network = oci::NetworkResources{};
  r.network->class_id = 1;
  ExpectError(r, "linux.resources.network.classID: not supported");
  r = {};
  r.block_io = oci::BlockIoResources{};
  r.block_io->leaf_weight = 10;
  ExpectError(r, "linux.resources.blockIO.leafWeight: not supported");
  r = {};
  r.unified = {{"a/b", "1"}};
  ExpectError(r, "linux.resources.unified[\"a/b\"]");
  r.unified = {{"foo.bar", "1"}};
  ExpectError(r,
              "linux.resources.unified[\"foo.bar\"]: not supported by this host (controller "
              "`foo`");
  r = {};
  r.hugepage_limits = {{"1GB", 1}};
  ExpectError(r,
              "linux.resources.hugepageLimits[0].pageSize: not supported by this host (no "
              "`hugetlb.1GB.max`");
}

TEST_F(ManagerV2Test, FreezeKillAndProcs) {
  // The fake kernel reports frozen at once.
  fs_.File(Leaf("cgroup.events"), "populated 1\nfrozen 1\n");
  ASSERT_TRUE(m_->Freeze().has_value());
  EXPECT_EQ(fs_.Read(Leaf("cgroup.freeze")), "1");
  EXPECT_EQ(*m_->GetFreezerState(), FreezerState::kFrozen);
  fs_.File(Leaf("cgroup.events"), "populated 1\nfrozen 0\n");
  EXPECT_EQ(*m_->GetFreezerState(), FreezerState::kFreezing);
  ASSERT_TRUE(m_->Thaw().has_value());
  EXPECT_EQ(*m_->GetFreezerState(), FreezerState::kThawed);
  ASSERT_TRUE(m_->Signal(SIGKILL).has_value());
  EXPECT_EQ(fs_.Read(Leaf("cgroup.kill")), "1");
  fs_.File(Leaf("cgroup.procs"), "12\n5\n");
  fs_.File(Leaf("sub/cgroup.procs"), "7\n12\n");
  auto pids = m_->Processes();
  ASSERT_TRUE(pids.has_value()) << pids.error().message();
  EXPECT_EQ(*pids, (std::vector<pid_t>{5, 7, 12}));
  ASSERT_TRUE(m_->AddProcess(99).has_value());
  EXPECT_EQ(fs_.Read(Leaf("cgroup.procs")), "99");
}

TEST_F(ManagerV2Test, OomEventFdWatchesMemoryEvents) {
  fs_.File(Leaf("memory.events"), "oom 0\noom_kill 0\n");
  auto fd = m_->OomEventFd();
  ASSERT_TRUE(fd.has_value()) << fd.error().message();
  pollfd p{fd->get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  ASSERT_TRUE(WriteCgroupFile(fs_.Path(leaf_), "memory.events", "oom 1\noom_kill 1\n").has_value());
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
}

TEST_F(ManagerV2Test, SaveLoadAndCreate) {
  Json saved = m_->Save();
  EXPECT_EQ(saved,
            Json::parse(StrCat(R"({"mode":"unified","paths":{"":")", fs_.Path(leaf_), R"("}})")));
  auto back = LoadManager(layout_, saved);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ((*back)->Paths(), m_->Paths());
  EXPECT_GE((*back)->CloneIntoFd(), 0);

  Config c;
  c.container_id = "fresh";
  c.own_cgroups = std::map<std::string, std::string>{{"", "/berth"}};
  auto m = NewManager(layout_, c);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ((*m)->CloneIntoFd(), -1);  // not created yet
  ASSERT_TRUE((*m)->Create().has_value());
  EXPECT_TRUE(fs_.Exists("berth/fresh"));
  EXPECT_GE((*m)->CloneIntoFd(), 0);
  ASSERT_TRUE((*m)->Destroy().has_value());
  EXPECT_FALSE(fs_.Exists("berth/fresh"));
}

}  // namespace
}  // namespace berth::cgroup
