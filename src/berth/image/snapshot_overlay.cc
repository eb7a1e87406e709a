// The overlay snapshotter's mount: the new mount API with one "lowerdir+" per layer (no
// option-length limit, kernel >= 6.8), else one legacy "lowerdir=" string.
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/image/snapshot_internal.h"

namespace berth::image::internal {

namespace {

// Fixed features rather than the host's defaults: a redirect or a metacopy-only file in an
// upper cannot be turned into a layer by PackDiff (commit), and index=on ties lower layers
// to one upper, while berth shares every layer between many containers.
constexpr const char* kFeatures[][2] = {{"index", "off"}, {"redirect_dir", "off"},
                                         {"metacopy", "off"}};

// What the kernel logged into the fs context (fsconfig/CMD_CREATE failures say why there).
std::string ContextLog(int fsfd) {
  std::string out;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(fsfd, buf, sizeof buf);
    if (n <= 0) break;
    std::string_view line(buf, static_cast<size_t>(n));
    if (line.size() > 2 && line[1] == ' ') line.remove_prefix(2);  // "e overlay: ..."
    if (!out.empty()) out += "; ";
    out.append(line);
  }
  return out;
}

Error MountError(int err, int fsfd, std::string_view what) {
  std::string log = ContextLog(fsfd);
  Error e = Error::Sys(err, what);
  if (!log.empty()) e.Wrap(log);
  return e;
}

// Overlay's option parser splits on ',' and ':' and honours backslash escapes.
std::string EscapeLower(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == ',' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

Status MountLegacy(const std::vector<std::string>& lowers, const std::string& upper,
                   const std::string& work, const std::string& merged, bool ephemeral) {
  std::string data = "lowerdir=";
  for (size_t i = lowers.size(); i-- > 0;) {  // top first
    data += EscapeLower(lowers[i]);
    if (i) data.push_back(':');
  }
  data += StrCat(",upperdir=", EscapeLower(upper), ",workdir=", EscapeLower(work));
  for (const auto& f : kFeatures) data += StrCat(",", f[0], "=", f[1]);
  if (ephemeral) data += ",volatile";
  long page = ::sysconf(_SC_PAGESIZE);
  if (static_cast<long>(data.size()) >= page) {
    return Fail(ErrorCode::kUnsupported,
                StrCat("mount overlay: ", lowers.size(), " layers need ", data.size(),
                       " bytes of mount options, more than this kernel accepts (", page,
                       "); a kernel >= 6.8 has no such limit"));
  }
  if (::mount("overlay", merged.c_str(), "overlay", 0, data.c_str()) != 0)
    return ErrnoFail(StrCat("mount overlay on ", Quote(merged)));
  return Ok();
}

}  // namespace

bool OverlaySupported() {
  int fd = ::fsopen("overlay", FSOPEN_CLOEXEC);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

Status MountOverlay(const std::vector<std::string>& lowers, const std::string& upper,
                    const std::string& work, const std::string& merged, bool ephemeral) {
  int raw = ::fsopen("overlay", FSOPEN_CLOEXEC);
  if (raw < 0) return ErrnoFail("fsopen overlay");
  UniqueFd fs(raw);
  // lowerdir+ appends below the layers given so far: the top layer goes first.
  for (size_t i = lowers.size(); i-- > 0;) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "lowerdir+", lowers[i].c_str(), 0) != 0) {
      int err = errno;
      if (i == lowers.size() - 1 && err == EINVAL) {
        ContextLog(fs.get());
        return MountLegacy(lowers, upper, work, merged, ephemeral);  // kernel < 6.8
      }
      return Unexpected(MountError(err, fs.get(), StrCat("overlay lower layer ", Quote(lowers[i]))));
    }
  }
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "upperdir", upper.c_str(), 0) != 0)
    return Unexpected(MountError(errno, fs.get(), StrCat("overlay upperdir ", Quote(upper))));
  if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, "workdir", work.c_str(), 0) != 0)
    return Unexpected(MountError(errno, fs.get(), StrCat("overlay workdir ", Quote(work))));
  for (const auto& f : kFeatures) {
    if (::fsconfig(fs.get(), FSCONFIG_SET_STRING, f[0], f[1], 0) != 0)
      return Unexpected(MountError(errno, fs.get(), StrCat("overlay option ", f[0], "=", f[1])));
  }
  // "volatile" is a speed-up only: a kernel without it (< 5.10) mounts without.
  if (ephemeral) (void)::fsconfig(fs.get(), FSCONFIG_SET_FLAG, "volatile", nullptr, 0);
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return Unexpected(MountError(errno, fs.get(), "create overlay"));
  int m = ::fsmount(fs.get(), FSMOUNT_CLOEXEC, 0);
  if (m < 0) return Unexpected(MountError(errno, fs.get(), "fsmount overlay"));
  UniqueFd mnt(m);
  if (::move_mount(mnt.get(), "", AT_FDCWD, merged.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return ErrnoFail(StrCat("attach overlay at ", Quote(merged)));
  return Ok();
}

}  // namespace berth::image::internal
