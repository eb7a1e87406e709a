// berth/runtime: linux.personality (the execution domain the container's init runs under).
#include <sys/personality.h>

#include "berth/base/strings.h"
#include "berth/runtime/rlimits.h"

namespace berth::runtime {

Result<unsigned long> ResolvePersonality(const oci::Personality& p) {
  constexpr std::string_view kField = "linux.personality";
  if (!p.flags.empty())
    // runtime-spec 1.2 defines no flags; the others personality(2) knows (ADDR_NO_RANDOMIZE,
    // READ_IMPLIES_EXEC, ...) weaken the process, so none is passed through.
    return InvalidArgument(StrCat(kField, ".flags[0]: unsupported flag ", Quote(p.flags[0])));
  // PER_* are enumerators; personality(2) takes an unsigned long.
  if (p.domain == "LINUX") return static_cast<unsigned long>(PER_LINUX);
  if (p.domain == "LINUX32") return static_cast<unsigned long>(PER_LINUX32);
  if (p.domain.empty()) return InvalidArgument(StrCat(kField, ".domain: is required"));
  return InvalidArgument(StrCat(kField, ".domain: unknown domain ", Quote(p.domain)));
}

Status ApplyPersonality(unsigned long persona) {
  // personality(2) returns the previous persona, or -1 with errno; 0xffffffff only queries.
  if (::personality(persona) == -1) return ErrnoFail(StrCat("set personality ", persona));
  return Ok();
}

}  // namespace berth::runtime
