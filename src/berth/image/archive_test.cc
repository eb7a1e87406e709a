#include "berth/image/archive.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/image/digest.h"
#include "berth/image/image_test_util.h"

namespace berth::image {
namespace {

using namespace berth::image::testing;

// Reads the members of a tar (path -> content) for checking what Save wrote.
std::map<std::string, std::string> Members(const std::string& tar) {
  std::map<std::string, std::string> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string data;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      data.append(buf, static_cast<size_t>(n));
    out[archive_entry_pathname(e)] = data;
  }
  archive_read_free(a);
  return out;
}

class ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = Open("one");
  }
  std::unique_ptr<ImageStore> Open(const std::string& name) {
    auto s = ImageStore::Open(dir_.path() + "/" + name);
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return std::make_unique<ImageStore>(std::move(*s));
  }
  std::string Path(const std::string& name) { return dir_.path() + "/" + name; }
  std::string Layer1() { return MakeTar({Dir("bin"), File("bin/tool", "tool\n", 0755)}); }
  std::string Layer2() { return MakeTar({Dir("etc"), File("etc/hostname", "box\n")}); }

  // A docker-archive as `docker save` writes it: <id>/layer.tar, <config>.json,
  // manifest.json, repositories.
  std::string DockerArchive(const std::vector<std::string>& layers,
                            const std::vector<std::string>& tags, std::string* config_id,
                            bool gzip_second = false) {
    std::vector<std::string> diff_ids;
    std::vector<TarEntry> entries;
    Json layer_paths = Json::array();
    for (size_t i = 0; i < layers.size(); ++i) {
      diff_ids.push_back(DigestOf(layers[i]));
      std::string dir = DigestHex(diff_ids.back())->substr(0, 12) + std::to_string(i);
      entries.push_back(Dir(dir));
      std::string data = layers[i];
      if (gzip_second && i == 1) data = Recompress(data);
      entries.push_back(File(dir + "/layer.tar", data));
      layer_paths.push_back(dir + "/layer.tar");
    }
    std::string config = oci::ToJson(BasicConfig(diff_ids)).dump();
    *config_id = DigestOf(config);
    std::string cname = *DigestHex(*config_id) + ".json";
    entries.push_back(File(cname, config));
    Json m = Json::array({Json{{"Config", cname}, {"RepoTags", tags}, {"Layers", layer_paths}}});
    entries.push_back(File("manifest.json", m.dump()));
    entries.push_back(File("repositories", "{}"));
    return MakeTar(entries);
  }
  // gzip of a tar's bytes (via a one-member raw archive is not possible with libarchive's
  // writer, so re-tar with the gzip filter and take the result).
  static std::string Recompress(const std::string& plain) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_raw(a);
    archive_write_add_filter_gzip(a);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* self, const void* buf, size_t n) -> la_ssize_t {
          static_cast<std::string*>(self)->append(static_cast<const char*>(buf), n);
          return static_cast<la_ssize_t>(n);
        },
        nullptr);
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, "x");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_size(e, static_cast<la_int64_t>(plain.size()));
    archive_write_header(a, e);
    archive_write_data(a, plain.data(), plain.size());
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
    return out;
  }

  ScratchDir dir_;
  std::unique_ptr<ImageStore> store_;
};

TEST_F(ArchiveTest, LoadDockerArchive) {
  std::string id;
  ASSERT_TRUE(
      WriteFile(Path("a.tar"),
                DockerArchive({Layer1(), Layer2()}, {"busybox:latest", "localhost/x:2"}, &id, true))
          .has_value());
  auto loaded = LoadArchive(*store_, Path("a.tar"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 1u);
  const ImageRecord& r = (*loaded)[0].image;
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.names,
            (std::vector<std::string>{"docker.io/library/busybox:latest", "localhost/x:2"}));
  auto dirs = store_->LayerDirs(r);
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(*ReadFile(dirs[0] + "/bin/tool"), "tool\n");
  EXPECT_EQ(*ReadFile(dirs[1] + "/etc/hostname"), "box\n");
  auto man = store_->ManifestOf(r);
  ASSERT_TRUE(man.has_value());
  EXPECT_EQ(man->media_type, oci::media::kDockerManifest);
  EXPECT_EQ(man->layers[0].media_type, oci::media::kDockerLayer);
  EXPECT_EQ(man->layers[1].media_type, oci::media::kDockerLayerGzip);
}

