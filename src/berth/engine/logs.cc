#include "berth/engine/logs.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <deque>
#include <vector>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"

namespace berth::engine {

namespace {

constexpr int64_t kSecond = 1'000'000'000;

// ---- time parsing ----

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

// Up to 9 digits of a fraction (more are accepted and dropped), as nanoseconds.
int64_t Fraction(std::string_view s, size_t& pos) {
  int64_t ns = 0;
  int n = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (n < 9) ns = ns * 10 + (s[pos] - '0'), n++;
    pos++;
  }
  for (; n < 9; n++) ns *= 10;
  return ns;
}

struct DateTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t nanos = 0;
  bool has_seconds = false;
  std::optional<int> offset_sec;  // nullopt: no zone given
};

// YYYY-MM-DD[THH[:MM[:SS[.frac]]]][Z|+HH:MM|-HH:MM]
std::optional<DateTime> ParseDateTime(std::string_view s) {
  DateTime t;
  size_t pos = 0;
  if (!Digits(s, pos, 4, t.year) || pos >= s.size() || s[pos++] != '-' ||
      !Digits(s, pos, 2, t.month) || pos >= s.size() || s[pos++] != '-' ||
      !Digits(s, pos, 2, t.day)) {
    return {};
  }
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == 't')) {
    pos++;
    if (!Digits(s, pos, 2, t.hour)) return {};
    if (pos < s.size() && s[pos] == ':') {
      pos++;
      if (!Digits(s, pos, 2, t.minute)) return {};
      if (pos < s.size() && s[pos] == ':') {
        pos++;
        if (!Digits(s, pos, 2, t.second)) return {};
        t.has_seconds = true;
        if (pos < s.size() && s[pos] == '.') {
          pos++;
          t.nanos = Fraction(s, pos);
        }
      }
    }
  }
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    t.offset_sec = 0;
    pos++;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos++] == '-' ? -1 : 1, oh = 0, om = 0;
    if (!Digits(s, pos, 2, oh) || pos >= s.size() || s[pos++] != ':' || !Digits(s, pos, 2, om)) {
      return {};
    }
    t.offset_sec = sign * (oh * 3600 + om * 60);
  }
  if (pos != s.size() || t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 ||
      t.hour > 23 || t.minute > 59 || t.second > 60) {
    return {};
  }
  return t;
}

int64_t ToUnixNanos(const DateTime& t) {
  if (t.offset_sec) {
    int64_t secs = DaysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 +
                   t.minute * 60 + t.second - *t.offset_sec;
    return secs * kSecond + t.nanos;
  }
  std::tm tm = {};
  tm.tm_year = t.year - 1900;
  tm.tm_mon = t.month - 1;
  tm.tm_mday = t.day;
  tm.tm_hour = t.hour;
  tm.tm_min = t.minute;
  tm.tm_sec = t.second;
  tm.tm_isdst = -1;  // local time, as docker reads zone-less values
  return static_cast<int64_t>(mktime(&tm)) * kSecond + t.nanos;
}

// A Go duration ("300ms", "-1.5h", "2h45m"); nullopt if `s` is not one.
std::optional<int64_t> ParseGoDuration(std::string_view s) {
  size_t pos = 0;
  int sign = 1;
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) sign = s[pos++] == '-' ? -1 : 1;
  if (pos == s.size()) return {};
  int64_t total = 0;
  while (pos < s.size()) {
    int64_t whole = 0;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') whole = whole * 10 + (s[pos++] - '0');
    int64_t frac_num = 0, frac_den = 1;
    if (pos < s.size() && s[pos] == '.') {
      pos++;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        if (frac_den < kSecond) frac_num = frac_num * 10 + (s[pos] - '0'), frac_den *= 10;
        pos++;
      }
    }
    if (pos == start || (pos == start + 1 && s[start] == '.')) return {};
    static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
        {"ns", 1}, {"us", 1000}, {"\u00b5s", 1000}, {"\u03bcs", 1000}, {"ms", 1'000'000},
        {"s", kSecond}, {"m", 60 * kSecond}, {"h", 3600 * kSecond}};
    int64_t unit = 0;
    for (const auto& [name, value] : kUnits) {
      if (s.substr(pos).starts_with(name) &&
          !(name == "m" && s.substr(pos).starts_with("ms"))) {
        unit = value;
        pos += name.size();
        break;
      }
    }
    if (unit == 0) return {};
    total += whole * unit + frac_num * unit / frac_den;
  }
  return sign * total;
}

// ---- reading ----

struct LogMessage {
  int64_t time_ns = 0;
  std::string timestamp;
  bool is_stderr = false;
  std::string content;
  bool newline = true;
};

// Joins P records into messages, filters them and prints them (or keeps the last N for
// --tail while the history is read).
class Printer {
 public:
  Printer(const LogOptions& o, int out_fd, int err_fd) : o_(o), fds_{out_fd, err_fd} {
    buffering_ = o.tail.has_value() && *o.tail >= 0;
  }

