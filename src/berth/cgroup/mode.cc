#include "berth/cgroup/manager.h"

namespace berth::cgroup {

std::string_view ModeName(Mode m) {
  switch (m) {
    case Mode::kLegacy:
      return "legacy";
    case Mode::kHybrid:
      return "hybrid";
    case Mode::kUnified:
      return "unified";
  }
  return "unknown";
}

}  // namespace berth::cgroup
