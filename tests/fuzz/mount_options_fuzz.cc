// Fuzz target: config.json mount options (comma-separated here) through ParseMountOptions
// and the derived attribute sets. Must never crash; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string>

#include "berth/base/strings.h"
#include "berth/runtime/mount_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string s(reinterpret_cast<const char*>(data), size);
  auto opts = berth::Split(s, ',');
  auto r = berth::runtime::ParseMountOptions(opts, "mounts[0].options");
  if (r.has_value()) {
    (void)r->DataString();
    (void)r->AttrSet();
    (void)r->AttrClr();
  }
  return 0;
}
