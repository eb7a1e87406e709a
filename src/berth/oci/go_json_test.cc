// Tests of the Go-compatible JSON writer.
#include "berth/oci/go_json.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

TEST(GoJsonTest, CompactAndIndentedLayout) {
  OrderedJson j = OrderedJson::parse(R"({"b": 1, "a": [true, null, -2], "e": {}, "f": []})");
  EXPECT_EQ(GoJsonMarshal(j), R"({"b":1,"a":[true,null,-2],"e":{},"f":[]})");
  EXPECT_EQ(GoJsonMarshalIndent(j, "  "),
            "{\n  \"b\": 1,\n  \"a\": [\n    true,\n    null,\n"
            "    -2\n  ],\n  \"e\": {},\n  \"f\": []\n}");
  EXPECT_EQ(GoJsonMarshal(OrderedJson(18446744073709551615ull)), "18446744073709551615");
}

TEST(GoJsonTest, EscapesLikeEncodingJson) {
  OrderedJson s = std::string("a\"\\\n\r\t\b\f\x01<>&\x7f/é\u2028\u2029");
  EXPECT_EQ(GoJsonMarshal(s),
            "\"a\\\"\\\\\\n\\r\\t\\u0008\\u000c\\u0001"
            "\\u003c\\u003e\\u0026\x7f/é\\u2028\\u2029\"");
}

TEST(GoJsonTest, ReplacesInvalidUtf8) {
  // A stray continuation byte, an overlong '/', a surrogate, a truncated sequence.
  OrderedJson s = std::string(
      "a\x80"
      "b\xc0\xaf"
      "c\xed\xa0\x80"
      "d\xe2\x82");
  EXPECT_EQ(GoJsonMarshal(s), "\"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\"");
  OrderedJson four = std::string("\xf0\x9f\x98\x80");  // U+1F600 stays as is
  EXPECT_EQ(GoJsonMarshal(four), "\"\xf0\x9f\x98\x80\"");
}

}  // namespace
}  // namespace berth::oci
