// berth/runtime: capability names, resolving process.capabilities to bit sets, and applying
// them to the container's init around its uid change (bounding, keep-caps, capset, ambient).
#include "berth/runtime/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"

namespace berth::runtime {
namespace {

// capabilities(7), in number order. Kept here rather than asked of libcap so that names
// newer than the installed libcap still resolve, and so the child needs no allocation.
constexpr std::string_view kNames[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
constexpr int kKnown = static_cast<int>(std::size(kNames));  // 41: fits an int
static_assert(kKnown == CAP_CHECKPOINT_RESTORE + 1);
static_assert(CAP_SYS_ADMIN == 21 && CAP_SYS_RESOURCE == 24 && CAP_BPF == 39);
// Sets are 64-bit masks (two 32-bit capset words).
constexpr int kMaxCap = 63;

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

bool WellFormed(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

int ReadLastCapability() {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap");
  if (text.has_value()) {
    auto n = ParseInt64(Trim(*text), "cap_last_cap");
    if (n.has_value() && *n >= 0 && *n <= kMaxCap) return static_cast<int>(*n);  // 0..63
  }
  // No /proc (already inside the container's rootfs): PR_CAPBSET_READ fails with EINVAL
  // for the first capability the kernel does not know.
  int last = 0;
  while (last < kMaxCap && ::prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0) ++last;
  return last;
}

struct RawCaps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
};

Result<RawCaps> CapGet() {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  // glibc has no capget wrapper; version 3 returns two 32-bit words per set.
  if (::syscall(SYS_capget, &header, data) != 0) return ErrnoFail("capget");
  RawCaps out;
  out.effective = data[0].effective | (uint64_t{data[1].effective} << 32);
  out.permitted = data[0].permitted | (uint64_t{data[1].permitted} << 32);
  out.inheritable = data[0].inheritable | (uint64_t{data[1].inheritable} << 32);
  return out;
}

Status CapSet(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  // Low and high 32 bits of each 64-bit set (the truncations are the split).
  data[0].effective = static_cast<uint32_t>(effective);
  data[1].effective = static_cast<uint32_t>(effective >> 32);
  data[0].permitted = static_cast<uint32_t>(permitted);
  data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(inheritable);
  data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  // glibc has no capset wrapper (libcap's needs its own cap_t allocations).
  if (::syscall(SYS_capset, &header, data) != 0)
    return ErrnoFail(StrCat("set capabilities: effective ", CapabilityNames(effective),
                            "; permitted ", CapabilityNames(permitted), "; inheritable ",
                            CapabilityNames(inheritable)));
  return Ok();
}

uint64_t ReadBounding() {
  uint64_t bits = 0;
  int last = LastCapability();
  for (int cap = 0; cap <= last; ++cap)
    if (::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0) bits |= Bit(cap);
  return bits;
}

Status ResolveSet(const std::optional<std::vector<std::string>>& names, std::string_view set,
                  std::string_view field, uint64_t& bits) {
  if (!names.has_value()) return Ok();
  const int last = LastCapability();
  for (size_t i = 0; i < names->size(); ++i) {
    const std::string& name = (*names)[i];
    std::string at = StrCat(field, ".", set, "[", i, "]");
    if (!WellFormed(name))
      return InvalidArgument(StrCat(at, ": malformed capability name ", Quote(name)));
    auto cap = CapabilityFromName(name);
    if (!cap.has_value()) {
      log::Warn(StrCat(at, ": unknown capability ", Quote(name), " left out of the ", set, " set"));
      continue;
    }
    if (*cap > last) {
      log::Warn(StrCat(at, ": capability ", Quote(name), " is not supported by this kernel",
                       " (cap_last_cap is ", last, "); left out of the ", set, " set"));
      continue;
    }
    bits |= Bit(*cap);
  }
  return Ok();
}

int LowestBit(uint64_t bits) { return __builtin_ctzll(bits); }

}  // namespace

Result<int> CapabilityFromName(std::string_view name) {
  for (int i = 0; i < kKnown; ++i)
    if (kNames[i] == name) return i;
  return InvalidArgument(StrCat("unknown capability ", Quote(name)));
}

std::string CapabilityName(int cap) {
  if (cap >= 0 && cap < kKnown) return std::string(kNames[cap]);
  return StrCat("CAP_", cap);
}

int LastCapability() {
  // Cached: the runtime asks before fork, so the container's init never needs /proc for it.
  static std::atomic<int> cached{-1};
  int v = cached.load(std::memory_order_relaxed);
  if (v < 0) {
    v = ReadLastCapability();
    cached.store(v, std::memory_order_relaxed);
  }
  return v;
}

std::vector<std::string> AllCapabilityNames() {
  return std::vector<std::string>(std::begin(kNames), std::end(kNames));
}

std::string CapabilityNames(uint64_t bits) {
  if (bits == 0) return "none";
  std::vector<std::string> names;
  for (int cap = 0; cap <= kMaxCap; ++cap)
    if (bits & Bit(cap)) names.push_back(Quote(CapabilityName(cap)));
  return Join(names, ", ");
}

Result<CapabilitySets> CurrentCapabilities() {
  BERTH_ASSIGN_OR_RETURN(RawCaps raw, CapGet());
  CapabilitySets s;
  s.effective = raw.effective;
  s.permitted = raw.permitted;
  s.inheritable = raw.inheritable;
  s.bounding = ReadBounding();
  int last = LastCapability();
  for (int cap = 0; cap <= last; ++cap)
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) > 0) s.ambient |= Bit(cap);
  return s;
}

