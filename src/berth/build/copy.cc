#include "berth/build/copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"

namespace berth::build {
namespace {

std::string Join(const std::string& rel, const std::string& name) {
  return rel.empty() || rel == "." ? name : StrCat(rel, "/", name);
}

Result<std::vector<std::string>> ListEntries(int dirfd, const std::string& shown) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return ErrnoFail(StrCat("open ", Quote(shown)));
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return ErrnoFail(StrCat("read ", Quote(shown)));
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  // Sorted: the cache key must not depend on directory order.
  std::sort(names.begin(), names.end());
  return names;
}

bool Skipped(const CopyOptions& o, const std::string& rel) {
  return o.ignore != nullptr && !o.ignore->empty() && o.ignore->Excluded(rel);
}

// An excluded directory is still walked when a `!` rule may re-include something in it.
bool Walk(const CopyOptions& o, const std::string& rel) {
  return !Skipped(o, rel) || o.ignore->MayReincludeBelow(rel);
}

uint32_t OwnerUid(const CopyOptions& o, const struct stat& st) {
  return o.uid ? *o.uid : o.keep_owner ? st.st_uid : 0;
}
uint32_t OwnerGid(const CopyOptions& o, const struct stat& st) {
  return o.gid ? *o.gid : o.keep_owner ? st.st_gid : 0;
}
mode_t ModeOf(const CopyOptions& o, const struct stat& st) {
  return o.mode ? *o.mode : (st.st_mode & 07777);
}

Status ApplyMeta(int dst_dir, const std::string& name, const struct stat& st,
                 const CopyOptions& o) {
  if (::fchownat(dst_dir, name.c_str(), OwnerUid(o, st), OwnerGid(o, st), AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoFail(StrCat("chown ", Quote(name)));
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, name.c_str(), ModeOf(o, st), 0) != 0)
    return ErrnoFail(StrCat("chmod ", Quote(name)));
  struct timespec ts[2] = {st.st_mtim, st.st_mtim};
  if (::utimensat(dst_dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoFail(StrCat("set times of ", Quote(name)));
  return Ok();
}

Status CopyDir(int src, const std::string& rel, int dst, const CopyOptions& o) {
  BERTH_ASSIGN_OR_RETURN(auto names, ListEntries(src, rel));
  for (const auto& n : names) {
    std::string r = Join(rel, n);
    BERTH_TRY(CopyEntry(src, n, r, dst, n, o, false));
  }
  return Ok();
}

}  // namespace

Status CopyEntry(int src_dir, const std::string& name, const std::string& rel, int dst_dir,
                 const std::string& dst_name, const CopyOptions& o, bool contents_only) {
  struct stat st;
  if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoFail(StrCat("stat ", Quote(rel)));
  if (S_ISDIR(st.st_mode)) {
    if (!Walk(o, rel) && !contents_only) return Ok();
    UniqueFd s(::openat(src_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!s) return ErrnoFail(StrCat("open ", Quote(rel)));
    if (contents_only) return CopyDir(s.get(), rel, dst_dir, o);
    struct stat dst;
    bool exists = ::fstatat(dst_dir, dst_name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !S_ISDIR(dst.st_mode)) {
      if (::unlinkat(dst_dir, dst_name.c_str(), 0) != 0)
        return ErrnoFail(StrCat("remove ", Quote(dst_name)));
      exists = false;
    }
    if (!exists && ::mkdirat(dst_dir, dst_name.c_str(), 0700) != 0)
      return ErrnoFail(StrCat("create directory ", Quote(dst_name)));
    UniqueFd d(::openat(dst_dir, dst_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d) return ErrnoFail(StrCat("open ", Quote(dst_name)));
    BERTH_TRY(CopyDir(s.get(), rel, d.get(), o));
    if (Skipped(o, rel)) {
      // Walked only for re-included entries: an existing directory keeps its metadata, a
      // new one holding nothing goes again, a new one holding something looks like its source.
      if (exists) return Ok();
      BERTH_ASSIGN_OR_RETURN(auto left, ListEntries(d.get(), dst_name));
      if (left.empty()) {
        if (::unlinkat(dst_dir, dst_name.c_str(), AT_REMOVEDIR) != 0)
          return ErrnoFail(StrCat("remove ", Quote(dst_name)));
        return Ok();
      }
    }
    // Times last: copying into the directory changed its mtime.
    return ApplyMeta(dst_dir, dst_name, st, o);
  }
  if (Skipped(o, rel)) return Ok();
  struct stat dst;
  if (::fstatat(dst_dir, dst_name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(dst.st_mode))
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat("cannot overwrite directory ", Quote(dst_name), " with ", Quote(rel)));
    if (::unlinkat(dst_dir, dst_name.c_str(), 0) != 0)
      return ErrnoFail(StrCat("remove ", Quote(dst_name)));
  }
  if (S_ISREG(st.st_mode)) {
    UniqueFd s(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!s) return ErrnoFail(StrCat("open ", Quote(rel)));
    UniqueFd d(::openat(dst_dir, dst_name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!d) return ErrnoFail(StrCat("create ", Quote(dst_name)));
    BERTH_TRY(CopyFdData(s.get(), d.get(), rel));
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoFail(StrCat("read link ", Quote(rel)));
    target.resize(static_cast<size_t>(n));
    if (::symlinkat(target.c_str(), dst_dir, dst_name.c_str()) != 0)
      return ErrnoFail(StrCat("create link ", Quote(dst_name)));
  } else if (o.keep_owner) {
    // Devices and fifos only from images and stages; a context's are skipped as docker does.
    if (::mknodat(dst_dir, dst_name.c_str(), st.st_mode, st.st_rdev) != 0)
      return ErrnoFail(StrCat("create ", Quote(dst_name)));
  } else {
    return Ok();
  }
  return ApplyMeta(dst_dir, dst_name, st, o);
}

Status HashEntry(int src_dir, const std::string& name, const std::string& rel,
                 const CopyOptions& o, image::Sha256& hash) {
  struct stat st;
  if (::fstatat(src_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoFail(StrCat("stat ", Quote(rel)));
  bool skipped = Skipped(o, rel);
  if (S_ISDIR(st.st_mode) && (!skipped || Walk(o, rel))) {
    // The walk is the same as CopyEntry's, so the key covers exactly what gets copied.
    UniqueFd s(::openat(src_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!s) return ErrnoFail(StrCat("open ", Quote(rel)));
    if (!skipped) hash.Update(StrCat("d ", rel, " ", ModeOf(o, st), " ", OwnerUid(o, st), ":",
                                      OwnerGid(o, st), "\n"));
    BERTH_ASSIGN_OR_RETURN(auto names, ListEntries(s.get(), rel));
    for (const auto& n : names) BERTH_TRY(HashEntry(s.get(), n, Join(rel, n), o, hash));
    return Ok();
  }
  if (skipped) return Ok();
  // No mtimes, as BuildKit: touching a file without changing it keeps the cache.
  std::string head = StrCat(rel, " ", ModeOf(o, st), " ", OwnerUid(o, st), ":", OwnerGid(o, st),
                            " ", st.st_size);
  if (S_ISREG(st.st_mode)) {
    hash.Update(StrCat("f ", head, "\n"));
    UniqueFd s(::openat(src_dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!s) return ErrnoFail(StrCat("open ", Quote(rel)));
    char buf[1 << 16];
    while (true) {
      ssize_t n = ::read(s.get(), buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoFail(StrCat("read ", Quote(rel)));
      }
      hash.Update(buf, static_cast<size_t>(n));
    }
  } else if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = ::readlinkat(src_dir, name.c_str(), target.data(), target.size());
    if (n < 0) return ErrnoFail(StrCat("read link ", Quote(rel)));
    target.resize(static_cast<size_t>(n));
    hash.Update(StrCat("l ", head, " ", target, "\n"));
  } else {
    hash.Update(StrCat("s ", head, " ", st.st_rdev, "\n"));
  }
  return Ok();
}

}  // namespace berth::build
