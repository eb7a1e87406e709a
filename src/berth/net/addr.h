// berth/net: IPv4/IPv6 addresses and prefixes, as IPAM and the rule generators need them.
// Parsing errors name `what` (the flag or field the text came from).
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::net {

struct IpAddress {
  int family = AF_INET;              // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};   // network order; IPv4 uses the first 4

  static Result<IpAddress> Parse(std::string_view text, std::string_view what);
  std::string ToString() const;
  bool is_v4() const { return family == AF_INET; }
  int bits() const { return is_v4() ? 32 : 128; }
  // This address plus `n` (wraps within the family's width).
  IpAddress Plus(uint64_t n) const;
  auto operator<=>(const IpAddress&) const = default;
};

struct Prefix {
  IpAddress addr;  // the network address (host bits zero)
  int len = 0;

  // "10.1.0.0/16". Host bits set ("10.1.2.3/16") is an error naming the network address.
  static Result<Prefix> Parse(std::string_view text, std::string_view what);
  std::string ToString() const;
  bool Contains(const IpAddress& a) const;
  bool Contains(const Prefix& p) const { return p.len >= len && Contains(p.addr); }
  bool Overlaps(const Prefix& p) const { return Contains(p.addr) || p.Contains(addr); }
  // Number of addresses, saturated at 2^62.
  uint64_t Size() const;
  // The n-th address of the prefix (0 = the network address).
  IpAddress Nth(uint64_t n) const;
  // The offset of `a` inside the prefix (a must be contained).
  uint64_t OffsetOf(const IpAddress& a) const;
  auto operator<=>(const Prefix&) const = default;
};

}  // namespace berth::net
