#include "berth/oci/image.h"

#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <string>

namespace berth::oci {
namespace {

const std::string kD1 = "sha256:" + std::string(64, 'a');
const std::string kD2 = "sha256:" + std::string(64, 'b');
const std::string kD3 = "sha256:" + std::string(64, 'c');

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  size_t p = s.find(from);
  if (p != std::string::npos) s.replace(p, from.size(), to);
  return s;
}

const char kDockerManifest[] = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {
    "mediaType": "application/vnd.docker.container.image.v1+json",
    "size": 1472,
    "digest": "sha256:c1d2e1ac2a3b0f6a8a5e7f0c1b8f7d6e5c4b3a29180f7e6d5c4b3a2918070605"
  },
  "layers": [
    {
      "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "size": 3408729,
      "digest": "sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8"
    }
  ]
})";

TEST(ManifestTest, ParsesDockerSchema2) {
  auto m = ParseManifest(kDockerManifest);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_EQ(m->schema_version, 2);
  EXPECT_EQ(m->media_type, media::kDockerManifest);
  EXPECT_EQ(m->config.media_type, media::kDockerConfig);
  EXPECT_EQ(m->config.size, 1472);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].size, 3408729);
  EXPECT_EQ(m->layers[0].digest,
            "sha256:4abcf20661432fb2d719aaf90656f55c287f8ca915dc1c92ec14ff61e67fbaf8");
  EXPECT_FALSE(m->subject.has_value());
  auto again = ParseManifest(ToJson(*m).dump());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *m);
}

TEST(ManifestTest, ParsesOciWithSubjectAndAnnotations) {
  std::string text = R"({"schemaVersion":2,"artifactType":"application/x-sig",
    "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":")" +
                     kD1 +
                     R"(","size":2,"data":"e30="},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":")" +
                     kD2 +
                     R"(","size":10,"urls":["https://x/y"],"annotations":{"a":"b"}}],
    "subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                     kD3 +
                     R"(","size":500},
    "annotations":{"org.opencontainers.image.created":"2024-01-01T00:00:00Z"},
    "unknownField": [1, 2, 3]})";
  auto m = ParseManifest(text);
  ASSERT_TRUE(m.has_value()) << m.error().message();
  EXPECT_TRUE(m->media_type.empty());
  EXPECT_EQ(m->artifact_type, "application/x-sig");
  ASSERT_TRUE(m->subject.has_value());
  EXPECT_EQ(m->subject->digest, kD3);
  EXPECT_EQ(m->layers[0].urls, std::vector<std::string>{"https://x/y"});
  EXPECT_EQ(m->layers[0].annotations.at("a"), "b");
  EXPECT_EQ(m->annotations.size(), 1u);
  Json j = ToJson(*m);
  EXPECT_FALSE(j.contains("mediaType"));
  auto again = ParseManifest(j.dump());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *m);
}

TEST(ManifestTest, ErrorsNameTheField) {
  auto bad = [](const std::string& text) {
    auto m = ParseManifest(text, "manifest sha256:ab12");
    EXPECT_FALSE(m.has_value()) << text;
    return m.has_value() ? std::string() : m.error().message();
  };
  std::string layer = R"({"mediaType":"x","size":1,"digest":")" + kD1 + R"("})";
  std::string base = R"({"schemaVersion":2,"config":)" + layer + R"(,"layers":[)" + layer + "," +
                     layer + ",LAYER]}";
  auto with = [&](const std::string& l) { return Replace(base, "LAYER", l); };
  ASSERT_TRUE(ParseManifest(with(layer)).has_value());
  EXPECT_EQ(bad(with(R"({"mediaType":"x","size":1,"digest":5})")),
            "manifest sha256:ab12: layers[2].digest: expected a string, got an integer");
  EXPECT_EQ(bad(with(R"({"mediaType":"x","size":1})")),
            "manifest sha256:ab12: layers[2].digest: required field is missing");
  EXPECT_NE(bad(with(R"({"mediaType":"x","size":1,"digest":"sha256:ABC"})"))
                .find("layers[2].digest: invalid digest `sha256:ABC`"),
            std::string::npos);
  EXPECT_NE(bad(with(R"({"mediaType":"x","size":-1,"digest":")" + kD1 + "\"}"))
                .find("layers[2].size: size must not be negative"),
            std::string::npos);
  EXPECT_NE(bad(with(R"({"mediaType":7,"size":1,"digest":")" + kD1 + "\"}"))
                .find("layers[2].mediaType: expected a string"),
            std::string::npos);
  EXPECT_NE(bad(with(R"({"mediaType":"x","size":1.5,"digest":")" + kD1 + "\"}"))
                .find("layers[2].size: expected an integer"),
            std::string::npos);
  EXPECT_NE(bad(R"({"schemaVersion":1,"config":{}})").find("schemaVersion: unsupported"),
            std::string::npos);
  EXPECT_NE(bad(R"({"schemaVersion":2})").find("config: required field is missing"),
            std::string::npos);
  EXPECT_NE(bad(R"({"schemaVersion":2,"config":)" + layer + R"(,"layers":{}})")
                .find("layers: expected an array, got an object"),
            std::string::npos);
  EXPECT_NE(bad("[]").find("expected an object"), std::string::npos);
  EXPECT_NE(bad("{not json").find("manifest sha256:ab12"), std::string::npos);
  EXPECT_NE(bad(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
                    "config":)" +
                layer + "}")
                .find("mediaType: expected a manifest"),
            std::string::npos);
}

