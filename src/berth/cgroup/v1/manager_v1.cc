// berth/cgroup/v1: the manager for legacy (v1 only) and hybrid hosts. Each resource goes to
// the v1 hierarchy of its controller; in hybrid mode a controller that exists only on the
// cgroup2 mount (hugetlb on some hosts) is written there, and the cgroup2 leaf also gives
// cgroup.kill and, without a v1 freezer, cgroup.freeze.
#include <algorithm>

#include "berth/base/defer.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/manager_common.h"
#include "berth/cgroup/rdma.h"
#include "berth/cgroup/v1/v1.h"
#include "berth/cgroup/v2/bpf.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup {

namespace {

std::map<std::string, std::string> PathsOf(const Layout& layout,
                                           const std::map<std::string, std::string>& leaves,
                                           const v2::Leaf& unified) {
  std::map<std::string, std::string> paths;
  for (const auto& [name, mount] : layout.v1_mounts) {
    auto it = leaves.find(mount);
    if (it != leaves.end()) paths[name] = it->second;
  }
  if (unified.valid()) paths[""] = unified.dir();
  return paths;
}

class ManagerV1 final : public ManagerBase {
 public:
  ManagerV1(Layout layout, std::map<std::string, std::string> leaves, v2::Leaf unified)
      : ManagerBase(layout, PathsOf(layout, leaves, unified)),
        leaves_(std::move(leaves)),
        unified_(std::move(unified)) {}

  Status Create() override {
    std::vector<std::string> created;
    Defer rollback([&] { RemoveDirsQuietly(created); });
    for (const auto& [mount, leaf] : leaves_) {
      BERTH_ASSIGN_OR_RETURN_CTX(auto made, MakeCgroupDirs(mount, leaf), "create cgroup");
      created.insert(created.end(), made.begin(), made.end());
      if (layout_.v1_mounts.count("cpuset") && layout_.v1_mounts.at("cpuset") == mount) {
        BERTH_TRY_CTX(v1::InitCpuset(mount, leaf), "create cgroup");
      }
    }
    if (unified_.valid()) {
      BERTH_ASSIGN_OR_RETURN_CTX(auto made, MakeCgroupDirs(unified_.mount(), unified_.dir()),
                                 "create cgroup");
      created.insert(created.end(), made.begin(), made.end());
    }
    rollback.Cancel();
    return Ok();
  }

  Status Apply(const oci::Resources& r) override {
    if (!r.devices.empty()) BERTH_TRY(ApplyDevices(r.devices));
    if (r.memory && v1::WantsMemory(*r.memory)) {
      BERTH_TRY(Route(
          "memory", "memory", "linux.resources.memory",
          [&](const std::string& d) { return v1::ApplyMemory(d, *r.memory); },
          [&] { return v2::ApplyMemory(unified_, *r.memory); }));
    }
    if (r.cpu && v1::WantsCpuset(*r.cpu)) {
      BERTH_TRY(Route(
          "cpuset", "cpuset", "linux.resources.cpu.cpus",
          [&](const std::string& d) { return v1::ApplyCpuset(d, *r.cpu); },
          [&] { return v2::ApplyCpuset(unified_, *r.cpu); }));
    }
    if (r.cpu && v1::WantsCpu(*r.cpu)) {
      BERTH_TRY(Route(
          "cpu", "cpu", "linux.resources.cpu",
          [&](const std::string& d) { return v1::ApplyCpu(d, *r.cpu); },
          [&] { return v2::ApplyCpu(unified_, *r.cpu); }));
    }
    if (r.pids) {
      BERTH_TRY(Route(
          "pids", "pids", "linux.resources.pids",
          [&](const std::string& d) { return v1::ApplyPids(d, *r.pids); },
          [&] { return v2::ApplyPids(unified_, *r.pids); }));
    }
    if (r.block_io && v1::WantsBlkio(*r.block_io)) {
      BERTH_TRY(Route(
          "blkio", "io", "linux.resources.blockIO",
          [&](const std::string& d) { return v1::ApplyBlkio(d, *r.block_io); },
          [&] { return v2::ApplyIo(unified_, *r.block_io); }));
    }
    if (!r.hugepage_limits.empty()) {
      BERTH_TRY(Route(
          "hugetlb", "hugetlb", "linux.resources.hugepageLimits",
          [&](const std::string& d) { return v1::ApplyHugetlb(d, r.hugepage_limits); },
          [&] { return v2::ApplyHugetlb(unified_, r.hugepage_limits); }));
    }
    if (r.network) BERTH_TRY(ApplyNetwork(*r.network));
    if (!r.rdma.empty()) {
      BERTH_TRY(Route(
          "rdma", "rdma", "linux.resources.rdma",
          [&](const std::string& d) { return cgroup::ApplyRdma(d, r.rdma); },
          [&] { return v2::ApplyRdma(unified_, r.rdma); }));
    }
    if (!r.unified.empty()) {
      if (!unified_.valid()) {
        return Unexpected(NotSupported("linux.resources.unified",
                                       "no cgroup2 hierarchy; this host has cgroup v1 only"));
      }
      BERTH_TRY(v2::ApplyUnified(unified_, r.unified));
    }
    return Ok();
  }

