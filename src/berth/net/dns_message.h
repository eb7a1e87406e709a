// berth/net: just enough of the DNS wire format (RFC 1035) for the per-network resolver:
// parse a query's question, build answers. Input comes from containers: every read is
// bounds-checked and compression pointers cannot loop (fuzzed: tests/fuzz/dns_fuzz.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/addr.h"

namespace berth::net::dns {

constexpr uint16_t kTypeA = 1, kTypePtr = 12, kTypeAaaa = 28, kTypeAny = 255, kClassIn = 1;
constexpr uint8_t kRcodeOk = 0, kRcodeFormErr = 1, kRcodeServFail = 2, kRcodeNxDomain = 3,
                  kRcodeNotImp = 4, kRcodeRefused = 5;
constexpr uint16_t kFlagQr = 0x8000, kFlagTc = 0x0200, kFlagRd = 0x0100, kFlagRa = 0x0080;
constexpr size_t kHeaderSize = 12;
// The largest UDP answer without EDNS (RFC 1035 4.2.1); we ignore EDNS, so this is ours.
constexpr size_t kMaxUdpSize = 512;

struct Question {
  uint16_t id = 0;
  uint16_t flags = 0;  // the query's flags (RD is copied into the answer)
  std::string name;    // lower case, no trailing dot: "web.example" ("" for the root)
  uint16_t type = 0;
  uint16_t qclass = 0;
  size_t question_end = 0;  // offset just past the question (answers start there)
};

// The first (only) question of a standard query; errors say what is malformed: code
// kUnsupported for an opcode other than QUERY (answer NOTIMP), kInvalidArgument otherwise
// (answer FORMERR). The QR bit is not checked (a server drops responses itself); answer,
// authority and additional sections (EDNS's OPT record) are ignored.
// Labels are lowercased (ASCII) and written in presentation form: '.', '\\' and bytes outside
// printable ASCII inside a label become "\DDD", so a name never matches a record by accident.
Result<Question> ParseQuery(std::string_view packet);

// Reads the (possibly compressed) name at `pos` into `name` (presentation form as above) and
// returns the offset just past it at `pos`. Compression pointers must point strictly back,
// to at least offset 12, before the start of the label sequence that holds them, so they
// cannot loop; at most 128 are followed and the name is at most 255 bytes on the wire.
Result<size_t> ReadName(std::string_view packet, size_t pos, std::string* name);

// An answer to `query` (whose question ends at q.question_end): the header copied with QR,
// RA and `rcode` set, the question echoed, then one record per address (A or AAAA, by
// family) or one PTR record per name, with `ttl`. Records that would make the message
// longer than `max_size` are left out and TC is set (the client retries over TCP); a PTR
// name that cannot be encoded (an empty or over-long label) is skipped.
std::string BuildAnswer(std::string_view query, const Question& q, uint8_t rcode,
                        const std::vector<IpAddress>& addresses,
                        const std::vector<std::string>& ptr_names, uint32_t ttl,
                        size_t max_size = 65535);

// A header-only answer (no question) with `rcode`, for a query that could not be parsed:
// the ID, opcode and RD are copied. Empty if `query` is shorter than a header.
std::string BuildError(std::string_view query, uint8_t rcode);

// A standard query (RD set) for `name` ("web" or "web.dns.berth."), class IN: for tests
// and probes.
Result<std::string> BuildQuery(uint16_t id, std::string_view name, uint16_t type);

}  // namespace berth::net::dns