  Status Feed(const LogRecord& r) {
    LogMessage& m = pending_[r.is_stderr];
    if (!active_[r.is_stderr]) {
      m.time_ns = r.time_ns;
      m.timestamp.assign(r.timestamp);
      m.is_stderr = r.is_stderr;
      m.content.clear();
      active_[r.is_stderr] = true;
    }
    m.content.append(r.content);
    if (r.partial) return Ok();
    active_[r.is_stderr] = false;
    m.newline = true;
    return Emit(m);
  }

  // The stream ended: a message still in pieces is printed as it is, without a newline.
  Status FlushPartials() {
    for (int s = 0; s < 2; s++) {
      if (!active_[s]) continue;
      active_[s] = false;
      pending_[s].newline = false;
      BERTH_TRY(Emit(pending_[s]));
    }
    return Ok();
  }

  // The history is read: print what --tail kept, and print directly from now on.
  Status EndHistory() {
    buffering_ = false;
    for (const auto& m : tail_) BERTH_TRY(Print(m));
    tail_.clear();
    return Ok();
  }

  bool past_until() const { return past_until_; }

 private:
  Status Emit(const LogMessage& m) {
    if (o_.since_ns && m.time_ns < *o_.since_ns) return Ok();
    if (o_.until_ns && m.time_ns > *o_.until_ns) {
      past_until_ = true;
      return Ok();
    }
    if (!buffering_) return Print(m);
    if (*o_.tail == 0) return Ok();
    tail_.push_back(m);
    if (static_cast<int64_t>(tail_.size()) > *o_.tail) tail_.pop_front();
    return Ok();
  }

  Status Print(const LogMessage& m) {
    std::string line;
    if (o_.timestamps) line = StrCat(m.timestamp, " ");
    line += m.content;
    if (m.newline) line.push_back('\n');
    return WriteAll(fds_[m.is_stderr], line, m.is_stderr ? "stderr" : "stdout");
  }

  const LogOptions& o_;
  int fds_[2];
  LogMessage pending_[2];
  bool active_[2] = {false, false};
  bool buffering_ = false;
  bool past_until_ = false;
  std::deque<LogMessage> tail_;
};

// Reads one log file incrementally, record by record.
class FileReader {
 public:
  FileReader() = default;
  FileReader(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {
    struct stat st;
    if (fstat(fd_.get(), &st) == 0) ino_ = st.st_ino;
  }
  bool valid() const { return fd_.valid(); }
  ino_t ino() const { return ino_; }
  off_t offset() const { return offset_; }

  // Feeds every complete record available now; returns whether anything was read.
  Result<bool> ReadAvailable(Printer& printer) {
    bool any = false;
    char chunk[65536];
    for (;;) {
      ssize_t n = read(fd_.get(), chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoFail(StrCat("read ", Quote(path_)));
      if (n == 0) return any;
      any = true;
      offset_ += n;
      buf_.append(chunk, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = buf_.find('\n', start)) != std::string::npos; start = nl + 1) {
        auto rec = ParseLogRecord(std::string_view(buf_).substr(start, nl - start));
        if (rec) BERTH_TRY(printer.Feed(*rec));  // a damaged line is skipped
      }
      buf_.erase(0, start);
    }
  }

  // The file is complete (rotated away, or its writer is gone): a last line without its
  // newline (a torn write) is read as well.
  Status Finish(Printer& printer) {
    if (buf_.empty()) return Ok();
    auto rec = ParseLogRecord(buf_);
    Status st = rec ? printer.Feed(*rec) : Ok();  // before clear: rec views buf_
    buf_.clear();
    return st;
  }

  // The file was truncated in place (rotation with a single file): start over.
  void Rewind() {
    lseek(fd_.get(), 0, SEEK_SET);
    offset_ = 0;
    buf_.clear();
  }

 private:
  UniqueFd fd_;
  std::string path_;
  ino_t ino_ = 0;
  off_t offset_ = 0;
  std::string buf_;
};

Result<FileReader> OpenLog(const std::string& path) {
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd) {
    if (fd.error().sys_errno() == ENOENT) return FileReader();
    return Unexpected(std::move(fd).error().Wrap("read logs"));
  }
  return FileReader(std::move(*fd), path);
}

// Follows `path` across rotations; true if it read anything.
Result<bool> Advance(const std::string& path, FileReader& cur, Printer& printer) {
  bool any = false;
  for (;;) {
    if (cur.valid()) {
      BERTH_ASSIGN_OR_RETURN(bool got, cur.ReadAvailable(printer));
      any |= got;
    }
    struct stat st;
    if (stat(path.c_str(), &st) < 0) return any;  // between rename and re-creation
    if (cur.valid() && st.st_ino == cur.ino()) {
      if (st.st_size >= cur.offset()) return any;
      cur.Rewind();
      continue;
    }
    // Rotated (or created): what we hold is fully read; go on with the new file.
    if (cur.valid()) BERTH_TRY(cur.Finish(printer));
    BERTH_ASSIGN_OR_RETURN(cur, OpenLog(path));
    if (!cur.valid()) return any;
  }
}

}  // namespace

