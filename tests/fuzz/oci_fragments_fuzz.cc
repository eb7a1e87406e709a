// Fuzz target: the JSON documents berth-runtime reads besides config.json — `exec --process`
// (a runtime-spec process), `update -r` (linux.resources) and a saved container state. The
// first byte picks the parser. Must never crash or throw; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "berth/base/json.h"
#include "berth/oci/spec.h"
#include "berth/oci/state.h"
#include "berth/runtime/container_state.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto j = berth::ParseJson(text, "fuzz");
  if (!j.has_value()) return 0;
  switch (data[0] % 4) {
    case 0: {
      auto p = berth::oci::ProcessFromJson(*j, "process.json");
      if (p.has_value()) {
        (void)berth::oci::ValidateProcess(*p);
        (void)berth::oci::ToJson(*p).dump();
      }
      break;
    }
    case 1: {
      auto r = berth::oci::ResourcesFromJson(*j, "resources");
      if (r.has_value()) (void)berth::oci::ToJson(*r).dump();
      break;
    }
    case 2:
      (void)berth::oci::StateFromJson(*j, "state");
      break;
    default: {
      auto rec = berth::runtime::ContainerRecord::FromJson(*j);
      if (rec.has_value()) (void)rec->ToJson().dump();
      break;
    }
  }
  return 0;
}
