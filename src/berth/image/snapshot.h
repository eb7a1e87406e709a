// berth/image: a container's root filesystem from an image's unpacked layers.
//   overlay: lowerdir = the layers (top first), a fresh upper/ and work/ per container,
//            mounted with the new mount API (fsconfig "lowerdir+" one layer at a time, so
//            no option-length limit), falling back to one "lowerdir=" string.
//   copy:    where overlayfs is unavailable (or BERTH_SNAPSHOTTER=copy): the layers applied
//            in order into rootfs/ (whiteouts deleting), nothing mounted.
// Layout under `dir`: upper/, work/, merged/ (the rootfs).
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::image {

enum class SnapshotKind { kOverlay, kCopy };

struct Snapshot {
  SnapshotKind kind = SnapshotKind::kOverlay;
  std::string dir;
  std::string rootfs;  // dir/merged
  std::string upper;   // the container's changes (dir/upper; for copy: the rootfs itself)
  // Changes that need not survive a machine crash (a --rm container): the overlay is mounted
  // "volatile" and skips syncing the upper layer, which made each unmount cost ~2 ms.
  bool ephemeral = false;
};

// The kind this host supports (overlay unless BERTH_SNAPSHOTTER=copy or the probe fails).
SnapshotKind DefaultSnapshotKind();

// Creates `dir` and the rootfs from `lowers` (layer directories, bottom first, each in
// overlay form). For kOverlay the rootfs is mounted (private propagation).
Result<Snapshot> CreateSnapshot(const std::string& dir, const std::vector<std::string>& lowers,
                                SnapshotKind kind, bool ephemeral = false);
// Mounts an existing overlay snapshot again (after a reboot or a cleanup); no-op for copy.
Status MountSnapshot(const Snapshot& s, const std::vector<std::string>& lowers);
// Unmounts (lazily if busy) without removing anything; idempotent.
Status UnmountSnapshot(const Snapshot& s);
// Unmounts and removes `dir`; idempotent.
Status RemoveSnapshot(const Snapshot& s);
Snapshot SnapshotAt(const std::string& dir, SnapshotKind kind, bool ephemeral = false);

}  // namespace berth::image
