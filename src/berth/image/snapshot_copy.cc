// The copy snapshotter: layers (overlay form) applied one after another into one tree.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <map>
#include <vector>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/snapshot_internal.h"
#include "berth/sys/safe_path.h"

namespace berth::image::internal {

namespace {

Status CopyBytes(int in, int out, std::string_view shown) {
  bool use_cfr = true;
  std::vector<char> buf;
  for (;;) {
    if (use_cfr) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, size_t{1} << 30, 0);
      if (n > 0) continue;
      if (n == 0) return Ok();
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
        return ErrnoFail(StrCat("copy ", Quote(shown)));
      use_cfr = false;
      buf.resize(size_t{256} << 10);
    }
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail(StrCat("read ", Quote(shown)));
    }
    if (n == 0) return Ok();
    BERTH_TRY(WriteAll(out, std::string_view(buf.data(), static_cast<size_t>(n)), shown));
  }
}

class LayerCopier {
 public:
  explicit LayerCopier(int dest_root) : dest_root_(dest_root) {}

  Status CopyDir(int src, int dst, const std::string& rel) {
    BERTH_ASSIGN_OR_RETURN(auto names, ListDir(src, rel.empty() ? "." : rel));
    for (const std::string& name : names) {
      std::string path = rel.empty() ? name : StrCat(rel, "/", name);
      struct stat st;
      if (::fstatat(src, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return ErrnoFail(StrCat("stat ", Quote(path)));
      BERTH_TRY(CopyEntry(src, dst, name, path, st));
    }
    return Ok();
  }

 private:
  // Order: chown clears setuid bits and capabilities, so it goes before xattrs and chmod.
  Status CopyMeta(int from, int to, const struct stat& st, const std::string& path) {
    if (::fchownat(to, "", st.st_uid, st.st_gid, AT_EMPTY_PATH) != 0)
      return ErrnoFail(StrCat("chown ", Quote(path)));
    BERTH_ASSIGN_OR_RETURN(auto xattrs, ReadXattrs(from, path));
    for (const auto& [name, value] : xattrs) {
      if (!LayerXattrAllowed(name)) continue;
      auto r = SetXattr(to, name, value, path);
      if (!r.has_value() && !(name.starts_with("user.") && S_ISLNK(st.st_mode))) return r;
    }
    if (!S_ISLNK(st.st_mode) && ::fchmod(to, st.st_mode & 07777) != 0 &&
        (errno != EBADF || ::chmod(sys::FdPath(to).c_str(), st.st_mode & 07777) != 0))
      return ErrnoFail(StrCat("chmod ", Quote(path)));
    return Ok();
  }

  Status CopyEntry(int src, int dst, const std::string& name, const std::string& path,
                   const struct stat& st) {
    struct stat existing;
    bool exists = ::fstatat(dst, name.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      return exists ? RemoveTreeAt(dst, name, path) : Ok();  // a whiteout
    }
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    if (S_ISDIR(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd from, OpenAtNoFollow(src, name, O_RDONLY | O_DIRECTORY, path));
      bool opaque = false;
      auto v = GetXattr(from.get(), "trusted.overlay.opaque", &opaque);
      if (!v.has_value()) return Unexpected(std::move(v).error());
      opaque = opaque && v->size() == 1 && (*v)[0] == 'y';
      if (exists && !S_ISDIR(existing.st_mode)) {
        BERTH_TRY(RemoveTreeAt(dst, name, path));
        exists = false;
      }
      if (!exists && ::mkdirat(dst, name.c_str(), 0700) != 0)
        return ErrnoFail(StrCat("mkdir ", Quote(path)));
      BERTH_ASSIGN_OR_RETURN(UniqueFd to, OpenAtNoFollow(dst, name, O_RDONLY | O_DIRECTORY, path));
      if (exists && opaque) BERTH_TRY(EmptyDir(to.get(), path));
      BERTH_TRY(CopyMeta(from.get(), to.get(), st, path));
      BERTH_TRY(CopyDir(from.get(), to.get(), path));
      // After the children: creating them changed the directory's mtime.
      if (::futimens(to.get(), times) != 0) return ErrnoFail(StrCat("set times of ", Quote(path)));
      return Ok();
    }
    if (exists) BERTH_TRY(RemoveTreeAt(dst, name, path));
    if (st.st_nlink > 1) {
      auto [it, inserted] = links_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!inserted) return Link(it->second, dst, name, path);
    }
    if (S_ISREG(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd from, OpenAtNoFollow(src, name, O_RDONLY, path));
      BERTH_ASSIGN_OR_RETURN(UniqueFd to, OpenAtNoFollow(dst, name, O_WRONLY | O_CREAT | O_EXCL,
                                                         path, 0600));
      BERTH_TRY(CopyBytes(from.get(), to.get(), path));
      BERTH_TRY(CopyMeta(from.get(), to.get(), st, path));
      if (::futimens(to.get(), times) != 0) return ErrnoFail(StrCat("set times of ", Quote(path)));
      return Ok();
    }
    if (S_ISLNK(st.st_mode)) {
      std::string target(std::max<size_t>(static_cast<size_t>(st.st_size) + 1, 4096), '\0');
      ssize_t n = ::readlinkat(src, name.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoFail(StrCat("readlink ", Quote(path)));
      target.resize(static_cast<size_t>(n));
      if (::symlinkat(target.c_str(), dst, name.c_str()) != 0)
        return ErrnoFail(StrCat("symlink ", Quote(path)));
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
      if (::mknodat(dst, name.c_str(), (st.st_mode & S_IFMT) | 0600, st.st_rdev) != 0)
        return ErrnoFail(StrCat("mknod ", Quote(path)));
    } else {
      return Ok();  // sockets are not copied
    }
    BERTH_ASSIGN_OR_RETURN(UniqueFd from, OpenAtNoFollow(src, name, O_PATH, path));
    BERTH_ASSIGN_OR_RETURN(UniqueFd to, OpenAtNoFollow(dst, name, O_PATH, path));
    BERTH_TRY(CopyMeta(from.get(), to.get(), st, path));
    if (::utimensat(dst, name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0)
      return ErrnoFail(StrCat("set times of ", Quote(path)));
    return Ok();
  }

  // A second name for an inode copied earlier in this layer.
  Status Link(const std::string& first, int dst, const std::string& name, const std::string& path) {
    size_t slash = first.rfind('/');
    std::string dir = slash == std::string::npos ? "" : first.substr(0, slash);
    std::string base = slash == std::string::npos ? first : first.substr(slash + 1);
    BERTH_ASSIGN_OR_RETURN(UniqueFd parent,
                           sys::OpenInRoot(dest_root_, dir.empty() ? "." : dir, O_PATH | O_DIRECTORY));
    if (::linkat(parent.get(), base.c_str(), dst, name.c_str(), 0) != 0)
      return ErrnoFail(StrCat("link ", Quote(path), " to ", Quote(first)));
    return Ok();
  }

  int dest_root_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
};

}  // namespace

Status ApplyLayerCopy(const std::string& layer, const std::string& dest) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd src, OpenFile(layer, O_RDONLY | O_DIRECTORY));
  BERTH_ASSIGN_OR_RETURN(UniqueFd dst, OpenFile(dest, O_RDONLY | O_DIRECTORY));
  LayerCopier copier(dst.get());
  BERTH_TRY_CTX(copier.CopyDir(src.get(), dst.get(), ""), StrCat("copy layer ", Quote(layer)));
  return Ok();
}

}  // namespace berth::image::internal
