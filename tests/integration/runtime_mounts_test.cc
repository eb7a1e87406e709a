// The container's filesystem: bind and rbind mounts, mount flags, tmpfs options, the special
// filesystems, a read-only rootfs, rootfs propagation, masked and read-only paths, devices
// (the default set, extra linux.devices, the device cgroup).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class MountsTest : public RuntimeTest {
 protected:
  // A host directory with one file, for bind mounts.
  std::string HostDirWithFile(const std::string& name, const std::string& content) {
    std::string d = MakeHostDir(name);
    EXPECT_TRUE(WriteFile(d + "/file", content).has_value());
    return d;
  }

  // A tmpfs mounted on the host under the test dir, unmounted at cleanup.
  std::string HostTmpfs(const std::string& path) {
    EXPECT_TRUE(MkdirAll(path, 0755).has_value());
    EXPECT_EQ(::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=1m"), 0) << path;
    AddCleanup([path] { ::umount2(path.c_str(), MNT_DETACH); });
    return path;
  }
};

TEST_F(MountsTest, BindMountShowsHostFiles) {
  std::string src = HostDirWithFile("bind-src", "hello from the host");
  AddMount(bundle().spec(), "/mnt/host", "bind", src, {"bind"});
  CommandResult r = RunProbe(Sh("/probe read /mnt/host/file; /probe write /mnt/host/new data"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "read")["data"], "hello from the host");
  EXPECT_TRUE(ProbeLine(r.out, "write")["ok"].get<bool>()) << r.out;
  EXPECT_EQ(ReadFile(src + "/new").value_or(""), "data") << "write through a rw bind mount";
  ExpectNoLeaks();
}

TEST_F(MountsTest, ReadOnlyBindMount) {
  std::string src = HostDirWithFile("ro-src", "x");
  AddMount(bundle().spec(), "/mnt/ro", "bind", src, {"rbind", "ro"});
  CommandResult r = RunProbe(Sh("/probe write /mnt/ro/file y; /probe report mounts"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "write")["errno"], "EROFS");
  Json m = MountAt(ProbeLine(r.out, "report"), "/mnt/ro");
  ASSERT_FALSE(m.is_null()) << r.out;
  EXPECT_TRUE(HasOption(m["options"], "ro")) << m;
  EXPECT_EQ(ReadFile(src + "/file").value_or(""), "x");
  ExpectNoLeaks();
}

TEST_F(MountsTest, RbindCarriesSubmountsBindDoesNot) {
  std::string src = MakeHostDir("tree");
  std::string sub = HostTmpfs(src + "/sub");
  ASSERT_TRUE(WriteFile(sub + "/inner", "in the submount").has_value());
  AddMount(bundle().spec(), "/mnt/r", "bind", src, {"rbind"});
  AddMount(bundle().spec(), "/mnt/b", "bind", src, {"bind"});
  CommandResult r = RunProbe(Sh("/probe read /mnt/r/sub/inner; /probe ls /mnt/b/sub"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "read")["data"], "in the submount");
  EXPECT_THAT(ProbeLine(r.out, "ls")["entries"], IsEmpty()) << "bind is not recursive";
  ExpectNoLeaks();
}

