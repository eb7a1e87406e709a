// Integration tests (root, real kernel): the cgroup manager on this host's v1 hierarchies
// (hybrid: plus the cgroup2 mount). Every cgroup is named berth-test-<pid>-<n> and removed
// at the end, also when a check fails; every process started here is killed and reaped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/manager.h"

namespace berth::cgroup {
namespace {

std::string UniqueName() {
  static int n = 0;
  return StrCat("berth-test-", static_cast<int64_t>(::getpid()), "-", n++);
}

// A forked child that runs `body` once the parent calls Go() (after placing it in the
// cgroup). Killed and reaped on destruction unless already waited for.
class Child {
 public:
  explicit Child(std::function<int()> body) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(p[1]);
      char c;
      // Wait for the go signal; EOF (parent gone) ends the child.
      if (::read(p[0], &c, 1) != 1) ::_exit(100);
      ::_exit(body());
    }
    ::close(p[0]);
    go_ = p[1];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (go_ >= 0) ::close(go_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void Go() { ASSERT_EQ(::write(go_, "g", 1), 1); }
  // Waits up to `timeout`; the wait status, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        reaped_ = true;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool reaped_ = false;
};

// utime + stime of `pid` in clock ticks.
uint64_t CpuTicks(pid_t pid) {
  auto stat = ReadFile(StrCat("/proc/", static_cast<int64_t>(pid), "/stat"));
  if (!stat.has_value()) return 0;
  auto f = SplitNonEmpty(stat->substr(stat->rfind(')') + 2), ' ');
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  return std::stoull(f[11]) + std::stoull(f[12]);
}

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.has_value() ? std::string(Trim(*r)) : "<" + r.error().message() + ">";
}

bool Killed(int status, int sig) {
  return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

class CgroupV1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    auto l = DetectLayout();
    ASSERT_TRUE(l.has_value()) << l.error().message();
    if (l->mode == Mode::kUnified) GTEST_SKIP() << "host has no cgroup v1 hierarchies";
    layout_ = *l;
  }

  void TearDown() override {
    for (auto& m : managers_) {
      (void)m->Signal(SIGKILL);
      auto st = m->Destroy();
      EXPECT_TRUE(st.has_value()) << st.error().message();
      for (const auto& [key, dir] : m->Paths()) EXPECT_FALSE(PathExists(dir)) << dir;
    }
  }

  // A manager for a fresh, created cgroup, destroyed in TearDown.
  Manager* NewCreated() {
    Config c;
    c.container_id = UniqueName();
    c.path = "/" + c.container_id;
    auto m = NewManager(layout_, c);
    EXPECT_TRUE(m.has_value()) << m.error().message();
    if (!m.has_value()) return nullptr;
    managers_.push_back(std::move(*m));
    Manager* mgr = managers_.back().get();
    auto st = mgr->Create();
    EXPECT_TRUE(st.has_value()) << st.error().message();
    return st.has_value() ? mgr : nullptr;
  }

  bool Has(const std::string& controller) const { return layout_.v1_mounts.count(controller); }

  Layout layout_;
  std::vector<std::unique_ptr<Manager>> managers_;
};

