#include "berth/sys/mountinfo.h"

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::sys {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      char a = s[i + 1], b = s[i + 2], c = s[i + 3];
      if (a >= '0' && a <= '3' && b >= '0' && b <= '7' && c >= '0' && c <= '7') {
        out.push_back(static_cast<char>((a - '0') * 64 + (b - '0') * 8 + (c - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace

bool MountInfo::IsShared() const {
  for (auto& f : optional_fields)
    if (f.rfind("shared:", 0) == 0) return true;
  return false;
}

bool MountInfo::IsSlave() const {
  for (auto& f : optional_fields)
    if (f.rfind("master:", 0) == 0) return true;
  return false;
}

Result<std::vector<MountInfo>> ParseMountInfo(std::string_view text) {
  std::vector<MountInfo> out;
  size_t lineno = 0;
  for (auto& line : Split(text, '\n')) {
    ++lineno;
    if (Trim(line).empty()) continue;
    auto f = SplitNonEmpty(line, ' ');
    auto bad = [&]() {
      return InvalidArgument(StrCat("mountinfo line ", static_cast<uint64_t>(lineno), ": malformed"));
    };
    if (f.size() < 10) return bad();
    MountInfo m;
    auto id = ParseInt64(f[0], "mount id");
    auto pid = ParseInt64(f[1], "parent id");
    if (!id || !pid) return bad();
    m.id = static_cast<int>(*id);
    m.parent_id = static_cast<int>(*pid);
    auto mm = Split(f[2], ':');
    if (mm.size() != 2) return bad();
    auto ma = ParseUint64(mm[0], "major"), mi = ParseUint64(mm[1], "minor");
    if (!ma || !mi) return bad();
    m.major = static_cast<unsigned>(*ma);
    m.minor = static_cast<unsigned>(*mi);
    m.root = Unescape(f[3]);
    m.mount_point = Unescape(f[4]);
    m.options = f[5];
    size_t i = 6;
    while (i < f.size() && f[i] != "-") m.optional_fields.push_back(f[i++]);
    if (i + 3 > f.size()) return bad();
    m.fs_type = f[i + 1];
    m.source = Unescape(f[i + 2]);
    m.super_options = i + 3 < f.size() ? f[i + 3] : "";
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<MountInfo>> ReadMountInfo(std::string_view proc_path) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(std::string(proc_path)));
  return ParseMountInfo(text);
}

const MountInfo* FindMountFor(const std::vector<MountInfo>& mounts, std::string_view path) {
  const MountInfo* best = nullptr;
  for (auto& m : mounts) {
    std::string_view mp = m.mount_point;
    bool prefix = mp == "/" || path == mp ||
                  (path.size() > mp.size() && path.substr(0, mp.size()) == mp &&
                   path[mp.size()] == '/');
    // Later entries shadow earlier ones at the same mount point.
    if (prefix && (!best || mp.size() >= best->mount_point.size())) best = &m;
  }
  return best;
}

}  // namespace berth::sys
