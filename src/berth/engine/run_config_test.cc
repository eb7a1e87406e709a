// Tests of RunConfig's JSON round trip and of the docker-run flag value parsers.
#include "berth/engine/run_config.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "berth/base/file.h"

namespace berth::engine {
namespace {

RunConfig FullConfig() {
  RunConfig c;
  c.image = "busybox:latest";
  c.name = "web";
  c.entrypoint = std::vector<std::string>{"/bin/sh", "-c"};
  c.cmd = {"echo", "hi"};
  c.env = {"A=1", "B=2"};
  c.workdir = "/srv";
  c.user = "1000:1000";
  c.hostname = "h";
  c.interactive = c.tty = c.detach = c.auto_remove = c.read_only = c.privileged = c.init = true;
  c.network = "front";
  c.more_networks = {"back", "bridge"};
  c.ip = "10.1.2.3";
  c.network_aliases = {"api"};
  c.ports = {{"127.0.0.1", 8080, 80, "tcp"}, {"", 0, 53, "udp"}};
  c.publish_all = true;
  c.dns = {"10.9.9.9"};
  c.add_hosts = {"db:10.1.2.4"};
  VolumeMount v;
  v.kind = VolumeMount::Kind::kTmpfs;
  v.target = "/t";
  v.readonly = true;
  v.options = {"size=1024"};
  c.mounts = {v};
  VolumeMount b;
  b.source = "/src";
  b.target = "/dst";
  b.create_source = true;
  c.mounts.push_back(b);
  c.cap_add = {"NET_ADMIN"};
  c.cap_drop = {"CHOWN"};
  c.security_opt = {"no-new-privileges"};
  c.devices = {{"/dev/fuse", "/dev/fuse", "rw"}};
  c.ulimits = {{"nofile", 10, 20}, {"core", RLIM_INFINITY, RLIM_INFINITY}};
  c.sysctls = {{"net.ipv4.ip_forward", "1"}};
  c.labels = {{"a", "b"}};
  c.memory = 1 << 30;
  c.memory_swap = -1;
  c.memory_reservation = 1 << 20;
  c.cpus = 1.5;
  c.cpu_shares = 512;
  c.cpuset_cpus = "0-1";
  c.cpuset_mems = "0";
  c.pids_limit = 100;
  c.oom_score_adj = -5;
  c.stop_signal = "SIGINT";
  c.stop_timeout = 3;
  c.restart = {"on-failure", 4};
  c.health = {{"CMD-SHELL", "true"}, 1, 2, 3, 4, true};
  c.log_max_size = 1000;
  c.log_max_file = 3;
  c.group_add = {"audio"};
  c.pull = "never";
  return c;
}

TEST(RunConfigJson, RoundTripsEveryField) {
  RunConfig c = FullConfig();
  auto back = RunConfigFromJson(ToJson(c));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, c);
  // Through text too, as the engine stores it.
  auto parsed = ParseJson(ToJson(c).dump(), "t");
  ASSERT_TRUE(parsed.has_value());
  auto back2 = RunConfigFromJson(*parsed);
  ASSERT_TRUE(back2.has_value());
  EXPECT_EQ(*back2, c);
}

TEST(RunConfigJson, RoundTripsDefaults) {
  RunConfig c;
  auto back = RunConfigFromJson(ToJson(c));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, c);
  EXPECT_FALSE(back->entrypoint.has_value());
  EXPECT_FALSE(ToJson(c).contains("memory"));
}

TEST(RunConfigJson, EmptyEntrypointSurvives) {
  RunConfig c;
  c.entrypoint = std::vector<std::string>{};
  auto back = RunConfigFromJson(ToJson(c));
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(back->entrypoint.has_value());
  EXPECT_TRUE(back->entrypoint->empty());
}

TEST(RunConfigJson, WrongTypesNameTheKey) {
  Json j = ToJson(RunConfig{});
  j["tty"] = "yes";
  auto r = RunConfigFromJson(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("tty"), std::string::npos) << r.error().message();

  j = ToJson(RunConfig{});
  j["cpu_shares"] = -1;
  r = RunConfigFromJson(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("cpu_shares"), std::string::npos);

  j = ToJson(FullConfig());
  j["mounts"][0]["kind"] = "nfs";
  r = RunConfigFromJson(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("mounts[0]"), std::string::npos) << r.error().message();

  EXPECT_FALSE(RunConfigFromJson(Json::array()).has_value());
}

