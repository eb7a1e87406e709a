#include "berth/runtime/container_state.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/sys/process.h"

namespace berth::runtime {
namespace {

class ContainerStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-state-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(root_).has_value()); }
  ContainerRecord Sample(const std::string& id) {
    ContainerRecord r;
    r.id = id;
    r.bundle = "/b";
    r.rootfs = "/b/rootfs";
    r.pid = ::getpid();
    r.pid_start_time = 1;  // not ours: the init is "gone"
    r.created = NowRfc3339Nano();
    r.hook_kinds = {"poststop"};
    r.annotations = {{"a", "b"}};
    r.cgroup_paths = {{"pids", "/sys/fs/cgroup/pids/x"}};
    r.namespaces = {"pid", "mount"};
    return r;
  }
  std::string root_;
};

TEST_F(ContainerStateTest, SaveLoadRoundTrip) {
  ASSERT_TRUE(::mkdir((root_ + "/c1").c_str(), 0700) == 0);
  ContainerRecord r = Sample("c1");
  ASSERT_TRUE(SaveRecord(root_, r).has_value());
  auto back = LoadRecord(root_, "c1");
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->ToJson(), r.ToJson());
  auto ids = ListIds(root_);
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(*ids, std::vector<std::string>{"c1"});
}

TEST_F(ContainerStateTest, ConfigInItsOwnFileOrInlineInAnOlderRecord) {
  ASSERT_TRUE(::mkdir((root_ + "/c3").c_str(), 0700) == 0);
  ContainerRecord r = Sample("c3");
  ASSERT_TRUE(SaveRecord(root_, r).has_value());
  EXPECT_FALSE(LoadConfig(root_, "c3").has_value());
  Json config = {{"ociVersion", "1.0.0"}, {"hooks", {{"poststart", {{{"path", "/bin/true"}}}}}}};
  ASSERT_TRUE(SaveConfig(root_, "c3", config).has_value());
  EXPECT_EQ(*LoadConfig(root_, "c3"), config);
  EXPECT_TRUE(LoadRecord(root_, "c3")->HasHooks("poststop"));
  EXPECT_FALSE(LoadRecord(root_, "c3")->HasHooks("poststart"));  // the record's summary

  // state.json as an older berth wrote it: the config inline, no summary.
  ASSERT_TRUE(::unlink((root_ + "/c3/config.json").c_str()) == 0);
  Json old = r.ToJson();
  old.erase("hook_kinds");
  old.erase("annotations");
  config["annotations"] = {{"k", "v"}};
  old["config"] = config;
  ASSERT_TRUE(WriteFile(root_ + "/c3/state.json", old.dump()).has_value());
  auto back = LoadRecord(root_, "c3");
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->hook_kinds, std::vector<std::string>{"poststart"});
  EXPECT_EQ(back->annotations, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(*LoadConfig(root_, "c3"), config);
}

// The engine's containers keep no copy: the bundle's config.json is read until `update`
// saves one of its own.
TEST_F(ContainerStateTest, ConfigInTheBundleUntilSaved) {
  ASSERT_TRUE(::mkdir((root_ + "/c4").c_str(), 0700) == 0);
  std::string bundle = root_ + "/bundle4";
  ASSERT_TRUE(::mkdir(bundle.c_str(), 0700) == 0);
  ContainerRecord r = Sample("c4");
  r.bundle = bundle;
  r.config_in_bundle = true;
  ASSERT_TRUE(SaveRecord(root_, r).has_value());
  EXPECT_TRUE(LoadRecord(root_, "c4")->config_in_bundle);
  auto missing = LoadConfig(root_, "c4");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find(bundle + "/config.json"), std::string::npos)
      << missing.error().message();
  Json in_bundle = {{"ociVersion", "1.0.2"}};
  ASSERT_TRUE(WriteFile(bundle + "/config.json", in_bundle.dump()).has_value());
  EXPECT_EQ(*LoadConfig(root_, "c4"), in_bundle);
  Json saved = {{"ociVersion", "1.0.2"}, {"annotations", {{"updated", "yes"}}}};
  ASSERT_TRUE(SaveConfig(root_, "c4", saved).has_value());
  EXPECT_EQ(*LoadConfig(root_, "c4"), saved);
}

TEST_F(ContainerStateTest, MissingContainerIsNotFound) {
  auto r = LoadRecord(root_, "nope");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(), "container `nope` does not exist");
}

TEST_F(ContainerStateTest, StatusFollowsTheInit) {
  ASSERT_TRUE(::mkdir((root_ + "/c2").c_str(), 0700) == 0);
  ContainerRecord r = Sample("c2");
  EXPECT_EQ(*GetStatus(root_, r), ContainerStatus::kStopped);  // start time does not match
  r.pid_start_time = *sys::ProcessStartTime(::getpid());
  EXPECT_EQ(*GetStatus(root_, r), ContainerStatus::kRunning);
  ASSERT_TRUE(WriteFile(root_ + "/c2/exec.fifo", "").has_value());
  EXPECT_EQ(*GetStatus(root_, r), ContainerStatus::kCreated);
}

TEST(ContainerIdTest, Validation) {
  EXPECT_TRUE(ValidateId("abc-1.2_x+y").has_value());
  EXPECT_FALSE(ValidateId("").has_value());
  EXPECT_FALSE(ValidateId("..").has_value());
  EXPECT_FALSE(ValidateId("a/b").has_value());
  EXPECT_FALSE(ValidateId("a b").has_value());
}

TEST(ContainerTimeTest, RfcFormat) {
  std::string t = NowRfc3339Nano();
  EXPECT_EQ(t.size() >= 20, true);
  EXPECT_EQ(t.back(), 'Z');
  EXPECT_EQ(t[10], 'T');
}

}  // namespace
}  // namespace berth::runtime
