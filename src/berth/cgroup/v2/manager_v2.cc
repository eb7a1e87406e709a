// berth/cgroup/v2: the manager for pure cgroup v2 hosts: one leaf directory, controllers
// enabled down the path, CLONE_INTO_CGROUP, the BPF device filter, cgroup.freeze and
// cgroup.kill.
#include <fcntl.h>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/manager_common.h"
#include "berth/cgroup/v2/bpf.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup {

namespace {

class ManagerV2 final : public ManagerBase {
 public:
  ManagerV2(Layout layout, v2::Leaf leaf)
      : ManagerBase(std::move(layout), {{"", leaf.dir()}}), leaf_(std::move(leaf)) {
    // A manager loaded for `exec` joins through CLONE_INTO_CGROUP as well.
    (void)OpenLeaf();
  }

  Status Create() override {
    BERTH_ASSIGN_OR_RETURN_CTX(auto created, MakeCgroupDirs(leaf_.mount(), leaf_.dir()),
                               "create cgroup");
    Defer rollback([&] { RemoveDirsQuietly(created); });
    // Like runc: offer every controller down the path now, so that stats and a later
    // `update` find their files. Apply enables what it needs strictly.
    leaf_.EnableAvailable();
    BERTH_TRY_CTX(OpenLeaf(), "create cgroup");
    rollback.Cancel();
    return Ok();
  }

  Status Apply(const oci::Resources& r) override {
    if (!r.devices.empty()) {
      BERTH_ASSIGN_OR_RETURN(auto rules, ConvertDeviceRules(r.devices));
      BERTH_TRY(v2::ApplyDevices(leaf_.dir(), rules));
    }
    if (r.memory) BERTH_TRY(v2::ApplyMemory(leaf_, *r.memory));
    if (r.cpu) {
      BERTH_TRY(v2::ApplyCpuset(leaf_, *r.cpu));
      BERTH_TRY(v2::ApplyCpu(leaf_, *r.cpu));
    }
    if (r.pids) BERTH_TRY(v2::ApplyPids(leaf_, *r.pids));
    if (r.block_io) BERTH_TRY(v2::ApplyIo(leaf_, *r.block_io));
    BERTH_TRY(v2::ApplyHugetlb(leaf_, r.hugepage_limits));
    if (r.network) {
      if (r.network->class_id) {
        return Unexpected(
            NotSupported("linux.resources.network.classID", "cgroup v2 has no net_cls controller"));
      }
      if (!r.network->priorities.empty()) {
        return Unexpected(NotSupported("linux.resources.network.priorities",
                                       "cgroup v2 has no net_prio controller"));
      }
    }
    BERTH_TRY(v2::ApplyRdma(leaf_, r.rdma));
    // Last, so raw values override what the structured fields wrote (runc's order).
    BERTH_TRY(v2::ApplyUnified(leaf_, r.unified));
    return Ok();
  }

  Status AddProcess(pid_t pid) override {
    std::string p = StrCat(static_cast<int64_t>(pid));
    BERTH_TRY_CTX(WriteCgroupFile(leaf_.dir(), "cgroup.procs", p),
                  StrCat("add process ", p, " to cgroup"));
    return Ok();
  }

  int CloneIntoFd() const override { return fd_.get(); }

  Result<std::vector<pid_t>> Processes() override { return ReadProcsRecursive(leaf_.dir()); }
  Status Freeze() override { return v2::Freeze(leaf_.dir()); }
  Status Thaw() override { return v2::Thaw(leaf_.dir()); }
  Result<FreezerState> GetFreezerState() override { return v2::GetFreezerState(leaf_.dir()); }

  Result<Stats> GetStats() override {
    Stats s;
    const std::string& d = leaf_.dir();
    // cpu.stat's usage lines exist without the cpu controller; the rest only with theirs.
    if (HasFile(d, "cpu.stat")) BERTH_TRY_CTX(v2::ReadCpuStats(d, s.cpu), "cpu stats");
    if (HasFile(d, "memory.current")) {
      BERTH_TRY_CTX(v2::ReadMemoryStats(d, s.memory, s.oom_kills), "memory stats");
    }
    if (HasFile(d, "pids.current")) BERTH_TRY_CTX(v2::ReadPidsStats(d, s.pids), "pids stats");
    if (HasFile(d, "io.stat")) BERTH_TRY_CTX(v2::ReadIoStats(d, s.blkio), "io stats");
    BERTH_TRY_CTX(v2::ReadHugetlbStats(d, s.hugetlb), "hugetlb stats");
    return s;
  }

  Result<UniqueFd> OomEventFd() override {
    if (!HasFile(leaf_.dir(), "memory.events")) {
      return Unexpected(MissingFile("oom events", leaf_.dir(), "memory.events"));
    }
    return v2::OomEventFd(leaf_.dir());
  }

 protected:
  std::string KillDir() const override { return leaf_.dir(); }

 private:
  Status OpenLeaf() {
    if (fd_) return Ok();
    // clone3(CLONE_INTO_CGROUP) takes a directory fd; O_RDONLY is enough, O_PATH is not.
    auto fd = OpenFile(leaf_.dir(), O_RDONLY | O_DIRECTORY);
    if (!fd.has_value()) return Unexpected(std::move(fd).error());
    fd_ = std::move(*fd);
    return Ok();
  }

  v2::Leaf leaf_;
  UniqueFd fd_;
};

}  // namespace

std::unique_ptr<Manager> MakeManagerV2(Layout layout, v2::Leaf leaf) {
  return std::make_unique<ManagerV2>(std::move(layout), std::move(leaf));
}

}  // namespace berth::cgroup