TEST(RunConfigJson, MissingKeysKeepDefaults) {
  auto r = RunConfigFromJson(Json{{"image", "x"}});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->image, "x");
  EXPECT_EQ(r->network, "none");
  EXPECT_EQ(r->log_max_file, 1);
}

TEST(ParseBytes, DockerUnits) {
  EXPECT_EQ(*ParseBytes("1024", "--memory"), 1024);
  EXPECT_EQ(*ParseBytes("10b", "--memory"), 10);
  EXPECT_EQ(*ParseBytes("100k", "--memory"), 100 * 1024);
  EXPECT_EQ(*ParseBytes("100KB", "--memory"), 100 * 1024);
  EXPECT_EQ(*ParseBytes("512m", "--memory"), 512LL << 20);
  EXPECT_EQ(*ParseBytes("512MB", "--memory"), 512LL << 20);
  EXPECT_EQ(*ParseBytes("1g", "--memory"), 1LL << 30);
  EXPECT_EQ(*ParseBytes("1Gb", "--memory"), 1LL << 30);
  EXPECT_EQ(*ParseBytes("2t", "--memory"), 2LL << 40);
  EXPECT_EQ(*ParseBytes("1.5g", "--memory"), 3LL << 29);
  EXPECT_EQ(*ParseBytes("1kib", "--memory"), 1024);
  EXPECT_EQ(*ParseBytes("-1", "--memory-swap"), -1);
}

TEST(ParseBytes, ErrorsNameFlagAndValue) {
  auto r = ParseBytes("12x", "--memory");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "--memory: invalid size `12x`");
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  for (const char* bad : {"", "m", "-2", "1.g", "1mm", "1ib", "1 2", "99999999999999999999"})
    EXPECT_FALSE(ParseBytes(bad, "--memory").has_value()) << bad;
  EXPECT_FALSE(ParseBytes("9000000p", "--memory").has_value());
}

