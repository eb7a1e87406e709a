#include "berth/image/layer_entry.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/image/layer_fsutil.h"
#include "berth/sys/safe_path.h"

namespace berth::image::internal {

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kWhiteoutMeta = ".wh..wh.";

std::string JoinComps(const std::vector<std::string>& comps, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out.push_back('/');
    out += comps[i];
  }
  return out;
}

Error ArchiveError(struct archive* a, std::string_view what) {
  const char* msg = archive_error_string(a);
  return Error(ErrorCode::kInvalidArgument, StrCat(what, ": ", msg ? msg : "unknown error"),
               archive_errno(a) > 0 ? archive_errno(a) : 0);
}

std::pair<struct timespec, struct timespec> EntryTimes(struct archive_entry* e) {
  struct timespec m{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
  struct timespec at = m;
  if (archive_entry_atime_is_set(e)) at = {archive_entry_atime(e), archive_entry_atime_nsec(e)};
  return {at, m};
}

Status PwriteAll(int fd, const char* p, size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail("write");
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return Ok();
}

}  // namespace

Result<std::vector<std::string>> NormalizeEntryPath(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view c = path.substr(i, j - i);
    i = j + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (out.empty()) return InvalidArgument("path escapes the layer root");
      out.pop_back();
      continue;
    }
    out.emplace_back(c);
  }
  return out;
}

Result<EntryApplier> EntryApplier::Open(const std::string& dest, const UnpackOptions& options) {
  EntryApplier a;
  int fd = ::open(dest.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoFail(StrCat("open layer directory ", Quote(dest)));
  a.root_.Reset(fd);
  a.options_ = options;
  a.rootless_ = ::geteuid() != 0;
  return a;
}

// The parent directory of `comps`, resolved inside the root (symlinks in the parent path
// are followed as if the root were "/"). Missing parents are created when `create`.
Result<int> EntryApplier::Parent(const std::vector<std::string>& comps, bool create,
                                 bool* missing) {
  *missing = false;
  if (comps.size() <= 1) return root_.get();
  std::string path = JoinComps(comps, comps.size() - 1);
  if (cached_valid_ && cached_path_ == path) return cached_parent_.get();
  auto fd = sys::OpenInRoot(root_.get(), path, O_PATH | O_DIRECTORY);
  if (!fd.has_value()) {
    if (fd.error().sys_errno() != ENOENT) return Unexpected(std::move(fd).error());
    if (!create) {
      *missing = true;
      return -1;
    }
    fd = sys::MkdirAllInRoot(root_.get(), path, 0755);
    if (!fd.has_value()) return Unexpected(std::move(fd).error());
  }
  cached_parent_ = std::move(*fd);
  cached_path_ = std::move(path);
  cached_valid_ = true;
  return cached_parent_.get();
}

void EntryApplier::Record(const std::vector<std::string>& comps) {
  if (options_.overlay_whiteouts) return;
  for (size_t n = comps.size(); n > 0; --n) {
    if (!created_.insert(JoinComps(comps, n)).second) break;
  }
}

Status EntryApplier::ReplaceExisting(int parent, const std::string& name, bool want_dir,
                                     bool* is_dir) {
  *is_dir = false;
  struct stat st;
  if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return Ok();
    return ErrnoFail("stat existing entry");
  }
  if (S_ISDIR(st.st_mode)) {
    if (want_dir) {
      *is_dir = true;
      return Ok();
    }
    if (options_.plain_copy) {
      return Fail(ErrorCode::kAlreadyExists, "cannot overwrite a directory with a non-directory");
    }
    Invalidate();
    return RemoveTreeAt(parent, name, name);
  }
  if (options_.plain_copy && want_dir) {
    return Fail(ErrorCode::kAlreadyExists, "cannot overwrite a non-directory with a directory");
  }
  // A replaced symlink may have been a cached parent path's component.
  Invalidate();
  if (::unlinkat(parent, name.c_str(), 0) != 0 && errno != ENOENT)
    return ErrnoFail("remove existing entry");
  return Ok();
}

Status EntryApplier::ApplyXattrs(int fd, struct archive_entry* e) {
  if (archive_entry_xattr_reset(e) == 0) return Ok();
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string n = name ? name : "";
    if (!LayerXattrAllowed(n)) continue;
    auto st = SetXattr(fd, n, std::string_view(static_cast<const char*>(value), size), n);
    if (st.has_value()) continue;
    int err = st.error().sys_errno();
    // user.* is not allowed on symlinks and special files, nor on every filesystem; an
    // unprivileged caller cannot set trusted.* or capabilities at all.
    if (n.starts_with("user.") && (err == EPERM || err == ENOTSUP)) continue;
    if (rootless_ && err == EPERM) continue;
    return st;
  }
  return Ok();
}

