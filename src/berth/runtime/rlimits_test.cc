// Unit tests for rlimit resolution and capping, and oom_score_adj clamping. Capping is tested
// in forked children that give up CAP_SYS_RESOURCE and lower their own hard limit first, so
// no root is needed and the test runner's limits stay as they were.
#include "berth/runtime/rlimits.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/runtime/capabilities.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;

class LogCapture {
 public:
  LogCapture() : fd_(::memfd_create("log", MFD_CLOEXEC)) {
    log::Configure(log::Level::kWarn, log::Format::kText, ::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
  }
  ~LogCapture() {
    log::Configure(log::Level::kWarn, log::Format::kText, -1);
    ::close(fd_);
  }
  std::string Text() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    off_t off = 0;
    while ((n = ::pread(fd_, buf, sizeof buf, off)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  int fd_;
};

std::string InChild(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe2 failed";
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    std::string out = fn();
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  auto pidfd = sys::PidfdOpen(pid);
  sys::ChildProcess child(pid, pidfd.has_value() ? std::move(*pidfd) : UniqueFd());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto status = child.Wait();
  if (!status.has_value() || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return "child died: " + out;
  return out;
}

// In a child: removes CAP_SYS_RESOURCE from the effective set (always allowed), so the
// kernel and ResolveRlimits treat it as a process that cannot raise limits.
std::string DropSysResource() {
  auto now = CurrentCapabilities();
  if (!now.has_value()) return now.error().message();
  CapabilitySets s = *now;
  s.effective &= ~(uint64_t{1} << CAP_SYS_RESOURCE);
  s.ambient = 0;
  auto st = ApplyCapabilities(s);
  return st.has_value() ? "" : st.error().message();
}

oci::Rlimit Limit(std::string type, uint64_t soft, uint64_t hard) {
  oci::Rlimit r;
  r.type = std::move(type);
  r.soft = soft;
  r.hard = hard;
  return r;
}

TEST(RlimitNamesTest, AllSixteen) {
  const char* names[] = {"RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
                         "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
                         "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
                         "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK"};
  std::vector<int> seen;
  for (const char* n : names) {
    auto r = RlimitFromName(n);
    ASSERT_TRUE(r.has_value()) << n;
    seen.push_back(*r);
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(*RlimitFromName("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_FALSE(RlimitFromName("RLIMIT_nofile").has_value());
  EXPECT_FALSE(RlimitFromName("NOFILE").has_value());
}

TEST(ResolveRlimitsTest, FieldErrors) {
  auto r = ResolveRlimits({Limit("RLIMIT_CORE", 0, 0), Limit("RLIMIT_FOO", 1, 1)});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "process.rlimits[1].type: unknown rlimit `RLIMIT_FOO`");

  r = ResolveRlimits(
      {Limit("RLIMIT_CORE", 0, 0), Limit("RLIMIT_NOFILE", 10, 10), Limit("RLIMIT_CORE", 1, 1)});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            "process.rlimits[2].type: `RLIMIT_CORE` is already set by process.rlimits[0]");

  r = ResolveRlimits({Limit("RLIMIT_NOFILE", 2048, 1024)}, "exec.rlimits");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "exec.rlimits[0]: soft limit 2048 is above the hard limit 1024");
}

TEST(ResolveRlimitsTest, WithinTheCallersLimitsIsUnchanged) {
  struct rlimit cur;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &cur), 0);
  LogCapture logs;
  auto r = ResolveRlimits({Limit("RLIMIT_NOFILE", 64, 128), Limit("RLIMIT_CORE", 0, 0)});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].resource, RLIMIT_NOFILE);
  EXPECT_EQ((*r)[0].limit.rlim_cur, 64u);
  EXPECT_EQ((*r)[0].limit.rlim_max, 128u);
  EXPECT_EQ((*r)[1].resource, RLIMIT_CORE);
  EXPECT_EQ(logs.Text(), "");
}

TEST(ResolveRlimitsTest, CappedToTheCallersHardLimitWithWarning) {
  std::string out = InChild([] {
    if (std::string e = DropSysResource(); !e.empty()) return e;
    struct rlimit low = {256, 512};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return std::string("setrlimit failed");
    LogCapture logs;
    auto r = ResolveRlimits({Limit("RLIMIT_NOFILE", 1048576, 1048576), Limit("RLIMIT_CORE", 0, 0)});
    if (!r.has_value()) return r.error().message();
    auto st = ApplyRlimits(*r);
    if (!st.has_value()) return st.error().message();
    struct rlimit now;
    ::getrlimit(RLIMIT_NOFILE, &now);
    return StrCat(now.rlim_cur, "/", now.rlim_max, "|", logs.Text());
  });
  EXPECT_THAT(out, HasSubstr("512/512|"));
  EXPECT_THAT(out, HasSubstr("process.rlimits[0]: `RLIMIT_NOFILE` 1048576/1048576 (soft/hard) "
                             "is above this process's hard limit, and raising it needs "
                             "CAP_SYS_RESOURCE (512); set to 512/512"));
}

