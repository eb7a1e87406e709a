// Root integration tests for layer unpack/pack and snapshots on the real kernel: ownership,
// devices, capabilities, overlay whiteouts, merged overlay views (3 and 200 layers), the copy
// snapshotter, hostile layers, and commit-style diffs of an overlay upper.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/layer_pack.h"
#include "berth/image/layer_test_util.h"
#include "berth/image/layer_unpack.h"
#include "berth/image/snapshot.h"

namespace berth::image {
namespace {

using ::testing::HasSubstr;
using namespace layer_testing;  // NOLINT: the layer test helpers

#define REQUIRE_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root"

bool Exists(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0;
}
std::string Read(const std::string& p) {
  auto r = ReadFile(p);
  return r.has_value() ? *r : "<missing>";
}

ByteSink StringSink(std::string* out) {
  return [out](const void* d, size_t n) -> Status {
    out->append(static_cast<const char*>(d), n);
    return Ok();
  };
}

// Unpacks `entries` (gzip) into tmp/<name> and returns the directory.
std::string Layer(const TempDir& tmp, const std::string& name, const std::vector<TarEntry>& entries) {
  std::string dir = tmp.Sub(name);
  std::string blob = Gzip(BuildTar(entries));
  auto r = UnpackLayer(SourceOf(blob), dir);
  EXPECT_TRUE(r.has_value()) << name << ": " << r.error().message();
  return dir;
}

// A security.capability value (v2) granting cap_net_bind_service, effective.
std::string CapNetBindService() {
  uint32_t v[5] = {0x02000001u, 1u << 10, 0, 0, 0};
  return std::string(reinterpret_cast<const char*>(v), sizeof v);
}

TEST(ImageLayers, UnpackPreservesOwnersDevicesXattrsLinksSetuid) {
  REQUIRE_ROOT();
  TempDir tmp;
  TarEntry null;
  null.path = "dev/null";
  null.type = 'c';
  null.major = 1;
  null.minor = 3;
  null.mode = 0666;
  TarEntry loop = null;
  loop.path = "dev/loop0";
  loop.type = 'b';
  loop.major = 7;
  loop.minor = 0;
  loop.mode = 0660;
  loop.gid = 6;
  TarEntry fifo;
  fifo.path = "run/fifo";
  fifo.type = 'p';
  fifo.mode = 0620;
  auto suid = File("bin/su", "su-binary", 04755);
  auto owned = File("home/u/file", "mine", 0640);
  owned.uid = 1000;
  owned.gid = 1000;
  auto capped = File("bin/ping", "ping-binary", 0755);
  capped.xattrs = {{"security.capability", CapNetBindService()}, {"user.mime", "x"}};
  auto home = Dir("home/u", 0700);
  home.uid = 1000;
  home.gid = 1000;
  std::string dir = Layer(tmp, "l", {Dir("dev"), null, loop, fifo, suid, home, owned, capped,
                                     Hardlink("bin/su2", "bin/su", 04755), Symlink("bin/sh", "busybox")});
  struct stat st;
  ASSERT_EQ(::lstat((dir + "/dev/null").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  ASSERT_EQ(::lstat((dir + "/dev/loop0").c_str(), &st), 0);
  EXPECT_TRUE(S_ISBLK(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(7, 0));
  EXPECT_EQ(st.st_gid, 6u);
  ASSERT_EQ(::lstat((dir + "/run/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  ASSERT_EQ(::lstat((dir + "/bin/su").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_nlink, 2u);
  ASSERT_EQ(::lstat((dir + "/home/u").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  ASSERT_EQ(::lstat((dir + "/home/u/file").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_EQ(st.st_gid, 1000u);
  char cap[64];
  ssize_t n = ::getxattr((dir + "/bin/ping").c_str(), "security.capability", cap, sizeof cap);
  ASSERT_EQ(n, 20);
  EXPECT_EQ(std::string(cap, 20), CapNetBindService());
  char link[64];
  n = ::readlink((dir + "/bin/sh").c_str(), link, sizeof link);
  EXPECT_EQ(std::string(link, n > 0 ? n : 0), "busybox");
}

// Lower: a, b, keep, dir/{x,y}. Middle: deletes a, replaces b, makes dir opaque with z.
// Top: adds c, deletes keep.
std::vector<std::string> ThreeLayers(const TempDir& tmp) {
  return {Layer(tmp, "l1", {File("a", "a1"), File("b", "b1"), File("keep", "k"), Dir("dir"),
                            File("dir/x", "x"), File("dir/y", "y"), Dir("other"),
                            File("other/o", "o")}),
          Layer(tmp, "l2", {File(".wh.a", ""), File("b", "b2"), Dir("dir", 0750),
                            File("dir/.wh..wh..opq", ""), File("dir/z", "z"),
                            File("other/o2", "o2")}),
          Layer(tmp, "l3", {File("c", "c3"), File(".wh.keep", "")})};
}

void ExpectThreeLayerView(const std::string& root) {
  EXPECT_FALSE(Exists(root + "/a"));
  EXPECT_EQ(Read(root + "/b"), "b2");
  EXPECT_EQ(Read(root + "/c"), "c3");
  EXPECT_FALSE(Exists(root + "/keep"));
  EXPECT_FALSE(Exists(root + "/dir/x"));
  EXPECT_FALSE(Exists(root + "/dir/y"));
  EXPECT_EQ(Read(root + "/dir/z"), "z");
  EXPECT_EQ(Read(root + "/other/o"), "o");
  EXPECT_EQ(Read(root + "/other/o2"), "o2");
  struct stat st;
  ASSERT_EQ(::stat((root + "/dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST(ImageLayers, OverlayAndCopySnapshotsShowTheSameMergedView) {
  REQUIRE_ROOT();
  TempDir tmp;
  auto lowers = ThreeLayers(tmp);
  auto ov = CreateSnapshot(tmp.path() + "/ov", lowers, SnapshotKind::kOverlay);
  ASSERT_TRUE(ov.has_value()) << ov.error().message();
  ExpectThreeLayerView(ov->rootfs);
  auto cp = CreateSnapshot(tmp.path() + "/cp", lowers, SnapshotKind::kCopy);
  ASSERT_TRUE(cp.has_value()) << cp.error().message();
  ExpectThreeLayerView(cp->rootfs);
  EXPECT_EQ(DescribeTree(cp->rootfs, false), DescribeTree(ov->rootfs, false));
  EXPECT_EQ(cp->upper, cp->rootfs);

  // Remount cycle, then removal (idempotent).
  ASSERT_TRUE(UnmountSnapshot(*ov).has_value());
  EXPECT_FALSE(Exists(ov->rootfs + "/b"));
  ASSERT_TRUE(UnmountSnapshot(*ov).has_value());
  ASSERT_TRUE(MountSnapshot(*ov, lowers).has_value());
  ASSERT_TRUE(MountSnapshot(*ov, lowers).has_value());  // already mounted: no-op
  ExpectThreeLayerView(ov->rootfs);
  ASSERT_TRUE(RemoveSnapshot(*ov).has_value());
  EXPECT_FALSE(Exists(ov->dir));
  EXPECT_TRUE(RemoveSnapshot(*ov).has_value());
  ASSERT_TRUE(RemoveSnapshot(*cp).has_value());
  EXPECT_FALSE(Exists(cp->dir));
  for (const auto& l : lowers) EXPECT_TRUE(Exists(l));
}

TEST(ImageLayers, TwoHundredLayerOverlay) {
  REQUIRE_ROOT();
  TempDir tmp;
  std::vector<std::string> lowers;
  size_t total = 0;
  for (int i = 0; i < 200; ++i) {
    lowers.push_back(Layer(tmp, StrCat("layer-with-a-longish-name-", i),
                           {File(StrCat("f", i), "x"), File("top", StrCat(i))}));
    total += lowers.back().size() + 1;
  }
  ASSERT_GT(total, 4096u);  // past what one legacy lowerdir= option string can carry
  auto s = CreateSnapshot(tmp.path() + "/snap", lowers, SnapshotKind::kOverlay);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(Read(s->rootfs + "/top"), "199");
  EXPECT_TRUE(Exists(s->rootfs + "/f0"));
  EXPECT_TRUE(Exists(s->rootfs + "/f199"));
  ASSERT_TRUE(RemoveSnapshot(*s).has_value());
}

TEST(ImageLayers, SnapshotWithoutLayersAndBusyRemoval) {
  REQUIRE_ROOT();
  TempDir tmp;
  auto s = CreateSnapshot(tmp.path() + "/snap", {}, SnapshotKind::kOverlay);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  ASSERT_TRUE(WriteFile(s->rootfs + "/new", "n").has_value());
  EXPECT_EQ(Read(s->upper + "/new"), "n");
  // An open file keeps the mount busy: removal detaches it lazily.
  UniqueFd busy(::open((s->rootfs + "/new").c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(busy.valid());
  auto r = RemoveSnapshot(*s);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(Exists(s->dir));
  auto again = CreateSnapshot(tmp.path() + "/snap", {}, SnapshotKind::kOverlay);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  auto dup = CreateSnapshot(tmp.path() + "/snap", {}, SnapshotKind::kOverlay);
  EXPECT_FALSE(dup.has_value());
  EXPECT_TRUE(Exists(again->rootfs));  // a failed create does not destroy the existing one
  ASSERT_TRUE(RemoveSnapshot(*again).has_value());
}

// Every hostile layer is unpacked into tmp/dest next to tmp/outside; nothing may change
// outside dest.
TEST(ImageLayers, HostileLayersNeverWriteOutside) {
  REQUIRE_ROOT();
  struct Case {
    const char* name;
    std::vector<TarEntry> entries;
    bool must_fail;
  };
  TempDir tmp;
  std::string outside = tmp.Sub("outside");
  ASSERT_TRUE(WriteFile(outside + "/victim", "safe").has_value());
  struct stat passwd_before;
  ASSERT_EQ(::stat("/etc/passwd", &passwd_before), 0);
  std::vector<Case> cases = {
      {"dotdot", {File("../escape", "x")}, true},
      {"deep dotdot", {Dir("a"), File("a/../../escape", "x")}, true},
      {"absolute", {File(StrCat(outside, "/abs"), "x")}, false},
      {"symlink to outside dir", {Symlink("evil", outside), File("evil/x", "x")}, false},
      {"symlink up", {Symlink("evil", "../../.."), File("evil/x", "x")}, false},
      {"symlink up then victim",
       {Symlink("evil", "../outside"), File("evil/victim", "pwned")}, false},
      {"symlink final component", {Symlink("v", outside + "/victim"), File("v", "pwned")}, false},
      {"hard link passwd", {Hardlink("pw", "/etc/passwd")}, true},
      {"hard link outside", {Hardlink("pw", "../../outside/victim")}, true},
      {"hard link via symlink", {Symlink("s", outside), Hardlink("pw", "s/victim")}, true},
      {"whiteout dotdot", {File(".wh..", "")}, true},
      {"whiteout dotdot nested", {Dir("d"), File("d/.wh..", "")}, true},
      {"whiteout above root", {File("../.wh.outside", "")}, true},
      {"whiteout through symlink", {Symlink("s", "../outside"), File("s/.wh.victim", "")}, false},
  };
  for (const Case& c : cases) {
    std::string dest = tmp.path() + "/dest";
    ASSERT_TRUE(RemoveAll(dest).has_value());
    ASSERT_EQ(::mkdir(dest.c_str(), 0755), 0);
    for (bool overlay : {true, false}) {
      UnpackOptions o;
      o.overlay_whiteouts = overlay;
      auto r = UnpackLayer(SourceOf(BuildTar(c.entries)), dest, o);
      if (c.must_fail) {
        EXPECT_FALSE(r.has_value()) << c.name;
        if (!r.has_value()) {
          EXPECT_THAT(r.error().message(), HasSubstr("layer entry `")) << c.name;
        }
      }
    }
    EXPECT_EQ(Read(outside + "/victim"), "safe") << c.name;
    auto names = SplitNonEmpty(DescribeTree(tmp.path(), false), '\n');
    for (const auto& line : names) {
      EXPECT_TRUE(line.starts_with("dest") || line.starts_with("outside/victim f") ||
                  line.starts_with("outside d"))
          << c.name << ": unexpected " << line;
    }
    EXPECT_FALSE(Exists("/escape")) << c.name;
    EXPECT_FALSE(Exists("/tmp/escape")) << c.name;
  }
  struct stat passwd_after;
  ASSERT_EQ(::stat("/etc/passwd", &passwd_after), 0);
  EXPECT_EQ(passwd_after.st_nlink, passwd_before.st_nlink);
  EXPECT_EQ(passwd_after.st_mtim.tv_sec, passwd_before.st_mtim.tv_sec);
}

TEST(ImageLayers, TruncatedGzipIsAClearError) {
  TempDir tmp;
  std::string blob = Gzip(BuildTar({File("f", std::string(200000, 'x')), File("g", "y")}));
  std::string cut = blob.substr(0, blob.size() / 2);
  auto r = UnpackLayer(SourceOf(cut), tmp.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("gzip stream: unexpected end of data"));
}

TEST(ImageLayers, PackUnpackRoundTripAsRoot) {
  REQUIRE_ROOT();
  TempDir tmp;
  auto capped = File("bin/ping", "ping", 04755);
  capped.uid = 7;
  capped.gid = 8;
  capped.xattrs = {{"security.capability", CapNetBindService()}, {"trusted.t", "1"}};
  TarEntry dev;
  dev.path = "dev/tty";
  dev.type = 'c';
  dev.major = 5;
  dev.minor = 0;
  std::string src = Layer(tmp, "src", {Dir("bin", 0711), capped, Hardlink("bin/ping6", "bin/ping", 0755),
                                        dev, Symlink("bin/sh", "/bin/busybox"),
                                        File("etc/motd", std::string(300000, 'm'))});
  for (auto c : {oci::Compression::kGzip, oci::Compression::kZstd, oci::Compression::kNone}) {
    std::string out;
    auto p = PackTree(src, StringSink(&out), {c});
    ASSERT_TRUE(p.has_value()) << p.error().message();
    std::string dest = tmp.Sub(StrCat("dest", static_cast<int>(c)));
    auto u = UnpackLayer(SourceOf(out), dest);
    ASSERT_TRUE(u.has_value()) << u.error().message();
    EXPECT_EQ(u->diff_id, p->diff_id);
    EXPECT_EQ(u->compressed_digest, p->digest);
    EXPECT_EQ(DescribeTree(dest), DescribeTree(src));
  }
}

TEST(ImageLayers, PackDiffOfAnOverlayUpper) {
  REQUIRE_ROOT();
  TempDir tmp;
  std::string base = Layer(tmp, "base", {File("gone", "g"), File("edit", "old"), Dir("d"),
                                         File("d/old", "o"), File("same", "s")});
  auto s = CreateSnapshot(tmp.path() + "/snap", {base}, SnapshotKind::kOverlay);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  ASSERT_EQ(::unlink((s->rootfs + "/gone").c_str()), 0);
  ASSERT_TRUE(WriteFile(s->rootfs + "/edit", "new").has_value());
  ASSERT_EQ(::unlink((s->rootfs + "/d/old").c_str()), 0);
  ASSERT_EQ(::rmdir((s->rootfs + "/d").c_str()), 0);
  ASSERT_EQ(::mkdir((s->rootfs + "/d").c_str(), 0755), 0);  // a new, opaque directory
  ASSERT_TRUE(WriteFile(s->rootfs + "/d/fresh", "f").has_value());
  std::string view = DescribeTree(s->rootfs, false);
  ASSERT_TRUE(UnmountSnapshot(*s).has_value());

  std::string out;
  auto p = PackDiff(s->upper, StringSink(&out));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  // Apply the diff as a layer on top of the base: the same view as the container had.
  std::string diff = tmp.Sub("diff");
  auto u = UnpackLayer(SourceOf(out), diff);
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_TRUE(Exists(diff + "/gone"));  // the whiteout device
  auto s2 = CreateSnapshot(tmp.path() + "/snap2", {base, diff}, SnapshotKind::kOverlay);
  ASSERT_TRUE(s2.has_value()) << s2.error().message();
  EXPECT_EQ(DescribeTree(s2->rootfs, false), view);
  EXPECT_FALSE(Exists(s2->rootfs + "/gone"));
  EXPECT_FALSE(Exists(s2->rootfs + "/d/old"));
  EXPECT_EQ(Read(s2->rootfs + "/edit"), "new");
  // Flattened (whiteouts applied by deletion) the result is the same tree.
  std::string flat = tmp.Sub("flat");
  UnpackOptions del;
  del.overlay_whiteouts = false;
  std::string base_tar;
  ASSERT_TRUE(PackTree(base, StringSink(&base_tar)).has_value());
  ASSERT_TRUE(UnpackLayer(SourceOf(base_tar), flat, del).has_value());
  auto f = UnpackLayer(SourceOf(out), flat, del);
  ASSERT_TRUE(f.has_value()) << f.error().message();
  EXPECT_EQ(DescribeTree(flat, false), view);
  ASSERT_TRUE(RemoveSnapshot(*s2).has_value());
  ASSERT_TRUE(RemoveSnapshot(*s).has_value());
}

}  // namespace
}  // namespace berth::image
