// Tests of GenerateSpec and its parts against a temp-dir rootfs (no root needed): docker's
// argv/env/cwd rules, capabilities, seccomp (the default profile compiles with libseccomp),
// mounts, resources, sysctls, rlimits, --privileged and --init. Every generated spec must
// pass the runtime's own validation.
#include "berth/engine/spec_gen.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

#include "berth/base/file.h"
#include "berth/engine/spec_gen_internal.h"
#include "berth/runtime/seccomp.h"

namespace berth::engine {
namespace {

bool Has(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const oci::Mount* FindMount(const oci::Spec& s, std::string_view dest) {
  for (const auto& m : s.mounts)
    if (m.destination == dest) return &m;
  return nullptr;
}

const oci::SeccompSyscall* FindRule(const oci::Seccomp& s, std::string_view name) {
  for (const auto& r : s.syscalls)
    if (Has(r.names, name)) return &r;
  return nullptr;
}

class SpecGenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-specgen-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    in_.container_id = "abc123";
    in_.rootfs = dir_ + "/rootfs";
    in_.hostname = "abc123";
    ASSERT_TRUE(MkdirAll(in_.rootfs + "/etc").has_value());
    ASSERT_TRUE(
        WriteFile(in_.rootfs + "/etc/passwd", "root:x:0:0::/root:/bin/sh\nweb:x:33:33::/:/bin/sh\n")
            .has_value());
    ASSERT_TRUE(
        WriteFile(in_.rootfs + "/etc/group", "root:x:0:\nwww:x:33:\nstaff:x:50:web\n").has_value());
    image_.cmd = std::vector<std::string>{"sh"};
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  oci::Spec Gen() {
    auto s = GenerateSpec(image_, run_, in_);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    if (!s) return {};
    auto st = oci::Validate(*s);
    EXPECT_TRUE(st.has_value()) << st.error().message();
    return *s;
  }
  Error GenError() {
    auto s = GenerateSpec(image_, run_, in_);
    EXPECT_FALSE(s.has_value());
    return s ? Error() : s.error();
  }

  std::string dir_;
  oci::ContainerConfig image_;
  RunConfig run_;
  SpecInputs in_;
};

TEST(EffectiveArgs, DockerRules) {
  oci::ContainerConfig img;
  img.entrypoint = std::vector<std::string>{"/ep", "-x"};
  img.cmd = std::vector<std::string>{"default"};
  RunConfig run;
  EXPECT_EQ(*EffectiveArgs(img, run), (std::vector<std::string>{"/ep", "-x", "default"}));
  run.cmd = {"a", "b"};
  EXPECT_EQ(*EffectiveArgs(img, run), (std::vector<std::string>{"/ep", "-x", "a", "b"}));
  // --entrypoint drops the image's Cmd.
  run.cmd.clear();
  run.entrypoint = std::vector<std::string>{"/bin/true"};
  EXPECT_EQ(*EffectiveArgs(img, run), std::vector<std::string>{"/bin/true"});
  run.cmd = {"x"};
  EXPECT_EQ(*EffectiveArgs(img, run), (std::vector<std::string>{"/bin/true", "x"}));
  // --entrypoint "" clears it; the args alone run.
  run.entrypoint = std::vector<std::string>{""};
  EXPECT_EQ(*EffectiveArgs(img, run), std::vector<std::string>{"x"});
  run.cmd.clear();
  auto r = EffectiveArgs(img, run);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "no command specified");
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(EffectiveArgs(oci::ContainerConfig{}, RunConfig{}).has_value());
}

TEST_F(SpecGenTest, DefaultsAsDocker) {
  oci::Spec s = Gen();
  EXPECT_EQ(s.root.path, in_.rootfs);
  EXPECT_FALSE(s.root.readonly);
  EXPECT_EQ(s.hostname, "abc123");
  ASSERT_TRUE(s.process.has_value());
  const oci::Process& p = *s.process;
  EXPECT_EQ(p.args, std::vector<std::string>{"sh"});
  EXPECT_EQ(p.cwd, "/");
  EXPECT_FALSE(p.terminal);
  EXPECT_FALSE(p.no_new_privileges);
  EXPECT_EQ(p.env, (std::vector<std::string>{
                       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOSTNAME=abc123"}));
  ASSERT_TRUE(p.capabilities.has_value());
  EXPECT_EQ(p.capabilities->bounding->size(), 14u);
  EXPECT_EQ(p.capabilities->effective, p.capabilities->bounding);
  EXPECT_EQ(p.capabilities->permitted, p.capabilities->bounding);
  EXPECT_TRUE(p.capabilities->ambient->empty());
  EXPECT_TRUE(Has(*p.capabilities->bounding, "CAP_NET_BIND_SERVICE"));
  EXPECT_FALSE(Has(*p.capabilities->bounding, "CAP_SYS_ADMIN"));
  // nofile: 1048576, capped to what this process may set.
  struct rlimit cur {};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &cur), 0);
  uint64_t want = std::min<uint64_t>(1048576, cur.rlim_max);
  ASSERT_EQ(p.rlimits.size(), 1u);
  EXPECT_EQ(p.rlimits[0], (oci::Rlimit{"RLIMIT_NOFILE", want, want}));

  ASSERT_TRUE(s.linux_config.has_value());
  const oci::Linux& l = *s.linux_config;
  EXPECT_EQ(l.cgroups_path, "/berth/abc123");
  for (auto t :
       {oci::NamespaceType::kPid, oci::NamespaceType::kIpc, oci::NamespaceType::kUts,
        oci::NamespaceType::kMount, oci::NamespaceType::kNetwork, oci::NamespaceType::kCgroup})
    EXPECT_NE(l.FindNamespace(t), nullptr) << oci::NamespaceTypeName(t);
  EXPECT_EQ(l.FindNamespace(oci::NamespaceType::kUser), nullptr);
  EXPECT_TRUE(Has(l.masked_paths, "/proc/kcore"));
  EXPECT_TRUE(Has(l.masked_paths, "/sys/firmware"));
  EXPECT_TRUE(Has(l.readonly_paths, "/proc/sysrq-trigger"));
  ASSERT_TRUE(l.seccomp.has_value());
  EXPECT_EQ(l.seccomp->default_action, "SCMP_ACT_ERRNO");
  ASSERT_TRUE(l.resources.has_value());
  ASSERT_FALSE(l.resources->devices.empty());
  EXPECT_FALSE(l.resources->devices[0].allow);  // deny all first
  EXPECT_EQ(l.resources->devices[0].access, "rwm");

  const oci::Mount* shm = FindMount(s, "/dev/shm");
  ASSERT_NE(shm, nullptr);
  EXPECT_TRUE(Has(shm->options, "size=67108864"));
  EXPECT_TRUE(Has(shm->options, "mode=1777"));
  const oci::Mount* sys = FindMount(s, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_TRUE(Has(sys->options, "ro"));
  ASSERT_NE(FindMount(s, "/dev/pts"), nullptr);
  EXPECT_TRUE(Has(FindMount(s, "/dev/pts")->options, "gid=5"));
  ASSERT_NE(FindMount(s, "/sys/fs/cgroup"), nullptr);
  ASSERT_NE(FindMount(s, "/dev/mqueue"), nullptr);
  ASSERT_NE(FindMount(s, "/proc"), nullptr);
  EXPECT_EQ(FindMount(s, "/etc/hosts"), nullptr);  // none given
}

TEST_F(SpecGenTest, EnvCwdUserFromImageAndFlags) {
  image_.env = {"PATH=/custom", "A=image", "B=image"};
  image_.working_dir = "/app";
  image_.user = "web";
  run_.env = {"B=flag", "C=flag"};
  run_.tty = true;
  setenv("BERTH_SPEC_TEST", "fromhost", 1);
  unsetenv("BERTH_SPEC_UNSET");
  run_.env.push_back("BERTH_SPEC_TEST");
  run_.env.push_back("BERTH_SPEC_UNSET");
  oci::Spec s = Gen();
  EXPECT_EQ(s.process->env,
            (std::vector<std::string>{"PATH=/custom", "HOSTNAME=abc123", "TERM=xterm", "A=image",
                                      "B=flag", "C=flag", "BERTH_SPEC_TEST=fromhost"}));
  EXPECT_TRUE(s.process->terminal);
  EXPECT_EQ(s.process->cwd, "/app");
  EXPECT_EQ(s.process->user.uid, 33u);
  EXPECT_EQ(s.process->user.gid, 33u);
  EXPECT_EQ(s.process->user.additional_gids, (std::vector<uint32_t>{33, 50}));

  run_.workdir = "/override";
  run_.user = "1234";
  run_.group_add = {"staff"};
  s = Gen();
  EXPECT_EQ(s.process->cwd, "/override");
  EXPECT_EQ(s.process->user.uid, 1234u);
  EXPECT_EQ(s.process->user.gid, 0u);
  EXPECT_EQ(s.process->user.additional_gids, (std::vector<uint32_t>{0, 50}));

  run_.workdir = "relative";
  EXPECT_NE(GenError().message().find("--workdir"), std::string::npos);
  run_.workdir.clear();
  run_.user = "nobody";
  EXPECT_EQ(GenError().message(), "unable to find user nobody: no matching entries in passwd file");
}

TEST_F(SpecGenTest, NoCommandIsAnError) {
  image_.cmd.reset();
  Error e = GenError();
  EXPECT_EQ(e.message(), "no command specified");
  EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
}

TEST_F(SpecGenTest, Capabilities) {
  run_.cap_add = {"sys_admin", "CAP_NET_ADMIN"};
  run_.cap_drop = {"chown", "Cap_Kill"};
  auto caps = *Gen().process->capabilities->bounding;
  EXPECT_TRUE(Has(caps, "CAP_SYS_ADMIN"));
  EXPECT_TRUE(Has(caps, "CAP_NET_ADMIN"));
  EXPECT_FALSE(Has(caps, "CAP_CHOWN"));
  EXPECT_FALSE(Has(caps, "CAP_KILL"));

  run_.cap_add = {"net_raw"};
  run_.cap_drop = {"ALL"};
  EXPECT_EQ(*Gen().process->capabilities->bounding, std::vector<std::string>{"CAP_NET_RAW"});

  run_.cap_add = {"all"};
  run_.cap_drop = {"SYS_ADMIN"};
  caps = *Gen().process->capabilities->bounding;
  EXPECT_TRUE(Has(caps, "CAP_SYS_PTRACE"));
  EXPECT_FALSE(Has(caps, "CAP_SYS_ADMIN"));

  run_.cap_add = {"CAP_MAKE_COFFEE"};
  run_.cap_drop.clear();
  Error e = GenError();
  EXPECT_NE(e.message().find("--cap-add"), std::string::npos);
  EXPECT_NE(e.message().find("CAP_MAKE_COFFEE"), std::string::npos);
}

TEST_F(SpecGenTest, SeccompFollowsCapabilities) {
  oci::Spec s = Gen();
  const oci::Seccomp& sc = *s.linux_config->seccomp;
  EXPECT_EQ(FindRule(sc, "mount"), nullptr);
  const oci::SeccompSyscall* clone = FindRule(sc, "clone");
  ASSERT_NE(clone, nullptr);
  ASSERT_EQ(clone->args.size(), 1u);
  EXPECT_EQ(clone->args[0].op, "SCMP_CMP_MASKED_EQ");
  EXPECT_EQ(clone->args[0].value, 0x7E020000u);
  const oci::SeccompSyscall* clone3 = FindRule(sc, "clone3");
  ASSERT_NE(clone3, nullptr);
  EXPECT_EQ(clone3->action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(clone3->errno_ret, 38u);
  EXPECT_NE(FindRule(sc, "chroot"), nullptr);  // CAP_SYS_CHROOT is a default capability
  EXPECT_EQ(FindRule(sc, "reboot"), nullptr);

  run_.cap_add = {"SYS_ADMIN", "SYS_BOOT"};
  s = Gen();
  const oci::Seccomp& admin = *s.linux_config->seccomp;
  EXPECT_NE(FindRule(admin, "mount"), nullptr);
  EXPECT_NE(FindRule(admin, "reboot"), nullptr);
  for (const auto& r : admin.syscalls)
    if (Has(r.names, "clone")) {
      EXPECT_TRUE(r.args.empty());
    }
  EXPECT_EQ(FindRule(admin, "clone3")->action, "SCMP_ACT_ALLOW");
}

TEST(DefaultSeccomp, CompilesWithLibseccomp) {
  oci::Seccomp s = DefaultSeccompProfile();
  EXPECT_EQ(s.default_errno_ret, 1u);
  EXPECT_FALSE(s.architectures.empty());
  auto prog = runtime::CompileSeccomp(s);
  ASSERT_TRUE(prog.has_value()) << prog.error().message();
  EXPECT_FALSE(prog->filter.empty());
  auto all = runtime::CompileSeccomp(DefaultSeccompProfile(internal::AllKernelCapabilities()));
  ASSERT_TRUE(all.has_value()) << all.error().message();
#if defined(__x86_64__)
  EXPECT_EQ(s.architectures,
            (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
  EXPECT_NE(FindRule(s, "arch_prctl"), nullptr);
#endif
  const oci::SeccompSyscall* personality = FindRule(s, "personality");
  ASSERT_NE(personality, nullptr);
  EXPECT_EQ(personality->args.size(), 1u);
  EXPECT_NE(FindRule(s, "read"), nullptr);
  EXPECT_NE(FindRule(s, "ptrace"), nullptr);  // minKernel 4.8 holds here
  EXPECT_EQ(FindRule(s, "kexec_load"), nullptr);
  EXPECT_EQ(FindRule(s, "io_uring_setup"), nullptr);
}

TEST_F(SpecGenTest, SecurityOptions) {
  run_.security_opt = {"seccomp=unconfined", "no-new-privileges"};
  oci::Spec s = Gen();
  EXPECT_FALSE(s.linux_config->seccomp.has_value());
  EXPECT_TRUE(s.process->no_new_privileges);

  run_.security_opt = {"no-new-privileges:true", "label=disable", "apparmor=unconfined"};
  EXPECT_TRUE(Gen().process->no_new_privileges);

  run_.security_opt = {"systempaths=unconfined"};
  s = Gen();
  EXPECT_TRUE(s.linux_config->masked_paths.empty());
  EXPECT_TRUE(s.linux_config->readonly_paths.empty());

  run_.security_opt = {"label=type:svirt"};
  EXPECT_NE(GenError().message().find("label=type:svirt"), std::string::npos);
  run_.security_opt = {"seccomp=" + dir_ + "/missing.json"};
  EXPECT_NE(GenError().message().find("missing.json"), std::string::npos);
}

TEST_F(SpecGenTest, SeccompProfileFile) {
  std::string path = dir_ + "/profile.json";
  ASSERT_TRUE(WriteFile(path, R"({
    "defaultAction": "SCMP_ACT_ERRNO",
    "defaultErrnoRet": 1,
    "archMap": [
      {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
      {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
    ],
    "syscalls": [
      {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW", "args": []},
      {"name": "getpid", "action": "SCMP_ACT_ALLOW"},
      {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
      {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
       "args": [{"index": 1, "value": 9, "valueTwo": 0, "op": "SCMP_CMP_EQ"}],
       "excludes": {"caps": ["CAP_KILL"]}},
      {"names": ["uname"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "99.0"}},
      {"names": ["sync"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["mips64"]}}
    ]
  })")
                  .has_value());
  auto s = LoadSeccompProfile(path, {"CAP_CHOWN"});
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->default_errno_ret, 1u);
  EXPECT_NE(FindRule(*s, "getpid"), nullptr);
  EXPECT_EQ(FindRule(*s, "mount"), nullptr);
  const oci::SeccompSyscall* kill = FindRule(*s, "kill");
  ASSERT_NE(kill, nullptr);
  EXPECT_EQ(kill->errno_ret, 13u);
  ASSERT_EQ(kill->args.size(), 1u);
  EXPECT_EQ(kill->args[0].index, 1u);
  EXPECT_EQ(kill->args[0].value, 9u);
  EXPECT_EQ(FindRule(*s, "uname"), nullptr);
  EXPECT_EQ(FindRule(*s, "sync"), nullptr);
#if defined(__x86_64__)
  EXPECT_EQ(s->architectures, (std::vector<std::string>{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}));
#endif
  auto admin = LoadSeccompProfile(path, {"CAP_SYS_ADMIN", "CAP_KILL"});
  ASSERT_TRUE(admin.has_value());
  EXPECT_NE(FindRule(*admin, "mount"), nullptr);
  EXPECT_EQ(FindRule(*admin, "kill"), nullptr);

  // Through --security-opt, the container's own capabilities decide.
  run_.security_opt = {"seccomp=" + path};
  oci::Spec spec = Gen();
  ASSERT_TRUE(spec.linux_config->seccomp.has_value());
  EXPECT_EQ(FindRule(*spec.linux_config->seccomp, "kill"), nullptr);  // CAP_KILL is a default
  EXPECT_EQ(FindRule(*spec.linux_config->seccomp, "mount"), nullptr);
}

TEST(SeccompProfile, Errors) {
  auto parse = [](std::string_view text) {
    auto j = ParseJson(text, "t");
    EXPECT_TRUE(j.has_value());
    return internal::ParseProfile(*j, "profile");
  };
  EXPECT_FALSE(parse(R"({"syscalls": []})").has_value());  // defaultAction required
  EXPECT_FALSE(parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86"],
                         "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]})")
                   .has_value());
  auto r = parse(R"({"defaultAction": "SCMP_ACT_ERRNO",
                     "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("syscalls[0]"), std::string::npos);
  r = parse(R"({"defaultAction": "SCMP_ACT_ERRNO",
                "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": "x"}]}]})");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("args[0].index"), std::string::npos) << r.error().message();
  EXPECT_FALSE(parse(R"({"defaultAction": "SCMP_ACT_ERRNO",
                         "syscalls": [{"names": ["a"]}]})")
                   .has_value());  // action required
  EXPECT_FALSE(parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"],
      "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "new"}}]})")
                   .has_value());
}

TEST_F(SpecGenTest, Privileged) {
  run_.privileged = true;
  run_.security_opt = {"seccomp=" + dir_ + "/ignored.json"};  // privileged wins
  oci::Spec s = Gen();
  const oci::Linux& l = *s.linux_config;
  EXPECT_FALSE(l.seccomp.has_value());
  EXPECT_TRUE(l.masked_paths.empty());
  EXPECT_TRUE(l.readonly_paths.empty());
  EXPECT_EQ(*s.process->capabilities->bounding, internal::AllKernelCapabilities());
  EXPECT_TRUE(Has(*s.process->capabilities->bounding, "CAP_SYS_ADMIN"));
  ASSERT_EQ(l.resources->devices.size(), 1u);
  EXPECT_TRUE(l.resources->devices[0].allow);
  EXPECT_TRUE(Has(FindMount(s, "/sys")->options, "rw"));
  EXPECT_TRUE(Has(FindMount(s, "/sys/fs/cgroup")->options, "rw"));
  bool has_null = false;
  for (const auto& d : l.devices) {
    has_null |= d.path == "/dev/null" && d.major == 1 && d.minor == 3;
    EXPECT_FALSE(d.path.starts_with("/dev/pts/")) << d.path;
  }
  EXPECT_TRUE(has_null);
}

TEST_F(SpecGenTest, Init) {
  run_.init = true;
  EXPECT_EQ(GenError().code(), ErrorCode::kFailedPrecondition);  // no init binary
  in_.init_binary = "/usr/lib/berth/berth-init";
  oci::Spec s = Gen();
  EXPECT_EQ(s.process->args, (std::vector<std::string>{"/sbin/berth-init", "--", "sh"}));
  const oci::Mount* m = FindMount(s, "/sbin/berth-init");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->source, "/usr/lib/berth/berth-init");
  EXPECT_TRUE(Has(m->options, "ro"));
  EXPECT_TRUE(Has(m->options, "bind"));
}

