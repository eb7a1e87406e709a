// berth/net tests: reads the answers BuildAnswer and the server write (the library only
// ever parses queries).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/strings.h"
#include "berth/net/addr.h"
#include "berth/net/dns_message.h"

namespace berth::net::dns::testing {

struct Record {
  std::string name;
  uint16_t type = 0;
  uint32_t ttl = 0;
  std::string rdata;  // raw
  std::string text;   // "10.0.0.2", "fd00::2" or the PTR name
};

struct Answer {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint8_t rcode() const { return flags & 0xF; }
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;
  std::string qname;
  uint16_t qtype = 0;
  std::vector<Record> records;
  std::vector<std::string> Texts() const {
    std::vector<std::string> out;
    for (const Record& r : records) out.push_back(r.text);
    return out;
  }
};

inline uint16_t Get16(std::string_view p, size_t off) {
  return static_cast<uint16_t>(static_cast<uint8_t>(p[off]) << 8 |
                               static_cast<uint8_t>(p[off + 1]));
}

inline Result<Answer> ParseAnswer(std::string_view p) {
  if (p.size() < kHeaderSize) return InvalidArgument("short answer");
  Answer a;
  a.id = Get16(p, 0);
  a.flags = Get16(p, 2);
  a.qdcount = Get16(p, 4);
  a.ancount = Get16(p, 6);
  a.nscount = Get16(p, 8);
  a.arcount = Get16(p, 10);
  size_t pos = kHeaderSize;
  if (a.qdcount == 1) {
    BERTH_ASSIGN_OR_RETURN(pos, ReadName(p, pos, &a.qname));
    if (pos + 4 > p.size()) return InvalidArgument("short question");
    a.qtype = Get16(p, pos);
    pos += 4;
  }
  for (int i = 0; i < a.ancount; ++i) {
    Record r;
    BERTH_ASSIGN_OR_RETURN(pos, ReadName(p, pos, &r.name));
    if (pos + 10 > p.size()) return InvalidArgument("short record");
    r.type = Get16(p, pos);
    r.ttl = static_cast<uint32_t>(Get16(p, pos + 4)) << 16 | Get16(p, pos + 6);
    size_t len = Get16(p, pos + 8);
    pos += 10;
    if (pos + len > p.size()) return InvalidArgument("short rdata");
    r.rdata = std::string(p.substr(pos, len));
    if (r.type == kTypeA || r.type == kTypeAaaa) {
      IpAddress ip;
      ip.family = r.type == kTypeA ? AF_INET : AF_INET6;
      if (len != (r.type == kTypeA ? 4u : 16u)) return InvalidArgument("bad address length");
      for (size_t k = 0; k < len; ++k) ip.bytes[k] = static_cast<uint8_t>(r.rdata[k]);
      r.text = ip.ToString();
    } else if (r.type == kTypePtr) {
      BERTH_ASSIGN_OR_RETURN(size_t end, ReadName(p, pos, &r.text));
      if (end != pos + len) return InvalidArgument("PTR name does not fill its rdata");
    }
    pos += len;
    a.records.push_back(std::move(r));
  }
  if (pos != p.size()) return InvalidArgument(StrCat("trailing bytes at ", pos));
  return a;
}

}  // namespace berth::net::dns::testing
