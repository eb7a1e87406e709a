// Unit tests for process.scheduler and process.ioPriority: validation errors, and the calls
// a process may make on itself without privilege, in forked children.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "berth/sys/ioprio.h"
#include "berth/base/strings.h"
#include "berth/runtime/rlimits.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;

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

oci::Scheduler Sched(std::string policy, int nice = 0, int priority = 0,
                     std::vector<std::string> flags = {}) {
  oci::Scheduler s;
  s.policy = std::move(policy);
  s.nice = nice;
  s.priority = priority;
  s.flags = std::move(flags);
  return s;
}

std::string SchedError(const oci::Scheduler& s) {
  auto st = ValidateScheduler(s);
  return st.has_value() ? "<valid>" : st.error().message();
}

TEST(SchedulerTest, Validation) {
  EXPECT_EQ(SchedError(Sched("SCHED_OTHER", -5)), "<valid>");
  EXPECT_EQ(SchedError(Sched("SCHED_FIFO", 0, 10, {"SCHED_FLAG_RESET_ON_FORK"})), "<valid>");
  EXPECT_EQ(SchedError(Sched("")), "process.scheduler.policy: is required");
  EXPECT_EQ(SchedError(Sched("SCHED_FOO")), "process.scheduler.policy: unknown policy `SCHED_FOO`");
  EXPECT_EQ(SchedError(Sched("SCHED_ISO")),
            "process.scheduler.policy: `SCHED_ISO` is not implemented by linux");
  EXPECT_EQ(SchedError(Sched("SCHED_BATCH", 20)),
            "process.scheduler.nice: 20 is outside -20 to 19");
  EXPECT_EQ(SchedError(Sched("SCHED_RR", 0, 0)),
            "process.scheduler.priority: 0 is outside 1 to 99 (`SCHED_RR`)");
  EXPECT_EQ(SchedError(Sched("SCHED_FIFO", 0, 100)),
            "process.scheduler.priority: 100 is outside 1 to 99 (`SCHED_FIFO`)");
  EXPECT_EQ(SchedError(Sched("SCHED_OTHER", 0, 3)),
            "process.scheduler.priority: only `SCHED_FIFO` and `SCHED_RR` take a priority, not "
            "`SCHED_OTHER`");
  EXPECT_EQ(SchedError(Sched("SCHED_IDLE", 0, 0, {"SCHED_FLAG_FOO"})),
            "process.scheduler.flags[0]: unknown flag `SCHED_FLAG_FOO`");
  auto other = Sched("SCHED_OTHER");
  other.runtime = 1000;
  EXPECT_THAT(SchedError(other), HasSubstr("apply only to `SCHED_DEADLINE`"));
}

TEST(SchedulerTest, DeadlineParameters) {
  auto dl = Sched("SCHED_DEADLINE");
  dl.runtime = 10'000'000;
  dl.deadline = 30'000'000;
  dl.period = 30'000'000;
  EXPECT_EQ(SchedError(dl), "<valid>");
  dl.period = 0;  // the kernel takes the deadline as the period
  EXPECT_EQ(SchedError(dl), "<valid>");
  dl.deadline = 5'000'000;
  EXPECT_EQ(SchedError(dl),
            "process.scheduler.deadline: 5000000 ns is below the runtime (10000000 ns)");
  dl.deadline = 30'000'000;
  dl.period = 20'000'000;
  EXPECT_EQ(SchedError(dl),
            "process.scheduler.period: 20000000 ns is below the deadline (30000000 ns)");
  dl.runtime = 10;
  EXPECT_THAT(SchedError(dl), HasSubstr("process.scheduler.runtime: 10 ns is below"));
}

TEST(SchedulerTest, ApplyBatchWithNiceAndResetOnFork) {
  std::string out = InChild([] {
    auto st = ApplyScheduler(Sched("SCHED_BATCH", 7, 0, {"SCHED_FLAG_RESET_ON_FORK"}));
    if (!st.has_value()) return st.error().message();
    int policy = ::sched_getscheduler(0);
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, 0);
    return StrCat(policy, " ", nice);
  });
  // sched_getscheduler reports SCHED_RESET_ON_FORK (0x40000000) or-ed into the policy.
  EXPECT_EQ(out, StrCat(SCHED_BATCH | SCHED_RESET_ON_FORK, " 7"));
}

TEST(SchedulerTest, ApplyIdle) {
  std::string out = InChild([] {
    auto st = ApplyScheduler(Sched("SCHED_IDLE"));
    if (!st.has_value()) return st.error().message();
    return StrCat(::sched_getscheduler(0));
  });
  EXPECT_EQ(out, StrCat(SCHED_IDLE));
}

oci::IoPriority Io(std::string cls, int prio) {
  oci::IoPriority p;
  p.io_class = std::move(cls);
  p.priority = prio;
  return p;
}

TEST(IoPriorityTest, Validation) {
  EXPECT_TRUE(ValidateIoPriority(Io("IOPRIO_CLASS_RT", 0)).has_value());
  EXPECT_TRUE(ValidateIoPriority(Io("IOPRIO_CLASS_IDLE", 7)).has_value());
  EXPECT_EQ(ValidateIoPriority(Io("IOPRIO_CLASS_NONE", 0)).error().message(),
            "process.ioPriority.class: unknown class `IOPRIO_CLASS_NONE`");
  EXPECT_EQ(ValidateIoPriority(Io("", 0)).error().message(),
            "process.ioPriority.class: is required");
  EXPECT_EQ(ValidateIoPriority(Io("IOPRIO_CLASS_BE", 8)).error().message(),
            "process.ioPriority.priority: 8 is outside 0 to 7");
  EXPECT_EQ(ValidateIoPriority(Io("IOPRIO_CLASS_BE", -1)).error().message(),
            "process.ioPriority.priority: -1 is outside 0 to 7");
}

TEST(IoPriorityTest, ApplyBestEffort) {
  std::string out = InChild([] {
    auto st = ApplyIoPriority(Io("IOPRIO_CLASS_BE", 6));
    if (!st.has_value()) return st.error().message();
    // No glibc wrapper for ioprio_get(2).
    long v = ::syscall(SYS_ioprio_get, sys::kIoprioWhoProcess, 0);
    return StrCat(sys::IoprioClass(v), " ", sys::IoprioLevel(v));
  });
  EXPECT_EQ(out, StrCat(static_cast<int>(sys::kIoprioClassBe), " 6"));
}

}  // namespace
}  // namespace berth::runtime
