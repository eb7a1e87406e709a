#include "berth/base/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "berth/base/strings.h"

namespace berth {

Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoFail(StrCat("open ", Quote(path)));
  return UniqueFd(fd);
}

Result<UniqueFd> OpenFileAt(int dirfd, const std::string& path, int flags, mode_t mode) {
  int fd = ::openat(dirfd, path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoFail(StrCat("open ", Quote(path)));
  return UniqueFd(fd);
}

Result<std::string> ReadFd(int fd, std::string_view what) {
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail(StrCat("read ", Quote(what)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  return ReadFd(fd.get(), path);
}

Result<std::string> ReadFileAt(int dirfd, const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFileAt(dirfd, path, O_RDONLY));
  return ReadFd(fd.get(), path);
}

Status WriteAll(int fd, std::string_view data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail(StrCat("write ", Quote(what)));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Ok();
}

Status WriteFile(const std::string& path, std::string_view data, mode_t mode) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC, mode));
  return WriteAll(fd.get(), data, path);
}

Status WriteExisting(const std::string& path, std::string_view data) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY));
  return WriteAll(fd.get(), data, path);
}

Status WriteExistingAt(int dirfd, const std::string& path, std::string_view data) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFileAt(dirfd, path, O_WRONLY));
  return WriteAll(fd.get(), data, path);
}

Status AtomicWriteFile(const std::string& path, std::string_view data, mode_t mode,
                       Durability durability) {
  // Per thread, not per process: threads of one process (the registry server) may write the
  // same path at once, and each rename must move a whole file of its own.
  std::string tmp = StrCat(path, ".tmp.", static_cast<int64_t>(::getpid()), ".",
                           static_cast<int64_t>(::gettid()));
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode));
    auto st = WriteAll(fd.get(), data, tmp);
    if (st.has_value() && durability == Durability::kFsync && ::fsync(fd.get()) != 0) {
      st = ErrnoFail(StrCat("fsync ", Quote(tmp)));
    }
    if (!st) {
      ::unlink(tmp.c_str());
      return st;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return SysFail(err, StrCat("rename ", Quote(tmp), " to ", Quote(path)));
  }
  return Ok();
}

Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_WRONLY | O_CREAT | O_EXCL, mode));
  auto st = WriteAll(fd.get(), data, path);
  if (!st) ::unlink(path.c_str());
  return st;
}

Status MkdirAll(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgument("mkdir: empty path");
  struct stat st;
  // Usually the directory exists: one stat instead of a mkdir per component.
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Ok();
  std::string cur;
  size_t i = 0;
  if (path[0] == '/') {
    cur = "/";
    i = 1;
  }
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) {
      if (!cur.empty() && cur.back() != '/') cur.push_back('/');
      cur.append(path, i, j - i);
      if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
        return ErrnoFail(StrCat("mkdir ", Quote(cur)));
      }
    }
    i = j + 1;
  }
  if (::stat(path.c_str(), &st) != 0) return ErrnoFail(StrCat("stat ", Quote(path)));
  if (!S_ISDIR(st.st_mode)) return SysFail(ENOTDIR, StrCat("mkdir ", Quote(path)));
  return Ok();
}

static Status RemoveAllAt(int dirfd, const char* name, const std::string& shown);

// Removes every entry of directory `name` (under dirfd) except one named `keep`.
static Status RemoveEntriesAt(int dirfd, const char* name, const std::string& shown,
                              std::string_view keep) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoFail(StrCat("open ", Quote(shown)));
  }
  DIR* dir = ::fdopendir(fd);
  if (!dir) {
    ::close(fd);
    return ErrnoFail(StrCat("opendir ", Quote(shown)));
  }
  Status st = Ok();
  while (struct dirent* de = ::readdir(dir)) {
    std::string_view n = de->d_name;
    if (n == "." || n == ".." || (!keep.empty() && n == keep)) continue;
    st = RemoveAllAt(::dirfd(dir), de->d_name, StrCat(shown, "/", n));
    if (!st) break;
  }
  ::closedir(dir);
  return st;
}

static Status RemoveAllAt(int dirfd, const char* name, const std::string& shown) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return Ok();
  if (errno != EISDIR && errno != EPERM) return ErrnoFail(StrCat("remove ", Quote(shown)));
  BERTH_TRY(RemoveEntriesAt(dirfd, name, shown, ""));
  if (::unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return ErrnoFail(StrCat("remove ", Quote(shown)));
  return Ok();
}

Status RemoveAll(const std::string& path) { return RemoveAllAt(AT_FDCWD, path.c_str(), path); }

Status RemoveAllBut(const std::string& dir, std::string_view keep) {
  return RemoveEntriesAt(AT_FDCWD, dir.c_str(), dir, keep);
}

bool PathExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Status CopyFdData(int in, int out, std::string_view what) {
  while (true) {
    ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size_t{1} << 30, 0);
    if (n == 0) return Ok();
    if (n > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
      return ErrnoFail(StrCat("copy ", Quote(what)));
    break;
  }
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n == 0) return Ok();
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail(StrCat("read ", Quote(what)));
    }
    BERTH_TRY(WriteAll(out, std::string_view(buf, static_cast<size_t>(n)), what));
  }
}

}  // namespace berth
