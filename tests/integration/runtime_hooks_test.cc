// OCI hooks: all six kinds run, in order, with the state on stdin, in the namespaces the spec
// names; hook env and args are passed; timeouts kill a hanging hook; failures fail the step
// they belong to (or only warn, for poststart and poststop).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

uint64_t HostNs(const std::string& name) {
  struct stat st;
  return ::stat(("/proc/self/ns/" + name).c_str(), &st) == 0 ? st.st_ino : 0;
}

class HooksTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    log_dir_ = MakeHostDir("hooklog");
    // The startContainer hook runs inside the container: it logs through this bind mount.
    AddMount(bundle().spec(), "/hooklog", "bind", log_dir_, {"rbind"});
  }

  // A hook running the host's probe (runtime namespace paths), logging to the host file.
  void AddHostHook(const std::string& kind, const std::string& label,
                   std::vector<std::string> extra = {}, int timeout = 0,
                   const std::vector<std::string>& env = {}) {
    std::vector<std::string> args = {"probe", "hook", label, log_dir_ + "/hooks.log"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(tag());  // lets the leak checker find a hook left running
    AddHook(bundle().spec(), kind, ProbePath(), args, timeout, env);
  }

  // The startContainer hook: path and log resolved inside the container.
  void AddContainerHook(const std::string& label, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"probe", "hook", label, "/hooklog/hooks.log"};
    args.insert(args.end(), extra.begin(), extra.end());
    args.push_back(tag());
    AddHook(bundle().spec(), "startContainer", "/probe", args);
  }

  std::vector<Json> Log() {
    return ProbeLinesFor(ReadFile(log_dir_ + "/hooks.log").value_or(""), "hook");
  }

  static std::vector<std::string> Kinds(const std::vector<Json>& log) {
    std::vector<std::string> kinds;
    for (const auto& l : log) kinds.push_back(l["kind"]);
    return kinds;
  }

  std::string log_dir_;
};

TEST_F(HooksTest, AllSixRunInOrderWithStateAndInTheRightNamespace) {
  bundle().spec()["hostname"] = "hooked";
  AddHostHook("prestart", "prestart");
  AddHostHook("createRuntime", "createRuntime");
  AddHostHook("createRuntime", "createRuntime2");
  AddHostHook("createContainer", "createContainer");
  AddContainerHook("startContainer");
  AddHostHook("poststart", "poststart");
  AddHostHook("poststop", "poststop");
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "0.3"});
  // The pid while the container is created: after start it may already have exited (its
  // state then says 0) when the poststart hooks are slow, as under a sanitizer on 2 cores.
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  int pid = rt().Pid(id);
  CommandResult s = rt().Start(id);
  ASSERT_TRUE(s.ok()) << s.Describe();
  ASSERT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  CommandResult d = rt().Delete(id);
  ASSERT_TRUE(d.ok()) << d.Describe();

  auto log = Log();
  auto kinds = Kinds(log);
  ASSERT_EQ(kinds.size(), 7u) << Join(kinds, " ");
  auto pos = [&](const std::string& k) {
    return std::find(kinds.begin(), kinds.end(), k) - kinds.begin();
  };
  // The spec's order; prestart and createRuntime both precede createContainer.
  EXPECT_LT(pos("prestart"), pos("createContainer"));
  EXPECT_LT(pos("createRuntime"), pos("createRuntime2")) << "hooks of one kind run in order";
  EXPECT_LT(pos("createRuntime2"), pos("createContainer"));
  EXPECT_LT(pos("createContainer"), pos("startContainer"));
  // poststart runs after the user process was executed, so after startContainer. runc 1.1
  // runs poststart as soon as it has released the init, racing the startContainer hook.
  if (!RuntimeIsRunc()) {
    EXPECT_LT(pos("startContainer"), pos("poststart"));
  }
  EXPECT_LT(pos("startContainer"), pos("poststop"));
  EXPECT_LT(pos("poststart"), pos("poststop"));

  for (const auto& l : log) {
    std::string kind = l["kind"];
    Json state = Json::parse(l["state"].get<std::string>(), nullptr, false);
    ASSERT_TRUE(state.is_object()) << kind << " got no state on stdin: " << l["state"];
    EXPECT_EQ(state["id"], id) << kind;
    EXPECT_EQ(state["bundle"], bundle().dir()) << kind;
    EXPECT_TRUE(state["ociVersion"].is_string()) << kind;
    EXPECT_TRUE(state["status"].is_string()) << kind;
    bool in_container = kind == "createContainer" || kind == "startContainer";
    if (in_container) {
      EXPECT_NE(l["ns"]["mnt"].get<uint64_t>(), HostNs("mnt")) << kind << " ran on the host";
      EXPECT_NE(l["ns"]["pid"].get<uint64_t>(), HostNs("pid")) << kind;
    } else {
      EXPECT_EQ(l["ns"]["mnt"].get<uint64_t>(), HostNs("mnt")) << kind << " left the host ns";
      EXPECT_EQ(l["ns"]["pid"].get<uint64_t>(), HostNs("pid")) << kind;
    }
    if (kind == "prestart" || kind == "createRuntime" || kind == "poststart") {
      EXPECT_EQ(state["pid"], pid) << kind << ": the container's pid as the host sees it";
    }
    if (kind == "poststop") {
      EXPECT_EQ(state["status"], "stopped");
    }
    if (kind == "startContainer") {
      EXPECT_EQ(l["hostname"], "hooked");
    }
  }
  ExpectNoLeaks();
}

