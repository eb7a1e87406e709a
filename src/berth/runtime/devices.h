// berth/runtime: device nodes in the container's /dev: the defaults every container gets
// (null, zero, full, random, urandom, tty), linux.devices, and the /dev symlinks (fd,
// stdin/stdout/stderr, ptmx -> pts/ptmx, core). Nodes are made with mknod, or bind-mounted
// from the host where mknod is not allowed (inside a user namespace).
#pragma once

#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

// The default devices, as config entries (mode 0666, root-owned).
std::vector<oci::Device> DefaultDevices();

// The cgroup device rules every container gets after the config's own: mknod of any device,
// and rwm on the default devices and on ptys. linux.devices entries get nothing implicitly.
std::vector<oci::DeviceRule> DeviceRulesForNodes(const std::vector<oci::Device>& devices);

// `create_nodes`: false when /dev is a bind mount of the host's (nodes already there).
Status CreateDevices(int root_fd, const std::vector<oci::Device>& config_devices,
                     bool create_nodes, bool in_user_ns);

// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx.
Status CreateDevSymlinks(int root_fd);

}  // namespace berth::runtime
