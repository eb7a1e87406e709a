// berth/oci: JSON text byte-for-byte as Go's encoding/json writes it, for output that tools
// compare with runc's (`spec`, `state`, `list -f json`): members in the order given (hence
// OrderedJson), `<`, `>` and `&` escaped as \u003c..., invalid UTF-8 replaced by \ufffd, and
// MarshalIndent's layout (empty objects and arrays stay `{}` and `[]`).
#pragma once

#include <string>
#include <string_view>

#include "berth/base/json.h"

namespace berth::oci {

// json.Marshal: no whitespace at all.
std::string GoJsonMarshal(const OrderedJson& j);
// json.MarshalIndent(v, "", indent): one member or element per line.
std::string GoJsonMarshalIndent(const OrderedJson& j, std::string_view indent);

}  // namespace berth::oci
