// berth/net: persistent network namespaces. A container's netns is created before the
// container (so its links can be set up first) and kept as a bind mount of the nsfs file
// at a path under RUNROOT/netns/, the way `ip netns add` does; the OCI spec names that path.
#pragma once

#include <functional>
#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::net {

// A new, empty network namespace (only `lo`, brought up) bind-mounted on `path` (a file
// created here; its directory must exist). Nothing is left behind on failure.
Status CreateNetns(const std::string& path);
// Unmounts (detached) and unlinks `path`; a missing path is fine.
Status RemoveNetns(const std::string& path);
Result<UniqueFd> OpenNetns(const std::string& path);
// Runs `fn` on a thread that joined the network namespace `netns_fd`: sockets it opens
// belong to that namespace (and stay there when used from other threads later). The calling
// thread's namespace is untouched. `fn` runs on a new, short-lived thread (~50 µs to start):
// no thread_locals of the caller, and threads it starts inherit the namespace.
Status InNetns(int netns_fd, const std::function<Status()>& fn);

}  // namespace berth::net
