#include "berth/image/digest.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(DigestOf(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(DigestOf("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, IncrementalEqualsOneShot) {
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
  Sha256 h;
  for (size_t i = 0; i < data.size(); i += 333) h.Update(std::string_view(data).substr(i, 333));
  EXPECT_EQ(h.Finish(), DigestOf(data));
}

TEST(DigestTest, MoveKeepsState) {
  Sha256 a;
  a.Update("ab");
  Sha256 b = std::move(a);
  b.Update("c");
  EXPECT_EQ(b.Finish(), DigestOf("abc"));
}

TEST(DigestTest, DigestHex) {
  std::string d = DigestOf("abc");
  auto hex = DigestHex(d);
  ASSERT_TRUE(hex.has_value());
  EXPECT_EQ(*hex, d.substr(7));
  EXPECT_FALSE(DigestHex("sha256:abc").has_value());
  EXPECT_FALSE(DigestHex(d.substr(7)).has_value());
  EXPECT_FALSE(DigestHex("sha512:" + d.substr(7)).has_value());
  std::string upper = d;
  upper[10] = 'A';
  upper[11] = 'B';
  auto bad = DigestHex(upper);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find(upper), std::string::npos);
  EXPECT_FALSE(DigestHex(d + "0").has_value());
}

}  // namespace
}  // namespace berth::image