TEST_F(SpecGenTest, Network) {
  in_.netns_path = "/run/berth/netns/x";
  oci::Spec s = Gen();
  EXPECT_EQ(s.linux_config->FindNamespace(oci::NamespaceType::kNetwork)->path,
            "/run/berth/netns/x");
  in_.netns_path.clear();
  run_.network = "host";
  s = Gen();
  EXPECT_EQ(s.linux_config->FindNamespace(oci::NamespaceType::kNetwork), nullptr);
  EXPECT_NE(s.linux_config->FindNamespace(oci::NamespaceType::kUts), nullptr);
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  EXPECT_EQ(s.hostname, host);
  run_.hostname = "explicit";
  EXPECT_EQ(Gen().hostname, "explicit");
  run_.network = "bridge";
  EXPECT_EQ(GenError().code(), ErrorCode::kUnsupported);
}

TEST_F(SpecGenTest, Sysctls) {
  run_.sysctls = {{"kernel.shmmax", "1000"},
                  {"kernel.sem", "1 2 3 4"},
                  {"fs.mqueue.msg_max", "5"},
                  {"net.ipv4.ip_forward", "1"},
                  {"kernel.msgmax", "9"}};
  EXPECT_EQ(Gen().linux_config->sysctl.size(), 5u);
  run_.sysctls = {{"vm.swappiness", "1"}};
  EXPECT_NE(GenError().message().find("`vm.swappiness`"), std::string::npos);
  run_.sysctls = {{"kernel.hostname", "x"}};
  EXPECT_FALSE(GenerateSpec(image_, run_, in_).has_value());
  run_.sysctls = {{"net.ipv4.ip_forward", "1"}};
  run_.network = "host";
  EXPECT_NE(GenError().message().find("--network host"), std::string::npos);
}

