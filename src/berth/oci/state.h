// berth/oci: the container state of the runtime-spec, as runc prints it for `state` and
// `list -f json` and as hooks receive it on stdin.
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::oci {

// Values of State::status.
inline constexpr std::string_view kStatusCreating = "creating";
inline constexpr std::string_view kStatusCreated = "created";
inline constexpr std::string_view kStatusRunning = "running";
inline constexpr std::string_view kStatusPaused = "paused";  // runc's addition to the spec
inline constexpr std::string_view kStatusStopped = "stopped";

struct State {
  std::string oci_version;
  std::string id;
  int pid = 0;  // 0 once stopped
  std::string status;
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339 in UTC with nanoseconds, as FormatCreated writes it
  std::string owner;    // `runc state` leaves it empty; `runc list` fills in the user name
  std::map<std::string, std::string> annotations;

  bool operator==(const State&) const = default;
};

// runc's member order: ociVersion, id, pid, status, bundle, rootfs, created, annotations (only
// when there are any), owner. The order needs OrderedJson; it converts to Json where order
// does not matter.
OrderedJson StateToJson(const State& state);
// Exactly what `runc state` prints: two-space indentation, Go's escaping, no final newline.
std::string StateToText(const State& state);
// Reads a state document (a hook's stdin, a saved state); `what` names it in errors.
Result<State> StateFromJson(const Json& j, std::string_view what);

// Go's time.RFC3339Nano in UTC, which drops trailing zeros of the fraction:
// "2024-05-01T10:00:00.12345Z", and no fraction at all when it is zero.
std::string FormatCreated(const struct timespec& ts);

}  // namespace berth::oci