TEST_F(CgroupV1Test, ApplyJoinUpdateStatsKillDestroy) {
  for (const char* c : {"memory", "cpu", "cpuset", "pids", "devices", "freezer"}) {
    if (!Has(c)) GTEST_SKIP() << "no v1 " << c << " hierarchy";
  }
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  auto paths = m->Paths();
  bool memsw = PathExists(paths["memory"] + "/memory.memsw.limit_in_bytes");

  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 64 << 20;
  if (memsw) r.memory->swap = 128 << 20;
  r.memory->reservation = 32 << 20;
  r.memory->swappiness = 0;
  r.cpu = oci::CpuResources{};
  r.cpu->shares = 512;
  r.cpu->quota = 20000;
  r.cpu->period = 100000;
  r.cpu->cpus = "0";
  r.cpu->mems = "0";
  r.pids = oci::PidsResources{32};
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
               {true, "c", 1, 3, "rwm"},
               {true, "c", 1, 5, "rwm"}};
  std::string blk = Read("/sys/block/vda/dev");
  if (Has("blkio") && blk.find(':') != std::string::npos) {
    auto mm = Split(blk, ':');
    r.block_io = oci::BlockIoResources{};
    r.block_io->throttle_read_bps_device = {{std::stoll(mm[0]), std::stoll(mm[1]), 10 << 20}};
  }
  auto st = m->Apply(r);
  ASSERT_TRUE(st.has_value()) << st.error().message();

  EXPECT_EQ(Read(paths["memory"] + "/memory.limit_in_bytes"), "67108864");
  if (memsw) {
    EXPECT_EQ(Read(paths["memory"] + "/memory.memsw.limit_in_bytes"), "134217728");
  }
  EXPECT_EQ(Read(paths["memory"] + "/memory.soft_limit_in_bytes"), "33554432");
  EXPECT_EQ(Read(paths["cpu"] + "/cpu.shares"), "512");
  EXPECT_EQ(Read(paths["cpu"] + "/cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(Read(paths["cpuset"] + "/cpuset.cpus"), "0");
  EXPECT_EQ(Read(paths["pids"] + "/pids.max"), "32");
  EXPECT_EQ(Read(paths["devices"] + "/devices.list"), "c 1:3 rwm\nc 1:5 rwm");
  if (r.block_io) {
    EXPECT_EQ(Read(paths["blkio"] + "/blkio.throttle.read_bps_device"), StrCat(blk, " ", 10 << 20));
  }

  Child child([] {
    // Memory touched after joining is charged to the container's cgroup.
    static char buf[4 << 20];
    for (size_t i = 0; i < sizeof buf; i += 4096) buf[i] = 1;
    while (true) ::pause();
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  st = m->AddProcess(child.pid());
  ASSERT_TRUE(st.has_value()) << st.error().message();
  child.Go();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto cg = ProcessCgroups(child.pid());
  ASSERT_TRUE(cg.has_value());
  std::string name = paths["pids"].substr(layout_.v1_mounts["pids"].size());
  for (const char* c : {"memory", "cpu", "pids", "devices", "freezer", "name=systemd"}) {
    if (cg->count(c)) {
      EXPECT_EQ((*cg)[c], name) << c;
    }
  }
  if (layout_.mode == Mode::kHybrid) {
    EXPECT_EQ((*cg)[""], name);
  }
  auto procs = m->Processes();
  ASSERT_TRUE(procs.has_value());
  EXPECT_EQ(*procs, std::vector<pid_t>{child.pid()});

  // Lowering memory (limit first) and raising it (memsw first) both pass the kernel's
  // limit <= memsw check.
  if (memsw) {
    oci::Resources lower;
    lower.memory = oci::MemoryResources{};
    lower.memory->limit = 32 << 20;
    lower.memory->swap = 48 << 20;
    st = m->Apply(lower);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_EQ(Read(paths["memory"] + "/memory.memsw.limit_in_bytes"), "50331648");
    oci::Resources raise;
    raise.memory = oci::MemoryResources{};
    raise.memory->limit = 256 << 20;
    raise.memory->swap = 512 << 20;
    st = m->Apply(raise);
    ASSERT_TRUE(st.has_value()) << st.error().message();
    EXPECT_EQ(Read(paths["memory"] + "/memory.limit_in_bytes"), "268435456");
    // Unlimited memory makes memory+swap unlimited too.
    oci::Resources unlimited;
    unlimited.memory = oci::MemoryResources{};
    unlimited.memory->limit = -1;
    st = m->Apply(unlimited);
    ASSERT_TRUE(st.has_value()) << st.error().message();
  }

  // Device update on the running container: /dev/zero out, /dev/full in, /dev/null kept.
  oci::Resources dev;
  dev.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"},
                 {true, "c", 1, 3, "rwm"},
                 {true, "c", 1, 7, "rwm"}};
  st = m->Apply(dev);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(Read(paths["devices"] + "/devices.list"), "c 1:3 rwm\nc 1:7 rwm");

  auto stats = m->GetStats();
  ASSERT_TRUE(stats.has_value()) << stats.error().message();
  EXPECT_EQ(stats->pids.current, 1u);
  EXPECT_EQ(stats->pids.limit, 32u);
  EXPECT_GT(stats->memory.usage.usage, 0u);
  EXPECT_GT(stats->cpu.percpu_ns.size(), 0u);
  Json j = StatsToJson(*stats);
  EXPECT_EQ(j["pids"]["current"], 1);

  st = m->Signal(SIGKILL);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_TRUE(Killed(child.Wait(), SIGKILL));
}

TEST_F(CgroupV1Test, PidsLimitStopsForks) {
  if (!Has("pids")) GTEST_SKIP() << "no v1 pids hierarchy";
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.pids = oci::PidsResources{5};
  ASSERT_TRUE(m->Apply(r).has_value());
  Child child([] {
    int ok = 0;
    for (int i = 0; i < 20; ++i) {
      pid_t p = ::fork();
      if (p == 0) {
        while (true) ::pause();
      }
      if (p > 0) ++ok;
      if (p < 0 && errno != EAGAIN) return 99;
    }
    return ok;
  });
  ASSERT_TRUE(m->AddProcess(child.pid()).has_value());
  child.Go();
  int status = child.Wait();
  ASSERT_NE(status, -1);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 4) << "the child itself is one of the 5";
  // The grandchildren are still in the cgroup; kill them all.
  ASSERT_TRUE(m->Signal(SIGKILL).has_value());
  for (int i = 0; i < 200; ++i) {
    auto p = m->Processes();
    if (p.has_value() && p->empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(m->Processes()->empty());
}

TEST_F(CgroupV1Test, FreezeStopsABusyChildAndSignalKeepsPause) {
  if (!Has("freezer")) GTEST_SKIP() << "no v1 freezer hierarchy";
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  Child child([] {
    volatile uint64_t x = 0;
    while (true) x = x + 1;
    return 0;
  });
  ASSERT_TRUE(m->AddProcess(child.pid()).has_value());
  child.Go();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto st = m->Freeze();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kFrozen);
  EXPECT_EQ(Read(m->Paths()["freezer"] + "/freezer.state"), "FROZEN");
  uint64_t t0 = CpuTicks(child.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CpuTicks(child.pid()), t0) << "a frozen task does not run";

  // A signal to a paused container leaves it paused; the task dies once thawed.
  ASSERT_TRUE(m->Signal(SIGTERM).has_value());
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kFrozen);
  EXPECT_EQ(child.Wait(std::chrono::milliseconds(200)), -1);
  ASSERT_TRUE(m->Thaw().has_value());
  EXPECT_TRUE(Killed(child.Wait(), SIGTERM));
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kThawed);
}

