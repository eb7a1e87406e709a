// berth/engine: linux.resources (memory, cpu, pids, device rules), linux.devices for
// --device and --privileged, sysctls and rlimits, with docker's checks and defaults.
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cmath>
#include <cstdlib>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/engine/spec_gen_internal.h"

namespace berth::engine::internal {
namespace {

constexpr int64_t kMinMemory = 6 * 1024 * 1024;  // docker refuses less
constexpr uint64_t kCpuPeriod = 100000;          // 100 ms, docker's --cpus period
constexpr uint64_t kDefaultNofile = 1048576;     // what dockerd's containers inherit

oci::DeviceRule Rule(bool allow, std::string type, std::optional<int64_t> major,
                     std::optional<int64_t> minor, std::string access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

std::optional<oci::Device> DeviceFromStat(const struct stat& st, std::string path) {
  oci::Device d;
  if (S_ISCHR(st.st_mode))
    d.type = "c";
  else if (S_ISBLK(st.st_mode))
    d.type = "b";
  else
    return std::nullopt;
  d.path = std::move(path);
  d.major = major(st.st_rdev);
  d.minor = minor(st.st_rdev);
  d.file_mode = st.st_mode & 07777;
  d.uid = st.st_uid;
  d.gid = st.st_gid;
  return d;
}

// Every device node under host directory `dir`, at `prefix` + its relative path. Symlinks are
// not followed (a link to a node elsewhere is reached through its own directory).
void WalkDevices(const std::string& dir, const std::string& prefix,
                 const std::vector<std::string>& skip, std::vector<oci::Device>& out, int depth) {
  if (depth > 16) return;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string host = dir + "/" + name;
    bool skipped = false;
    for (const auto& s : skip) skipped |= host == s;
    if (skipped) continue;
    struct stat st {};
    if (lstat(host.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      WalkDevices(host, prefix + "/" + name, skip, out, depth + 1);
    } else if (auto dev = DeviceFromStat(st, prefix + "/" + name)) {
      out.push_back(std::move(*dev));
    }
  }
  closedir(d);
}

bool SwapLimitSupported() {
  if (PathExists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes")) return true;
  // cgroup v2: memory.swap.max exists in every non-root cgroup when swap accounting is on.
  auto self = ReadFile("/proc/self/cgroup");
  if (!self) return false;
  for (const auto& line : Split(*self, '\n')) {
    if (!line.starts_with("0::")) continue;
    std::string path = line.substr(3);
    if (path == "/") path.clear();
    return PathExists("/sys/fs/cgroup" + path + "/memory.swap.max");
  }
  return false;
}

}  // namespace

Result<std::vector<oci::Device>> DevicesFromMappings(const std::vector<DeviceMapping>& maps) {
  std::vector<oci::Device> out;
  for (const auto& m : maps) {
    std::string what = StrCat("--device ", Quote(m.host_path));
    char* real = realpath(m.host_path.c_str(), nullptr);
    if (real == nullptr) return ErrnoFail(what);
    std::string host = real;
    free(real);
    struct stat st {};
    if (lstat(host.c_str(), &st) != 0) return ErrnoFail(what);
    if (S_ISDIR(st.st_mode)) {
      size_t before = out.size();
      WalkDevices(host, m.container_path == "/" ? "" : m.container_path, {}, out, 0);
      if (out.size() == before)
        return InvalidArgument(StrCat(what, ": no device nodes in the directory"));
      continue;
    }
    auto dev = DeviceFromStat(st, m.container_path);
    if (!dev) return InvalidArgument(StrCat(what, ": not a device node"));
    out.push_back(std::move(*dev));
  }
  return out;
}

std::vector<oci::Device> HostDevices() {
  // The container gets its own devpts, shm, mqueue and /dev/fd; /dev/console and /dev/ptmx
  // are set up by the runtime for the container's terminal.
  std::vector<std::string> skip = {"/dev/pts",     "/dev/shm",  "/dev/mqueue", "/dev/fd",
                                   "/dev/console", "/dev/ptmx", "/dev/.lxc",   "/dev/.udev"};
  std::vector<oci::Device> out;
  WalkDevices("/dev", "/dev", skip, out, 0);
  return out;
}

std::vector<oci::DeviceRule> DefaultDeviceRules() {
  std::vector<oci::DeviceRule> r;
  r.push_back(Rule(false, "", std::nullopt, std::nullopt, "rwm"));  // deny all first
  // mknod of any node is harmless: using one is what the rules control.
  r.push_back(Rule(true, "c", std::nullopt, std::nullopt, "m"));
  r.push_back(Rule(true, "b", std::nullopt, std::nullopt, "m"));
  const std::pair<int, int> nodes[] = {
      {1, 3},     // null
      {1, 5},     // zero
      {1, 7},     // full
      {1, 8},     // random
      {1, 9},     // urandom
      {5, 0},     // tty
      {5, 1},     // console
      {5, 2},     // ptmx
      {10, 200},  // net/tun
  };
  for (auto [maj, min] : nodes) r.push_back(Rule(true, "c", maj, min, "rwm"));
  r.push_back(Rule(true, "c", 136, std::nullopt, "rwm"));  // /dev/pts/*
  return r;
}

Result<oci::Resources> GenerateResources(const RunConfig& run,
                                         const std::vector<oci::Device>& devices,
                                         const std::vector<DeviceMapping>& maps) {
  oci::Resources r;
  if (run.privileged) {
    r.devices.push_back(Rule(true, "", std::nullopt, std::nullopt, "rwm"));
  } else {
    r.devices = DefaultDeviceRules();
    // One rule per --device node, with the permissions of its mapping.
    for (const auto& d : devices) {
      std::string perms = "rwm";
      for (const auto& m : maps)
        if (d.path == m.container_path || d.path.starts_with(m.container_path + "/"))
          perms = m.permissions;
      r.devices.push_back(Rule(true, d.type, d.major, d.minor, perms));
    }
    for (const auto& text : run.device_cgroup_rules) {
      BERTH_ASSIGN_OR_RETURN(oci::DeviceRule rule, ParseDeviceCgroupRule(text));
      r.devices.push_back(std::move(rule));
    }
  }

  if (run.memory || run.memory_swap || run.memory_reservation) {
    oci::MemoryResources mem;
    int64_t limit = run.memory.value_or(0);
    if (limit > 0 && limit < kMinMemory)
      return InvalidArgument("--memory: minimum memory limit allowed is 6MB");
    if (limit > 0) mem.limit = limit;
    if (run.memory_swap && *run.memory_swap != 0) {
      if (limit <= 0)
        return InvalidArgument("--memory-swap: set --memory as well when using --memory-swap");
      if (*run.memory_swap != -1 && *run.memory_swap < limit)
        return InvalidArgument(
            "--memory-swap: the memory+swap limit must be at least the --memory limit");
    }
    if (run.memory_reservation && *run.memory_reservation > 0) {
      if (limit > 0 && *run.memory_reservation > limit)
        return InvalidArgument("--memory-reservation: must not be larger than --memory");
      mem.reservation = *run.memory_reservation;
    }
    if (limit > 0) {
      int64_t swap = run.memory_swap && *run.memory_swap != 0 ? *run.memory_swap : 2 * limit;
      if (SwapLimitSupported()) {
        mem.swap = swap;
      } else if (run.memory_swap) {
        log::Warn("the kernel does not account swap in cgroups: --memory-swap is ignored");
      }
    }
    r.memory = mem;
  }

  if (run.cpus || run.cpu_shares || !run.cpuset_cpus.empty() || !run.cpuset_mems.empty()) {
    oci::CpuResources cpu;
    if (run.cpus) {
      long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
      if (!(*run.cpus >= 0.01) || (ncpu > 0 && *run.cpus > static_cast<double>(ncpu)))
        return InvalidArgument(StrCat("--cpus: range of CPUs is from 0.01 to ", ncpu, ".00, as ",
                                      ncpu, " CPUs are available"));
      cpu.period = kCpuPeriod;
      cpu.quota = std::llround(*run.cpus * static_cast<double>(kCpuPeriod));
    }
    if (run.cpu_shares && *run.cpu_shares > 0) cpu.shares = *run.cpu_shares;
    cpu.cpus = run.cpuset_cpus;
    cpu.mems = run.cpuset_mems;
    r.cpu = cpu;
  }
  // docker: 0 and -1 both mean unlimited.
  if (run.pids_limit && *run.pids_limit > 0) r.pids = oci::PidsResources{*run.pids_limit};
  return r;
}

Result<std::map<std::string, std::string>> CheckSysctls(const RunConfig& run) {
  static constexpr std::string_view kIpcExact[] = {"kernel.sem"};
  static constexpr std::string_view kIpcPrefix[] = {"kernel.msg", "kernel.shm", "fs.mqueue."};
  for (const auto& [key, value] : run.sysctls) {
    std::string name = key;
    for (char& c : name)
      if (c == '/') c = '.';
    bool ok = false;
    for (auto e : kIpcExact) ok |= name == e;
    for (auto p : kIpcPrefix) ok |= name.starts_with(p);
    if (name.starts_with("net.")) {
      if (run.network == "host")
        return InvalidArgument(
            StrCat("--sysctl ", Quote(key),
                   ": not allowed with --network host (it would change the host)"));
      ok = true;
    }
    if (!ok)
      return InvalidArgument(StrCat("--sysctl ", Quote(key),
                                    ": not a namespaced sysctl; setting it would change the host"));
  }
  return run.sysctls;
}

Result<std::vector<oci::Rlimit>> GenerateRlimits(const RunConfig& run) {
  std::vector<oci::Rlimit> out;
  bool have_nofile = false;
  for (const auto& u : run.ulimits) {
    BERTH_ASSIGN_OR_RETURN(std::string type, UlimitRlimitName(u.name));
    have_nofile |= type == "RLIMIT_NOFILE";
    oci::Rlimit rl{type, u.soft, u.hard};
    bool replaced = false;  // a later --ulimit of the same name wins
    for (auto& existing : out)
      if (existing.type == type) {
        existing = rl;
        replaced = true;
      }
    if (!replaced) out.push_back(std::move(rl));
  }
  if (!have_nofile) {
    // dockerd's containers inherit its 1048576; a caller without CAP_SYS_RESOURCE cannot
    // raise its hard limit, so cap to it (see DESIGN.md, "Root lacks CAP_SYS_RESOURCE").
    uint64_t n = kDefaultNofile;
    struct rlimit cur {};
    if (getrlimit(RLIMIT_NOFILE, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && cur.rlim_max < n)
      n = cur.rlim_max;
    out.push_back(oci::Rlimit{"RLIMIT_NOFILE", n, n});
  }
  return out;
}

}  // namespace berth::engine::internal
