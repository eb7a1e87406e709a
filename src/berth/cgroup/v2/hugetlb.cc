// berth/cgroup/v2: the hugetlb controller (hugetlb.<size>.max) and its counters.
#include <dirent.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

Status ApplyHugetlb(const Leaf& leaf, const std::vector<oci::HugepageLimit>& limits) {
  if (limits.empty()) return Ok();
  BERTH_TRY(leaf.EnableController("hugetlb", "linux.resources.hugepageLimits"));
  const std::string& dir = leaf.dir();
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    std::string field = StrCat("linux.resources.hugepageLimits[", i, "]");
    if (l.page_size.empty() || l.page_size.find('/') != std::string::npos) {
      return InvalidArgument(StrCat(field, ".pageSize: ", Quote(l.page_size), " is invalid"));
    }
    std::string file = StrCat("hugetlb.", l.page_size, ".max");
    if (!HasFile(dir, file)) {
      return Unexpected(
          NotSupported(StrCat(field, ".pageSize"), StrCat("no ", Quote(file), " in ", Quote(dir))));
    }
    BERTH_TRY(WriteField(StrCat(field, ".limit"), dir, file, StrCat(l.limit)));
    // Reservations (5.7+) count too; limit them alike, as runc does.
    std::string rsvd = StrCat("hugetlb.", l.page_size, ".rsvd.max");
    if (HasFile(dir, rsvd))
      BERTH_TRY(WriteField(StrCat(field, ".limit"), dir, rsvd, StrCat(l.limit)));
  }
  return Ok();
}

Status ReadHugetlbStats(const std::string& dir, std::map<std::string, HugetlbStats>& out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return ErrnoFail(StrCat("open ", Quote(dir)));
  std::vector<std::string> sizes;
  while (struct dirent* de = ::readdir(d)) {
    std::string_view n = de->d_name;
    constexpr std::string_view kPre = "hugetlb.", kSuf = ".current";
    if (n.size() > kPre.size() + kSuf.size() && n.substr(0, kPre.size()) == kPre &&
        n.substr(n.size() - kSuf.size()) == kSuf && n.find(".rsvd.") == std::string_view::npos) {
      sizes.emplace_back(n.substr(kPre.size(), n.size() - kPre.size() - kSuf.size()));
    }
  }
  ::closedir(d);
  for (const std::string& size : sizes) {
    HugetlbStats h;
    BERTH_ASSIGN_OR_RETURN(h.usage, ReadUint(dir, StrCat("hugetlb.", size, ".current")));
    std::string events = StrCat("hugetlb.", size, ".events");
    if (HasFile(dir, events)) {
      BERTH_ASSIGN_OR_RETURN(auto kv, ReadFlatKeyed(dir, events));
      h.failcnt = kv["max"];
    }
    out[size] = h;
  }
  return Ok();
}

}  // namespace berth::cgroup::v2
