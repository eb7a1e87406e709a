// berth/base: whole-file reads and writes with errors that name the path.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth {

// open(2) with O_CLOEXEC always added.
Result<UniqueFd> OpenFile(const std::string& path, int flags, mode_t mode = 0);
Result<UniqueFd> OpenFileAt(int dirfd, const std::string& path, int flags, mode_t mode = 0);

Result<std::string> ReadFile(const std::string& path);
Result<std::string> ReadFileAt(int dirfd, const std::string& path);
Result<std::string> ReadFd(int fd, std::string_view what);

// Writes all of `data` (open with O_WRONLY|O_TRUNC|O_CREAT unless `flags` says otherwise).
Status WriteFile(const std::string& path, std::string_view data, mode_t mode = 0644);
// Writes to an existing file without O_CREAT/O_TRUNC: for cgroup, proc and sys files.
Status WriteExisting(const std::string& path, std::string_view data);
Status WriteExistingAt(int dirfd, const std::string& path, std::string_view data);
Status WriteAll(int fd, std::string_view data, std::string_view what);

enum class Durability {
  kFsync,     // survives power loss: the data is on disk before the rename
  kAtomicOnly // readers never see a torn file, but a machine crash may lose it; for state
              // that dies with the machine anyway (runtime state under /run)
};

// Temp file in the same directory, (fsync,) rename: readers see the old or the new content,
// never a torn one.
Status AtomicWriteFile(const std::string& path, std::string_view data, mode_t mode = 0644,
                       Durability durability = Durability::kFsync);

// Creates `path`, which must not exist (O_EXCL), with `data`; removed again if the write
// fails. For files in a directory just made and not yet shown to anyone, where a rename
// buys nothing.
Status WriteNewFile(const std::string& path, std::string_view data, mode_t mode = 0644);

// mkdir -p; `mode` for the directories it creates.
Status MkdirAll(const std::string& path, mode_t mode = 0755);
// rm -rf of a host path that berth owns (never a path inside a container's rootfs).
Status RemoveAll(const std::string& path);

// RemoveAll of every entry of directory `dir` except `keep` (the directory stays).
Status RemoveAllBut(const std::string& dir, std::string_view keep);

bool PathExists(const std::string& path);

// Copies everything from `in` (from its offset) to `out`: copy_file_range where the file
// systems allow it, read/write otherwise. `what` names the file in errors.
Status CopyFdData(int in, int out, std::string_view what);

}  // namespace berth
