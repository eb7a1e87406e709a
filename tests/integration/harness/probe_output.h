// Integration-test harness: reading what the probe printed.
//
// The probe prints one JSON object per line; a container's stdout may also carry other
// lines (a shell's, a runtime warning) and, through a pty, "\r\n" line ends. These helpers
// pick out the probe's objects.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/json.h"

namespace berth::itest {

// Every line of `out` that parses as a JSON object, in order.
std::vector<Json> ProbeLines(std::string_view out);
// The last object whose "cmd" is `cmd`; an empty object if there is none.
Json ProbeLine(std::string_view out, std::string_view cmd);
// All objects whose "cmd" is `cmd`.
std::vector<Json> ProbeLinesFor(std::string_view out, std::string_view cmd);

// From a `report`: the last mount entry at `mount_point` (the one on top), or null.
Json MountAt(const Json& report, std::string_view mount_point);
// From a `report`: the open fd numbers.
std::vector<int> FdNumbers(const Json& report);
// "rw,nosuid,nodev" contains "nosuid".
bool HasOption(const std::string& options, std::string_view option);
// From a `report`: whether env contains exactly `kv`.
bool HasEnv(const Json& report, std::string_view kv);

}  // namespace berth::itest
