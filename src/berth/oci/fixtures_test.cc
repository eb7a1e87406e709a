// Configs written by real tools parse and validate: runc's default specs and one written by
// podman 4.3 (`podman create --network none --hostname web --memory 256m --pids-limit 100
// --cap-add NET_ADMIN --annotation ... --tmpfs /scratch -v DIR:/data:ro`), with the hooks a
// hooks.d directory would add.
#include <gtest/gtest.h>

#include "berth/oci/spec.h"
#include "berth/oci/test_util.h"

namespace berth::oci {
namespace {

Result<Spec> LoadFixture(const std::string& name) { return LoadSpec(testing::TestDataPath(name)); }

TEST(FixturesTest, RuncSpecs) {
  for (const char* name : {"runc_spec.json", "runc_spec_rootless.json"}) {
    SCOPED_TRACE(name);
    auto s = LoadFixture(name);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    EXPECT_EQ(s->oci_version, "1.0.2-dev");
    EXPECT_EQ(s->root.path, "rootfs");
    EXPECT_TRUE(s->root.readonly);
    EXPECT_TRUE(s->process->terminal);
    EXPECT_EQ(s->mounts.size(), 7u);
    auto st = Validate(*s);
    EXPECT_TRUE(st.has_value()) << st.error().message();
  }
  auto rootless = LoadFixture("runc_spec_rootless.json");
  ASSERT_TRUE(rootless.has_value());
  EXPECT_NE(rootless->linux_config->FindNamespace(NamespaceType::kUser), nullptr);
  EXPECT_EQ(rootless->linux_config->FindNamespace(NamespaceType::kNetwork), nullptr);
  EXPECT_EQ(rootless->linux_config->uid_mappings.size(), 1u);
  EXPECT_FALSE(rootless->linux_config->resources.has_value());
}

TEST(FixturesTest, PodmanConfig) {
  auto r = LoadFixture("podman_config.json");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  const Spec& s = *r;
  auto st = Validate(s);
  EXPECT_TRUE(st.has_value()) << st.error().message();

  const Process& p = *s.process;
  EXPECT_EQ(p.args, (std::vector<std::string>{"sleep", "1000"}));
  EXPECT_EQ(p.user.umask, 18u);
  EXPECT_FALSE(p.terminal);
  EXPECT_FALSE(p.capabilities->ambient.has_value());
  EXPECT_EQ(p.capabilities->bounding->size(), 12u);
  ASSERT_EQ(p.rlimits.size(), 2u);
  EXPECT_EQ(p.rlimits[0].type, "RLIMIT_NOFILE");
  EXPECT_EQ(p.rlimits[0].hard, 1048576u);

  EXPECT_EQ(s.hostname, "web");
  EXPECT_EQ(s.annotations.at("org.example.note"), "hello");
  EXPECT_EQ(s.annotations.at("io.container.manager"), "libpod");

  ASSERT_EQ(s.mounts.size(), 12u);
  EXPECT_EQ(s.mounts[0].destination, "/scratch");
  EXPECT_EQ(s.mounts[0].options.back(), "tmpcopyup");
  EXPECT_EQ(s.mounts[1].type, "bind");
  EXPECT_EQ(s.mounts[1].source, "/srv/data");

  ASSERT_TRUE(s.hooks.has_value());
  EXPECT_EQ(s.hooks->prestart.size(), 1u);
  EXPECT_EQ(s.hooks->create_runtime[0].timeout, 5);
  EXPECT_EQ(s.hooks->poststop[0].args[0], "conmon-cleanup");

  const Linux& l = *s.linux_config;
  EXPECT_EQ(l.cgroups_path.rfind("/libpod_parent/libpod-", 0), 0u);
  EXPECT_EQ(l.sysctl.at("net.ipv4.ping_group_range"), "0 0");
  EXPECT_EQ(l.resources->memory->limit, 268435456);
  EXPECT_EQ(l.resources->memory->swap, 536870912);
  EXPECT_EQ(l.resources->pids->limit, 100);
  EXPECT_EQ(l.namespaces.size(), 5u);
  EXPECT_FALSE(l.masked_paths.empty());

  const Seccomp& sc = *l.seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ERRNO");
  EXPECT_EQ(sc.default_errno_ret, 38u);
  EXPECT_EQ(sc.architectures.front(), "SCMP_ARCH_X86_64");
  EXPECT_EQ(sc.syscalls.size(), 22u);
  EXPECT_EQ(sc.syscalls[0].errno_ret, 1u);
  bool saw_args = false;
  for (const auto& call : sc.syscalls) {
    if (call.names == std::vector<std::string>{"personality"} && !call.args.empty()) {
      EXPECT_EQ(call.args[0].op, "SCMP_CMP_EQ");
      saw_args = true;
    }
  }
  EXPECT_TRUE(saw_args);
}

}  // namespace
}  // namespace berth::oci
