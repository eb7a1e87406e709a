// The container process's attributes: args, env, cwd, user and groups, umask, capabilities
// (exact bitmasks), no_new_privs, rlimits, oom_score_adj, personality, sysctls, a clean signal
// state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::HasSubstr;

using ProcessTest = RuntimeTest;

constexpr uint64_t Cap(int n) { return uint64_t{1} << n; }
constexpr int kCapChown = 0, kCapKill = 5, kCapNetBindService = 10, kCapNetRaw = 13,
              kCapAuditWrite = 29;

Json Report(const CommandResult& r) { return ProbeLine(r.out, "report"); }

TEST_F(ProcessTest, ArgsAreExact) {
  CommandResult r = RunProbe({"/bin/sh", "-c", "printf '[%s]' \"$0\" \"$1\"", "zero", "one two"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "[zero][one two]");
  ExpectNoLeaks();
}

TEST_F(ProcessTest, ArgsResolvedThroughPath) {
  // A bare name is looked up in the container's PATH.
  CommandResult r = RunProbe({"busybox", "echo", "found"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "found\n");
  ExpectNoLeaks();
}

TEST_F(ProcessTest, EnvironmentIsTheConfigs) {
  Json& env = bundle().spec()["process"]["env"];
  env = {"PATH=/bin", "A=1", "B=with spaces", "EMPTY=", "BERTH_ITEST=" + tag()};
  CommandResult r = RunProbe({"/probe", "report", "env"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto got = Report(r)["env"].get<std::vector<std::string>>();
  // runc adds HOME (from /etc/passwd) when the config does not set it; nothing else.
  std::vector<std::string> want = {
      "PATH=/bin", "A=1", "B=with spaces", "EMPTY=", "BERTH_ITEST=" + tag(), "HOME=/root"};
  EXPECT_THAT(got, ::testing::UnorderedElementsAreArray(want));
  ExpectNoLeaks();
}

TEST_F(ProcessTest, Cwd) {
  bundle().spec()["process"]["cwd"] = "/home/user";
  CommandResult r = RunProbe({"/probe", "report", "cwd"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Report(r)["cwd"], "/home/user");
  ExpectNoLeaks();
}

TEST_F(ProcessTest, MissingCwdIsCreated) {
  bundle().spec()["process"]["cwd"] = "/made/by/runtime";
  CommandResult r = RunProbe({"/probe", "report", "cwd"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Report(r)["cwd"], "/made/by/runtime");
  ExpectNoLeaks();
}

TEST_F(ProcessTest, UserGroupsAndUmask) {
  bundle().spec()["process"]["user"] = {
      {"uid", 1000}, {"gid", 1000}, {"additionalGids", {5, 100}}, {"umask", 027}};
  CommandResult r = RunProbe({"/probe", "report", "ids", "status", "env"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = Report(r);
  for (const char* k : {"uid", "euid", "suid", "gid", "egid", "sgid"}) {
    EXPECT_EQ(rep[k], 1000) << k;
  }
  EXPECT_EQ(rep["groups"], Json({5, 100}));
  EXPECT_EQ(rep["umask"], 027);
  EXPECT_TRUE(HasEnv(rep, "HOME=/home/user")) << rep["env"];
  ExpectNoLeaks();
}

TEST_F(ProcessTest, RootHasNoSupplementaryGroupsByDefault) {
  CommandResult r = RunProbe({"/probe", "report", "ids", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = Report(r);
  EXPECT_EQ(rep["uid"], 0);
  EXPECT_EQ(rep["groups"], Json::array());
  EXPECT_EQ(rep["umask"], 022) << "default umask";
  ExpectNoLeaks();
}

TEST_F(ProcessTest, DefaultCapabilities) {
  CommandResult r = RunProbe({"/probe", "report", "caps"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json caps = Report(r)["caps"];
  const uint64_t want = Cap(kCapAuditWrite) | Cap(kCapKill) | Cap(kCapNetBindService);
  EXPECT_EQ(caps["bounding"].get<uint64_t>(), want);
  EXPECT_EQ(caps["permitted"].get<uint64_t>(), want);
  EXPECT_EQ(caps["effective"].get<uint64_t>(), want);
  EXPECT_EQ(caps["inheritable"].get<uint64_t>(), 0u);
  // The default spec lists ambient caps without inheritable ones; the kernel cannot raise
  // those, and runtimes skip them.
  EXPECT_EQ(caps["ambient"].get<uint64_t>(), 0u);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, CapabilitySetsAsRoot) {
  bundle().spec()["process"]["capabilities"] = {
      {"bounding", {"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}},
      {"permitted", {"CAP_CHOWN", "CAP_KILL"}},
      {"effective", {"CAP_KILL"}},
      {"inheritable", {"CAP_KILL"}}};
  CommandResult r = RunProbe({"/probe", "report", "caps"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json caps = Report(r)["caps"];
  EXPECT_EQ(caps["bounding"].get<uint64_t>(), Cap(kCapChown) | Cap(kCapKill) | Cap(kCapNetRaw));
  EXPECT_EQ(caps["inheritable"].get<uint64_t>(), Cap(kCapKill));
  // execve as uid 0 with no_new_privs: permitted is capped by the permitted set before exec,
  // and effective follows permitted (the root "file effective" rule).
  EXPECT_EQ(caps["permitted"].get<uint64_t>(), Cap(kCapChown) | Cap(kCapKill));
  EXPECT_EQ(caps["effective"].get<uint64_t>(), Cap(kCapChown) | Cap(kCapKill));
  EXPECT_EQ(caps["ambient"].get<uint64_t>(), 0u);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, AmbientCapabilitiesForNonRoot) {
  bundle().spec()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  SetAllCaps(bundle().spec(), {"CAP_KILL", "CAP_NET_BIND_SERVICE"});
  CommandResult r = RunProbe({"/probe", "report", "caps"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json caps = Report(r)["caps"];
  const uint64_t want = Cap(kCapKill) | Cap(kCapNetBindService);
  for (const char* set : {"bounding", "permitted", "effective", "inheritable", "ambient"}) {
    EXPECT_EQ(caps[set].get<uint64_t>(), want) << set;
  }
  ExpectNoLeaks();
}

TEST_F(ProcessTest, NonRootWithoutAmbientLosesCapabilities) {
  bundle().spec()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  bundle().spec()["process"]["capabilities"] = {
      {"bounding", {"CAP_KILL"}}, {"effective", {"CAP_KILL"}}, {"permitted", {"CAP_KILL"}}};
  CommandResult r = RunProbe({"/probe", "report", "caps"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json caps = Report(r)["caps"];
  EXPECT_EQ(caps["bounding"].get<uint64_t>(), Cap(kCapKill));
  EXPECT_EQ(caps["permitted"].get<uint64_t>(), 0u);
  EXPECT_EQ(caps["effective"].get<uint64_t>(), 0u);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, CapabilitiesAreEnforced) {
  // Without CAP_SYS_ADMIN, mount(2) is refused; with it (and a private mount namespace),
  // it works.
  AddMount(bundle().spec(), "/mnt/t", "tmpfs", "tmpfs", {});
  CommandResult r = RunProbe(Sh("/probe syscall mount /mnt/t; exit 0"));
  EXPECT_EQ(ProbeLine(r.out, "syscall")["errno"], "EPERM") << r.Describe();
  SetAllCaps(bundle().spec(), {"CAP_SYS_ADMIN"});
  CommandResult r2 = RunProbe(Sh("/probe syscall mount /mnt/t; exit 0"));
  EXPECT_TRUE(ProbeLine(r2.out, "syscall")["ok"].get<bool>()) << r2.Describe();
  ExpectNoLeaks();
}

TEST_F(ProcessTest, UnknownCapabilityIsRejectedOrIgnored) {
  bundle().spec()["process"]["capabilities"]["bounding"].push_back("CAP_BERTH_NONSENSE");
  CommandResult r = RunProbe({"/probe", "report", "caps"});
  // runc refuses unknown capability names; berth may warn and skip them, but must never
  // grant anything extra.
  if (r.exit_code == 0) {
    EXPECT_EQ(Report(r)["caps"]["bounding"].get<uint64_t>(),
              Cap(kCapAuditWrite) | Cap(kCapKill) | Cap(kCapNetBindService));
  }
  ExpectNoLeaks();
}

TEST_F(ProcessTest, NoNewPrivileges) {
  CommandResult on = RunProbe({"/probe", "report", "status"});
  ASSERT_EQ(on.exit_code, 0) << on.Describe();
  EXPECT_EQ(Report(on)["no_new_privs"], 1);
  EXPECT_EQ(Report(on)["status"]["NoNewPrivs"], "1");
  bundle().spec()["process"]["noNewPrivileges"] = false;
  CommandResult off = RunProbe({"/probe", "report", "status"});
  ASSERT_EQ(off.exit_code, 0) << off.Describe();
  EXPECT_EQ(Report(off)["no_new_privs"], 0);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, SignalMaskAndDispositionsAreClean) {
  CommandResult r = RunProbe({"/probe", "report", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json st = Report(r)["status"];
  EXPECT_EQ(st["SigBlk"], "0000000000000000") << "a blocked signal leaked into the container";
  EXPECT_EQ(st["SigIgn"], "0000000000000000") << "an ignored signal leaked into the container";
  ExpectNoLeaks();
}

TEST_F(ProcessTest, Rlimits) {
  bundle().spec()["process"]["rlimits"] = {
      {{"type", "RLIMIT_NOFILE"}, {"soft", 100}, {"hard", 200}},
      {{"type", "RLIMIT_CORE"}, {"soft", 1234}, {"hard", 5678}},
      {{"type", "RLIMIT_NPROC"}, {"soft", 300}, {"hard", 300}},
      {{"type", "RLIMIT_MSGQUEUE"}, {"soft", 4096}, {"hard", 8192}}};
  CommandResult r = RunProbe({"/probe", "report", "rlimits"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rl = Report(r)["rlimits"];
  auto check = [&](const char* name, uint64_t soft, uint64_t hard) {
    EXPECT_EQ(rl[name]["soft"].get<uint64_t>(), soft) << name;
    EXPECT_EQ(rl[name]["hard"].get<uint64_t>(), hard) << name;
  };
  check("RLIMIT_NOFILE", 100, 200);
  check("RLIMIT_CORE", 1234, 5678);
  check("RLIMIT_NPROC", 300, 300);
  check("RLIMIT_MSGQUEUE", 4096, 8192);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, RlimitAboveCallersHardLimitIsClamped) {
  BERTH_SKIP_IF_RUNC("runc fails with EPERM; berth clamps to the caller's hard limit and warns");
  struct rlimit mine;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &mine), 0);
  if (mine.rlim_max == RLIM_INFINITY) GTEST_SKIP() << "caller's RLIMIT_NOFILE is unlimited";
  // Without CAP_SYS_RESOURCE the hard limit cannot be raised; with it, the raise is honoured.
  uint64_t want = mine.rlim_max + 1000;
  bundle().spec()["process"]["rlimits"] = {
      {{"type", "RLIMIT_NOFILE"}, {"soft", 1024}, {"hard", want}}};
  CommandResult r = RunProbe({"/probe", "report", "rlimits"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  uint64_t hard = Report(r)["rlimits"]["RLIMIT_NOFILE"]["hard"].get<uint64_t>();
  EXPECT_TRUE(hard == want || hard == mine.rlim_max) << hard;
  if (hard != want) {
    EXPECT_THAT(r.err, HasSubstr("RLIMIT_NOFILE")) << "clamping must warn";
  }
  ExpectNoLeaks();
}

TEST_F(ProcessTest, UnknownRlimitIsRefused) {
  bundle().spec()["process"]["rlimits"] = {{{"type", "RLIMIT_BOGUS"}, {"soft", 1}, {"hard", 1}}};
  CommandResult r = RunProbe({"/probe", "report"});
  EXPECT_NE(r.exit_code, 0);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, OomScoreAdjPositive) {
  bundle().spec()["process"]["oomScoreAdj"] = 500;
  CommandResult r = RunProbe({"/probe", "report", "oom"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Report(r)["oom_score_adj"], 500);
  ExpectNoLeaks();
}

TEST_F(ProcessTest, OomScoreAdjNegativeIsClampedWithAWarning) {
  BERTH_SKIP_IF_RUNC("runc fails when the kernel refuses a negative oom_score_adj");
  bundle().spec()["process"]["oomScoreAdj"] = -500;
  CommandResult r = RunProbe({"/probe", "report", "oom"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  int got = Report(r)["oom_score_adj"];
  auto mine = ReadFile("/proc/self/oom_score_adj");
  int own = std::atoi(mine.value_or("0").c_str());
  // Either the kernel allowed it (CAP_SYS_RESOURCE) or berth clamped to what we may set.
  EXPECT_TRUE(got == -500 || got == own) << got;
  if (got != -500) {
    EXPECT_THAT(r.err, HasSubstr("oom")) << "clamping must warn";
  }
  ExpectNoLeaks();
}

TEST_F(ProcessTest, PersonalityLinux32) {
  BERTH_SKIP_IF_RUNC("runc 1.1.5 ignores linux.personality (added in runc 1.2)");
  bundle().spec()["linux"]["personality"] = {{"domain", "LINUX32"}};
  CommandResult r = RunProbe({"/probe", "report", "personality"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Report(r)["personality"].get<int>() & 0xff, 0x0008);  // PER_LINUX32
  ExpectNoLeaks();
}

TEST_F(ProcessTest, SysctlInNewNetworkNamespace) {
  auto host_before = ReadFile("/proc/sys/net/ipv4/ip_forward");
  bundle().spec()["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"},
                                        {"net.ipv4.ip_unprivileged_port_start", "80"}};
  CommandResult r =
      RunProbe(Sh("/probe sysctl net.ipv4.ip_forward; "
                  "/probe sysctl net.ipv4.ip_unprivileged_port_start"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto lines = ProbeLinesFor(r.out, "sysctl");
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0]["value"], "1");
  EXPECT_EQ(lines[1]["value"], "80");
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("?"), host_before.value_or("!"))
      << "the host's sysctl changed";
  ExpectNoLeaks();
}

TEST_F(ProcessTest, SysctlIpcNamespace) {
  bundle().spec()["linux"]["sysctl"] = {{"kernel.msgmax", "4321"}};
  CommandResult r = RunProbe({"/probe", "sysctl", "kernel.msgmax"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "sysctl")["value"], "4321");
  EXPECT_NE(std::string(Trim(ReadFile("/proc/sys/kernel/msgmax").value_or(""))), "4321");
  ExpectNoLeaks();
}

TEST_F(ProcessTest, NetworkSysctlWithoutNetworkNamespaceIsRefused) {
  auto host_before = ReadFile("/proc/sys/net/ipv4/ip_forward");
  RemoveNamespace(bundle().spec(), "network");
  bundle().spec()["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}};
  CommandResult r = RunProbe({"/probe", "sysctl", "net.ipv4.ip_forward"});
  EXPECT_NE(r.exit_code, 0) << "a host sysctl must not be writable through a container";
  EXPECT_EQ(ReadFile("/proc/sys/net/ipv4/ip_forward").value_or("?"), host_before.value_or("!"));
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
