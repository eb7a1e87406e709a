// berth/runtime: process.rlimits, personality, scheduler, I/O priority and oom_score_adj:
// the per-process knobs applied in the container's init before exec.
#pragma once

#include <sys/resource.h>

#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

// "RLIMIT_NOFILE" -> RLIMIT_NOFILE; errors name the field.
Result<int> RlimitFromName(std::string_view name);

struct ResolvedRlimit {
  int resource = 0;
  struct rlimit limit = {};
};

// Checks names, duplicates and soft <= hard. A hard limit above what the caller may set
// (no CAP_SYS_RESOURCE in the initial user namespace) is capped to the caller's hard limit
// with a warning that says so; RLIMIT_NOFILE is also capped to fs.nr_open. The decision is
// made for the calling process, so call it in the process that applies the limits (or one
// with the same limits, privileges and user namespace).
// `warn` false reports capping at info level only (`exec`: the user was told at create, and
// conmon shows an exec's stderr to the user on every call).
Result<std::vector<ResolvedRlimit>> ResolveRlimits(const std::vector<oci::Rlimit>& rlimits,
                                                   std::string_view field = "process.rlimits",
                                                   bool warn = true);
Status ApplyRlimits(const std::vector<ResolvedRlimit>& rlimits);

// The oom_score_adj the caller may set: a negative value below the caller's own is clamped
// to it (lowering needs CAP_SYS_RESOURCE), with a warning.
Result<int> ClampOomScoreAdj(int requested);
Status ApplyOomScoreAdj(int value);  // writes /proc/self/oom_score_adj

// linux.personality: domain LINUX or LINUX32, flags none yet defined by the spec.
Result<unsigned long> ResolvePersonality(const oci::Personality& p);
Status ApplyPersonality(unsigned long persona);

// process.scheduler and process.ioPriority.
Status ValidateScheduler(const oci::Scheduler& s);
Status ApplyScheduler(const oci::Scheduler& s);
Status ValidateIoPriority(const oci::IoPriority& p);
Status ApplyIoPriority(const oci::IoPriority& p);

}  // namespace berth::runtime
