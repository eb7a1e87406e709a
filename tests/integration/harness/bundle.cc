#include "harness/bundle.h"

#include <sys/stat.h>

#include <filesystem>
#include <mutex>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/command.h"
#include "harness/env.h"
#include "harness/spec.h"

namespace berth::itest {

namespace fs = std::filesystem;

namespace {

// Paths of busybox applets relative to "/", e.g. "bin/sh", "usr/bin/env" (cached).
const std::vector<std::string>& BusyboxApplets() {
  static std::once_flag once;
  static std::vector<std::string> applets;
  std::call_once(once, [] {
    std::string bb = BusyboxPath();
    if (bb.empty()) return;
    (void)MkdirAll(TempBase(), 0755);
    CommandResult r = RunCommand({bb, "--list-full"}, TempBase());
    for (auto& line : SplitNonEmpty(r.out, '\n')) {
      std::string a(Trim(line));
      if (!a.empty() && a.find("..") == std::string::npos) applets.push_back(a);
    }
    (void)::unlink(r.out_path.c_str());
    (void)::unlink(r.err_path.c_str());
  });
  return applets;
}

Status CopyExecutable(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec)
    return InvalidArgument(StrCat("copy ", Quote(from), " to ", Quote(to), ": ", ec.message()));
  if (::chmod(to.c_str(), 0755) != 0) return ErrnoFail(StrCat("chmod ", Quote(to)));
  return Ok();
}

}  // namespace

Result<Bundle> Bundle::Create(const std::string& dir) {
  std::string bb = BusyboxPath();
  if (bb.empty())
    return Fail(ErrorCode::kNotFound, "no static busybox (apt-get install busybox-static)");
  std::string probe = ProbePath();
  if (probe.empty()) return Fail(ErrorCode::kNotFound, "BERTH_PROBE is not set");

  Bundle b;
  b.dir_ = dir;
  b.spec_ = DefaultSpec();
  std::string root = b.rootfs();
  for (const char* d : {"bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "root",
                        "home/user", "run", "mnt", "var", "opt"}) {
    BERTH_TRY(MkdirAll(StrCat(root, "/", d), 0755));
  }
  BERTH_TRY(MkdirAll(root + "/tmp", 0755));
  ::chmod(dir.c_str(), 0755);
  ::chmod((root + "/tmp").c_str(), 01777);
  ::chown((root + "/home/user").c_str(), 1000, 1000);

  BERTH_TRY(CopyExecutable(bb, root + "/bin/busybox"));
  BERTH_TRY(CopyExecutable(probe, root + "/probe"));
  for (const auto& applet : BusyboxApplets()) {
    if (applet == "bin/busybox") continue;
    std::string link = StrCat(root, "/", applet);
    std::error_code ec;
    fs::create_directories(fs::path(link).parent_path(), ec);
    fs::create_symlink("/bin/busybox", link, ec);  // absolute: resolved inside the rootfs
  }
  BERTH_TRY(WriteFile(root + "/etc/passwd",
                      "root:x:0:0:root:/root:/bin/sh\n"
                      "user:x:1000:1000:user:/home/user:/bin/sh\n"
                      "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"));
  BERTH_TRY(WriteFile(root + "/etc/group",
                      "root:x:0:\n"
                      "tty:x:5:\n"
                      "users:x:100:\n"
                      "user:x:1000:\n"
                      "nogroup:x:65534:\n"));
  BERTH_TRY(WriteFile(root + "/etc/hostname", "container\n"));
  return b;
}

Status Bundle::Write() const { return WriteFile(config_path(), spec_.dump(2)); }

std::string Bundle::RootfsPath(const std::string& in_container) const {
  if (in_container.starts_with("/")) return rootfs() + in_container;
  return rootfs() + "/" + in_container;
}

}  // namespace berth::itest
