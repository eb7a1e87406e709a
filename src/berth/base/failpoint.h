// berth/base: named failure injection for tests. When the environment variable
// BERTH_FAILPOINT equals a point's name, that point fails as if its step had failed, so the
// integration tests can prove that every step rolls back what the earlier ones did.
#pragma once

#include <string_view>

#include "berth/base/error.h"

namespace berth {

Status Failpoint(std::string_view name);

}  // namespace berth
