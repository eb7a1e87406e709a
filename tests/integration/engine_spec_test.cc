// The engine's generated specs on the real kernel: a spec from GenerateSpec passes the
// runtime's validation and actually runs (docker's capability set and seccomp profile in
// force, masked paths masked, user from the rootfs's passwd, binds and --read-only, --init
// as PID 1); and ResolveUser reads a real rootfs's /etc/passwd and /etc/group without
// following a symlink out of it.
//
// Links berth_engine (GenerateSpec) on top of the runtime harness.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/spec_gen.h"
#include "berth/oci/spec.h"
#include "berth/sys/safe_path.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::HasSubstr;

// berth-init: $BERTH_INIT, else the build's <build>/berth-init found above the runtime.
std::string InitBinary() {
  if (const char* e = getenv("BERTH_INIT")) return e;
  std::string dir = RuntimePath();
  while (true) {
    size_t slash = dir.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return "";
    dir.resize(slash);
    if (PathExists(dir + "/berth-init")) return dir + "/berth-init";
  }
}

class EngineSpecTest : public RuntimeTest {
 protected:
  void SetUp() override {
    RuntimeTest::SetUp();
    image_.env = {"PATH=/bin:/sbin:/usr/bin"};
    in_.rootfs = bundle().rootfs();
    in_.hostname = "gen-host";
    in_.cgroup_parent = "";  // cgroupsPath "/<id>": the id carries the test's tag
  }

  // Generates the spec for `run_` into the default bundle under a new id, checks it against
  // the runtime's validation, and runs it in the foreground.
  CommandResult Run(const std::vector<std::string>& cmd) {
    std::string id = NewId();
    in_.container_id = id;
    run_.cmd = cmd;
    auto spec = engine::GenerateSpec(image_, run_, in_);
    EXPECT_TRUE(spec.has_value()) << spec.error().message();
    if (!spec) return {};
    auto valid = oci::Validate(*spec);
    EXPECT_TRUE(valid.has_value()) << valid.error().message();
    bundle().spec() = oci::ToJson(*spec);
    return RunBundle(id, bundle());
  }

  oci::ContainerConfig image_;
  engine::RunConfig run_;
  engine::SpecInputs in_;
};

TEST_F(EngineSpecTest, DefaultSpecRunsWithDockerConfinement) {
  std::string hosts = dir() + "/hosts";
  ASSERT_TRUE(WriteFile(hosts, "127.0.0.1 localhost gen-host\n").has_value());
  in_.hosts_file = hosts;
  CommandResult r =
      Run(Sh("echo ok; grep -E '^(CapBnd|CapEff|Seccomp):' /proc/self/status; "
             "hostname; echo HOSTNAME=$HOSTNAME; echo timer_list=$(wc -c < /proc/timer_list); "
             "cat /etc/hosts; echo x > /proc/sysrq-trigger || echo ro-sysrq"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("ok\n"));
  // CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
  // SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
  EXPECT_THAT(r.out, HasSubstr("CapBnd:\t00000000a80425fb"));
  EXPECT_THAT(r.out, HasSubstr("CapEff:\t00000000a80425fb"));
  EXPECT_THAT(r.out, HasSubstr("Seccomp:\t2"));
  EXPECT_THAT(r.out, HasSubstr("gen-host\nHOSTNAME=gen-host\n"));
  EXPECT_THAT(r.out, HasSubstr("timer_list=0\n"));  // masked (bound over by /dev/null)
  EXPECT_THAT(r.out, HasSubstr("127.0.0.1 localhost gen-host"));
  EXPECT_THAT(r.out, HasSubstr("ro-sysrq"));
  ExpectNoLeaks();
}

TEST_F(EngineSpecTest, SeccompRefusesUnshareWithoutSysAdmin) {
  // A user namespace needs no capability: only docker's profile refuses it.
  run_.security_opt = {"seccomp=unconfined"};
  CommandResult allowed = Run(Sh("unshare -U true && echo unshared"));
  ASSERT_TRUE(allowed.ok()) << allowed.Describe();
  EXPECT_THAT(allowed.out, HasSubstr("unshared"));
  run_.security_opt.clear();
  CommandResult refused = Run(Sh("unshare -U true 2>/dev/null && echo unshared || echo refused"));
  ASSERT_TRUE(refused.ok()) << refused.Describe();
  EXPECT_THAT(refused.out, HasSubstr("refused"));
  ExpectNoLeaks();
}

TEST_F(EngineSpecTest, UserFromRootfsPasswd) {
  run_.user = "user";
  CommandResult r = Run(Sh("id -u; id -g"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_EQ(r.out, "1000\n1000\n");
  ExpectNoLeaks();
}

TEST_F(EngineSpecTest, BindsReadOnlyRootfsAndTmpfs) {
  std::string host = dir() + "/shared";
  ASSERT_TRUE(MkdirAll(host).has_value());
  run_.mounts = {*engine::ParseVolumeFlag(host + ":/data"), *engine::ParseTmpfsFlag("/scratch")};
  run_.read_only = true;
  CommandResult r =
      Run(Sh("echo hi > /data/f && echo > /scratch/t && echo tmpfs-ok; "
             "touch /rootfs-file 2>/dev/null || echo ro-root"));
  ASSERT_TRUE(r.ok()) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("tmpfs-ok"));
  EXPECT_THAT(r.out, HasSubstr("ro-root"));
  auto content = ReadFile(host + "/f");
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(*content, "hi\n");
  ExpectNoLeaks();
}

TEST_F(EngineSpecTest, InitRunsAsPidOneAndPassesTheExitCode) {
  in_.init_binary = InitBinary();
  if (in_.init_binary.empty()) GTEST_SKIP() << "berth-init not built (set BERTH_INIT)";
  run_.init = true;
  CommandResult r = Run(Sh("cat /proc/1/cmdline | tr '\\0' ' '; echo; echo child=$$; exit 7"));
  EXPECT_EQ(r.exit_code, 7) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("/sbin/berth-init -- "));
  EXPECT_THAT(r.out, HasSubstr("child=2"));
  ExpectNoLeaks();
}

TEST_F(EngineSpecTest, ResolveUserReadsRealRootfs) {
  auto u = engine::ResolveUser(bundle().rootfs(), "nobody", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 65534u);
  u = engine::ResolveUser(bundle().rootfs(), "user", {});
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->uid, 1000u);
  EXPECT_EQ(u->gid, 1000u);
}

TEST_F(EngineSpecTest, ResolveUserRefusesPasswdSymlinkOutOfRootfs) {
  // A host file naming a user the image lacks; the image's /etc/passwd points at it.
  std::string outside = dir() + "/host-passwd";
  ASSERT_TRUE(WriteFile(outside, "evil:x:4242:4242::/:/bin/sh\n").has_value());
  std::string passwd = bundle().rootfs() + "/etc/passwd";
  for (bool openat2 : {true, false}) {
    sys::SetOpenat2Enabled(openat2);
    for (const std::string& target : {outside, std::string("../../host-passwd"),
                                      "../../../../../../../../" + outside.substr(1)}) {
      ASSERT_EQ(unlink(passwd.c_str()) == 0 || errno == ENOENT, true);
      ASSERT_EQ(symlink(target.c_str(), passwd.c_str()), 0);
      auto u = engine::ResolveUser(bundle().rootfs(), "evil", {});
      EXPECT_FALSE(u.has_value()) << "followed " << target << " out of the rootfs";
    }
  }
  sys::SetOpenat2Enabled(true);
}

}  // namespace
}  // namespace berth::itest
