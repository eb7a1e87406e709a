// berth/cgroup: cgroup file helpers (see fs.h).
#include "berth/cgroup/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::cgroup {

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  if (name.empty()) return out;
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

bool HasFile(const std::string& dir, std::string_view file) {
  return ::access(JoinPath(dir, file).c_str(), F_OK) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Result<std::string> ReadCgroupFile(const std::string& dir, std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(dir, file)));
  return std::string(Trim(text));
}

Status WriteCgroupFile(const std::string& dir, std::string_view file, std::string_view value) {
  // No O_CREAT: a missing control file must fail. O_TRUNC is ignored by cgroupfs and makes
  // the plain files of a test's fake tree hold exactly the last value written.
  std::string path = JoinPath(dir, file);
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY | O_TRUNC));
  return WriteAll(fd.get(), value, path);
}

Result<uint64_t> ParseCgroupUint(std::string_view s, std::string_view what) {
  s = Trim(s);
  if (s == "max") return kMax;
  // v1 prints -1 for "no limit" in a few files (memory.soft_limit_in_bytes on old kernels).
  if (s == "-1") return kMax;
  return ParseUint64(s, what);
}

Result<uint64_t> ReadUint(const std::string& dir, std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadCgroupFile(dir, file));
  return ParseCgroupUint(text, JoinPath(dir, file));
}

std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text) {
  std::map<std::string, uint64_t> out;
  for (const std::string& line : Split(text, '\n')) {
    auto f = SplitNonEmpty(line, ' ');
    if (f.size() != 2) continue;
    auto v = ParseCgroupUint(f[1], f[0]);
    if (v.has_value()) out[f[0]] = *v;
  }
  return out;
}

Result<std::map<std::string, uint64_t>> ReadFlatKeyed(const std::string& dir,
                                                      std::string_view file) {
  BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(JoinPath(dir, file)));
  return ParseFlatKeyed(text);
}

std::vector<std::string> ParseWords(std::string_view text) {
  std::vector<std::string> out;
  for (std::string w : SplitNonEmpty(text, ' ')) {
    w = std::string(Trim(w));
    if (!w.empty() && w[0] == '+') w.erase(0, 1);
    if (!w.empty()) out.push_back(std::move(w));
  }
  return out;
}

Error NotSupported(std::string_view field, std::string_view why) {
  return Error(ErrorCode::kUnsupported, StrCat(field, ": not supported by this host (", why, ")"));
}

Error MissingFile(std::string_view field, const std::string& dir, std::string_view file) {
  return NotSupported(field, StrCat("no ", Quote(file), " in ", Quote(dir)));
}

Status WriteField(std::string_view field, const std::string& dir, std::string_view file,
                  std::string_view value) {
  auto st = WriteCgroupFile(dir, file, value);
  if (st.has_value()) return Ok();
  if (st.error().sys_errno() == ENOENT && IsDir(dir)) {
    return Unexpected(MissingFile(field, dir, file));
  }
  return Unexpected(std::move(st).error().Wrap(field));
}

namespace {

// Names of the sub-directories (child cgroups) of `dir`.
Result<std::vector<std::string>> ChildCgroups(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return ErrnoFail(StrCat("open ", Quote(dir)));
  }
  while (struct dirent* de = ::readdir(d)) {
    std::string_view name = de->d_name;
    if (name == "." || name == "..") continue;
    // cgroupfs reports DT_DIR for cgroups; fall back to stat for filesystems that do not.
    if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN && IsDir(JoinPath(dir, name)))) {
      out.emplace_back(name);
    }
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

Status CollectProcs(const std::string& dir, std::vector<pid_t>& out) {
  auto text = ReadFile(JoinPath(dir, "cgroup.procs"));
  if (!text.has_value()) {
    // A sub-cgroup that vanished while we walked is fine.
    if (text.error().sys_errno() == ENOENT) return Ok();
    return Unexpected(std::move(text).error());
  }
  for (const std::string& line : SplitNonEmpty(*text, '\n')) {
    BERTH_ASSIGN_OR_RETURN(int64_t pid, ParseInt64(Trim(line), JoinPath(dir, "cgroup.procs")));
    out.push_back(static_cast<pid_t>(pid));
  }
  BERTH_ASSIGN_OR_RETURN(auto children, ChildCgroups(dir));
  for (const std::string& c : children) BERTH_TRY(CollectProcs(JoinPath(dir, c), out));
  return Ok();
}

}  // namespace

Result<std::vector<pid_t>> ReadProcsRecursive(const std::string& dir) {
  std::vector<pid_t> out;
  BERTH_TRY(CollectProcs(dir, out));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status RemoveCgroup(const std::string& dir) {
  // The common case is an empty leaf: try that before listing the directory (a cgroupfs
  // readdir generates every control file's entry).
  if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
  BERTH_ASSIGN_OR_RETURN(auto children, ChildCgroups(dir));
  for (const std::string& c : children) BERTH_TRY(RemoveCgroup(JoinPath(dir, c)));
  auto delay = std::chrono::milliseconds(5);
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
    // EBUSY: tasks that were killed are still exiting; anything else is final. 20 attempts
    // with the delay doubling up to 200 ms is about two seconds.
    if (errno != EBUSY || attempt >= 20) return ErrnoFail(StrCat("remove cgroup ", Quote(dir)));
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(200));
  }
}

Result<std::vector<std::string>> MakeCgroupDirs(const std::string& base, const std::string& dir) {
  std::vector<std::string> created;
  bool under = dir.size() >= base.size() && dir.compare(0, base.size(), base) == 0 &&
               (dir.size() == base.size() || base.back() == '/' || dir[base.size()] == '/');
  if (!under) {
    return Fail(ErrorCode::kInternal, StrCat(Quote(dir), " is not under ", Quote(base)));
  }
  // Usually only the leaf is new: one mkdir instead of one per level.
  if (dir.size() > base.size() && ::mkdir(dir.c_str(), 0755) == 0) return std::vector{dir};
  // A parent may vanish between two levels (`system prune` removes unused parents): start
  // over a few times before giving up.
  for (int attempt = 0;; ++attempt) {
    std::string cur = base;
    bool vanished = false;
    for (const std::string& part : SplitNonEmpty(std::string_view(dir).substr(base.size()), '/')) {
      cur = JoinPath(cur, part);
      if (::mkdir(cur.c_str(), 0755) == 0) {
        created.push_back(cur);
      } else if (errno == ENOENT && attempt < 3) {
        vanished = true;
        break;
      } else if (errno != EEXIST) {
        int err = errno;
        RemoveDirsQuietly(created);
        return SysFail(err, StrCat("mkdir ", Quote(cur)));
      }
    }
    if (!vanished) return created;
    RemoveDirsQuietly(created);
    created.clear();
  }
}

void RemoveDirsQuietly(const std::vector<std::string>& dirs) {
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) ::rmdir(it->c_str());
}

}  // namespace berth::cgroup
