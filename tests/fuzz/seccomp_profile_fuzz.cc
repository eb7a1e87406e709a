// Fuzz target for seccomp profiles: the input is a linux.seccomp object. It is parsed into
// oci::Seccomp through the real config parser (wrapped in a minimal config.json) and then
// compiled with CompileSeccomp, which must never crash, and whatever compiles must be a
// loadable program whose flags agree with its rules.
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "berth/base/json.h"
#include "berth/oci/spec.h"
#include "berth/runtime/seccomp.h"

namespace {

// A failed invariant is a bug: abort so libFuzzer records the input.
void Check(bool ok) {
  if (!ok) std::abort();
}

constexpr unsigned int kKnownFlags =
    SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |
    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
    SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto profile = berth::ParseJson(input, "seccomp.json");
  if (!profile.has_value()) return 0;

  berth::Json config = {{"ociVersion", "1.2.0"}, {"root", {{"path", "rootfs"}}}};
  config["linux"]["seccomp"] = std::move(*profile);
  auto spec = berth::oci::SpecFromJson(config);
  if (!spec.has_value() || !spec->linux_config || !spec->linux_config->seccomp) return 0;

  auto program = berth::runtime::CompileSeccomp(*spec->linux_config->seccomp);
  if (!program.has_value()) {
    Check(!program.error().message().empty());
    return 0;
  }
  Check(!program->filter.empty() && program->filter.size() <= BPF_MAXINSNS);
  Check((program->flags & ~kKnownFlags) == 0);
  Check(program->new_listener == ((program->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) != 0));
  // The kernel's classic-BPF check wants a return as the last instruction.
  Check(BPF_CLASS(program->filter.back().code) == BPF_RET);
  return 0;
}
