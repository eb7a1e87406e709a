// berth/oci: the starter config.json that `berth-runtime spec` writes, the same document as
// `runc spec` (and `runc spec --rootless`) apart from ociVersion, which is kSpecVersion.
#pragma once

#include <cstdint>
#include <string>

#include "berth/base/json.h"

namespace berth::oci {

// Members in runc's order (OrderedJson; it converts to Json where order does not matter).
// The rootless variant maps container root to the caller's effective uid and gid.
OrderedJson DefaultSpec(bool rootless);
// Same, mapping container root to `host_uid`/`host_gid` in the rootless variant.
OrderedJson DefaultSpec(bool rootless, uint32_t host_uid, uint32_t host_gid);
// The file as runc writes it: tab-indented, Go's escaping, no final newline.
std::string DefaultSpecText(bool rootless);

}  // namespace berth::oci
