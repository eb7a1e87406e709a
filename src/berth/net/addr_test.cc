#include "berth/net/addr.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

TEST(Addr, ParsesAndPrintsBothFamilies) {
  auto a = IpAddress::Parse("10.77.0.5", "--ip");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ToString(), "10.77.0.5");
  auto b = IpAddress::Parse("fd00::1", "--ip6");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->family, AF_INET6);
  EXPECT_EQ(b->ToString(), "fd00::1");
  auto bad = IpAddress::Parse("10.77.0.300", "--ip");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("--ip"), std::string::npos);
}

TEST(Addr, PrefixArithmetic) {
  auto p = Prefix::Parse("10.77.1.0/24", "--subnet");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->Size(), 256u);
  EXPECT_EQ(p->Nth(1).ToString(), "10.77.1.1");
  EXPECT_EQ(p->Nth(255).ToString(), "10.77.1.255");
  EXPECT_TRUE(p->Contains(*IpAddress::Parse("10.77.1.9", "x")));
  EXPECT_FALSE(p->Contains(*IpAddress::Parse("10.77.2.9", "x")));
  EXPECT_EQ(p->OffsetOf(*IpAddress::Parse("10.77.1.9", "x")), 9u);
  auto wide = Prefix::Parse("10.0.0.0/8", "x");
  EXPECT_TRUE(wide->Overlaps(*p));
  EXPECT_TRUE(p->Overlaps(*wide));
  EXPECT_TRUE(wide->Contains(*p));
  EXPECT_FALSE(p->Contains(*wide));
  EXPECT_EQ(Prefix::Parse("10.77.0.0/23", "x")->Nth(256).ToString(), "10.77.1.0");
}

TEST(Addr, PrefixErrorsNameTheFlag) {
  auto host_bits = Prefix::Parse("10.77.1.3/24", "--subnet");
  ASSERT_FALSE(host_bits.has_value());
  EXPECT_NE(host_bits.error().message().find("10.77.1.0/24"), std::string::npos);
  EXPECT_FALSE(Prefix::Parse("10.77.1.0", "--subnet").has_value());
  EXPECT_FALSE(Prefix::Parse("10.77.1.0/33", "--subnet").has_value());
  auto v6 = Prefix::Parse("fd00:0:0:1::/64", "--subnet");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->Nth(2).ToString(), "fd00:0:0:1::2");
}

}  // namespace
}  // namespace berth::net
