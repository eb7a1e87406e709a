// berth/cgroup/v1: the devices controller. The target state is computed by emulating the
// kernel on the rule list; the writes are the difference from the current state, so that
// updating a running default-deny container never passes through "deny everything" (which
// would break a process opening /dev/null at that moment).
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

namespace {

using Key = std::tuple<char, int64_t, int64_t>;

std::string Line(const Key& k, uint8_t access) {
  DevRule r;
  r.type = std::get<0>(k);
  r.major = std::get<1>(k);
  r.minor = std::get<2>(k);
  r.access = access;
  return DevRuleV1String(r);
}

Result<int64_t> ParseNum(std::string_view s) {
  if (s == "*") return int64_t{-1};
  return ParseInt64(s, "device number");
}

}  // namespace

DeviceState ParseDevicesList(std::string_view text) {
  DeviceState st;
  st.default_allow = false;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    auto f = SplitNonEmpty(line, ' ');
    if (f.size() != 3 || f[0].size() != 1) continue;
    auto mm = Split(f[1], ':');
    if (mm.size() != 2) continue;
    auto ma = ParseNum(mm[0]), mi = ParseNum(mm[1]);
    auto acc = ParseAccess(f[2], "devices.list");
    if (!ma || !mi || !acc) continue;
    if (f[0][0] == 'a') {
      // The kernel prints only "a *:* rwm" in default-allow mode; its deny exceptions are
      // not listed, so they are unknown here.
      st.default_allow = true;
      st.exceptions.clear();
      return st;
    }
    st.exceptions[{f[0][0], *ma, *mi}] |= *acc;
  }
  return st;
}

Result<DeviceState> EmulateV1(const std::vector<DevRule>& rules) {
  DeviceState st;
  for (size_t i = 0; i < rules.size(); ++i) {
    const DevRule& r = rules[i];
    if (r.IsWildcard()) {
      st.default_allow = r.allow;
      st.exceptions.clear();
      continue;
    }
    if (r.type == 'a') {
      // The v1 kernel treats every type-`a` line as a full reset, which would widen or
      // narrow this rule silently.
      return Fail(ErrorCode::kUnsupported,
                  StrCat("linux.resources.devices[", i,
                         "]: type `a` with a device number or "
                         "partial access cannot be expressed in cgroup v1 (use `c` and `b`)"));
    }
    Key k{r.type, r.major, r.minor};
    if (r.allow != st.default_allow) {
      st.exceptions[k] |= r.access;
    } else {
      // Like the kernel: a rule with the default's verdict only trims an exception with
      // exactly the same type and numbers.
      auto it = st.exceptions.find(k);
      if (it != st.exceptions.end()) {
        it->second &= static_cast<uint8_t>(~r.access);
        if (it->second == 0) st.exceptions.erase(it);
      }
    }
  }
  return st;
}

std::vector<DeviceWrite> PlanDeviceWrites(const DeviceState& cur, const DeviceState& target) {
  std::vector<DeviceWrite> out;
  const char* grant = target.default_allow ? "devices.deny" : "devices.allow";
  const char* revoke = target.default_allow ? "devices.allow" : "devices.deny";
  bool reset = target.default_allow || cur.default_allow != target.default_allow;
  // Default-allow mode hides its deny exceptions, so it is always rebuilt from a reset.
  if (reset) {
    out.push_back({target.default_allow ? "devices.allow" : "devices.deny", "a *:* rwm"});
    for (const auto& [k, acc] : target.exceptions) out.push_back({grant, Line(k, acc)});
    return out;
  }
  // Default deny before and after: add the new exceptions first, then take away what is no
  // longer wanted. A device allowed before and after is never denied in between.
  for (const auto& [k, acc] : target.exceptions) {
    auto it = cur.exceptions.find(k);
    uint8_t have = it == cur.exceptions.end() ? 0 : it->second;
    if ((acc & ~have) != 0) out.push_back({grant, Line(k, acc & ~have)});
  }
  for (const auto& [k, have] : cur.exceptions) {
    auto it = target.exceptions.find(k);
    uint8_t want = it == target.exceptions.end() ? 0 : it->second;
    if ((have & ~want) != 0) out.push_back({revoke, Line(k, have & ~want)});
  }
  return out;
}

Status ApplyDevices(const std::string& dir, const std::vector<DevRule>& rules) {
  constexpr std::string_view kField = "linux.resources.devices";
  BERTH_ASSIGN_OR_RETURN(DeviceState target, EmulateV1(rules));
  if (!HasFile(dir, "devices.list")) return Unexpected(MissingFile(kField, dir, "devices.list"));
  BERTH_ASSIGN_OR_RETURN(std::string list, ReadFile(JoinPath(dir, "devices.list")));
  for (const DeviceWrite& w : PlanDeviceWrites(ParseDevicesList(list), target)) {
    BERTH_TRY(WriteField(StrCat(kField, ": ", Quote(w.line)), dir, w.file, w.line));
  }
  return Ok();
}

}  // namespace berth::cgroup::v1
