// `exec`: a new process in a running container, with runc's flags (--env, --cwd, --user,
// --process, --detach, --pid-file, --cap) and its exit code propagated.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/cgroups.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

class ExecTest : public RuntimeTest {
 protected:
  // A running container whose init sleeps; returns its id.
  std::string StartSleeper() {
    std::string id = NewId();
    SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
    CommandResult c = CreateAndStart(id, bundle());
    EXPECT_TRUE(c.ok());
    return id;
  }

  // Inode of /proc/PID/ns/NAME as the host sees it.
  static uint64_t NsInode(int pid, const std::string& name) {
    struct stat st;
    if (::stat(StrCat("/proc/", pid, "/ns/", name).c_str(), &st) != 0) return 0;
    return st.st_ino;
  }
};

TEST_F(ExecTest, JoinsTheContainerAndPropagatesExitCode) {
  std::string id = StartSleeper();
  int init = rt().Pid(id);
  CommandResult r = rt().Exec(id, {"/probe", "report"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  ASSERT_TRUE(rep.value("ok", false)) << r.Describe();
  EXPECT_NE(rep["pid"], 1) << "exec'd process is not the init";
  for (const char* ns : {"mnt", "pid", "net", "ipc", "uts", "cgroup", "user"}) {
    EXPECT_EQ(rep["ns"][ns].get<uint64_t>(), NsInode(init, ns)) << ns;
  }
  EXPECT_EQ(rep["hostname"], "runc");
  // The same cgroups as the init.
  EXPECT_EQ(rep["cgroup"],
            Json(Split(std::string(Trim(*ReadFile(StrCat("/proc/", init, "/cgroup")))), '\n')));
  // The config's environment and capabilities apply to exec'd processes too.
  EXPECT_TRUE(HasEnv(rep, "BERTH_ITEST=" + tag()));
  EXPECT_EQ(rep["caps"]["bounding"].get<uint64_t>(), 0x20000420u);
  EXPECT_EQ(rep["no_new_privs"], 1);

  CommandResult e = rt().Exec(id, {"/probe", "exit", "7"});
  EXPECT_EQ(e.exit_code, 7) << e.Describe();
  CommandResult s = rt().Exec(id, {"/bin/sh", "-c", "echo out; echo err >&2; exit 4"});
  EXPECT_EQ(s.exit_code, 4);
  EXPECT_THAT(s.out, HasSubstr("out"));
  EXPECT_THAT(s.err, HasSubstr("err"));
  EXPECT_EQ(rt().Status(id), "running") << "exec's exit must not stop the container";
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, ExitCodeOfSignalledProcess) {
  std::string id = StartSleeper();
  CommandResult r = rt().Exec(id, {"/probe", "signal-self", "KILL"});
  EXPECT_EQ(r.exit_code, 128 + SIGKILL) << r.Describe();
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, EnvCwdUser) {
  std::string id = StartSleeper();
  CommandResult r =
      rt().Exec(id, {"/probe", "report"},
                {"--env", "FOO=bar", "--env", "TERM=dumb", "--cwd", "/tmp", "--user", "1000:1000"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_TRUE(HasEnv(rep, "FOO=bar"));
  EXPECT_TRUE(HasEnv(rep, "TERM=dumb")) << "--env overrides the config's value";
  EXPECT_FALSE(HasEnv(rep, "TERM=xterm"));
  EXPECT_EQ(rep["cwd"], "/tmp");
  EXPECT_EQ(rep["uid"], 1000);
  EXPECT_EQ(rep["euid"], 1000);
  EXPECT_EQ(rep["gid"], 1000);
  // A non-root user keeps no capabilities without ambient ones.
  EXPECT_EQ(rep["caps"]["effective"].get<uint64_t>(), 0u);
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, ProcessFile) {
  std::string id = StartSleeper();
  Json process = {
      {"terminal", false},
      {"user", {{"uid", 1000}, {"gid", 100}, {"additionalGids", {5}}}},
      {"args", {"/probe", "report"}},
      {"env", {"PATH=/bin", "ONLY=this"}},
      {"cwd", "/home/user"},
      {"capabilities",
       {{"bounding", {"CAP_KILL"}},
        {"effective", {"CAP_KILL"}},
        {"permitted", {"CAP_KILL"}},
        {"inheritable", {"CAP_KILL"}},
        {"ambient", {"CAP_KILL"}}}},
      {"noNewPrivileges", true},
  };
  std::string file = dir() + "/process.json";
  ASSERT_TRUE(WriteFile(file, process.dump()).has_value());
  CommandResult r = rt().Exec(id, {}, {"--process", file});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["uid"], 1000);
  EXPECT_EQ(rep["gid"], 100);
  EXPECT_EQ(rep["groups"], Json({5}));
  EXPECT_EQ(rep["cwd"], "/home/user");
  EXPECT_TRUE(HasEnv(rep, "ONLY=this"));
  EXPECT_FALSE(HasEnv(rep, "BERTH_ITEST=" + tag())) << "--process replaces the config's env";
  EXPECT_EQ(rep["caps"]["ambient"].get<uint64_t>(), 1u << 5);
  EXPECT_EQ(rep["caps"]["effective"].get<uint64_t>(), 1u << 5);
  EXPECT_EQ(rep["caps"]["bounding"].get<uint64_t>(), 1u << 5);
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, HomeComesFromPasswdUnlessSet) {
  std::string id = StartSleeper();
  CommandResult u = rt().Exec(id, {"/probe", "report", "env"}, {"--user", "1000"});
  ASSERT_EQ(u.exit_code, 0) << u.Describe();
  EXPECT_TRUE(HasEnv(ProbeLine(u.out, "report"), "HOME=/home/user")) << u.out;
  CommandResult r = rt().Exec(id, {"/probe", "report", "env"});
  EXPECT_TRUE(HasEnv(ProbeLine(r.out, "report"), "HOME=/root")) << r.out;
  CommandResult s = rt().Exec(id, {"/probe", "report", "env"}, {"--env", "HOME=/x"});
  EXPECT_TRUE(HasEnv(ProbeLine(s.out, "report"), "HOME=/x")) << s.out;
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, DetachedWithPidFile) {
  std::string id = StartSleeper();
  std::string pid_file = dir() + "/exec.pid";
  CommandResult r = rt().Exec(id, {"/probe", "sleep", "100"}, {"--detach", "--pid-file", pid_file});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_LT(r.elapsed, std::chrono::seconds(10));
  auto text = ReadFile(pid_file);
  ASSERT_TRUE(text.has_value()) << "no pid file";
  int pid = std::atoi(text->c_str());
  ASSERT_GT(pid, 0);
  EXPECT_EQ(::kill(pid, 0), 0) << "detached exec process is not running";
  EXPECT_THAT(CgroupPathOf(pid, "pids"), HasSubstr(id));
  // The pid file may be written just before the runtime's helper execs the process.
  std::string cmdline;
  for (int i = 0; i < 250 && cmdline.find("sleep") == std::string::npos; i++) {
    cmdline = ReadFile(StrCat("/proc/", pid, "/cmdline")).value_or("");
    usleep(20000);
  }
  EXPECT_THAT(cmdline, HasSubstr("sleep")) << "pid file names a process that never ran it";
  // ps lists it; delete --force takes it down with the init.
  CommandResult ps = rt().Run({"ps", "--format", "json", id});
  EXPECT_THAT(Json::parse(ps.out, nullptr, false).get<std::vector<int>>(), Contains(pid));
  EXPECT_TRUE(rt().Delete(id, true).ok());
  for (int i = 0; i < 200 && ::kill(pid, 0) == 0; i++) usleep(20000);
  EXPECT_NE(::kill(pid, 0), 0) << "exec'd process survived delete --force";
  ExpectNoLeaks();
}

TEST_F(ExecTest, AddedCapability) {
  std::string id = StartSleeper();
  CommandResult r = rt().Exec(id, {"/probe", "report", "caps"}, {"--cap", "CAP_CHOWN"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["caps"]["bounding"].get<uint64_t>(), 0x20000420u | 1u);
  EXPECT_EQ(rep["caps"]["effective"].get<uint64_t>(), 0x20000420u | 1u);
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, IntoStoppedOrUnknownContainerFails) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "exit", "0"});
  CreateAndStart(id, bundle());
  ASSERT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_NE(rt().Exec(id, {"/probe", "exit", "0"}).exit_code, 0);
  EXPECT_NE(rt().Exec(tag() + "-nosuch", {"/probe", "exit", "0"}).exit_code, 0);
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(ExecTest, MissingExecutableFails) {
  std::string id = StartSleeper();
  CommandResult r = rt().Exec(id, {"/nonexistent"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(rt().Status(id), "running");
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
