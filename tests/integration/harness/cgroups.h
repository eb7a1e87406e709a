// Integration-test harness: where a process's cgroups are on the host, so tests can check
// limits in the files the kernel enforces (not in what the runtime says it wrote).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace berth::itest {

struct CgroupHierarchy {
  std::string mount_point;               // /sys/fs/cgroup/memory
  std::vector<std::string> controllers;  // {"memory"}, {"name=systemd"}; empty for cgroup2
  bool v2 = false;
};

// The host's cgroup hierarchies (from the test process's mountinfo).
std::vector<CgroupHierarchy> CgroupHierarchies();

// Whether `controller` is served by the cgroup2 hierarchy here (no v1 hierarchy has it and
// the cgroup2 root offers it). "" (the unified hierarchy itself) is v2.
bool ControllerIsV2(const std::string& controller);

// Host directory of `pid`'s cgroup in the hierarchy of `controller` ("memory", "pids", ...;
// "" for the cgroup2 hierarchy). Empty if not found. pid 0 means the test process.
std::string HostCgroupDir(pid_t pid, const std::string& controller);
// The cgroup path of `pid` (as in /proc/PID/cgroup) for `controller`.
std::string CgroupPathOf(pid_t pid, const std::string& controller);

// Contents of FILE in `pid`'s cgroup for `controller`, trimmed; "" if unreadable.
std::string ReadCgroupFile(pid_t pid, const std::string& controller, const std::string& file);

}  // namespace berth::itest
