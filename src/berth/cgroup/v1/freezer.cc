// berth/cgroup/v1: the freezer controller (freezer.state), waiting until the state settles.
#include <algorithm>
#include <chrono>
#include <thread>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup::v1 {

namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

// Writes `want` and polls until freezer.state reads it. A freeze can stall while a task is
// in an uninterruptible sleep; rewriting FROZEN now and then restarts the walk (runc does
// the same).
Status SetState(const std::string& dir, std::string_view want) {
  BERTH_TRY(WriteCgroupFile(dir, "freezer.state", want));
  auto deadline = std::chrono::steady_clock::now() + kTimeout;
  auto delay = std::chrono::microseconds(100);
  for (int i = 1;; ++i) {
    BERTH_ASSIGN_OR_RETURN(std::string state, ReadCgroupFile(dir, "freezer.state"));
    if (state == want) return Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(ErrorCode::kTimeout, StrCat(Quote(JoinPath(dir, "freezer.state")), " is still ",
                                              state, ", not ", want));
    }
    if (i % 50 == 0) BERTH_TRY(WriteCgroupFile(dir, "freezer.state", want));
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace

Status Freeze(const std::string& dir) {
  auto st = SetState(dir, "FROZEN");
  if (!st.has_value()) {
    // Do not leave the container half frozen.
    (void)SetState(dir, "THAWED");
    return Unexpected(std::move(st).error().Wrap("freeze"));
  }
  return Ok();
}

Status Thaw(const std::string& dir) {
  BERTH_TRY_CTX(SetState(dir, "THAWED"), "thaw");
  return Ok();
}

Result<FreezerState> GetFreezerState(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(std::string state, ReadCgroupFile(dir, "freezer.state"));
  if (state == "FROZEN") return FreezerState::kFrozen;
  if (state == "FREEZING") return FreezerState::kFreezing;
  return FreezerState::kThawed;
}

}  // namespace berth::cgroup::v1
