#include "berth/runtime/mounts.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/runtime/mount_options.h"
#include "berth/sys/safe_path.h"

namespace berth::runtime {

namespace {

std::string CleanDest(const std::string& d) { return d.empty() || d[0] != '/' ? "/" + d : d; }

bool IsBind(const oci::Mount& m, const MountOptions& o) { return o.bind || m.type == "bind"; }

// Attaches the detached mount `tree` onto the object behind `target_fd`.
Status MoveMountOnto(int tree, int target_fd) {
  if (::move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) !=
      0) {
    return ErrnoFail("move_mount");
  }
  return Ok();
}

Status SetAttrs(int tree, uint64_t set, uint64_t clr, bool recursive) {
  if (set == 0 && clr == 0) return Ok();
  struct mount_attr attr = {};
  attr.attr_set = set;
  attr.attr_clr = clr;
  unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
  if (::mount_setattr(tree, "", flags, &attr, sizeof attr) != 0) {
    return ErrnoFail("mount_setattr");
  }
  return Ok();
}

Status SetPropagation(int tree, const std::vector<unsigned long>& props) {
  for (unsigned long p : props) {
    struct mount_attr attr = {};
    attr.propagation = p & ~static_cast<unsigned long>(MS_REC);
    unsigned flags = AT_EMPTY_PATH | ((p & MS_REC) ? AT_RECURSIVE : 0);
    if (::mount_setattr(tree, "", flags, &attr, sizeof attr) != 0) {
      return ErrnoFail("set mount propagation");
    }
  }
  return Ok();
}

// Resolves (creating as needed) the mount point inside the rootfs. A destination that only
// reaches procfs through a symlink is refused (see CheckProcMount for the direct case).
Result<UniqueFd> PrepareTarget(const MountContext& ctx, const std::string& dest, bool is_dir) {
  Result<UniqueFd> fd = is_dir ? sys::MkdirAllInRoot(ctx.root_fd, dest)
                               : sys::EnsureFileInRoot(ctx.root_fd, dest);
  if (!fd) return fd;
  struct statfs sfs;
  bool lexically_proc = dest == "/proc" || dest.rfind("/proc/", 0) == 0;
  if (!lexically_proc && ::fstatfs(fd->get(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC) {
    return InvalidArgument(StrCat(Quote(dest), " resolves into `/proc` through a symlink"));
  }
  return fd;
}

// A bind mount: clone the source tree, set flags while detached, attach.
Status BindMount(const MountContext& ctx, const std::string& source, const std::string& dest,
                 const MountOptions& o) {
  unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (o.recursive ? AT_RECURSIVE : 0);
  int t = ::open_tree(AT_FDCWD, source.c_str(), tree_flags);
  if (t < 0) return ErrnoFail(StrCat("open source ", Quote(source)));
  UniqueFd tree(t);
  struct stat st;
  if (::fstat(t, &st) != 0) return ErrnoFail(StrCat("stat ", Quote(source)));
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, PrepareTarget(ctx, dest, S_ISDIR(st.st_mode)));
  // The per-mount flags apply to the top mount (like mount -o remount,bind,ro); "r*" options
  // to the whole tree.
  BERTH_TRY_CTX(SetAttrs(t, o.AttrSet(), o.AttrClr(), false), "set mount flags");
  BERTH_TRY_CTX(SetAttrs(t, o.rec_attr_set, o.rec_attr_clr, true), "set recursive mount flags");
  BERTH_TRY(SetPropagation(t, o.propagation));
  return MoveMountOnto(t, target.get());
}

// Copies the entries of directory `from` into directory `to` (for tmpcopyup): modes,
// owners, symlinks and file contents; device nodes are skipped.
Status CopyTree(int from, int to) {
  int dup = ::fcntl(from, F_DUPFD_CLOEXEC, 3);
  if (dup < 0) return ErrnoFail("dup");
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return ErrnoFail("opendir");
  }
  Status result = Ok();
  while (struct dirent* de = ::readdir(d)) {
    std::string n = de->d_name;
    if (n == "." || n == "..") continue;
    struct stat st;
    if (::fstatat(from, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, n.c_str(), st.st_mode & 07777) != 0 && errno != EEXIST) {
        result = ErrnoFail(StrCat("tmpcopyup: mkdir ", Quote(n)));
        break;
      }
      int sf = ::openat(from, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      int df = ::openat(to, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      UniqueFd s(sf), t(df);
      if (sf >= 0 && df >= 0) {
        result = CopyTree(sf, df);
        if (!result) break;
      }
    } else if (S_ISLNK(st.st_mode)) {
      char buf[4096];
      ssize_t len = ::readlinkat(from, n.c_str(), buf, sizeof buf - 1);
      if (len < 0) continue;
      buf[len] = '\0';
      (void)::symlinkat(buf, to, n.c_str());
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd s(::openat(from, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd t(::openat(to, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          st.st_mode & 07777));
      if (!s.valid() || !t.valid()) {
        result = ErrnoFail(StrCat("tmpcopyup: copy ", Quote(n)));
        break;
      }
      char buf[65536];
      ssize_t r;
      while ((r = ::read(s.get(), buf, sizeof buf)) > 0) {
        if (::write(t.get(), buf, static_cast<size_t>(r)) != r) {
          result = ErrnoFail(StrCat("tmpcopyup: write ", Quote(n)));
          break;
        }
      }
      if (!result) break;
    } else {
      continue;
    }
    (void)::fchownat(to, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
  }
  ::closedir(d);
  return result;
}

// A new filesystem instance through fsopen/fsconfig/fsmount, attached with move_mount.
// Falls back to mount(2) on /proc/self/fd/N for filesystems fsconfig cannot configure.
Status NewFsMount(const MountContext& ctx, const oci::Mount& m, const std::string& dest,
                  const MountOptions& o) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, PrepareTarget(ctx, dest, true));
  if (m.type == "proc" || m.type == "sysfs") {
    // A symlink at /proc or /sys would already have been resolved inside the root, but
    // the spec demands a real directory there (runc's CVE-2019-19921 class).
    struct stat st;
    if (::fstat(target.get(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return InvalidArgument(StrCat(m.type, " must be mounted on a directory"));
    }
  }
  unsigned long flags = o.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC);
  std::string data = o.DataString();
  if (o.tmpcopyup && m.type == "tmpfs") {
    // Build the tmpfs detached, fill it from what is under the mount point, then attach.
    int fs = ::fsopen("tmpfs", FSOPEN_CLOEXEC);
    if (fs < 0) return ErrnoFail("fsopen tmpfs");
    UniqueFd fsfd(fs);
    for (const auto& d : o.data) {
      auto eq = d.find('=');
      int r = eq == std::string::npos
                  ? ::fsconfig(fs, FSCONFIG_SET_FLAG, d.c_str(), nullptr, 0)
                  : ::fsconfig(fs, FSCONFIG_SET_STRING, d.substr(0, eq).c_str(),
                               d.c_str() + eq + 1, 0);
      if (r != 0) return ErrnoFail(StrCat("tmpfs option ", Quote(d)));
    }
    if (::fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
      return ErrnoFail("create tmpfs");
    int mnt = ::fsmount(fs, FSMOUNT_CLOEXEC, 0);
    if (mnt < 0) return ErrnoFail("fsmount tmpfs");
    UniqueFd mntfd(mnt);
    UniqueFd under(::openat(target.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!under.valid()) return ErrnoFail("open mount point");
    BERTH_TRY(CopyTree(under.get(), mnt));
    MountOptions attrs = o;
    BERTH_TRY(SetAttrs(mnt, attrs.AttrSet(), 0, false));
    BERTH_TRY(SetPropagation(mnt, o.propagation));
    return MoveMountOnto(mnt, target.get());
  }
  std::string src = m.source.empty() ? m.type : m.source;
  if (::mount(src.c_str(), sys::FdPath(target.get()).c_str(), m.type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) != 0) {
    return ErrnoFail(StrCat("mount ", m.type));
  }
  if (!o.propagation.empty() || o.rec_attr_set || o.rec_attr_clr) {
    // Reopen: the fd we hold names the directory under the new mount, not its root.
    BERTH_ASSIGN_OR_RETURN(UniqueFd top, sys::OpenInRoot(ctx.root_fd, dest, O_PATH));
    BERTH_TRY(SetAttrs(top.get(), o.rec_attr_set, o.rec_attr_clr, true));
    BERTH_TRY(SetPropagation(top.get(), o.propagation));
  }
  return Ok();
}

// linux "cgroup" mounts. With a cgroup namespace the kernel shows the container's own
// subtree, so the real filesystems are mounted; without one, the container's leaf
// directories are bind-mounted, so it still cannot see or touch its siblings.
Status CgroupMount(const MountContext& ctx, const oci::Mount& m, const std::string& dest,
                   const MountOptions& o) {
  const CgroupMountInfo& cg = ctx.cgroup;
  unsigned long flags = (o.flags & ~static_cast<unsigned long>(MS_BIND | MS_REC));
  if (cg.unified_only || m.type == "cgroup2") {
    if (ctx.new_cgroup_ns || cg.unified_leaf.empty()) {
      oci::Mount fs = m;
      fs.type = "cgroup2";
      fs.source = "cgroup2";
      MountOptions fo = o;
      fo.data.clear();
      return NewFsMount(ctx, fs, dest, fo);
    }
    MountOptions bo = o;
    bo.recursive = true;
    return BindMount(ctx, cg.unified_leaf, dest, bo);
  }
  // v1: a tmpfs with one directory per hierarchy.
  BERTH_ASSIGN_OR_RETURN(UniqueFd target, PrepareTarget(ctx, dest, true));
  if (::mount("cgroup", sys::FdPath(target.get()).c_str(), "tmpfs",
              MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") != 0) {
    return ErrnoFail("mount tmpfs for cgroup hierarchies");
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd dir, sys::OpenInRoot(ctx.root_fd, dest, O_PATH | O_DIRECTORY));
  auto sub = [&](const std::string& name, const std::string& fstype, const std::string& opts,
                 const std::string& leaf) -> Status {
    std::string where = StrCat(dest, "/", name);
    BERTH_ASSIGN_OR_RETURN(UniqueFd t, sys::MkdirAllInRoot(ctx.root_fd, where));
    if (ctx.new_cgroup_ns) {
      if (::mount("cgroup", sys::FdPath(t.get()).c_str(), fstype.c_str(), flags,
                  opts.empty() ? nullptr : opts.c_str()) != 0) {
        return ErrnoFail(StrCat("mount ", fstype, " ", Quote(opts)));
      }
      return Ok();
    }
    MountOptions bo;
    bo.flags = flags;
    bo.recursive = true;
    return BindMount(ctx, leaf, where, bo);
  };
  for (const auto& h : cg.hierarchies) {
    std::string name = h.mount_point.substr(h.mount_point.find_last_of('/') + 1);
    BERTH_TRY_CTX(sub(name, "cgroup", h.options, h.leaf), StrCat("cgroup hierarchy ", Quote(name)));
    // Co-mounted controllers ("cpu,cpuacct") also get a symlink per controller name.
    if (h.options.find(',') != std::string::npos) {
      for (const auto& c : Split(h.options, ',')) {
        if (c != name && c.rfind("name=", 0) != 0) (void)::symlinkat(name.c_str(), dir.get(), c.c_str());
      }
    }
  }
  if (!cg.unified_leaf.empty()) {
    std::string name = cg.unified_mount.substr(cg.unified_mount.find_last_of('/') + 1);
    BERTH_TRY_CTX(sub(name, "cgroup2", "", cg.unified_leaf), "cgroup2 hierarchy");
  }
  if (flags & MS_RDONLY) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd top, sys::OpenInRoot(ctx.root_fd, dest, O_PATH));
    BERTH_TRY(SetAttrs(top.get(), MOUNT_ATTR_RDONLY, 0, false));
  }
  return Ok();
}

// Lexically cleaned absolute path ("/a/./b/../c" -> "/a/c").
std::string CleanPath(const std::string& p) {
  std::vector<std::string> parts;
  for (auto& c : SplitNonEmpty(p, '/')) {
    if (c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(c);
  }
  return "/" + Join(parts, "/");
}

// Nothing but procfs may cover /proc, and nothing may be mounted inside it except the files
// lxcfs-style tools emulate (runc's rule since CVE-2019-16884: a fake /proc can disarm LSM
// labels and masked paths).
Status CheckProcMount(const MountContext& ctx, const oci::Mount& m, const std::string& dest,
                      bool bind) {
  static const char* kAllowed[] = {"/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo",
                                   "/proc/stat",    "/proc/swaps",     "/proc/uptime",
                                   "/proc/loadavg", "/proc/slabinfo",  "/proc/net/dev",
                                   "/proc/sys/kernel/ns_last_pid"};
  std::string clean = CleanPath(dest);
  bool under = clean.rfind("/proc/", 0) == 0;
  if (clean != "/proc" && !under) return Ok();
  if (clean == "/proc") {
    if (m.type == "proc") return Ok();
    if (bind) {
      std::string src =
          !m.source.empty() && m.source[0] == '/' ? m.source : StrCat(ctx.bundle, "/", m.source);
      struct statfs sfs;
      if (::statfs(src.c_str(), &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC) return Ok();
    }
    return InvalidArgument("only a procfs (type `proc`) may be mounted on `/proc`");
  }
  for (const char* a : kAllowed) {
    if (clean == a) return Ok();
  }
  return InvalidArgument(StrCat(Quote(clean), " is inside `/proc`: mounts there are not allowed"));
}

Status MountOne(const MountContext& ctx, const oci::Mount& m, const MountOptions& o) {
  std::string dest = CleanDest(m.destination);
  BERTH_TRY(CheckProcMount(ctx, m, dest, IsBind(m, o)));
  if (IsBind(m, o)) {
    std::string source = m.source;
    if (source.empty()) return InvalidArgument("bind mount without a source");
    if (source[0] != '/') source = StrCat(ctx.bundle, "/", source);
    return BindMount(ctx, source, dest, o);
  }
  if (m.type == "cgroup" || m.type == "cgroup2") {
    if (ctx.before_cgroup_mount) BERTH_TRY(ctx.before_cgroup_mount());
    return CgroupMount(ctx, m, dest, o);
  }
  if (m.type == "sysfs" && ctx.in_user_ns && !ctx.new_net_ns) {
    // sysfs belongs to the network namespace: without its own, a user-namespaced container
    // cannot mount a new one; it gets the host's /sys read-only, recursively (as runc does).
    MountOptions bo = o;
    bo.recursive = true;
    bo.rec_attr_set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                       MOUNT_ATTR_NOEXEC;
    return BindMount(ctx, "/sys", dest, bo);
  }
  if (m.type == "mqueue" && ctx.in_user_ns && !ctx.new_ipc_ns) {
    MountOptions bo = o;
    return BindMount(ctx, "/dev/mqueue", dest, bo);
  }
  if (m.type.empty()) return InvalidArgument("mount type is empty and no bind option given");
  return NewFsMount(ctx, m, dest, o);
}

}  // namespace

bool DevIsBindMounted(const std::vector<oci::Mount>& mounts) {
  for (const auto& m : mounts) {
    if (CleanDest(m.destination) != "/dev") continue;
    if (m.type == "bind") return true;
    for (const auto& o : m.options)
      if (o == "bind" || o == "rbind") return true;
  }
  return false;
}

Status MountAll(const MountContext& ctx, const std::vector<oci::Mount>& mounts) {
  for (size_t i = 0; i < mounts.size(); ++i) {
    const auto& m = mounts[i];
    std::string field = StrCat("mounts[", static_cast<uint64_t>(i), "]");
    BERTH_ASSIGN_OR_RETURN(MountOptions o, ParseMountOptions(m.options, field + ".options"));
    if (o.idmap) {
      return Fail(ErrorCode::kUnsupported,
                  StrCat(field, " ", Quote(m.destination), ": idmapped mounts are not supported"));
    }
    BERTH_TRY_CTX(MountOne(ctx, m, o), StrCat(field, " ", Quote(m.destination)));
  }
  return Ok();
}

}  // namespace berth::runtime
