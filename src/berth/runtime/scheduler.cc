// berth/runtime: process.scheduler (sched_setattr) and process.ioPriority (ioprio_set) for
// the container's init.
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

#include "berth/sys/ioprio.h"
#include "berth/base/strings.h"
#include "berth/runtime/rlimits.h"

namespace berth::runtime {
namespace {

constexpr std::string_view kSchedField = "process.scheduler";
constexpr std::string_view kIoField = "process.ioPriority";

struct PolicyName {
  std::string_view name;
  uint32_t policy;
};
// Values from linux/sched.h; SCHED_OTHER is the kernel's SCHED_NORMAL.
constexpr PolicyName kPolicies[] = {
    {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2},       {"SCHED_BATCH", 3},
    {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6},
};
constexpr uint32_t kFifo = 1, kRr = 2, kIso = 4, kDeadline = 6;

struct SchedFlagName {
  std::string_view name;
  uint64_t flag;
};
constexpr SchedFlagName kSchedFlags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", 0x01},  {"SCHED_FLAG_RECLAIM", 0x02},
    {"SCHED_FLAG_DL_OVERRUN", 0x04},     {"SCHED_FLAG_KEEP_POLICY", 0x08},
    {"SCHED_FLAG_KEEP_PARAMS", 0x10},    {"SCHED_FLAG_UTIL_CLAMP_MIN", 0x20},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", 0x40},
};

// struct sched_attr, SCHED_ATTR_SIZE_VER1. Declared here because glibc 2.36 has none and
// linux/sched/types.h redefines the sched_param of <sched.h>.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};
static_assert(sizeof(SchedAttr) == 56, "SCHED_ATTR_SIZE_VER1");

// The kernel's smallest deadline runtime (1 << DL_SCALE ns).
constexpr uint64_t kMinDeadlineRuntime = 1024;
// sched_util_min/max of -1 ask for the system default: the spec names the clamp flags but
// carries no clamp values, and 0 would pin the task's utilization to nothing.
constexpr uint32_t kUtilDefault = 0xffffffffu;

Result<SchedAttr> ResolveScheduler(const oci::Scheduler& s) {
  SchedAttr attr = {};
  attr.size = sizeof(SchedAttr);
  if (s.policy.empty()) return InvalidArgument(StrCat(kSchedField, ".policy: is required"));
  const PolicyName* policy = nullptr;
  for (const auto& p : kPolicies)
    if (p.name == s.policy) policy = &p;
  if (policy == nullptr)
    return InvalidArgument(StrCat(kSchedField, ".policy: unknown policy ", Quote(s.policy)));
  if (policy->policy == kIso)
    return Fail(ErrorCode::kUnsupported,
                StrCat(kSchedField, ".policy: ", Quote(s.policy), " is not implemented by linux"));
  attr.sched_policy = policy->policy;

  if (s.nice < -20 || s.nice > 19)
    return InvalidArgument(StrCat(kSchedField, ".nice: ", s.nice, " is outside -20 to 19"));
  attr.sched_nice = s.nice;

  const bool realtime = policy->policy == kFifo || policy->policy == kRr;
  if (realtime && (s.priority < 1 || s.priority > 99))
    return InvalidArgument(StrCat(kSchedField, ".priority: ", s.priority, " is outside 1 to 99 (",
                                  Quote(s.policy), ")"));
  if (!realtime && s.priority != 0)
    return InvalidArgument(StrCat(kSchedField, ".priority: only `SCHED_FIFO` and `SCHED_RR` ",
                                  "take a priority, not ", Quote(s.policy)));
  attr.sched_priority = static_cast<uint32_t>(s.priority);  // 1..99 or 0, checked above

  if (policy->policy != kDeadline) {
    if (s.runtime != 0 || s.deadline != 0 || s.period != 0)
      return InvalidArgument(StrCat(kSchedField, ": runtime, deadline and period apply only to ",
                                    "`SCHED_DEADLINE`, not ", Quote(s.policy)));
  } else {
    if (s.runtime < kMinDeadlineRuntime)
      return InvalidArgument(StrCat(kSchedField, ".runtime: ", s.runtime,
                                    " ns is below the kernel's minimum of 1024 ns"));
    if (s.deadline < s.runtime)
      return InvalidArgument(StrCat(kSchedField, ".deadline: ", s.deadline,
                                    " ns is below the runtime (", s.runtime, " ns)"));
    if (s.period != 0 && s.period < s.deadline)
      return InvalidArgument(StrCat(kSchedField, ".period: ", s.period,
                                    " ns is below the deadline (", s.deadline, " ns)"));
    attr.sched_runtime = s.runtime;
    attr.sched_deadline = s.deadline;
    attr.sched_period = s.period;
  }

  for (size_t i = 0; i < s.flags.size(); ++i) {
    const SchedFlagName* flag = nullptr;
    for (const auto& f : kSchedFlags)
      if (f.name == s.flags[i]) flag = &f;
    if (flag == nullptr)
      return InvalidArgument(
          StrCat(kSchedField, ".flags[", i, "]: unknown flag ", Quote(s.flags[i])));
    attr.sched_flags |= flag->flag;
  }
  attr.sched_util_min = kUtilDefault;
  attr.sched_util_max = kUtilDefault;
  return attr;
}

struct IoClassName {
  std::string_view name;
  int io_class;
};
constexpr IoClassName kIoClasses[] = {
    {"IOPRIO_CLASS_RT", sys::kIoprioClassRt},
    {"IOPRIO_CLASS_BE", sys::kIoprioClassBe},
    {"IOPRIO_CLASS_IDLE", sys::kIoprioClassIdle},
};

Result<int> ResolveIoPriority(const oci::IoPriority& p) {
  if (p.io_class.empty()) return InvalidArgument(StrCat(kIoField, ".class: is required"));
  const IoClassName* cls = nullptr;
  for (const auto& c : kIoClasses)
    if (c.name == p.io_class) cls = &c;
  if (cls == nullptr)
    return InvalidArgument(StrCat(kIoField, ".class: unknown class ", Quote(p.io_class)));
  if (p.priority < 0 || p.priority >= sys::kIoprioNrLevels)
    return InvalidArgument(StrCat(kIoField, ".priority: ", p.priority, " is outside 0 to 7"));
  // IOPRIO_PRIO_VALUE is 16 bits computed in unsigned long; ioprio_set takes an int.
  return static_cast<int>(sys::IoprioValue(cls->io_class, p.priority));
}

}  // namespace

