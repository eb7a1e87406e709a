// berth/build: COPY and ADD's file work. Sources are read relative to a root directory fd
// (the context, or a stage's or image's rootfs) and written below a destination directory
// fd inside the step's rootfs. Every open is relative and O_NOFOLLOW below the named source,
// and existing non-directories at the destination are unlinked before an exclusive create,
// so neither a symlink in the context nor one planted in the image redirects a read or write.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/build/dockerignore.h"
#include "berth/image/digest.h"

namespace berth::build {

struct CopyOptions {
  // Owner of everything copied: --chown; otherwise 0:0 from the context, or the source's own
  // owners with `keep_owner` (COPY --from).
  std::optional<uint32_t> uid, gid;
  bool keep_owner = false;
  std::optional<mode_t> mode;  // --chmod, for files and directories copied
  const IgnoreMatcher* ignore = nullptr;  // context sources: .dockerignore'd entries skipped
};

// The entry `name` of directory `src_dir` (whose context-relative path is `rel`, for the
// ignore rules) becomes `dst_name` in `dst_dir`; a directory's contents are merged into an
// existing directory. With `contents_only` a directory source copies its entries into
// `dst_dir` itself (COPY dir/ /dest/ copies what is in dir, not dir).
Status CopyEntry(int src_dir, const std::string& name, const std::string& rel, int dst_dir,
                 const std::string& dst_name, const CopyOptions& options, bool contents_only);

// Feeds what CopyEntry would copy (names, types, modes, owners when kept, link targets,
// file content) into `hash`, for the step's cache key.
Status HashEntry(int src_dir, const std::string& name, const std::string& rel,
                 const CopyOptions& options, image::Sha256& hash);

}  // namespace berth::build