TEST(ParseDurationNs, GoSyntax) {
  EXPECT_EQ(*ParseDurationNs("0", "--health-interval"), 0);
  EXPECT_EQ(*ParseDurationNs("30s", "f"), 30'000'000'000);
  EXPECT_EQ(*ParseDurationNs("1m30s", "f"), 90'000'000'000);
  EXPECT_EQ(*ParseDurationNs("500ms", "f"), 500'000'000);
  EXPECT_EQ(*ParseDurationNs("1.5s", "f"), 1'500'000'000);
  EXPECT_EQ(*ParseDurationNs("2h", "f"), 7200'000'000'000);
  EXPECT_EQ(*ParseDurationNs("10us", "f"), 10'000);
  EXPECT_EQ(*ParseDurationNs("10\u00b5s", "f"), 10'000);
  EXPECT_EQ(*ParseDurationNs("10\u03bcs", "f"), 10'000);
  EXPECT_EQ(*ParseDurationNs("7ns", "f"), 7);
  EXPECT_EQ(*ParseDurationNs(".5m", "f"), 30'000'000'000);
  EXPECT_EQ(*ParseDurationNs("1h2m3s4ms", "f"), 3723'004'000'000);
}

TEST(ParseDurationNs, Errors) {
  auto r = ParseDurationNs("10", "--health-timeout");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("--health-timeout"), std::string::npos);
  EXPECT_NE(r.error().message().find("missing unit"), std::string::npos);
  for (const char* bad : {"", "s", "1x", "1.s.", "-1s", "1d", "99999999999h"})
    EXPECT_FALSE(ParseDurationNs(bad, "f").has_value()) << bad;
}

TEST(ParseVolumeFlag, BindWithOptions) {
  auto v = ParseVolumeFlag("/host/dir:/ctr:ro,rshared");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(v->kind, VolumeMount::Kind::kBind);
  EXPECT_EQ(v->source, "/host/dir");
  EXPECT_EQ(v->target, "/ctr");
  EXPECT_TRUE(v->readonly);
  EXPECT_TRUE(v->create_source);
  EXPECT_EQ(v->options, std::vector<std::string>{"rshared"});

  v = ParseVolumeFlag("/a:/b:z");
  ASSERT_TRUE(v.has_value());
  EXPECT_FALSE(v->readonly);
  EXPECT_TRUE(v->options.empty());
  v = ParseVolumeFlag("/a:/b:Z,rw");
  ASSERT_TRUE(v.has_value());
}

TEST(ParseVolumeFlag, RelativeSourceBecomesAbsolute) {
  char buf[4096];
  ASSERT_NE(getcwd(buf, sizeof buf), nullptr);
  auto v = ParseVolumeFlag("./data/../x:/ctr");
  ASSERT_TRUE(v.has_value());
  std::string cwd = buf;
  EXPECT_EQ(v->source, (cwd == "/" ? "" : cwd) + "/x");
}

TEST(ParseVolumeFlag, NamedAndAnonymous) {
  auto v = ParseVolumeFlag("data_1.x-y:/var/lib/data:nocopy");
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(v->kind, VolumeMount::Kind::kVolume);
  EXPECT_EQ(v->source, "data_1.x-y");
  EXPECT_EQ(v->options, std::vector<std::string>{"nocopy"});
  EXPECT_FALSE(v->create_source);

  v = ParseVolumeFlag("/anon");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->kind, VolumeMount::Kind::kVolume);
  EXPECT_EQ(v->source, "");
  EXPECT_EQ(v->target, "/anon");
}

TEST(ParseVolumeFlag, Errors) {
  for (const char* bad :
       {"rel", "/a:rel", "/a:/b:bogus", "/a:/b:ro,rw", "_bad:/x", "/a:/", "vol:/x:rshared",
        "/a:/b:nocopy", "/a:/b:c:d", ":/x", "/x:ro", "/a:/b:shared,slave"}) {
    auto r = ParseVolumeFlag(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_NE(r.error().message().find("--volume"), std::string::npos);
    }
  }
}

TEST(ParseMountFlag, Bind) {
  auto m = ParseMountFlag("type=bind,source=/h,target=/c,readonly,bind-propagation=rslave");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->kind, VolumeMount::Kind::kBind);
  EXPECT_EQ(m->source, "/h");
  EXPECT_EQ(m->target, "/c");
  EXPECT_TRUE(m->readonly);
  EXPECT_FALSE(m->create_source);  // --mount refuses a missing source
  EXPECT_EQ(m->options, std::vector<std::string>{"rslave"});

  m = ParseMountFlag("type=bind,src=/h,dst=/c,ro=false");
  ASSERT_TRUE(m.has_value());
  EXPECT_FALSE(m->readonly);
  m = ParseMountFlag("type=bind,src=/h,destination=/c,ro=1,bind-nonrecursive");
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->readonly);
  EXPECT_EQ(m->options, std::vector<std::string>{"bind"});
  m = ParseMountFlag("\"type=bind\",\"src=/a,b\",dst=/c");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->source, "/a,b");
}

TEST(ParseMountFlag, VolumeAndTmpfs) {
  auto m = ParseMountFlag("source=data,target=/d,volume-nocopy");  // type defaults to volume
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->kind, VolumeMount::Kind::kVolume);
  EXPECT_EQ(m->source, "data");
  EXPECT_EQ(m->options, std::vector<std::string>{"nocopy"});

  m = ParseMountFlag("type=tmpfs,dst=/run,tmpfs-size=64m,tmpfs-mode=1770");
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->kind, VolumeMount::Kind::kTmpfs);
  EXPECT_EQ(m->options, (std::vector<std::string>{"size=67108864", "mode=1770"}));
}

TEST(ParseMountFlag, Errors) {
  for (const char* bad :
       {"type=bind,target=/c", "type=nfs,target=/c", "type=bind,src=/a", "type=bind,src=/a,dst=rel",
        "type=tmpfs,src=x,dst=/c", "type=volume,dst=/c,bind-propagation=shared",
        "type=bind,src=/a,dst=/c,foo=1", "type=tmpfs,dst=/c,tmpfs-mode=99",
        "type=tmpfs,dst=/c,tmpfs-size=big", "type=bind,src=/a,dst=/c,bind-propagation=weird",
        "type=bind,src=/a,dst=/c,volume-nocopy", "type=bind,src=/a,dst=/c,ro=maybe",
        "\"type=bind,src=/a,dst=/c"}) {
    auto r = ParseMountFlag(bad);
    EXPECT_FALSE(r.has_value()) << bad;
    if (!r) {
      EXPECT_NE(r.error().message().find("--mount"), std::string::npos) << r.error().message();
    }
  }
}

TEST(ParseTmpfsFlag, PathAndOptions) {
  auto t = ParseTmpfsFlag("/run");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->kind, VolumeMount::Kind::kTmpfs);
  EXPECT_EQ(t->target, "/run");
  EXPECT_TRUE(t->options.empty());
  t = ParseTmpfsFlag("/run:rw,size=64m,mode=1777,exec,uid=1000");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->options,
            (std::vector<std::string>{"size=67108864", "mode=1777", "exec", "uid=1000"}));
  t = ParseTmpfsFlag("/ro:ro");
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->readonly);
  for (const char* bad : {"run", "/x:bogus", "/x:size=lots", "/x:mode=9", "/x:color=red", "/"})
    EXPECT_FALSE(ParseTmpfsFlag(bad).has_value()) << bad;
}

