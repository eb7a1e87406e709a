#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/runtime/hooks.h"
#include "berth/runtime/process_setup.h"
#include "berth/runtime/sync.h"

namespace berth::runtime {
namespace {

TEST(SyncTest, MessagesFdsAndErrors) {
  auto pair = SyncSocket::Pair();
  ASSERT_TRUE(pair.has_value());
  auto& [a, b] = *pair;
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  ASSERT_TRUE(a.Send(SyncType::kFd, "pty", {p[0]}).has_value());
  auto m = b.Recv();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->type, SyncType::kFd);
  EXPECT_EQ(m->payload, "pty");
  ASSERT_EQ(m->fds.size(), 1u);
  ASSERT_EQ(::write(p[1], "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(m->fds[0].get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ::close(p[0]);
  ::close(p[1]);

  ASSERT_TRUE(a.SendError(Error(ErrorCode::kNotFound, "mounts[1]: nope", ENOENT)).has_value());
  auto e = b.Expect(SyncType::kReady);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(), "mounts[1]: nope");
  EXPECT_EQ(e.error().sys_errno(), ENOENT);

  a.Close();
  auto eof = b.Recv();
  ASSERT_FALSE(eof.has_value());
  EXPECT_EQ(eof.error().code(), ErrorCode::kFailedPrecondition);
}

// The init fails before reading a message the runtime sent (kCgroupReady) and exits: the
// kernel reports a reset before the init's queued error, which must still arrive.
TEST(SyncTest, ErrorOfAPeerThatClosedWithUnreadMessagesArrives) {
  auto pair = SyncSocket::Pair();
  ASSERT_TRUE(pair.has_value());
  auto& [runtime_end, init_end] = *pair;
  ASSERT_TRUE(runtime_end.Send(SyncType::kCgroupReady).has_value());  // never read
  ASSERT_TRUE(init_end.SendError(Error(ErrorCode::kNotFound, "linux.sysctl: nope", ENOENT))
                  .has_value());
  init_end.Close();
  auto e = runtime_end.Expect(SyncType::kReady);
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(), "linux.sysctl: nope");
  auto eof = runtime_end.Recv();
  ASSERT_FALSE(eof.has_value());
  EXPECT_EQ(eof.error().code(), ErrorCode::kFailedPrecondition);
}

class HooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-hooks-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).has_value()); }
  std::string dir_;
};

TEST_F(HooksTest, StateOnStdinArgsAndEnv) {
  oci::Hook h;
  h.path = "/bin/sh";
  h.args = {"sh", "-c", "cat > " + dir_ + "/state; echo \"$1 $X\" > " + dir_ + "/args", "sh", "one"};
  h.env = {"X=two"};
  std::string state = HookStateJson("c1", "creating", 42, "/b", {{"a", "b"}});
  ASSERT_TRUE(RunHooks({h}, "createRuntime", state, dir_).has_value());
  EXPECT_EQ(*ReadFile(dir_ + "/state"), state);
  EXPECT_EQ(*ReadFile(dir_ + "/args"), "one two\n");
  auto j = ParseJson(state, "state");
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ((*j)["pid"], 42);
  EXPECT_EQ((*j)["status"], "creating");
  EXPECT_EQ((*j)["annotations"]["a"], "b");
}

TEST_F(HooksTest, FailureNamesHookAndOutput) {
  oci::Hook ok, bad;
  ok.path = "/bin/true";
  bad.path = "/bin/sh";
  bad.args = {"sh", "-c", "echo boom >&2; exit 3"};
  auto st = RunHooks({ok, bad}, "prestart", "{}", dir_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(), "prestart hook #1 `/bin/sh`: exit status 3: boom");
}

TEST_F(HooksTest, TimeoutKillsHook) {
  oci::Hook h;
  h.path = "/bin/sleep";
  h.args = {"sleep", "30"};
  h.timeout = 1;
  auto t0 = std::chrono::steady_clock::now();
  auto st = RunHooks({h}, "poststart", "{}", dir_);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code(), ErrorCode::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

TEST_F(HooksTest, MissingHookBinary) {
  oci::Hook h;
  h.path = dir_ + "/missing";
  auto st = RunHooks({h}, "poststop", "{}", dir_);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("exit status 127"), std::string::npos);
}

TEST_F(HooksTest, LookPathSearchesContainerPath) {
  ASSERT_TRUE(MkdirAll(dir_ + "/bin").has_value());
  ASSERT_TRUE(WriteFile(dir_ + "/bin/tool", "#!/bin/sh\n", 0755).has_value());
  ASSERT_TRUE(WriteFile(dir_ + "/bin/data", "x", 0644).has_value());
  auto p = LookPath("tool", {"PATH=/nonexistent:" + dir_ + "/bin"});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, dir_ + "/bin/tool");
  auto missing = LookPath("data", {"PATH=" + dir_ + "/bin"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().message(), "exec: \"data\": executable file not found in $PATH");
  auto abs = LookPath(dir_ + "/nope", {});
  ASSERT_FALSE(abs.has_value());
  // podman matches this case-insensitively to report exit code 127.
  EXPECT_NE(abs.error().message().find("No such file or directory"), std::string::npos)
      << abs.error().message();
}

}  // namespace
}  // namespace berth::runtime
