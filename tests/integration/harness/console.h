// Integration-test harness: the test side of `--console-socket`.
//
// The runtime connects to a unix socket we listen on and sends the pty master of a
// terminal:true container with SCM_RIGHTS; the test then reads the container's output from
// the master and writes its input.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::itest {

class ConsoleSocket {
 public:
  static Result<ConsoleSocket> Listen(const std::string& path);

  const std::string& path() const { return path_; }
  // Accepts one connection and receives one fd (the pty master).
  Result<UniqueFd> ReceiveMaster(std::chrono::milliseconds timeout);

 private:
  std::string path_;
  UniqueFd listener_;
};

// Reads from `fd` until `done(text so far)` or EOF/EIO or `timeout`; returns the text.
std::string ReadUntil(int fd, const std::function<bool(const std::string&)>& done,
                      std::chrono::milliseconds timeout);

}  // namespace berth::itest
