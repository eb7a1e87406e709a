#include "berth/runtime/devices.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/sys/safe_path.h"

namespace berth::runtime {

namespace {

oci::Device CharDevice(const char* path, int major, int minor) {
  oci::Device d;
  d.type = "c";
  d.path = path;
  d.major = major;
  d.minor = minor;
  d.file_mode = 0666;
  d.uid = 0;
  d.gid = 0;
  return d;
}

mode_t TypeBits(const std::string& t) {
  if (t == "b") return S_IFBLK;
  if (t == "p") return S_IFIFO;
  return S_IFCHR;  // "c" and "u"
}

Status CreateOne(int root_fd, const oci::Device& d, bool in_user_ns) {
  std::string path = d.path;
  size_t slash = path.find_last_of('/');
  std::string dir = path.substr(0, slash == 0 ? 1 : slash);
  std::string name = path.substr(slash + 1);
  BERTH_ASSIGN_OR_RETURN(UniqueFd parent, sys::MkdirAllInRoot(root_fd, dir));
  UniqueFd parent_dir(::openat(parent.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!parent_dir.valid()) return ErrnoFail(StrCat("open ", Quote(dir)));
  mode_t mode = d.file_mode.value_or(0666) & 07777;

  if (in_user_ns) {
    // mknod is not permitted in a user namespace: bind the host's node over an empty file.
    int f = ::openat(parent_dir.get(), name.c_str(), O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC,
                     0600);
    if (f < 0 && errno != EEXIST) return ErrnoFail(StrCat("create ", Quote(path)));
    if (f >= 0) ::close(f);
    int tree = ::open_tree(AT_FDCWD, d.path.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) return ErrnoFail(StrCat("open host device ", Quote(d.path)));
    UniqueFd t(tree);
    UniqueFd target(::openat(parent_dir.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!target.valid()) return ErrnoFail(StrCat("open ", Quote(path)));
    if (::move_mount(tree, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
      return ErrnoFail(StrCat("bind host device ", Quote(d.path)));
    return Ok();
  }
  // Replace whatever the image had at this path.
  if (::unlinkat(parent_dir.get(), name.c_str(), 0) != 0 && errno != ENOENT) {
    return ErrnoFail(StrCat("remove ", Quote(path)));
  }
  dev_t dev = d.type == "p" ? 0 : makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
  if (::mknodat(parent_dir.get(), name.c_str(), TypeBits(d.type) | mode, dev) != 0) {
    return ErrnoFail(StrCat("mknod ", Quote(path)));
  }
  // mknod applies the umask; set the exact mode and owner.
  if (::fchmodat(parent_dir.get(), name.c_str(), mode, 0) != 0) {
    return ErrnoFail(StrCat("chmod ", Quote(path)));
  }
  if (::fchownat(parent_dir.get(), name.c_str(), d.uid.value_or(0), d.gid.value_or(0),
                 AT_SYMLINK_NOFOLLOW) != 0) {
    return ErrnoFail(StrCat("chown ", Quote(path)));
  }
  return Ok();
}

}  // namespace

std::vector<oci::Device> DefaultDevices() {
  return {CharDevice("/dev/null", 1, 3),    CharDevice("/dev/zero", 1, 5),
          CharDevice("/dev/full", 1, 7),    CharDevice("/dev/random", 1, 8),
          CharDevice("/dev/urandom", 1, 9), CharDevice("/dev/tty", 5, 0)};
}

std::vector<oci::DeviceRule> DeviceRulesForNodes(const std::vector<oci::Device>& devices) {
  std::vector<oci::DeviceRule> rules;
  auto add = [&](const oci::Device& d) {
    if (d.type == "p") return;  // fifos are not subject to the device cgroup
    oci::DeviceRule r;
    r.allow = true;
    r.type = d.type == "b" ? "b" : "c";
    r.major = d.major;
    r.minor = d.minor;
    r.access = "rwm";
    rules.push_back(r);
  };
  // mknod of any device is allowed (using it is what the rules control), as runc does.
  for (const char* type : {"c", "b"}) {
    oci::DeviceRule mknod;
    mknod.allow = true;
    mknod.type = type;
    mknod.access = "m";
    rules.push_back(mknod);
  }
  for (const auto& d : DefaultDevices()) add(d);
  // /dev/pts/* and /dev/ptmx: terminals allocated inside the container.
  oci::DeviceRule pts;
  pts.allow = true;
  pts.type = "c";
  pts.major = 136;
  pts.access = "rwm";
  rules.push_back(pts);
  oci::DeviceRule ptmx = pts;
  ptmx.major = 5;
  ptmx.minor = 2;
  rules.push_back(ptmx);
  // linux.devices entries are not allowed implicitly: the config's own rules decide (podman
  // and containerd add an allow rule for each device they pass), as with runc.
  (void)devices;
  return rules;
}

Status CreateDevices(int root_fd, const std::vector<oci::Device>& config_devices,
                     bool create_nodes, bool in_user_ns) {
  if (!create_nodes) return Ok();
  // Config entries override defaults at the same path.
  std::vector<oci::Device> all;
  for (const auto& d : DefaultDevices()) {
    bool overridden = false;
    for (const auto& c : config_devices) overridden |= (c.path == d.path);
    if (!overridden) all.push_back(d);
  }
  all.insert(all.end(), config_devices.begin(), config_devices.end());
  for (const auto& d : all) {
    BERTH_TRY_CTX(CreateOne(root_fd, d, in_user_ns), StrCat("device ", Quote(d.path)));
  }
  return Ok();
}

Status CreateDevSymlinks(int root_fd) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd dev_path, sys::OpenInRoot(root_fd, "/dev", O_PATH | O_DIRECTORY));
  UniqueFd dev(::openat(dev_path.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dev.valid()) return ErrnoFail("open `/dev`");
  struct Link {
    const char* target;
    const char* name;
  };
  static const Link kLinks[] = {{"/proc/self/fd", "fd"},
                                {"/proc/self/fd/0", "stdin"},
                                {"/proc/self/fd/1", "stdout"},
                                {"/proc/self/fd/2", "stderr"}};
  for (const auto& l : kLinks) {
    if (::symlinkat(l.target, dev.get(), l.name) != 0 && errno != EEXIST) {
      return ErrnoFail(StrCat("symlink `/dev/", l.name, "`"));
    }
  }
  if (::access("/proc/kcore", F_OK) == 0) {
    (void)::symlinkat("/proc/kcore", dev.get(), "core");
  }
  // /dev/ptmx must be the container's own devpts multiplexer.
  struct stat st;
  if (::fstatat(dev.get(), "pts/ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (::unlinkat(dev.get(), "ptmx", 0) != 0 && errno != ENOENT) {
      return ErrnoFail("remove `/dev/ptmx`");
    }
    if (::symlinkat("pts/ptmx", dev.get(), "ptmx") != 0) return ErrnoFail("symlink `/dev/ptmx`");
  }
  return Ok();
}

}  // namespace berth::runtime
