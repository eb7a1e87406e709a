// Integration tests (root, real kernel): the v2 manager on a real cgroup2 hierarchy. On a
// hybrid host that is the cgroup2 mount beside the v1 controllers (/sys/fs/cgroup/unified
// here), driven with v2 semantics: CLONE_INTO_CGROUP, cgroup.freeze, cgroup.kill, the BPF
// device filter. Cgroups are named berth-test-<pid>-<n> and removed even when a check fails;
// every process started here is killed and reaped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/manager.h"
#include "berth/cgroup/v2/bpf.h"
#include "berth/sys/syscalls.h"

namespace berth::cgroup {
namespace {

std::string UniqueName() {
  static int n = 0;
  return StrCat("berth-test-", static_cast<int64_t>(::getpid()), "-", n++);
}

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.has_value() ? std::string(Trim(*r)) : "<" + r.error().message() + ">";
}

uint64_t CpuTicks(pid_t pid) {
  auto stat = ReadFile(StrCat("/proc/", static_cast<int64_t>(pid), "/stat"));
  if (!stat.has_value()) return 0;
  auto f = SplitNonEmpty(stat->substr(stat->rfind(')') + 2), ' ');
  // f[0] is field 3 (state); utime and stime are fields 14 and 15.
  return std::stoull(f[11]) + std::stoull(f[12]);
}

// A child started directly in the cgroup with clone3(CLONE_INTO_CGROUP). Killed and reaped
// on destruction unless waited for.
class CgroupChild {
 public:
  CgroupChild(int cgroup_fd, std::function<int()> body) {
    struct clone_args args = {};
    args.flags = CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<uint64_t>(cgroup_fd);
    pid_ = sys::Clone3(&args);
    if (pid_ == 0) ::_exit(body());
    err_ = pid_ < 0 ? errno : 0;
  }
  ~CgroupChild() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  CgroupChild(const CgroupChild&) = delete;
  CgroupChild& operator=(const CgroupChild&) = delete;

  pid_t pid() const { return pid_; }
  int error() const { return err_; }
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
  int err_ = 0;
  bool reaped_ = false;
};

class CgroupV2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to create cgroups";
    auto l = DetectLayout();
    ASSERT_TRUE(l.has_value()) << l.error().message();
    if (l->unified_mount.empty()) GTEST_SKIP() << "no cgroup2 hierarchy mounted";
    // v2 semantics on the cgroup2 mount, whatever else the host has.
    layout_.mode = Mode::kUnified;
    layout_.unified_mount = l->unified_mount;
    layout_.unified_controllers = l->unified_controllers;
    if (l->mount_roots.count(l->unified_mount)) {
      layout_.mount_roots[l->unified_mount] = l->mount_roots.at(l->unified_mount);
    }
  }

  void TearDown() override {
    for (auto& m : managers_) {
      (void)m->Signal(SIGKILL);
      auto st = m->Destroy();
      EXPECT_TRUE(st.has_value()) << st.error().message();
      for (const auto& [key, dir] : m->Paths()) EXPECT_FALSE(PathExists(dir)) << dir;
    }
  }

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

  std::string Leaf(Manager* m) { return m->Paths()[""]; }

  Layout layout_;
  std::vector<std::unique_ptr<Manager>> managers_;
};

