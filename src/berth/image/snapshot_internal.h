// berth/image (internal): the two snapshot strategies behind snapshot.h.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::image::internal {

// Mounts overlayfs at `merged` with `lowers` (bottom first) below `upper`/`work`;
// `ephemeral`: with overlay's "volatile" option (no syncs of the upper layer).
Status MountOverlay(const std::vector<std::string>& lowers, const std::string& upper,
                    const std::string& work, const std::string& merged, bool ephemeral = false);
// Whether this kernel can mount overlayfs (fsopen("overlay") succeeds).
bool OverlaySupported();
// Applies `layer` (a directory in overlay form) on top of `dest`: whiteouts delete, opaque
// directories drop what was below, everything else is copied with owners, modes, xattrs,
// hard links and times.
Status ApplyLayerCopy(const std::string& layer, const std::string& dest);

}  // namespace berth::image::internal
