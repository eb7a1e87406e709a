// berth/sys: /proc/PID/mountinfo as data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::sys {

struct MountInfo {
  int id = 0;
  int parent_id = 0;
  unsigned major = 0, minor = 0;
  std::string root;         // root of the mount within its filesystem
  std::string mount_point;  // unescaped
  std::string options;      // per-mount options: "rw,nosuid,..."
  std::vector<std::string> optional_fields;  // "shared:1", "master:2", ...
  std::string fs_type;
  std::string source;
  std::string super_options;

  bool IsShared() const;
  bool IsSlave() const;
};

// Parses mountinfo text (tests feed literal text).
Result<std::vector<MountInfo>> ParseMountInfo(std::string_view text);
Result<std::vector<MountInfo>> ReadMountInfo(std::string_view proc_path = "/proc/self/mountinfo");

// The entry whose mount point is the longest prefix of `path` (the mount `path` lives on).
const MountInfo* FindMountFor(const std::vector<MountInfo>& mounts, std::string_view path);

}  // namespace berth::sys
