// Fuzz target for config.json: ParseSpec, Validate and the ToJson round trip must never crash
// or throw, and whatever parses must come back equal after serialization (through the Json
// value, its text, and Go-style text). The same bytes also go through the parsers of the
// pieces read on their own (exec's process.json, update's resources file, state).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/json.h"
#include "berth/oci/go_json.h"
#include "berth/oci/spec.h"
#include "berth/oci/state.h"

namespace {

// A failed invariant is a bug: abort so libFuzzer records the input.
void Check(bool ok) {
  if (!ok) std::abort();
}

void RoundTrip(const berth::oci::Spec& spec) {
  using berth::oci::SpecFromJson;
  using berth::oci::ToJson;
  std::vector<std::string> warnings;
  auto status = berth::oci::Validate(spec, &warnings);
  (void)status;

  berth::Json j = ToJson(spec);
  auto again = SpecFromJson(j);
  Check(again.has_value() && *again == spec);
  Check(ToJson(*again) == j);

  // Strings came from the parser and are valid UTF-8; `replace` keeps dump() from ever throwing.
  std::string text = j.dump(-1, ' ', false, berth::Json::error_handler_t::replace);
  auto from_text = berth::oci::ParseSpec(text, "dumped");
  Check(from_text.has_value() && *from_text == spec);

  std::string go_text = berth::oci::GoJsonMarshalIndent(berth::OrderedJson(j), "\t");
  auto from_go = berth::ParseJson(go_text, "go");
  Check(from_go.has_value() && *from_go == j);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto json = berth::ParseJson(input, "config.json");
  if (!json.has_value()) return 0;

  auto spec = berth::oci::SpecFromJson(*json);
  if (spec.has_value()) RoundTrip(*spec);

  if (auto process = berth::oci::ProcessFromJson(*json, "process.json"); process.has_value()) {
    auto status = berth::oci::ValidateProcess(*process);
    (void)status;
    auto again = berth::oci::ProcessFromJson(berth::oci::ToJson(*process), "process.json");
    Check(again.has_value() && *again == *process);
  }
  if (auto res = berth::oci::ResourcesFromJson(*json, "resources.json"); res.has_value()) {
    auto status = berth::oci::ValidateResources(*res);
    (void)status;
    auto again = berth::oci::ResourcesFromJson(berth::oci::ToJson(*res), "resources.json");
    Check(again.has_value() && *again == *res);
  }
  if (auto state = berth::oci::StateFromJson(*json, "state.json"); state.has_value()) {
    auto again = berth::oci::StateFromJson(berth::oci::StateToJson(*state), "state.json");
    Check(again.has_value() && *again == *state);
    std::string text = berth::oci::StateToText(*state);
    Check(berth::ParseJson(text, "state").has_value());
  }
  return 0;
}
