// berth/sys: resolving paths inside a container's rootfs without leaving it.
//
// Every path berth opens inside a rootfs goes through OpenInRoot: ".." stops at the root and
// symlinks (absolute or relative) are resolved as if the root were "/". With openat2 this
// is RESOLVE_IN_ROOT; on kernels without it a component-by-component walk does the same
// (tests force the fallback with SetOpenat2Enabled(false)).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::sys {

// Opens `path` (leading '/' optional) under `root_fd`. `flags` are open(2) flags; O_CLOEXEC
// is always added. O_CREAT creates the last component (never through a dangling symlink).
Result<UniqueFd> OpenInRoot(int root_fd, std::string_view path, int flags, mode_t mode = 0);

// mkdir -p inside the root; returns an O_PATH fd of the final directory. A component that
// exists and is not a directory is an error naming it.
Result<UniqueFd> MkdirAllInRoot(int root_fd, std::string_view path, mode_t mode = 0755);

// Makes sure `path` exists as a regular file (creating parents) and returns an O_PATH fd.
Result<UniqueFd> EnsureFileInRoot(int root_fd, std::string_view path, mode_t mode = 0644);

// "/proc/self/fd/N": a path that names exactly the object behind fd, for syscalls that take
// paths (mount(2), chmod). Valid only while the host's /proc is reachable.
std::string FdPath(int fd);

// Test hook: disables openat2 so the fallback walk runs.
void SetOpenat2Enabled(bool enabled);

}  // namespace berth::sys
