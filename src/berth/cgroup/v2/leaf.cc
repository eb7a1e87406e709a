// berth/cgroup/v2: enabling controllers down a cgroup2 path (cgroup.subtree_control).
#include <algorithm>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The mount point and every directory below it down to the leaf's parent.
std::vector<std::string> Ancestors(const std::string& mount, const std::string& dir) {
  std::vector<std::string> out{mount};
  std::string cur = mount;
  auto parts = SplitNonEmpty(std::string_view(dir).substr(mount.size()), '/');
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    cur = JoinPath(cur, parts[i]);
    out.push_back(cur);
  }
  return out;
}

Result<std::vector<std::string>> Words(const std::string& dir, std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(dir, file)));
  return ParseWords(text);
}

}  // namespace

Status Leaf::EnableController(std::string_view controller, std::string_view field) const {
  for (const std::string& d : Ancestors(mount_, dir_)) {
    BERTH_ASSIGN_OR_RETURN_CTX(auto enabled, Words(d, "cgroup.subtree_control"), field);
    if (Contains(enabled, controller)) continue;
    BERTH_ASSIGN_OR_RETURN_CTX(auto available, Words(d, "cgroup.controllers"), field);
    if (!Contains(available, controller)) {
      return Unexpected(NotSupported(
          field, StrCat("controller ", Quote(controller), " is not available in ", Quote(d))));
    }
    auto st = WriteCgroupFile(d, "cgroup.subtree_control", StrCat("+", controller));
    if (!st.has_value()) {
      // EBUSY: `d` holds processes itself and is not the root ("no internal processes").
      std::string hint = st.error().sys_errno() == EBUSY
                             ? " (the cgroup has processes of its own; use a cgroupsPath "
                               "whose ancestors hold none)"
                             : "";
      return Unexpected(std::move(st).error().Wrap(
          StrCat(field, ": enable controller ", Quote(controller), hint)));
    }
  }
  return Ok();
}

void Leaf::EnableAvailable() const {
  auto available = Words(mount_, "cgroup.controllers");
  if (!available.has_value()) return;
  for (const std::string& c : *available) (void)EnableController(c, "");
}

}  // namespace berth::cgroup::v2
