// berth/cgroup/v2: the cpu controller (cpu.weight, cpu.max, cpu.max.burst, cpu.idle) and
// cpu.stat.
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

namespace {

std::string F(std::string_view name) { return StrCat("linux.resources.cpu.", name); }

}  // namespace

uint64_t SharesToWeight(uint64_t shares) {
  if (shares == 0) return 0;
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Status ApplyCpu(const Leaf& leaf, const oci::CpuResources& c) {
  const std::string& dir = leaf.dir();
  if (c.realtime_runtime && *c.realtime_runtime != 0) {
    return Unexpected(NotSupported(F("realtimeRuntime"), "cgroup v2 has no RT bandwidth control"));
  }
  if (c.realtime_period && *c.realtime_period != 0) {
    return Unexpected(NotSupported(F("realtimePeriod"), "cgroup v2 has no RT bandwidth control"));
  }
  bool quota = c.quota && *c.quota != 0, period = c.period && *c.period != 0;
  bool any = (c.shares && *c.shares != 0) || quota || period || c.burst || c.idle;
  if (!any) return Ok();
  BERTH_TRY(leaf.EnableController("cpu", "linux.resources.cpu"));
  if (c.shares && *c.shares != 0) {
    BERTH_TRY(WriteField(F("shares"), dir, "cpu.weight", StrCat(SharesToWeight(*c.shares))));
  }
  // A burst larger than the current quota is refused until the new quota is in (EINVAL):
  // then write cpu.max and retry the burst.
  bool burst_pending = false;
  if (c.burst) {
    auto st = WriteField(F("burst"), dir, "cpu.max.burst", StrCat(*c.burst));
    if (!st.has_value()) {
      if (st.error().sys_errno() != EINVAL || !(quota || period)) return st;
      burst_pending = true;
    }
  }
  if (quota || period) {
    // cpu.max holds both values; keep the one this request leaves unset.
    BERTH_ASSIGN_OR_RETURN(std::string cur, ReadCgroupFile(dir, "cpu.max"));
    auto parts = SplitNonEmpty(cur, ' ');
    std::string q = parts.size() == 2 ? parts[0] : "max";
    std::string p = parts.size() == 2 ? parts[1] : "100000";
    if (quota) q = *c.quota < 0 ? std::string("max") : StrCat(*c.quota);
    if (period) p = StrCat(*c.period);
    BERTH_TRY(WriteField(quota ? F("quota") : F("period"), dir, "cpu.max", StrCat(q, " ", p)));
  }
  if (burst_pending) BERTH_TRY(WriteField(F("burst"), dir, "cpu.max.burst", StrCat(*c.burst)));
  if (c.idle) BERTH_TRY(WriteField(F("idle"), dir, "cpu.idle", StrCat(*c.idle)));
  return Ok();
}

Status ReadCpuStats(const std::string& dir, CpuStats& out) {
  BERTH_ASSIGN_OR_RETURN(auto kv, ReadFlatKeyed(dir, "cpu.stat"));
  // cpu.stat counts microseconds; the stats are in nanoseconds.
  out.total_ns = kv["usage_usec"] * 1000;
  out.user_ns = kv["user_usec"] * 1000;
  out.kernel_ns = kv["system_usec"] * 1000;
  out.periods = kv["nr_periods"];
  out.throttled_periods = kv["nr_throttled"];
  out.throttled_ns = kv["throttled_usec"] * 1000;
  return Ok();
}

Status ApplyCpuset(const Leaf& leaf, const oci::CpuResources& c) {
  if (c.cpus.empty() && c.mems.empty()) return Ok();
  BERTH_TRY(leaf.EnableController("cpuset", c.cpus.empty() ? F("mems") : F("cpus")));
  if (!c.cpus.empty()) BERTH_TRY(WriteField(F("cpus"), leaf.dir(), "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) BERTH_TRY(WriteField(F("mems"), leaf.dir(), "cpuset.mems", c.mems));
  return Ok();
}

}  // namespace berth::cgroup::v2
