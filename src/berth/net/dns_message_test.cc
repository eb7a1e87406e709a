#include "berth/net/dns_message.h"

#include <gtest/gtest.h>

#include <string>

#include "berth/net/dns_test_util.h"

namespace berth::net::dns {
namespace {

using testing::ParseAnswer;

IpAddress Ip(const char* s) { return *IpAddress::Parse(s, "test"); }

// Header bytes: id, flags, qd, an, ns, ar.
std::string Header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0,
                   uint16_t ar = 0) {
  std::string h;
  for (uint16_t v : {id, flags, qd, an, ns, ar}) {
    h.push_back(static_cast<char>(v >> 8));
    h.push_back(static_cast<char>(v & 0xff));
  }
  return h;
}

// A query with `wire_name` as is (its labels and terminating zero or pointer).
std::string Query(std::string_view wire_name, uint16_t type = kTypeA) {
  std::string q = Header(0x1234, kFlagRd, 1);
  q.append(wire_name);
  q.push_back(static_cast<char>(type >> 8));
  q.push_back(static_cast<char>(type & 0xff));
  q.append({0, 1});
  return q;
}

TEST(DnsMessage, ParsesAQuery) {
  auto raw = BuildQuery(0xBEEF, "Web.Example.", kTypeAaaa);
  ASSERT_TRUE(raw.has_value()) << raw.error().message();
  auto q = ParseQuery(*raw);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->id, 0xBEEF);
  EXPECT_EQ(q->flags, kFlagRd);
  EXPECT_EQ(q->name, "web.example");
  EXPECT_EQ(q->type, kTypeAaaa);
  EXPECT_EQ(q->qclass, kClassIn);
  EXPECT_EQ(q->question_end, raw->size());
}

TEST(DnsMessage, RootAndHandWrittenQueries) {
  auto q = ParseQuery(Query(std::string(1, '\0'), kTypePtr));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->name, "");
  EXPECT_EQ(q->type, kTypePtr);
  // Bytes that would be ambiguous in text are escaped, so "a.b" as one label never equals
  // the two labels "a" and "b".
  q = ParseQuery(Query(std::string("\3a.b\1C\0", 7)));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->name, "a\\046b.c");
  q = ParseQuery(Query(std::string("\2\x01\\\0", 4)));
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->name, "\\001\\092");
}

TEST(DnsMessage, IgnoresEdnsAndOtherSections) {
  std::string raw = *BuildQuery(7, "web", kTypeA);
  raw[11] = 1;  // ARCOUNT: an OPT record follows
  size_t question_end = raw.size();
  raw.append({0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});  // root, OPT, 4096, ttl 0, rdlen 0
  auto q = ParseQuery(raw);
  ASSERT_TRUE(q.has_value()) << q.error().message();
  EXPECT_EQ(q->question_end, question_end);
  std::string answer = BuildAnswer(raw, *q, kRcodeOk, {Ip("10.0.0.2")}, {}, 60);
  auto a = ParseAnswer(answer);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->arcount, 0);
  EXPECT_EQ(a->Texts(), std::vector<std::string>{"10.0.0.2"});
}

TEST(DnsMessage, RejectsMalformedQueries) {
  std::string good = *BuildQuery(1, "web.example", kTypeA);
  struct Case {
    const char* what;
    std::string packet;
  };
  std::vector<Case> cases = {
      {"empty", ""},
      {"short header", good.substr(0, 11)},
      {"header only", good.substr(0, 12)},
      {"name cut", good.substr(0, 16)},
      {"no type", good.substr(0, good.size() - 4)},
      {"class cut", good.substr(0, good.size() - 1)},
      {"two questions", Header(1, 0, 2) + good.substr(12)},
      {"no question", Header(1, 0, 0) + good.substr(12)},
      {"label past end", Query(std::string("\x3f"
                                           "abc",
                                           4))},
      {"reserved label type 0x40", Query(std::string("\x41x\0", 3))},
      {"reserved label type 0x80", Query(std::string("\x81x\0", 3))},
  };
  // 4 labels of 63 = 256 bytes with the root: one too many.
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += '\x3f' + std::string(63, 'a');
  cases.push_back({"name of 257 bytes", Query(long_name + std::string(1, '\0'))});
  for (const Case& c : cases) {
    auto q = ParseQuery(c.packet);
    EXPECT_FALSE(q.has_value()) << c.what;
    if (!q) {
      EXPECT_EQ(q.error().code(), ErrorCode::kInvalidArgument) << c.what;
    }
  }
  // 255 bytes exactly is fine.
  std::string max_name;
  for (int i = 0; i < 3; ++i) max_name += '\x3f' + std::string(63, 'a');
  max_name += '\x3d' + std::string(61, 'b');
  max_name.push_back('\0');
  ASSERT_EQ(max_name.size(), 255u);
  EXPECT_TRUE(ParseQuery(Query(max_name)).has_value());
}

