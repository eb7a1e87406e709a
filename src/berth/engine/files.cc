// A container's filesystem from outside: cp, diff, export, commit; and image removal that
// respects the containers using an image.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <functional>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/image/layer_unpack.h"
#include "berth/engine/tree_copy.h"
#include "berth/image/archive.h"
#include "berth/image/layer_pack.h"
#include "berth/oci/reference.h"
#include "berth/oci/spec.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

std::pair<std::string, std::string> SplitPath(std::string p) {
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  size_t slash = p.rfind('/');
  if (slash == std::string::npos) return {".", p};
  std::string dir = slash == 0 ? "/" : p.substr(0, slash);
  return {dir, p.substr(slash + 1)};
}

bool IsRunning(State s) { return s == State::kRunning || s == State::kPaused; }

// Where container paths resolve: a running container's own root (its mount namespace, so
// volumes, binds and tmpfs mounts are seen as the container sees them), else the snapshot.
Result<UniqueFd> OpenContainerRoot(const ContainerRecord& c, const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd merged, OpenFile(dir + "/snapshot/merged", O_PATH | O_DIRECTORY));
  if (IsRunning(c.state) && c.pid > 0) {
    auto r = OpenFile(StrCat("/proc/", c.pid, "/root"), O_PATH | O_DIRECTORY);
    // Only if that root is the container's rootfs (same filesystem): the pid may have been
    // reused by a host process once the init exited.
    struct stat a, b;
    if (r.has_value() && ::fstat(r->get(), &a) == 0 && ::fstat(merged.get(), &b) == 0 &&
        a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      return r;
    }
  }
  return merged;
}

// A stopped container's volumes and bind mounts exist only in its mount namespace while it
// runs. For cp they are mounted the same way, in a private mount namespace this process
// enters for the copy and leaves afterwards (the namespace, with the binds, then ends):
// the copy sees and changes what the container would, as docker's does, and nothing of it
// reaches the host. The snapshot itself is mounted on the host before, as for any cp, so a
// concurrent start finds it mounted rather than mounting it a second time.
class PrivateMountNamespace {
 public:
  static Result<std::unique_ptr<PrivateMountNamespace>> Enter() {
    auto ns = std::unique_ptr<PrivateMountNamespace>(new PrivateMountNamespace);
    ns->host_.Reset(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    ns->cwd_.Reset(::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!ns->host_.valid() || !ns->cwd_.valid()) return ErrnoFail("cp: open the mount namespace");
    if (::unshare(CLONE_NEWNS) != 0) return ErrnoFail("cp: unshare the mount namespace");
    ns->entered_ = true;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      return ErrnoFail("cp: make the mount namespace private");
    return ns;
  }
  ~PrivateMountNamespace() {
    // setns puts root and cwd at the namespace's root: the cwd comes back by fd.
    if (entered_ && ::setns(host_.get(), CLONE_NEWNS) == 0) (void)!::fchdir(cwd_.get());
  }

 private:
  PrivateMountNamespace() = default;
  UniqueFd host_, cwd_;
  bool entered_ = false;
};

// Attaches the spec's bind mounts (volumes, binds, /etc/hosts...) over their targets in the
// rootfs, parents first; targets resolve inside the rootfs (symlinks cannot lead out). Read-
// only ones are made read-only (recursively for rbind) before they are attached. A target
// the rootfs lacks, or a source gone from the host, is skipped: nothing to copy there.
Status MountVolumesForCopy(int root, const std::string& bundle) {
  auto spec = oci::LoadSpec(bundle + "/config.json");
  if (!spec) return Unexpected(std::move(spec).error().Wrap("cp: mount the container's volumes"));
  std::vector<const oci::Mount*> binds;
  for (const auto& m : spec->mounts) {
    bool bind = m.type == "bind";
    for (const auto& o : m.options) bind |= o == "bind" || o == "rbind";
    if (bind && !m.source.empty() && m.source[0] == '/') binds.push_back(&m);
  }
  std::stable_sort(binds.begin(), binds.end(), [](const oci::Mount* a, const oci::Mount* b) {
    return std::count(a->destination.begin(), a->destination.end(), '/') <
           std::count(b->destination.begin(), b->destination.end(), '/');
  });
  auto has = [](const oci::Mount* m, std::string_view opt) {
    return std::find(m->options.begin(), m->options.end(), opt) != m->options.end();
  };
  for (const oci::Mount* m : binds) {
    auto target = sys::OpenInRoot(root, m->destination, O_PATH);
    if (!target) continue;
    unsigned recursive = has(m, "rbind") ? AT_RECURSIVE : 0;
    UniqueFd tree(::open_tree(AT_FDCWD, m->source.c_str(),
                              OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | recursive));
    if (!tree.valid()) {
      if (errno == ENOENT) continue;
      return ErrnoFail(StrCat("cp: mount ", Quote(m->source), " on ", Quote(m->destination)));
    }
    if (has(m, "ro")) {
      struct mount_attr attr = {};
      attr.attr_set = MOUNT_ATTR_RDONLY;
      if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | recursive, &attr, sizeof attr) != 0)
        return ErrnoFail(StrCat("cp: make ", Quote(m->destination), " read-only"));
    }
    if (::move_mount(tree.get(), "", target->get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
      return ErrnoFail(StrCat("cp: mount ", Quote(m->source), " on ", Quote(m->destination)));
    }
  }
  return Ok();
}

}  // namespace