bool HasEffectiveCapability(int cap) {
  if (cap < 0 || cap > kMaxCap) return false;
  auto raw = CapGet();
  return raw.has_value() && (raw->effective & Bit(cap)) != 0;
}

Result<CapabilitySets> ResolveCapabilities(const oci::Capabilities& caps, std::string_view field) {
  CapabilitySets s;
  BERTH_TRY(ResolveSet(caps.bounding, "bounding", field, s.bounding));
  BERTH_TRY(ResolveSet(caps.effective, "effective", field, s.effective));
  BERTH_TRY(ResolveSet(caps.inheritable, "inheritable", field, s.inheritable));
  BERTH_TRY(ResolveSet(caps.permitted, "permitted", field, s.permitted));
  BERTH_TRY(ResolveSet(caps.ambient, "ambient", field, s.ambient));
  if (uint64_t extra = s.effective & ~s.permitted; extra != 0)
    // The kernel refuses an effective set larger than the permitted one (capset EPERM).
    return InvalidArgument(
        StrCat(field, ".effective: ", CapabilityNames(extra), " not in the permitted set"));
  if (uint64_t extra = s.ambient & ~(s.permitted & s.inheritable); extra != 0) {
    log::Warn(StrCat(field, ".ambient: ", CapabilityNames(extra),
                     " left out: an ambient capability must also be permitted and inheritable"));
    s.ambient &= ~extra;
  }
  return s;
}

Status PrepareCapabilities(const CapabilitySets& sets) {
  // Without keep-caps, setresuid from uid 0 to the container's user clears the permitted
  // set; the capset of ApplyCapabilities can only narrow what survives.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return ErrnoFail("set keep-caps");
  const int last = LastCapability();
  for (int cap = 0; cap <= last; ++cap) {
    if (sets.bounding & Bit(cap)) continue;
    // Skip what is already gone, so a runtime without CAP_SETPCAP works when there is
    // nothing left to drop.
    int present = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
    if (present == 0 || (present < 0 && errno == EINVAL)) continue;
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
      if (errno == EINVAL) continue;  // a capability this kernel lacks
      return ErrnoFail(StrCat("drop ", Quote(CapabilityName(cap)), " from the bounding set"));
    }
  }
  return Ok();
}

Status ApplyCapabilities(const CapabilitySets& want) {
  if (uint64_t extra = want.effective & ~want.permitted; extra != 0)
    return InvalidArgument(StrCat("set capabilities: effective ", CapabilityNames(extra),
                                  " not in the permitted set"));
  if (uint64_t extra = want.ambient & ~(want.permitted & want.inheritable); extra != 0)
    return InvalidArgument(StrCat("raise ambient capability ",
                                  Quote(CapabilityName(LowestBit(extra))),
                                  ": not in both the permitted and inheritable sets"));

  // The kernel lets capset keep only what the process holds: permitted within the current
  // permitted set; inheritable within current inheritable plus permitted (CAP_SETPCAP is
  // no longer effective after the uid change), and within the bounding set.
  BERTH_ASSIGN_OR_RETURN(RawCaps now, CapGet());
  const uint64_t bounding = ReadBounding();
  uint64_t permitted = want.permitted & now.permitted;
  uint64_t inheritable =
      want.inheritable & (now.inheritable | now.permitted) & (now.inheritable | bounding);
  uint64_t effective = want.effective & permitted;
  uint64_t ambient = want.ambient & permitted & inheritable;
  if (uint64_t lost = (want.permitted & ~permitted) | (want.inheritable & ~inheritable); lost != 0)
    log::Warn(StrCat("capabilities ", CapabilityNames(lost),
                     " are not held by the runtime; left out of the container's sets"));
  BERTH_TRY(CapSet(effective, permitted, inheritable));

  // Keep-caps served the uid change only; clear it so a setuid inside the container behaves
  // as usual (execve would clear it too, but not before the ambient raise below).
  if (::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) return ErrnoFail("clear keep-caps");

  // Ambient after capset: the kernel raises only what the new permitted and inheritable
  // sets hold. EINVAL here means a kernel before 4.3, which has no ambient set at all.
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
      !(errno == EINVAL && ambient == 0))
    return ErrnoFail("clear the ambient capabilities");
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (!(ambient & Bit(cap))) continue;
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
      return ErrnoFail(StrCat("raise ambient capability ", Quote(CapabilityName(cap))));
  }
  return Ok();
}

}  // namespace berth::runtime
