// berth/oci (internal): the small vocabulary the validator's checks are written in: field
// errors, known-name tables, path and list checks.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/strings.h"
#include "berth/oci/reader.h"

namespace berth::oci::internal {

using Names = std::span<const std::string_view>;

// "field: message".
inline unexpected<Error> FieldError(std::string_view field, std::string_view message,
                                    ErrorCode code = ErrorCode::kInvalidArgument) {
  return Fail(code, StrCat(field, ": ", message));
}

inline std::string Field(std::string_view parent, std::string_view key) {
  return MemberPath(parent, key);
}
inline std::string Field(std::string_view parent, size_t index) { return IndexPath(parent, index); }

bool OneOf(Names names, std::string_view value);
// "unknown <what> `value`" unless `value` is one of `names`.
Status CheckKnown(std::string_view field, std::string_view value, Names names,
                  std::string_view what);

// Non-empty, starts with '/', no NUL byte (the kernel would see a truncated path).
Status CheckAbsolutePath(std::string_view field, std::string_view path);

// A cpu or memory-node list as cpuset and sched_setaffinity take it: "0-3,7".
Status CheckCpuList(std::string_view field, std::string_view list);

// The known names the runtime-spec (libseccomp, the kernel) defines.
extern const std::string_view kSeccompActions[9];
extern const std::string_view kSeccompOperators[7];
extern const std::string_view kSeccompFlags[4];
extern const std::string_view kSeccompArchitectures[24];

}  // namespace berth::oci::internal