// Order matters: chown clears setuid/setgid and security.capability, so it comes first.
Status EntryApplier::ApplyMeta(int fd, bool is_symlink, struct archive_entry* e) {
  uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
  gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
  if (::fchownat(fd, "", uid, gid, AT_EMPTY_PATH) != 0 && !(rootless_ && errno == EPERM))
    return ErrnoFail(StrCat("chown to ", uid, ":", gid));
  BERTH_TRY(ApplyXattrs(fd, e));
  if (!is_symlink) {
    mode_t perm = archive_entry_perm(e) & 07777;
    // fchmod does not take O_PATH fds; the /proc link names the same inode.
    if (::fchmod(fd, perm) != 0 &&
        (errno != EBADF || ::chmod(sys::FdPath(fd).c_str(), perm) != 0))
      return ErrnoFail("chmod");
  }
  return Ok();
}

Status EntryApplier::WriteFile(struct archive* a, int parent, const std::string& name,
                               struct archive_entry* e) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAtNoFollow(parent, name, O_WRONLY | O_CREAT | O_EXCL,
                                                     name, 0600));
  const void* buf;
  size_t size;
  la_int64_t offset;
  off_t end = 0;
  for (;;) {
    int r = archive_read_data_block(a, &buf, &size, &offset);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return Unexpected(ArchiveError(a, "read file data"));
    BERTH_TRY(PwriteAll(fd.get(), static_cast<const char*>(buf), size, offset));
    end = std::max<off_t>(end, offset + static_cast<off_t>(size));
  }
  // Sparse files may end in a hole.
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > end &&
      ::ftruncate(fd.get(), archive_entry_size(e)) != 0)
    return ErrnoFail("truncate");
  BERTH_TRY(ApplyMeta(fd.get(), false, e));
  auto [at, mt] = EntryTimes(e);
  struct timespec ts[2] = {at, mt};
  if (::futimens(fd.get(), ts) != 0) return ErrnoFail("set times");
  return Ok();
}

Status EntryApplier::ApplyHardlink(int parent, const std::string& name, const std::string& path,
                                   struct archive_entry* e) {
  std::string raw = archive_entry_hardlink(e);
  auto target = NormalizeEntryPath(raw);
  if (!target.has_value() || target->empty())
    return InvalidArgument(StrCat("hard link target ", Quote(raw), " escapes the layer root"));
  if (JoinComps(*target, target->size()) == path)
    return InvalidArgument("hard link to itself");
  bool missing = false;
  // The target's parent is opened fresh (not through the cache): it differs from ours.
  std::string tparent_path = JoinComps(*target, target->size() - 1);
  UniqueFd tparent;
  if (tparent_path.empty()) {
    tparent.Reset(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 3));
  } else {
    auto fd = sys::OpenInRoot(root_.get(), tparent_path, O_PATH | O_DIRECTORY);
    if (!fd.has_value()) missing = true;
    else tparent = std::move(*fd);
  }
  struct stat st;
  if (missing || ::fstatat(tparent.get(), target->back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
    return Fail(ErrorCode::kInvalidArgument,
                StrCat("hard link target ", Quote(raw), " does not exist in the layer"));
  if (S_ISDIR(st.st_mode))
    return InvalidArgument(StrCat("hard link target ", Quote(raw), " is a directory"));
  bool is_dir;
  BERTH_TRY(ReplaceExisting(parent, name, false, &is_dir));
  // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
  if (::linkat(tparent.get(), target->back().c_str(), parent, name.c_str(), 0) != 0)
    return ErrnoFail(StrCat("link to ", Quote(raw)));
  if (S_ISLNK(st.st_mode)) return Ok();
  // A link header that disagrees with its inode wins, as in docker's and buildah's
  // extraction (each header is applied to the path it names). Only what differs is changed:
  // a chown would drop the file capabilities of an inode whose owner is already right.
  uid_t uid = static_cast<uid_t>(archive_entry_uid(e));
  gid_t gid = static_cast<gid_t>(archive_entry_gid(e));
  mode_t perm = archive_entry_perm(e) & 07777;
  if (uid == st.st_uid && gid == st.st_gid && perm == (st.st_mode & 07777)) return Ok();
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAtNoFollow(parent, name, O_PATH, name));
  return ApplyMeta(fd.get(), false, e);
}

Status EntryApplier::ClearOpaque(int dirfd, const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(auto names, ListDir(dirfd, path));
  for (const std::string& n : names) {
    std::string child = path.empty() ? n : StrCat(path, "/", n);
    if (!created_.contains(child)) {
      BERTH_TRY(RemoveTreeAt(dirfd, n, child));
      continue;
    }
    struct stat st;
    if (::fstatat(dirfd, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd sub, OpenAtNoFollow(dirfd, n, O_RDONLY | O_DIRECTORY, child));
      BERTH_TRY(ClearOpaque(sub.get(), child));
    }
  }
  return Ok();
}

