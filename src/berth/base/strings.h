// berth/base: small string helpers (splitting, trimming, number parsing with errors).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <type_traits>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth {

namespace internal {
inline void AppendPiece(std::string& out, std::string_view s) { out.append(s); }
inline void AppendPiece(std::string& out, const char* s) { out.append(s); }
inline void AppendPiece(std::string& out, const std::string& s) { out.append(s); }
inline void AppendPiece(std::string& out, char c) { out.push_back(c); }
template <class N>
  requires std::is_integral_v<N>
void AppendPiece(std::string& out, N n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}
}  // namespace internal

// StrCat("a", 1, 'b', s): concatenates strings, chars and integers.
template <class... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  (internal::AppendPiece(out, args), ...);
  return out;
}

// "`s`": how messages quote the object at fault.
inline std::string Quote(std::string_view s) { return StrCat('`', s, '`'); }

std::vector<std::string> Split(std::string_view s, char sep);
// Splits and drops empty pieces.
std::vector<std::string> SplitNonEmpty(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);

// Whole-string integer parsing; `what` names the thing at fault in the error.
Result<int64_t> ParseInt64(std::string_view s, std::string_view what);
Result<uint64_t> ParseUint64(std::string_view s, std::string_view what);

// Escapes a string for a JSON string literal (without quotes); for hand-written JSON logs.
std::string JsonEscape(std::string_view s);

}  // namespace berth
