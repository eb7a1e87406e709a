// Tests of ResolveUser against a temp-dir rootfs: names, numbers, groups, --group-add, and
// that a symlinked /etc/passwd is resolved inside the rootfs, never on the host.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "berth/base/file.h"
#include "berth/engine/spec_gen.h"
#include "berth/sys/safe_path.h"

namespace berth::engine {
namespace {

class UserLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-user-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    root_ = dir_ + "/rootfs";
    ASSERT_TRUE(MkdirAll(root_ + "/etc").has_value());
    Write("/etc/passwd",
          "root:x:0:0:root:/root:/bin/sh\n"
          "# a comment\n"
          "daemon:x:1:1::/:/bin/false\n"
          "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
          "broken line\n"
          "bob:x:1001:100::/home/bob:/bin/sh\n");
    Write("/etc/group",
          "root:x:0:root\n"
          "wheel:x:10:root,alice\n"
          "users:x:100:\n"
          "alice:x:1000:\n"
          "audio:x:29:bob,alice\n");
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  void Write(const std::string& rel, const std::string& text) {
    ASSERT_TRUE(WriteFile(root_ + rel, text).has_value());
  }

  std::string dir_, root_;
};

TEST_F(UserLookupTest, EmptyIsRootWithMembershipGroups) {
  auto u = ResolveUser(root_, "", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{0, 10}));
}

TEST_F(UserLookupTest, NameGivesUidGidAndGroups) {
  auto u = ResolveUser(root_, "alice", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{1000, 10, 29}));
}

TEST_F(UserLookupTest, NumericUidFindsEntryOrRunsWithGidZero) {
  auto u = ResolveUser(root_, "1001", {});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->uid, 1001u);
  EXPECT_EQ(u->gid, 100u);
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{100, 29}));
  u = ResolveUser(root_, "4242", {});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->uid, 4242u);
  EXPECT_EQ(u->gid, 0u);
  EXPECT_EQ(u->additional_gids, std::vector<uint32_t>{0});
}

TEST_F(UserLookupTest, ExplicitGroupReplacesMembership) {
  auto u = ResolveUser(root_, "alice:users", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 100u);
  EXPECT_EQ(u->additional_gids, std::vector<uint32_t>{100});
  u = ResolveUser(root_, "5000:6000", {});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->uid, 5000u);
  EXPECT_EQ(u->gid, 6000u);
  u = ResolveUser(root_, ":wheel", {});
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->uid, 0u);
  EXPECT_EQ(u->gid, 10u);
}

TEST_F(UserLookupTest, GroupAddAppendsWithoutDuplicates) {
  auto u = ResolveUser(root_, "alice", {"audio", "users", "777"});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->additional_gids, (std::vector<uint32_t>{1000, 10, 29, 100, 777}));
  auto bad = ResolveUser(root_, "alice", {"nogroup"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("nogroup"), std::string::npos);
}

TEST_F(UserLookupTest, UnknownNamesAreErrors) {
  auto u = ResolveUser(root_, "mallory", {});
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().message(), "unable to find user mallory: no matching entries in passwd file");
  u = ResolveUser(root_, "alice:nogroup", {});
  ASSERT_FALSE(u.has_value());
  EXPECT_EQ(u.error().message(), "unable to find group nogroup: no matching entries in group file");
  EXPECT_FALSE(ResolveUser(root_, "alice:", {}).has_value());
  EXPECT_FALSE(ResolveUser(root_, "99999999999", {}).has_value());
}

TEST_F(UserLookupTest, MissingFilesAllowNumericOnly) {
  ASSERT_EQ(unlink((root_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(unlink((root_ + "/etc/group").c_str()), 0);
  auto u = ResolveUser(root_, "123:456", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 123u);
  EXPECT_EQ(u->gid, 456u);
  EXPECT_FALSE(ResolveUser(root_, "alice", {}).has_value());
}

// The host file the symlinks below point at; it names a user the rootfs does not have.
TEST_F(UserLookupTest, SymlinkedPasswdStaysInsideRootfs) {
  std::string outside = dir_ + "/outside-passwd";
  ASSERT_TRUE(WriteFile(outside, "mallory:x:666:666::/:/bin/sh\n").has_value());
  for (bool openat2 : {true, false}) {
    sys::SetOpenat2Enabled(openat2);
    for (const std::string& target : {outside, std::string("../../outside-passwd"),
                                      std::string("../../../../../../") + outside}) {
      ASSERT_EQ(unlink((root_ + "/etc/passwd").c_str()) == 0 || errno == ENOENT, true);
      ASSERT_EQ(symlink(target.c_str(), (root_ + "/etc/passwd").c_str()), 0);
      auto u = ResolveUser(root_, "mallory", {});
      EXPECT_FALSE(u.has_value()) << "read the host's file through " << target;
    }
  }
  sys::SetOpenat2Enabled(true);
  // A symlink that stays inside the rootfs is followed.
  ASSERT_TRUE(WriteFile(root_ + "/etc/passwd.real", "carol:x:7:7::/:/bin/sh\n").has_value());
  ASSERT_EQ(unlink((root_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(symlink("/etc/passwd.real", (root_ + "/etc/passwd").c_str()), 0);
  auto u = ResolveUser(root_, "carol", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 7u);
}

TEST_F(UserLookupTest, RefusesNonRegularPasswd) {
  ASSERT_EQ(unlink((root_ + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(mkfifo((root_ + "/etc/passwd").c_str(), 0644), 0);
  auto u = ResolveUser(root_, "alice", {});  // must not block on the FIFO
  ASSERT_FALSE(u.has_value());
  EXPECT_NE(u.error().message().find("not a regular file"), std::string::npos);
}

}  // namespace
}  // namespace berth::engine