TEST_F(ArchiveTest, LoadCompressedArchiveWithLinkedLayer) {
  // Old docker saves link a repeated layer to its first copy.
  std::string l1 = Layer1();
  std::string d = DigestOf(l1);
  std::string config = oci::ToJson(BasicConfig({d, d})).dump();
  std::string cname = *DigestHex(DigestOf(config)) + ".json";
  Json m = Json::array({Json{
      {"Config", cname}, {"RepoTags", nullptr}, {"Layers", {"aaa/layer.tar", "bbb/layer.tar"}}}});
  std::string tar =
      MakeTar({File("./aaa/layer.tar", l1), Symlink("bbb/layer.tar", "../aaa/layer.tar"),
               File(cname, config), File("manifest.json", m.dump())},
              "gzip");
  ASSERT_TRUE(WriteFile(Path("b.tar.gz"), tar).has_value());
  auto loaded = LoadArchive(*store_, Path("b.tar.gz"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_TRUE((*loaded)[0].image.names.empty());
  EXPECT_EQ((*loaded)[0].image.chain_ids.size(), 2u);
}

TEST_F(ArchiveTest, LoadErrorsNameTheMember) {
  std::string config = oci::ToJson(BasicConfig({DigestOf(Layer1()), DigestOf(Layer2())})).dump();
  std::string cname = *DigestHex(DigestOf(config)) + ".json";
  Json m = Json::array({Json{
      {"Config", cname}, {"RepoTags", {"x:1"}}, {"Layers", {"one/layer.tar", "abc/layer.tar"}}}});
  ASSERT_TRUE(
      WriteFile(Path("c.tar"), MakeTar({File("one/layer.tar", Layer1()), File(cname, config),
                                        File("manifest.json", m.dump())}))
          .has_value());
  auto r = LoadArchive(*store_, Path("c.tar"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(
      r.error().message().find(
          "docker-archive: manifest.json: [0]: Layers[1]: `abc/layer.tar` is not in the archive"),
      std::string::npos)
      << r.error().message();

  // A layer whose content is not what the config says.
  Json m2 = Json::array({Json{
      {"Config", cname}, {"RepoTags", {"x:1"}}, {"Layers", {"one/layer.tar", "one/layer.tar"}}}});
  ASSERT_TRUE(
      WriteFile(Path("d.tar"), MakeTar({File("one/layer.tar", Layer1()), File(cname, config),
                                        File("manifest.json", m2.dump())}))
          .has_value());
  r = LoadArchive(*store_, Path("d.tar"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("Layers[1]: `one/layer.tar`: content digest"),
            std::string::npos)
      << r.error().message();

  // Escaping paths, bad JSON, no manifest at all.
  Json m3 = Json::array({Json{{"Config", "../../etc/passwd"}, {"Layers", Json::array()}}});
  ASSERT_TRUE(WriteFile(Path("e.tar"), MakeTar({File("manifest.json", m3.dump())})).has_value());
  r = LoadArchive(*store_, Path("e.tar"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("points outside the archive"), std::string::npos)
      << r.error().message();
  ASSERT_TRUE(
      WriteFile(Path("f.tar"), MakeTar({File("manifest.json", "{\"Config\": 1}")})).has_value());
  EXPECT_FALSE(LoadArchive(*store_, Path("f.tar")).has_value());
  ASSERT_TRUE(WriteFile(Path("g.tar"), MakeTar({File("hello", "x")})).has_value());
  r = LoadArchive(*store_, Path("g.tar"));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("not an image archive"), std::string::npos);
  ASSERT_TRUE(WriteFile(Path("h.tar"), "not a tar at all").has_value());
  EXPECT_FALSE(LoadArchive(*store_, Path("h.tar")).has_value());
  EXPECT_TRUE(store_->List()->empty());
}

TEST_F(ArchiveTest, SaveAndLoadRoundTripBothFormats) {
  std::string id;
  ASSERT_TRUE(
      WriteFile(Path("in.tar"), DockerArchive({Layer1(), Layer2()}, {"busybox:latest"}, &id, true))
          .has_value());
  auto loaded = LoadArchive(*store_, Path("in.tar"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_TRUE(store_->Tag((*loaded)[0].image, "localhost/mine:1").has_value());

  ASSERT_TRUE(SaveArchive(*store_, {"busybox", "localhost/mine:1"}, ArchiveFormat::kDocker,
                          Path("out-docker.tar"))
                  .has_value());
  auto members = Members(*ReadFile(Path("out-docker.tar")));
  ASSERT_TRUE(members.count("manifest.json"));
  auto mj = ParseJson(members["manifest.json"], "manifest.json");
  ASSERT_TRUE(mj.has_value());
  ASSERT_EQ(mj->size(), 1u);
  EXPECT_EQ((*mj)[0]["RepoTags"], Json({"busybox:latest", "localhost/mine:1"}));
  EXPECT_EQ((*mj)[0]["Config"], *DigestHex(id) + ".json");
  for (const auto& l : (*mj)[0]["Layers"]) {
    std::string name = l.get<std::string>();
    ASSERT_TRUE(members.count(name)) << name;
    // Uncompressed: the member hashes to its diff id (the name).
    EXPECT_EQ("sha256:" + name.substr(0, 64), DigestOf(members[name]));
  }
  EXPECT_TRUE(members.count("repositories"));

  ASSERT_TRUE(
      SaveArchive(*store_, {"busybox"}, ArchiveFormat::kOci, Path("out-oci.tar")).has_value());
  auto om = Members(*ReadFile(Path("out-oci.tar")));
  EXPECT_TRUE(om.count("oci-layout"));
  ASSERT_TRUE(om.count("index.json"));
  auto idx = oci::ParseIndex(om["index.json"]);
  ASSERT_TRUE(idx.has_value()) << idx.error().message();
  ASSERT_EQ(idx->manifests.size(), 1u);
  EXPECT_EQ(idx->manifests[0].annotations["org.opencontainers.image.ref.name"],
            "docker.io/library/busybox:latest");

  for (auto [file, names] :
       {std::pair<std::string, std::vector<std::string>>{
            "out-docker.tar", {"docker.io/library/busybox:latest", "localhost/mine:1"}},
        {"out-oci.tar", {"docker.io/library/busybox:latest"}}}) {
    auto two = Open("two-" + file);
    auto again = LoadArchive(*two, Path(file));
    ASSERT_TRUE(again.has_value()) << file << ": " << again.error().message();
    ASSERT_EQ(again->size(), 1u);
    EXPECT_EQ((*again)[0].image.id, id) << file;
    EXPECT_EQ((*again)[0].image.names, names) << file;
    EXPECT_EQ(*ReadFile(two->LayerDirs((*again)[0].image)[1] + "/etc/hostname"), "box\n");
  }
  // By id: no RepoTags.
  ASSERT_TRUE(SaveArchive(*store_, {id.substr(7, 12)}, ArchiveFormat::kDocker, Path("byid.tar"))
                  .has_value());
  auto bm = Members(*ReadFile(Path("byid.tar")));
  EXPECT_TRUE(ParseJson(bm["manifest.json"], "m")->at(0)["RepoTags"].is_null());
  EXPECT_FALSE(SaveArchive(*store_, {"nope"}, ArchiveFormat::kDocker, Path("x.tar")).has_value());
  EXPECT_FALSE(PathExists(Path("x.tar")));
}

TEST_F(ArchiveTest, OciArchiveBareTagLeavesImageUnnamed) {
  BuiltImage b = StoreImage(store_->content(), {Layer1()});
  auto rec = store_->AddImage(b.manifest_digest, {});
  ASSERT_TRUE(rec.has_value());
  ASSERT_TRUE(
      SaveArchive(*store_, {b.config_digest}, ArchiveFormat::kOci, Path("o.tar")).has_value());
  auto om = Members(*ReadFile(Path("o.tar")));
  auto idx = ParseJson(om["index.json"], "index.json");
  (*idx)["manifests"][0]["annotations"] = Json{{"org.opencontainers.image.ref.name", "latest"}};
  std::vector<TarEntry> entries;
  for (auto& [k, v] : om) {
    if (k.ends_with("/")) continue;
    entries.push_back(File(k, k == "index.json" ? idx->dump() : v));
  }
  ASSERT_TRUE(WriteFile(Path("o2.tar"), MakeTar(entries)).has_value());
  auto two = Open("two");
  auto loaded = LoadArchive(*two, Path("o2.tar"));
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  EXPECT_TRUE((*loaded)[0].image.names.empty());
  EXPECT_EQ((*loaded)[0].image.id, b.config_digest);

  // A blob whose content does not match its name is refused.
  for (auto& e : entries)
    if (e.path.starts_with("blobs/sha256/") && e.path.substr(13) == DigestHex(b.diff_ids[0]))
      e.content = "tampered";
  ASSERT_TRUE(WriteFile(Path("o3.tar"), MakeTar(entries)).has_value());
  auto three = Open("three");
  auto bad = LoadArchive(*three, Path("o3.tar"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("digest mismatch"), std::string::npos)
      << bad.error().message();
}

TEST(ApplyChangesTest, Instructions) {
  oci::ContainerConfig c;
  ASSERT_TRUE(
      ApplyChanges(c, {"CMD [\"/bin/sh\"]", "ENV A=b C=\"d e\"", "env X y z", "EXPOSE 80 53/udp",
                       "LABEL a=b", "USER u", "VOLUME /data", "VOLUME [\"/v1\", \"/v2\"]",
                       "WORKDIR /x", "WORKDIR y", "STOPSIGNAL SIGINT", "ENTRYPOINT echo hi",
                       "ONBUILD RUN make", "ENV A=z"})
          .has_value());
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh"}));
  EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=z", "C=d e", "X=y z"}));
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"80/tcp", "53/udp"}));
  EXPECT_EQ(c.labels.at("a"), "b");
  EXPECT_EQ(c.user, "u");
  EXPECT_EQ(c.volumes, (std::vector<std::string>{"/data", "/v1", "/v2"}));
  EXPECT_EQ(c.working_dir, "/x/y");
  EXPECT_EQ(c.stop_signal, "SIGINT");
  EXPECT_EQ(c.on_build, (std::vector<std::string>{"RUN make"}));
  ASSERT_TRUE(ApplyChanges(c, {"CMD echo hi"}).has_value());
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/bin/sh", "-c", "echo hi"}));

  auto bad = ApplyChanges(c, {"FROBNICATE x"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message().find("unknown instruction `FROBNICATE`"), std::string::npos)
      << bad.error().message();
  EXPECT_FALSE(ApplyChanges(c, {"EXPOSE 99999"}).has_value());
  EXPECT_FALSE(ApplyChanges(c, {"EXPOSE 80/xyz"}).has_value());
  EXPECT_FALSE(ApplyChanges(c, {"ENV"}).has_value());
  EXPECT_FALSE(ApplyChanges(c, {"ONBUILD FROM x"}).has_value());
  EXPECT_FALSE(ApplyChanges(c, {"LABEL \"unterminated"}).has_value());
}

TEST_F(ArchiveTest, ImportTarball) {
  std::string tar = MakeTar({Dir("srv"), File("srv/index.html", "<h1>hi</h1>\n")}, "gzip");
  ASSERT_TRUE(WriteFile(Path("root.tar.gz"), tar).has_value());
  NewImageOptions opts;
  opts.name = "localhost/imported:1";
  opts.changes = {"CMD [\"/srv/run\"]", "ENV PORT=8080"};
  opts.message = "from a tarball";
  auto r = ImportTarball(*store_, Path("root.tar.gz"), opts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->names, std::vector<std::string>{"localhost/imported:1"});
  ASSERT_EQ(r->chain_ids.size(), 1u);
  EXPECT_EQ(r->chain_ids[0], DigestOf(Decompress(tar)));
  EXPECT_EQ(*ReadFile(store_->LayerDirs(*r)[0] + "/srv/index.html"), "<h1>hi</h1>\n");
  auto cfg = store_->Config(*r);
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->architecture, oci::HostPlatform().architecture);
  EXPECT_EQ(cfg->os, "linux");
  EXPECT_EQ(cfg->config.cmd, (std::vector<std::string>{"/srv/run"}));
  EXPECT_EQ(cfg->config.env, (std::vector<std::string>{"PORT=8080"}));
  ASSERT_EQ(cfg->history.size(), 1u);
  EXPECT_EQ(cfg->history[0].comment, "from a tarball");
  EXPECT_EQ(cfg->created.size(), 20u);  // 2024-01-01T00:00:00Z

  opts.changes = {"NOPE x"};
  EXPECT_FALSE(ImportTarball(*store_, Path("root.tar.gz"), opts).has_value());
}

TEST_F(ArchiveTest, CommitLayer) {
  BuiltImage b = StoreImage(store_->content(), {Layer1()});
  auto base = store_->AddImage(b.manifest_digest, {"base"});
  ASSERT_TRUE(base.has_value());
  std::string upper = Path("upper");
  ASSERT_TRUE(MkdirAll(upper + "/etc").has_value());
  ASSERT_TRUE(WriteFile(upper + "/etc/new", "new\n").has_value());
  bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::mknod((upper + "/gone").c_str(), S_IFCHR | 0000, makedev(0, 0)), 0);
  }
  oci::ContainerConfig cc;
  cc.cmd = std::vector<std::string>{"/bin/tool"};
  NewImageOptions opts;
  opts.name = "committed";
  opts.changes = {"LABEL k=v"};
  opts.author = "me";
  auto r = CommitLayer(*store_, *base, upper, cc, opts);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->chain_ids.size(), 2u);
  EXPECT_EQ(r->chain_ids[0], base->chain_ids[0]);
  EXPECT_EQ(r->names, std::vector<std::string>{"docker.io/library/committed:latest"});
  std::string top = store_->LayerDirs(*r)[1];
  EXPECT_EQ(*ReadFile(top + "/etc/new"), "new\n");
  if (root) {
    struct stat st;
    ASSERT_EQ(::lstat((top + "/gone").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
  }
  auto cfg = store_->Config(*r);
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->diff_ids.size(), 2u);
  EXPECT_EQ(cfg->config.cmd, (std::vector<std::string>{"/bin/tool"}));
  EXPECT_EQ(cfg->config.labels.at("k"), "v");
  EXPECT_EQ(cfg->author, "me");
  auto man = store_->ManifestOf(*r);
  ASSERT_TRUE(man.has_value());
  EXPECT_EQ(man->layers[1].media_type, oci::media::kOciLayerGzip);
}

}  // namespace
}  // namespace berth::image
