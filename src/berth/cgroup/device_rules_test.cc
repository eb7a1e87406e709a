// Unit tests: OCI device rules to kernel rules; v1 emulation and the update plan.
#include "berth/cgroup/device_rules.h"

#include <gtest/gtest.h>

#include "berth/cgroup/v1/v1.h"

namespace berth::cgroup {
namespace {

oci::DeviceRule Rule(bool allow, std::string type, std::optional<int64_t> major,
                     std::optional<int64_t> minor, std::string access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = std::move(type);
  r.major = major;
  r.minor = minor;
  r.access = std::move(access);
  return r;
}

std::vector<DevRule> Convert(const std::vector<oci::DeviceRule>& in) {
  auto r = ConvertDeviceRules(in);
  EXPECT_TRUE(r.has_value()) << r.error().message();
  return r.has_value() ? *r : std::vector<DevRule>{};
}

TEST(DeviceRulesTest, V1Strings) {
  auto r = Convert({Rule(false, "", {}, {}, ""), Rule(true, "c", 1, 3, "rwm"),
                    Rule(true, "c", 136, {}, "rw"), Rule(true, "b", {}, {}, "m"),
                    Rule(true, "c", 5, 1, "mwr")});
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(DevRuleV1String(r[0]), "a *:* rwm");
  EXPECT_TRUE(r[0].IsWildcard());
  EXPECT_FALSE(r[0].allow);
  EXPECT_EQ(DevRuleV1String(r[1]), "c 1:3 rwm");
  EXPECT_EQ(DevRuleV1String(r[2]), "c 136:* rw");
  EXPECT_EQ(DevRuleV1String(r[3]), "b *:* m");
  EXPECT_EQ(DevRuleV1String(r[4]), "c 5:1 rwm");
}

TEST(DeviceRulesTest, ConversionErrorsNameTheField) {
  auto bad_type = ConvertDeviceRules({Rule(true, "c", 1, 3, "rw"), Rule(true, "p", 1, 3, "r")});
  ASSERT_FALSE(bad_type.has_value());
  EXPECT_EQ(bad_type.error().message().rfind("linux.resources.devices[1].type", 0), 0u);
  auto bad_access = ConvertDeviceRules({Rule(true, "c", 1, 3, "rx")});
  ASSERT_FALSE(bad_access.has_value());
  EXPECT_EQ(bad_access.error().message().rfind("linux.resources.devices[0].access", 0), 0u);
  EXPECT_FALSE(ConvertDeviceRules({Rule(true, "c", -2, 3, "r")}).has_value());
  EXPECT_FALSE(ConvertDeviceRules({Rule(true, "c", 1, 1 << 21, "r")}).has_value());
}

TEST(DeviceRulesTest, EffectivePolicyDropsRulesBeforeAReset) {
  auto p = EffectivePolicy(Convert({Rule(true, "c", 1, 3, "rwm"), Rule(false, "a", {}, {}, "rwm"),
                                    Rule(true, "c", 1, 5, "rwm")}));
  EXPECT_FALSE(p.default_allow);
  ASSERT_EQ(p.rules.size(), 1u);
  EXPECT_EQ(p.rules[0].minor, 5);
  EXPECT_TRUE(EffectivePolicy(Convert({Rule(true, "c", 1, 3, "r")})).default_allow);
}

TEST(DeviceRulesV1Test, EmulateAndPlanFromAllowAll) {
  auto target = v1::EmulateV1(Convert({Rule(false, "", {}, {}, "rwm"), Rule(true, "c", 1, 3, "rwm"),
                                       Rule(true, "c", 1, 5, "r"), Rule(false, "c", 1, 3, "w")}));
  ASSERT_TRUE(target.has_value());
  EXPECT_FALSE(target->default_allow);
  ASSERT_EQ(target->exceptions.size(), 2u);
  EXPECT_EQ((target->exceptions[{'c', 1, 3}]), kAccRead | kAccMknod);
  auto cur = v1::ParseDevicesList("a *:* rwm\n");
  EXPECT_TRUE(cur.default_allow);
  auto writes = v1::PlanDeviceWrites(cur, *target);
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[0].file, "devices.deny");
  EXPECT_EQ(writes[0].line, "a *:* rwm");
  EXPECT_EQ(writes[1].file, "devices.allow");
  EXPECT_EQ(writes[1].line, "c 1:3 rm");
  EXPECT_EQ(writes[2].line, "c 1:5 r");
}

TEST(DeviceRulesV1Test, UpdateOfDefaultDenyNeverDeniesWhatStaysAllowed) {
  // Running container: /dev/null and /dev/zero allowed; the update keeps /dev/null, drops
  // /dev/zero, adds /dev/full, and narrows /dev/tty to read.
  auto cur = v1::ParseDevicesList("c 1:3 rwm\nc 1:5 rwm\nc 5:0 rw\n");
  EXPECT_FALSE(cur.default_allow);
  auto target =
      v1::EmulateV1(Convert({Rule(false, "a", {}, {}, "rwm"), Rule(true, "c", 1, 3, "rwm"),
                             Rule(true, "c", 1, 7, "rwm"), Rule(true, "c", 5, 0, "r")}));
  ASSERT_TRUE(target.has_value());
  auto writes = v1::PlanDeviceWrites(cur, *target);
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[0].file, "devices.allow");
  EXPECT_EQ(writes[0].line, "c 1:7 rwm");
  EXPECT_EQ(writes[1].file, "devices.deny");
  EXPECT_EQ(writes[1].line, "c 1:5 rwm");
  EXPECT_EQ(writes[2].file, "devices.deny");
  EXPECT_EQ(writes[2].line, "c 5:0 w");
  for (const auto& w : writes) EXPECT_NE(w.line, "a *:* rwm");
  // The same set again: nothing to write.
  EXPECT_TRUE(v1::PlanDeviceWrites(v1::ParseDevicesList("c 1:3 rwm\nc 1:7 rwm\nc 5:0 r\n"), *target)
                  .empty());
}

TEST(DeviceRulesV1Test, DefaultAllowTargetResetsThenDenies) {
  auto target = v1::EmulateV1(Convert({Rule(false, "c", 10, 200, "rwm")}));
  ASSERT_TRUE(target.has_value());
  EXPECT_TRUE(target->default_allow);
  auto writes = v1::PlanDeviceWrites(v1::ParseDevicesList("c 1:3 rwm\n"), *target);
  ASSERT_EQ(writes.size(), 2u);
  EXPECT_EQ(writes[0].file, "devices.allow");
  EXPECT_EQ(writes[0].line, "a *:* rwm");
  EXPECT_EQ(writes[1].file, "devices.deny");
  EXPECT_EQ(writes[1].line, "c 10:200 rwm");
}

TEST(DeviceRulesV1Test, PartialTypeAIsRefused) {
  auto r = v1::EmulateV1(Convert({Rule(false, "a", {}, {}, "rwm"), Rule(true, "a", {}, {}, "r")}));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message().rfind("linux.resources.devices[1]", 0), 0u);
}

}  // namespace
}  // namespace berth::cgroup