TEST(ParseDeviceFlag, Forms) {
  auto d = ParseDeviceFlag("/dev/fuse");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->container_path, "/dev/fuse");
  EXPECT_EQ(d->permissions, "rwm");
  d = ParseDeviceFlag("/dev/sda:/dev/xvda");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->host_path, "/dev/sda");
  EXPECT_EQ(d->container_path, "/dev/xvda");
  d = ParseDeviceFlag("/dev/sda:r");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->container_path, "/dev/sda");
  EXPECT_EQ(d->permissions, "r");
  d = ParseDeviceFlag("/dev/sda:/dev/xvda:rw");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->permissions, "rw");
  for (const char* bad : {"dev/sda", "/dev/sda:rel", "/dev/sda:/dev/x:rx", "/dev/a:/dev/b:rr",
                          "/a:/b:r:w", "/dev/sda:/dev/x:"})
    EXPECT_FALSE(ParseDeviceFlag(bad).has_value()) << bad;
}

TEST(ParseDeviceCgroupRule, Forms) {
  auto r = ParseDeviceCgroupRule("c 13:* rwm");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->allow);
  EXPECT_EQ(r->type, "c");
  EXPECT_EQ(r->major, 13);
  EXPECT_FALSE(r->minor.has_value());
  EXPECT_EQ(r->access, "rwm");
  r = ParseDeviceCgroupRule("  b 8:0   r ");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->minor, 0);
  r = ParseDeviceCgroupRule("a *:* m");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->major.has_value());
  for (const char* bad : {"", "c 13:*", "x 1:1 r", "c 13 rwm", "c a:1 r", "c 1:-1 r",
                          "c 1:1 rx", "c 1:1 rwmr", "c 1:1 r extra"}) {
    auto b = ParseDeviceCgroupRule(bad);
    ASSERT_FALSE(b.has_value()) << bad;
    EXPECT_NE(b.error().message().find("--device-cgroup-rule"), std::string::npos);
  }
}

TEST(ParseUlimitFlag, Forms) {
  auto u = ParseUlimitFlag("nofile=1024:2048");
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->name, "nofile");
  EXPECT_EQ(u->soft, 1024u);
  EXPECT_EQ(u->hard, 2048u);
  u = ParseUlimitFlag("nproc=100");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->hard, 100u);
  u = ParseUlimitFlag("core=-1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->soft, RLIM_INFINITY);
  u = ParseUlimitFlag("memlock=1024:-1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->hard, RLIM_INFINITY);
  EXPECT_EQ(*UlimitRlimitName("stack"), "RLIMIT_STACK");
  EXPECT_EQ(*UlimitRlimitName("cpu"), "RLIMIT_CPU");
  EXPECT_EQ(*UlimitRlimitName("fsize"), "RLIMIT_FSIZE");
  auto r = ParseUlimitFlag("bogus=1");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("`bogus`"), std::string::npos);
  for (const char* bad :
       {"nofile", "nofile=2:1", "nofile=-1:5", "nofile=x", "nofile=1:2:3", "nofile=-2"})
    EXPECT_FALSE(ParseUlimitFlag(bad).has_value()) << bad;
}

