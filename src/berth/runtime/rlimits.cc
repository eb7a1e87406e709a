// berth/runtime: process.rlimits (names, duplicates, capping to what the caller may set)
// and process.oomScoreAdj (clamped to what the caller may set).
#include "berth/runtime/rlimits.h"

#include <linux/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/runtime/capabilities.h"

namespace berth::runtime {
namespace {

struct RlimitName {
  std::string_view name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};
static_assert(std::size(kRlimits) == RLIM_NLIMITS);

std::string_view RlimitName(int resource) {
  for (const auto& r : kRlimits)
    if (r.resource == resource) return r.name;
  return "RLIMIT_?";
}

std::string LimitText(rlim_t v) {
  // rlim_t is an unsigned long here; StrCat prints it as the 64-bit number it is.
  return v == RLIM_INFINITY ? std::string("unlimited") : StrCat(static_cast<uint64_t>(v));
}

// The initial user namespace maps every uid to itself ("0 0 4294967295"). In any other,
// capabilities do not count for raising rlimits or lowering oom_score_adj: the kernel
// checks CAP_SYS_RESOURCE in the initial namespace.
bool InInitialUserNamespace() {
  auto map = ReadFile("/proc/self/uid_map");
  if (!map.has_value()) return true;  // no /proc: assume the common case, setrlimit decides
  std::vector<std::string> f = SplitNonEmpty(Trim(*map), ' ');
  return f.size() == 3 && f[0] == "0" && f[1] == "0" && f[2] == "4294967295";
}

bool MayRaiseLimits() {
  return HasEffectiveCapability(CAP_SYS_RESOURCE) && InInitialUserNamespace();
}

// fs.nr_open caps RLIMIT_NOFILE even for a privileged caller (setrlimit fails with EPERM).
std::optional<rlim_t> NrOpen() {
  auto text = ReadFile("/proc/sys/fs/nr_open");
  if (!text.has_value()) return std::nullopt;
  auto n = ParseUint64(Trim(*text), "nr_open");
  if (!n.has_value()) return std::nullopt;
  return static_cast<rlim_t>(*n);  // same width (64 bits) on Linux
}

}  // namespace

Result<int> RlimitFromName(std::string_view name) {
  for (const auto& r : kRlimits)
    if (r.name == name) return r.resource;
  return InvalidArgument(StrCat("unknown rlimit ", Quote(name)));
}

Result<std::vector<ResolvedRlimit>> ResolveRlimits(const std::vector<oci::Rlimit>& rlimits,
                                                   std::string_view field, bool warn) {
  std::vector<ResolvedRlimit> out;
  out.reserve(rlimits.size());
  int first_index[RLIM_NLIMITS];
  std::fill(std::begin(first_index), std::end(first_index), -1);
  const bool may_raise = rlimits.empty() ? false : MayRaiseLimits();
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const oci::Rlimit& r = rlimits[i];
    const std::string at = StrCat(field, "[", i, "]");
    BERTH_ASSIGN_OR_RETURN_CTX(int resource, RlimitFromName(r.type), StrCat(at, ".type"));
    if (first_index[resource] >= 0)
      // runtime-spec: duplicated entries of one type MUST be an error.
      return InvalidArgument(StrCat(at, ".type: ", Quote(r.type), " is already set by ", field, "[",
                                    first_index[resource], "]"));
    first_index[resource] = static_cast<int>(i);  // a config has far fewer than 2^31 entries
    if (r.soft > r.hard)
      return InvalidArgument(StrCat(at, ": soft limit ", LimitText(r.soft),
                                    " is above the hard limit ", LimitText(r.hard)));

    ResolvedRlimit res;
    res.resource = resource;
    res.limit.rlim_cur = r.soft;
    res.limit.rlim_max = r.hard;
    // The largest hard limit setrlimit will accept from this process.
    rlim_t ceiling = RLIM_INFINITY;
    std::string why;
    if (!may_raise) {
      struct rlimit cur;
      if (::getrlimit(resource, &cur) != 0)
        return ErrnoFail(StrCat(at, ": read the current ", Quote(r.type)));
      ceiling = cur.rlim_max;
      why = "this process's hard limit, and raising it needs CAP_SYS_RESOURCE";
    }
    if (resource == RLIMIT_NOFILE) {
      if (auto nr_open = NrOpen(); nr_open.has_value() && *nr_open < ceiling) {
        ceiling = *nr_open;
        why = "fs.nr_open";
      }
    }
    if (res.limit.rlim_max > ceiling) {
      res.limit.rlim_max = ceiling;
      res.limit.rlim_cur = std::min(res.limit.rlim_cur, ceiling);
      std::string msg = StrCat(at, ": ", Quote(r.type), " ", LimitText(r.soft), "/",
                               LimitText(r.hard), " (soft/hard) is above ", why, " (",
                               LimitText(ceiling), "); set to ", LimitText(res.limit.rlim_cur),
                               "/", LimitText(res.limit.rlim_max));
      if (warn) {
        log::Warn(msg);
      } else {
        log::Info(msg);
      }
    }
    out.push_back(res);
  }
  return out;
}

Status ApplyRlimits(const std::vector<ResolvedRlimit>& rlimits) {
  for (const ResolvedRlimit& r : rlimits) {
    if (::setrlimit(r.resource, &r.limit) != 0)
      return ErrnoFail(StrCat("set ", Quote(RlimitName(r.resource)), " to ",
                              LimitText(r.limit.rlim_cur), "/", LimitText(r.limit.rlim_max)));
  }
  return Ok();
}

Result<int> ClampOomScoreAdj(int requested) {
  constexpr std::string_view kField = "process.oomScoreAdj";
  if (requested < -1000 || requested > 1000)
    return InvalidArgument(StrCat(kField, ": ", requested, " is outside -1000 to 1000"));
  // Without CAP_SYS_RESOURCE (in the initial user namespace) the kernel refuses a value
  // below the lowest one a privileged process set for us, which we cannot read; our own
  // current value is the floor we know is allowed.
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile("/proc/self/oom_score_adj"));
  BERTH_ASSIGN_OR_RETURN(int64_t current, ParseInt64(Trim(text), "/proc/self/oom_score_adj"));
  if (requested >= current) return requested;
  if (HasEffectiveCapability(CAP_SYS_RESOURCE) && InInitialUserNamespace()) return requested;
  log::Warn(StrCat(kField, ": ", requested, " is below this process's oom_score_adj (", current,
                   "), and lowering it needs CAP_SYS_RESOURCE; set to ", current));
  return static_cast<int>(current);  // the kernel keeps it within -1000..1000
}

Status ApplyOomScoreAdj(int value) {
  return WriteExisting("/proc/self/oom_score_adj", StrCat(value));
}

}  // namespace berth::runtime