const char kManifestList[] = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v6"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
     "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": "sha256:4444444444444444444444444444444444444444444444444444444444444444",
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528,
     "digest": "sha256:5555555555555555555555555555555555555555555555555555555555555555",
     "platform": {"architecture": "amd64", "os": "windows", "os.version": "10.0.17763.5329",
                  "os.features": ["win32k"]}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 566,
     "digest": "sha256:6666666666666666666666666666666666666666666666666666666666666666",
     "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
     "platform": {"architecture": "unknown", "os": "unknown"}}
  ]
})";

std::string Digit(char c) { return "sha256:" + std::string(64, c); }

TEST(IndexTest, ParsesManifestListAndRoundTrips) {
  auto i = ParseIndex(kManifestList);
  ASSERT_TRUE(i.has_value()) << i.error().message();
  EXPECT_EQ(i->media_type, media::kDockerManifestList);
  ASSERT_EQ(i->manifests.size(), 6u);
  EXPECT_EQ(i->manifests[4].platform->os_version, "10.0.17763.5329");
  EXPECT_EQ(i->manifests[4].platform->os_features, std::vector<std::string>{"win32k"});
  auto again = ParseIndex(ToJson(*i).dump());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *i);
}

TEST(IndexTest, Errors) {
  auto e = ParseIndex(R"({"schemaVersion":2,"manifests":[{"size":1,"digest":"sha256:1"}]})");
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("index: manifests[0].digest: invalid digest"),
            std::string::npos);
  e = ParseIndex(R"({"schemaVersion":2})");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(), "index: manifests: required field is missing");
  e = ParseIndex(R"({"schemaVersion":2,"manifests":[{"size":1,"digest":")" + kD1 +
                 R"(","platform":{"os":["linux"]}}]})");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().message(),
            "index: manifests[0].platform.os: expected a string, got an array");
  e = ParseIndex(kDockerManifest);
  ASSERT_FALSE(e.has_value());
  EXPECT_NE(e.error().message().find("mediaType: expected an index"), std::string::npos);
}

TEST(IndexTest, SelectPlatform) {
  auto i = ParseIndex(kManifestList);
  ASSERT_TRUE(i.has_value());
  auto pick = [&](std::string os, std::string arch, std::string variant = "") {
    Platform p;
    p.os = std::move(os);
    p.architecture = std::move(arch);
    p.variant = std::move(variant);
    auto d = SelectPlatform(*i, p);
    return d.has_value() ? d->digest : "error: " + d.error().message();
  };
  EXPECT_EQ(pick("linux", "amd64"), Digit('1'));
  EXPECT_EQ(pick("linux", "amd64", "v1"), Digit('1'));  // variant absent in the index
  EXPECT_EQ(pick("linux", "arm", "v7"), Digit('3'));
  EXPECT_EQ(pick("linux", "arm", "v6"), Digit('2'));
  EXPECT_EQ(pick("linux", "arm64"), Digit('4'));
  EXPECT_EQ(pick("linux", "arm64", "v8"), Digit('4'));
  EXPECT_EQ(pick("windows", "amd64"), Digit('5'));
  std::string err = pick("linux", "s390x");
  EXPECT_NE(err.find("linux/s390x"), std::string::npos) << err;
  EXPECT_NE(err.find("linux/arm/v7"), std::string::npos) << err;
  EXPECT_EQ(err.find("unknown"), std::string::npos) << err;
  EXPECT_NE(pick("linux", "arm", "v5").find("error"), std::string::npos);
  Platform p;
  p.os = "linux";
  p.architecture = "amd64";
  auto nf = SelectPlatform(Index{}, p);
  ASSERT_FALSE(nf.has_value());
  EXPECT_EQ(nf.error().code(), ErrorCode::kNotFound);
}

