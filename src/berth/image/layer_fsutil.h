// berth/image (internal): small filesystem helpers shared by layer unpack, pack and the
// copy snapshotter. Everything works on directory fds and names and never follows a
// symlink at the final component.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::image::internal {

using Xattrs = std::vector<std::pair<std::string, std::string>>;

// The xattrs a layer may carry: user.*, trusted.* (but never trusted.overlay.*, which would
// let a layer forge overlayfs metadata), security.capability and POSIX ACLs.
bool LayerXattrAllowed(std::string_view name);

// All xattrs of the object behind `fd` (any fd, O_PATH included), sorted by name.
Result<Xattrs> ReadXattrs(int fd, std::string_view shown);
// One xattr; "" with *found=false when absent.
Result<std::string> GetXattr(int fd, const char* name, bool* found);
Status SetXattr(int fd, const std::string& name, std::string_view value, std::string_view shown);

// rm -rf of `name` under `dirfd`, not following symlinks. With `same_dev` set, refuses to
// descend into a directory on another filesystem (a mount point).
Status RemoveTreeAt(int dirfd, const std::string& name, std::string_view shown,
                    const dev_t* same_dev = nullptr);
// Removes every entry of the directory `dirfd` (an fd opened O_RDONLY|O_DIRECTORY).
Status EmptyDir(int dirfd, std::string_view shown, const dev_t* same_dev = nullptr);

// Sorted names of a directory's entries (without "." and ".."); `dirfd` is not consumed.
Result<std::vector<std::string>> ListDir(int dirfd, std::string_view shown);

// openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC).
Result<UniqueFd> OpenAtNoFollow(int dirfd, const std::string& name, int flags,
                                std::string_view shown, mode_t mode = 0);

}  // namespace berth::image::internal