Status Engine::CopyFromContainer(const std::string& name_or_id, const std::string& src,
                                 const std::string& dest) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(EnsureMounted(c));
  Defer unmount([&] {
    if (!IsRunning(c.state) && c.state != State::kRestarting) (void)UnmountIdleSnapshot(c);
  });
  std::unique_ptr<PrivateMountNamespace> private_ns;  // left before the unmount above
  if (!IsRunning(c.state)) {
    BERTH_ASSIGN_OR_RETURN(private_ns, PrivateMountNamespace::Enter());
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenContainerRoot(c, ContainerDir(c.id)));
  if (private_ns) BERTH_TRY(MountVolumesForCopy(root.get(), ContainerDir(c.id)));
  bool contents = src.size() >= 2 && src.substr(src.size() - 2) == "/.";
  const std::string src_path = contents ? src.substr(0, src.size() - 2) : src;
  auto [sdir, sname] = SplitPath(src_path);
  auto sparent = sys::OpenInRoot(root.get(), sdir, O_RDONLY | O_DIRECTORY);
  if (!sparent) {
    return Fail(ErrorCode::kNotFound, StrCat("could not find the file ", src, " in container ", c.name));
  }
  struct stat st;
  if (sname.empty() || sname == "/" ) {
    contents = true;
  } else if (::fstatat(sparent->get(), sname.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    return Fail(ErrorCode::kNotFound, StrCat("could not find the file ", src, " in container ", c.name));
  }
  if (dest == "-") {
    // docker: the archive's top entry is the source's basename ("." for a root or "dir/.").
    image::PackOptions po;
    po.compression = oci::Compression::kNone;
    auto to_stdout = [](const void* data, size_t n) -> Status {
      return WriteAll(STDOUT_FILENO, std::string_view(static_cast<const char*>(data), n), "stdout");
    };
    if (!contents) {
      BERTH_TRY(image::PackEntry(sparent->get(), sname, to_stdout, po));
      return Ok();
    }
    // "DIR/.": DIR may be a symlink, resolved inside the container like any path.
    BERTH_ASSIGN_OR_RETURN(UniqueFd dirfd,
                           sys::OpenInRoot(root.get(), src_path.empty() ? "/" : src_path,
                                           O_RDONLY | O_DIRECTORY));
    BERTH_TRY(image::PackTree(sys::FdPath(dirfd.get()), to_stdout, po));
    return Ok();
  }
  struct stat dst;
  bool dest_is_dir = ::stat(dest.c_str(), &dst) == 0 && S_ISDIR(dst.st_mode);
  if (contents) {
    UniqueFd from;
    if (sname.empty() || sname == "/") {
      from = std::move(*sparent);
    } else {
      // "DIR/.": DIR may be a symlink, resolved inside the container like any path.
      BERTH_ASSIGN_OR_RETURN(from, sys::OpenInRoot(root.get(), StrCat(sdir, "/", sname),
                                                   O_RDONLY | O_DIRECTORY));
    }
    if (!dest_is_dir) BERTH_TRY(MkdirAll(dest, 0755));
    BERTH_ASSIGN_OR_RETURN(UniqueFd to, OpenFile(dest, O_RDONLY | O_DIRECTORY));
    return CopyDirContents(from.get(), to.get());
  }
  std::string ddir, dname;
  if (dest_is_dir) {
    ddir = dest;
    dname = sname;
  } else {
    std::tie(ddir, dname) = SplitPath(dest);
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd to, OpenFile(ddir, O_RDONLY | O_DIRECTORY));
  return CopyEntry(sparent->get(), sname, to.get(), dname);
}