TEST_F(CgroupV1Test, SignalThroughFreezerWhenRunning) {
  if (!Has("freezer")) GTEST_SKIP() << "no v1 freezer hierarchy";
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  Child child([] {
    while (true) ::pause();
    return 0;
  });
  ASSERT_TRUE(m->AddProcess(child.pid()).has_value());
  child.Go();
  ASSERT_TRUE(m->Signal(SIGUSR1).has_value());
  EXPECT_TRUE(Killed(child.Wait(), SIGUSR1));
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kThawed);
}

TEST_F(CgroupV1Test, OomKillIsReported) {
  if (!Has("memory")) GTEST_SKIP() << "no v1 memory hierarchy";
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.memory = oci::MemoryResources{};
  r.memory->limit = 16 << 20;
  if (PathExists(m->Paths()["memory"] + "/memory.memsw.limit_in_bytes")) r.memory->swap = 16 << 20;
  ASSERT_TRUE(m->Apply(r).has_value());
  auto efd = m->OomEventFd();
  ASSERT_TRUE(efd.has_value()) << efd.error().message();
  Child child([] {
    size_t n = 128 << 20;
    // mmap(2): anonymous memory, touched page by page to exceed the limit.
    char* p = static_cast<char*>(
        ::mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED) return 98;
    for (size_t i = 0; i < n; i += 4096) p[i] = 1;
    return 0;
  });
  ASSERT_TRUE(m->AddProcess(child.pid()).has_value());
  child.Go();
  EXPECT_TRUE(Killed(child.Wait(std::chrono::seconds(30)), SIGKILL));
  pollfd p{efd->get(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 2000), 1);
  auto stats = m->GetStats();
  ASSERT_TRUE(stats.has_value());
  EXPECT_GE(stats->oom_kills, 1u);
  // (memory.failcnt stays 0 on this 6.x kernel even after an OOM kill; the peak shows the
  // limit was reached.)
  EXPECT_GE(stats->memory.usage.max_usage, 15u << 20);
}

