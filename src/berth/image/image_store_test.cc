#include "berth/image/image_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <map>

#include "berth/base/file.h"
#include "berth/image/digest.h"
#include "berth/image/image_test_util.h"

namespace berth::image {
namespace {

using namespace berth::image::testing;

// Entries of ROOT/layers (layer directories and any temporaries).
int LayerEntries(const std::string& root) {
  DIR* d = ::opendir((root + "/layers").c_str());
  if (!d) return -1;
  int n = 0;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  ::closedir(d);
  return n;
}

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto s = ImageStore::Open(dir_.path() + "/root");
    ASSERT_TRUE(s.has_value()) << s.error().message();
    store_ = std::make_unique<ImageStore>(std::move(*s));
  }
  ImageRecord Add(const BuiltImage& b, std::vector<std::string> names) {
    auto r = store_->AddImage(b.manifest_digest, names);
    EXPECT_TRUE(r.has_value()) << r.error().message();
    return r.has_value() ? *r : ImageRecord{};
  }
  std::string Base() { return MakeTar({Dir("bin"), File("bin/hello", "hi\n", 0755)}); }
  // Made once: gzip headers carry the time, so two calls a second apart would differ.
  std::string Top() {
    if (top_.empty()) {
      top_ = MakeTar({Dir("etc"), File("etc/motd", "top\n"), Symlink("bin/sh", "hello")}, "gzip");
    }
    return top_;
  }
  std::string top_;
  ScratchDir dir_;
  std::unique_ptr<ImageStore> store_;
};

TEST(ChainIdTest, FollowsTheImageSpec) {
  std::string a = DigestOf("a"), b = DigestOf("b");
  EXPECT_EQ(ChainId("", a), a);
  EXPECT_EQ(ChainId(a, b), DigestOf(a + " " + b));
}

