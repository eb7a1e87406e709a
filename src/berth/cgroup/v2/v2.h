// berth/cgroup/v2: the per-controller writers and readers of a cgroup2 hierarchy, used by
// ManagerV2 (pure v2) and by ManagerV1 for the cgroup2 half of a hybrid host. Errors name
// the config.json field.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/cgroup/device_rules.h"
#include "berth/cgroup/manager.h"
#include "berth/oci/spec.h"

namespace berth::cgroup::v2 {

// The container's directory in a cgroup2 hierarchy and the mount it lives under.
class Leaf {
 public:
  Leaf() = default;
  Leaf(std::string mount, std::string dir) : mount_(std::move(mount)), dir_(std::move(dir)) {}
  const std::string& mount() const { return mount_; }
  const std::string& dir() const { return dir_; }
  bool valid() const { return !dir_.empty(); }

  // Makes `controller` available in the leaf: "+controller" in cgroup.subtree_control of
  // every directory from the mount down to the leaf's parent that lacks it. `field` names
  // the request that needs it in errors.
  Status EnableController(std::string_view controller, std::string_view field) const;
  // The same for each controller the mount offers, ignoring failures (runc's behaviour on
  // creation, so that stats and later updates find their files).
  void EnableAvailable() const;

 private:
  std::string mount_;
  std::string dir_;
};

// cpu.weight from cpu.shares: [2, 262144] onto [1, 10000] (runc's formula).
uint64_t SharesToWeight(uint64_t shares);
// io.weight from blkio.weight: [10, 1000] onto [1, 10000].
uint64_t BlkioWeightToIoWeight(uint64_t weight);
// memory.swap.max from OCI's memory+swap `swap` and `limit` (0 = unset, -1 = unlimited):
// "" when nothing is to be written, else the value ("max" or bytes).
Result<std::string> SwapMaxValue(int64_t swap, int64_t limit);

Status ApplyCpu(const Leaf& leaf, const oci::CpuResources& cpu);
Status ApplyCpuset(const Leaf& leaf, const oci::CpuResources& cpu);
Status ReadCpuStats(const std::string& dir, CpuStats& out);

Status ApplyMemory(const Leaf& leaf, const oci::MemoryResources& mem);
Status ReadMemoryStats(const std::string& dir, MemoryStats& out, uint64_t& oom_kills);
// inotify on memory.events (readable on each change; the caller rereads the counters).
Result<UniqueFd> OomEventFd(const std::string& dir);

Status ApplyPids(const Leaf& leaf, const oci::PidsResources& pids);
Status ReadPidsStats(const std::string& dir, PidsStats& out);

Status ApplyIo(const Leaf& leaf, const oci::BlockIoResources& io);
Status ReadIoStats(const std::string& dir, BlkioStats& out);
std::vector<BlkioEntry> ParseIoStat(std::string_view text, bool bytes);

Status ApplyHugetlb(const Leaf& leaf, const std::vector<oci::HugepageLimit>& limits);
Status ReadHugetlbStats(const std::string& dir, std::map<std::string, HugetlbStats>& out);

Status ApplyRdma(const Leaf& leaf, const std::map<std::string, oci::RdmaLimit>& rdma);

// linux.resources.unified: file name -> value under the leaf.
Status ApplyUnified(const Leaf& leaf, const std::map<std::string, std::string>& kv);

// cgroup.freeze, waiting for "frozen 1" in cgroup.events.
Status Freeze(const std::string& dir);
Status Thaw(const std::string& dir);
Result<FreezerState> GetFreezerState(const std::string& dir);

}  // namespace berth::cgroup::v2
