#include "berth/runtime/mount_options.h"

#include <gtest/gtest.h>
#include <sys/mount.h>

namespace berth::runtime {
namespace {

TEST(MountOptionsTest, FlagsAndData) {
  auto o = ParseMountOptions({"nosuid", "noexec", "nodev", "mode=755", "size=65536k", "ro"}, "m");
  ASSERT_TRUE(o.has_value()) << o.error().message();
  EXPECT_EQ(o->flags, static_cast<unsigned long>(MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY));
  EXPECT_EQ(o->DataString(), "mode=755,size=65536k");
  EXPECT_FALSE(o->bind);
}

TEST(MountOptionsTest, LaterOptionWins) {
  auto o = ParseMountOptions({"ro", "rw", "nosuid", "suid"}, "m");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->flags & MS_RDONLY, 0u);
  EXPECT_EQ(o->flags & MS_NOSUID, 0u);
  EXPECT_NE(o->clear_flags & MS_RDONLY, 0u);
}

TEST(MountOptionsTest, BindAndPropagation) {
  auto o = ParseMountOptions({"rbind", "rprivate", "shared"}, "m");
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->bind);
  EXPECT_TRUE(o->recursive);
  ASSERT_EQ(o->propagation.size(), 2u);
  EXPECT_EQ(o->propagation[0], static_cast<unsigned long>(MS_PRIVATE | MS_REC));
  EXPECT_EQ(o->propagation[1], static_cast<unsigned long>(MS_SHARED));
}

TEST(MountOptionsTest, RecursiveAttributes) {
  auto o = ParseMountOptions({"rbind", "rro", "rnosuid", "rnoatime"}, "m");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->rec_attr_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME);
  EXPECT_NE(o->rec_attr_clr & MOUNT_ATTR__ATIME, 0u);
}

TEST(MountOptionsTest, AttrsOfBindFlags) {
  auto o = ParseMountOptions({"bind", "ro", "nodev", "relatime", "exec"}, "m");
  ASSERT_TRUE(o.has_value());
  EXPECT_EQ(o->AttrSet(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_RELATIME);
  EXPECT_EQ(o->AttrClr(), MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME);
}

TEST(MountOptionsTest, RejectsRemountAndEmpty) {
  auto r = ParseMountOptions({"remount"}, "mounts[2].options");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "mounts[2].options[0]: `remount` is not allowed in a container mount");
  EXPECT_FALSE(ParseMountOptions({""}, "m").has_value());
}

TEST(MountOptionsTest, CopyUpAndIdmap) {
  auto o = ParseMountOptions({"tmpcopyup", "idmap"}, "m");
  ASSERT_TRUE(o.has_value());
  EXPECT_TRUE(o->tmpcopyup);
  EXPECT_TRUE(o->idmap);
  EXPECT_TRUE(o->data.empty());
}

TEST(MountOptionsTest, KnownOptionsListsAll) {
  auto k = KnownMountOptions();
  for (const char* n : {"ro", "rbind", "rslave", "rro", "tmpcopyup", "nosymfollow"}) {
    EXPECT_NE(std::find(k.begin(), k.end(), n), k.end()) << n;
  }
}

}  // namespace
}  // namespace berth::runtime