TEST(ResolveRlimitsTest, CappingKeepsALowerSoftLimit) {
  std::string out = InChild([] {
    if (std::string e = DropSysResource(); !e.empty()) return e;
    struct rlimit low = {100, 300};
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return std::string("setrlimit failed");
    auto r = ResolveRlimits({Limit("RLIMIT_NOFILE", 200, RLIM_INFINITY)});
    if (!r.has_value()) return r.error().message();
    auto st = ApplyRlimits(*r);
    if (!st.has_value()) return st.error().message();
    struct rlimit now;
    ::getrlimit(RLIMIT_NOFILE, &now);
    return StrCat(now.rlim_cur, "/", now.rlim_max);
  });
  EXPECT_EQ(out, "200/300");
}

TEST(ResolveRlimitsTest, ApplyLowersLimits) {
  std::string out = InChild([] {
    auto r = ResolveRlimits({Limit("RLIMIT_CORE", 0, 0), Limit("RLIMIT_NPROC", 50, 60)});
    if (!r.has_value()) return r.error().message();
    auto st = ApplyRlimits(*r);
    if (!st.has_value()) return st.error().message();
    struct rlimit core, nproc;
    ::getrlimit(RLIMIT_CORE, &core);
    ::getrlimit(RLIMIT_NPROC, &nproc);
    return StrCat(core.rlim_cur, "/", core.rlim_max, " ", nproc.rlim_cur, "/", nproc.rlim_max);
  });
  EXPECT_EQ(out, "0/0 50/60");
}

TEST(ApplyRlimitsTest, RaisingWithoutPrivilegeFailsNamingTheLimit) {
  std::string out = InChild([] {
    if (std::string e = DropSysResource(); !e.empty()) return e;
    struct rlimit low = {10, 20};
    ::setrlimit(RLIMIT_NOFILE, &low);
    ResolvedRlimit r;
    r.resource = RLIMIT_NOFILE;
    r.limit = {30, 40};
    auto st = ApplyRlimits({r});
    return st.has_value() ? std::string("applied") : st.error().message();
  });
  EXPECT_EQ(out, "set `RLIMIT_NOFILE` to 30/40: Operation not permitted");
}

TEST(OomScoreAdjTest, Range) {
  auto r = ClampOomScoreAdj(1001);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "process.oomScoreAdj: 1001 is outside -1000 to 1000");
  EXPECT_FALSE(ClampOomScoreAdj(-1001).has_value());
}

TEST(OomScoreAdjTest, RaisingIsKept) {
  std::string out = InChild([] {
    auto v = ClampOomScoreAdj(500);
    if (!v.has_value()) return v.error().message();
    auto st = ApplyOomScoreAdj(*v);
    if (!st.has_value()) return st.error().message();
    auto text = ReadFile("/proc/self/oom_score_adj");
    return StrCat(*v, " ", text.has_value() ? std::string(Trim(*text)) : "?");
  });
  EXPECT_EQ(out, "500 500");
}

TEST(OomScoreAdjTest, LoweringWithoutPrivilegeIsClampedWithWarning) {
  std::string out = InChild([] {
    if (std::string e = DropSysResource(); !e.empty()) return e;
    // Raise first (always allowed), so there is something to lower from.
    if (auto st = ApplyOomScoreAdj(300); !st.has_value()) return st.error().message();
    LogCapture logs;
    auto v = ClampOomScoreAdj(-998);
    if (!v.has_value()) return v.error().message();
    auto st = ApplyOomScoreAdj(*v);
    if (!st.has_value()) return st.error().message();
    return StrCat(*v, "|", logs.Text());
  });
  EXPECT_THAT(out, HasSubstr("300|"));
  EXPECT_THAT(out, HasSubstr("process.oomScoreAdj: -998 is below this process's oom_score_adj "
                             "(300), and lowering it needs CAP_SYS_RESOURCE; set to 300"));
}

}  // namespace
}  // namespace berth::runtime