TEST(IndexTest, SelectPlatformPrefersExactVariant) {
  Index idx;
  auto add = [&](char c, std::string arch, std::string variant) {
    Descriptor d;
    d.digest = Digit(c);
    d.platform = Platform{std::move(arch), "linux", std::move(variant), {}, {}};
    idx.manifests.push_back(d);
  };
  add('1', "amd64", "v3");
  add('2', "amd64", "");
  add('3', "amd64", "v2");
  Platform want{"amd64", "linux", "v2", {}, {}};
  EXPECT_EQ(SelectPlatform(idx, want)->digest, Digit('3'));
  want.variant = "";
  EXPECT_EQ(SelectPlatform(idx, want)->digest, Digit('2'));
  want.variant = "v1";
  EXPECT_EQ(SelectPlatform(idx, want)->digest, Digit('2'));
  // Without a wanted variant, amd64/v3 is not assumed to run.
  idx.manifests.erase(idx.manifests.begin() + 1);
  want.variant = "";
  EXPECT_FALSE(SelectPlatform(idx, want).has_value());
  // Other architectures take any variant when none is wanted.
  add('4', "arm", "v6");
  want.architecture = "arm";
  EXPECT_EQ(SelectPlatform(idx, want)->digest, Digit('4'));
}

TEST(PlatformTest, HostPlatform) {
  Platform p = HostPlatform();
  EXPECT_EQ(p.os, "linux");
  struct utsname u;
  ASSERT_EQ(::uname(&u), 0);
  std::string m = u.machine;
  if (m == "x86_64") {
    EXPECT_EQ(p.architecture, "amd64");
  } else if (m == "aarch64") {
    EXPECT_EQ(p.architecture, "arm64");
  }
  EXPECT_FALSE(p.architecture.empty());
}

