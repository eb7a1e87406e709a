// berth/cgroup/v1: the hugetlb controller (hugetlb.<size>.limit_in_bytes) and its counters.
#include <dirent.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

Status ApplyHugetlb(const std::string& dir, const std::vector<oci::HugepageLimit>& limits) {
  for (size_t i = 0; i < limits.size(); ++i) {
    const auto& l = limits[i];
    std::string field = StrCat("linux.resources.hugepageLimits[", i, "]");
    if (l.page_size.empty() || l.page_size.find('/') != std::string::npos) {
      return InvalidArgument(StrCat(field, ".pageSize: ", Quote(l.page_size), " is invalid"));
    }
    std::string file = StrCat("hugetlb.", l.page_size, ".limit_in_bytes");
    if (!HasFile(dir, file)) {
      return Unexpected(
          NotSupported(StrCat(field, ".pageSize"), StrCat("no ", Quote(file), " in ", Quote(dir))));
    }
    BERTH_TRY(WriteField(StrCat(field, ".limit"), dir, file, StrCat(l.limit)));
    // Kernels 5.7+ also account reservations; limit them alike so that mmap(MAP_NORESERVE)
    // cannot overcommit past the limit.
    std::string rsvd = StrCat("hugetlb.", l.page_size, ".rsvd.limit_in_bytes");
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
    constexpr std::string_view kPre = "hugetlb.", kSuf = ".usage_in_bytes";
    if (n.size() > kPre.size() + kSuf.size() && n.substr(0, kPre.size()) == kPre &&
        n.substr(n.size() - kSuf.size()) == kSuf && n.find(".rsvd.") == std::string_view::npos) {
      sizes.emplace_back(n.substr(kPre.size(), n.size() - kPre.size() - kSuf.size()));
    }
  }
  ::closedir(d);
  for (const std::string& size : sizes) {
    HugetlbStats h;
    BERTH_ASSIGN_OR_RETURN(h.usage, ReadUint(dir, StrCat("hugetlb.", size, ".usage_in_bytes")));
    BERTH_ASSIGN_OR_RETURN(h.max_usage,
                           ReadUint(dir, StrCat("hugetlb.", size, ".max_usage_in_bytes")));
    BERTH_ASSIGN_OR_RETURN(h.failcnt, ReadUint(dir, StrCat("hugetlb.", size, ".failcnt")));
    out[size] = h;
  }
  return Ok();
}

}  // namespace berth::cgroup::v1