TEST_F(SpecGenTest, Resources) {
  run_.memory = 256LL << 20;
  run_.memory_reservation = 128LL << 20;
  run_.cpus = 0.5;
  run_.cpu_shares = 512;
  run_.cpuset_cpus = "0";
  run_.pids_limit = 64;
  run_.oom_score_adj = 100;
  oci::Spec s = Gen();
  const oci::Resources& r = *s.linux_config->resources;
  EXPECT_EQ(r.memory->limit, 256LL << 20);
  EXPECT_EQ(r.memory->reservation, 128LL << 20);
  if (r.memory->swap) {
    EXPECT_EQ(*r.memory->swap, 512LL << 20);  // docker: swap = memory
  }
  EXPECT_EQ(r.cpu->quota, 50000);
  EXPECT_EQ(r.cpu->period, 100000u);
  EXPECT_EQ(r.cpu->shares, 512u);
  EXPECT_EQ(r.cpu->cpus, "0");
  EXPECT_EQ(r.pids->limit, 64);
  EXPECT_EQ(s.process->oom_score_adj, 100);

  run_.memory_swap = -1;
  s = Gen();
  if (s.linux_config->resources->memory->swap) {
    EXPECT_EQ(*s.linux_config->resources->memory->swap, -1);
  }
  run_.memory_swap = 128LL << 20;  // less than --memory
  EXPECT_NE(GenError().message().find("--memory-swap"), std::string::npos);
  run_.memory_swap.reset();
  run_.memory = 1 << 20;
  EXPECT_NE(GenError().message().find("6MB"), std::string::npos);
  run_.memory.reset();
  run_.memory_reservation.reset();
  run_.memory_swap = 1LL << 30;
  EXPECT_FALSE(GenerateSpec(image_, run_, in_).has_value());  // swap without memory
  run_.memory_swap.reset();
  run_.cpus = 0.001;
  EXPECT_NE(GenError().message().find("--cpus"), std::string::npos);
  run_.cpus.reset();
  run_.oom_score_adj = 2000;
  EXPECT_NE(GenError().message().find("--oom-score-adj"), std::string::npos);
  run_.oom_score_adj.reset();
  run_.pids_limit = -1;
  EXPECT_FALSE(Gen().linux_config->resources->pids.has_value());
}