TEST_F(HooksTest, ArgsAndEnvArePassedAsConfigured) {
  AddHostHook("createRuntime", "createRuntime", {}, 0, {"HOOK_VAR=42", "PATH=/bin"});
  std::string id = NewId();
  CommandResult c = CreateAndStart(id, bundle());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(rt().Delete(id, true).ok());
  auto log = Log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0]["args"], Json({"createRuntime", log_dir_ + "/hooks.log", tag()}))
      << "args[0] is the program name, the rest are passed as given";
  EXPECT_THAT(log[0]["env"].get<std::vector<std::string>>(),
              ::testing::UnorderedElementsAre("HOOK_VAR=42", "PATH=/bin"));
  ExpectNoLeaks();
}

TEST_F(HooksTest, FailingCreateRuntimeHookFailsCreate) {
  AddHostHook("createRuntime", "createRuntime", {"exit", "3"});
  AddHostHook("poststop", "poststop");
  std::string id = NewId();
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  EXPECT_NE(c.exit_code, 0) << c.Describe();
  EXPECT_NE(rt().State(id).exit_code, 0) << "a failed create must leave no container";
  ExpectNoLeaks();
}

TEST_F(HooksTest, FailingStartContainerHookFailsStart) {
  AddContainerHook("startContainer", {"exit", "3"});
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "write", "/hooklog/ran", "yes"});
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  CommandResult s = rt().Start(id);
  // The spec wants an error; runc 1.1 runs startContainer hooks in its init after `start`
  // has returned 0, and only the container's death shows the failure.
  if (!RuntimeIsRunc()) {
    EXPECT_NE(s.exit_code, 0) << s.Describe();
  }
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_FALSE(PathExists(log_dir_ + "/ran")) << "the process ran although its hook failed";
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(HooksTest, HookTimeoutKillsTheHook) {
  // args: probe hook LABEL LOG <tag>, then sleep via a second hook entry that hangs.
  AddHook(bundle().spec(), "createRuntime", ProbePath(), {"probe", "sleep", "60", tag()},
          /*timeout_seconds=*/1);
  std::string id = NewId();
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  EXPECT_NE(c.exit_code, 0) << c.Describe();
  EXPECT_LT(c.elapsed, std::chrono::seconds(20)) << "the timeout was not enforced";
  EXPECT_TRUE(leaks().TaggedProcesses().empty()) << "the hanging hook is still running";
  ExpectNoLeaks();
}

TEST_F(HooksTest, PoststopRunsOnDeleteOfCreatedContainer) {
  AddHostHook("poststop", "poststop");
  std::string id = NewId();
  ASSERT_TRUE(bundle().Write().has_value());
  ASSERT_TRUE(rt().Create(id, bundle().dir()).ok());
  ASSERT_TRUE(rt().Delete(id, true).ok());
  EXPECT_THAT(Kinds(Log()), ElementsAre("poststop"));
  ExpectNoLeaks();
}

TEST_F(HooksTest, RunInvokesAllHooks) {
  AddHostHook("createRuntime", "createRuntime");
  AddHostHook("createContainer", "createContainer");
  AddContainerHook("startContainer");
  AddHostHook("poststart", "poststart");
  AddHostHook("poststop", "poststop");
  CommandResult r = RunProbe({"/probe", "exit", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto kinds = Kinds(Log());
  if (RuntimeIsRunc()) {
    // runc races poststart against startContainer (see above).
    if (kinds.size() >= 4) std::sort(kinds.begin() + 2, kinds.begin() + 4);
    EXPECT_THAT(kinds, ElementsAre("createRuntime", "createContainer", "poststart",
                                   "startContainer", "poststop"));
  } else {
    EXPECT_THAT(kinds, ElementsAre("createRuntime", "createContainer", "startContainer",
                                   "poststart", "poststop"));
  }
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
