// Fuzz target: DNS queries as containers send them to the network's resolver, through
// ParseQuery. A query that parses must give an answer that parses again as the same
// question (BuildAnswer echoes the question and points its records at it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "berth/net/addr.h"
#include "berth/net/dns_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace dns = berth::net::dns;
  std::string_view packet(reinterpret_cast<const char*>(data), size);
  auto q = dns::ParseQuery(packet);
  if (!q.has_value()) {
    (void)dns::BuildError(packet, dns::kRcodeFormErr);
    return 0;
  }
  static const std::vector<berth::net::IpAddress> kAddrs = {
      *berth::net::IpAddress::Parse("10.88.0.2", "fuzz"),
      *berth::net::IpAddress::Parse("fd00::2", "fuzz")};
  for (size_t max : {size_t{65535}, dns::kMaxUdpSize}) {
    std::string answer =
        dns::BuildAnswer(packet, *q, dns::kRcodeOk, kAddrs, {"web", "db.example"}, 60, max);
    auto again = dns::ParseQuery(answer);
    if (!again.has_value() || again->name != q->name || again->type != q->type ||
        again->id != q->id || answer.size() > max) {
      std::abort();
    }
    // Every record's owner name is the pointer to the question.
    std::string name;
    auto end = dns::ReadName(answer, again->question_end, &name);
    if (answer.size() > again->question_end && (!end.has_value() || name != q->name)) std::abort();
  }
  return 0;
}
