#include "berth/sys/safe_path.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/file.h"

namespace berth::sys {
namespace {

// Runs every test with openat2 and with the fallback walk.
class SafePathTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    SetOpenat2Enabled(GetParam());
    char tmpl[] = "/tmp/berth-safepath.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    base_ = tmpl;
    root_ = base_ + "/root";
    ASSERT_TRUE(MkdirAll(root_ + "/etc").has_value());
    ASSERT_TRUE(WriteFile(root_ + "/etc/hostname", "inside").has_value());
    ASSERT_TRUE(WriteFile(base_ + "/secret", "outside").has_value());
    root_fd_.Reset(::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(root_fd_.valid());
  }
  void TearDown() override {
    SetOpenat2Enabled(true);
    ASSERT_TRUE(RemoveAll(base_).has_value());
  }
  std::string Read(std::string_view p) {
    auto fd = OpenInRoot(root_fd_.get(), p, O_RDONLY);
    if (!fd) return "ERR:" + fd.error().message();
    return *ReadFd(fd->get(), p);
  }
  std::string base_, root_;
  UniqueFd root_fd_;
};

TEST_P(SafePathTest, DotDotStaysInRoot) { EXPECT_EQ(Read("../../etc/hostname"), "inside"); }

TEST_P(SafePathTest, AbsoluteSymlinkResolvesInRoot) {
  ASSERT_EQ(::symlink("/etc/hostname", (root_ + "/link").c_str()), 0);
  EXPECT_EQ(Read("/link"), "inside");
}

TEST_P(SafePathTest, RelativeSymlinkCannotEscape) {
  ASSERT_EQ(::symlink("../../../secret", (root_ + "/etc/esc").c_str()), 0);
  // "../../../secret" from /etc is clamped at the root: /secret inside, which is missing.
  EXPECT_NE(Read("/etc/esc").find("ERR:"), std::string::npos);
}

TEST_P(SafePathTest, DirSymlinkEscapeIsContained) {
  ASSERT_EQ(::symlink(base_.c_str(), (root_ + "/hostdir").c_str()), 0);
  // base_ is absolute on the host but is resolved under the root, where it does not exist.
  EXPECT_NE(Read("/hostdir/secret").find("ERR:"), std::string::npos);
}

TEST_P(SafePathTest, MkdirAllThroughSymlinkStaysInRoot) {
  ASSERT_EQ(::symlink("/", (root_ + "/up").c_str()), 0);
  auto fd = MkdirAllInRoot(root_fd_.get(), "/up/../../made/deep");
  ASSERT_TRUE(fd.has_value()) << fd.error().message();
  struct stat st;
  EXPECT_EQ(::stat((root_ + "/made/deep").c_str(), &st), 0);
  EXPECT_NE(::stat((base_ + "/made").c_str(), &st), 0);
}

TEST_P(SafePathTest, EnsureFileCreatesParents) {
  auto fd = EnsureFileInRoot(root_fd_.get(), "/a/b/file");
  ASSERT_TRUE(fd.has_value()) << fd.error().message();
  EXPECT_TRUE(PathExists(root_ + "/a/b/file"));
}

TEST_P(SafePathTest, MkdirOverFileNamesIt) {
  auto fd = MkdirAllInRoot(root_fd_.get(), "/etc/hostname/x");
  ASSERT_FALSE(fd.has_value());
}

INSTANTIATE_TEST_SUITE_P(Openat2AndFallback, SafePathTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "fallback"; });

}  // namespace
}  // namespace berth::sys
