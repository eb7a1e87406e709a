// berth/runtime: the container's process is exec'd through a sealed in-memory copy of the
// tiny berth-exec trampoline (trampoline/trampoline.c), so that /proc/self/exe of anything
// inside a container never names a writable host binary. See docs/architecture.md.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::runtime {

// A memfd holding the trampoline, sealed against writes, growth and shrinking.
Result<UniqueFd> SealedTrampoline();

struct FinalExec {
  std::string path;               // resolved program path inside the container
  std::vector<std::string> argv;  // process.args
  std::vector<std::string> env;
  int seccomp_filter_fd = -1;  // a memfd with the sock_filter array, loaded by the trampoline
  unsigned int seccomp_flags = 0;
  int listener_socket_fd = -1;  // where the trampoline sends a seccomp listener fd
  int start_fifo_fd = -1;  // O_PATH fd of the exec fifo: the trampoline waits for `start`
};

// execveat(trampoline_fd) with the argv protocol of berth-exec. Returns only on failure.
Error ExecThroughTrampoline(int trampoline_fd, const FinalExec& exec);

// The memfd a compiled seccomp filter is handed over in (read by the trampoline).
Result<UniqueFd> FilterMemfd(const void* data, size_t size);

}  // namespace berth::runtime
