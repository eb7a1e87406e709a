#include "berth/runtime/seccomp_cache.h"

#include <dirent.h>
#include <gtest/gtest.h>

#include <cstring>

#include "berth/base/file.h"

namespace berth::runtime {
namespace {

oci::Seccomp Profile(const std::string& action) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall sc;
  sc.names = {"mkdir", "mkdirat"};
  sc.action = action;
  s.syscalls.push_back(sc);
  return s;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (auto* de = ::readdir(d))
      if (de->d_name[0] != '.') out.push_back(de->d_name);
    ::closedir(d);
  }
  return out;
}

class SeccompCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-seccomp-cache.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).has_value()); }
  std::string dir_;
};

TEST_F(SeccompCacheTest, HitReturnsTheSameProgram) {
  auto direct = CompileSeccomp(Profile("SCMP_ACT_ERRNO"));
  ASSERT_TRUE(direct.has_value()) << direct.error().message();
  auto first = CompileSeccompCached(Profile("SCMP_ACT_ERRNO"), dir_ + "/c");
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(Entries(dir_ + "/c").size(), 1u);
  auto second = CompileSeccompCached(Profile("SCMP_ACT_ERRNO"), dir_ + "/c");
  ASSERT_TRUE(second.has_value());
  ASSERT_EQ(second->filter.size(), direct->filter.size());
  EXPECT_EQ(0, std::memcmp(second->filter.data(), direct->filter.data(),
                           direct->filter.size() * sizeof(struct sock_filter)));
  EXPECT_EQ(second->flags, direct->flags);
}

TEST_F(SeccompCacheTest, DifferentProfilesDoNotShareAnEntry) {
  ASSERT_TRUE(CompileSeccompCached(Profile("SCMP_ACT_ERRNO"), dir_).has_value());
  auto kill = CompileSeccompCached(Profile("SCMP_ACT_KILL"), dir_);
  ASSERT_TRUE(kill.has_value());
  EXPECT_EQ(Entries(dir_).size(), 2u);
  auto direct = CompileSeccomp(Profile("SCMP_ACT_KILL"));
  ASSERT_EQ(kill->filter.size(), direct->filter.size());
  EXPECT_EQ(0, std::memcmp(kill->filter.data(), direct->filter.data(),
                           direct->filter.size() * sizeof(struct sock_filter)));
}

TEST_F(SeccompCacheTest, CorruptEntryIsRecompiled) {
  ASSERT_TRUE(CompileSeccompCached(Profile("SCMP_ACT_ERRNO"), dir_).has_value());
  auto names = Entries(dir_);
  ASSERT_EQ(names.size(), 1u);
  ASSERT_TRUE(WriteFile(dir_ + "/" + names[0], "berth-seccomp-v2\ngarbage").has_value());
  auto p = CompileSeccompCached(Profile("SCMP_ACT_ERRNO"), dir_);
  ASSERT_TRUE(p.has_value());
  EXPECT_FALSE(p->filter.empty());
  EXPECT_NE(ReadFile(dir_ + "/" + names[0])->find("mkdir"), std::string::npos);
}

TEST_F(SeccompCacheTest, ErrorsAreNotCached) {
  auto bad = CompileSeccompCached(Profile("SCMP_ACT_NOPE"), dir_);
  ASSERT_FALSE(bad.has_value());
  EXPECT_TRUE(Entries(dir_).empty());
}

}  // namespace
}  // namespace berth::runtime
