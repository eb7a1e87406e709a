// berth/cgroup/v2: the memory controller (memory.max, memory.swap.max, memory.low) and its
// statistics and OOM notification.
//
// disableOOMKiller has no cgroup v2 equivalent (memory.oom.group changes who is killed, not
// whether): `true` is an error rather than a silently ignored request. swappiness and
// kernelTCP have no v2 files either and are errors as well.
#include <sys/inotify.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

namespace {

std::string F(std::string_view name) { return StrCat("linux.resources.memory.", name); }

std::string Bytes(int64_t v) { return v < 0 ? std::string("max") : StrCat(v); }

}  // namespace

Result<std::string> SwapMaxValue(int64_t swap, int64_t limit) {
  // v1 compatibility: unlimited memory with swap unset means unlimited swap as well.
  if (limit == -1 && swap == 0) return std::string("max");
  if (swap == -1) return std::string("max");
  if (swap == 0) return std::string();
  if (limit == 0 || limit == -1) {
    return InvalidArgument(StrCat(F("swap"), ": a memory+swap limit needs a memory limit"));
  }
  if (swap < limit) {
    return InvalidArgument(
        StrCat(F("swap"), ": ", swap, " is below memory.limit ", limit, " (swap is memory+swap)"));
  }
  return StrCat(swap - limit);
}

Status ApplyMemory(const Leaf& leaf, const oci::MemoryResources& m) {
  const std::string& dir = leaf.dir();
  if (m.kernel) {
    return Fail(ErrorCode::kUnsupported,
                StrCat(F("kernel"),
                       ": kernel memory limits are deprecated by the runtime spec "
                       "and not supported"));
  }
  if (m.kernel_tcp) return Unexpected(NotSupported(F("kernelTCP"), "cgroup v2 has no TCP limit"));
  if (m.swappiness && *m.swappiness != UINT64_MAX) {
    return Unexpected(NotSupported(F("swappiness"), "cgroup v2 has no per-cgroup swappiness"));
  }
  if (m.disable_oom_killer.value_or(false)) {
    return Unexpected(
        NotSupported(F("disableOOMKiller"), "cgroup v2 cannot disable the OOM killer"));
  }
  if (m.use_hierarchy && !*m.use_hierarchy) {
    return Unexpected(NotSupported(F("useHierarchy"), "cgroup v2 is always hierarchical"));
  }
  int64_t limit = m.limit.value_or(0), swap = m.swap.value_or(0);
  int64_t reservation = m.reservation.value_or(0);
  if (limit == 0 && swap == 0 && reservation == 0) return Ok();
  BERTH_TRY(leaf.EnableController("memory", "linux.resources.memory"));
  if (limit > 0 && m.check_before_update.value_or(false)) {
    BERTH_ASSIGN_OR_RETURN(uint64_t usage, ReadUint(dir, "memory.current"));
    if (static_cast<uint64_t>(limit) < usage) {
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat(F("limit"), ": ", limit, " is below the current usage ", usage,
                         " (checkBeforeUpdate)"));
    }
  }
  if (swap != 0 || limit != 0) {
    int64_t effective_limit = limit;
    if (swap > 0 && limit == 0) {
      // An update that changes only swap: the split is against the limit in force.
      BERTH_ASSIGN_OR_RETURN(uint64_t cur, ReadUint(dir, "memory.max"));
      effective_limit = cur == kMax ? -1 : static_cast<int64_t>(cur);
    }
    BERTH_ASSIGN_OR_RETURN(std::string value, SwapMaxValue(swap, effective_limit));
    if (!value.empty()) {
      if (!HasFile(dir, "memory.swap.max")) {
        // No swap support at all: "max" and "0" already hold.
        if (value != "max" && value != "0") {
          return Unexpected(MissingFile(F("swap"), dir, "memory.swap.max"));
        }
      } else {
        BERTH_TRY(WriteField(F("swap"), dir, "memory.swap.max", value));
      }
    }
  }
  if (limit != 0) BERTH_TRY(WriteField(F("limit"), dir, "memory.max", Bytes(limit)));
  if (reservation != 0)
    BERTH_TRY(WriteField(F("reservation"), dir, "memory.low", Bytes(reservation)));
  return Ok();
}

Status ReadMemoryStats(const std::string& dir, MemoryStats& out, uint64_t& oom_kills) {
  BERTH_ASSIGN_OR_RETURN(out.raw, ReadFlatKeyed(dir, "memory.stat"));
  out.cache = out.raw.count("file") ? out.raw["file"] : 0;
  out.use_hierarchy = true;
  BERTH_ASSIGN_OR_RETURN(out.usage.usage, ReadUint(dir, "memory.current"));
  BERTH_ASSIGN_OR_RETURN(out.usage.limit, ReadUint(dir, "memory.max"));
  if (HasFile(dir, "memory.peak")) {
    BERTH_ASSIGN_OR_RETURN(out.usage.max_usage, ReadUint(dir, "memory.peak"));
  }
  if (HasFile(dir, "memory.events")) {
    BERTH_ASSIGN_OR_RETURN(auto ev, ReadFlatKeyed(dir, "memory.events"));
    out.usage.failcnt = ev["max"];
    oom_kills = ev["oom_kill"];
  }
  if (HasFile(dir, "memory.swap.current")) {
    // v1 reports memory+swap; keep that meaning so consumers see the same numbers.
    BERTH_ASSIGN_OR_RETURN(uint64_t swap, ReadUint(dir, "memory.swap.current"));
    BERTH_ASSIGN_OR_RETURN(uint64_t swap_max, ReadUint(dir, "memory.swap.max"));
    out.swap.usage = swap + out.usage.usage;
    out.swap.limit =
        (swap_max == kMax || out.usage.limit == kMax) ? kMax : swap_max + out.usage.limit;
  }
  return Ok();
}

Result<UniqueFd> OomEventFd(const std::string& dir) {
  // inotify(7): memory.events is a cgroup "notify" file, modified on each counter change.
  UniqueFd fd(::inotify_init1(IN_CLOEXEC));
  if (!fd) return ErrnoFail("inotify_init1");
  std::string path = JoinPath(dir, "memory.events");
  if (::inotify_add_watch(fd.get(), path.c_str(), IN_MODIFY) < 0) {
    return ErrnoFail(StrCat("inotify_add_watch ", Quote(path)));
  }
  return fd;
}

}  // namespace berth::cgroup::v2
