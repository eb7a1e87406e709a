// berth/runtime: the container's terminal. The pty is allocated inside the container (from
// its own devpts instance) and the master is handed out: to the --console-socket (as runc
// does, for conmon/containerd) or to the runtime itself, which relays it to its own
// terminal for `run -t` / `exec -t` in the foreground.
#pragma once

#include <sys/types.h>

#include <optional>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

struct Pty {
  UniqueFd master;
  UniqueFd slave;
};

// Opens /dev/ptmx of the current mount namespace and the matching slave (TIOCGPTPEER, so no
// path lookup of /dev/pts/N can be raced).
Result<Pty> OpenPty(const std::optional<oci::ConsoleSize>& size);

// Makes `slave` the controlling terminal of a new session and stdin/stdout/stderr.
Status AttachTerminal(int slave, uid_t owner);

// Bind-mounts the pty slave over /dev/console of the current root (after pivot_root), as
// runc does, so programs that write to the console reach the terminal.
Status MountConsole(int slave);

// Connects to the unix socket at `path` (done by the parent, before entering the container).
Result<UniqueFd> ConnectConsoleSocket(const std::string& path);

// Sends the master over a connected unix socket with SCM_RIGHTS.
Status SendConsoleFd(int socket_fd, int master_fd);

}  // namespace berth::runtime
