// berth/cgroup/v2: the cgroup2 freezer (cgroup.freeze; cgroup.events says when it holds).
#include <algorithm>
#include <chrono>
#include <thread>

#include "berth/base/strings.h"
#include "berth/cgroup/fs.h"
#include "berth/cgroup/v2/v2.h"

namespace berth::cgroup::v2 {

namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

Status SetFrozen(const std::string& dir, bool frozen) {
  if (!HasFile(dir, "cgroup.freeze")) {
    return Unexpected(NotSupported(
        "freezer", StrCat("no `cgroup.freeze` in ", Quote(dir), " (kernel before 5.2)")));
  }
  BERTH_TRY(WriteCgroupFile(dir, "cgroup.freeze", frozen ? "1" : "0"));
  // cgroup.events' "frozen" flips once every task has stopped (or resumed).
  auto deadline = std::chrono::steady_clock::now() + kTimeout;
  auto delay = std::chrono::microseconds(100);
  while (true) {
    BERTH_ASSIGN_OR_RETURN(auto ev, ReadFlatKeyed(dir, "cgroup.events"));
    if ((ev["frozen"] == 1) == frozen) return Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(ErrorCode::kTimeout, StrCat(Quote(JoinPath(dir, "cgroup.events")),
                                              " did not reach `frozen ", frozen ? 1 : 0, "`"));
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace

Status Freeze(const std::string& dir) {
  auto st = SetFrozen(dir, true);
  if (!st.has_value()) {
    // Do not leave the container half frozen.
    (void)SetFrozen(dir, false);
    return Unexpected(std::move(st).error().Wrap("freeze"));
  }
  return Ok();
}

Status Thaw(const std::string& dir) {
  BERTH_TRY_CTX(SetFrozen(dir, false), "thaw");
  return Ok();
}

Result<FreezerState> GetFreezerState(const std::string& dir) {
  if (!HasFile(dir, "cgroup.freeze")) return FreezerState::kThawed;
  BERTH_ASSIGN_OR_RETURN(uint64_t want, ReadUint(dir, "cgroup.freeze"));
  if (want == 0) return FreezerState::kThawed;
  BERTH_ASSIGN_OR_RETURN(auto ev, ReadFlatKeyed(dir, "cgroup.events"));
  return ev["frozen"] == 1 ? FreezerState::kFrozen : FreezerState::kFreezing;
}

}  // namespace berth::cgroup::v2