TEST_F(CgroupV2Test, CloneIntoCgroupFreezeThawKill) {
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  ASSERT_GE(m->CloneIntoFd(), 0);
  if (!PathExists(Leaf(m) + "/cgroup.freeze")) GTEST_SKIP() << "no cgroup.freeze (kernel < 5.2)";
  CgroupChild child(m->CloneIntoFd(), [] {
    volatile uint64_t x = 0;
    while (true) x = x + 1;
    return 0;
  });
  ASSERT_GT(child.pid(), 0) << "clone3: " << strerror(child.error());
  auto cg = ProcessCgroups(child.pid());
  ASSERT_TRUE(cg.has_value());
  EXPECT_EQ((*cg)[""], Leaf(m).substr(layout_.unified_mount.size()));
  auto procs = m->Processes();
  ASSERT_TRUE(procs.has_value());
  EXPECT_EQ(*procs, std::vector<pid_t>{child.pid()});

  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto st = m->Freeze();
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kFrozen);
  EXPECT_NE(Read(Leaf(m) + "/cgroup.events").find("frozen 1"), std::string::npos);
  uint64_t t0 = CpuTicks(child.pid());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(CpuTicks(child.pid()), t0) << "a frozen task does not run";
  ASSERT_TRUE(m->Thaw().has_value());
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kThawed);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_GT(CpuTicks(child.pid()), t0);

  auto stats = m->GetStats();
  ASSERT_TRUE(stats.has_value()) << stats.error().message();
  EXPECT_GT(stats->cpu.total_ns, 0u);

  if (!PathExists(Leaf(m) + "/cgroup.kill")) GTEST_SKIP() << "no cgroup.kill (kernel < 5.14)";
  ASSERT_TRUE(m->Signal(SIGKILL).has_value());
  int status = child.Wait();
  EXPECT_TRUE(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

TEST_F(CgroupV2Test, SignalOtherThanKillGoesThroughTheFreezer) {
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  CgroupChild child(m->CloneIntoFd(), [] {
    while (true) ::pause();
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(m->Signal(SIGTERM).has_value());
  int status = child.Wait();
  EXPECT_TRUE(status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  EXPECT_EQ(*m->GetFreezerState(), FreezerState::kThawed);
}

// The child's view of the devices: bit 0 set if /dev/null opened, bit 1 if /dev/zero did,
// bit 2 if mknod of a 1:3 node worked; 64 + errno-ish codes flag unexpected errors.
int ProbeDevices(const std::string& node_path) {
  int out = 0;
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    out |= 1;
    ::close(fd);
  } else if (errno != EPERM) {
    return 64;
  }
  fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    out |= 2;
    ::close(fd);
  } else if (errno != EPERM) {
    return 65;
  }
  if (::mknod(node_path.c_str(), S_IFCHR | 0600, makedev(1, 3)) == 0) {
    out |= 4;
    ::unlink(node_path.c_str());
  } else if (errno != EPERM) {
    return 66;
  }
  return out;
}

TEST_F(CgroupV2Test, BpfDeviceFilterDeniesAndIsReplacedOnUpdate) {
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  char tmpl[] = "/tmp/berth-devtest-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  Defer rm_dir([&] { (void)RemoveAll(dir); });
  std::string node = dir + "/null";

  oci::Resources r;
  r.devices = {{false, "a", std::nullopt, std::nullopt, "rwm"}, {true, "c", 1, 5, "r"}};
  auto st = m->Apply(r);
  if (!st.has_value() && st.error().sys_errno() == EPERM) {
    GTEST_SKIP() << "BPF not permitted: " << st.error().message();
  }
  ASSERT_TRUE(st.has_value()) << st.error().message();
  {
    CgroupChild child(m->CloneIntoFd(), [&] { return ProbeDevices(node); });
    ASSERT_GT(child.pid(), 0);
    int status = child.Wait();
    ASSERT_TRUE(status != -1 && WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 2) << "only /dev/zero (read) is allowed";
  }
  // Outside the cgroup nothing changed.
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  if (fd >= 0) ::close(fd);

  // Update: /dev/null (rwm) too. The old program is detached once the new one is in.
  r.devices.push_back({true, "c", 1, 3, "rwm"});
  st = m->Apply(r);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  auto cg = OpenFile(Leaf(m), O_RDONLY | O_DIRECTORY);
  ASSERT_TRUE(cg.has_value());
  auto progs = v2::QueryDevicePrograms(cg->get());
  ASSERT_TRUE(progs.has_value()) << progs.error().message();
  EXPECT_EQ(progs->size(), 1u);
  {
    CgroupChild child(m->CloneIntoFd(), [&] { return ProbeDevices(node); });
    ASSERT_GT(child.pid(), 0);
    int status = child.Wait();
    ASSERT_TRUE(status != -1 && WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 7);
  }
}

TEST_F(CgroupV2Test, UnifiedKeysAndHugetlb) {
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  oci::Resources r;
  r.unified = {{"cgroup.max.descendants", "2"}};
  const auto& uc = layout_.unified_controllers;
  bool hugetlb = std::find(uc.begin(), uc.end(), "hugetlb") != uc.end() &&
                 PathExists("/sys/kernel/mm/hugepages/hugepages-2048kB");
  if (hugetlb) r.hugepage_limits = {{"2MB", 4 << 20}};
  auto st = m->Apply(r);
  ASSERT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(Read(Leaf(m) + "/cgroup.max.descendants"), "2");
  if (hugetlb) {
    EXPECT_EQ(Read(Leaf(m) + "/hugetlb.2MB.max"), "4194304");
    auto stats = m->GetStats();
    ASSERT_TRUE(stats.has_value()) << stats.error().message();
    EXPECT_EQ(stats->hugetlb.count("2MB"), 1u);
  }
  // A knob the host's cgroup2 does not offer is an error naming the field, not a skip.
  oci::Resources bad;
  bad.unified = {{"memory.high", "1G"}};
  if (std::find(uc.begin(), uc.end(), "memory") == uc.end()) {
    st = m->Apply(bad);
    ASSERT_FALSE(st.has_value());
    EXPECT_EQ(st.error().message().rfind("linux.resources.unified[\"memory.high\"]", 0), 0u)
        << st.error().message();
  }
}

TEST_F(CgroupV2Test, SaveLoadDestroyFromAnotherManager) {
  Manager* m = NewCreated();
  ASSERT_TRUE(m);
  auto loaded = LoadManager(layout_, Json::parse(m->Save().dump()));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_GE((*loaded)->CloneIntoFd(), 0);
  CgroupChild child((*loaded)->CloneIntoFd(), [] {
    while (true) ::pause();
    return 0;
  });
  ASSERT_GT(child.pid(), 0);
  EXPECT_EQ(*m->Processes(), std::vector<pid_t>{child.pid()});
  ASSERT_TRUE((*loaded)->Signal(SIGKILL).has_value());
  EXPECT_NE(child.Wait(), -1);
  ASSERT_TRUE((*loaded)->Destroy().has_value());
  EXPECT_FALSE(m->Exists());
}

}  // namespace
}  // namespace berth::cgroup
