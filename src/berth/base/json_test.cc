#include "berth/base/json.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(JsonTest, ParseErrorNamesLineAndColumn) {
  auto r = ParseJson("{\n  \"a\": 1,\n  \"b\": ]\n}", "config.json");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().rfind("config.json: line 3, column 8:", 0), 0u)
      << r.error().message();
}

TEST(JsonTest, ParsesValid) {
  auto r = ParseJson(R"({"x": [1, 2]})", "t");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ((*r)["x"][1], 2);
}

}  // namespace
}  // namespace berth