TEST_F(CgroupV1Test, EmptyPathIsOwnCgroupPlusId) {
  if (!Has("memory")) GTEST_SKIP() << "no v1 memory hierarchy";
  Config c;
  c.container_id = UniqueName();
  auto own = ProcessCgroups(::getpid());
  ASSERT_TRUE(own.has_value());
  auto mgr = NewManager(layout_, c);
  ASSERT_TRUE(mgr.has_value()) << mgr.error().message();
  std::string own_mem = (*own)["memory"] == "/" ? "" : (*own)["memory"];
  std::string expect = StrCat(layout_.v1_mounts["memory"], own_mem, "/", c.container_id);
  EXPECT_EQ((*mgr)->Paths()["memory"], expect);
  managers_.push_back(std::move(*mgr));
  ASSERT_TRUE(managers_.back()->Create().has_value());
  EXPECT_TRUE(PathExists(expect));
}

TEST_F(CgroupV1Test, HybridHugetlbAndUnifiedGoToTheCgroup2Leaf) {
  if (layout_.mode != Mode::kHybrid) GTEST_SKIP() << "not a hybrid host";
  if (Has("hugetlb")) GTEST_SKIP() << "hugetlb is a v1 hierarchy here";
  const auto& uc = layout_.unified_controllers;
  if (std::find(uc.begin(), uc.end(), "hugetlb") == uc.end()) {
    GTEST_SKIP() << "the cgroup2 root offers no hugetlb";
  }
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.hugepage_limits = {{"2MB", 8 << 20}};
  r.unified = {{"cgroup.max.descendants", "3"}};
  auto st = m->Apply(r);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  std::string leaf = m->Paths()[""];
  EXPECT_EQ(Read(leaf + "/hugetlb.2MB.max"), "8388608");
  EXPECT_EQ(Read(leaf + "/cgroup.max.descendants"), "3");
  auto stats = m->GetStats();
  ASSERT_TRUE(stats.has_value()) << stats.error().message();
  EXPECT_EQ(stats->hugetlb.count("2MB"), 1u);
  // SIGKILL through the cgroup2 leaf's cgroup.kill reaches a process joined everywhere.
  Child child([] {
    while (true) ::pause();
    return 0;
  });
  ASSERT_TRUE(m->AddProcess(child.pid()).has_value());
  child.Go();
  ASSERT_TRUE(m->Signal(SIGKILL).has_value());
  EXPECT_TRUE(Killed(child.Wait(), SIGKILL));
}

TEST_F(CgroupV1Test, SaveLoadFromAnotherManagerDestroys) {
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  auto loaded = LoadManager(layout_, Json::parse(m->Save().dump()));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_TRUE((*loaded)->Exists());
  ASSERT_TRUE((*loaded)->Destroy().has_value());
  EXPECT_FALSE(m->Exists());
}

}  // namespace
}  // namespace berth::cgroup