TEST_F(ImageStoreTest, AddResolveAndLayerDirs) {
  BuiltImage b = StoreImage(store_->content(), {Base(), Top()});
  ImageRecord r = Add(b, {"busybox", "localhost/x:1"});
  EXPECT_EQ(r.id, b.config_digest);
  EXPECT_EQ(r.manifest_digest, b.manifest_digest);
  EXPECT_EQ(r.names,
            (std::vector<std::string>{"docker.io/library/busybox:latest", "localhost/x:1"}));
  ASSERT_EQ(r.chain_ids.size(), 2u);
  EXPECT_EQ(r.chain_ids[0], b.diff_ids[0]);
  EXPECT_EQ(r.chain_ids[1], ChainId(b.diff_ids[0], b.diff_ids[1]));
  EXPECT_GT(r.size, 0);
  EXPECT_EQ(r.created, "2024-01-01T00:00:00Z");

  auto dirs = store_->LayerDirs(r);
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(*ReadFile(dirs[0] + "/bin/hello"), "hi\n");
  EXPECT_EQ(*ReadFile(dirs[1] + "/etc/motd"), "top\n");
  EXPECT_FALSE(PathExists(dirs[1] + "/bin/hello"));  // a layer holds only its own diff

  for (std::string q : {std::string("busybox"), std::string("busybox:latest"),
                        std::string("docker.io/library/busybox"), std::string("localhost/x:1"),
                        r.id, r.id.substr(7), r.id.substr(0, 12), r.id.substr(7, 5)}) {
    auto got = store_->Resolve(q);
    ASSERT_TRUE(got.has_value()) << q << ": " << got.error().message();
    EXPECT_EQ(got->id, r.id) << q;
    EXPECT_EQ(got->chain_ids, r.chain_ids) << q;
  }
  auto nf = store_->Resolve("nope");
  ASSERT_FALSE(nf.has_value());
  EXPECT_EQ(nf.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(nf.error().message(), "image `nope`: not found");
  EXPECT_FALSE(store_->Resolve("sha256:ffff0000").has_value());
  auto by_digest = store_->Resolve("busybox@" + r.manifest_digest);
  ASSERT_TRUE(by_digest.has_value()) << by_digest.error().message();
  EXPECT_EQ(by_digest->id, r.id);

  auto cfg = store_->Config(r);
  ASSERT_TRUE(cfg.has_value()) << cfg.error().message();
  EXPECT_EQ(cfg->diff_ids, b.diff_ids);
  auto man = store_->ManifestOf(r);
  ASSERT_TRUE(man.has_value());
  EXPECT_EQ(man->layers.size(), 2u);

  // Adding again is idempotent.
  ImageRecord again = Add(b, {});
  EXPECT_EQ(again.id, r.id);
  EXPECT_EQ(again.names, r.names);
  auto list = store_->List();
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(list->size(), 1u);
}

TEST_F(ImageStoreTest, SharedBaseLayerUnpackedOnce) {
  BuiltImage a = StoreImage(store_->content(), {Base()}, "a");
  BuiltImage b = StoreImage(store_->content(), {Base(), Top()}, "b");
  ImageRecord ra = Add(a, {"a"});
  ImageRecord rb = Add(b, {"b"});
  EXPECT_EQ(ra.chain_ids[0], rb.chain_ids[0]);
  EXPECT_NE(ra.id, rb.id);
  // Two layer directories and nothing temporary.
  EXPECT_EQ(LayerEntries(store_->root()), 2);
}

TEST_F(ImageStoreTest, AddFromIndexPicksHostPlatform) {
  BuiltImage b = StoreImage(store_->content(), {Base()});
  oci::Index idx;
  idx.media_type = oci::media::kOciIndex;
  oci::Descriptor other;
  other.media_type = oci::media::kOciManifest;
  other.digest = DigestOf("other");
  other.size = 5;
  other.platform = oci::Platform{"s390x", "linux"};
  oci::Descriptor mine;
  mine.media_type = oci::media::kOciManifest;
  mine.digest = b.manifest_digest;
  mine.size = *store_->content().Size(b.manifest_digest);
  mine.platform = oci::HostPlatform();
  idx.manifests = {other, mine};
  std::string idx_digest = *store_->content().Write(oci::ToJson(idx).dump());
  ImageRecord r = Add(BuiltImage{idx_digest, "", {}}, {"multi"});
  EXPECT_EQ(r.id, b.config_digest);
  EXPECT_EQ(r.manifest_digest, b.manifest_digest);
}

TEST_F(ImageStoreTest, NameMovesAndOldImageStaysDangling) {
  BuiltImage a = StoreImage(store_->content(), {Base()}, "a");
  BuiltImage b = StoreImage(store_->content(), {Base()}, "b");
  ImageRecord ra = Add(a, {"app:1"});
  ImageRecord rb = Add(b, {"app:1"});
  auto got = store_->Resolve("app:1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, rb.id);
  auto old = store_->Resolve(ra.id);
  ASSERT_TRUE(old.has_value());
  EXPECT_TRUE(old->names.empty());
  EXPECT_EQ(store_->List()->size(), 2u);
}

TEST_F(ImageStoreTest, TagUntagRemove) {
  ImageRecord r = Add(StoreImage(store_->content(), {Base()}), {"one"});
  ASSERT_TRUE(store_->Tag(r, "two:x").has_value());
  EXPECT_FALSE(store_->Tag(r, "BAD NAME").has_value());
  EXPECT_EQ(store_->Resolve("two:x")->id, r.id);
  auto u1 = store_->Untag("one");
  ASSERT_TRUE(u1.has_value());
  EXPECT_FALSE(*u1);
  auto u2 = store_->Untag("two:x");
  ASSERT_TRUE(u2.has_value());
  EXPECT_TRUE(*u2);
  auto u3 = store_->Untag("two:x");
  ASSERT_FALSE(u3.has_value());
  EXPECT_EQ(u3.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(store_->RemoveImage(r).has_value());
  EXPECT_FALSE(store_->Resolve(r.id).has_value());
  EXPECT_FALSE(store_->RemoveImage(r).has_value());
}

TEST_F(ImageStoreTest, AmbiguousIdPrefix) {
  // Find two label values whose configs share a 3-hex-digit id prefix.
  std::string base = Base();
  std::string diff = DigestOf(base);
  std::map<std::string, std::string> seen;
  std::string l1, l2;
  for (int i = 0; l1.empty() && i < 20000; ++i) {
    std::string label = std::to_string(i);
    std::string id = DigestOf(oci::ToJson(BasicConfig({diff}, label)).dump());
    std::string p = id.substr(7, 3);
    if (auto it = seen.find(p); it != seen.end()) {
      l1 = it->second;
      l2 = label;
      break;
    }
    seen[p] = label;
  }
  ASSERT_FALSE(l1.empty());
  ImageRecord a = Add(StoreImage(store_->content(), {base}, l1), {});
  ImageRecord b = Add(StoreImage(store_->content(), {base}, l2), {});
  ASSERT_EQ(a.id.substr(0, 10), b.id.substr(0, 10));
  auto r = store_->Resolve(a.id.substr(7, 3));
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("ambiguous"), std::string::npos);
  EXPECT_EQ(store_->Resolve(a.id)->id, a.id);
}

TEST_F(ImageStoreTest, DiffIdMismatchRecordsNothing) {
  std::string layer = Base();
  std::string ldigest = *store_->content().Write(layer);
  std::string cjson = oci::ToJson(BasicConfig({DigestOf("not the layer")})).dump();
  oci::Manifest m;
  m.media_type = oci::media::kOciManifest;
  m.config = oci::Descriptor{std::string(oci::media::kOciConfig), *store_->content().Write(cjson),
                             static_cast<int64_t>(cjson.size())};
  m.layers.push_back(oci::Descriptor{std::string(oci::media::kOciLayer), ldigest,
                                     static_cast<int64_t>(layer.size())});
  std::string md = *store_->content().Write(oci::ToJson(m).dump());
  auto r = store_->AddImage(md, {"bad"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("diff id mismatch"), std::string::npos) << r.error().message();
  EXPECT_TRUE(store_->List()->empty());
  // No layer directory, no temporary left behind.
  EXPECT_EQ(LayerEntries(store_->root()), 0);

  // Layer count differs from diff id count.
  std::string c2 = oci::ToJson(BasicConfig({})).dump();
  m.config.digest = *store_->content().Write(c2);
  m.config.size = static_cast<int64_t>(c2.size());
  std::string md2 = *store_->content().Write(oci::ToJson(m).dump());
  auto r2 = store_->AddImage(md2, {});
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message().find("diff ids"), std::string::npos) << r2.error().message();
}

void AgeBlobs(ContentStore& cs) {
  struct timespec old[2] = {{1000, 0}, {1000, 0}};
  auto blobs = cs.List();
  ASSERT_TRUE(blobs.has_value());
  for (const auto& d : *blobs) ::utimensat(AT_FDCWD, cs.BlobPath(d).c_str(), old, 0);
}

TEST_F(ImageStoreTest, GarbageCollectKeepsHeldLayersAndTheirParents) {
  ImageRecord r = Add(StoreImage(store_->content(), {Base(), Top()}), {"gc"});
  ImageRecord other = Add(StoreImage(store_->content(), {Top()}, "other"), {"other"});
  auto dirs = store_->LayerDirs(r);
  ASSERT_TRUE(store_->Hold("ctr1", {r.chain_ids.back()}).has_value());
  EXPECT_TRUE(store_->IsHeld(r));
  EXPECT_FALSE(store_->IsHeld(other));
  ASSERT_TRUE(store_->RemoveImage(r).has_value());
  AgeBlobs(store_->content());
  auto gc = store_->GarbageCollect();
  ASSERT_TRUE(gc.has_value()) << gc.error().message();
  EXPECT_EQ(gc->layers_removed, 0);
  EXPECT_TRUE(PathExists(dirs[0] + "/bin/hello"));  // the held top layer's parent
  EXPECT_TRUE(PathExists(dirs[1] + "/etc/motd"));
  // The removed image's config, manifest and base layer blob went; `other`'s stayed.
  EXPECT_EQ(gc->blobs_removed, 3);
  EXPECT_FALSE(store_->content().Has(r.id));
  EXPECT_TRUE(store_->content().Has(other.id));

  ASSERT_TRUE(store_->Release("ctr1").has_value());
  // A fresh unreferenced blob survives (a writer may be about to record it).
  std::string fresh = *store_->content().Write("fresh");
  gc = store_->GarbageCollect();
  ASSERT_TRUE(gc.has_value()) << gc.error().message();
  EXPECT_EQ(gc->layers_removed, 2);
  EXPECT_FALSE(PathExists(dirs[0]));
  EXPECT_FALSE(PathExists(dirs[1]));
  EXPECT_TRUE(store_->content().Has(fresh));
  // `other` still works.
  EXPECT_TRUE(PathExists(store_->LayerDirs(other)[0] + "/etc/motd"));
  EXPECT_EQ(store_->GarbageCollect()->layers_removed, 0);
}

TEST_F(ImageStoreTest, GarbageCollectRemovesLeftovers) {
  std::string layers = store_->root() + "/layers";
  ASSERT_TRUE(MkdirAll(layers + "/.tmp-dead/sub").has_value());
  ASSERT_TRUE(WriteFile(layers + "/.tmp-dead/sub/f", "x").has_value());
  ASSERT_EQ(::chmod((layers + "/.tmp-dead/sub").c_str(), 0), 0);
  ASSERT_TRUE(store_->GarbageCollect().has_value());
  EXPECT_FALSE(PathExists(layers + "/.tmp-dead"));
}

TEST_F(ImageStoreTest, ConcurrentAddFromTwoProcesses) {
  BuiltImage b = StoreImage(store_->content(), {Base(), Top()});
  std::string root = store_->root();
  pid_t pids[2];
  for (auto& pid : pids) {
    pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = ImageStore::Open(root);
      bool ok = s.has_value() && s->AddImage(b.manifest_digest, {"race"}).has_value();
      ::_exit(ok ? 0 : 1);
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto list = store_->List();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(*ReadFile(store_->LayerDirs((*list)[0])[0] + "/bin/hello"), "hi\n");
}

}  // namespace
}  // namespace berth::image
