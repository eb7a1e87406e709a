// Fuzz target for image manifests, indexes and image configs (untrusted: they come from
// registries and archives). The parsers must never crash or throw, and whatever parses must
// come back equal after serialization, through the Json value and through its text.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/base/json.h"
#include "berth/oci/image.h"

namespace {

// A failed invariant is a bug: abort so libFuzzer records the input.
void Check(bool ok) {
  if (!ok) std::abort();
}

// Strings came from the parser and are valid UTF-8; `replace` keeps dump() from ever throwing.
std::string Dump(const berth::Json& j) {
  return j.dump(-1, ' ', false, berth::Json::error_handler_t::replace);
}

template <class T, class ParseFn>
void RoundTrip(const T& value, ParseFn parse) {
  berth::Json j = berth::oci::ToJson(value);
  auto again = parse(Dump(j));
  Check(again.has_value() && *again == value);
  Check(berth::oci::ToJson(*again) == j);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace oci = berth::oci;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  if (auto m = oci::ParseManifest(input); m.has_value()) {
    RoundTrip(*m, [](std::string_view t) { return oci::ParseManifest(t); });
    for (const auto& l : m->layers) {
      Check(oci::ValidateDigest(l.digest).has_value());
      auto c = oci::LayerCompression(l.media_type);
      (void)c;
    }
  }
  if (auto i = oci::ParseIndex(input); i.has_value()) {
    RoundTrip(*i, [](std::string_view t) { return oci::ParseIndex(t); });
    auto d = oci::SelectPlatform(*i, oci::HostPlatform());
    if (d.has_value()) Check(d->platform.has_value());
    oci::Platform arm{"arm", "linux", "v7", {}, {}};
    auto d2 = oci::SelectPlatform(*i, arm);
    (void)d2;
  }
  if (auto c = oci::ParseImageConfig(input); c.has_value()) {
    RoundTrip(*c, [](std::string_view t) { return oci::ParseImageConfig(t); });
    for (const auto& id : c->diff_ids) Check(oci::ValidateDigest(id).has_value());
  }
  // The same bytes as a lone descriptor (index.json entries, registry responses).
  if (auto j = berth::ParseJson(input, "descriptor"); j.has_value()) {
    if (auto d = oci::ParseDescriptor(*j, "descriptor"); d.has_value()) {
      auto again = oci::ParseDescriptor(oci::ToJson(*d), "descriptor");
      Check(again.has_value() && *again == *d);
    }
  }
  return 0;
}
