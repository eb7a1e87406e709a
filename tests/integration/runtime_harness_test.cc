// Checks of the test harness itself: the leak checker must see what a live container holds
// (otherwise every "no leaks" assertion in the suite would pass vacuously), and the default
// spec and bundle must be what the suite assumes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/cgroups.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

using HarnessTest = RuntimeTest;

bool AnyStartsWith(const std::vector<std::string>& v, std::string_view prefix) {
  for (const auto& s : v) {
    if (s.starts_with(prefix)) return true;
  }
  return false;
}

TEST_F(HarnessTest, LeakCheckerSeesALiveContainer) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CommandResult c = CreateAndStart(id, bundle());
  ASSERT_TRUE(c.ok());
  auto found = leaks().Check(ids());
  std::string all = Join(found, "\n");
  EXPECT_TRUE(AnyStartsWith(found, "state: ")) << all;
  EXPECT_TRUE(AnyStartsWith(found, "cgroup: ")) << all;
  EXPECT_TRUE(AnyStartsWith(found, "process ")) << all;
  // Every v1 hierarchy and the cgroup2 one the runtime joined shows up.
  for (const char* ctrl : {"memory", "pids", "freezer", "devices"}) {
    if (!HostHasCgroupV1(ctrl)) continue;
    EXPECT_THAT(all, HasSubstr(HostCgroupDir(rt().Pid(id), ctrl))) << ctrl;
  }
  ASSERT_TRUE(rt().Delete(id, /*force=*/true).ok());
  ExpectNoLeaks();
}

TEST_F(HarnessTest, LeakCheckerSeesMountsUnderTheTestDir) {
  std::string target = MakeHostDir("mnt");
  ASSERT_EQ(::mount("tmpfs", target.c_str(), "tmpfs", 0, nullptr), 0);
  auto found = leaks().Check(ids());
  EXPECT_TRUE(AnyStartsWith(found, "mount: " + target)) << Join(found, "\n");
  ASSERT_EQ(::umount2(target.c_str(), MNT_DETACH), 0);
  ExpectNoLeaks();
}

TEST_F(HarnessTest, LeakCheckerSeesTaggedProcessesAndForceCleanupEndsThem) {
  // A helper whose command line carries the tag, like a hook would.
  CommandOptions opts;
  opts.timeout = std::chrono::seconds(5);
  std::string script = StrCat("setsid ", ProbePath(), " sleep 100 ", tag(), " >/dev/null 2>&1 &");
  CommandResult r = RunCommand({"/bin/sh", "-c", script}, dir(), opts);
  ASSERT_TRUE(r.ok()) << r.Describe();
  std::vector<pid_t> pids;
  for (int i = 0; i < 50 && pids.empty(); i++) {
    pids = leaks().TaggedProcesses();
    usleep(20000);
  }
  EXPECT_EQ(pids.size(), 1u);
  leaks().ForceCleanup(ids());
  ExpectNoLeaks();
}

TEST_F(HarnessTest, DefaultBundleLayout) {
  for (const char* p : {"/bin/busybox", "/bin/sh", "/probe", "/etc/passwd", "/etc/group"}) {
    EXPECT_TRUE(PathExists(bundle().RootfsPath(p))) << p;
  }
  auto passwd = ReadFile(bundle().RootfsPath("/etc/passwd"));
  ASSERT_TRUE(passwd.has_value());
  EXPECT_THAT(*passwd, HasSubstr("root:x:0:0:"));
  EXPECT_THAT(*passwd, HasSubstr("nobody:x:65534:65534:"));
  EXPECT_THAT(*passwd, HasSubstr("user:x:1000:1000:"));
  EXPECT_EQ(bundle().spec()["process"]["terminal"], false);
  EXPECT_EQ(bundle().spec()["root"]["readonly"], true);
}

TEST_F(HarnessTest, ProbeRunsOnTheHost) {
  CommandResult r = RunCommand({ProbePath(), "report", "ids", "ns"}, dir());
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["uid"], ::getuid());
  EXPECT_TRUE(rep["ns"]["mnt"].is_number());
}

TEST_F(HarnessTest, CommandTimeoutKillsTheProcessGroup) {
  CommandOptions opts;
  opts.timeout = std::chrono::milliseconds(300);
  CommandResult r =
      RunCommand({"/bin/sh", "-c", StrCat(ProbePath(), " sleep 30 ", tag())}, dir(), opts);
  EXPECT_TRUE(r.timed_out);
  ExpectNoLeaks();
}

TEST_F(HarnessTest, OnlyStdioAndPassedFdsReachTheChild) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  CommandOptions opts;
  opts.pass_fds = {fds[0]};
  CommandResult r = RunCommand({ProbePath(), "report", "fds"}, dir(), opts);
  ::close(fds[0]);
  ::close(fds[1]);
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto nums = FdNumbers(ProbeLine(r.out, "report"));
  EXPECT_EQ(nums, (std::vector<int>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace berth::itest
