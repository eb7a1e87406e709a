// berth/base: process-wide logging to stderr or a log file, as text or in runc's JSON
// line format ({"level":"error","msg":"...","time":"..."}), which podman and containerd read.
#pragma once

#include <string_view>

namespace berth::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError };
enum class Format { kText, kJson };

// `fd` is taken over (closed on reconfigure); -1 means stderr. The fd must be O_CLOEXEC so it
// never leaks into a container.
void Configure(Level level, Format format, int fd);
// When a log file is configured, errors and warnings are also printed to stderr as plain
// "prog: message" lines (the user sees them, the caller's log parser gets JSON).
void SetProgramName(std::string_view name);

bool Enabled(Level level);
void Write(Level level, std::string_view message);

inline void Debug(std::string_view m) { if (Enabled(Level::kDebug)) Write(Level::kDebug, m); }
inline void Info(std::string_view m) { if (Enabled(Level::kInfo)) Write(Level::kInfo, m); }
inline void Warn(std::string_view m) { Write(Level::kWarn, m); }
inline void Error(std::string_view m) { Write(Level::kError, m); }

}  // namespace berth::log

namespace berth::log {

// Timing trace points for profiling the start path: with BERTH_TRACE=1 in the environment,
// prints "berth-trace PID MONOTONIC_MS NAME" to stderr. Costs one cached getenv otherwise.
void Trace(std::string_view name);

}  // namespace berth::log
