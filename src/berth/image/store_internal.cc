#include "berth/image/store_internal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/random.h>

#include <cstdio>
#include <ctime>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::image::internal {

Result<StoreLock> StoreLock::Shared(const std::string& root) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(root + "/image.lock", O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), LOCK_SH) != 0) {
    if (errno != EINTR) return ErrnoFail(StrCat("lock ", Quote(root + "/image.lock"), " shared"));
  }
  return StoreLock(std::move(fd));
}

Result<StoreLock> StoreLock::Exclusive(const std::string& root) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(root + "/image.lock", O_RDWR | O_CREAT, 0600));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR)
      return ErrnoFail(StrCat("lock ", Quote(root + "/image.lock"), " exclusive"));
  }
  return StoreLock(std::move(fd));
}

std::string NowRfc3339() {
  time_t now = ::time(nullptr);
  struct tm tm;
  ::gmtime_r(&now, &tm);
  char buf[32];
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string RandomHex() {
  unsigned char b[8] = {};
  // getrandom of 8 bytes never blocks after boot and is not interrupted (<= 256 bytes).
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) {
    struct timespec ts;
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t v = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(::getpid()) << 32);
    for (int i = 0; i < 8; ++i) b[i] = static_cast<unsigned char>(v >> (8 * i));
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out.push_back(hex[c >> 4]);
    out.push_back(hex[c & 15]);
  }
  return out;
}

}  // namespace berth::image::internal
