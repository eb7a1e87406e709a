#include "berth/base/file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace berth {
namespace {

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-file-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).has_value()); }
  std::string dir_;
};

TEST_F(FileTest, AtomicWriteThenRead) {
  std::string p = dir_ + "/state.json";
  ASSERT_TRUE(AtomicWriteFile(p, "one").has_value());
  ASSERT_TRUE(AtomicWriteFile(p, "two").has_value());
  EXPECT_EQ(*ReadFile(p), "two");
}

TEST_F(FileTest, ReadMissingNamesPath) {
  auto r = ReadFile(dir_ + "/nope");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("/nope`"), std::string::npos);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST_F(FileTest, MkdirAllAndRemoveAll) {
  std::string deep = dir_ + "/a/b/c";
  ASSERT_TRUE(MkdirAll(deep).has_value());
  ASSERT_TRUE(MkdirAll(deep).has_value());  // idempotent
  ASSERT_TRUE(WriteFile(deep + "/f", "x").has_value());
  ASSERT_TRUE(RemoveAll(dir_ + "/a").has_value());
  EXPECT_FALSE(PathExists(dir_ + "/a"));
}

TEST_F(FileTest, RemoveAllButKeepsOneEntryAndTheDirectory) {
  ASSERT_TRUE(MkdirAll(dir_ + "/c/keep/inner").has_value());
  ASSERT_TRUE(MkdirAll(dir_ + "/c/gone/deep").has_value());
  ASSERT_TRUE(WriteNewFile(dir_ + "/c/file", "x").has_value());
  ASSERT_EQ(::symlink("/etc", (dir_ + "/c/link").c_str()), 0);  // removed, not followed
  ASSERT_TRUE(RemoveAllBut(dir_ + "/c", "keep").has_value());
  EXPECT_TRUE(PathExists(dir_ + "/c/keep/inner"));
  EXPECT_FALSE(PathExists(dir_ + "/c/gone"));
  EXPECT_FALSE(PathExists(dir_ + "/c/file"));
  EXPECT_FALSE(PathExists(dir_ + "/c/link"));
  EXPECT_TRUE(PathExists("/etc/hostname") || PathExists("/etc/passwd"));
  EXPECT_TRUE(RemoveAllBut(dir_ + "/missing", "keep").has_value());
}

TEST_F(FileTest, WriteNewFileRefusesAnExistingFile) {
  ASSERT_TRUE(WriteNewFile(dir_ + "/f", "one").has_value());
  auto again = WriteNewFile(dir_ + "/f", "two");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().sys_errno(), EEXIST);
  EXPECT_EQ(*ReadFile(dir_ + "/f"), "one");
}

TEST_F(FileTest, MkdirAllOverFileFails) {
  ASSERT_TRUE(WriteFile(dir_ + "/f", "x").has_value());
  EXPECT_FALSE(MkdirAll(dir_ + "/f").has_value());
}

}  // namespace
}  // namespace berth
