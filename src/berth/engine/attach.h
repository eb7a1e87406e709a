// berth/engine: the client side of a monitor's attach socket (monitor/monitor_protocol.h):
// relays the local terminal or stdio to a running container and returns its exit code once
// the monitor's exit command (cleanup) has finished.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::engine {

// Connects to RUN_DIR/attach (works for run directories longer than a sun_path too).
// kNotFound when nothing listens there: the container is not running (read the exit file).
Result<UniqueFd> ConnectAttach(const std::string& run_dir);

// Sends one protocol message (type byte + payload), blocking.
Status SendAttachMessage(int sock, char type, std::string_view payload = {});

struct AttachOptions {
  bool attach_stdin = false;  // relay in_fd to the container (-i)
  bool tty = false;           // the container has a pty: raw mode, window size, detach keys
  int in_fd = 0;
  int out_fd = 1;
  int err_fd = 2;
  // docker's --detach-keys syntax ("ctrl-p,ctrl-q", "ctrl-a,x"); empty disables. Active only
  // with tty and attach_stdin, as in docker.
  std::string detach_keys = "ctrl-p,ctrl-q";
  bool* detached = nullptr;  // set to true when the user detached (the result is then nullopt)
};

// Relays until the monitor closes the connection (its exit command finished) or the user
// detaches. With a tty and in_fd a terminal, in_fd is in raw mode meanwhile (restored on
// every path) and SIGWINCH is forwarded as RESIZE, the current size first. Without a tty,
// EOF on in_fd sends CLOSE_STDIN. Returns the exit code from the EXIT message, or nullopt if
// the connection closed without one (read the exit file then) or the user detached.
Result<std::optional<int>> RelayAttach(int sock, const AttachOptions& options);
// Reads the monitor's messages, discarding output, until its exit message: the container's
// exit code, or nullopt if the monitor went away without one.
std::optional<int> AwaitExitMessage(int sock);

// "ctrl-p,ctrl-q" -> {0x10, 0x11}.
Result<std::vector<char>> ParseDetachKeys(std::string_view keys);

}  // namespace berth::engine
