#include "berth/net/addr.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "berth/base/strings.h"

namespace berth::net {
namespace {

int Bytes(int family) { return family == AF_INET ? 4 : 16; }

}  // namespace

Result<IpAddress> IpAddress::Parse(std::string_view text, std::string_view what) {
  IpAddress a;
  std::string s(text);
  if (s.find(':') != std::string::npos) {
    a.family = AF_INET6;
    if (::inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) return a;
  } else {
    a.family = AF_INET;
    if (::inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  }
  return InvalidArgument(StrCat(what, ": ", Quote(s), " is not an IP address"));
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

IpAddress IpAddress::Plus(uint64_t n) const {
  IpAddress r = *this;
  int i = Bytes(family) - 1;
  unsigned carry = 0;
  while (i >= 0 && (n != 0 || carry != 0)) {
    unsigned sum = r.bytes[i] + static_cast<unsigned>(n & 0xff) + carry;
    r.bytes[i] = static_cast<uint8_t>(sum);
    carry = sum >> 8;
    n >>= 8;
    --i;
  }
  return r;
}

Result<Prefix> Prefix::Parse(std::string_view text, std::string_view what) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgument(StrCat(what, ": ", Quote(text), " is not a subnet in CIDR form (10.1.0.0/24)"));
  }
  BERTH_ASSIGN_OR_RETURN(IpAddress a, IpAddress::Parse(text.substr(0, slash), what));
  auto len = ParseInt64(text.substr(slash + 1), what);
  if (!len || *len < 0 || *len > a.bits()) {
    return InvalidArgument(StrCat(what, ": ", Quote(text), ": bad prefix length"));
  }
  Prefix p;
  p.len = static_cast<int>(*len);
  p.addr = a;
  for (int bit = p.len; bit < a.bits(); ++bit) p.addr.bytes[bit / 8] &= ~(0x80u >> (bit % 8));
  if (p.addr != a) {
    return InvalidArgument(StrCat(what, ": ", Quote(text), " has host bits set (did you mean ",
                                  p.ToString(), "?)"));
  }
  return p;
}

std::string Prefix::ToString() const { return StrCat(addr.ToString(), "/", len); }

bool Prefix::Contains(const IpAddress& a) const {
  if (a.family != addr.family) return false;
  for (int bit = 0; bit < len; ++bit) {
    uint8_t mask = 0x80u >> (bit % 8);
    if ((a.bytes[bit / 8] & mask) != (addr.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

uint64_t Prefix::Size() const {
  int host_bits = addr.bits() - len;
  if (host_bits >= 62) return uint64_t{1} << 62;
  return uint64_t{1} << host_bits;
}

IpAddress Prefix::Nth(uint64_t n) const { return addr.Plus(n); }

uint64_t Prefix::OffsetOf(const IpAddress& a) const {
  // Only the low 64 bits can differ for prefixes we allocate from (Size() saturates).
  uint64_t off = 0, base = 0;
  int n = Bytes(addr.family);
  for (int i = std::max(0, n - 8); i < n; ++i) {
    off = (off << 8) | a.bytes[i];
    base = (base << 8) | addr.bytes[i];
  }
  return off - base;
}

}  // namespace berth::net
