// berth/engine: the container's mounts as docker lays them out: the kernel filesystems,
// the engine's /etc/hosts, /etc/resolv.conf and /etc/hostname, then -v/--mount/--tmpfs and
// the image's VOLUMEs (parents before children), and berth-init for --init. A user mount at
// the same destination replaces the default one.
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/spec_gen_internal.h"

namespace berth::engine::internal {
namespace {

oci::Mount M(std::string dest, std::string type, std::string source,
             std::vector<std::string> options) {
  oci::Mount m;
  m.destination = std::move(dest);
  m.type = std::move(type);
  m.source = std::move(source);
  m.options = std::move(options);
  return m;
}

std::vector<oci::Mount> KernelMounts(bool privileged) {
  std::vector<oci::Mount> v;
  v.push_back(M("/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}));
  v.push_back(M("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  v.push_back(M("/dev/pts", "devpts", "devpts",
                {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  // --privileged gets writable sysfs and cgroupfs, as in docker.
  std::string access = privileged ? "rw" : "ro";
  v.push_back(M("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", access}));
  v.push_back(
      M("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", access}));
  v.push_back(M("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  v.push_back(
      M("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=67108864"}));
  return v;
}

std::string CleanDest(std::string_view p) {
  std::string out = "/" + Join(SplitNonEmpty(p, '/'), "/");
  return out;
}

size_t Depth(std::string_view p) { return SplitNonEmpty(p, '/').size(); }

bool HasOption(const std::vector<std::string>& opts, std::string_view o) {
  return std::find(opts.begin(), opts.end(), o) != opts.end();
}

bool IsPropagation(std::string_view s) {
  return s == "private" || s == "rprivate" || s == "shared" || s == "rshared" || s == "slave" ||
         s == "rslave";
}

const std::string* VolumeDir(const SpecInputs& in, std::string_view target) {
  std::string t = CleanDest(target);
  for (const auto& [dest, dir] : in.volume_dirs)
    if (CleanDest(dest) == t) return &dir;
  return nullptr;
}

// A bind of `source` (a host path berth or the user chose) at `dest`.
oci::Mount BindMount(const std::string& dest, const std::string& source, bool readonly,
                     const std::vector<std::string>& extra) {
  std::vector<std::string> opts{HasOption(extra, "bind") ? "bind" : "rbind"};
  if (readonly) opts.push_back("ro");
  std::string propagation = "rprivate";  // docker's default for binds and volumes
  for (const auto& o : extra)
    if (IsPropagation(o)) propagation = o;
  opts.push_back(propagation);
  return M(dest, "bind", source, std::move(opts));
}

Result<oci::Mount> UserMount(const VolumeMount& v, const SpecInputs& in) {
  std::string dest = CleanDest(v.target);
  switch (v.kind) {
    case VolumeMount::Kind::kBind: {
      struct stat st {};
      if (stat(v.source.c_str(), &st) != 0) {
        if (errno != ENOENT) return ErrnoFail(StrCat("bind source ", Quote(v.source)));
        if (!v.create_source)
          return Fail(ErrorCode::kNotFound,
                      StrCat("--mount: bind source path does not exist: ", Quote(v.source)));
        BERTH_TRY_CTX(MkdirAll(v.source, 0755), StrCat("create bind source ", Quote(v.source)));
      }
      return BindMount(dest, v.source, v.readonly, v.options);
    }
    case VolumeMount::Kind::kVolume: {
      const std::string* dir = VolumeDir(in, dest);
      if (dir == nullptr)
        return Fail(ErrorCode::kInternal,
                    StrCat("volume ", Quote(v.source.empty() ? "(anonymous)" : v.source), " at ",
                           Quote(dest), " was not resolved to a directory by the engine"));
      std::vector<std::string> extra;
      for (const auto& o : v.options)
        if (o != "nocopy") extra.push_back(o);  // nocopy is for the engine, not mount(2)
      return BindMount(dest, *dir, v.readonly, extra);
    }
    case VolumeMount::Kind::kTmpfs: {
      std::vector<std::string> opts;
      // docker's tmpfs defaults, each unless the user asked for the opposite.
      if (!HasOption(v.options, "suid")) opts.push_back("nosuid");
      if (!HasOption(v.options, "dev")) opts.push_back("nodev");
      if (!HasOption(v.options, "exec")) opts.push_back("noexec");
      for (const auto& o : v.options)
        if (!HasOption(opts, o)) opts.push_back(o);
      if (v.readonly) opts.push_back("ro");
      return M(dest, "tmpfs", "tmpfs", std::move(opts));
    }
  }
  return InvalidArgument("unknown mount kind");
}

}  // namespace

std::vector<std::string> DefaultMaskedPaths() {
  return {"/proc/asound",
          "/proc/acpi",
          "/proc/kcore",
          "/proc/keys",
          "/proc/latency_stats",
          "/proc/timer_list",
          "/proc/timer_stats",
          "/proc/sched_debug",
          "/proc/scsi",
          "/sys/firmware",
          "/sys/devices/virtual/powercap"};
}

std::vector<std::string> DefaultReadonlyPaths() {
  return {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};
}

Result<MountsResult> GenerateMounts(const oci::ContainerConfig& image, const RunConfig& run,
                                    const SpecInputs& in) {
  MountsResult out;
  // User mounts first, to learn which destinations they take over.
  std::vector<oci::Mount> user;
  std::set<std::string> taken;
  for (const auto& v : run.mounts) {
    BERTH_ASSIGN_OR_RETURN(oci::Mount m, UserMount(v, in));
    if (!taken.insert(m.destination).second)
      return InvalidArgument(StrCat("duplicate mount point ", Quote(m.destination)));
    user.push_back(std::move(m));
  }
  // The image's VOLUMEs the user did not mount over get the volume the engine made for them;
  // one the engine did not resolve stays part of the container's own filesystem.
  for (const auto& vol : image.volumes) {
    std::string dest = CleanDest(vol);
    if (taken.contains(dest)) continue;
    if (const std::string* dir = VolumeDir(in, dest)) {
      taken.insert(dest);
      user.push_back(BindMount(dest, *dir, false, {}));
    }
  }
  // Parents before children, so a mount inside another mount lands on top of it.
  std::stable_sort(user.begin(), user.end(), [](const oci::Mount& a, const oci::Mount& b) {
    return Depth(a.destination) < Depth(b.destination);
  });

  for (auto& m : KernelMounts(run.privileged))
    if (!taken.contains(m.destination)) out.mounts.push_back(std::move(m));
  const std::pair<const char*, const std::string*> etc_files[] = {
      {"/etc/resolv.conf", &in.resolv_conf},
      {"/etc/hostname", &in.hostname_file},
      {"/etc/hosts", &in.hosts_file},
  };
  for (const auto& [dest, source] : etc_files) {
    if (source->empty() || taken.contains(dest)) continue;
    out.mounts.push_back(BindMount(dest, *source, run.read_only, {}));
  }
  for (auto& m : user) {
    for (const auto& o : m.options) {
      if (o == "shared" || o == "rshared") out.rootfs_propagation = "rshared";
      if ((o == "slave" || o == "rslave") && out.rootfs_propagation.empty())
        out.rootfs_propagation = "rslave";
    }
    out.mounts.push_back(std::move(m));
  }
  if (run.init) {
    if (in.init_binary.empty())
      return Fail(ErrorCode::kFailedPrecondition, "--init: berth-init binary not found");
    out.mounts.push_back(
        M(std::string(kInitPath), "bind", in.init_binary, {"bind", "ro", "rprivate"}));
  }
  return out;
}

}  // namespace berth::engine::internal
