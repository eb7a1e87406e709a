// berth/base: wall-clock timestamps in the RFC 3339 form docker and the OCI specs use.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth {

// Nanoseconds since the Unix epoch (CLOCK_REALTIME).
int64_t NowUnixNano();
// "2026-11-29T13:45:01.123456789Z" (UTC, nanoseconds).
std::string Rfc3339Nano(int64_t unix_nano);
inline std::string NowRfc3339() { return Rfc3339Nano(NowUnixNano()); }
// Parses RFC 3339 with optional fraction and a Z or +hh:mm offset.
Result<int64_t> ParseRfc3339(std::string_view text);

}  // namespace berth
