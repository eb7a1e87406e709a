#include "berth/image/layer_fsutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "berth/base/strings.h"
#include "berth/sys/safe_path.h"

namespace berth::image::internal {

bool LayerXattrAllowed(std::string_view name) {
  if (name.starts_with("trusted.overlay.")) return false;
  return name.starts_with("user.") || name.starts_with("trusted.") ||
         name == "security.capability" || name == "system.posix_acl_access" ||
         name == "system.posix_acl_default";
}

// The xattr syscalls take paths; /proc/self/fd/N names exactly the object behind an fd,
// including a symlink opened O_PATH|O_NOFOLLOW (the magic link is not followed further).
Result<Xattrs> ReadXattrs(int fd, std::string_view shown) {
  std::string path = sys::FdPath(fd);
  Xattrs out;
  std::string names(1024, '\0');
  for (;;) {
    ssize_t n = ::listxattr(path.c_str(), names.data(), names.size());
    if (n >= 0) {
      names.resize(static_cast<size_t>(n));
      break;
    }
    if (errno == ENOTSUP) return out;
    if (errno != ERANGE) return ErrnoFail(StrCat("list xattrs of ", Quote(shown)));
    ssize_t need = ::listxattr(path.c_str(), nullptr, 0);
    if (need < 0) return ErrnoFail(StrCat("list xattrs of ", Quote(shown)));
    names.assign(static_cast<size_t>(need) + 1, '\0');
  }
  for (const std::string& name : SplitNonEmpty(names, '\0')) {
    bool found = false;
    BERTH_ASSIGN_OR_RETURN(std::string value, GetXattr(fd, name.c_str(), &found));
    if (found) out.emplace_back(name, std::move(value));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> GetXattr(int fd, const char* name, bool* found) {
  std::string path = sys::FdPath(fd);
  std::string value(256, '\0');
  *found = false;
  for (;;) {
    ssize_t n = ::getxattr(path.c_str(), name, value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      *found = true;
      return value;
    }
    if (errno == ENODATA || errno == ENOTSUP) return std::string();
    if (errno != ERANGE) return ErrnoFail(StrCat("get xattr ", Quote(name)));
    ssize_t need = ::getxattr(path.c_str(), name, nullptr, 0);
    if (need < 0) return ErrnoFail(StrCat("get xattr ", Quote(name)));
    value.assign(static_cast<size_t>(need), '\0');
  }
}

Status SetXattr(int fd, const std::string& name, std::string_view value, std::string_view shown) {
  std::string path = sys::FdPath(fd);
  if (::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) != 0) {
    return ErrnoFail(StrCat("set xattr ", Quote(name), " on ", Quote(shown)));
  }
  return Ok();
}

Result<UniqueFd> OpenAtNoFollow(int dirfd, const std::string& name, int flags,
                                std::string_view shown, mode_t mode) {
  int fd = ::openat(dirfd, name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoFail(StrCat("open ", Quote(shown)));
  return UniqueFd(fd);
}

Result<std::vector<std::string>> ListDir(int dirfd, std::string_view shown) {
  // fdopendir takes the fd over: give it a fresh one for the same directory.
  int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoFail(StrCat("open directory ", Quote(shown)));
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return ErrnoFail(StrCat("read directory ", Quote(shown)));
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* de = ::readdir(dir)) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return SysFail(err, StrCat("read directory ", Quote(shown)));
  std::sort(names.begin(), names.end());
  return names;
}

Status EmptyDir(int dirfd, std::string_view shown, const dev_t* same_dev) {
  BERTH_ASSIGN_OR_RETURN(auto names, ListDir(dirfd, shown));
  for (const std::string& n : names) {
    BERTH_TRY(RemoveTreeAt(dirfd, n, StrCat(shown, "/", n), same_dev));
  }
  return Ok();
}

Status RemoveTreeAt(int dirfd, const std::string& name, std::string_view shown,
                    const dev_t* same_dev) {
  struct stat st;
  if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoFail(StrCat("stat ", Quote(shown)));
  }
  if (!S_ISDIR(st.st_mode)) {
    if (::unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT)
      return ErrnoFail(StrCat("remove ", Quote(shown)));
    return Ok();
  }
  if (same_dev && st.st_dev != *same_dev) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("remove ", Quote(shown), ": is on another filesystem (a mount point)"));
  }
  {
    auto sub = OpenAtNoFollow(dirfd, name, O_RDONLY | O_DIRECTORY, shown);
    if (!sub.has_value()) {
      // Unprivileged callers cannot read a mode-0 directory: make it usable and retry.
      if (sub.error().sys_errno() != EACCES || ::fchmodat(dirfd, name.c_str(), 0700, 0) != 0)
        return Unexpected(std::move(sub).error());
      sub = OpenAtNoFollow(dirfd, name, O_RDONLY | O_DIRECTORY, shown);
      if (!sub.has_value()) return Unexpected(std::move(sub).error());
    }
    // Unprivileged callers need write permission to remove entries of read-only dirs.
    if (::geteuid() != 0) (void)::fchmod(sub->get(), 0700);
    BERTH_TRY(EmptyDir(sub->get(), shown, same_dev));
  }
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return ErrnoFail(StrCat("remove ", Quote(shown)));
  return Ok();
}

}  // namespace berth::image::internal