TEST(ParseRestartFlag, Policies) {
  EXPECT_EQ(ParseRestartFlag("no")->name, "no");
  EXPECT_EQ(ParseRestartFlag("")->name, "no");
  EXPECT_EQ(ParseRestartFlag("always")->name, "always");
  EXPECT_EQ(ParseRestartFlag("unless-stopped")->name, "unless-stopped");
  auto p = ParseRestartFlag("on-failure:5");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->name, "on-failure");
  EXPECT_EQ(p->max_retries, 5);
  EXPECT_EQ(ParseRestartFlag("on-failure")->max_retries, 0);
  for (const char* bad : {"sometimes", "always:3", "on-failure:x", "on-failure:-1"})
    EXPECT_FALSE(ParseRestartFlag(bad).has_value()) << bad;
}

TEST(EnvFlags, ExpandFromEnvironment) {
  setenv("BERTH_TEST_VAR", "v1", 1);
  unsetenv("BERTH_TEST_UNSET");
  EXPECT_EQ(ExpandEnvFlag("A=b=c"), "A=b=c");
  EXPECT_EQ(ExpandEnvFlag("BERTH_TEST_VAR"), "BERTH_TEST_VAR=v1");
  EXPECT_EQ(ExpandEnvFlag("BERTH_TEST_UNSET"), std::nullopt);
}

TEST(EnvFlags, EnvFile) {
  setenv("BERTH_TEST_VAR", "v1", 1);
  char tmpl[] = "/tmp/berth-envfile-XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  ASSERT_TRUE(
      WriteFile(
          tmpl,
          "\xEF\xBB\xBF# comment\nA=1\n\n  B=two words \r\nBERTH_TEST_VAR\nBERTH_TEST_UNSET\n")
          .has_value());
  auto env = ParseEnvFile(tmpl);
  ASSERT_TRUE(env.has_value()) << env.error().message();
  EXPECT_EQ(*env, (std::vector<std::string>{"A=1", "B=two words ", "BERTH_TEST_VAR=v1"}));
  ASSERT_TRUE(WriteFile(tmpl, "OK=1\nBAD NAME=2\n").has_value());
  auto bad = ParseEnvFile(tmpl);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("line 2"), std::string::npos) << bad.error().message();
  unlink(tmpl);
  EXPECT_FALSE(ParseEnvFile("/nonexistent/env").has_value());
}

}  // namespace
}  // namespace berth::engine

namespace berth::engine {
namespace {

TEST(ParsePublishFlag, FormsAndRanges) {
  auto one = ParsePublishFlag("8080:80");
  ASSERT_TRUE(one.has_value()) << one.error().message();
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].host_port, 8080);
  EXPECT_EQ((*one)[0].container_port, 80);
  EXPECT_EQ((*one)[0].protocol, "tcp");
  auto ip = ParsePublishFlag("127.0.0.1:5353:53/udp");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ((*ip)[0].host_ip, "127.0.0.1");
  EXPECT_EQ((*ip)[0].protocol, "udp");
  auto any = ParsePublishFlag("127.0.0.1::80");
  ASSERT_TRUE(any.has_value());
  EXPECT_EQ((*any)[0].host_port, 0);
  auto bare = ParsePublishFlag("80");
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ((*bare)[0].host_port, 0);
  auto range = ParsePublishFlag("8000-8002:80-82");
  ASSERT_TRUE(range.has_value());
  ASSERT_EQ(range->size(), 3u);
  EXPECT_EQ((*range)[2].host_port, 8002);
  EXPECT_EQ((*range)[2].container_port, 82);
  auto v6 = ParsePublishFlag("[::1]:8080:80");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ((*v6)[0].host_ip, "::1");
}

TEST(ParsePublishFlag, ErrorsNameTheValue) {
  for (const char* bad : {"0:80", "70000:80", "80/icmp", "1.2.3:80:80", "8000-8001:80",
                          "a:b:c:d", "", "80-79", "[::1:80:80"}) {
    auto r = ParsePublishFlag(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message().find("-p"), std::string::npos) << r.error().message();
  }
}

TEST(CheckAddHostFlag, Forms) {
  EXPECT_TRUE(CheckAddHostFlag("db:10.0.0.5").has_value());
  EXPECT_TRUE(CheckAddHostFlag("db=10.0.0.5").has_value());
  EXPECT_TRUE(CheckAddHostFlag("gw:host-gateway").has_value());
  EXPECT_TRUE(CheckAddHostFlag("v6:::1").has_value());
  EXPECT_FALSE(CheckAddHostFlag("nohost").has_value());
  EXPECT_FALSE(CheckAddHostFlag("db:not-an-ip").has_value());
}

}  // namespace
}  // namespace berth::engine
