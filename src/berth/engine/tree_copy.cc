#include "berth/engine/tree_copy.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <vector>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"

namespace berth::engine {
namespace {

Status ApplyMeta(int dst_dir, const std::string& name, const struct stat& st) {
  if (::fchownat(dst_dir, name.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0 &&
      errno != EPERM) {
    return ErrnoFail(StrCat("chown ", Quote(name)));
  }
  if (!S_ISLNK(st.st_mode) && ::fchmodat(dst_dir, name.c_str(), st.st_mode & 07777, 0) != 0) {
    return ErrnoFail(StrCat("chmod ", Quote(name)));
  }
  struct timespec ts[2] = {st.st_atim, st.st_mtim};
  (void)::utimensat(dst_dir, name.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  return Ok();
}

}  // namespace

Status CopyEntry(int src_dir, const std::string& src_name, int dst_dir, const std::string& dst_name) {
  struct stat st;
  if (::fstatat(src_dir, src_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoFail(StrCat("stat ", Quote(src_name)));
  }
  struct stat dst;
  bool exists = ::fstatat(dst_dir, dst_name.c_str(), &dst, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && !(S_ISDIR(st.st_mode) && S_ISDIR(dst.st_mode))) {
    if (S_ISDIR(dst.st_mode)) {
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat("cannot overwrite directory ", Quote(dst_name), " with non-directory"));
    }
    if (::unlinkat(dst_dir, dst_name.c_str(), 0) != 0) {
      return ErrnoFail(StrCat("remove ", Quote(dst_name)));
    }
  }
  if (S_ISDIR(st.st_mode)) {
    if (!exists && ::mkdirat(dst_dir, dst_name.c_str(), 0700) != 0) {
      return ErrnoFail(StrCat("mkdir ", Quote(dst_name)));
    }
    UniqueFd s(::openat(src_dir, src_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!s.valid()) return ErrnoFail(StrCat("open ", Quote(src_name)));
    UniqueFd d(::openat(dst_dir, dst_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!d.valid()) return ErrnoFail(StrCat("open ", Quote(dst_name)));
    BERTH_TRY_CTX(CopyDirContents(s.get(), d.get()), src_name);
  } else if (S_ISREG(st.st_mode)) {
    UniqueFd s(::openat(src_dir, src_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!s.valid()) return ErrnoFail(StrCat("open ", Quote(src_name)));
    UniqueFd d(::openat(dst_dir, dst_name.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!d.valid()) return ErrnoFail(StrCat("create ", Quote(dst_name)));
    BERTH_TRY(CopyFdData(s.get(), d.get(), src_name));
  } else if (S_ISLNK(st.st_mode)) {
    std::vector<char> buf(static_cast<size_t>(st.st_size) + 2);
    ssize_t n = ::readlinkat(src_dir, src_name.c_str(), buf.data(), buf.size() - 1);
    if (n < 0) return ErrnoFail(StrCat("readlink ", Quote(src_name)));
    buf[static_cast<size_t>(n)] = 0;
    if (::symlinkat(buf.data(), dst_dir, dst_name.c_str()) != 0) {
      return ErrnoFail(StrCat("symlink ", Quote(dst_name)));
    }
  } else {
    if (::mknodat(dst_dir, dst_name.c_str(), st.st_mode, st.st_rdev) != 0) {
      return ErrnoFail(StrCat("mknod ", Quote(dst_name)));
    }
  }
  return ApplyMeta(dst_dir, dst_name, st);
}

Status CopyDirContents(int src_dir, int dst_dir) {
  int dup = ::openat(src_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return ErrnoFail("open directory");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return ErrnoFail("fdopendir");
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(std::move(n));
  }
  ::closedir(d);
  for (auto& n : names) BERTH_TRY(CopyEntry(src_dir, n, dst_dir, n));
  return Ok();
}

}  // namespace berth::engine
