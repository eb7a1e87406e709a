#include "berth/base/failpoint.h"

#include <cstdlib>

#include "berth/base/strings.h"

namespace berth {

Status Failpoint(std::string_view name) {
  static const char* armed = ::getenv("BERTH_FAILPOINT");
  if (armed == nullptr || name != armed) return Ok();
  return Fail(ErrorCode::kInternal, StrCat("failpoint ", Quote(name), " triggered"));
}

}  // namespace berth