TEST(DnsMessage, OpcodeOtherThanQueryIsUnsupported) {
  std::string raw = *BuildQuery(1, "web", kTypeA);
  raw[2] = static_cast<char>(raw[2] | 0x28);  // opcode 5 (UPDATE)
  auto q = ParseQuery(raw);
  ASSERT_FALSE(q.has_value());
  EXPECT_EQ(q.error().code(), ErrorCode::kUnsupported);
  std::string err = BuildError(raw, kRcodeNotImp);
  auto a = ParseAnswer(err);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->id, 1);
  EXPECT_EQ(a->rcode(), kRcodeNotImp);
  EXPECT_EQ((a->flags >> 11) & 0xF, 5);
  EXPECT_TRUE(a->flags & kFlagQr);
  EXPECT_TRUE(a->flags & kFlagRd);
  EXPECT_EQ(a->qdcount, 0);
  EXPECT_EQ(BuildError("short", kRcodeFormErr), "");
}

TEST(DnsMessage, CompressionPointersCannotLoop) {
  // A pointer to itself, at the question's first byte.
  EXPECT_FALSE(ParseQuery(Query(std::string("\xc0\x0c", 2))).has_value());
  // Forward, into the header, and out of the message.
  EXPECT_FALSE(ParseQuery(Query(std::string("\xc0\x0e", 2))).has_value());
  EXPECT_FALSE(ParseQuery(Query(std::string("\xc0\x02", 2))).has_value());
  EXPECT_FALSE(ParseQuery(Query(std::string("\xff\xff", 2))).has_value());
  EXPECT_FALSE(ParseQuery(Query(std::string("\x01"
                                            "a\xc0\x0c",
                                            4)))
                   .has_value());
  EXPECT_FALSE(ParseQuery(Query(std::string("\x01"
                                            "a\xc0",
                                            3)))
                   .has_value());

  // Two names pointing at each other, read from the second: A -> B -> A would loop.
  std::string msg = Header(1, 0, 0);
  msg += std::string(
      "\x01"
      "a\xc0\x10",
      4);  // offset 12: "a" then -> 16
  msg += std::string(
      "\x01"
      "b\xc0\x0c",
      4);  // offset 16: "b" then -> 12
  std::string name;
  EXPECT_FALSE(ReadName(msg, 16, &name).has_value());
  EXPECT_FALSE(ReadName(msg, 12, &name).has_value());

  // A proper backward chain is followed: "x" -> "b" -> "a.example".
  msg = Header(1, 0, 0);
  msg += std::string(
      "\x01"
      "a\x07"
      "example\0",
      11);  // 12
  msg += std::string(
      "\x01"
      "b\xc0\x0c",
      4);  // 23
  msg += std::string(
      "\x01"
      "X\xc0\x17",
      4);  // 27
  auto end = ReadName(msg, 27, &name);
  ASSERT_TRUE(end.has_value()) << end.error().message();
  EXPECT_EQ(*end, 31u);
  EXPECT_EQ(name, "x.b.a.example");

  // A chain of more than 128 pointers is refused even when each points back.
  msg = Header(1, 0, 0);
  msg.append(std::string("\0", 1));  // 12: root
  for (int i = 0; i < 130; ++i) {
    size_t target = msg.size() - 2 < 12 ? 12 : msg.size() - 2;
    msg.push_back(static_cast<char>(0xC0 | target >> 8));
    msg.push_back(static_cast<char>(target & 0xff));
  }
  EXPECT_TRUE(ReadName(msg, 13 + 2 * 100, &name).has_value());
  EXPECT_FALSE(ReadName(msg, msg.size() - 2, &name).has_value());
}

