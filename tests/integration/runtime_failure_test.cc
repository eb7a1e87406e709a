// Failures: every failing create/run exits non-zero, names what is at fault (berth's
// wording; skipped under runc) and leaves nothing behind; berth's failpoints prove each
// setup step rolls back; CLI errors (unknown ids, duplicate ids, bad config.json).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <functional>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::HasSubstr;

struct FailureCase {
  const char* name;
  std::function<void(Json& spec, const std::string& test_dir)> edit;
  const char* fault;  // what berth's message must name
};

const FailureCase kFailureCases[] = {
    {"BadMountSource",
     [](Json& s, const std::string& d) {
       AddMount(s, "/mnt/x", "bind", d + "/no-such-source", {"rbind"});
     },
     "no-such-source"},
    {"BadMountType",
     [](Json& s, const std::string&) { AddMount(s, "/mnt/x", "berthnosuchfs", "none", {}); },
     "berthnosuchfs"},
    {"BadRlimitType",
     [](Json& s, const std::string&) {
       s["process"]["rlimits"] = {{{"type", "RLIMIT_BOGUS"}, {"soft", 1}, {"hard", 1}}};
     },
     "RLIMIT_BOGUS"},
    {"FailingCreateRuntimeHook",
     [](Json& s, const std::string&) { AddHook(s, "createRuntime", "/bin/false", {"false"}); },
     "createRuntime"},
    {"MissingExecutable", [](Json& s, const std::string&) { SetArgs(s, {"/no-such-binary"}); },
     "/no-such-binary"},
    {"InvalidCpuset",
     [](Json& s, const std::string&) {
       s["linux"]["resources"]["cpu"] = {{"cpus", "999"}};
     },
     "cpuset"},
    {"MemoryLimitBelowUsage",
     [](Json& s, const std::string&) {
       s["linux"]["resources"]["memory"] = {{"limit", 4096}};
     },
     "memory"},
    {"UserNamespaceWithoutMappings", [](Json& s, const std::string&) { SetNamespace(s, "user"); },
     "uidMappings"},
    {"NetworkNamespacePathMissing",
     [](Json& s, const std::string& d) { SetNamespace(s, "network", d + "/no-such-netns"); },
     "no-such-netns"},
};

void PrintTo(const FailureCase& c, std::ostream* os) { *os << c.name; }

class FailureCleanupTest : public RuntimeTest, public ::testing::WithParamInterface<FailureCase> {};

TEST_P(FailureCleanupTest, CreateFailsNamesTheFaultAndLeavesNothing) {
  const FailureCase& fc = GetParam();
  fc.edit(bundle().spec(), dir());
  ASSERT_TRUE(bundle().Write().has_value());
  std::string id = NewId();
  CommandResult c = rt().Create(id, bundle().dir());
  CommandResult failed = c;
  if (c.ok()) {
    // A runtime may find some faults only at start (runc finds them all at create).
    CommandResult s = rt().Start(id);
    EXPECT_NE(s.exit_code, 0) << "neither create nor start failed: " << s.Describe();
    failed = s;
    rt().Delete(id, true);
  } else {
    EXPECT_NE(rt().State(id).exit_code, 0) << "a failed create left a container";
  }
  ExpectNoLeaks();
  if (!RuntimeIsRunc()) {
    EXPECT_THAT(failed.err, HasSubstr(fc.fault)) << "the error must name what is at fault";
  }
}

