// berth/cgroup: file helpers every controller file shares: one read or write of a cgroup
// file with errors that name the path, the "key value" formats, recursive cgroup.procs and
// rmdir, and the error shape for requests the host cannot honour
// ("<field>: not supported by this host (no `file` in `dir`)").
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::cgroup {

inline constexpr uint64_t kMax = UINT64_MAX;  // what "max" (v2) reads as

std::string JoinPath(std::string_view dir, std::string_view name);
bool HasFile(const std::string& dir, std::string_view file);
bool IsDir(const std::string& path);

// The file's content with surrounding whitespace removed.
Result<std::string> ReadCgroupFile(const std::string& dir, std::string_view file);
Status WriteCgroupFile(const std::string& dir, std::string_view file, std::string_view value);
// A single number; "max" reads as kMax.
Result<uint64_t> ReadUint(const std::string& dir, std::string_view file);
Result<uint64_t> ParseCgroupUint(std::string_view s, std::string_view what);
// "key value" lines (memory.stat, cpu.stat, cgroup.events); malformed lines are skipped.
std::map<std::string, uint64_t> ParseFlatKeyed(std::string_view text);
Result<std::map<std::string, uint64_t>> ReadFlatKeyed(const std::string& dir,
                                                      std::string_view file);
// Space-separated words (cgroup.controllers, cgroup.subtree_control); a leading '+' is
// dropped so that a fake tree, where the last write is the content, reads the same.
std::vector<std::string> ParseWords(std::string_view text);

// "<field>: not supported by this host (<why>)", code kUnsupported.
Error NotSupported(std::string_view field, std::string_view why);
// NotSupported naming a missing file.
Error MissingFile(std::string_view field, const std::string& dir, std::string_view file);
// Writes `value` to dir/file; errors start with `field`. A file that does not exist in an
// existing directory is MissingFile.
Status WriteField(std::string_view field, const std::string& dir, std::string_view file,
                  std::string_view value);

// cgroup.procs of `dir` and of every cgroup below it (containers may create sub-cgroups).
Result<std::vector<pid_t>> ReadProcsRecursive(const std::string& dir);
// Removes `dir` and the cgroups below it, deepest first. rmdir fails with EBUSY while the
// kernel still counts exiting tasks, so that is retried for about two seconds. A missing
// directory is not an error.
Status RemoveCgroup(const std::string& dir);
// mkdir of every missing directory from `base` (which must exist) down to `dir`; returns
// the directories it created, outermost first.
Result<std::vector<std::string>> MakeCgroupDirs(const std::string& base, const std::string& dir);
// rmdir of `dirs` in reverse order, ignoring errors (rollback of MakeCgroupDirs).
void RemoveDirsQuietly(const std::vector<std::string>& dirs);

}  // namespace berth::cgroup
