// berth/engine: copying file trees where one side is a container's rootfs (`cp`, volume
// population). Every step is relative to a directory fd opened without following
// symlinks, and existing non-directories at the destination are unlinked before an
// exclusive create, so a container racing to plant symlinks cannot redirect a write.
// Symlinks are copied as links, never followed; owners, modes and mtimes are kept.
#pragma once

#include <string>

#include "berth/base/error.h"

namespace berth::engine {

// Copies the entry `src_name` in directory `src_dir` to `dst_name` in `dst_dir`.
Status CopyEntry(int src_dir, const std::string& src_name, int dst_dir, const std::string& dst_name);
// Copies every entry of `src_dir` into `dst_dir`.
Status CopyDirContents(int src_dir, int dst_dir);

}  // namespace berth::engine
