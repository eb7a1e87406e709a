// Cgroups as the host kernel sees them: limits in the container's cgroup files, a fork bomb
// held by pids.max, the OOM killer at the memory limit, where cgroupsPath puts the container
// (absolute, relative, absent: under the caller's cgroup), annotations in state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/cgroups.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::HasSubstr;

class CgroupsTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (!HostHasCgroupV1("memory") && !HostIsCgroupV2Unified()) {
      GTEST_SKIP() << "no usable cgroup hierarchy";
    }
  }

  // Starts a sleeping container and returns its init pid.
  int StartSleeper(const std::string& id) {
    SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
    CreateAndStart(id, bundle());
    return rt().Pid(id);
  }

  static std::string MemoryLimitFile() {
    return ControllerIsV2("memory") ? "memory.max" : "memory.limit_in_bytes";
  }
};

TEST_F(CgroupsTest, MemoryAndPidsLimitsInTheContainersCgroup) {
  bundle().spec()["linux"]["resources"]["memory"] = {{"limit", 48 << 20}};
  bundle().spec()["linux"]["resources"]["pids"] = {{"limit", 17}};
  std::string id = NewId();
  int pid = StartSleeper(id);
  ASSERT_GT(pid, 0);
  EXPECT_EQ(ReadCgroupFile(pid, "memory", MemoryLimitFile()), std::to_string(48 << 20));
  EXPECT_EQ(ReadCgroupFile(pid, "pids", "pids.max"), "17");
  EXPECT_THAT(HostCgroupDir(pid, "pids"), HasSubstr(id));
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, CpuSharesQuotaAndCpuset) {
  if (!HostHasCgroupV1("cpu")) GTEST_SKIP() << "v1 cpu controller files checked here";
  bundle().spec()["linux"]["resources"]["cpu"] = {
      {"shares", 512}, {"quota", 50000}, {"period", 100000}, {"cpus", "0"}};
  std::string id = NewId();
  int pid = StartSleeper(id);
  EXPECT_EQ(ReadCgroupFile(pid, "cpu", "cpu.shares"), "512");
  EXPECT_EQ(ReadCgroupFile(pid, "cpu", "cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(ReadCgroupFile(pid, "cpu", "cpu.cfs_period_us"), "100000");
  if (HostHasCgroupV1("cpuset")) {
    EXPECT_EQ(ReadCgroupFile(pid, "cpuset", "cpuset.cpus"), "0");
  }
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, ForkBombIsCappedByPidsLimit) {
  bundle().spec()["linux"]["resources"]["pids"] = {{"limit", 10}};
  CommandResult r = RunProbe({"/probe", "fork", "50", "3000"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json f = ProbeLine(r.out, "fork");
  EXPECT_LT(f["forked"].get<int>(), 10) << f;
  EXPECT_GE(f["forked"].get<int>(), 5) << f;
  EXPECT_EQ(f["errno"], "EAGAIN") << f;
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, MemoryLimitTriggersTheOomKiller) {
  bundle().spec()["linux"]["resources"]["memory"] = {{"limit", 32 << 20}};
  // No swap to escape to: swap limit = memory limit where the kernel accounts swap.
  if (PathExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes") || ControllerIsV2("memory")) {
    bundle().spec()["linux"]["resources"]["memory"]["swap"] = 32 << 20;
  }
  CommandResult r = RunProbe({"/probe", "alloc", "256"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.Describe();
  EXPECT_TRUE(ProbeLinesFor(r.out, "alloc").empty()) << "allocated past the limit";
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, NoCgroupsPathNestsUnderTheCallersCgroup) {
  std::string id = NewId();
  int pid = StartSleeper(id);
  for (const char* ctrl : {"memory", "pids"}) {
    if (!HostHasCgroupV1(ctrl) && !ControllerIsV2(ctrl)) continue;
    std::string mine = CgroupPathOf(0, ControllerIsV2(ctrl) ? "" : ctrl);
    std::string theirs = CgroupPathOf(pid, ControllerIsV2(ctrl) ? "" : ctrl);
    std::string want = (mine == "/" ? "" : mine) + "/" + id;
    EXPECT_EQ(theirs, want) << ctrl;
  }
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, AbsoluteCgroupsPath) {
  std::string id = NewId();
  std::string path = "/" + id + "-abs";
  bundle().spec()["linux"]["cgroupsPath"] = path;
  int pid = StartSleeper(id);
  for (const char* ctrl : {"memory", "pids", "freezer"}) {
    if (!HostHasCgroupV1(ctrl)) continue;
    EXPECT_EQ(CgroupPathOf(pid, ctrl), path) << ctrl << ": absolute paths start at the root";
  }
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, RelativeCgroupsPath) {
  std::string id = NewId();
  std::string rel = id + "-rel";
  bundle().spec()["linux"]["cgroupsPath"] = rel;
  int pid = StartSleeper(id);
  for (const char* ctrl : {"memory", "pids"}) {
    if (!HostHasCgroupV1(ctrl)) continue;
    std::string mine = CgroupPathOf(0, ctrl);
    EXPECT_EQ(CgroupPathOf(pid, ctrl), (mine == "/" ? "" : mine) + "/" + rel)
        << ctrl << ": relative paths are under the caller's cgroup";
  }
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, ProcessesStayInTheCgroupAndItIsRemovedOnDelete) {
  std::string id = NewId();
  SetArgs(bundle().spec(), Sh("/probe sleep 100 & /probe sleep 100 & wait"));
  CreateAndStart(id, bundle());
  int pid = rt().Pid(id);
  std::string dir = HostCgroupDir(pid, "pids");
  ASSERT_FALSE(dir.empty());
  std::string procs;
  for (int i = 0; i < 100; i++) {
    procs = ReadFile(dir + "/cgroup.procs").value_or("");
    if (SplitNonEmpty(procs, '\n').size() >= 3) break;
    usleep(20000);
  }
  EXPECT_EQ(SplitNonEmpty(procs, '\n').size(), 3u) << procs;
  EXPECT_TRUE(rt().Delete(id, true).ok());
  EXPECT_FALSE(PathExists(dir)) << "cgroup left after delete";
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, AnnotationsInState) {
  bundle().spec()["annotations"] = {{"org.berth.test", "value"}, {"com.example/b", "2"}};
  std::string id = NewId();
  StartSleeper(id);
  auto st = rt().StateJson(id);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*st)["annotations"], bundle().spec()["annotations"]);
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(CgroupsTest, UpdateWithInvalidValueFailsAndKeepsTheOldOne) {
  bundle().spec()["linux"]["resources"]["pids"] = {{"limit", 40}};
  std::string id = NewId();
  int pid = StartSleeper(id);
  CommandResult u = rt().Run({"update", "--cpuset-cpus", "999", id});
  EXPECT_NE(u.exit_code, 0) << u.Describe();
  EXPECT_EQ(ReadCgroupFile(pid, "pids", "pids.max"), "40");
  EXPECT_EQ(rt().Status(id), "running");
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
