// Unit tests: layout detection from mountinfo, /proc/PID/cgroup parsing, features.
#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "berth/cgroup/fake_cgroupfs.h"
#include "berth/cgroup/manager.h"

namespace berth::cgroup {
namespace {

TEST(LayoutTest, HybridLikeThisHost) {
  testing::FakeCgroupfs fs;
  fs.File("unified/cgroup.controllers", "hugetlb\n");
  std::string text = StrCat(
      "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
      "rw,xattr,release_agent=/x,name=systemd\n"
      "41 31 0:38 / ",
      fs.Path("unified"), " rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n");
  auto l = LayoutFromMountInfo(text);
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(l->mode, Mode::kHybrid);
  EXPECT_EQ(l->unified_mount, fs.Path("unified"));
  EXPECT_EQ(l->unified_controllers, std::vector<std::string>{"hugetlb"});
  EXPECT_EQ(l->v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(l->v1_mounts.at("cpuacct"), "/sys/fs/cgroup/cpuacct");
  EXPECT_EQ(l->v1_mounts.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(l->v1_mounts.count("xattr"), 0u);
  EXPECT_EQ(l->v1_mounts.count("release_agent=/x"), 0u);
  EXPECT_TRUE(l->mount_roots.empty());
}

TEST(LayoutTest, CoMountedLegacyAndMountRoot) {
  auto l = LayoutFromMountInfo(
      "32 31 0:29 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro - cgroup cgroup rw,cpu,cpuacct\n"
      "33 31 0:29 /docker/abc /other/cpu ro - cgroup cgroup rw,cpu,cpuacct\n");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->mode, Mode::kLegacy);
  EXPECT_EQ(l->v1_mounts.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->v1_mounts.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(l->mount_roots.at("/sys/fs/cgroup/cpu,cpuacct"), "/docker/abc");
}

TEST(LayoutTest, PureV2IgnoresNamedV1) {
  auto l = LayoutFromMountInfo(
      "30 23 0:26 / /nonexistent-cgroup2 rw - cgroup2 cgroup2 rw\n"
      "40 31 0:37 / /run/systemd-v1 rw - cgroup cgroup rw,name=systemd\n");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->mode, Mode::kUnified);
  EXPECT_TRUE(l->v1_mounts.empty());
  EXPECT_TRUE(l->unified_controllers.empty());  // unreadable: empty, not an error
}

TEST(LayoutTest, NoCgroupsIsAnError) {
  EXPECT_FALSE(LayoutFromMountInfo("1 0 0:1 / / rw - ext4 /dev/sda rw\n").has_value());
}

TEST(LayoutTest, DetectOnThisHostWorks) {
  auto l = DetectLayout();
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_FALSE(l->unified_mount.empty() && l->v1_mounts.empty());
}

TEST(LayoutTest, ParseProcCgroups) {
  auto m =
      ParseProcCgroups("9:name=systemd:/\n4:memory:/process_api/h\n2:cpu,cpuacct:/a:b\n0::/\n");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->at("name=systemd"), "/");
  EXPECT_EQ(m->at("memory"), "/process_api/h");
  EXPECT_EQ(m->at("cpu,cpuacct"), "/a:b");
  EXPECT_EQ(m->at(""), "/");
  EXPECT_FALSE(ParseProcCgroups("garbage\n").has_value());
  auto self = ProcessCgroups(::getpid());
  ASSERT_TRUE(self.has_value()) << self.error().message();
  EXPECT_FALSE(self->empty());
}

TEST(LayoutTest, FeaturesJson) {
  Layout l;
  l.mode = Mode::kHybrid;
  l.unified_controllers = {"hugetlb"};
  Json j = FeaturesJson(l);
  EXPECT_EQ(j, Json::parse(R"({"v1":true,"v2":true,"systemd":false,"systemdUser":false,
                               "rdma":false})"));
  l.unified_controllers.push_back("rdma");
  EXPECT_TRUE(FeaturesJson(l)["rdma"].get<bool>());
}

}  // namespace
}  // namespace berth::cgroup

namespace berth::cgroup {
namespace {

TEST(LayoutShadowTest, MountCoveredByTmpfsIsIgnored) {
  const char* text =
      "30 22 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "31 30 0:27 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
      "32 30 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
      "40 32 0:50 / /sys/fs/cgroup/unified rw - tmpfs hide rw\n";
  auto l = LayoutFromMountInfo(text);
  ASSERT_TRUE(l.has_value()) << l.error().message();
  EXPECT_EQ(l->mode, Mode::kLegacy);
  EXPECT_TRUE(l->unified_mount.empty());
  EXPECT_EQ(l->v1_mounts.at("pids"), "/sys/fs/cgroup/pids");
}

}  // namespace
}  // namespace berth::cgroup