TEST_F(SpecGenTest, UlimitsOverrideNofile) {
  run_.ulimits = {{"nofile", 100, 200}, {"nproc", 10, 10}, {"nproc", 20, 20}};
  oci::Spec s = Gen();
  EXPECT_EQ(s.process->rlimits,
            (std::vector<oci::Rlimit>{{"RLIMIT_NOFILE", 100, 200}, {"RLIMIT_NPROC", 20, 20}}));
}

TEST_F(SpecGenTest, Devices) {
  run_.devices = {{"/dev/null", "/dev/mynull", "rw"}};
  oci::Spec s = Gen();
  ASSERT_EQ(s.linux_config->devices.size(), 1u);
  const oci::Device& d = s.linux_config->devices[0];
  EXPECT_EQ(d.path, "/dev/mynull");
  EXPECT_EQ(d.type, "c");
  EXPECT_EQ(d.major, 1);
  EXPECT_EQ(d.minor, 3);
  const oci::DeviceRule& last = s.linux_config->resources->devices.back();
  EXPECT_TRUE(last.allow);
  EXPECT_EQ(last.major, 1);
  EXPECT_EQ(last.minor, 3);
  EXPECT_EQ(last.access, "rw");
  run_.devices = {{"/dev/does-not-exist", "/dev/x", "rwm"}};
  EXPECT_NE(GenError().message().find("/dev/does-not-exist"), std::string::npos);
  run_.devices = {{in_.rootfs + "/etc/passwd", "/dev/x", "rwm"}};
  EXPECT_NE(GenError().message().find("not a device"), std::string::npos);
}

