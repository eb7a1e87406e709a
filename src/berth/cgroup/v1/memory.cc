// berth/cgroup/v1: the memory controller: limit and memory+swap written in an order the
// kernel accepts, soft limit, swappiness, the OOM-killer switch, the TCP buffer limit;
// usage statistics and the OOM eventfd.
#include <fcntl.h>
#include <sys/eventfd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

namespace {

constexpr std::string_view kLimit = "memory.limit_in_bytes";
constexpr std::string_view kMemsw = "memory.memsw.limit_in_bytes";

std::string F(std::string_view name) { return StrCat("linux.resources.memory.", name); }

// Values OCI gives as "unlimited" (any negative) are written as -1.
std::string Bytes(int64_t v) { return v < 0 ? std::string("-1") : StrCat(v); }

Status WriteLimitAndSwap(const std::string& dir, std::optional<int64_t> limit,
                         std::optional<int64_t> swap) {
  if (limit && swap && *limit >= 0 && *swap >= 0 && *swap < *limit) {
    return InvalidArgument(StrCat(F("swap"), ": ", *swap, " is below memory.limit ", *limit,
                                  " (swap is memory+swap)"));
  }
  if (limit && swap) {
    // The kernel keeps memory.limit <= memory.memsw.limit at every step: raise memsw first
    // when it grows past the current limit (or becomes unlimited), otherwise lower the
    // limit first.
    BERTH_ASSIGN_OR_RETURN(uint64_t cur, ReadUint(dir, kLimit));
    if (*swap < 0 || cur < static_cast<uint64_t>(*swap)) {
      BERTH_TRY(WriteField(F("swap"), dir, kMemsw, Bytes(*swap)));
      return WriteField(F("limit"), dir, kLimit, Bytes(*limit));
    }
    BERTH_TRY(WriteField(F("limit"), dir, kLimit, Bytes(*limit)));
    return WriteField(F("swap"), dir, kMemsw, Bytes(*swap));
  }
  if (limit) {
    if (*limit > 0 && HasFile(dir, kMemsw)) {
      // The kernel would refuse with a bare EINVAL; say which field to add.
      BERTH_ASSIGN_OR_RETURN(uint64_t memsw, ReadUint(dir, kMemsw));
      if (static_cast<uint64_t>(*limit) > memsw) {
        return InvalidArgument(StrCat(F("limit"), ": ", *limit,
                                      " exceeds the memory+swap limit in force (", memsw,
                                      "); set linux.resources.memory.swap as well"));
      }
    }
    return WriteField(F("limit"), dir, kLimit, Bytes(*limit));
  }
  if (swap) return WriteField(F("swap"), dir, kMemsw, Bytes(*swap));
  return Ok();
}

}  // namespace

bool WantsMemory(const oci::MemoryResources& m) {
  return (m.limit && *m.limit != 0) || (m.reservation && *m.reservation != 0) ||
         (m.swap && *m.swap != 0) || m.kernel || m.kernel_tcp ||
         (m.swappiness && *m.swappiness != UINT64_MAX) || m.disable_oom_killer || m.use_hierarchy;
}

