#include "berth/image/layer_unpack.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/image/digest.h"
#include "berth/image/layer_entry.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/layer_test_util.h"

namespace berth::image {
namespace {

using ::testing::HasSubstr;
using namespace layer_testing;  // NOLINT: the test helpers

std::string Read(const std::string& path) {
  auto r = ReadFile(path);
  return r.has_value() ? *r : "<missing>";
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<TarEntry> Basic() {
  return {Dir("etc"), File("etc/hostname", "box\n"), File("bin/tool", "#!/bin/sh\n", 0755),
          Symlink("etc/link", "/does/not/exist"), Hardlink("bin/tool2", "bin/tool", 0755)};
}

TEST(NormalizeEntryPath, Components) {
  using internal::NormalizeEntryPath;
  EXPECT_EQ(*NormalizeEntryPath("./a//b/../c/"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(*NormalizeEntryPath("/abs/x"), (std::vector<std::string>{"abs", "x"}));
  EXPECT_TRUE(NormalizeEntryPath("./")->empty());
  EXPECT_FALSE(NormalizeEntryPath("../x").has_value());
  EXPECT_FALSE(NormalizeEntryPath("a/../../x").has_value());
  EXPECT_FALSE(NormalizeEntryPath("/..").has_value());
}

TEST(UnpackLayer, PlainGzipZstdAndDigests) {
  std::string tar = BuildTar(Basic());
  for (const std::string& blob : {tar, Gzip(tar), Zstd(tar)}) {
    TempDir tmp;
    auto r = UnpackLayer(SourceOf(blob), tmp.path());
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(r->diff_id, DigestOf(tar));
    EXPECT_EQ(r->compressed_digest, DigestOf(blob));
    EXPECT_EQ(r->compressed_size, static_cast<int64_t>(blob.size()));
    EXPECT_EQ(r->uncompressed_size, static_cast<int64_t>(tar.size()));
    EXPECT_EQ(r->entries, 5);
    EXPECT_EQ(Read(tmp.path() + "/etc/hostname"), "box\n");
    struct stat a, b;
    ASSERT_EQ(::stat((tmp.path() + "/bin/tool").c_str(), &a), 0);
    ASSERT_EQ(::stat((tmp.path() + "/bin/tool2").c_str(), &b), 0);
    EXPECT_EQ(a.st_ino, b.st_ino);
    EXPECT_EQ(a.st_mode & 07777, 0755u);
    EXPECT_EQ(a.st_mtim.tv_sec, 1700000000);
    char buf[64];
    ssize_t n = ::readlink((tmp.path() + "/etc/link").c_str(), buf, sizeof buf);
    EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "/does/not/exist");
  }
}

TEST(UnpackLayer, DirectoryMtimesSetAfterChildren) {
  TempDir tmp;
  auto d = Dir("d", 0750);
  d.mtime = 1600000000;
  auto r = UnpackLayer(SourceOf(BuildTar({d, File("d/a", "x"), File("d/b", "y")})), tmp.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  struct stat st;
  ASSERT_EQ(::stat((tmp.path() + "/d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST(UnpackLayer, MultiMemberGzipAndTrailingZeros) {
  std::string tar = BuildTar(Basic());
  size_t half = tar.size() / 2;
  std::string blob = Gzip(tar.substr(0, half)) + Gzip(tar.substr(half));
  TempDir tmp;
  auto r = UnpackLayer(SourceOf(blob), tmp.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->diff_id, DigestOf(tar));
  EXPECT_EQ(r->compressed_digest, DigestOf(blob));

  // Extra zero blocks after the end of the archive still count in the diff_id.
  std::string padded = tar + std::string(10240, '\0');
  TempDir tmp2;
  auto r2 = UnpackLayer(SourceOf(padded), tmp2.path());
  ASSERT_TRUE(r2.has_value()) << r2.error().message();
  EXPECT_EQ(r2->diff_id, DigestOf(padded));
  EXPECT_EQ(r2->uncompressed_size, static_cast<int64_t>(padded.size()));
}

TEST(UnpackLayer, TruncatedStreamsFail) {
  std::vector<TarEntry> entries = Basic();
  entries.push_back(File("big", std::string(300000, 'z') + "tail"));
  std::string tar = BuildTar(entries);
  for (const std::string& blob : {Gzip(tar), Zstd(tar)}) {
    TempDir tmp;
    auto r = UnpackLayer(SourceOf(blob.substr(0, blob.size() - 9)), tmp.path());
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error().message(), HasSubstr("truncated"));
  }
  TempDir tmp;
  auto r = UnpackLayer(SourceOf(tar.substr(0, tar.size() / 2)), tmp.path());
  EXPECT_FALSE(r.has_value());
}

TEST(UnpackLayer, ExplicitCompressionAndBombLimit) {
  std::string tar = BuildTar(Basic());
  TempDir tmp;
  UnpackOptions o;
  o.detect_compression = false;
  o.compression = oci::Compression::kZstd;
  EXPECT_TRUE(UnpackLayer(SourceOf(Zstd(tar)), tmp.path(), o).has_value());
  TempDir tmp2;
  EXPECT_FALSE(UnpackLayer(SourceOf(Gzip(tar)), tmp2.path(), o).has_value());

  TempDir tmp3;
  UnpackOptions small;
  small.max_uncompressed = 1024;
  auto r = UnpackLayer(SourceOf(Gzip(BuildTar({File("f", std::string(1 << 20, 'a'))}))),
                       tmp3.path(), small);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("larger than 1024"));
}

TEST(UnpackLayer, EmptyStreamIsAnEmptyLayer) {
  TempDir tmp;
  std::string empty;
  auto r = UnpackLayer(SourceOf(empty), tmp.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->entries, 0);
  EXPECT_EQ(r->diff_id, DigestOf(""));
}

TEST(UnpackLayer, EscapingPathsAreRefused) {
  TempDir tmp;
  std::string dest = tmp.Sub("dest");
  auto r = UnpackLayer(SourceOf(BuildTar({File("a/../../escape", "x")})), dest);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(),
              HasSubstr("layer entry `a/../../escape`: path escapes the layer root"));
  EXPECT_FALSE(Exists(tmp.path() + "/escape"));

  // Absolute paths are taken relative to the layer root.
  auto abs = UnpackLayer(SourceOf(BuildTar({File("/abs/file", "x")})), dest);
  ASSERT_TRUE(abs.has_value()) << abs.error().message();
  EXPECT_EQ(Read(dest + "/abs/file"), "x");
}

TEST(UnpackLayer, SymlinkParentsStayInsideRoot) {
  TempDir tmp;
  std::string dest = tmp.Sub("dest");
  std::string outside = tmp.Sub("outside");
  auto r = UnpackLayer(SourceOf(BuildTar({Symlink("evil", outside), File("evil/x", "pwn")})), dest);
  EXPECT_FALSE(r.has_value());  // the in-root target does not exist: mkdir refuses the symlink
  EXPECT_FALSE(Exists(outside + "/x"));
  auto r2 = UnpackLayer(SourceOf(BuildTar({Symlink("up", "../../.."), File("up/y", "pwn")})), dest);
  EXPECT_TRUE(!r2.has_value() || Exists(dest + "/y"));
  EXPECT_FALSE(Exists(tmp.path() + "/y"));
  EXPECT_FALSE(Exists("/y"));
  // A symlink at the final component is replaced, never written through.
  std::string target = outside + "/victim";
  ASSERT_TRUE(WriteFile(target, "safe").has_value());
  auto r3 = UnpackLayer(SourceOf(BuildTar({Symlink("v", target), File("v", "pwn")})), dest);
  ASSERT_TRUE(r3.has_value()) << r3.error().message();
  EXPECT_EQ(Read(target), "safe");
  EXPECT_EQ(Read(dest + "/v"), "pwn");
}

TEST(UnpackLayer, HardLinksMustStayInside) {
  TempDir tmp;
  std::string dest = tmp.Sub("dest");
  ASSERT_TRUE(WriteFile(tmp.path() + "/outside", "secret").has_value());
  auto r = UnpackLayer(SourceOf(BuildTar({Hardlink("l", "../outside")})), dest);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("escapes the layer root"));
  auto r2 = UnpackLayer(SourceOf(BuildTar({Hardlink("l", "/etc/passwd")})), dest);
  ASSERT_FALSE(r2.has_value());
  EXPECT_THAT(r2.error().message(), HasSubstr("does not exist in the layer"));
  auto r3 = UnpackLayer(SourceOf(BuildTar({Dir("d"), Hardlink("l", "d")})), dest);
  ASSERT_FALSE(r3.has_value());
  EXPECT_THAT(r3.error().message(), HasSubstr("is a directory"));
  struct stat st;
  ASSERT_EQ(::stat((tmp.path() + "/outside").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
}

TEST(UnpackLayer, ReplacingEntries) {
  TempDir tmp;
  auto r = UnpackLayer(SourceOf(BuildTar({File("x", "file"), Dir("x"), File("x/in", "1"),
                                           File("y/z", "deep"), File("y", "now a file"),
                                           Dir("keep"), File("keep/a", "a"), Dir("keep", 0700)})),
                       tmp.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(Read(tmp.path() + "/x/in"), "1");
  EXPECT_EQ(Read(tmp.path() + "/y"), "now a file");
  EXPECT_EQ(Read(tmp.path() + "/keep/a"), "a");
  struct stat st;
  ASSERT_EQ(::stat((tmp.path() + "/keep").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST(UnpackLayer, WhiteoutsDeleteWithoutOverlayForm) {
  TempDir tmp;
  UnpackOptions flat;
  flat.overlay_whiteouts = false;
  auto lower = UnpackLayer(SourceOf(BuildTar({File("a", "a"), File("keep", "k"), Dir("d"),
                                               File("d/old", "o"), Dir("d/sub"),
                                               File("d/sub/old2", "o")})),
                           tmp.path(), flat);
  ASSERT_TRUE(lower.has_value()) << lower.error().message();
  auto upper = UnpackLayer(
      SourceOf(BuildTar({File(".wh.a", ""), Dir("d"), File("d/new", "n"),
                         File("d/sub/new2", "n"), File("d/.wh..wh..opq", ""),
                         File(".wh..wh.plnk", ""), File("nodir/.wh.x", "")})),
      tmp.path(), flat);
  ASSERT_TRUE(upper.has_value()) << upper.error().message();
  EXPECT_FALSE(Exists(tmp.path() + "/a"));
  EXPECT_TRUE(Exists(tmp.path() + "/keep"));
  EXPECT_FALSE(Exists(tmp.path() + "/d/old"));
  EXPECT_FALSE(Exists(tmp.path() + "/d/sub/old2"));
  EXPECT_EQ(Read(tmp.path() + "/d/new"), "n");
  EXPECT_EQ(Read(tmp.path() + "/d/sub/new2"), "n");
  EXPECT_FALSE(Exists(tmp.path() + "/nodir"));
  EXPECT_FALSE(Exists(tmp.path() + "/.wh..wh.plnk"));
}

TEST(UnpackLayer, InvalidWhiteoutsAreRefused) {
  TempDir tmp;
  std::string dest = tmp.Sub("dest");
  ASSERT_TRUE(WriteFile(tmp.path() + "/victim", "v").has_value());
  for (const char* name : {".wh..", "a/.wh..", ".wh.", "../.wh.victim"}) {
    auto r = UnpackLayer(SourceOf(BuildTar({Dir("a"), File(name, "")})), dest);
    EXPECT_FALSE(r.has_value()) << name;
  }
  EXPECT_TRUE(Exists(tmp.path() + "/victim"));
  EXPECT_TRUE(Exists(dest));
}

TEST(UnpackLayer, OverlayWhiteoutsNeedRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod, trusted.* xattrs)";
  TempDir tmp;
  auto r = UnpackLayer(SourceOf(BuildTar({File(".wh.gone", ""), Dir("d"),
                                           File("d/.wh..wh..opq", ""), File("d/f", "f")})),
                       tmp.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  struct stat st;
  ASSERT_EQ(::lstat((tmp.path() + "/gone").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(Exists(tmp.path() + "/.wh.gone"));
  UniqueFd d(::open((tmp.path() + "/d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  bool found = false;
  auto v = internal::GetXattr(d.get(), "trusted.overlay.opaque", &found);
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(found);
  EXPECT_EQ(*v, "y");
  EXPECT_FALSE(Exists(tmp.path() + "/d/.wh..wh..opq"));
}

TEST(UnpackLayer, OwnersXattrsAndSetuid) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown, trusted.* xattrs)";
  TempDir tmp;
  auto f = File("suid", "x", 04755);
  f.uid = 1234;
  f.gid = 5678;
  f.xattrs = {{"user.note", "hi"}, {"trusted.t", "v"}, {"trusted.overlay.opaque", "y"},
              {"security.selinux", "ignored"}};
  auto r = UnpackLayer(SourceOf(BuildTar({f})), tmp.path());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  struct stat st;
  ASSERT_EQ(::lstat((tmp.path() + "/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  UniqueFd fd(::open((tmp.path() + "/suid").c_str(), O_PATH | O_CLOEXEC));
  auto xs = internal::ReadXattrs(fd.get(), "suid");
  ASSERT_TRUE(xs.has_value());
  EXPECT_EQ(*xs, (internal::Xattrs{{"trusted.t", "v"}, {"user.note", "hi"}}));
}

TEST(UnpackLayerFile, NamesTheFile) {
  TempDir tmp;
  auto r = UnpackLayerFile(tmp.path() + "/missing.tar", tmp.path());
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("missing.tar"));
  std::string tarfile = tmp.path() + "/l.tar.gz";
  ASSERT_TRUE(WriteFile(tarfile, Gzip(BuildTar(Basic()))).has_value());
  std::string dest = tmp.Sub("dest");
  auto ok = UnpackLayerFile(tarfile, dest);
  ASSERT_TRUE(ok.has_value()) << ok.error().message();
  EXPECT_EQ(Read(dest + "/etc/hostname"), "box\n");
}

}  // namespace
}  // namespace berth::image
