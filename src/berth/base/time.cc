#include "berth/base/time.h"

#include <time.h>

#include <cstdio>

#include "berth/base/strings.h"

namespace berth {

int64_t NowUnixNano() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

std::string Rfc3339Nano(int64_t unix_nano) {
  time_t secs = static_cast<time_t>(unix_nano / 1000000000);
  long nanos = static_cast<long>(unix_nano % 1000000000);
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
  struct tm tm;
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
  return buf;
}

Result<int64_t> ParseRfc3339(std::string_view text) {
  auto bad = [&] { return InvalidArgument(StrCat("invalid RFC 3339 time ", Quote(text))); };
  int y, mo, d, h, mi, s, n = 0;
  std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 ||
      n != 19) {
    return bad();
  }
  size_t i = 19;
  int64_t frac = 0;
  if (i < t.size() && t[i] == '.') {
    ++i;
    int digits = 0;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (digits < 9) {
        frac = frac * 10 + (t[i] - '0');
        ++digits;
      }
      ++i;
    }
    if (digits == 0) return bad();
    while (digits++ < 9) frac *= 10;
  }
  int64_t offset = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i + 6 == t.size() && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':') {
    int oh = (t[i + 1] - '0') * 10 + (t[i + 2] - '0');
    int om = (t[i + 4] - '0') * 10 + (t[i + 5] - '0');
    offset = (oh * 3600 + om * 60) * (t[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return bad();
  }
  if (i != t.size()) return bad();
  struct tm tm = {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  time_t secs = ::timegm(&tm);
  return (int64_t{secs} - offset) * 1000000000 + frac;
}

}  // namespace berth
