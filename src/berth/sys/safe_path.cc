#include "berth/sys/safe_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "berth/base/strings.h"
#include "berth/sys/syscalls.h"

namespace berth::sys {

namespace {

bool g_openat2_enabled = true;
constexpr int kMaxSymlinks = 40;

std::vector<std::string> Components(std::string_view path) { return SplitNonEmpty(path, '/'); }

// The fallback walk: resolves `path` under root_fd to an O_PATH fd of the final component's
// parent plus its name, following symlinks inside the root. On success `last` is the final
// component name ("" when the path is the root itself).
Result<UniqueFd> WalkParent(int root_fd, std::string_view path, std::string* last) {
  std::vector<std::string> todo = Components(path);
  std::reverse(todo.begin(), todo.end());  // a stack: back() is next
  std::vector<UniqueFd> stack;             // directories from root down; empty = at root
  auto cur = [&]() { return stack.empty() ? root_fd : stack.back().get(); };
  int links = 0;
  while (!todo.empty()) {
    std::string comp = std::move(todo.back());
    todo.pop_back();
    if (comp == ".") continue;
    if (comp == "..") {
      if (!stack.empty()) stack.pop_back();
      continue;
    }
    if (todo.empty()) {
      // Last component: the caller opens it, but a symlink there must still be resolved.
      struct stat st;
      if (::fstatat(cur(), comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) {
        if (++links > kMaxSymlinks) return SysFail(ELOOP, StrCat("resolve ", Quote(path)));
        char buf[4096];
        ssize_t n = ::readlinkat(cur(), comp.c_str(), buf, sizeof buf - 1);
        if (n < 0) return ErrnoFail(StrCat("readlink ", Quote(comp)));
        std::string_view target(buf, static_cast<size_t>(n));
        if (!target.empty() && target[0] == '/') stack.clear();
        auto more = Components(target);
        for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
        if (more.empty()) {
          *last = "";
          break;
        }
        continue;
      }
      *last = comp;
      break;
    }
    int fd = ::openat(cur(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoFail(StrCat("open ", Quote(comp), " in ", Quote(path)));
    UniqueFd f(fd);
    struct stat st;
    if (::fstat(fd, &st) != 0) return ErrnoFail("fstat");
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) return SysFail(ELOOP, StrCat("resolve ", Quote(path)));
      char buf[4096];
      ssize_t n = ::readlinkat(fd, "", buf, sizeof buf - 1);
      if (n < 0) return ErrnoFail(StrCat("readlink ", Quote(comp)));
      std::string_view target(buf, static_cast<size_t>(n));
      if (!target.empty() && target[0] == '/') stack.clear();
      auto more = Components(target);
      for (auto it = more.rbegin(); it != more.rend(); ++it) todo.push_back(*it);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return SysFail(ENOTDIR, StrCat("resolve ", Quote(path)));
    stack.push_back(std::move(f));
  }
  int d = ::fcntl(cur(), F_DUPFD_CLOEXEC, 3);
  if (d < 0) return ErrnoFail("dup");
  return UniqueFd(d);
}

Result<UniqueFd> OpenInRootFallback(int root_fd, std::string_view path, int flags, mode_t mode) {
  std::string last;
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent, WalkParent(root_fd, path, &last));
  if (last.empty()) {
    // The path named the root (or a symlink to it).
    int fd = ::openat(parent.get(), ".", (flags & ~(O_CREAT | O_EXCL)) | O_CLOEXEC);
    if (fd < 0) return ErrnoFail(StrCat("open ", Quote(path)));
    return UniqueFd(fd);
  }
  int fd = ::openat(parent.get(), last.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == ELOOP && (flags & O_PATH) == 0) {
      return SysFail(ELOOP, StrCat("open ", Quote(path), ": symlink raced"));
    }
    return ErrnoFail(StrCat("open ", Quote(path)));
  }
  return UniqueFd(fd);
}

}  // namespace

void SetOpenat2Enabled(bool enabled) { g_openat2_enabled = enabled; }

std::string FdPath(int fd) { return StrCat("/proc/self/fd/", fd); }

Result<UniqueFd> OpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode) {
  if (g_openat2_enabled) {
    std::string p(path);
    while (!p.empty() && p[0] == '/') p.erase(0, 1);
    if (p.empty()) p = ".";
    struct open_how how = {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    long fd = Openat2(root_fd, p.c_str(), &how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    int err = errno;
    // EAGAIN: a concurrent rename under the root; E2BIG/ENOSYS: kernel without openat2.
    if (err != ENOSYS && err != EAGAIN && err != E2BIG) {
      return SysFail(err, StrCat("open ", Quote(path)));
    }
  }
  return OpenInRootFallback(root_fd, path, flags, mode);
}

Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view path, mode_t mode) {
  // Usually it exists already (a mount point in the image): one resolution, no walk.
  if (auto whole = OpenInRoot(root_fd, path, O_PATH | O_DIRECTORY); whole.has_value()) {
    return whole;
  }
  // Walk component by component so each new directory is created under a resolved parent.
  auto comps = Components(path);
  std::string done;
  BERTH_ASSIGN_OR_RETURN(UniqueFd cur, OpenInRoot(root_fd, "/", O_PATH | O_DIRECTORY));
  for (size_t i = 0; i < comps.size(); ++i) {
    const std::string& c = comps[i];
    done += "/" + c;
    auto next = OpenInRoot(root_fd, done, O_PATH | O_DIRECTORY);
    if (next.has_value()) {
      cur = std::move(*next);
      continue;
    }
    if (next.error().sys_errno() != ENOENT) {
      return Unexpected(std::move(next).error());
    }
    if (c == "..") continue;  // ".." of an existing dir always exists; ENOENT came earlier
    // `cur` is the resolved parent; a dangling symlink at `c` makes mkdirat fail with EEXIST.
    if (::mkdirat(cur.get(), c.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoFail(StrCat("mkdir ", Quote(done)));
    }
    int fd = ::openat(cur.get(), c.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return ErrnoFail(StrCat("open ", Quote(done)));
    cur.Reset(fd);
  }
  return cur;
}

Result<UniqueFd> EnsureFileInRoot(int root_fd, std::string_view path, mode_t mode) {
  auto existing = OpenInRoot(root_fd, path, O_PATH);
  if (existing.has_value()) return existing;
  if (existing.error().sys_errno() != ENOENT) return existing;
  std::string p(path);
  size_t slash = p.find_last_of('/');
  std::string dir = slash == std::string::npos ? "/" : p.substr(0, slash);
  std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
  if (name.empty() || name == "." || name == "..")
    return SysFail(EINVAL, StrCat("create file ", Quote(path)));
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent, MkdirAllInRoot(root_fd, dir));
  int fd = ::openat(parent.get(), name.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0 && errno != EEXIST) return ErrnoFail(StrCat("create ", Quote(path)));
  if (fd >= 0) ::close(fd);
  return OpenInRoot(root_fd, path, O_PATH);
}

}  // namespace berth::sys