TEST(DnsMessage, BuildsAnswersThatParse) {
  std::string raw = *BuildQuery(0x4242, "Web.dns.berth", kTypeA);
  auto q = ParseQuery(raw);
  ASSERT_TRUE(q.has_value());
  std::string answer =
      BuildAnswer(raw, *q, kRcodeOk, {Ip("10.88.0.2"), Ip("fd00::2"), Ip("10.88.0.3")}, {}, 60);
  auto a = ParseAnswer(answer);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->id, 0x4242);
  EXPECT_EQ(a->flags, kFlagQr | kFlagRd | kFlagRa);
  EXPECT_EQ(a->qdcount, 1);
  EXPECT_EQ(a->ancount, 3);
  EXPECT_EQ(a->nscount, 0);
  EXPECT_EQ(a->arcount, 0);
  EXPECT_EQ(a->qname, "web.dns.berth");
  ASSERT_EQ(a->records.size(), 3u);
  EXPECT_EQ(a->records[0].type, kTypeA);
  EXPECT_EQ(a->records[1].type, kTypeAaaa);
  EXPECT_EQ(a->records[0].ttl, 60u);
  EXPECT_EQ(a->records[0].name, "web.dns.berth");
  EXPECT_EQ(a->Texts(), (std::vector<std::string>{"10.88.0.2", "fd00::2", "10.88.0.3"}));
  // The question is echoed verbatim (case included) and the answer re-parses as a question.
  EXPECT_EQ(answer.substr(12, q->question_end - 12), raw.substr(12));
  auto again = ParseQuery(answer);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->name, q->name);

  // RD is kept only if the query had it; rcode as given.
  raw[2] = 0;
  std::string nx = BuildAnswer(raw, *ParseQuery(raw), kRcodeNxDomain, {}, {}, 60);
  a = ParseAnswer(nx);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->flags, kFlagQr | kFlagRa | kRcodeNxDomain);
  EXPECT_EQ(a->ancount, 0);
}

TEST(DnsMessage, PtrAnswers) {
  std::string raw = *BuildQuery(9, "2.0.88.10.in-addr.arpa", kTypePtr);
  auto q = ParseQuery(raw);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->name, "2.0.88.10.in-addr.arpa");
  std::string bad_label(64, 'x');
  std::string answer =
      BuildAnswer(raw, *q, kRcodeOk, {}, {"web", bad_label, "a..b", "db.example."}, 30);
  auto a = ParseAnswer(answer);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->Texts(), (std::vector<std::string>{"web", "db.example"}));
  EXPECT_EQ(a->records[0].type, kTypePtr);
  EXPECT_EQ(a->records[0].ttl, 30u);
}

TEST(DnsMessage, TruncatesToMaxSize) {
  std::string raw = *BuildQuery(1, "many", kTypeA);
  auto q = ParseQuery(raw);
  std::vector<IpAddress> addrs;
  for (int i = 0; i < 100; ++i) addrs.push_back(Ip("10.0.0.1").Plus(i));
  std::string answer = BuildAnswer(raw, *q, kRcodeOk, addrs, {}, 60, kMaxUdpSize);
  EXPECT_LE(answer.size(), kMaxUdpSize);
  auto a = ParseAnswer(answer);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_TRUE(a->flags & kFlagTc);
  // 12 + 10 (question) + 16 per record.
  EXPECT_EQ(a->ancount, (kMaxUdpSize - 22) / 16);
  answer = BuildAnswer(raw, *q, kRcodeOk, addrs, {}, 60);
  a = ParseAnswer(answer);
  ASSERT_TRUE(a.has_value());
  EXPECT_FALSE(a->flags & kFlagTc);
  EXPECT_EQ(a->ancount, 100);
}

TEST(DnsMessage, BuildQueryRejectsBadNames) {
  EXPECT_FALSE(BuildQuery(1, "a..b", kTypeA).has_value());
  EXPECT_FALSE(BuildQuery(1, std::string(64, 'a'), kTypeA).has_value());
  EXPECT_TRUE(BuildQuery(1, std::string(63, 'a'), kTypeA).has_value());
  EXPECT_TRUE(BuildQuery(1, "", kTypeA).has_value());
}

}  // namespace
}  // namespace berth::net::dns