Status ApplyMemory(const std::string& dir, const oci::MemoryResources& m) {
  if (m.kernel) {
    return Fail(ErrorCode::kUnsupported,
                StrCat(F("kernel"),
                       ": kernel memory limits are deprecated by the runtime spec "
                       "and not supported"));
  }
  // 0 means "not set" for limit, swap and reservation, as in runc.
  std::optional<int64_t> limit, swap;
  if (m.limit && *m.limit != 0) limit = *m.limit;
  if (m.swap && *m.swap != 0) swap = *m.swap;
  bool has_memsw = HasFile(dir, kMemsw);
  // "Unlimited memory" with swap unspecified means unlimited memory+swap too; otherwise the
  // old memsw limit would refuse the new memory limit.
  if (limit && *limit < 0 && !swap && has_memsw) swap = -1;
  if (swap && !has_memsw) {
    return Unexpected(
        NotSupported(F("swap"), StrCat("no ", Quote(kMemsw), " in ", Quote(dir),
                                       "; swap accounting is off (boot with swapaccount=1)")));
  }
  if (limit && *limit > 0 && m.check_before_update.value_or(false)) {
    BERTH_ASSIGN_OR_RETURN(uint64_t usage, ReadUint(dir, "memory.usage_in_bytes"));
    if (static_cast<uint64_t>(*limit) < usage) {
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat(F("limit"), ": ", *limit, " is below the current usage ", usage,
                         " (checkBeforeUpdate)"));
    }
  }
  BERTH_TRY(WriteLimitAndSwap(dir, limit, swap));
  if (m.reservation && *m.reservation != 0) {
    BERTH_TRY(
        WriteField(F("reservation"), dir, "memory.soft_limit_in_bytes", Bytes(*m.reservation)));
  }
  if (m.kernel_tcp) {
    BERTH_TRY(
        WriteField(F("kernelTCP"), dir, "memory.kmem.tcp.limit_in_bytes", Bytes(*m.kernel_tcp)));
  }
  // UINT64_MAX is Go's -1: "leave as is", as runc treats it.
  if (m.swappiness && *m.swappiness != UINT64_MAX) {
    if (*m.swappiness > 100) {
      return InvalidArgument(StrCat(F("swappiness"), ": ", *m.swappiness, " is above 100"));
    }
    BERTH_TRY(WriteField(F("swappiness"), dir, "memory.swappiness", StrCat(*m.swappiness)));
  }
  if (m.disable_oom_killer) {
    BERTH_TRY(WriteField(F("disableOOMKiller"), dir, "memory.oom_control",
                         *m.disable_oom_killer ? "1" : "0"));
  }
  if (m.use_hierarchy) {
    // Kernels since 5.16 keep hierarchy on and refuse "0"; that refusal is reported.
    BERTH_TRY(
        WriteField(F("useHierarchy"), dir, "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0"));
  }
  return Ok();
}

namespace {

Status ReadEntry(const std::string& dir, std::string_view prefix, MemoryEntry& e) {
  // A family missing (no swap accounting, no kmem) leaves its entry zero.
  if (!HasFile(dir, StrCat(prefix, "usage_in_bytes"))) return Ok();
  BERTH_ASSIGN_OR_RETURN(e.usage, ReadUint(dir, StrCat(prefix, "usage_in_bytes")));
  BERTH_ASSIGN_OR_RETURN(e.max_usage, ReadUint(dir, StrCat(prefix, "max_usage_in_bytes")));
  BERTH_ASSIGN_OR_RETURN(e.failcnt, ReadUint(dir, StrCat(prefix, "failcnt")));
  BERTH_ASSIGN_OR_RETURN(e.limit, ReadUint(dir, StrCat(prefix, "limit_in_bytes")));
  return Ok();
}

}  // namespace

Status ReadMemoryStats(const std::string& dir, MemoryStats& out, uint64_t& oom_kills) {
  BERTH_ASSIGN_OR_RETURN(out.raw, ReadFlatKeyed(dir, "memory.stat"));
  out.cache = out.raw.count("cache") ? out.raw["cache"] : 0;
  BERTH_TRY(ReadEntry(dir, "memory.", out.usage));
  BERTH_TRY(ReadEntry(dir, "memory.memsw.", out.swap));
  BERTH_TRY(ReadEntry(dir, "memory.kmem.", out.kernel));
  BERTH_TRY(ReadEntry(dir, "memory.kmem.tcp.", out.kernel_tcp));
  if (HasFile(dir, "memory.use_hierarchy")) {
    BERTH_ASSIGN_OR_RETURN(uint64_t h, ReadUint(dir, "memory.use_hierarchy"));
    out.use_hierarchy = h == 1;
  }
  if (HasFile(dir, "memory.oom_control")) {
    BERTH_ASSIGN_OR_RETURN(auto kv, ReadFlatKeyed(dir, "memory.oom_control"));
    oom_kills = kv["oom_kill"];
  }
  return Ok();
}

Result<UniqueFd> OomEventFd(const std::string& dir) {
  // eventfd(2): the kernel bumps the counter on each OOM event of the cgroup (and when the
  // cgroup is removed).
  UniqueFd efd(::eventfd(0, EFD_CLOEXEC));
  if (!efd) return ErrnoFail("eventfd");
  BERTH_ASSIGN_OR_RETURN(UniqueFd ofd, OpenFile(JoinPath(dir, "memory.oom_control"), O_RDONLY));
  // The registration keeps its own reference to the cgroup; our oom_control fd may close.
  BERTH_TRY(WriteCgroupFile(dir, "cgroup.event_control", StrCat(efd.get(), " ", ofd.get())));
  return efd;
}

}  // namespace berth::cgroup::v1