Status Engine::CopyToContainer(const std::string& src, const std::string& name_or_id,
                               const std::string& dest) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(EnsureMounted(c));
  Defer unmount([&] {
    if (!IsRunning(c.state) && c.state != State::kRestarting) (void)UnmountIdleSnapshot(c);
  });
  std::unique_ptr<PrivateMountNamespace> private_ns;  // left before the unmount above
  if (!IsRunning(c.state)) {
    BERTH_ASSIGN_OR_RETURN(private_ns, PrivateMountNamespace::Enter());
  }
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenContainerRoot(c, ContainerDir(c.id)));
  if (private_ns) BERTH_TRY(MountVolumesForCopy(root.get(), ContainerDir(c.id)));
  if (src == "-") {
    // docker: the destination must be an existing directory; the tar's entries land in it.
    auto dir = sys::OpenInRoot(root.get(), dest, O_RDONLY | O_DIRECTORY);
    if (!dir) {
      return Fail(ErrorCode::kNotFound, StrCat("cp: ", Quote(dest), " in container ", c.name,
                                               " is not an existing directory"));
    }
    image::UnpackOptions uo;
    uo.overlay_whiteouts = false;
    uo.plain_copy = true;
    auto from_stdin = [](void* buf, size_t n) -> Result<size_t> {
      for (;;) {
        ssize_t got = ::read(STDIN_FILENO, buf, n);
        if (got >= 0) return static_cast<size_t>(got);
        if (errno != EINTR) return ErrnoFail("cp: read the archive from stdin");
      }
    };
    // The directory by its fd: every entry resolves beneath it (RESOLVE_IN_ROOT).
    BERTH_TRY_CTX(image::UnpackLayer(from_stdin, sys::FdPath(dir->get()), uo),
                  StrCat("cp: extract into ", Quote(dest)));
    return Ok();
  }
  struct stat st;
  if (::lstat(src.c_str(), &st) != 0) return ErrnoFail(StrCat("cp: ", Quote(src)));
  auto [sdir, sname] = SplitPath(src);
  BERTH_ASSIGN_OR_RETURN(UniqueFd from, OpenFile(sdir, O_RDONLY | O_DIRECTORY));
  if (auto dir = sys::OpenInRoot(root.get(), dest, O_RDONLY | O_DIRECTORY); dir.has_value()) {
    return CopyEntry(from.get(), sname, dir->get(), sname);
  }
  auto [ddir, dname] = SplitPath(dest);
  auto parent = sys::OpenInRoot(root.get(), ddir, O_RDONLY | O_DIRECTORY);
  if (!parent) {
    return Fail(ErrorCode::kNotFound,
                StrCat("could not find the directory ", ddir, " in container ", c.name));
  }
  return CopyEntry(from.get(), sname, parent->get(), dname);
}

Result<std::vector<std::pair<char, std::string>>> Engine::Diff(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  std::string upper = ContainerDir(c.id) + "/snapshot/upper";
  std::vector<std::string> lowers;
  for (auto& id : c.chain_ids) lowers.push_back(images_->LayerDir(id));
  // Mount points the runtime made (/proc, /dev/pts, /etc/hosts, ...) are not changes.
  std::set<std::string> mountpoints;
  if (auto spec = oci::LoadSpec(ContainerDir(c.id) + "/config.json"); spec.has_value()) {
    for (auto& m : spec->mounts) mountpoints.insert(m.destination);
    if (spec->linux_config) {
      for (auto& p : spec->linux_config->masked_paths) mountpoints.insert(p);
    }
  }
  std::vector<std::pair<char, std::string>> out;
  auto in_lower = [&](const std::string& rel) {
    struct stat st;
    for (auto& l : lowers) {
      if (::lstat((l + rel).c_str(), &st) == 0) return true;
    }
    return false;
  };
  std::function<Status(const std::string&)> walk = [&](const std::string& rel) -> Status {
    DIR* d = ::opendir((upper + rel).c_str());
    if (!d) return Ok();
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (auto& n : names) {
      std::string path = rel + "/" + n;
      struct stat st;
      if (::lstat((upper + path).c_str(), &st) != 0) continue;
      if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
        out.emplace_back('D', path);
        continue;
      }
      if (mountpoints.count(path)) continue;
      size_t before = out.size();
      out.emplace_back(in_lower(path) ? 'C' : 'A', path);
      if (S_ISDIR(st.st_mode)) {
        BERTH_TRY(walk(path));
        // A lower directory copied up only to hold mount points is not a change.
        if (out.size() == before + 1 && in_lower(path)) {
          struct stat lst;
          bool same = false;
          for (auto l = lowers.rbegin(); l != lowers.rend(); ++l) {  // the topmost copy
            if (::lstat((*l + path).c_str(), &lst) == 0) {
              same = lst.st_mode == st.st_mode && lst.st_uid == st.st_uid && lst.st_gid == st.st_gid;
              break;
            }
          }
          if (same) out.resize(before);
        }
      }
    }
    return Ok();
  };
  BERTH_TRY(walk(""));
  return out;
}

