// berth/runtime: the `options` of a config.json mount, sorted into what each syscall takes:
// MS_* flags for mount(2), propagation changes, MOUNT_ATTR_* for mount_setattr(2) (the
// recursive "rro"-style options and bind-mount flags), and the filesystem data string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::runtime {

struct MountOptions {
  unsigned long flags = 0;        // MS_* to set
  unsigned long clear_flags = 0;  // MS_* named explicitly as off ("rw", "suid", "exec", ...)
  std::vector<unsigned long> propagation;  // MS_SHARED/MS_SLAVE/... (| MS_REC), in order
  bool bind = false;
  bool recursive = false;  // rbind
  // mount_setattr(2) attributes applied to the whole tree (AT_RECURSIVE): "rro", "rnosuid", ...
  uint64_t rec_attr_set = 0;
  uint64_t rec_attr_clr = 0;
  bool idmap = false;            // "idmap": idmapped mount of the top mount
  bool recursive_idmap = false;  // "ridmap"
  bool tmpcopyup = false;        // copy the directory's content into a fresh tmpfs
  std::vector<std::string> data;  // filesystem options ("size=64m", "mode=755")

  std::string DataString() const;
  // The MOUNT_ATTR_* equivalent of the per-mount flags, for a bind mount's top mount.
  uint64_t AttrSet() const;
  uint64_t AttrClr() const;
};

// `field` names the config entry in errors ("mounts[3].options").
Result<MountOptions> ParseMountOptions(const std::vector<std::string>& options,
                                       std::string_view field);

// Every option name ParseMountOptions knows (for `features`).
std::vector<std::string> KnownMountOptions();

}  // namespace berth::runtime
