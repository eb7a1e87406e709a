// Escapes a runtime must close: host descriptors leaking into the container, the runtime
// binary being overwritten from inside (CVE-2019-5736), mount destinations through symlinks
// that point out of the rootfs (and swapped while the runtime sets up: CVE-2021-30465), a
// fake /proc defeating masked paths (CVE-2019-16884), and a cwd outside the container
// (CVE-2024-21626).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/mountinfo.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class SecurityTest : public RuntimeTest {
 protected:
  // Descriptors the test process holds open, to offer to the runtime: a pipe, a file under
  // the test dir and the host's root directory.
  std::vector<int> OpenHostFds() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    std::string f = dir() + "/host-secret";
    EXPECT_TRUE(WriteFile(f, "secret").has_value());
    int file = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    std::vector<int> fds = {p[0], file, root};
    AddCleanup([fds, w = p[1]] {
      for (int fd : fds) ::close(fd);
      ::close(w);
    });
    return fds;
  }

  // Mount points of the host (our) mount namespace at or under `path`.
  static std::vector<std::string> HostMountsUnder(const std::string& path) {
    std::vector<std::string> found;
    if (auto mounts = sys::ReadMountInfo("/proc/self/mountinfo")) {
      for (const auto& m : *mounts) {
        if (m.mount_point == path || m.mount_point.starts_with(path + "/")) {
          found.push_back(m.mount_point);
        }
      }
    }
    return found;
  }

  // A shared tmpfs on the host holding a canary file. With the container's root shared too,
  // anything the runtime mounts onto this directory from inside the container's mount
  // namespace propagates back here, where the test can see it.
  std::string SharedHostDirWithCanary(const std::string& name) {
    std::string d = MakeHostDir(name);
    EXPECT_EQ(::mount("tmpfs", d.c_str(), "tmpfs", 0, "size=1m"), 0);
    AddCleanup([d] { ::umount2(d.c_str(), MNT_DETACH); });
    EXPECT_EQ(::mount(nullptr, d.c_str(), nullptr, MS_SHARED, nullptr), 0);
    EXPECT_TRUE(WriteFile(d + "/canary", "host").has_value());
    return d;
  }

  // A copy of the runtime binary, and a Runtime that runs it (same state root).
  Runtime CopyOfRuntime(std::string* copy_path) {
    std::string d = MakeHostDir("rt-copy");
    *copy_path = d + "/" + fs::path(rt().binary()).filename().string();
    std::error_code ec;
    fs::copy_file(rt().binary(), *copy_path, ec);
    EXPECT_FALSE(ec) << ec.message();
    ::chmod(copy_path->c_str(), 0755);
    return Runtime(*copy_path, rt().root(), dir() + "/cmd");
  }

  static void ExpectNoWrites(const Json& attack) {
    ASSERT_TRUE(attack.contains("seen")) << "no report from the attacker: " << attack;
    for (const auto& s : attack["seen"]) {
      EXPECT_NE(s.value("written", false), true) << "wrote the binary of " << s;
      EXPECT_FALSE(s.value("open_wr_errno", Json()).is_null()) << "opened for writing: " << s;
    }
  }
};

TEST_F(SecurityTest, HostFdsDoNotLeakThroughRun) {
  CommandOptions opts;
  opts.pass_fds = OpenHostFds();
  SetArgs(bundle().spec(), {"/probe", "report", "fds"});
  CommandResult r = RunBundle(NewId(), bundle(), {}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(FdNumbers(ProbeLine(r.out, "report")), ElementsAre(0, 1, 2)) << r.out;
  ExpectNoLeaks();
}

TEST_F(SecurityTest, HostFdsDoNotLeakThroughCreateAndStart) {
  CommandOptions opts;
  opts.pass_fds = OpenHostFds();
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "report", "fds"});
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir(), {}, opts);
  ASSERT_TRUE(c.ok()) << c.Describe();
  CommandResult s = rt().Run({"start", id}, opts);
  ASSERT_TRUE(s.ok()) << s.Describe();
  Json rep = WaitForProbeLine(c, "report");
  EXPECT_THAT(FdNumbers(rep), ElementsAre(0, 1, 2)) << rep;
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(SecurityTest, PreserveFdsPassesExactlyThose) {
  CommandOptions opts;
  opts.pass_fds = OpenHostFds();  // become 3, 4, 5
  SetArgs(bundle().spec(), {"/probe", "report", "fds"});
  CommandResult r = RunBundle(NewId(), bundle(), {"--preserve-fds", "2"}, opts);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_THAT(FdNumbers(rep), ElementsAre(0, 1, 2, 3, 4)) << rep;
  for (const auto& f : rep["fds"]) {
    if (f["fd"] == 3) {
      EXPECT_THAT(f["target"].get<std::string>(), HasSubstr("pipe:"));
    }
  }
  ExpectNoLeaks();
}

