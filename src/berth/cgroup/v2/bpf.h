// berth/cgroup/v2: the device filter of cgroup v2, a BPF_PROG_TYPE_CGROUP_DEVICE program
// written as raw eBPF instructions (no libbpf), loaded with bpf(BPF_PROG_LOAD) and attached
// to the container's cgroup. See device_rules.h for the rule semantics it implements.
#pragma once

#include <linux/bpf.h>

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/cgroup/device_rules.h"

namespace berth::cgroup::v2 {

// The program for `rules` (after EffectivePolicy).
std::vector<bpf_insn> BuildDeviceProgram(const DevicePolicy& policy);

// bpf(BPF_PROG_LOAD); on rejection the error carries the verifier's log.
Result<UniqueFd> LoadDeviceProgram(const std::vector<bpf_insn>& insns);

// Attaches `prog_fd` to the cgroup `cgroup_fd` (BPF_F_ALLOW_MULTI), then detaches every
// device program that was attached there before, so the old and new filters overlap (both
// must allow) rather than leave a moment with no filter.
Status ReplaceDeviceProgram(int cgroup_fd, int prog_fd);

// IDs of the device programs attached directly to the cgroup.
Result<std::vector<uint32_t>> QueryDevicePrograms(int cgroup_fd);

// Builds, loads and attaches the filter for `rules` on the cgroup directory `dir`.
Status ApplyDevices(const std::string& dir, const std::vector<DevRule>& rules);

}  // namespace berth::cgroup::v2
