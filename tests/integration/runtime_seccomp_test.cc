// linux.seccomp: the filter is in place (Seccomp: 2), SCMP_ACT_ERRNO returns errnoRet,
// SCMP_ACT_KILL_PROCESS ends the container with 128 + SIGSYS, argument filters match only
// the given values, and the filter also covers exec'd processes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "harness/fixture.h"

namespace berth::itest {
namespace {

class SeccompTest : public RuntimeTest {
 protected:
  // An allow-by-default profile with `rules` for x86_64.
  static Json Profile(Json rules) {
    return {{"defaultAction", "SCMP_ACT_ALLOW"},
            {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
            {"syscalls", std::move(rules)}};
  }
};

TEST_F(SeccompTest, ErrnoActionWithErrnoRet) {
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 18}}});
  AddMount(bundle().spec(), "/mnt/t", "tmpfs", "tmpfs", {});
  CommandResult r =
      RunProbe(Sh("/probe report status; /probe syscall mkdir /mnt/t/a; "
                  "/probe syscall mkdirat /mnt/t/b; /probe syscall rmdir /mnt/t/a; "
                  "exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "report")["status"]["Seccomp"], "2") << "no filter installed";
  auto calls = ProbeLinesFor(r.out, "syscall");
  ASSERT_EQ(calls.size(), 3u) << r.out;
  EXPECT_EQ(calls[0]["errno"], "EXDEV") << calls[0];  // errnoRet 18
  EXPECT_EQ(calls[1]["errno"], "EXDEV") << calls[1];
  EXPECT_EQ(calls[2]["errno"], "ENOENT") << "rmdir is allowed (and finds nothing)";
  ExpectNoLeaks();
}

TEST_F(SeccompTest, ErrnoActionDefaultsToEperm) {
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}}});
  CommandResult r = RunProbe(Sh("/probe syscall getppid; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "syscall")["errno"], "EPERM");
  ExpectNoLeaks();
}

TEST_F(SeccompTest, KillProcessGives159) {
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"getppid"}}, {"action", "SCMP_ACT_KILL_PROCESS"}}});
  CommandResult r = RunProbe({"/probe", "syscall", "getppid"});
  EXPECT_EQ(r.exit_code, 128 + SIGSYS) << r.Describe();
  EXPECT_EQ(ProbeLinesFor(r.out, "syscall").size(), 0u) << "the call returned";
  ExpectNoLeaks();
}

TEST_F(SeccompTest, ArgumentFilter) {
  // personality(PER_LINUX32) is refused; personality(0xffffffff) (a query) is not.
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"personality"}},
                {"action", "SCMP_ACT_ERRNO"},
                {"errnoRet", 1},
                {"args", {{{"index", 0}, {"value", 8}, {"op", "SCMP_CMP_EQ"}}}}}});
  CommandResult r =
      RunProbe(Sh("/probe syscall personality 0xffffffff; "
                  "/probe syscall personality 8; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto calls = ProbeLinesFor(r.out, "syscall");
  ASSERT_EQ(calls.size(), 2u) << r.out;
  EXPECT_TRUE(calls[0]["ok"].get<bool>()) << calls[0];
  EXPECT_EQ(calls[1]["errno"], "EPERM") << calls[1];
  ExpectNoLeaks();
}

TEST_F(SeccompTest, MaskedEqualityArgumentFilter) {
  // unshare with CLONE_NEWUSER in the flags is refused, other unshares are not.
  bundle().spec()["linux"]["seccomp"] = Profile({{{"names", {"unshare"}},
                                                  {"action", "SCMP_ACT_ERRNO"},
                                                  {"errnoRet", 95},  // EOPNOTSUPP
                                                  {"args",
                                                   {{{"index", 0},
                                                     {"value", 0x10000000},
                                                     {"valueTwo", 0x10000000},
                                                     {"op", "SCMP_CMP_MASKED_EQ"}}}}}});
  SetAllCaps(bundle().spec(), {"CAP_SYS_ADMIN"});
  CommandResult r =
      RunProbe(Sh("/probe syscall unshare user; /probe syscall unshare uts; "
                  "exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto calls = ProbeLinesFor(r.out, "syscall");
  ASSERT_EQ(calls.size(), 2u) << r.out;
  EXPECT_EQ(calls[0]["errno"], "EOPNOTSUPP") << calls[0];
  EXPECT_TRUE(calls[1]["ok"].get<bool>()) << calls[1];
  ExpectNoLeaks();
}

TEST_F(SeccompTest, FilterAppliesToExec) {
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 18}}});
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  CommandResult e = rt().Exec(id, {"/probe", "syscall", "getppid"});
  EXPECT_EQ(ProbeLine(e.out, "syscall")["errno"], "EXDEV") << e.Describe();
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(SeccompTest, FilterWithoutNoNewPrivileges) {
  // As root with CAP_SYS_ADMIN a filter can be loaded without no_new_privs; the runtime
  // must still install it. Without no_new_privs runc loads the filter before its own last
  // steps (it needs CAP_SYS_ADMIN for that), so the filtered syscall must be one the
  // runtime does not make itself between the two (runc's Go init calls getppid: it panics).
  bundle().spec()["process"]["noNewPrivileges"] = false;
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"chroot"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 18}}});
  CommandResult r = RunProbe(Sh("/probe report status; /probe syscall chroot /; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "report")["no_new_privs"], 0);
  EXPECT_EQ(ProbeLine(r.out, "syscall")["errno"], "EXDEV");
  ExpectNoLeaks();
}

TEST_F(SeccompTest, UnknownSyscallInAllowRuleIsSkipped) {
  // Profiles list syscalls newer (or older) than the kernel or libseccomp knows; allowing
  // one that does not exist changes nothing, so it is skipped.
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"getppid"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 18}},
               {{"names", {"berth_no_such_syscall"}}, {"action", "SCMP_ACT_ALLOW"}}});
  CommandResult r = RunProbe(Sh("/probe syscall getppid; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "syscall")["errno"], "EXDEV");
  ExpectNoLeaks();
}

TEST_F(SeccompTest, UnknownSyscallInDenyRule) {
  // runc skips the unknown name and applies the rest; refusing the profile (naming the
  // syscall) is the stricter, also acceptable answer. Applying nothing is not.
  bundle().spec()["linux"]["seccomp"] = Profile({{{"names", {"berth_no_such_syscall", "getppid"}},
                                                  {"action", "SCMP_ACT_ERRNO"},
                                                  {"errnoRet", 18}}});
  CommandResult r = RunProbe(Sh("/probe syscall getppid; exit 0"));
  if (r.exit_code == 0) {
    EXPECT_EQ(ProbeLine(r.out, "syscall")["errno"], "EXDEV") << r.out;
  } else {
    EXPECT_THAT(r.err, ::testing::HasSubstr("berth_no_such_syscall")) << r.Describe();
  }
  ExpectNoLeaks();
}

TEST_F(SeccompTest, InvalidActionIsRefused) {
  bundle().spec()["linux"]["seccomp"] =
      Profile({{{"names", {"getppid"}}, {"action", "SCMP_ACT_BERTH_NONSENSE"}}});
  CommandResult r = RunProbe({"/probe", "report"});
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
