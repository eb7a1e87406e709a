// berth/cgroup: where a container's cgroup lives in each hierarchy (linux.cgroupsPath
// rules) and which of the caller's cgroups a hierarchy's relative paths start from.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroup/manager.h"

namespace berth::cgroup {

// linux.cgroupsPath checks: no ".." component; not systemd's "slice:prefix:name" form
// (that needs a systemd cgroup manager, which berth does not offer).
Status ValidateCgroupsPath(std::string_view path);

// The container's cgroup as a path from the hierarchy's visible root ("/a/b"): an absolute
// cgroupsPath as is, a relative one under `own` (the caller's cgroup, already relative to
// the mount), an empty one as `own`/<container id>. Never the root itself.
Result<std::string> ContainerCgroup(const Config& config, std::string_view own);

// The caller's cgroup in the hierarchy holding `controllers` (v1 names, or {} for
// cgroup2), relative to the mount's root `mount_root`. "/" when the caller is not listed.
Result<std::string> OwnCgroupIn(const std::map<std::string, std::string>& own_cgroups,
                                const std::vector<std::string>& controllers,
                                std::string_view mount_root);

// Distinct v1 mount points of a layout, each with the controller names mounted there.
std::map<std::string, std::vector<std::string>> V1Hierarchies(const Layout& layout);

// The mount root recorded for `mount_point` ("/" if none).
std::string MountRoot(const Layout& layout, const std::string& mount_point);

// `dir` lies strictly below `mount_point` and has no "." or ".." component.
bool IsLeafUnder(const std::string& dir, const std::string& mount_point);

}  // namespace berth::cgroup