TEST_F(MountsTest, MountFlags) {
  AddMount(bundle().spec(), "/mnt/t", "tmpfs", "tmpfs", {"nosuid", "nodev", "noexec", "noatime"});
  AddMount(bundle().spec(), "/mnt/plain", "tmpfs", "tmpfs", {});
  CommandResult r = RunProbe({"/probe", "report", "mounts"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  Json m = MountAt(rep, "/mnt/t");
  ASSERT_FALSE(m.is_null()) << r.out;
  for (const char* o : {"rw", "nosuid", "nodev", "noexec", "noatime"}) {
    EXPECT_TRUE(HasOption(m["options"], o)) << o << " in " << m;
  }
  Json p = MountAt(rep, "/mnt/plain");
  ASSERT_FALSE(p.is_null()) << r.out;
  for (const char* o : {"nosuid", "nodev", "noexec"}) {
    EXPECT_FALSE(HasOption(p["options"], o)) << o << " in " << p;
  }
  ExpectNoLeaks();
}

TEST_F(MountsTest, TmpfsSizeAndMode) {
  AddMount(bundle().spec(), "/mnt/small", "tmpfs", "tmpfs", {"size=1m", "mode=1770"});
  CommandResult r = RunProbe(Sh("/probe report mounts; /probe stat /mnt/small"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json m = MountAt(ProbeLine(r.out, "report"), "/mnt/small");
  ASSERT_FALSE(m.is_null()) << r.out;
  EXPECT_EQ(m["fs_type"], "tmpfs");
  EXPECT_TRUE(HasOption(m["super_options"], "size=1024k")) << m;
  EXPECT_TRUE(HasOption(m["super_options"], "mode=1770")) << m;
  EXPECT_EQ(ProbeLine(r.out, "stat")["mode"], 01770);
  ExpectNoLeaks();
}

TEST_F(MountsTest, DefaultSpecialFilesystems) {
  CommandResult r =
      RunProbe(Sh("/probe report mounts; /probe write /sys/kernel/x y; "
                  "/probe write /sys/fs/cgroup/pids/x y; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json rep = ProbeLine(r.out, "report");
  struct Want {
    const char* point;
    const char* type;
  };
  for (auto w : {Want{"/proc", "proc"}, Want{"/dev", "tmpfs"}, Want{"/dev/pts", "devpts"},
                 Want{"/dev/shm", "tmpfs"}, Want{"/dev/mqueue", "mqueue"}, Want{"/sys", "sysfs"}}) {
    Json m = MountAt(rep, w.point);
    ASSERT_FALSE(m.is_null()) << w.point;
    EXPECT_EQ(m["fs_type"], w.type) << w.point;
  }
  EXPECT_TRUE(HasOption(MountAt(rep, "/sys")["options"], "ro"));
  Json pts = MountAt(rep, "/dev/pts");
  EXPECT_TRUE(HasOption(pts["super_options"], "ptmxmode=666")) << pts;
  EXPECT_TRUE(HasOption(pts["super_options"], "mode=620")) << pts;
  EXPECT_TRUE(HasOption(pts["super_options"], "gid=5")) << pts;
  Json shm = MountAt(rep, "/dev/shm");
  EXPECT_TRUE(HasOption(shm["options"], "nodev") && HasOption(shm["options"], "noexec"));
  // /sys/fs/cgroup: a cgroup2 mount or a tmpfs with one cgroup mount per hierarchy, all ro.
  bool cgroup_seen = false;
  for (const auto& m : rep["mounts"]) {
    std::string mp = m["mount_point"];
    if (!mp.starts_with("/sys/fs/cgroup/") && mp != "/sys/fs/cgroup") continue;
    if (m["fs_type"] == "cgroup" || m["fs_type"] == "cgroup2") {
      cgroup_seen = true;
      EXPECT_TRUE(HasOption(m["options"], "ro")) << m;
    }
  }
  EXPECT_TRUE(cgroup_seen) << "no cgroup filesystem under /sys/fs/cgroup";
  for (const auto& w : ProbeLinesFor(r.out, "write")) {
    EXPECT_EQ(w.value("errno", ""), "EROFS") << w;
  }
  ExpectNoLeaks();
}

TEST_F(MountsTest, ReadonlyRootfs) {
  CommandResult r = RunProbe(Sh("/probe write /newfile x; /probe report mounts"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ProbeLine(r.out, "write")["errno"], "EROFS");
  Json root = MountAt(ProbeLine(r.out, "report"), "/");
  ASSERT_FALSE(root.is_null()) << r.out;
  EXPECT_TRUE(HasOption(root["options"], "ro")) << root;
  EXPECT_FALSE(PathExists(bundle().RootfsPath("/newfile")));
  ExpectNoLeaks();
}

TEST_F(MountsTest, WritableRootfs) {
  bundle().spec()["root"]["readonly"] = false;
  CommandResult r = RunProbe({"/probe", "write", "/newfile", "from-container"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(ReadFile(bundle().RootfsPath("/newfile")).value_or(""), "from-container");
  ExpectNoLeaks();
}

TEST_F(MountsTest, RootIsTheBundleRootfs) {
  CommandResult r = RunProbe({"/probe", "ls", "/"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto entries = ProbeLine(r.out, "ls")["entries"].get<std::vector<std::string>>();
  EXPECT_THAT(entries, Contains("probe"));
  EXPECT_THAT(entries, Not(Contains("work"))) << "the host's / is visible";
  ExpectNoLeaks();
}

// Propagation from the host into the container follows rootfsPropagation: a host mount made
// after start under a shared bind-mounted directory appears inside with the default (rslave)
// and not with "private".
class PropagationTest : public MountsTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(PropagationTest, HostMountsAfterStart) {
  const std::string prop = GetParam();
  std::string shared = HostTmpfs(dir() + "/shared");
  ASSERT_EQ(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), 0);
  AddMount(bundle().spec(), "/mnt/shared", "bind", shared, {"rbind"});
  if (!prop.empty()) bundle().spec()["linux"]["rootfsPropagation"] = prop;
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  ASSERT_TRUE(MkdirAll(shared + "/late", 0755).has_value());
  HostTmpfs(shared + "/late");
  ASSERT_TRUE(WriteFile(shared + "/late/file", "late").has_value());
  CommandResult e = rt().Exec(id, {"/probe", "read", "/mnt/shared/late/file"});
  if (prop == "private" || prop == "rprivate") {
    EXPECT_EQ(ProbeLine(e.out, "read")["errno"], "ENOENT") << e.Describe();
  } else {
    EXPECT_EQ(ProbeLine(e.out, "read")["data"], "late") << e.Describe();
  }
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

INSTANTIATE_TEST_SUITE_P(Modes, PropagationTest,
                         ::testing::Values("", "rslave", "slave", "rprivate"),
                         [](const auto& info) {
                           return std::string(*info.param ? info.param : "default");
                         });

TEST_F(MountsTest, MaskedPaths) {
  ASSERT_TRUE(WriteFile(bundle().RootfsPath("/etc/secret"), "top secret").has_value());
  ASSERT_TRUE(MkdirAll(bundle().RootfsPath("/opt/secretdir"), 0755).has_value());
  ASSERT_TRUE(WriteFile(bundle().RootfsPath("/opt/secretdir/key"), "k").has_value());
  Json& masked = bundle().spec()["linux"]["maskedPaths"];
  masked.push_back("/etc/secret");
  masked.push_back("/opt/secretdir");
  masked.push_back("/does/not/exist");  // absent paths are skipped, not errors
  // A masked file is /dev/null: writes vanish, reads are empty.
  CommandResult r =
      RunProbe(Sh("/probe read /etc/secret; /probe ls /opt/secretdir; /probe read /proc/keys; "
                  "/probe ls /sys/firmware; /probe write /etc/secret x; /probe read /etc/secret; "
                  "/probe read /proc/kcore; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto reads = ProbeLinesFor(r.out, "read");
  ASSERT_EQ(reads.size(), 4u) << r.out;
  EXPECT_EQ(reads[0]["data"], "") << "masked file must read empty";
  EXPECT_EQ(reads[1]["size"], 0) << "/proc/keys must be masked";
  EXPECT_EQ(reads[2]["data"], "") << "masked file must stay empty after a write";
  // /proc/kcore exists only on kernels built with it; where it does, it reads empty.
  if (reads[3]["ok"] == true) {
    EXPECT_EQ(reads[3]["size"], 0) << "/proc/kcore must be masked";
  }
  auto ls = ProbeLinesFor(r.out, "ls");
  ASSERT_EQ(ls.size(), 2u) << r.out;
  EXPECT_THAT(ls[0]["entries"], IsEmpty()) << "masked directory must look empty";
  EXPECT_THAT(ls[1]["entries"], IsEmpty());
  EXPECT_EQ(ReadFile(bundle().RootfsPath("/etc/secret")).value_or(""), "top secret");
  ExpectNoLeaks();
}

TEST_F(MountsTest, ReadonlyPaths) {
  AddMount(bundle().spec(), "/data", "tmpfs", "tmpfs", {});
  bundle().spec()["linux"]["readonlyPaths"].push_back("/data");
  CommandResult r =
      RunProbe(Sh("/probe write /data/x y; "
                  "/probe write /proc/sys/kernel/domainname z; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  for (const auto& w : ProbeLinesFor(r.out, "write")) {
    EXPECT_EQ(w.value("errno", ""), "EROFS") << w;
  }
  EXPECT_EQ(ProbeLinesFor(r.out, "write").size(), 2u);
  ExpectNoLeaks();
}

TEST_F(MountsTest, DefaultDevices) {
  std::string script;
  for (const char* d : {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "fd", "stdin",
                        "stdout", "stderr", "console"}) {
    script += StrCat("/probe stat /dev/", d, "; ");
  }
  script += "/probe ls /dev";
  CommandResult r = RunProbe(Sh(script));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto stats = ProbeLinesFor(r.out, "stat");
  std::map<std::string, Json> by_path;
  for (const auto& s : stats) by_path[s.value("path", "")] = s;
  struct Dev {
    const char* name;
    int major, minor;
  };
  for (auto d : {Dev{"null", 1, 3}, Dev{"zero", 1, 5}, Dev{"full", 1, 7}, Dev{"random", 1, 8},
                 Dev{"urandom", 1, 9}, Dev{"tty", 5, 0}}) {
    const Json& s = by_path[StrCat("/dev/", d.name)];
    ASSERT_TRUE(s.value("ok", false)) << d.name << " missing";
    EXPECT_EQ(s["type"], "char") << d.name;
    EXPECT_EQ(s["rdev_major"], d.major) << d.name;
    EXPECT_EQ(s["rdev_minor"], d.minor) << d.name;
    EXPECT_EQ(s["mode"], 0666) << d.name;
  }
  struct Link {
    const char* name;
    const char* target;
  };
  for (auto l :
       {Link{"ptmx", "pts/ptmx"}, Link{"fd", "/proc/self/fd"}, Link{"stdin", "/proc/self/fd/0"},
        Link{"stdout", "/proc/self/fd/1"}, Link{"stderr", "/proc/self/fd/2"}}) {
    const Json& s = by_path[StrCat("/dev/", l.name)];
    ASSERT_TRUE(s.value("ok", false)) << l.name << " missing";
    EXPECT_EQ(s["type"], "symlink") << l.name;
    EXPECT_EQ(s["target"], l.target) << l.name;
  }
  // No terminal: no /dev/console.
  EXPECT_FALSE(by_path["/dev/console"].value("ok", true));
  ExpectNoLeaks();
}

TEST_F(MountsTest, ExtraDevicesWithModeAndOwner) {
  bundle().spec()["linux"]["devices"] = {{{"path", "/dev/berth-null"},
                                          {"type", "c"},
                                          {"major", 1},
                                          {"minor", 3},
                                          {"fileMode", 0640},
                                          {"uid", 1000},
                                          {"gid", 1000}}};
  CommandResult r =
      RunProbe(Sh("/probe stat /dev/berth-null; /probe open /dev/berth-null rw; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  Json s = ProbeLine(r.out, "stat");
  ASSERT_TRUE(s.value("ok", false)) << r.out;
  EXPECT_EQ(s["type"], "char");
  EXPECT_EQ(s["mode"], 0640);
  EXPECT_EQ(s["uid"], 1000);
  EXPECT_EQ(s["gid"], 1000);
  EXPECT_EQ(s["rdev_major"], 1);
  EXPECT_EQ(s["rdev_minor"], 3);
  // Root without CAP_DAC_OVERRIDE may not open another user's 0640 file for writing.
  EXPECT_EQ(ProbeLine(r.out, "open")["errno"], "EACCES");
  ExpectNoLeaks();
}

TEST_F(MountsTest, DeviceCgroupDeniesUnlistedDevice) {
  // A device node shipped in the rootfs (not in linux.devices, which a runtime may choose to
  // allow on its own): 10:237 (loop-control) is not among the devices a container may use
  // by default, so the device cgroup must refuse to open it.
  std::string node = bundle().RootfsPath("/opt/berth-lc");
  ASSERT_EQ(::mknod(node.c_str(), S_IFCHR | 0666, makedev(10, 237)), 0);
  ::chmod(node.c_str(), 0666);
  CommandResult r = RunProbe(Sh("/probe open /opt/berth-lc r; /probe open /dev/null rw; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  auto opens = ProbeLinesFor(r.out, "open");
  ASSERT_EQ(opens.size(), 2u) << r.out;
  EXPECT_EQ(opens[0]["errno"], "EPERM") << "device cgroup let a denied device open";
  EXPECT_TRUE(opens[1]["ok"].get<bool>()) << "/dev/null must stay usable";

  // An allow rule for reading only.
  bundle().spec()["linux"]["resources"]["devices"].push_back(
      {{"allow", true}, {"type", "c"}, {"major", 10}, {"minor", 237}, {"access", "r"}});
  CommandResult r2 =
      RunProbe(Sh("/probe open /opt/berth-lc r; /probe open /opt/berth-lc w; "
                  "exit 0"));
  ASSERT_EQ(r2.exit_code, 0) << r2.Describe();
  auto opens2 = ProbeLinesFor(r2.out, "open");
  ASSERT_EQ(opens2.size(), 2u) << r2.out;
  EXPECT_NE(opens2[0]["errno"], "EPERM") << "read was allowed";
  EXPECT_EQ(opens2[1]["errno"], "EPERM") << "write was not allowed";
  ExpectNoLeaks();
}

TEST_F(MountsTest, MknodIsAllowedOpenIsNot) {
  // runc's default device rules allow mknod of any device ("c *:* m", "b *:* m") but not
  // its use. CAP_MKNOD is granted so that the device cgroup is what decides.
  SetAllCaps(bundle().spec(), {"CAP_MKNOD"});
  bundle().spec()["process"]["capabilities"].erase("ambient");
  bundle().spec()["process"]["capabilities"].erase("inheritable");
  AddMount(bundle().spec(), "/mnt/t", "tmpfs", "tmpfs", {});
  CommandResult r =
      RunProbe(Sh("/probe syscall mknod /mnt/t/lc c 10 237; "
                  "/probe open /mnt/t/lc r; exit 0"));
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(ProbeLine(r.out, "syscall").value("ok", false)) << r.out;
  EXPECT_EQ(ProbeLine(r.out, "open")["errno"], "EPERM") << r.out;
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
