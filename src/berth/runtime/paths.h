// berth/runtime: where the runtime keeps its state.
#pragma once

#include <string_view>

namespace berth::runtime {

// Default --root of berth-runtime: one directory per container holding state.json.
inline constexpr std::string_view kDefaultStateRoot = "/run/berth-runtime";

}  // namespace berth::runtime
