#include "berth/sys/mountinfo.h"

#include <gtest/gtest.h>

namespace berth::sys {
namespace {

constexpr char kSample[] =
    "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
    "23 22 0:21 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "24 23 0:22 / /sys/fs/cgroup/unified rw,relatime shared:7 master:3 - cgroup2 cgroup2 rw\n"
    "25 22 0:5 / /mnt/with\\040space rw - tmpfs none rw\n";

TEST(MountInfoTest, ParsesFields) {
  auto r = ParseMountInfo(kSample);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 4u);
  const auto& u = (*r)[2];
  EXPECT_EQ(u.id, 24);
  EXPECT_EQ(u.parent_id, 23);
  EXPECT_EQ(u.mount_point, "/sys/fs/cgroup/unified");
  EXPECT_EQ(u.fs_type, "cgroup2");
  EXPECT_TRUE(u.IsShared());
  EXPECT_TRUE(u.IsSlave());
  EXPECT_EQ((*r)[3].mount_point, "/mnt/with space");
}

TEST(MountInfoTest, FindMountFor) {
  auto r = ParseMountInfo(kSample);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(FindMountFor(*r, "/sys/fs/cgroup/unified/x")->id, 24);
  EXPECT_EQ(FindMountFor(*r, "/sys/fs/cgroupx")->id, 22);
  EXPECT_EQ(FindMountFor(*r, "/home")->id, 22);
}

TEST(MountInfoTest, RejectsMalformed) {
  EXPECT_FALSE(ParseMountInfo("1 2 3\n").has_value());
}

TEST(MountInfoTest, ReadsOwn) {
  auto r = ReadMountInfo();
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->empty());
}

}  // namespace
}  // namespace berth::sys