Status Engine::Export(const std::string& name_or_id, const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_TRY(EnsureMounted(c));
  Defer unmount([&] {
    if (!IsRunning(c.state) && c.state != State::kRestarting) (void)UnmountIdleSnapshot(c);
  });
  UniqueFd out;
  int fd = 1;
  if (path != "-") {
    BERTH_ASSIGN_OR_RETURN(out, OpenFile(path, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    fd = out.get();
  }
  image::PackOptions po;
  po.compression = oci::Compression::kNone;
  BERTH_TRY(image::PackTree(ContainerDir(c.id) + "/snapshot/merged",
                            [&](const void* data, size_t n) -> Status {
                              return WriteAll(fd, std::string_view(static_cast<const char*>(data), n),
                                              path);
                            },
                            po));
  return Ok();
}

Result<image::ImageRecord> Engine::Commit(const std::string& name_or_id,
                                          const image::NewImageOptions& options) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(name_or_id));
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord base, images_->Resolve(c.image));
  // The new image runs the way this container was asked to run.
  oci::ContainerConfig cfg = c.image_config;
  const RunConfig& rc = c.config;
  for (auto& e : rc.env) {
    std::string key = e.substr(0, e.find('='));
    std::erase_if(cfg.env, [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    cfg.env.push_back(e);
  }
  if (!rc.cmd.empty()) cfg.cmd = rc.cmd;
  if (rc.entrypoint) cfg.entrypoint = *rc.entrypoint;
  if (!rc.workdir.empty()) cfg.working_dir = rc.workdir;
  if (!rc.user.empty()) cfg.user = rc.user;
  for (auto& [k, v] : rc.labels) cfg.labels[k] = v;
  bool paused_here = false;
  if (c.state == State::kRunning) {
    if (runtime::Pause(RuntimeOptions(), c.id)) paused_here = true;
  }
  Defer resume([&] {
    if (paused_here) (void)runtime::Resume(RuntimeOptions(), c.id);
  });
  return image::CommitLayer(*images_, base, ContainerDir(c.id) + "/snapshot/upper", cfg, options);
}

Result<std::vector<std::string>> Engine::RemoveImage(const std::string& ref, bool force) {
  BERTH_ASSIGN_OR_RETURN(image::ImageRecord img, images_->Resolve(ref));
  std::vector<std::string> lines;
  bool by_name = std::find_if(img.names.begin(), img.names.end(), [&](const std::string& n) {
                   return n == ref || n.find(ref) != std::string::npos;
                 }) != img.names.end() && img.id.find(ref) == std::string::npos;
  if (by_name && img.names.size() > 1) {
    BERTH_ASSIGN_OR_RETURN(oci::Reference r, oci::ParseReference(ref));
    BERTH_TRY(images_->Untag(r.String()));
    lines.push_back("Untagged: " + r.Familiar());
    return lines;
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
  for (auto& c : all) {
    if (c.image == img.id && !force) {
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat("conflict: unable to remove image ", Quote(ref), " (must force) - container ",
                         c.id.substr(0, 12), " is using its referenced image ",
                         img.id.substr(7, 12)));
    }
  }
  for (auto& n : img.names) {
    auto r = oci::ParseReference(n);
    lines.push_back("Untagged: " + (r ? r->Familiar() : n));
  }
  BERTH_TRY(images_->RemoveImage(img));
  lines.push_back("Deleted: " + img.id);
  BERTH_TRY(images_->GarbageCollect());
  return lines;
}

}  // namespace berth::engine
