#include "berth/base/strings.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(StringsTest, StrCatMixesTypes) {
  EXPECT_EQ(StrCat("a", 1, 'b', std::string("c"), -5L, 18446744073709551615UL),
            "a1bc-518446744073709551615");
}

TEST(StringsTest, SplitKeepsEmptyPieces) {
  EXPECT_EQ(Split("a::b", ':'), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(SplitNonEmpty("a::b:", ':'), (std::vector<std::string>{"a", "b"}));
}

TEST(StringsTest, ParseIntRejectsGarbage) {
  EXPECT_EQ(*ParseInt64("-12", "x"), -12);
  EXPECT_FALSE(ParseInt64("12a", "x").has_value());
  EXPECT_FALSE(ParseUint64("", "x").has_value());
  auto r = ParseUint64("-1", "memory.limit");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "memory.limit: invalid number `-1`");
}

TEST(StringsTest, TrimAndJoin) {
  EXPECT_EQ(Trim("  a b \n"), "a b");
  EXPECT_EQ(Join({"a", "b", "c"}, ","), "a,b,c");
}

TEST(StringsTest, JsonEscape) { EXPECT_EQ(JsonEscape("a\"b\\\n\x01"), "a\\\"b\\\\\\n\\u0001"); }

}  // namespace
}  // namespace berth

#include "berth/base/time.h"

TEST(TimeTest, Rfc3339RoundTrip) {
  int64_t t = 1764423901123456789;
  std::string s = berth::Rfc3339Nano(t);
  EXPECT_EQ(s, "2025-11-29T13:45:01.123456789Z");
  auto back = berth::ParseRfc3339(s);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, t);
  EXPECT_EQ(*berth::ParseRfc3339("2025-11-29T14:45:01+01:00"), 1764423901000000000);
  EXPECT_FALSE(berth::ParseRfc3339("2025-11-29 14:45").has_value());
}
