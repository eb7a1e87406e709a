// Fuzz target for image references (user input and names inside archives): ParseReference
// must never crash, and a parsed reference must read back equal from its canonical form and
// from its familiar form.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/oci/reference.h"

namespace {

// A failed invariant is a bug: abort so libFuzzer records the input.
void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace oci = berth::oci;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)oci::LooksLikeIdPrefix(input);
  auto ref = oci::ParseReference(input);
  if (!ref.has_value()) return 0;
  Check(!ref->domain.empty() && !ref->path.empty());
  Check(!ref->tag.empty() || !ref->digest.empty());

  auto again = oci::ParseReference(ref->String());
  Check(again.has_value() && *again == *ref);
  Check(again->String() == ref->String());

  auto familiar = oci::ParseReference(ref->Familiar());
  Check(familiar.has_value() && *familiar == *ref);

  auto by_name = oci::ParseReference(ref->Name());
  Check(by_name.has_value() && by_name->domain == ref->domain && by_name->path == ref->path);
  return 0;
}
