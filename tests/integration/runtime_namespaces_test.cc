// Namespaces: each of the eight is new when listed without a path, shared with the host when
// absent, and joined when given a path; user namespaces map ids as configured.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::HasSubstr;

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

uint64_t HostNs(const std::string& name) { return InodeOf("/proc/self/ns/" + name); }

// Probe's ns key for an OCI namespace type.
std::string NsKey(const std::string& oci_type) {
  if (oci_type == "network") return "net";
  if (oci_type == "mount") return "mnt";
  return oci_type;
}

class NamespacesTest : public RuntimeTest {
 protected:
  // Makes `type` part of the config as a new namespace (with what it needs).
  void AddNew(Json& spec, const std::string& type) {
    if (type == "user") {
      SetUserNamespace(spec, 100000, 65536);
    } else {
      SetNamespace(spec, type);
    }
  }
  // Drops `type` from the config (and what would then be refused).
  void Drop(Json& spec, const std::string& type) {
    RemoveNamespace(spec, type);
    if (type == "uts") spec.erase("hostname");
    if (type == "user") {
      spec["linux"].erase("uidMappings");
      spec["linux"].erase("gidMappings");
    }
  }
};

class PerNamespaceTest : public NamespacesTest,
                         public ::testing::WithParamInterface<std::string> {};

TEST_P(PerNamespaceTest, NewWhenListedHostWhenAbsent) {
  const std::string type = GetParam();
  if (type == "time") {
    if (!HostHasTimeNamespace()) GTEST_SKIP() << "kernel without time namespaces";
    BERTH_SKIP_IF_RUNC("runc 1.1 does not support the time namespace");
  }
  const std::string key = NsKey(type);
  AddNew(bundle().spec(), type);
  CommandResult with = RunProbe({"/probe", "report", "ns"});
  ASSERT_EQ(with.exit_code, 0) << with.Describe();
  Json rep = ProbeLine(with.out, "report");
  // pid and time namespaces apply to children; the probe is the first process in them.
  EXPECT_NE(rep["ns"][key].get<uint64_t>(), HostNs(key)) << type << " namespace not new";

  if (type != "mount") {  // a mount namespace is required for a rootfs
    Drop(bundle().spec(), type);
    CommandResult without = RunProbe({"/probe", "report", "ns"});
    ASSERT_EQ(without.exit_code, 0) << without.Describe();
    Json rep2 = ProbeLine(without.out, "report");
    EXPECT_EQ(rep2["ns"][key].get<uint64_t>(), HostNs(key)) << type << " should be the host's";
  }
  ExpectNoLeaks();
}

INSTANTIATE_TEST_SUITE_P(Types, PerNamespaceTest,
                         ::testing::Values("pid", "network", "ipc", "uts", "mount", "user",
                                           "cgroup", "time"),
                         [](const auto& info) { return info.param; });