TEST_F(SpecGenTest, Mounts) {
  std::string host = dir_ + "/host";
  ASSERT_TRUE(MkdirAll(host).has_value());
  std::string voldir = dir_ + "/vol";
  std::string anon = dir_ + "/anon";
  std::string imgvol = dir_ + "/imgvol";
  in_.volume_dirs = {{"/data", voldir}, {"/anon", anon}, {"/var/lib/img", imgvol}};
  in_.hosts_file = dir_ + "/hosts";
  in_.resolv_conf = dir_ + "/resolv.conf";
  in_.hostname_file = dir_ + "/hostname";
  image_.volumes = {"/var/lib/img", "/var/lib/unresolved"};
  run_.mounts = {*ParseVolumeFlag(host + ":/srv/a/b:ro"), *ParseVolumeFlag(host + ":/srv:rshared"),
                 *ParseVolumeFlag("data:/data:nocopy"),   *ParseVolumeFlag("/anon"),
                 *ParseTmpfsFlag("/run:size=1m,exec"),    *ParseTmpfsFlag("/dev/shm:size=1g")};
  run_.read_only = true;
  oci::Spec s = Gen();
  EXPECT_TRUE(s.root.readonly);
  // Parents before children.
  auto pos = [&](std::string_view d) {
    for (size_t i = 0; i < s.mounts.size(); ++i)
      if (s.mounts[i].destination == d) return i;
    return s.mounts.size();
  };
  ASSERT_LT(pos("/srv"), s.mounts.size());
  EXPECT_LT(pos("/srv"), pos("/srv/a/b"));
  const oci::Mount* b = FindMount(s, "/srv/a/b");
  EXPECT_EQ(b->type, "bind");
  EXPECT_EQ(b->source, host);
  EXPECT_EQ(b->options, (std::vector<std::string>{"rbind", "ro", "rprivate"}));
  EXPECT_EQ(FindMount(s, "/srv")->options, (std::vector<std::string>{"rbind", "rshared"}));
  EXPECT_EQ(s.linux_config->rootfs_propagation, "rshared");
  EXPECT_EQ(FindMount(s, "/data")->source, voldir);
  EXPECT_FALSE(Has(FindMount(s, "/data")->options, "nocopy"));
  EXPECT_EQ(FindMount(s, "/anon")->source, anon);
  EXPECT_EQ(FindMount(s, "/var/lib/img")->source, imgvol);
  EXPECT_EQ(FindMount(s, "/var/lib/unresolved"), nullptr);
  const oci::Mount* run = FindMount(s, "/run");
  EXPECT_EQ(run->type, "tmpfs");
  EXPECT_EQ(run->options, (std::vector<std::string>{"nosuid", "nodev", "size=1048576", "exec"}));
  // The user's /dev/shm replaces the default one.
  size_t shm_count = 0;
  for (const auto& m : s.mounts) shm_count += m.destination == "/dev/shm";
  EXPECT_EQ(shm_count, 1u);
  EXPECT_TRUE(Has(FindMount(s, "/dev/shm")->options, "size=1073741824"));
  // /etc files from the engine, read-only with --read-only.
  ASSERT_NE(FindMount(s, "/etc/hosts"), nullptr);
  EXPECT_EQ(FindMount(s, "/etc/hosts")->source, in_.hosts_file);
  EXPECT_TRUE(Has(FindMount(s, "/etc/resolv.conf")->options, "ro"));
  ASSERT_NE(FindMount(s, "/etc/hostname"), nullptr);
}

TEST_F(SpecGenTest, MissingBindSources) {
  std::string missing = dir_ + "/made/by/v";
  run_.mounts = {*ParseVolumeFlag(missing + ":/x")};
  Gen();
  EXPECT_TRUE(PathExists(missing));  // -v creates it, as docker does
  run_.mounts = {*ParseMountFlag("type=bind,src=" + dir_ + "/nope,dst=/x")};
  Error e = GenError();
  EXPECT_NE(e.message().find("/nope"), std::string::npos);
  EXPECT_NE(e.message().find("does not exist"), std::string::npos);
  EXPECT_FALSE(PathExists(dir_ + "/nope"));
  run_.mounts = {*ParseVolumeFlag("unresolved:/x")};
  EXPECT_NE(GenError().message().find("unresolved"), std::string::npos);
  run_.mounts = {*ParseTmpfsFlag("/x"), *ParseTmpfsFlag("/x/")};
  EXPECT_NE(GenError().message().find("duplicate"), std::string::npos);
}

}  // namespace
}  // namespace berth::engine