TEST_P(FailureCleanupTest, RunFailsAndLeavesNothing) {
  const FailureCase& fc = GetParam();
  fc.edit(bundle().spec(), dir());
  CommandResult r = RunBundle(NewId(), bundle());
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  ExpectNoLeaks();
  if (!RuntimeIsRunc()) {
    EXPECT_THAT(r.err, HasSubstr(fc.fault)) << "the error must name what is at fault";
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, FailureCleanupTest, ::testing::ValuesIn(kFailureCases),
                         [](const auto& info) { return std::string(info.param.name); });

// berth's failpoints: BERTH_FAILPOINT=<name> makes that step fail as if its syscall had.
class FailpointTest : public RuntimeTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(FailpointTest, CreateRollsBack) {
  BERTH_SKIP_IF_RUNC("failpoints are berth's test hooks");
  std::string point = GetParam();
  // Resources every step can leak: a cgroup limit, a hook, a bind mount, a netns.
  bundle().spec()["linux"]["resources"]["pids"] = {{"limit", 50}};
  AddMount(bundle().spec(), "/mnt/host", "bind", MakeHostDir("src"), {"rbind"});
  SetArgs(bundle().spec(), {"/probe", "sleep", "100", tag()});
  ASSERT_TRUE(bundle().Write().has_value());
  std::string id = NewId();
  CommandOptions opts;
  opts.env = {"BERTH_FAILPOINT=" + point};
  CommandResult c = rt().Create(id, bundle().dir(), {}, opts);
  EXPECT_NE(c.exit_code, 0) << "failpoint " << point << " did not fail create: " << c.Describe();
  EXPECT_NE(rt().State(id).exit_code, 0) << "a failed create left a container";
  ExpectNoLeaks();
}

TEST_P(FailpointTest, RunRollsBack) {
  BERTH_SKIP_IF_RUNC("failpoints are berth's test hooks");
  std::string point = GetParam();
  bundle().spec()["linux"]["resources"]["pids"] = {{"limit", 50}};
  SetArgs(bundle().spec(), {"/probe", "exit", "0"});
  std::string id = NewId();
  CommandOptions opts;
  opts.env = {"BERTH_FAILPOINT=" + point};
  CommandResult r = RunBundle(id, bundle(), {}, opts);
  EXPECT_NE(r.exit_code, 0) << "failpoint " << point << " did not fail run: " << r.Describe();
  ExpectNoLeaks();
}

INSTANTIATE_TEST_SUITE_P(Points, FailpointTest,
                         ::testing::Values("create:after-state-dir", "create:after-cgroup",
                                           "create:after-clone", "init:after-mounts",
                                           "init:after-pivot", "init:before-ready",
                                           "create:before-state-write"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

using ErrorsTest = RuntimeTest;

TEST_F(ErrorsTest, UnknownIdFails) {
  std::string id = tag() + "-nosuch";
  EXPECT_NE(rt().State(id).exit_code, 0);
  EXPECT_NE(rt().Start(id).exit_code, 0);
  EXPECT_NE(rt().Kill(id, "KILL").exit_code, 0);
  EXPECT_NE(rt().Delete(id).exit_code, 0);
  EXPECT_NE(rt().Run({"pause", id}).exit_code, 0);
  EXPECT_NE(rt().Run({"resume", id}).exit_code, 0);
  EXPECT_NE(rt().Run({"ps", id}).exit_code, 0);
  EXPECT_NE(rt().Run({"events", "--stats", id}).exit_code, 0);
  EXPECT_NE(rt().Run({"update", "--pids-limit", "10", id}).exit_code, 0);
  ExpectNoLeaks();
}

TEST_F(ErrorsTest, CreateOfExistingIdFailsAndKeepsTheFirst) {
  std::string id = NewId();
  ASSERT_TRUE(bundle().Write().has_value());
  ASSERT_TRUE(rt().Create(id, bundle().dir()).ok());
  int pid = rt().Pid(id);
  auto b2 = NewBundle();
  ASSERT_TRUE(b2.has_value());
  ASSERT_TRUE(b2->Write().has_value());
  CommandResult again = rt().Create(id, b2->dir());
  EXPECT_NE(again.exit_code, 0) << again.Describe();
  auto st = rt().StateJson(id);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ((*st)["pid"], pid);
  EXPECT_EQ((*st)["bundle"], bundle().dir()) << "the second create replaced the first";
  EXPECT_EQ((*st)["status"], "created");
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(ErrorsTest, StateOpsOnWrongStatusFail) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "exit", "0"});
  ASSERT_TRUE(bundle().Write().has_value());
  ASSERT_TRUE(rt().Create(id, bundle().dir()).ok());
  ASSERT_TRUE(rt().Start(id).ok());
  ASSERT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_NE(rt().Start(id).exit_code, 0) << "start of a stopped container";
  EXPECT_NE(rt().Kill(id, "TERM").exit_code, 0) << "kill of a stopped container";
  EXPECT_NE(rt().Run({"pause", id}).exit_code, 0) << "pause of a stopped container";
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(ErrorsTest, InvalidIdsAreRefused) {
  ASSERT_TRUE(bundle().Write().has_value());
  for (const char* bad : {"..", "a/b", "../escape", ""}) {
    CommandResult c = rt().Create(bad, bundle().dir());
    EXPECT_NE(c.exit_code, 0) << "id `" << bad << "` accepted";
    rt().Delete(bad, true);
  }
  EXPECT_FALSE(PathExists(dir() + "/escape")) << "an id escaped the state root";
  ExpectNoLeaks();
}

struct BadConfig {
  const char* name;
  std::function<std::string(const Json& good)> make;
  const char* field;  // what berth's message must name
};

const BadConfig kBadConfigs[] = {
    {"NotJson", [](const Json&) { return std::string("{ \"ociVersion\": "); }, "config.json"},
    {"ArgsNotAList",
     [](const Json& g) {
       Json j = g;
       j["process"]["args"] = "not a list";
       return j.dump();
     },
     "process.args"},
    {"EmptyArgs",
     [](const Json& g) {
       Json j = g;
       j["process"]["args"] = Json::array();
       return j.dump();
     },
     "process.args"},
    {"UidNotANumber",
     [](const Json& g) {
       Json j = g;
       j["process"]["user"]["uid"] = "root";
       return j.dump();
     },
     "process.user.uid"},
    {"UnknownNamespaceType",
     [](const Json& g) {
       Json j = g;
       SetNamespace(j, "berthns");
       return j.dump();
     },
     "berthns"},
    {"MissingRoot",
     [](const Json& g) {
       Json j = g;
       j.erase("root");
       return j.dump();
     },
     "root"},
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public RuntimeTest, public ::testing::WithParamInterface<BadConfig> {};

TEST_P(BadConfigTest, IsRefusedNamingTheField) {
  const BadConfig& bc = GetParam();
  ASSERT_TRUE(WriteFile(bundle().config_path(), bc.make(bundle().spec())).has_value());
  std::string id = NewId();
  CommandResult c = rt().Create(id, bundle().dir());
  EXPECT_NE(c.exit_code, 0) << c.Describe();
  EXPECT_NE(rt().State(id).exit_code, 0);
  ExpectNoLeaks();
  if (!RuntimeIsRunc()) {
    EXPECT_THAT(c.err, HasSubstr(bc.field)) << "berth must name the field at fault";
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, BadConfigTest, ::testing::ValuesIn(kBadConfigs),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(ErrorsTest, ErrorsGoToTheJsonLogFile) {
  // containerd and podman pass --log FILE --log-format json and read the error from there.
  AddMount(bundle().spec(), "/mnt/x", "bind", dir() + "/no-such-source", {"rbind"});
  ASSERT_TRUE(bundle().Write().has_value());
  std::string log = dir() + "/runtime-log.json";
  std::string id = NewId();
  CommandResult c =
      rt().Run({"--log", log, "--log-format", "json", "create", "--bundle", bundle().dir(), id});
  EXPECT_NE(c.exit_code, 0);
  auto text = ReadFile(log);
  ASSERT_TRUE(text.has_value()) << "no log file written";
  bool error_line = false;
  for (const auto& line : SplitNonEmpty(*text, '\n')) {
    Json j = Json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << "not a JSON line: " << line;
    EXPECT_TRUE(j.contains("msg") && j.contains("level") && j.contains("time")) << line;
    if (j.value("level", "") == "error") {
      error_line = true;
      EXPECT_THAT(j.value("msg", ""), HasSubstr("no-such-source")) << line;
    }
  }
  EXPECT_TRUE(error_line) << *text;
  ExpectNoLeaks();
}

TEST_F(ErrorsTest, MissingConfigOrRootfsFails) {
  std::string id = NewId();
  CommandResult no_config = rt().Create(id, bundle().dir());  // config.json never written
  EXPECT_NE(no_config.exit_code, 0);
  ASSERT_TRUE(bundle().Write().has_value());
  std::error_code ec;
  std::filesystem::rename(bundle().rootfs(), bundle().dir() + "/elsewhere", ec);
  ASSERT_FALSE(ec);
  CommandResult no_rootfs = rt().Create(id, bundle().dir());
  EXPECT_NE(no_rootfs.exit_code, 0);
  EXPECT_NE(rt().State(id).exit_code, 0);
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
