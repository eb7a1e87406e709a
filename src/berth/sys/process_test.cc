#include "berth/sys/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace berth::sys {
namespace {

TEST(ProcessTest, StartTimeOfSelf) {
  auto a = ProcessStartTime(::getpid());
  ASSERT_TRUE(a.has_value());
  EXPECT_GT(*a, 0u);
  EXPECT_EQ(*ProcessStateChar(::getpid()), 'R');
}

TEST(ProcessTest, SpawnFeedsStdinAndReportsExit) {
  SpawnOptions o;
  o.path = "/bin/sh";
  o.args = {"sh", "-c", "read x; test \"$x\" = hello && exit 7"};
  o.stdin_data = "hello\n";
  auto c = Spawn(o);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  auto st = c->Wait();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(ExitCodeFromWaitStatus(*st), 7);
}

TEST(ProcessTest, WaitForTimesOutThenKillReaps) {
  SpawnOptions o;
  o.path = "/bin/sleep";
  o.args = {"sleep", "30"};
  auto c = Spawn(o);
  ASSERT_TRUE(c.has_value());
  auto r = c->WaitFor(std::chrono::milliseconds(50));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_value());
  pid_t pid = c->pid();
  c->KillAndReap();
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(ProcessTest, DestructorKillsUnwaitedChild) {
  pid_t pid;
  {
    SpawnOptions o;
    o.path = "/bin/sleep";
    o.args = {"sleep", "30"};
    auto c = Spawn(o);
    ASSERT_TRUE(c.has_value());
    pid = c->pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(ProcessTest, ExitCodeFromSignal) {
  EXPECT_EQ(ExitCodeFromWaitStatus(SIGKILL), 137);  // WIFSIGNALED with SIGKILL
}

}  // namespace
}  // namespace berth::sys