const char kDockerConfig[] = R"({
  "architecture": "amd64",
  "config": {
    "Hostname": "",
    "User": "nginx:nginx",
    "AttachStdout": false,
    "ExposedPorts": {"443/tcp": {}, "80/tcp": {}},
    "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NGINX_VERSION=1.25.3"],
    "Cmd": ["nginx", "-g", "daemon off;"],
    "Healthcheck": {"Test": ["CMD-SHELL", "curl -f http://localhost/ || exit 1"],
                    "Interval": 30000000000, "Timeout": 3000000000, "StartPeriod": 5000000000,
                    "StartInterval": 1000000000, "Retries": 3},
    "Image": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
    "Volumes": {"/var/cache/nginx": {}},
    "WorkingDir": "/usr/share/nginx/html",
    "Entrypoint": ["/docker-entrypoint.sh"],
    "OnBuild": null,
    "Labels": {"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"},
    "StopSignal": "SIGQUIT",
    "Shell": ["/bin/bash", "-c"],
    "ArgsEscaped": true
  },
  "created": "2023-11-01T20:09:57.127398234Z",
  "author": "someone",
  "docker_version": "20.10.23",
  "history": [
    {"created": "2023-11-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
    {"created": "2023-11-01T00:00:01Z", "created_by": "/bin/sh -c #(nop)  CMD [\"bash\"]",
     "empty_layer": true, "comment": "buildkit.dockerfile.v0", "author": "me"}
  ],
  "os": "linux",
  "rootfs": {"type": "layers", "diff_ids": [
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"]}
})";

TEST(ImageConfigTest, ParsesDockerConfig) {
  auto c = ParseImageConfig(kDockerConfig);
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->architecture, "amd64");
  EXPECT_EQ(c->os, "linux");
  EXPECT_EQ(c->author, "someone");
  EXPECT_EQ(c->created, "2023-11-01T20:09:57.127398234Z");
  const ContainerConfig& cc = c->config;
  EXPECT_EQ(cc.user, "nginx:nginx");
  EXPECT_EQ(cc.exposed_ports, (std::vector<std::string>{"443/tcp", "80/tcp"}));
  EXPECT_EQ(cc.env.size(), 2u);
  ASSERT_TRUE(cc.cmd.has_value());
  EXPECT_EQ(*cc.cmd, (std::vector<std::string>{"nginx", "-g", "daemon off;"}));
  ASSERT_TRUE(cc.entrypoint.has_value());
  EXPECT_EQ(*cc.entrypoint, std::vector<std::string>{"/docker-entrypoint.sh"});
  ASSERT_TRUE(cc.healthcheck.has_value());
  EXPECT_EQ(cc.healthcheck->test.size(), 2u);
  EXPECT_EQ(cc.healthcheck->interval_ns, 30000000000);
  EXPECT_EQ(cc.healthcheck->timeout_ns, 3000000000);
  EXPECT_EQ(cc.healthcheck->start_period_ns, 5000000000);
  EXPECT_EQ(cc.healthcheck->start_interval_ns, 1000000000);
  EXPECT_EQ(cc.healthcheck->retries, 3);
  EXPECT_EQ(cc.volumes, std::vector<std::string>{"/var/cache/nginx"});
  EXPECT_EQ(cc.working_dir, "/usr/share/nginx/html");
  EXPECT_TRUE(cc.on_build.empty());
  EXPECT_EQ(cc.labels.size(), 1u);
  EXPECT_EQ(cc.stop_signal, "SIGQUIT");
  EXPECT_EQ(cc.shell, (std::vector<std::string>{"/bin/bash", "-c"}));
  EXPECT_TRUE(cc.args_escaped);
  EXPECT_EQ(c->rootfs_type, "layers");
  ASSERT_EQ(c->diff_ids.size(), 2u);
  ASSERT_EQ(c->history.size(), 2u);
  EXPECT_FALSE(c->history[0].empty_layer);
  EXPECT_TRUE(c->history[1].empty_layer);
  EXPECT_EQ(c->history[1].comment, "buildkit.dockerfile.v0");
  EXPECT_EQ(c->history[1].author, "me");

  auto again = ParseImageConfig(ToJson(*c).dump());
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_EQ(*again, *c);
}

TEST(ImageConfigTest, NullCmdIsAbsentEmptyCmdIsKept) {
  auto c =
      ParseImageConfig(R"({"config":{"Cmd":null,"Entrypoint":[]},"rootfs":{"type":"layers"}})");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_FALSE(c->config.cmd.has_value());
  ASSERT_TRUE(c->config.entrypoint.has_value());
  EXPECT_TRUE(c->config.entrypoint->empty());
  Json j = ToJson(c->config);
  EXPECT_EQ(j, Json::parse(R"({"Entrypoint":[]})"));
  auto again = ParseImageConfig(ToJson(*c).dump());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *c);
}

TEST(ImageConfigTest, ToJsonOmitsEmptyFields) {
  ImageConfig c;
  c.architecture = "amd64";
  c.os = "linux";
  c.config.cmd = std::vector<std::string>{"sh"};
  c.diff_ids = {kD1};
  Json j = ToJson(c);
  EXPECT_EQ(j, Json::parse(R"({"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},
      "rootfs":{"type":"layers","diff_ids":[")" +
                           kD1 + R"("]}})"));
  HistoryEntry h;
  h.created_by = "x";
  c.history = {h};
  c.config.healthcheck = HealthConfig{{"NONE"}, 0, 0, 0, 0, 0};
  c.config.exposed_ports = {"53/udp"};
  j = ToJson(c);
  EXPECT_EQ(j["history"], Json::parse(R"([{"created_by":"x"}])"));
  EXPECT_EQ(j["config"]["Healthcheck"], Json::parse(R"({"Test":["NONE"]})"));
  EXPECT_EQ(j["config"]["ExposedPorts"], Json::parse(R"({"53/udp":{}})"));
  auto again = ParseImageConfig(j.dump());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, c);
}