TEST_F(NamespacesTest, PidNamespaceMakesTheProcessInit) {
  CommandResult r = RunProbe({"/probe", "report", "proc"});
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["pid"], 1);
  EXPECT_EQ(rep["ppid"], 0);
  Drop(bundle().spec(), "pid");
  CommandResult r2 = RunProbe({"/probe", "report", "proc"});
  EXPECT_GT(ProbeLine(r2.out, "report")["pid"].get<int>(), 1);
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, CgroupNamespaceHidesTheHostPath) {
  SetNamespace(bundle().spec(), "cgroup");
  CommandResult r = RunProbe({"/probe", "report", "cgroup"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  ASSERT_FALSE(rep["cgroup"].empty()) << r.Describe();
  for (const auto& line : rep["cgroup"]) {
    EXPECT_TRUE(line.get<std::string>().ends_with(":/")) << line;
  }
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, JoinNetnsByPath) {
  std::string name = tag() + "-net";
  CommandOptions o;
  o.timeout = std::chrono::seconds(20);
  CommandResult add = RunCommand({"/usr/sbin/ip", "netns", "add", name}, dir(), o);
  if (!add.ok()) GTEST_SKIP() << "ip netns add failed: " << add.Describe();
  AddCleanup([this, name, o] { RunCommand({"/usr/sbin/ip", "netns", "del", name}, dir(), o); });
  std::string path = "/run/netns/" + name;
  // A link only that namespace has, to see it from inside too.
  CommandResult link = RunCommand(
      {"/usr/sbin/ip", "-n", name, "link", "add", "bt-dummy0", "type", "dummy"}, dir(), o);
  SetNamespace(bundle().spec(), "network", path);
  CommandResult r = RunProbe(Sh("/probe report ns; /probe ls /sys/class/net"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "report")["ns"]["net"].get<uint64_t>(), InodeOf(path));
  auto links = ProbeLine(r.out, "ls")["entries"].get<std::vector<std::string>>();
  EXPECT_THAT(links, ::testing::Contains("lo"));
  if (link.ok()) {
    EXPECT_THAT(links, ::testing::Contains("bt-dummy0"));
  }
  EXPECT_THAT(links, ::testing::Not(::testing::Contains("eth0")));
  // The runtime must not delete or unmount a namespace it did not create.
  EXPECT_TRUE(PathExists(path));
  EXPECT_EQ(InodeOf(path), ProbeLine(r.out, "report")["ns"]["net"].get<uint64_t>());
  CommandResult del = RunCommand({"/usr/sbin/ip", "netns", "del", name}, dir(), o);
  EXPECT_TRUE(del.ok()) << del.Describe();
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, JoinAnotherContainersNamespaces) {
  std::string first = NewId();
  bundle().spec()["hostname"] = "alpha";
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(first, bundle());
  int pid = rt().Pid(first);
  ASSERT_GT(pid, 0);

  auto b2 = NewBundle();
  ASSERT_TRUE(b2.has_value());
  b2->spec().erase("hostname");  // the uts namespace is alpha's
  for (const char* type : {"pid", "network", "ipc", "uts"}) {
    SetNamespace(b2->spec(), type, StrCat("/proc/", pid, "/ns/", NsKey(type)));
  }
  CommandResult r = RunProbe({"/probe", "report", "ns", "uts", "proc"}, &*b2);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  for (const char* key : {"pid", "net", "ipc", "uts"}) {
    EXPECT_EQ(rep["ns"][key].get<uint64_t>(), InodeOf(StrCat("/proc/", pid, "/ns/", key))) << key;
  }
  EXPECT_NE(rep["ns"]["mnt"].get<uint64_t>(), InodeOf(StrCat("/proc/", pid, "/ns/mnt")));
  EXPECT_EQ(rep["hostname"], "alpha");
  EXPECT_NE(rep["pid"], 1) << "joined pid namespace already has an init";
  EXPECT_TRUE(rt().Delete(first, true).ok());
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, UserNamespaceMapsIdsAndOwnership) {
  SetUserNamespace(bundle().spec(), 100000, 65536);
  // A file owned by host 101000:101000 is 1000:1000 inside; host root is unmapped.
  std::string owned = bundle().RootfsPath("/home/user/mine");
  ASSERT_TRUE(WriteFile(owned, "x").has_value());
  ASSERT_EQ(::chown(owned.c_str(), 101000, 101000), 0);
  CommandResult r =
      RunProbe(Sh("/probe report ids maps; /probe stat /home/user/mine; /probe stat /probe"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["uid"], 0);
  auto fields = SplitNonEmpty(rep["uid_map"].get<std::string>(), ' ');
  EXPECT_EQ(Join(fields, " "), "0 100000 65536\n");
  fields = SplitNonEmpty(rep["gid_map"].get<std::string>(), ' ');
  EXPECT_EQ(Join(fields, " "), "0 100000 65536\n");
  auto stats = ProbeLinesFor(r.out, "stat");
  ASSERT_EQ(stats.size(), 2u) << r.out;
  EXPECT_EQ(stats[0]["uid"], 1000);
  EXPECT_EQ(stats[0]["gid"], 1000);
  EXPECT_EQ(stats[1]["uid"], 65534) << "host root shows as the overflow uid";
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, UserNamespaceProcessIdsOnTheHost) {
  SetUserNamespace(bundle().spec(), 200000, 65536);
  bundle().spec()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  int pid = rt().Pid(id);
  // The user process runs as host 201000 once started.
  std::string status;
  for (int i = 0; i < 250; i++) {
    status = ReadFile(StrCat("/proc/", pid, "/status")).value_or("");
    if (status.find("\nUid:\t201000\t") != std::string::npos) break;
    usleep(20000);
  }
  EXPECT_THAT(status, HasSubstr("\nUid:\t201000\t201000\t201000\t201000\n"));
  EXPECT_THAT(status, HasSubstr("\nGid:\t201000\t201000\t201000\t201000\n"));
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, UserNamespaceWithSeveralMappings) {
  SetNamespace(bundle().spec(), "user");
  bundle().spec()["linux"]["uidMappings"] = {
      {{"containerID", 0}, {"hostID", 300000}, {"size", 1000}},
      {{"containerID", 1000}, {"hostID", 301000}, {"size", 1}}};
  bundle().spec()["linux"]["gidMappings"] = {
      {{"containerID", 0}, {"hostID", 300000}, {"size", 2000}}};
  CommandResult r = RunProbe({"/probe", "report", "maps"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  auto lines = SplitNonEmpty(rep["uid_map"].get<std::string>(), '\n');
  ASSERT_EQ(lines.size(), 2u) << rep["uid_map"];
  EXPECT_EQ(Join(SplitNonEmpty(lines[0], ' '), " "), "0 300000 1000");
  EXPECT_EQ(Join(SplitNonEmpty(lines[1], ' '), " "), "1000 301000 1");
  EXPECT_EQ(Join(SplitNonEmpty(rep["gid_map"].get<std::string>(), ' '), " "), "0 300000 2000\n");
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, UtsHostname) {
  bundle().spec()["hostname"] = "box-1";
  CommandResult r = RunProbe({"/probe", "report", "uts"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "report")["hostname"], "box-1");
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, UtsDomainname) {
  BERTH_SKIP_IF_RUNC("runc 1.1.5 ignores `domainname` (added in runc 1.2)");
  bundle().spec()["hostname"] = "box-1";
  bundle().spec()["domainname"] = "example.test";
  CommandResult r = RunProbe({"/probe", "report", "uts"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  EXPECT_EQ(rep["hostname"], "box-1");
  EXPECT_EQ(rep["domainname"], "example.test");
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, HostnameWithoutUtsNamespaceIsRefused) {
  RemoveNamespace(bundle().spec(), "uts");
  bundle().spec()["hostname"] = "nope";
  CommandResult r = RunProbe({"/probe", "report", "uts"});
  EXPECT_NE(r.exit_code, 0) << "setting the host's hostname must be refused";
  auto host = ReadFile("/proc/sys/kernel/hostname");
  EXPECT_NE(std::string(Trim(host.value_or(""))), "nope");
  ExpectNoLeaks();
}

TEST_F(NamespacesTest, NetworkNamespaceHasOnlyLoopback) {
  CommandResult r = RunProbe({"/probe", "ls", "/sys/class/net"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "ls")["entries"], Json({"lo"}));
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