Result<LogRecord> ParseLogRecord(std::string_view line) {
  LogRecord r;
  size_t a = line.find(' ');
  size_t b = a == std::string_view::npos ? a : line.find(' ', a + 1);
  if (b == std::string_view::npos || b + 2 > line.size() ||
      (b + 2 < line.size() && line[b + 2] != ' ')) {
    return InvalidArgument("log record: expected `TIME STREAM TAG CONTENT`");
  }
  r.timestamp = line.substr(0, a);
  std::string_view stream = line.substr(a + 1, b - a - 1);
  if (stream == "stderr") {
    r.is_stderr = true;
  } else if (stream != "stdout") {
    return InvalidArgument(StrCat("log record: unknown stream ", Quote(stream)));
  }
  char tag = line[b + 1];
  if (tag != 'F' && tag != 'P') return InvalidArgument("log record: tag must be F or P");
  r.partial = tag == 'P';
  r.content = b + 3 <= line.size() ? line.substr(b + 3) : std::string_view();
  BERTH_ASSIGN_OR_RETURN(r.time_ns, ParseRfc3339Nano(r.timestamp));
  return r;
}

Result<int64_t> ParseRfc3339Nano(std::string_view s) {
  auto t = ParseDateTime(s);
  if (!t || !t->has_seconds || !t->offset_sec) {
    return InvalidArgument(StrCat("invalid RFC3339 timestamp ", Quote(s)));
  }
  return ToUnixNanos(*t);
}

Result<int64_t> ParseLogTime(std::string_view value, int64_t now_ns) {
  if (value != "0") {
    if (auto d = ParseGoDuration(value)) return now_ns - *d;
  }
  size_t dot = value.find('.');
  bool unix_like = !value.empty() && value.find_first_not_of("0123456789.") == std::string_view::npos &&
                   dot == value.rfind('.') && dot != 0;
  if (unix_like) {
    BERTH_ASSIGN_OR_RETURN(int64_t secs, ParseInt64(value.substr(0, dot), "timestamp"));
    int64_t nanos = 0;
    if (dot != std::string_view::npos) {
      size_t pos = dot + 1;
      nanos = Fraction(value, pos);
    }
    return secs * kSecond + nanos;
  }
  if (auto t = ParseDateTime(value)) return ToUnixNanos(*t);
  return InvalidArgument(StrCat("invalid time ", Quote(value),
                                ": want a duration (10m), unix seconds or an RFC3339 time"));
}

Status ReadLogs(const std::string& log_path, int max_file, const LogOptions& options,
                const std::function<bool()>& still_running, int out_fd, int err_fd) {
  Printer printer(options, out_fd, err_fd);
  // Rotated files, oldest first. The current file is opened first so that a rotation while
  // we read repeats a file rather than skipping one.
  BERTH_ASSIGN_OR_RETURN(FileReader cur, OpenLog(log_path));
  for (int i = max_file - 1; i >= 1; i--) {
    BERTH_ASSIGN_OR_RETURN(FileReader old, OpenLog(StrCat(log_path, ".", i)));
    if (old.valid()) {
      BERTH_TRY(old.ReadAvailable(printer));
      BERTH_TRY(old.Finish(printer));
    }
  }
  if (cur.valid()) {
    BERTH_TRY(cur.ReadAvailable(printer));
    if (!options.follow) BERTH_TRY(cur.Finish(printer));
  }
  BERTH_TRY(printer.EndHistory());
  if (!options.follow || printer.past_until()) return printer.FlushPartials();

  // inotify on the directory wakes us for writes, rotation and creation; the timeout is
  // only for noticing that the container stopped.
  std::string dir = log_path.substr(0, log_path.rfind('/') == std::string::npos
                                           ? 0
                                           : log_path.rfind('/'));
  UniqueFd inotify(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  if (inotify) {
    inotify_add_watch(inotify.get(), dir.empty() ? "." : dir.c_str(),
                      IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE);
  }
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(bool got, Advance(log_path, cur, printer));
    if (printer.past_until()) break;
    if (got) continue;
    if (!still_running()) {
      // Whatever the monitor wrote before it finished is on disk now.
      BERTH_TRY(Advance(log_path, cur, printer));
      if (cur.valid()) BERTH_TRY(cur.Finish(printer));
      break;
    }
    pollfd p = {inotify.get(), POLLIN, 0};
    if (poll(&p, inotify ? 1 : 0, 250) > 0) {
      char events[4096];
      while (read(inotify.get(), events, sizeof events) > 0) {
      }
    }
  }
  return printer.FlushPartials();
}

}  // namespace berth::engine
