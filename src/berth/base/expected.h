// berth/base: the one place that chooses the expected<T, E> implementation.
//
// g++ 12 in C++23 mode ships std::expected. clang 14 (used for libFuzzer builds and
// clang-tidy) cannot parse libstdc++'s <expected>, so it falls back to tl::expected from
// Debian's libexpected-dev. Code uses only the subset both share.
#pragma once

#include <version>

#if defined(__cpp_lib_expected) && __cpp_lib_expected >= 202202L
#include <expected>
namespace berth {
template <class T, class E>
using expected = std::expected<T, E>;
template <class E>
using unexpected = std::unexpected<E>;
}  // namespace berth
#else
#include <tl/expected.hpp>
namespace berth {
template <class T, class E>
using expected = tl::expected<T, E>;
template <class E>
using unexpected = tl::unexpected<E>;
}  // namespace berth
#endif
