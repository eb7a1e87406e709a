// berth/runtime: a cache of compiled seccomp filters. libseccomp needs ~10 ms to compile a
// podman or docker default profile (hundreds of names, three architectures): more than
// everything else a container start does. The compiled program depends only on the profile,
// libseccomp and the kernel, so it is kept under the runtime's state root (tmpfs on normal
// hosts: it lasts until reboot) and reused.
//
// An entry holds the canonical profile JSON next to the program and is used only when that
// text matches exactly, so a hash collision can never select another profile's filter.
// Entries are written atomically; a corrupt or stale entry is ignored and rewritten.
#pragma once

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/oci/spec.h"
#include "berth/runtime/seccomp.h"

namespace berth::runtime {

// CompileSeccomp through a cache in `cache_dir` (created 0700 if missing). An empty
// `cache_dir` compiles every time. Cache I/O failures fall back to compiling.
Result<SeccompProgram> CompileSeccompCached(const oci::Seccomp& seccomp,
                                            const std::string& cache_dir);

}  // namespace berth::runtime