  Status AddProcess(pid_t pid) override {
    std::string p = StrCat(static_cast<int64_t>(pid));
    std::string ctx = StrCat("add process ", p, " to cgroup");
    for (const auto& [mount, leaf] : leaves_)
      BERTH_TRY_CTX(WriteCgroupFile(leaf, "cgroup.procs", p), ctx);
    if (unified_.valid()) BERTH_TRY_CTX(WriteCgroupFile(unified_.dir(), "cgroup.procs", p), ctx);
    return Ok();
  }

  // CLONE_INTO_CGROUP places a child in one cgroup2 cgroup only; v1 needs AddProcess.
  int CloneIntoFd() const override { return -1; }

  Result<std::vector<pid_t>> Processes() override {
    std::string dir = PrimaryDir();
    if (dir.empty()) return Fail(ErrorCode::kInternal, "cgroup: no hierarchy to list processes");
    return ReadProcsRecursive(dir);
  }

  Status Freeze() override {
    if (std::string d = Dir("freezer"); !d.empty()) return v1::Freeze(d);
    if (unified_.valid()) return v2::Freeze(unified_.dir());
    return Unexpected(NotSupported("freeze", "no `freezer` cgroup hierarchy"));
  }
  Status Thaw() override {
    if (std::string d = Dir("freezer"); !d.empty()) return v1::Thaw(d);
    if (unified_.valid()) return v2::Thaw(unified_.dir());
    return Unexpected(NotSupported("thaw", "no `freezer` cgroup hierarchy"));
  }
  Result<FreezerState> GetFreezerState() override {
    if (std::string d = Dir("freezer"); !d.empty()) return v1::GetFreezerState(d);
    if (unified_.valid()) return v2::GetFreezerState(unified_.dir());
    return Unexpected(NotSupported("freezer state", "no `freezer` cgroup hierarchy"));
  }

  Result<Stats> GetStats() override {
    Stats s;
    std::string cpu = Dir("cpu"), acct = Dir("cpuacct");
    if (!cpu.empty() || !acct.empty()) {
      BERTH_TRY_CTX(v1::ReadCpuStats(cpu, acct, s.cpu), "cpu stats");
    } else if (unified_.valid()) {
      BERTH_TRY_CTX(v2::ReadCpuStats(unified_.dir(), s.cpu), "cpu stats");
    }
    if (std::string d = Dir("memory"); !d.empty()) {
      BERTH_TRY_CTX(v1::ReadMemoryStats(d, s.memory, s.oom_kills), "memory stats");
    } else if (InUnified("memory")) {
      BERTH_TRY_CTX(v2::ReadMemoryStats(unified_.dir(), s.memory, s.oom_kills), "memory stats");
    }
    if (std::string d = Dir("pids"); !d.empty()) {
      BERTH_TRY_CTX(v1::ReadPidsStats(d, s.pids), "pids stats");
    } else if (InUnified("pids")) {
      BERTH_TRY_CTX(v2::ReadPidsStats(unified_.dir(), s.pids), "pids stats");
    }
    if (std::string d = Dir("blkio"); !d.empty()) {
      BERTH_TRY_CTX(v1::ReadBlkioStats(d, s.blkio), "blkio stats");
    } else if (InUnified("io")) {
      BERTH_TRY_CTX(v2::ReadIoStats(unified_.dir(), s.blkio), "io stats");
    }
    if (std::string d = Dir("hugetlb"); !d.empty()) {
      BERTH_TRY_CTX(v1::ReadHugetlbStats(d, s.hugetlb), "hugetlb stats");
    } else if (InUnified("hugetlb")) {
      BERTH_TRY_CTX(v2::ReadHugetlbStats(unified_.dir(), s.hugetlb), "hugetlb stats");
    }
    return s;
  }