TEST(ImageConfigTest, ErrorsNameTheField) {
  auto err = [](const std::string& text) {
    auto c = ParseImageConfig(text);
    EXPECT_FALSE(c.has_value()) << text;
    return c.has_value() ? std::string() : c.error().message();
  };
  EXPECT_EQ(err(R"({"config":{"Env":["A=1",2]}})"),
            "image config: config.Env[1]: expected a string, got an integer");
  EXPECT_EQ(err(R"({"config":{"Cmd":"sh"}})"),
            "image config: config.Cmd: expected an array, got a string");
  EXPECT_EQ(err(R"({"config":{"ExposedPorts":["80/tcp"]}})"),
            "image config: config.ExposedPorts: expected an object, got an array");
  EXPECT_EQ(err(R"({"config":{"ExposedPorts":{"80/tcp":1}}})"),
            "image config: config.ExposedPorts[\"80/tcp\"]: expected an object, got an integer");
  EXPECT_EQ(err(R"({"config":{"Healthcheck":{"Retries":"3"}}})"),
            "image config: config.Healthcheck.Retries: expected an integer, got a string");
  EXPECT_EQ(err(R"({"config":{"Labels":{"a":1}}})"),
            "image config: config.Labels.a: expected a string, got an integer");
  EXPECT_EQ(err(R"({"history":[{"empty_layer":"yes"}]})"),
            "image config: history[0].empty_layer: expected a boolean, got a string");
  EXPECT_NE(err(R"({"rootfs":{"type":"layers","diff_ids":["sha256:xyz"]}})")
                .find("image config: rootfs.diff_ids[0]: invalid digest"),
            std::string::npos);
  EXPECT_EQ(err(R"({"rootfs":"layers"})"),
            "image config: rootfs: expected an object, got a string");
}

TEST(MediaTypeTest, LayerCompression) {
  struct Case {
    const char* type;
    Compression want;
  } cases[] = {
      {"application/vnd.oci.image.layer.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar", Compression::kNone},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", Compression::kGzip},
      {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.diff.tar", Compression::kNone},
      {"application/vnd.docker.image.rootfs.diff.tar.gzip", Compression::kGzip},
      {"application/vnd.docker.image.rootfs.diff.tar.zstd", Compression::kZstd},
      {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", Compression::kGzip},
  };
  for (const auto& c : cases) {
    auto got = LayerCompression(c.type);
    ASSERT_TRUE(got.has_value()) << c.type;
    EXPECT_EQ(*got, c.want) << c.type;
  }
  auto bad = LayerCompression("application/vnd.oci.image.config.v1+json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("application/vnd.oci.image.config.v1+json"),
            std::string::npos);
  EXPECT_TRUE(IsIndexMediaType(media::kOciIndex));
  EXPECT_TRUE(IsIndexMediaType(media::kDockerManifestList));
  EXPECT_FALSE(IsIndexMediaType(media::kOciManifest));
  EXPECT_TRUE(IsManifestMediaType(media::kOciManifest));
  EXPECT_TRUE(IsManifestMediaType(media::kDockerManifest));
  EXPECT_FALSE(IsManifestMediaType(media::kDockerManifestList));
}

TEST(DigestValidationTest, ValidateDigest) {
  EXPECT_TRUE(ValidateDigest(kD1).has_value());
  EXPECT_TRUE(ValidateDigest("sha512:" + std::string(128, '0')).has_value());
  EXPECT_FALSE(ValidateDigest("sha512:" + std::string(64, '0')).has_value());
  EXPECT_FALSE(ValidateDigest("sha256:" + std::string(63, '0')).has_value());
  EXPECT_FALSE(ValidateDigest("sha256:" + std::string(64, 'A')).has_value());
  EXPECT_FALSE(ValidateDigest("sha256:" + std::string(64, 'g')).has_value());
  EXPECT_FALSE(ValidateDigest("md5:" + std::string(32, '0')).has_value());
  EXPECT_FALSE(ValidateDigest(std::string(64, '0')).has_value());
  EXPECT_FALSE(ValidateDigest("").has_value());
  auto e = ValidateDigest("sha256:../../etc");
  ASSERT_FALSE(e.has_value());
  EXPECT_EQ(e.error().code(), ErrorCode::kInvalidArgument);
}

TEST(DescriptorTest, ParseDescriptorFromJson) {
  Json j = Json::parse(R"({"mediaType":"m","digest":")" + kD1 + R"(","size":3})");
  auto d = ParseDescriptor(j, "descriptor");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->size, 3);
  EXPECT_EQ(ToJson(*d), j);
  auto bad = ParseDescriptor(Json(nullptr), "index.json manifests[0]");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "index.json manifests[0]: expected an object, got null");
}

}  // namespace
}  // namespace berth::oci
