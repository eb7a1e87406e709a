// berth/sys: signal names and numbers as runc's CLI accepts them ("KILL", "SIGKILL", "9").
#pragma once

#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::sys {

Result<int> ParseSignal(std::string_view s);
// "SIGTERM"; "SIGRTMIN+3" for real-time signals; the number for unknown ones.
std::string SignalName(int sig);

}  // namespace berth::sys