TEST_F(SecurityTest, HostFdsDoNotLeakThroughExec) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  CommandOptions opts;
  opts.pass_fds = OpenHostFds();
  CommandResult e = rt().Exec(id, {"/probe", "report", "fds"}, {}, opts);
  ASSERT_EQ(e.exit_code, 0) << e.Describe();
  EXPECT_THAT(FdNumbers(ProbeLine(e.out, "report")), ElementsAre(0, 1, 2)) << e.out;
  CommandResult p = rt().Exec(id, {"/probe", "report", "fds"}, {"--preserve-fds", "1"}, opts);
  ASSERT_EQ(p.exit_code, 0) << p.Describe();
  EXPECT_THAT(FdNumbers(ProbeLine(p.out, "report")), ElementsAre(0, 1, 2, 3)) << p.out;
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

// CVE-2019-5736 through `exec`: while an attacker in the container watches /proc, the test
// makes the runtime run processes in it, including the runtime binary itself re-executed
// through /proc/self/exe. The attacker pins every foreign executable it sees and, once the
// process is gone, reopens it for writing and appends a marker. A runtime whose host binary
// is reachable this way gets modified. Everything runs on a copy of the runtime binary.
TEST_F(SecurityTest, ExecCannotOverwriteTheRuntimeBinary) {
  std::string copy;
  Runtime copy_rt = CopyOfRuntime(&copy);
  auto before = ReadFile(copy);
  ASSERT_TRUE(before.has_value());

  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "exe-attack", "6", "append"});
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = copy_rt.Create(id, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  ASSERT_TRUE(copy_rt.Start(id).ok());
  WaitForProbeLine(c, "exe-attack", "ready");
  for (int i = 0; i < 4; i++) {
    (void)copy_rt.Exec(id, {"/proc/self/exe", "--version"});
    (void)copy_rt.Exec(id, {"/probe", "exit", "0"});
  }
  Json attack = WaitForProbeLine(c, "exe-attack", "seen", std::chrono::seconds(30));
  ExpectNoWrites(attack);
  auto after = ReadFile(copy);
  EXPECT_TRUE(after.has_value() && *after == *before) << "the runtime binary was modified";
  RecordProperty("attack", attack.dump());  // what the attacker saw, for the XML report
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

// CVE-2019-5736 through the entrypoint: a container whose process is ["/proc/self/exe"]
// re-executes whatever binary set it up. An attacker container shares its pid namespace and
// goes after that process's executable.
TEST_F(SecurityTest, ProcSelfExeEntrypointCannotOverwriteTheRuntimeBinary) {
  std::string copy;
  Runtime copy_rt = CopyOfRuntime(&copy);
  auto before = ReadFile(copy);
  ASSERT_TRUE(before.has_value());

  std::string attacker = NewId();
  SetArgs(bundle().spec(), {"/probe", "exe-attack", "6", "append"});
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = copy_rt.Create(attacker, bundle().dir());
  ASSERT_TRUE(c.ok()) << c.Describe();
  ASSERT_TRUE(copy_rt.Start(attacker).ok());
  WaitForProbeLine(c, "exe-attack", "ready");
  int attacker_pid = copy_rt.Pid(attacker);

  auto victim_bundle = NewBundle();
  ASSERT_TRUE(victim_bundle.has_value());
  SetNamespace(victim_bundle->spec(), "pid", StrCat("/proc/", attacker_pid, "/ns/pid"));
  SetArgs(victim_bundle->spec(), {"/proc/self/exe", "--version"});
  ASSERT_TRUE(victim_bundle->Write().has_value());
  for (int i = 0; i < 3; i++) {
    (void)copy_rt.RunContainer(NewId(), victim_bundle->dir());
  }
  Json attack = WaitForProbeLine(c, "exe-attack", "seen", std::chrono::seconds(30));
  ExpectNoWrites(attack);
  auto after = ReadFile(copy);
  EXPECT_TRUE(after.has_value() && *after == *before) << "the runtime binary was modified";
  RecordProperty("attack", attack.dump());  // what the attacker saw, for the XML report
  EXPECT_EQ(rt().WaitForStatus(attacker, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(attacker, true).ok());
  ExpectNoLeaks();
}

// A rootfs symlink /evil -> <host dir> used as a mount destination: the mount must land at
// <rootfs>/<host dir>, never on the host directory.
class SymlinkDestinationTest : public SecurityTest, public ::testing::WithParamInterface<bool> {};

TEST_P(SymlinkDestinationTest, MountStaysInsideTheRootfs) {
  const bool relative = GetParam();
  std::string host = SharedHostDirWithCanary("host-target");
  std::string target = relative ? "../../../../../../../../../.." + host : host;
  ASSERT_EQ(::symlink(target.c_str(), bundle().RootfsPath("/evil").c_str()), 0);
  bundle().spec()["root"]["readonly"] = false;
  bundle().spec()["linux"]["rootfsPropagation"] = "shared";  // an escape would show here
  AddMount(bundle().spec(), "/evil", "tmpfs", "tmpfs", {"size=1m"});
  std::string id = NewId();
  SetArgs(bundle().spec(), Sh("/probe report mounts; /probe ls /evil; /probe sleep 100"));
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  EXPECT_THAT(HostMountsUnder(host), ElementsAre(host)) << "something was mounted on the host";
  EXPECT_EQ(ReadFile(host + "/canary").value_or(""), "host");
  if (!c.ok()) {
    // Refusing to follow the symlink is safe too (runc creates the target in the rootfs).
    RecordProperty("refused", c.err);
    ExpectNoLeaks();
    return;
  }
  ASSERT_TRUE(rt().Start(id).ok());
  Json rep = WaitForProbeLine(c, "report");
  Json ls = WaitForProbeLine(c, "ls");
  EXPECT_THAT(HostMountsUnder(host), ElementsAre(host)) << "something was mounted on the host";
  EXPECT_EQ(ReadFile(host + "/canary").value_or(""), "host");
  // Inside, the tmpfs sits where the symlink resolves within the rootfs, and is empty.
  EXPECT_EQ(MountAt(rep, host)["fs_type"], "tmpfs") << "mount not at <rootfs>" << host;
  EXPECT_EQ(ls["entries"], Json::array()) << ls;
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

INSTANTIATE_TEST_SUITE_P(Links, SymlinkDestinationTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Relative" : "Absolute"; });

// CVE-2021-30465 class: while containers are created, a host thread keeps swapping a rootfs
// directory used as a mount destination (and a masked path) with a symlink to a host
// directory. Whatever the runtime decides, nothing may be mounted on the host directory.
TEST_F(SecurityTest, DestinationSwappedDuringSetupStaysInside) {
  std::string host = SharedHostDirWithCanary("host-swap");
  std::string data = bundle().RootfsPath("/data");
  ASSERT_TRUE(MkdirAll(data, 0755).has_value());
  bundle().spec()["root"]["readonly"] = false;
  bundle().spec()["linux"]["rootfsPropagation"] = "shared";
  AddMount(bundle().spec(), "/data/flip", "tmpfs", "tmpfs", {"size=1m"});
  bundle().spec()["linux"]["maskedPaths"].push_back("/data/mask");
  SetArgs(bundle().spec(), {"/probe", "exit", "0"});
  ASSERT_TRUE(bundle().Write().has_value());

  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    // rename(2) swaps atomically: the runtime sees a directory or a symlink, never nothing.
    const std::string dir_a = data + "/dir", link_a = data + "/link";
    while (!stop) {
      for (const std::string name : {"/flip", "/mask"}) {
        std::string p = data + name;
        std::error_code ec;
        fs::remove_all(p, ec);
        fs::create_directory(dir_a + name, ec);
        fs::remove(link_a + name, ec);
        fs::create_directory_symlink(host, link_a + name, ec);
        ::rename((dir_a + name).c_str(), p.c_str());
        ::rename((link_a + name).c_str(), p.c_str());
      }
    }
  });
  for (int i = 0; i < 15; i++) {
    CommandResult r = rt().RunContainer(NewId(), bundle().dir());
    (void)r;  // may fail when it loses the race; must not escape
    EXPECT_THAT(HostMountsUnder(host), ElementsAre(host)) << "mounted on the host, round " << i;
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(ReadFile(host + "/canary").value_or(""), "host");
  // Control: with the destinations left as plain directories the same bundle runs.
  std::error_code ec;
  for (const char* name : {"/flip", "/mask"}) {
    fs::remove_all(data + name, ec);
    fs::create_directory(data + name, ec);
  }
  SetArgs(bundle().spec(), {"/probe", "report", "mounts"});
  CommandResult control = RunBundle(NewId(), bundle());
  ASSERT_EQ(control.exit_code, 0) << control.Describe();
  EXPECT_EQ(MountAt(ProbeLine(control.out, "report"), "/data/flip")["fs_type"], "tmpfs");
  EXPECT_THAT(HostMountsUnder(host), ElementsAre(host));
  ExpectNoLeaks();
}

// CVE-2019-16884 class: /proc must be a real procfs, or masked paths mean nothing.
TEST_F(SecurityTest, BindMountOverProcIsRefused) {
  std::string fake = MakeHostDir("fakeproc");
  ASSERT_TRUE(WriteFile(fake + "/keys", "unmasked").has_value());
  RemoveMount(bundle().spec(), "/proc");
  AddMount(bundle().spec(), "/proc", "bind", fake, {"rbind"});
  CommandResult r = RunProbe(Sh("/probe read /proc/keys; exit 0"));
  EXPECT_NE(r.exit_code, 0) << "a non-procfs /proc was accepted: " << r.Describe();
  ExpectNoLeaks();
}

TEST_F(SecurityTest, ProcSymlinkInRootfsDoesNotDefeatMasks) {
  ASSERT_EQ(::rmdir(bundle().RootfsPath("/proc").c_str()), 0);
  ASSERT_TRUE(MkdirAll(bundle().RootfsPath("/fakeproc"), 0755).has_value());
  ASSERT_EQ(::symlink("/fakeproc", bundle().RootfsPath("/proc").c_str()), 0);
  CommandResult r = RunProbe(Sh("/probe read /proc/keys; /probe read /fakeproc/keys; exit 0"));
  if (r.exit_code != 0) {
    SUCCEED() << "refused a symlinked /proc: " << r.err;
  } else {
    ASSERT_EQ(ProbeLinesFor(r.out, "read").size(), 2u) << r.Describe();
    for (const auto& read : ProbeLinesFor(r.out, "read")) {
      if (read.value("ok", false)) {
        EXPECT_EQ(read["size"], 0) << "unmasked: " << read;
      }
    }
  }
  ExpectNoLeaks();
}

// CVE-2024-21626: process.cwd through a descriptor the runtime leaked into its init would
// put the container's cwd on the host. Either the runtime refuses, or the cwd is inside.
TEST_F(SecurityTest, CwdThroughProcSelfFdStaysInside) {
  for (int fd = 3; fd <= 10; fd++) {
    bundle().spec()["process"]["cwd"] = StrCat("/proc/self/fd/", fd);
    CommandResult r = RunProbe(Sh("/probe report cwd; /probe ls ."));
    if (r.exit_code != 0) continue;  // refused: fine
    Json rep = ProbeLine(r.out, "report");
    ASSERT_TRUE(rep.value("ok", false)) << "fd " << fd << ": ran but no report: " << r.out;
    std::string cwd = rep.value("cwd", "");
    EXPECT_FALSE(cwd.starts_with("(unreachable)")) << "fd " << fd << ": cwd on the host: " << cwd;
    EXPECT_FALSE(cwd.empty()) << "fd " << fd << ": " << r.out;
  }
  ExpectNoLeaks();
}

TEST_F(SecurityTest, ExecCwdThroughProcSelfFdStaysInside) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  for (int fd = 3; fd <= 10; fd++) {
    CommandResult e =
        rt().Exec(id, {"/probe", "report", "cwd"}, {"--cwd", StrCat("/proc/self/fd/", fd)});
    if (e.exit_code != 0) continue;
    Json rep = ProbeLine(e.out, "report");
    ASSERT_TRUE(rep.value("ok", false)) << "fd " << fd << ": ran but no report: " << e.out;
    std::string cwd = rep.value("cwd", "");
    EXPECT_FALSE(cwd.starts_with("(unreachable)")) << "fd " << fd << ": " << cwd;
    EXPECT_FALSE(cwd.empty()) << "fd " << fd << ": " << e.out;
  }
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(SecurityTest, ContainerCwdAndRootAreInside) {
  CommandResult r =
      RunProbe(Sh("/probe report cwd; /probe ls /proc/self/cwd/; "
                  "/probe ls /proc/1/root/"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["cwd"], "/");
  EXPECT_EQ(rep["cwd_link"], "/");
  EXPECT_EQ(rep["root_link"], "/");
  for (const auto& ls : ProbeLinesFor(r.out, "ls")) {
    EXPECT_THAT(ls.value("entries", std::vector<std::string>{}), ::testing::Contains("probe"))
        << ls;
  }
  ExpectNoLeaks();
}

TEST_F(SecurityTest, HostProcessesAreInvisible) {
  CommandResult r = RunProbe({"/probe", "ls", "/proc"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  int pids = 0;
  Json ls = ProbeLine(r.out, "ls");
  for (const auto& e : ls["entries"]) {
    std::string s = e;
    if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit)) pids++;
  }
  EXPECT_EQ(pids, 1) << "only the container's init is visible";
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
