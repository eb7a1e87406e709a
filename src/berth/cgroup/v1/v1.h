// berth/cgroup/v1: the per-controller writers and readers of cgroup v1 hierarchies. Each
// function takes the container's directory in that controller's hierarchy; errors name the
// config.json field. ManagerV1 (manager_v1.cc) picks the directory and the order.
#pragma once

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/cgroup/device_rules.h"
#include "berth/cgroup/manager.h"
#include "berth/oci/spec.h"

namespace berth::cgroup::v1 {

// cpu: shares, CFS quota/period/burst, RT runtime/period, idle.
Status ApplyCpu(const std::string& dir, const oci::CpuResources& cpu);
bool WantsCpu(const oci::CpuResources& cpu);
// cpuacct usage (dir of the cpuacct hierarchy) and cpu.stat throttling (cpu hierarchy);
// either may be "".
Status ReadCpuStats(const std::string& cpu_dir, const std::string& cpuacct_dir, CpuStats& out);

// cpuset: cpus, mems; and filling empty cpuset.cpus/mems from the parent on creation.
Status ApplyCpuset(const std::string& dir, const oci::CpuResources& cpu);
bool WantsCpuset(const oci::CpuResources& cpu);
// For each directory from `mount` down to `leaf`, copies the parent's cpuset.cpus/mems
// into it when empty: a v1 cpuset cgroup takes no tasks until both are set.
Status InitCpuset(const std::string& mount, const std::string& leaf);

// memory: limit and memsw in a kernel-accepted order, reservation, swappiness, OOM killer,
// kernelTCP. The kernel limit is refused.
Status ApplyMemory(const std::string& dir, const oci::MemoryResources& mem);
bool WantsMemory(const oci::MemoryResources& mem);
Status ReadMemoryStats(const std::string& dir, MemoryStats& out, uint64_t& oom_kills);
// eventfd registered on memory.oom_control through cgroup.event_control.
Result<UniqueFd> OomEventFd(const std::string& dir);

Status ApplyPids(const std::string& dir, const oci::PidsResources& pids);
Status ReadPidsStats(const std::string& dir, PidsStats& out);

Status ApplyBlkio(const std::string& dir, const oci::BlockIoResources& io);
bool WantsBlkio(const oci::BlockIoResources& io);
Status ReadBlkioStats(const std::string& dir, BlkioStats& out);
// "8:0 Read 4096" lines into entries (the "Total" line is skipped).
std::vector<BlkioEntry> ParseBlkioRecursive(std::string_view text);

// devices: the current kernel state (from devices.list) and the writes that turn it into
// the target with no moment where a device allowed before and after is denied.
struct DeviceState {
  bool default_allow = true;
  // (type, major, minor) -> access bits of the exceptions to the default.
  std::map<std::tuple<char, int64_t, int64_t>, uint8_t> exceptions;
};
DeviceState ParseDevicesList(std::string_view text);
// The state the kernel reaches from allow-all by writing `rules` in order. Fails for a
// type-`a` rule that is not a full reset, which v1 cannot express.
Result<DeviceState> EmulateV1(const std::vector<DevRule>& rules);
struct DeviceWrite {
  std::string file;  // "devices.allow" or "devices.deny"
  std::string line;  // "c 1:3 rwm"
};
std::vector<DeviceWrite> PlanDeviceWrites(const DeviceState& current, const DeviceState& target);
Status ApplyDevices(const std::string& dir, const std::vector<DevRule>& rules);

// freezer.state.
Status Freeze(const std::string& dir);
Status Thaw(const std::string& dir);
Result<FreezerState> GetFreezerState(const std::string& dir);

// hugetlb.<size>.limit_in_bytes.
Status ApplyHugetlb(const std::string& dir, const std::vector<oci::HugepageLimit>& limits);
Status ReadHugetlbStats(const std::string& dir, std::map<std::string, HugetlbStats>& out);

// net_cls.classid and net_prio.ifpriomap.
Status ApplyNetClassId(const std::string& dir, uint32_t class_id);
Status ApplyNetPriorities(const std::string& dir, const std::vector<oci::NetworkPriority>& prios);

}  // namespace berth::cgroup::v1
