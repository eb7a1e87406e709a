// Integration tests for the per-process knobs on the real kernel, as root: rlimits (applied,
// and capped when the runtime cannot raise them, as on this host whose root lacks
// CAP_SYS_RESOURCE), oom_score_adj, personality, scheduler, I/O priority, and the whole
// sequence the container's init runs before exec. Every child is reaped by a ChildProcess.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "berth/sys/ioprio.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/runtime/capabilities.h"
#include "berth/runtime/rlimits.h"
#include "berth/runtime/seccomp.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;

struct ChildResult {
  int status = -1;
  std::string out;  // stdout and stderr
};

ChildResult RunChild(const std::function<void()>& fn) {
  ChildResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    fn();
    ::_exit(0);
  }
  ::close(fds[1]);
  auto pidfd = sys::PidfdOpen(pid);
  sys::ChildProcess child(pid, pidfd.has_value() ? std::move(*pidfd) : UniqueFd());
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto st = child.Wait();
  if (st.has_value()) r.status = *st;
  return r;
}

void Say(const std::string& s) { (void)!::write(STDOUT_FILENO, s.data(), s.size()); }

[[noreturn]] void Die(const std::string& s) {
  Say("error: " + s + "\n");
  ::_exit(1);
}

bool Succeeded(const ChildResult& r) { return WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0; }

oci::Rlimit Limit(std::string type, uint64_t soft, uint64_t hard) {
  oci::Rlimit r;
  r.type = std::move(type);
  r.soft = soft;
  r.hard = hard;
  return r;
}

// Whether the kernel lets this process raise rlimits and lower oom_score_adj.
bool MayRaise() {
  auto map = ReadFile("/proc/self/uid_map");
  bool init_ns = map.has_value() &&
                 SplitNonEmpty(Trim(*map), ' ') == std::vector<std::string>{"0", "0", "4294967295"};
  return init_ns && HasEffectiveCapability(CAP_SYS_RESOURCE);
}

// The "Max open files" soft/hard pair of /proc/self/limits in a child.
void SayNofile() {
  struct rlimit now;
  ::getrlimit(RLIMIT_NOFILE, &now);
  Say(StrCat(now.rlim_cur, "/", now.rlim_max));
}

class ProcessIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  }
};

TEST_F(ProcessIntegrationTest, PodmanNofileIsAppliedOrCappedToTheRuntimesHardLimit) {
  struct rlimit cur;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &cur), 0);
  auto nr_open = ReadFile("/proc/sys/fs/nr_open");
  ASSERT_TRUE(nr_open.has_value());
  uint64_t ceiling = MayRaise() ? std::stoull(*nr_open) : cur.rlim_max;
  uint64_t want = std::min<uint64_t>(1048576, ceiling);
  ChildResult r = RunChild([] {
    auto rl = ResolveRlimits({Limit("RLIMIT_NOFILE", 1048576, 1048576)});
    if (!rl.has_value()) Die(rl.error().message());
    if (auto st = ApplyRlimits(*rl); !st.has_value()) Die(st.error().message());
    SayNofile();
  });
  ASSERT_TRUE(Succeeded(r)) << r.out;
  EXPECT_THAT(r.out, HasSubstr(StrCat(want, "/", want)));
  if (want < 1048576) {
    EXPECT_THAT(r.out, HasSubstr("set to " + StrCat(want, "/", want)));
  }
}

TEST_F(ProcessIntegrationTest, RlimitsCappedWithoutCapSysResource) {
  ChildResult r = RunChild([] {
    // The situation of this host's root, made explicit so the test means the same anywhere.
    auto now = CurrentCapabilities();
    if (!now.has_value()) Die(now.error().message());
    CapabilitySets s = *now;
    s.effective &= ~(uint64_t{1} << CAP_SYS_RESOURCE);
    if (auto st = ApplyCapabilities(s); !st.has_value()) Die(st.error().message());
    struct rlimit low = {1024, 4096};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) Die("setrlimit");
    auto rl = ResolveRlimits({Limit("RLIMIT_NOFILE", 2048, 1048576),
                              Limit("RLIMIT_NPROC", 500, 600), Limit("RLIMIT_CORE", 0, 0)});
    if (!rl.has_value()) Die(rl.error().message());
    if (auto st = ApplyRlimits(*rl); !st.has_value()) Die(st.error().message());
    struct rlimit nproc, core;
    ::getrlimit(RLIMIT_NPROC, &nproc);
    ::getrlimit(RLIMIT_CORE, &core);
    SayNofile();
    Say(StrCat(" ", nproc.rlim_cur, "/", nproc.rlim_max, " ", core.rlim_cur, "/", core.rlim_max));
  });
  ASSERT_TRUE(Succeeded(r)) << r.out;
  EXPECT_THAT(r.out, HasSubstr("2048/4096 500/600 0/0"));
  EXPECT_THAT(r.out, HasSubstr("`RLIMIT_NOFILE` 2048/1048576 (soft/hard) is above this "
                               "process's hard limit"));
}

TEST_F(ProcessIntegrationTest, OomScoreAdjOfAPodIsAppliedOrClamped) {
  auto text = ReadFile("/proc/self/oom_score_adj");
  ASSERT_TRUE(text.has_value());
  int current = std::stoi(*text);
  int want = MayRaise() ? -998 : std::max(current, -998);
  ChildResult r = RunChild([] {
    auto v = ClampOomScoreAdj(-998);  // what containerd asks for a guaranteed pod
    if (!v.has_value()) Die(v.error().message());
    if (auto st = ApplyOomScoreAdj(*v); !st.has_value()) Die(st.error().message());
    auto now = ReadFile("/proc/self/oom_score_adj");
    Say(StrCat("adj=", Trim(now.value_or("?"))));
  });
  ASSERT_TRUE(Succeeded(r)) << r.out;
  EXPECT_THAT(r.out, HasSubstr(StrCat("adj=", want)));
}

