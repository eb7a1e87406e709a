// The runtime's CLI lifecycle, as runc 1.1 defines it: run, create/start/state/delete, kill,
// list, ps, pause/resume, update, events, spec, features, --version, --pid-file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <regex>
#include <set>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/cgroups.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

using LifecycleTest = RuntimeTest;

bool ProcessAlive(int pid) { return pid > 0 && ::kill(pid, 0) == 0; }

// Waits until `pid` is gone (or a zombie: reaping is the parent's business).
bool WaitProcessGone(int pid, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto stat = ReadFile(StrCat("/proc/", pid, "/stat"));
    if (!stat) return true;
    size_t rp = stat->rfind(')');
    if (rp != std::string::npos && rp + 2 < stat->size() && (*stat)[rp + 2] == 'Z') return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

size_t CountTicks(const CommandResult& r) { return ProbeLinesFor(r.ReadOut(), "tick").size(); }

TEST_F(LifecycleTest, RunPropagatesExitCodeAndOutput) {
  CommandResult r = RunProbe(Sh("echo to-stdout; echo to-stderr >&2; exit 3"));
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("to-stdout"));
  EXPECT_THAT(r.err, HasSubstr("to-stderr"));
  // `run` removes the container once it exits.
  EXPECT_FALSE(rt().State(ids().back()).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, RunReportsTheContainerView) {
  CommandResult r = RunProbe({"/probe", "report"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  ASSERT_TRUE(rep.value("ok", false)) << r.Describe();
  EXPECT_EQ(rep["pid"], 1) << "the process is init of its pid namespace";
  EXPECT_EQ(rep["hostname"], "runc");
  EXPECT_EQ(rep["cwd"], "/");
  EXPECT_EQ(rep["uid"], 0);
  EXPECT_TRUE(HasEnv(rep, "BERTH_ITEST=" + tag()));
  EXPECT_TRUE(HasEnv(rep, "TERM=xterm"));
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, RunExitCodeOfSignalledProcessIs128PlusSignal) {
  // Without a pid namespace the probe is not an init, so its own SIGTERM kills it.
  RemoveNamespace(bundle().spec(), "pid");
  CommandResult r = RunProbe({"/probe", "signal-self", "TERM"});
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << r.Describe();
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, RunExitCodeZeroAndEmptyOutput) {
  CommandResult r = RunProbe({"/probe", "exit", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "");
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, CreateStateStartDelete) {
  std::string id = NewId();
  SetArgs(bundle().spec(), Sh("echo '{\"cmd\":\"started\"}'; /probe sleep 1.5"));
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();

  auto st = rt().StateJson(id);
  ASSERT_TRUE(st.has_value()) << rt().State(id).Describe();
  EXPECT_EQ((*st)["status"], "created");
  EXPECT_EQ((*st)["id"], id);
  EXPECT_TRUE((*st)["ociVersion"].is_string());
  EXPECT_FALSE((*st)["ociVersion"].get<std::string>().empty());
  EXPECT_EQ((*st)["bundle"], bundle().dir());
  EXPECT_EQ((*st)["rootfs"], bundle().rootfs());
  ASSERT_TRUE((*st)["created"].is_string());
  EXPECT_TRUE(std::regex_search((*st)["created"].get<std::string>(),
                                std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})")))
      << (*st)["created"];
  EXPECT_TRUE((*st)["owner"].is_string());
  int pid = (*st)["pid"];
  EXPECT_TRUE(ProcessAlive(pid)) << "created container's pid " << pid << " is not alive";
  // The user process must not run before `start`.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(rt().Status(id), "created") << "a created container must wait for start";
  EXPECT_EQ(c.ReadOut(), "") << "the process ran before start";

  CommandResult s = rt().Start(id);
  ASSERT_TRUE(s.ok()) << s.Describe();
  EXPECT_EQ(rt().Status(id), "running");
  WaitForProbeLine(c, "started");
  EXPECT_EQ(rt().Pid(id), pid) << "start keeps the pid of create";
  // start of a running container fails.
  EXPECT_NE(rt().Start(id).exit_code, 0);

  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  auto stopped = rt().StateJson(id);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ((*stopped)["status"], "stopped");
  CommandResult d = rt().Delete(id);
  EXPECT_TRUE(d.ok()) << d.Describe();
  EXPECT_NE(rt().State(id).exit_code, 0) << "state of a deleted container must fail";
  ExpectNoLeaks();
}

// The trampoline waits for `start` in the init's place through /proc/self/fd; a container
// without /proc waits in the init instead. Both must keep the program from running early.
TEST_F(LifecycleTest, CreateWithoutProcStillWaitsForStart) {
  std::string id = NewId();
  Json& mounts = bundle().spec()["mounts"];
  for (size_t i = 0; i < mounts.size(); ++i) {
    if (mounts[i]["destination"] == "/proc") {
      mounts.erase(i);
      break;
    }
  }
  SetArgs(bundle().spec(), Sh("echo '{\"cmd\":\"started\"}'"));
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(rt().Status(id), "created");
  EXPECT_EQ(c.ReadOut(), "") << "the process ran before start";
  CommandResult s = rt().Start(id);
  ASSERT_TRUE(s.ok()) << s.Describe();
  WaitForProbeLine(c, "started");
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

// What fails in the init's last steps after `create` (here: pinning to a CPU that does not
// exist) is what `start` reports, naming the field.
TEST_F(LifecycleTest, StartReportsWhatFailedAfterCreate) {
  BERTH_SKIP_IF_RUNC("runc 1.1 has no execCPUAffinity");
  std::string id = NewId();
  bundle().spec()["process"]["execCPUAffinity"] = {{"final", "1023"}};
  SetArgs(bundle().spec(), Sh("echo '{\"cmd\":\"started\"}'"));
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  EXPECT_EQ(rt().Status(id), "created");
  CommandResult s = rt().Start(id);
  EXPECT_NE(s.exit_code, 0) << s.Describe();
  EXPECT_NE(s.err.find("process.execCPUAffinity.final"), std::string::npos) << s.Describe();
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_EQ(c.ReadOut(), "") << "the program must not have run";
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, CreatePidFile) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "30"});
  std::string pid_file = dir() + "/create.pid";
  CommandResult c = CreateAndStart(id, bundle(), {"--pid-file", pid_file});
  ASSERT_TRUE(c.ok());
  auto text = ReadFile(pid_file);
  ASSERT_TRUE(text.has_value()) << "no pid file";
  EXPECT_EQ(std::atoi(text->c_str()), rt().Pid(id));
  EXPECT_TRUE(rt().Delete(id, /*force=*/true).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, RunDetached) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "wait-signal"});
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult r = rt().RunContainer(id, bundle().dir(), {"--detach"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_LT(r.elapsed, std::chrono::seconds(10)) << "run -d must not wait for the container";
  EXPECT_EQ(rt().Status(id), "running");
  WaitForProbeLine(r, "wait-signal", "ready");
  EXPECT_TRUE(rt().Kill(id, "KILL").ok());
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, KillDefaultSignalIsTerm) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "wait-signal", "1"});
  CommandResult c = CreateAndStart(id, bundle());
  WaitForProbeLine(c, "wait-signal", "ready");
  CommandResult k = rt().Kill(id);
  ASSERT_TRUE(k.ok()) << k.Describe();
  Json got = WaitForProbeLine(c, "wait-signal", "signal");
  EXPECT_EQ(got["signal"], "SIGTERM");
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, KillAcceptsNamesAndNumbers) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "wait-signal", "4"});
  CommandResult c = CreateAndStart(id, bundle());
  WaitForProbeLine(c, "wait-signal", "ready");
  std::vector<std::string> sent = {"USR1", "SIGUSR2", "10", "SIGHUP"};
  std::vector<std::string> want = {"SIGUSR1", "SIGUSR2", "SIGUSR1", "SIGHUP"};
  for (size_t i = 0; i < sent.size(); i++) {
    CommandResult k = rt().Kill(id, sent[i]);
    ASSERT_TRUE(k.ok()) << k.Describe();
    // One at a time: standard signals do not queue.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ProbeLinesFor(c.ReadOut(), "wait-signal").size() < i + 2 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  auto lines = ProbeLinesFor(c.ReadOut(), "wait-signal");
  std::vector<std::string> got;
  for (const auto& l : lines) {
    if (l.contains("signal")) got.push_back(l["signal"]);
  }
  EXPECT_EQ(got, want);
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_NE(rt().Kill(id, "BOGUS").exit_code, 0) << "an unknown signal name must fail";
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, KillAllReachesEveryProcess) {
  std::string id = NewId();
  SetArgs(bundle().spec(),
          Sh("/probe sleep 100 & /probe sleep 100 & echo '{\"cmd\":\"started\"}'; wait"));
  CommandResult c = CreateAndStart(id, bundle());
  WaitForProbeLine(c, "started");
  CommandResult ps = rt().Run({"ps", "--format", "json", id});
  ASSERT_TRUE(ps.ok()) << ps.Describe();
  Json pids = Json::parse(ps.out, nullptr, false);
  ASSERT_TRUE(pids.is_array()) << ps.out;
  ASSERT_GE(pids.size(), 3u);
  CommandResult k = rt().Kill(id, "KILL", {"--all"});
  ASSERT_TRUE(k.ok()) << k.Describe();
  for (const auto& p : pids) EXPECT_TRUE(WaitProcessGone(p.get<int>())) << "pid " << p;
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, DeleteRefusesRunningAndForceKills) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CommandResult c = CreateAndStart(id, bundle());
  ASSERT_TRUE(c.ok());
  int pid = rt().Pid(id);
  ASSERT_TRUE(ProcessAlive(pid));
  EXPECT_NE(rt().Delete(id).exit_code, 0) << "delete without --force of a running container";
  EXPECT_EQ(rt().Status(id), "running");
  CommandResult d = rt().Delete(id, /*force=*/true);
  EXPECT_TRUE(d.ok()) << d.Describe();
  EXPECT_TRUE(WaitProcessGone(pid));
  EXPECT_NE(rt().State(id).exit_code, 0);
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, DeleteForceOfCreatedContainer) {
  std::string id = NewId();
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  int pid = rt().Pid(id);
  EXPECT_TRUE(rt().Delete(id, /*force=*/true).ok());
  EXPECT_TRUE(WaitProcessGone(pid));
  EXPECT_EQ(c.ReadOut(), "") << "the process must never have run";
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, ListTableJsonAndQuiet) {
  std::string created = NewId(), running = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  ASSERT_TRUE(bundle().Write().has_value());
  ASSERT_TRUE(rt().Create(created, bundle().dir()).ok());
  auto b2 = NewBundle();
  ASSERT_TRUE(b2.has_value());
  SetArgs(b2->spec(), {"/probe", "sleep", "100"});
  CreateAndStart(running, *b2);

  CommandResult table = rt().Run({"list"});
  ASSERT_TRUE(table.ok()) << table.Describe();
  auto lines = SplitNonEmpty(table.out, '\n');
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_THAT(lines[0], HasSubstr("ID"));
  EXPECT_THAT(lines[0], HasSubstr("STATUS"));
  EXPECT_THAT(table.out, HasSubstr(created));
  EXPECT_THAT(table.out, HasSubstr(running));

  CommandResult js = rt().Run({"list", "--format", "json"});
  ASSERT_TRUE(js.ok()) << js.Describe();
  Json arr = Json::parse(js.out, nullptr, false);
  ASSERT_TRUE(arr.is_array()) << js.out;
  ASSERT_EQ(arr.size(), 2u);
  std::map<std::string, Json> by_id;
  for (const auto& c : arr) by_id[c.value("id", "")] = c;
  ASSERT_TRUE(by_id.contains(created) && by_id.contains(running)) << js.out;
  EXPECT_EQ(by_id[created]["status"], "created");
  EXPECT_EQ(by_id[running]["status"], "running");
  EXPECT_EQ(by_id[running]["bundle"], b2->dir());
  for (const char* field :
       {"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"}) {
    EXPECT_TRUE(by_id[running].contains(field)) << field << " missing in " << js.out;
  }
  EXPECT_EQ(by_id[running]["pid"], rt().Pid(running));

  CommandResult q = rt().Run({"list", "-q"});
  ASSERT_TRUE(q.ok()) << q.Describe();
  EXPECT_THAT(SplitNonEmpty(q.out, '\n'), UnorderedElementsAreArray({created, running}));

  EXPECT_TRUE(rt().Delete(created, true).ok());
  EXPECT_TRUE(rt().Delete(running, true).ok());
  CommandResult empty = rt().Run({"list", "--format", "json"});
  EXPECT_TRUE(empty.ok());
  Json none = Json::parse(empty.out, nullptr, false);
  // runc prints "null" for no containers; an empty array means the same.
  EXPECT_TRUE(none.is_null() || (none.is_array() && none.empty())) << empty.out;
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, PsTableAndJson) {
  std::string id = NewId();
  SetArgs(bundle().spec(), Sh("/probe sleep 100 & echo '{\"cmd\":\"started\"}'; wait"));
  CommandResult c = CreateAndStart(id, bundle());
  WaitForProbeLine(c, "started");
  int init = rt().Pid(id);

  CommandResult js = rt().Run({"ps", "--format", "json", id});
  ASSERT_TRUE(js.ok()) << js.Describe();
  Json pids = Json::parse(js.out, nullptr, false);
  ASSERT_TRUE(pids.is_array()) << js.out;
  EXPECT_EQ(pids.size(), 2u) << js.out;
  EXPECT_THAT(pids.get<std::vector<int>>(), Contains(init));
  for (const auto& p : pids) {
    EXPECT_THAT(CgroupPathOf(p.get<int>(), "pids"), HasSubstr(id)) << "pid " << p;
  }

  CommandResult table = rt().Run({"ps", id});
  ASSERT_TRUE(table.ok()) << table.Describe();
  auto lines = SplitNonEmpty(table.out, '\n');
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_THAT(lines[0], HasSubstr("PID"));
  EXPECT_THAT(table.out, HasSubstr(std::to_string(init)));
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, PauseStopsProgressAndResumeRestartsIt) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "tick", "20"});
  CommandResult c = CreateAndStart(id, bundle());
  WaitForProbeLine(c, "tick");
  int pid = rt().Pid(id);

  CommandResult p = rt().Run({"pause", id});
  ASSERT_TRUE(p.ok()) << p.Describe();
  EXPECT_EQ(rt().Status(id), "paused");
  if (HostHasCgroupV1("freezer")) {
    EXPECT_EQ(ReadCgroupFile(pid, "freezer", "freezer.state"), "FROZEN");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // in-flight writes land
  size_t frozen = CountTicks(c);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(CountTicks(c), frozen) << "a paused container made progress";

  CommandResult r = rt().Run({"resume", id});
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(rt().Status(id), "running");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_GT(CountTicks(c), frozen + 5) << "a resumed container made no progress";
  // Pausing a paused container or resuming a running one fails.
  EXPECT_NE(rt().Run({"resume", id}).exit_code, 0);
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, DeleteForceOfPausedContainer) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  int pid = rt().Pid(id);
  ASSERT_TRUE(rt().Run({"pause", id}).ok());
  EXPECT_EQ(rt().Status(id), "paused");
  CommandResult d = rt().Delete(id, /*force=*/true);
  EXPECT_TRUE(d.ok()) << d.Describe();
  EXPECT_TRUE(WaitProcessGone(pid));
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, UpdateChangesCgroupLimits) {
  if (!HostHasCgroupV1("memory") && !ControllerIsV2("memory")) GTEST_SKIP() << "no memory cgroup";
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  bundle().spec()["linux"]["resources"]["memory"] = {{"limit", 64 << 20}};
  bundle().spec()["linux"]["resources"]["pids"] = {{"limit", 50}};
  CreateAndStart(id, bundle());
  int pid = rt().Pid(id);
  bool v2 = ControllerIsV2("memory");
  std::string mem_file = v2 ? "memory.max" : "memory.limit_in_bytes";
  EXPECT_EQ(ReadCgroupFile(pid, "memory", mem_file), std::to_string(64 << 20));
  EXPECT_EQ(ReadCgroupFile(pid, "pids", "pids.max"), "50");

  CommandResult u = rt().Run({"update", "--memory", "128M", "--pids-limit", "20", id});
  ASSERT_TRUE(u.ok()) << u.Describe();
  EXPECT_EQ(ReadCgroupFile(pid, "memory", mem_file), std::to_string(128 << 20));
  EXPECT_EQ(ReadCgroupFile(pid, "pids", "pids.max"), "20");

  std::string res = dir() + "/resources.json";
  ASSERT_TRUE(
      WriteFile(res, R"({"memory": {"limit": 100663296}, "pids": {"limit": 30}})").has_value());
  CommandResult ur = rt().Run({"update", "-r", res, id});
  ASSERT_TRUE(ur.ok()) << ur.Describe();
  EXPECT_EQ(ReadCgroupFile(pid, "memory", mem_file), "100663296");
  EXPECT_EQ(ReadCgroupFile(pid, "pids", "pids.max"), "30");
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, EventsStatsIsJson) {
  std::string id = NewId();
  SetArgs(bundle().spec(), Sh("/probe sleep 100 & /probe sleep 100 & wait"));
  CreateAndStart(id, bundle());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CommandResult e = rt().Run({"events", "--stats", id});
  ASSERT_TRUE(e.ok()) << e.Describe();
  Json ev = Json::parse(e.out, nullptr, false);
  ASSERT_TRUE(ev.is_object()) << e.out;
  EXPECT_EQ(ev["type"], "stats");
  EXPECT_EQ(ev["id"], id);
  ASSERT_TRUE(ev.contains("data")) << e.out;
  EXPECT_GE(ev["data"]["pids"].value("current", 0), 3) << e.out;
  EXPECT_GT(ev["data"]["memory"]["usage"].value("usage", 0), 0) << e.out;
  EXPECT_TRUE(ev["data"].contains("cpu")) << e.out;
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(LifecycleTest, SpecWritesTheDefaultConfig) {
  std::string out = MakeHostDir("spec");
  CommandResult r = rt().RunNoRoot({"spec", "--bundle", out});
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto written = ReadJsonFile(out + "/config.json");
  ASSERT_TRUE(written.has_value()) << "config.json missing or not JSON";
  Json want = DefaultSpec();
  want["process"]["terminal"] = true;
  want["process"]["args"] = {"sh"};
  Json got = *written;
  EXPECT_TRUE(got["ociVersion"].is_string());
  got.erase("ociVersion");
  want.erase("ociVersion");
  EXPECT_EQ(got, want) << "diff: " << Json::diff(want, got).dump(1);
  // A second spec refuses to overwrite.
  CommandResult again = rt().RunNoRoot({"spec", "--bundle", out});
  EXPECT_NE(again.exit_code, 0);
}

TEST_F(LifecycleTest, SpecRootless) {
  std::string out = MakeHostDir("spec");
  CommandResult r = rt().RunNoRoot({"spec", "--rootless", "--bundle", out});
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto spec = ReadJsonFile(out + "/config.json");
  ASSERT_TRUE(spec.has_value());
  EXPECT_TRUE(HasNamespace(*spec, "user"));
  EXPECT_FALSE(HasNamespace(*spec, "network")) << "rootless cannot configure a new netns";
  Json map = {{{"containerID", 0}, {"hostID", ::geteuid()}, {"size", 1}}};
  EXPECT_EQ((*spec)["linux"]["uidMappings"], map);
  Json gmap = {{{"containerID", 0}, {"hostID", ::getegid()}, {"size", 1}}};
  EXPECT_EQ((*spec)["linux"]["gidMappings"], gmap);
  EXPECT_FALSE((*spec)["linux"].contains("resources")) << "rootless has no cgroup resources";
  Json* sys = FindMount(*spec, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_THAT((*sys)["options"].get<std::vector<std::string>>(), Contains("rbind"));
}

TEST_F(LifecycleTest, FeaturesIsJson) {
  CommandResult r = rt().RunNoRoot({"features"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  Json f = Json::parse(r.out, nullptr, false);
  ASSERT_TRUE(f.is_object()) << r.out;
  EXPECT_TRUE(f["ociVersionMin"].is_string());
  EXPECT_TRUE(f["ociVersionMax"].is_string());
  auto hooks = f["hooks"].get<std::vector<std::string>>();
  for (const char* h : {"prestart", "createRuntime", "createContainer", "startContainer",
                        "poststart", "poststop"}) {
    EXPECT_THAT(hooks, Contains(h));
  }
  auto opts = f["mountOptions"].get<std::vector<std::string>>();
  for (const char* o : {"bind", "rbind", "ro", "nosuid", "nodev", "noexec"}) {
    EXPECT_THAT(opts, Contains(o));
  }
  auto ns = f["linux"]["namespaces"].get<std::vector<std::string>>();
  for (const char* n : {"cgroup", "ipc", "mount", "network", "pid", "user", "uts"}) {
    EXPECT_THAT(ns, Contains(n));
  }
  EXPECT_TRUE(f["linux"]["capabilities"].is_array());
  EXPECT_THAT(f["linux"]["capabilities"].get<std::vector<std::string>>(), Contains("CAP_KILL"));
  EXPECT_TRUE(f["linux"]["seccomp"].value("enabled", false));
}

TEST_F(LifecycleTest, Version) {
  CommandResult r = rt().RunNoRoot({"--version"});
  ASSERT_TRUE(r.ok()) << r.Describe();
  auto lines = SplitNonEmpty(r.out, '\n');
  ASSERT_FALSE(lines.empty());
  EXPECT_TRUE(std::regex_match(lines[0], std::regex(R"(^\S+ version \S+.*$)"))) << lines[0];
  bool spec_line = false;
  for (const auto& l : lines) spec_line = spec_line || l.starts_with("spec: 1.");
  EXPECT_TRUE(spec_line) << "no `spec: 1.x` line in\n" << r.out;
}

}  // namespace
}  // namespace berth::itest
