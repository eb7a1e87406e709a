// berth/runtime: the message channel between the runtime and the container's init while the
// container is being set up (a SOCK_SEQPACKET socketpair: one message per send, fds attached
// with SCM_RIGHTS). Errors raised in the child travel as Error::Encode() payloads, so the
// parent reports the child's failure with its errno and context intact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::runtime {

enum class SyncType : uint8_t {
  kGo = 1,           // parent -> child: id maps written; set up (payload: the child's pid)
  kCgroupReady,      // parent -> child: the child is in its cgroup (needed before cgroup
                     // mounts, a new cgroup namespace, and the exec)
  kRunHooks,         // child -> parent: run prestart/createRuntime hooks now (before pivot)
  kHooksDone,        // parent -> child
  kReady,            // child -> parent: set up, waiting to start; payload: pid of the init
  kCommitted,        // parent -> child: state.json written; the parent may exit from now on
  kAck,              // child -> parent
  kStart,            // parent -> child (`run`): exec now
  kError,            // child -> parent: payload is an encoded Error
  kFd,               // child -> parent: an fd attached (pty master, seccomp listener)
};

struct SyncMessage {
  SyncType type = SyncType::kError;
  std::string payload;
  std::vector<UniqueFd> fds;
};

class SyncSocket {
 public:
  SyncSocket() = default;
  explicit SyncSocket(UniqueFd fd) : fd_(std::move(fd)) {}

  // A connected pair: [0] for the parent, [1] for the child. Both close-on-exec.
  static Result<std::pair<SyncSocket, SyncSocket>> Pair();

  Status Send(SyncType type, std::string_view payload = {}, const std::vector<int>& fds = {});
  // Blocks for the next message; EOF (the peer exited) is an error with code kFailedPrecondition.
  Result<SyncMessage> Recv();
  // Receives and checks the type; a kError message becomes this call's error.
  Result<SyncMessage> Expect(SyncType type);

  Status SendError(const Error& e) { return Send(SyncType::kError, e.Encode()); }

  int fd() const { return fd_.get(); }
  void Close() { fd_.Reset(); }

 private:
  UniqueFd fd_;
};

}  // namespace berth::runtime
