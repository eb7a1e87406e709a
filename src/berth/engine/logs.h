// berth/engine: container logs as berth-monitor writes them (CRI format, one record a line:
// "<RFC3339Nano UTC> <stdout|stderr> <F|P> <content>", P = the line continues in the next
// record of that stream), read back the way `docker logs` prints them, with rotation
// (log.N ... log.1, log) and follow.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::engine {

struct LogOptions {
  bool follow = false;
  std::optional<int64_t> tail;      // the last N lines only
  std::optional<int64_t> since_ns;  // unix ns; lines at or after
  std::optional<int64_t> until_ns;  // unix ns; lines at or before
  bool timestamps = false;          // prefix each line with its timestamp, as docker -t
};

// Prints the log at `log_path` (and its rotated files, up to `max_file` in total) to out_fd
// (stdout lines) and err_fd (stderr lines). With follow, keeps printing new lines until
// still_running() returns false and everything written has been printed. A missing log is
// an empty one.
Status ReadLogs(const std::string& log_path, int max_file, const LogOptions& options,
                const std::function<bool()>& still_running, int out_fd, int err_fd);

// One record of the log file (views into the line).
struct LogRecord {
  int64_t time_ns = 0;
  std::string_view timestamp;  // as written
  bool is_stderr = false;
  bool partial = false;
  std::string_view content;
};
Result<LogRecord> ParseLogRecord(std::string_view line);

// "2006-01-02T15:04:05.999999999Z" or with a "+07:00" offset; to unix nanoseconds.
Result<int64_t> ParseRfc3339Nano(std::string_view s);

// A --since/--until value as docker accepts it: a Go duration before now ("10m", "1h30m",
// "1.5h"), unix seconds with an optional fraction ("1700000000.5"), or an RFC3339 date/time
// ("2024-01-02", "2024-01-02T15:04", "2024-01-02T15:04:05.5Z", "...+02:00"; without a zone
// it is local time).
Result<int64_t> ParseLogTime(std::string_view value, int64_t now_ns);

}  // namespace berth::engine
