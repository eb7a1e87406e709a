// berth/cgroup/v1: the cpu controller (shares, CFS bandwidth, RT bandwidth, idle) and the
// cpu statistics of the cpu and cpuacct hierarchies.
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

namespace {

constexpr std::string_view kField = "linux.resources.cpu";

std::string F(std::string_view name) { return StrCat(kField, ".", name); }

// Writes `first` then `second`; when `first` is refused with EINVAL because the value only
// fits together with the new `second` (a shorter period whose old quota now exceeds the
// parent's bandwidth), writes `second` and retries `first`.
Status WritePair(const std::string& dir, std::string_view f1, std::string_view file1,
                 const std::string& v1, std::string_view f2, std::string_view file2,
                 const std::string& v2) {
  bool retry = false;
  if (!v1.empty()) {
    auto st = WriteField(f1, dir, file1, v1);
    if (!st.has_value()) {
      if (st.error().sys_errno() != EINVAL || v2.empty()) return st;
      retry = true;
    }
  }
  if (!v2.empty()) BERTH_TRY(WriteField(f2, dir, file2, v2));
  if (retry) BERTH_TRY(WriteField(f1, dir, file1, v1));
  return Ok();
}

}  // namespace

bool WantsCpu(const oci::CpuResources& c) {
  return (c.shares && *c.shares != 0) || (c.quota && *c.quota != 0) ||
         (c.period && *c.period != 0) || c.burst ||
         (c.realtime_runtime && *c.realtime_runtime != 0) ||
         (c.realtime_period && *c.realtime_period != 0) || c.idle;
}

Status ApplyCpu(const std::string& dir, const oci::CpuResources& c) {
  // 0 means "not set" for these, as in runc (Go's zero values).
  if (c.shares && *c.shares != 0) {
    BERTH_TRY(WriteField(F("shares"), dir, "cpu.shares", StrCat(*c.shares)));
    // The kernel clamps shares to [2, 262144] silently; report the clamp instead.
    BERTH_ASSIGN_OR_RETURN(uint64_t got, ReadUint(dir, "cpu.shares"));
    if (got != *c.shares) {
      return InvalidArgument(StrCat(F("shares"), ": ", *c.shares,
                                    " is outside the kernel's range (it became ", got, ")"));
    }
  }
  std::string period = c.period && *c.period != 0 ? StrCat(*c.period) : "";
  std::string quota = c.quota && *c.quota != 0 ? StrCat(*c.quota < 0 ? -1 : *c.quota) : "";
  BERTH_TRY(WritePair(dir, F("period"), "cpu.cfs_period_us", period, F("quota"), "cpu.cfs_quota_us",
                      quota));
  if (c.burst) BERTH_TRY(WriteField(F("burst"), dir, "cpu.cfs_burst_us", StrCat(*c.burst)));
  // RT: the period first, so that a runtime that only fits the new period is accepted.
  std::string rt_period =
      c.realtime_period && *c.realtime_period != 0 ? StrCat(*c.realtime_period) : "";
  std::string rt_runtime =
      c.realtime_runtime && *c.realtime_runtime != 0 ? StrCat(*c.realtime_runtime) : "";
  BERTH_TRY(WritePair(dir, F("realtimePeriod"), "cpu.rt_period_us", rt_period, F("realtimeRuntime"),
                      "cpu.rt_runtime_us", rt_runtime));
  if (c.idle) BERTH_TRY(WriteField(F("idle"), dir, "cpu.idle", StrCat(*c.idle)));
  return Ok();
}

namespace {

Result<std::vector<uint64_t>> ReadUintList(const std::string& dir, std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(dir, file));
  std::vector<uint64_t> out;
  for (const std::string& w : SplitNonEmpty(text, ' ')) {
    BERTH_ASSIGN_OR_RETURN(uint64_t v, ParseUint64(Trim(w), JoinPath(dir, file)));
    out.push_back(v);
  }
  return out;
}

}  // namespace

Status ReadCpuStats(const std::string& cpu_dir, const std::string& acct_dir, CpuStats& out) {
  if (!acct_dir.empty()) {
    BERTH_ASSIGN_OR_RETURN(out.total_ns, ReadUint(acct_dir, "cpuacct.usage"));
    BERTH_ASSIGN_OR_RETURN(out.percpu_ns, ReadUintList(acct_dir, "cpuacct.usage_percpu"));
    if (HasFile(acct_dir, "cpuacct.usage_user")) {
      // Nanosecond counters (kernel 4.7+).
      BERTH_ASSIGN_OR_RETURN(out.user_ns, ReadUint(acct_dir, "cpuacct.usage_user"));
      BERTH_ASSIGN_OR_RETURN(out.kernel_ns, ReadUint(acct_dir, "cpuacct.usage_sys"));
      BERTH_ASSIGN_OR_RETURN(out.percpu_user_ns,
                             ReadUintList(acct_dir, "cpuacct.usage_percpu_user"));
      BERTH_ASSIGN_OR_RETURN(out.percpu_kernel_ns,
                             ReadUintList(acct_dir, "cpuacct.usage_percpu_sys"));
    } else {
      // cpuacct.stat counts USER_HZ ticks.
      BERTH_ASSIGN_OR_RETURN(auto kv, ReadFlatKeyed(acct_dir, "cpuacct.stat"));
      uint64_t ns_per_tick = 1000000000ULL / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      out.user_ns = kv["user"] * ns_per_tick;
      out.kernel_ns = kv["system"] * ns_per_tick;
    }
  }
  if (!cpu_dir.empty() && HasFile(cpu_dir, "cpu.stat")) {
    BERTH_ASSIGN_OR_RETURN(auto kv, ReadFlatKeyed(cpu_dir, "cpu.stat"));
    out.periods = kv["nr_periods"];
    out.throttled_periods = kv["nr_throttled"];
    out.throttled_ns = kv["throttled_time"];
  }
  return Ok();
}

}  // namespace berth::cgroup::v1