  Result<UniqueFd> OomEventFd() override {
    if (std::string d = Dir("memory"); !d.empty()) return v1::OomEventFd(d);
    if (InUnified("memory")) return v2::OomEventFd(unified_.dir());
    return Unexpected(NotSupported("oom events", "no `memory` cgroup controller"));
  }

 protected:
  std::string KillDir() const override { return unified_.valid() ? unified_.dir() : ""; }

 private:
  // The container's directory in the v1 hierarchy of `controller`, or "".
  std::string Dir(const std::string& controller) const {
    auto m = layout_.v1_mounts.find(controller);
    if (m == layout_.v1_mounts.end()) return "";
    auto l = leaves_.find(m->second);
    return l == leaves_.end() ? "" : l->second;
  }

  bool InUnified(const std::string& controller) const {
    const auto& c = layout_.unified_controllers;
    return unified_.valid() && std::find(c.begin(), c.end(), controller) != c.end();
  }

  // Where Processes() reads: any hierarchy holds every process of the container.
  std::string PrimaryDir() const {
    for (const char* c : {"freezer", "pids", "memory", "cpu", "devices"}) {
      if (std::string d = Dir(c); !d.empty()) return d;
    }
    if (!leaves_.empty()) return leaves_.begin()->second;
    return unified_.valid() ? unified_.dir() : "";
  }

  // The v1 writer if `v1_name` is mounted, else the cgroup2 writer if the cgroup2 root
  // offers `v2_name`, else an error naming `field`.
  template <class F1, class F2>
  Status Route(const std::string& v1_name, const std::string& v2_name, std::string_view field,
               F1 apply_v1, F2 apply_v2) {
    if (std::string d = Dir(v1_name); !d.empty()) return apply_v1(d);
    if (InUnified(v2_name)) return apply_v2();
    return Unexpected(NotSupported(field, StrCat("no ", Quote(v1_name), " cgroup controller")));
  }

  Status ApplyDevices(const std::vector<oci::DeviceRule>& rules) {
    BERTH_ASSIGN_OR_RETURN(auto converted, ConvertDeviceRules(rules));
    if (std::string d = Dir("devices"); !d.empty()) return v1::ApplyDevices(d, converted);
    // BPF device programs on the cgroup2 leaf are enforced even on a hybrid host.
    if (unified_.valid()) return v2::ApplyDevices(unified_.dir(), converted);
    return Unexpected(NotSupported("linux.resources.devices", "no `devices` cgroup controller"));
  }

  Status ApplyNetwork(const oci::NetworkResources& n) {
    if (n.class_id) {
      std::string d = Dir("net_cls");
      if (d.empty()) {
        return Unexpected(
            NotSupported("linux.resources.network.classID", "no `net_cls` cgroup hierarchy"));
      }
      BERTH_TRY(v1::ApplyNetClassId(d, *n.class_id));
    }
    if (!n.priorities.empty()) {
      std::string d = Dir("net_prio");
      if (d.empty()) {
        return Unexpected(
            NotSupported("linux.resources.network.priorities", "no `net_prio` cgroup hierarchy"));
      }
      BERTH_TRY(v1::ApplyNetPriorities(d, n.priorities));
    }
    return Ok();
  }

  std::map<std::string, std::string> leaves_;  // v1 mount point -> leaf directory
  v2::Leaf unified_;                           // hybrid only
};

}  // namespace

std::unique_ptr<Manager> MakeManagerV1(Layout layout, std::map<std::string, std::string> leaves,
                                       v2::Leaf unified) {
  return std::make_unique<ManagerV1>(std::move(layout), std::move(leaves), std::move(unified));
}

}  // namespace berth::cgroup