TEST_F(ProcessIntegrationTest, Linux32PersonalityShowsInUname) {
  ChildResult r = RunChild([] {
    oci::Personality p;
    p.domain = "LINUX32";
    auto persona = ResolvePersonality(p);
    if (!persona.has_value()) Die(persona.error().message());
    if (auto st = ApplyPersonality(*persona); !st.has_value()) Die(st.error().message());
    const char* argv[] = {"/bin/uname", "-m", nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    Die("exec uname");
  });
  ASSERT_TRUE(Succeeded(r)) << r.out;
  EXPECT_EQ(r.out, "i686\n");
}

TEST_F(ProcessIntegrationTest, RealtimeSchedulerAndIoPriority) {
  ChildResult r = RunChild([] {
    oci::Scheduler s;
    s.policy = "SCHED_FIFO";
    s.priority = 10;
    s.flags = {"SCHED_FLAG_RESET_ON_FORK"};
    if (auto st = ApplyScheduler(s); !st.has_value()) Die(st.error().message());
    oci::IoPriority io;
    io.io_class = "IOPRIO_CLASS_RT";
    io.priority = 3;
    if (auto st = ApplyIoPriority(io); !st.has_value()) Die(st.error().message());
    struct sched_param param;
    ::sched_getparam(0, &param);
    // No glibc wrapper for ioprio_get(2).
    long prio = ::syscall(SYS_ioprio_get, sys::kIoprioWhoProcess, 0);
    Say(StrCat(::sched_getscheduler(0), " ", param.sched_priority, " ", sys::IoprioClass(prio),
               " ", sys::IoprioLevel(prio)));
  });
  if (r.out.find("Operation not permitted") != std::string::npos)
    GTEST_SKIP() << "real-time scheduling refused here: " << r.out;
  ASSERT_TRUE(Succeeded(r)) << r.out;
  EXPECT_EQ(r.out, StrCat(SCHED_FIFO | SCHED_RESET_ON_FORK, " 10 ",
                          static_cast<int>(sys::kIoprioClassRt), " 3"));
}

// The container init's order: rlimits, oom_score_adj, personality, scheduler, ioPriority,
// PrepareCapabilities, setgroups/setresgid/setresuid, ApplyCapabilities, no_new_privs,
// LoadSeccomp, exec; the seccomp filter is compiled before fork.
TEST_F(ProcessIntegrationTest, TheWholeInitSequenceThenExec) {
  oci::Seccomp profile;
  profile.default_action = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall deny;
  deny.names = {"unshare", "mount", "setns"};
  deny.action = "SCMP_ACT_ERRNO";
  profile.syscalls = {deny};
  auto program = CompileSeccomp(profile);
  ASSERT_TRUE(program.has_value()) << program.error().message();

  oci::Capabilities c;
  c.bounding = c.permitted = c.inheritable = c.effective = c.ambient = {"CAP_NET_BIND_SERVICE"};
  auto caps = ResolveCapabilities(c);
  ASSERT_TRUE(caps.has_value()) << caps.error().message();
  oci::Personality persona;
  persona.domain = "LINUX32";
  oci::Scheduler sched;
  sched.policy = "SCHED_BATCH";
  sched.nice = 5;
  oci::IoPriority io;
  io.io_class = "IOPRIO_CLASS_BE";
  io.priority = 7;

  ChildResult r = RunChild([&] {
    auto rl = ResolveRlimits({Limit("RLIMIT_NOFILE", 1000, 2000)});
    if (!rl.has_value()) Die(rl.error().message());
    if (auto st = ApplyRlimits(*rl); !st.has_value()) Die(st.error().message());
    auto adj = ClampOomScoreAdj(100);
    if (!adj.has_value()) Die(adj.error().message());
    if (auto st = ApplyOomScoreAdj(*adj); !st.has_value()) Die(st.error().message());
    auto p = ResolvePersonality(persona);
    if (!p.has_value()) Die(p.error().message());
    if (auto st = ApplyPersonality(*p); !st.has_value()) Die(st.error().message());
    if (auto st = ApplyScheduler(sched); !st.has_value()) Die(st.error().message());
    if (auto st = ApplyIoPriority(io); !st.has_value()) Die(st.error().message());
    if (auto st = PrepareCapabilities(*caps); !st.has_value()) Die(st.error().message());
    if (::setgroups(0, nullptr) != 0 || ::setresgid(1000, 1000, 1000) != 0 ||
        ::setresuid(1000, 1000, 1000) != 0)
      Die("change user");
    if (auto st = ApplyCapabilities(*caps); !st.has_value()) Die(st.error().message());
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) Die("no_new_privs");
    if (auto fd = LoadSeccomp(*program); !fd.has_value()) Die(fd.error().message());
    const char* argv[] = {
        "/bin/sh", "-c",
        "uname -m; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; "
        "cat /proc/self/oom_score_adj; ulimit -n; ulimit -Hn; id -u; "
        "unshare -U true 2>/dev/null || echo unshare-refused",
        nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    Die("exec sh");
  });
  ASSERT_TRUE(Succeeded(r)) << r.out;
  EXPECT_EQ(r.out, StrCat("i686\nCapEff:\t0000000000000400\nCapBnd:\t0000000000000400\n"
                          "NoNewPrivs:\t1\nSeccomp:\t2\n100\n1000\n2000\n1000\n"
                          "unshare-refused\n"));
}

}  // namespace
}  // namespace berth::runtime
