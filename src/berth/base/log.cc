#include "berth/base/log.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::log {
namespace {

struct State {
  Level level = Level::kWarn;
  Format format = Format::kText;
  int fd = -1;  // -1: stderr only
  std::string program = "berth";
};

State& GetState() {
  static State s;
  return s;
}

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

std::string Timestamp() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  ::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

}  // namespace

void Configure(Level level, Format format, int fd) {
  State& s = GetState();
  if (s.fd >= 0) ::close(s.fd);
  s.level = level;
  s.format = format;
  s.fd = fd;
}

void SetProgramName(std::string_view name) { GetState().program = std::string(name); }

bool Enabled(Level level) { return level >= GetState().level; }

void Write(Level level, std::string_view message) {
  State& s = GetState();
  if (s.fd >= 0 && level >= s.level) {
    std::string line;
    if (s.format == Format::kJson) {
      line = StrCat("{\"level\":\"", LevelName(level), "\",\"msg\":\"", JsonEscape(message),
                    "\",\"time\":\"", Timestamp(), "\"}\n");
    } else {
      line = StrCat("time=\"", Timestamp(), "\" level=", LevelName(level), " msg=\"",
                    JsonEscape(message), "\"\n");
    }
    (void)WriteAll(s.fd, line, "log");
  }
  // Stderr gets plain lines: errors and warnings always, the rest when asked for and no
  // log file takes them.
  if (level >= Level::kWarn || (s.fd < 0 && level >= s.level)) {
    std::string line = StrCat(s.program, ": ");
    if (level == Level::kWarn) line += "warning: ";
    if (level <= Level::kInfo) line += StrCat(LevelName(level), ": ");
    line.append(message);
    line.push_back('\n');
    (void)WriteAll(STDERR_FILENO, line, "stderr");
  }
}

}  // namespace berth::log

namespace berth::log {

void Trace(std::string_view name) {
  // BERTH_TRACE=1: timestamps on stderr; BERTH_TRACE=/path: appended to that file, which also
  // collects the lines of children whose stderr is the container's.
  static const int fd = [] {
    const char* v = ::getenv("BERTH_TRACE");
    if (v == nullptr || v[0] == '\0' || v[0] == '0') return -1;
    if (v[0] != '/') return static_cast<int>(STDERR_FILENO);
    return ::open(v, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  }();
  if (fd < 0) return;
  struct timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  char buf[160];
  int n = ::snprintf(buf, sizeof buf, "berth-trace %d %.3f %.*s\n", static_cast<int>(::getpid()),
                     static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6,
                     static_cast<int>(name.size()), name.data());
  if (n > 0) (void)!::write(fd, buf, static_cast<size_t>(n));
}

}  // namespace berth::log
