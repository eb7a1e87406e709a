// Image store and archives on a real busybox image, as root: load a docker-archive built
// here from Debian's busybox-static, resolve and inspect it, save both archive formats and
// load them into fresh stores, layer GC with holds, and two processes adding one image.
#include "berth/image/image_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/image/archive.h"
#include "berth/image/digest.h"
#include "berth/image/image_test_util.h"

namespace berth::image {
namespace {

using namespace berth::image::testing;

class ImageStoreIntegration : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (layer ownership, device whiteouts)";
    auto bb = ReadFile("/bin/busybox");
    if (!bb.has_value()) GTEST_SKIP() << "needs /bin/busybox (Debian busybox-static)";
    busybox_ = std::move(*bb);
    ASSERT_FALSE(dir_.path().empty());
    layer_ = MakeTar({Dir("bin"), File("bin/busybox", busybox_, 0755), Symlink("bin/sh", "busybox"),
                      Dir("etc"), File("etc/hostname", "busybox\n")});
    oci::ImageConfig cfg = BasicConfig({DigestOf(layer_)});
    cfg.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    config_ = oci::ToJson(cfg).dump();
    id_ = DigestOf(config_);
    std::string hex = *DigestHex(id_);
    std::string lhex = *DigestHex(DigestOf(layer_));
    Json manifest = Json::array({Json{{"Config", hex + ".json"},
                                      {"RepoTags", {"busybox:latest"}},
                                      {"Layers", {lhex + "/layer.tar"}}}});
    Json repos = Json{{"busybox", Json{{"latest", lhex}}}};
    archive_ = Path("busybox.tar");
    ASSERT_TRUE(WriteFile(archive_, MakeTar({Dir(lhex), File(lhex + "/layer.tar", layer_),
                                             File(hex + ".json", config_),
                                             File("manifest.json", manifest.dump()),
                                             File("repositories", repos.dump())}))
                    .has_value());
  }
  std::string Path(const std::string& n) const { return dir_.path() + "/" + n; }
  std::unique_ptr<ImageStore> Open(const std::string& n) {
    auto s = ImageStore::Open(Path(n));
    EXPECT_TRUE(s.has_value()) << s.error().message();
    return s.has_value() ? std::make_unique<ImageStore>(std::move(*s)) : nullptr;
  }

  ScratchDir dir_;
  std::string busybox_, layer_, config_, id_, archive_;
};

TEST_F(ImageStoreIntegration, LoadResolveInspect) {
  auto store = Open("a");
  ASSERT_TRUE(store);
  auto loaded = LoadArchive(*store, archive_);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().message();
  ASSERT_EQ(loaded->size(), 1u);
  for (std::string q :
       std::vector<std::string>{"busybox", "busybox:latest", "docker.io/library/busybox:latest",
                                id_.substr(7, 6), id_}) {
    auto r = store->Resolve(q);
    ASSERT_TRUE(r.has_value()) << q << ": " << r.error().message();
    EXPECT_EQ(r->id, id_);
  }
  auto list = store->List();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].names, std::vector<std::string>{"docker.io/library/busybox:latest"});
  EXPECT_EQ((*list)[0].size, static_cast<int64_t>(layer_.size()));

  auto dirs = store->LayerDirs((*list)[0]);
  ASSERT_EQ(dirs.size(), 1u);
  EXPECT_EQ(*ReadFile(dirs[0] + "/bin/busybox"), busybox_);
  struct stat st;
  ASSERT_EQ(::lstat((dirs[0] + "/bin/busybox").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  EXPECT_EQ(st.st_uid, 0u);
  char target[64] = {};
  ASSERT_GT(::readlink((dirs[0] + "/bin/sh").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "busybox");
  auto cfg = store->Config((*list)[0]);
  ASSERT_TRUE(cfg.has_value());
  EXPECT_EQ(cfg->config.cmd, (std::vector<std::string>{"/bin/sh"}));
}

TEST_F(ImageStoreIntegration, SaveBothFormatsAndLoadElsewhere) {
  auto store = Open("a");
  ASSERT_TRUE(LoadArchive(*store, archive_).has_value());
  ASSERT_TRUE(SaveArchive(*store, {"busybox"}, ArchiveFormat::kDocker, Path("d.tar")).has_value());
  ASSERT_TRUE(SaveArchive(*store, {"busybox"}, ArchiveFormat::kOci, Path("o.tar")).has_value());
  for (std::string f : {std::string("d.tar"), std::string("o.tar")}) {
    auto other = Open("from-" + f);
    ASSERT_TRUE(other);
    auto loaded = LoadArchive(*other, Path(f));
    ASSERT_TRUE(loaded.has_value()) << f << ": " << loaded.error().message();
    ASSERT_EQ(loaded->size(), 1u);
    EXPECT_EQ((*loaded)[0].image.id, id_) << f;
    EXPECT_EQ((*loaded)[0].image.names,
              std::vector<std::string>{"docker.io/library/busybox:latest"})
        << f;
    EXPECT_EQ(*ReadFile(other->LayerDirs((*loaded)[0].image)[0] + "/bin/busybox"), busybox_);
  }
}

TEST_F(ImageStoreIntegration, GcKeepsHeldLayersUntilReleased) {
  auto store = Open("a");
  auto loaded = LoadArchive(*store, archive_);
  ASSERT_TRUE(loaded.has_value());
  ImageRecord img = (*loaded)[0].image;
  std::string layer_dir = store->LayerDirs(img)[0];
  ASSERT_TRUE(store->Hold("container-1", img.chain_ids).has_value());
  EXPECT_TRUE(store->IsHeld(img));

  auto last = store->Untag("busybox");
  ASSERT_TRUE(last.has_value());
  EXPECT_TRUE(*last);
  ASSERT_TRUE(store->RemoveImage(img).has_value());
  EXPECT_FALSE(store->Resolve("busybox").has_value());
  auto gc = store->GarbageCollect();
  ASSERT_TRUE(gc.has_value()) << gc.error().message();
  EXPECT_EQ(gc->layers_removed, 0);
  EXPECT_TRUE(PathExists(layer_dir + "/bin/busybox"));

  ASSERT_TRUE(store->Release("container-1").has_value());
  gc = store->GarbageCollect();
  ASSERT_TRUE(gc.has_value()) << gc.error().message();
  EXPECT_EQ(gc->layers_removed, 1);
  EXPECT_GE(gc->bytes_freed, static_cast<int64_t>(busybox_.size()));
  EXPECT_FALSE(PathExists(layer_dir));
  // The store still works after GC: load again.
  ASSERT_TRUE(LoadArchive(*store, archive_).has_value());
  EXPECT_TRUE(PathExists(layer_dir + "/bin/busybox"));
}

TEST_F(ImageStoreIntegration, ConcurrentLoadsFromTwoProcesses) {
  std::string root = Path("shared");
  { ASSERT_TRUE(Open("shared")); }  // create the store before the race
  pid_t pids[2];
  for (auto& pid : pids) {
    pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = ImageStore::Open(root);
      bool ok = s.has_value() && LoadArchive(*s, archive_).has_value();
      ::_exit(ok ? 0 : 1);
    }
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto store = Open("shared");
  auto list = store->List();
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].id, id_);
  EXPECT_EQ(*ReadFile(store->LayerDirs((*list)[0])[0] + "/bin/busybox"), busybox_);
  // Nothing temporary left in layers/.
  auto gc = store->GarbageCollect();
  ASSERT_TRUE(gc.has_value());
  EXPECT_EQ(gc->layers_removed, 0);
}

}  // namespace
}  // namespace berth::image
