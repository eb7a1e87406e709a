// Unit tests: linux.cgroupsPath rules and the caller's-cgroup lookup.
#include "berth/cgroup/paths.h"

#include <gtest/gtest.h>

namespace berth::cgroup {
namespace {

Config Cfg(std::string path, std::string id = "ctr") {
  Config c;
  c.path = std::move(path);
  c.container_id = std::move(id);
  return c;
}

TEST(PathsTest, AbsoluteIsFromTheHierarchyRoot) {
  auto p = ContainerCgroup(Cfg("/berth/abc"), "/user.slice/me");
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(*p, "/berth/abc");
  EXPECT_EQ(*ContainerCgroup(Cfg("//a//b/./c/"), "/x"), "/a/b/c");
}

TEST(PathsTest, RelativeIsUnderOwnCgroup) {
  EXPECT_EQ(*ContainerCgroup(Cfg("pods/abc"), "/process_api/h1"), "/process_api/h1/pods/abc");
  EXPECT_EQ(*ContainerCgroup(Cfg("abc"), "/"), "/abc");
}

TEST(PathsTest, EmptyIsOwnCgroupPlusId) {
  EXPECT_EQ(*ContainerCgroup(Cfg("", "web"), "/process_api/h1"), "/process_api/h1/web");
  EXPECT_FALSE(ContainerCgroup(Cfg("", ""), "/").has_value());
  EXPECT_FALSE(ContainerCgroup(Cfg("", ".."), "/").has_value());
  EXPECT_FALSE(ContainerCgroup(Cfg("", "a/b"), "/").has_value());
}

TEST(PathsTest, RejectsDotDotRootAndSystemdForm) {
  for (const char* bad : {"../x", "/a/../../b", "a/..", "/", "/./"}) {
    auto p = ContainerCgroup(Cfg(bad), "/own");
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_NE(p.error().message().find("linux.cgroupsPath"), std::string::npos);
  }
  auto s = ContainerCgroup(Cfg("system.slice:berth:abc"), "/");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kUnsupported);
  // ".." inside a name is not a component.
  EXPECT_TRUE(ContainerCgroup(Cfg("/a..b"), "/").has_value());
}

TEST(PathsTest, OwnCgroupMatchesCoMountedKeysAndStripsMountRoot) {
  std::map<std::string, std::string> own = {
      {"cpu,cpuacct", "/a"}, {"memory", "/process_api/h"}, {"name=systemd", "/s"}, {"", "/u"}};
  EXPECT_EQ(*OwnCgroupIn(own, {"cpu", "cpuacct"}, "/"), "/a");
  EXPECT_EQ(*OwnCgroupIn(own, {"cpuacct"}, "/"), "/a");
  EXPECT_EQ(*OwnCgroupIn(own, {"memory"}, "/process_api"), "/h");
  EXPECT_EQ(*OwnCgroupIn(own, {"memory"}, "/process_api/h"), "/");
  EXPECT_EQ(*OwnCgroupIn(own, {"name=systemd"}, "/"), "/s");
  EXPECT_EQ(*OwnCgroupIn(own, {}, "/"), "/u");
  EXPECT_EQ(*OwnCgroupIn(own, {"pids"}, "/"), "/");  // not listed: the root
  EXPECT_FALSE(OwnCgroupIn(own, {"memory"}, "/elsewhere").has_value());
}

TEST(PathsTest, IsLeafUnder) {
  EXPECT_TRUE(IsLeafUnder("/sys/fs/cgroup/a/b", "/sys/fs/cgroup"));
  EXPECT_TRUE(IsLeafUnder("/sys/fs/cgroup/a", "/sys/fs/cgroup/"));
  EXPECT_FALSE(IsLeafUnder("/sys/fs/cgroup", "/sys/fs/cgroup"));
  EXPECT_FALSE(IsLeafUnder("/sys/fs/cgroupx/a", "/sys/fs/cgroup"));
  EXPECT_FALSE(IsLeafUnder("/sys/fs/cgroup/a/../../etc", "/sys/fs/cgroup"));
}

}  // namespace
}  // namespace berth::cgroup