Status EntryApplier::ApplyWhiteout(const std::vector<std::string>& comps,
                                   struct archive_entry* e) {
  const std::string& name = comps.back();
  if (name != kOpaqueMarker && name.starts_with(kWhiteoutMeta)) return Ok();  // aufs metadata
  bool missing = false;
  BERTH_ASSIGN_OR_RETURN(int parent, Parent(comps, options_.overlay_whiteouts, &missing));
  if (missing) return Ok();  // nothing below to hide
  if (name == kOpaqueMarker) {
    if (options_.overlay_whiteouts) {
      return SetXattr(parent, "trusted.overlay.opaque", "y", JoinComps(comps, comps.size() - 1));
    }
    Invalidate();
    BERTH_ASSIGN_OR_RETURN(UniqueFd dir, OpenAtNoFollow(parent, ".", O_RDONLY | O_DIRECTORY, "."));
    return ClearOpaque(dir.get(), JoinComps(comps, comps.size() - 1));
  }
  std::string target = name.substr(kWhiteoutPrefix.size());
  if (target.empty() || target == "." || target == "..")
    return InvalidArgument("whiteout names no valid entry");
  std::string shown = JoinComps(comps, comps.size() - 1);
  shown = shown.empty() ? target : StrCat(shown, "/", target);
  Invalidate();
  BERTH_TRY(RemoveTreeAt(parent, target, shown));
  if (options_.overlay_whiteouts) {
    // overlayfs: a 0:0 character device hides the lower entry of the same name.
    if (::mknodat(parent, target.c_str(), S_IFCHR | 0, makedev(0, 0)) != 0)
      return ErrnoFail(StrCat("create whiteout ", Quote(shown)));
    // The marker's time, so that packing the directory again gives the same bytes.
    auto [at, mt] = EntryTimes(e);
    struct timespec ts[2] = {at, mt};
    (void)::utimensat(parent, target.c_str(), ts, AT_SYMLINK_NOFOLLOW);
  }
  return Ok();
}

Status EntryApplier::Apply(struct archive* a, struct archive_entry* e) {
  const char* raw = archive_entry_pathname(e);
  if (!raw) return InvalidArgument("entry without a path");
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> comps, NormalizeEntryPath(raw));
  mode_t type = archive_entry_filetype(e);
  const char* hardlink = archive_entry_hardlink(e);

  if (comps.empty()) {
    // "./" or "/": the layer root itself; only a directory entry makes sense.
    if (type != AE_IFDIR || hardlink) return InvalidArgument("entry replaces the layer root");
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAtNoFollow(root_.get(), ".", O_RDONLY | O_DIRECTORY, "."));
    BERTH_TRY(ApplyMeta(fd.get(), false, e));
    dir_times_[""] = EntryTimes(e);
    return Ok();
  }
  const std::string& name = comps.back();
  if (!options_.plain_copy && name.starts_with(kWhiteoutPrefix)) return ApplyWhiteout(comps, e);

  bool missing = false;
  BERTH_ASSIGN_OR_RETURN(int parent, Parent(comps, true, &missing));
  std::string path = JoinComps(comps, comps.size());
  Record(comps);

  if (hardlink) return ApplyHardlink(parent, name, path, e);

  bool is_dir = false;
  BERTH_TRY(ReplaceExisting(parent, name, type == AE_IFDIR, &is_dir));
  switch (type) {
    case AE_IFREG:
      return WriteFile(a, parent, name, e);
    case AE_IFDIR: {
      if (!is_dir && ::mkdirat(parent, name.c_str(), 0700) != 0) return ErrnoFail("mkdir");
      BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAtNoFollow(parent, name, O_RDONLY | O_DIRECTORY, path));
      BERTH_TRY(ApplyMeta(fd.get(), false, e));
      dir_times_[path] = EntryTimes(e);
      return Ok();
    }
    case AE_IFLNK: {
      const char* target = archive_entry_symlink(e);
      // The target is stored verbatim and never followed here.
      if (::symlinkat(target ? target : "", parent, name.c_str()) != 0)
        return ErrnoFail("create symlink");
      break;
    }
    case AE_IFCHR:
    case AE_IFBLK:
    case AE_IFIFO: {
      dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
      if (::mknodat(parent, name.c_str(), type | 0600, type == AE_IFIFO ? 0 : dev) != 0)
        return ErrnoFail(type == AE_IFIFO ? "create fifo" : "create device node");
      break;
    }
    case AE_IFSOCK:
      return Ok();  // sockets are not restored (docker and containerd skip them too)
    default:
      return InvalidArgument(StrCat("unsupported entry type ", static_cast<unsigned>(type)));
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenAtNoFollow(parent, name, O_PATH, path));
  BERTH_TRY(ApplyMeta(fd.get(), type == AE_IFLNK, e));
  auto [at, mt] = EntryTimes(e);
  struct timespec ts[2] = {at, mt};
  if (::utimensat(parent, name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0)
    return ErrnoFail("set times");
  return Ok();
}

Status EntryApplier::Finish() {
  for (const auto& [path, times] : dir_times_) {
    auto fd = path.empty() ? OpenAtNoFollow(root_.get(), ".", O_RDONLY | O_DIRECTORY, ".")
                           : sys::OpenInRoot(root_.get(), path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd.has_value()) continue;  // replaced or removed by a later entry
    struct timespec ts[2] = {times.first, times.second};
    if (::futimens(fd->get(), ts) != 0) return ErrnoFail(StrCat("set times of ", Quote(path)));
  }
  return Ok();
}

}  // namespace berth::image::internal