Status ValidateScheduler(const oci::Scheduler& s) {
  BERTH_TRY(ResolveScheduler(s));
  return Ok();
}

Status ApplyScheduler(const oci::Scheduler& s) {
  BERTH_ASSIGN_OR_RETURN(SchedAttr attr, ResolveScheduler(s));
  // sched_setattr(2) is the one call that takes policy, nice, priority, deadline parameters
  // and flags together; glibc 2.36 has no wrapper. pid 0: the calling thread.
  if (::syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
    return ErrnoFail(StrCat("set scheduler ", Quote(s.policy)));
  return Ok();
}

Status ValidateIoPriority(const oci::IoPriority& p) {
  BERTH_TRY(ResolveIoPriority(p));
  return Ok();
}

Status ApplyIoPriority(const oci::IoPriority& p) {
  BERTH_ASSIGN_OR_RETURN(int value, ResolveIoPriority(p));
  // No glibc wrapper for ioprio_set(2); IOPRIO_WHO_PROCESS with 0 is the calling process.
  if (::syscall(SYS_ioprio_set, sys::kIoprioWhoProcess, 0, value) != 0)
    return ErrnoFail(StrCat("set I/O priority ", Quote(p.io_class), " ", p.priority));
  return Ok();
}

}  // namespace berth::runtime
