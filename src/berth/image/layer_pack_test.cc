#include "berth/image/layer_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/image/digest.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/layer_test_util.h"
#include "berth/image/layer_unpack.h"

namespace berth::image {
namespace {

using namespace layer_testing;  // NOLINT: the test helpers

ByteSink StringSink(std::string* out) {
  return [out](const void* data, size_t n) -> Status {
    out->append(static_cast<const char*>(data), n);
    return Ok();
  };
}

// The entry names of a tar, in order ("name" or "name -> link" for hard links).
std::vector<std::string> TarNames(const std::string& tar) {
  std::vector<std::string> names;
  struct archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  archive_read_open_memory(a, tar.data(), tar.size());
  struct archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string n = archive_entry_pathname(e);
    if (archive_entry_hardlink(e)) n += std::string(" -> ") + archive_entry_hardlink(e);
    names.push_back(n);
  }
  archive_read_free(a);
  return names;
}

void MakeTree(const std::string& root) {
  ASSERT_TRUE(MkdirAll(root + "/etc/sub").has_value());
  ASSERT_TRUE(WriteFile(root + "/etc/hostname", "box\n").has_value());
  ASSERT_TRUE(WriteFile(root + "/big", std::string(700000, 'q')).has_value());
  ASSERT_TRUE(WriteFile(root + "/etc/sub/empty", "").has_value());
  ASSERT_EQ(::chmod((root + "/etc/sub/empty").c_str(), 0600), 0);
  ASSERT_EQ(::symlink("../big", (root + "/etc/biglink").c_str()), 0);
  ASSERT_EQ(::link((root + "/etc/hostname").c_str(), (root + "/hostname2").c_str()), 0);
  ASSERT_EQ(::mkfifo((root + "/fifo").c_str(), 0640), 0);
  struct timespec ts[2] = {{1500000000, 0}, {1500000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/etc/sub").c_str(), ts, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, (root + "/etc/biglink").c_str(), ts, AT_SYMLINK_NOFOLLOW), 0);
}

TEST(PackTree, DeterministicWithBothDigests) {
  TempDir tmp;
  std::string root = tmp.Sub("tree");
  MakeTree(root);
  for (auto c : {oci::Compression::kNone, oci::Compression::kGzip, oci::Compression::kZstd}) {
    std::string a, b;
    auto ra = PackTree(root, StringSink(&a), {c});
    auto rb = PackTree(root, StringSink(&b), {c});
    ASSERT_TRUE(ra.has_value()) << ra.error().message();
    ASSERT_TRUE(rb.has_value());
    EXPECT_EQ(a, b);
    EXPECT_EQ(ra->digest, DigestOf(a));
    EXPECT_EQ(ra->size, static_cast<int64_t>(a.size()));
    if (c == oci::Compression::kNone) {
      EXPECT_EQ(ra->diff_id, ra->digest);
    }
    // The tar inside hashes to the diff_id.
    std::string d = tmp.Sub("u" + std::to_string(static_cast<int>(c)));
    auto u = UnpackLayer(SourceOf(a), d);
    ASSERT_TRUE(u.has_value()) << u.error().message();
    EXPECT_EQ(u->diff_id, ra->diff_id);
    EXPECT_EQ(u->uncompressed_size, ra->uncompressed_size);
  }
}

TEST(PackTree, SortedEntriesAndHardLinks) {
  TempDir tmp;
  std::string root = tmp.Sub("tree");
  MakeTree(root);
  std::string out;
  ASSERT_TRUE(PackTree(root, StringSink(&out), {oci::Compression::kNone}).has_value());
  EXPECT_EQ(TarNames(out), (std::vector<std::string>{
                               "big", "etc/", "etc/biglink", "etc/hostname", "etc/sub/",
                               "etc/sub/empty", "fifo", "hostname2 -> etc/hostname"}));
}

TEST(PackEntry, OneEntryNamedFromTheTop) {
  TempDir tmp;
  std::string root = tmp.Sub("tree");
  MakeTree(root);
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(dir.valid());
  std::string out;
  ASSERT_TRUE(PackEntry(dir.get(), "etc", StringSink(&out), {oci::Compression::kNone}).has_value());
  EXPECT_EQ(TarNames(out), (std::vector<std::string>{"etc/", "etc/biglink", "etc/hostname",
                                                     "etc/sub/", "etc/sub/empty"}));
  out.clear();
  ASSERT_TRUE(PackEntry(dir.get(), "big", StringSink(&out), {oci::Compression::kNone}).has_value());
  EXPECT_EQ(TarNames(out), (std::vector<std::string>{"big"}));
  // A symlink is stored as one, not followed (etc/biglink -> ../big stays a link).
  UniqueFd etc(::open((root + "/etc").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  out.clear();
  ASSERT_TRUE(PackEntry(etc.get(), "biglink", StringSink(&out), {oci::Compression::kNone}).has_value());
  EXPECT_LT(out.size(), 4096u);
  for (const char* bad : {"", ".", "..", "etc/sub"})
    EXPECT_FALSE(PackEntry(dir.get(), bad, StringSink(&out)).has_value()) << bad;
  EXPECT_FALSE(PackEntry(dir.get(), "missing", StringSink(&out)).has_value());
}

TEST(PackTree, RoundTripKeepsTheTree) {
  TempDir tmp;
  std::string root = tmp.Sub("tree");
  MakeTree(root);
  if (::geteuid() == 0) {
    ASSERT_EQ(::mknod((root + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    ASSERT_EQ(::lchown((root + "/etc/hostname").c_str(), 1000, 1001), 0);
    ASSERT_EQ(::chmod((root + "/big").c_str(), 04711), 0);
    ASSERT_EQ(::lsetxattr((root + "/big").c_str(), "trusted.k", "v", 1, 0), 0);
  }
  ASSERT_EQ(::setxattr((root + "/etc/hostname").c_str(), "user.a", "1", 1, 0), 0);
  std::string out;
  ASSERT_TRUE(PackTree(root, StringSink(&out)).has_value());
  std::string dest = tmp.Sub("dest");
  auto r = UnpackLayer(SourceOf(out), dest);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(DescribeTree(dest), DescribeTree(root));
  EXPECT_NE(DescribeTree(dest), "");
}

TEST(PackDiff, OverlayFormBecomesWhiteoutEntries) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod, trusted.* xattrs)";
  TempDir tmp;
  std::string upper = tmp.Sub("upper");
  ASSERT_EQ(::mknod((upper + "/gone").c_str(), S_IFCHR, makedev(0, 0)), 0);
  ASSERT_TRUE(MkdirAll(upper + "/opq").has_value());
  ASSERT_EQ(::setxattr((upper + "/opq").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_EQ(::setxattr((upper + "/opq").c_str(), "trusted.overlay.origin", "x", 1, 0), 0);
  ASSERT_TRUE(WriteFile(upper + "/opq/new", "n").has_value());
  std::string out;
  auto r = PackDiff(upper, StringSink(&out), {oci::Compression::kGzip});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(TarNames(out),
            (std::vector<std::string>{".wh.gone", "opq/", "opq/.wh..wh..opq", "opq/new"}));
  // Unpacked again, the layer is in overlay form once more (and trusted.overlay.origin is
  // not carried).
  std::string dest = tmp.Sub("dest");
  auto u = UnpackLayer(SourceOf(out), dest);
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(DescribeTree(dest), DescribeTree(upper));
  UniqueFd fd(::open((dest + "/opq").c_str(), O_RDONLY | O_CLOEXEC));
  bool found = false;
  EXPECT_EQ(*internal::GetXattr(fd.get(), "trusted.overlay.origin", &found), "");
  EXPECT_FALSE(found);
  EXPECT_EQ(*internal::GetXattr(fd.get(), "trusted.overlay.opaque", &found), "y");

  // PackTree keeps devices as they are.
  std::string plain;
  ASSERT_TRUE(PackTree(upper, StringSink(&plain), {oci::Compression::kNone}).has_value());
  EXPECT_EQ(TarNames(plain), (std::vector<std::string>{"gone", "opq/", "opq/new"}));
}

TEST(PackTree, SinkErrorsPropagate) {
  TempDir tmp;
  std::string root = tmp.Sub("tree");
  MakeTree(root);
  ByteSink failing = [](const void*, size_t) -> Status { return InvalidArgument("disk full"); };
  auto r = PackTree(root, failing);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), ::testing::HasSubstr("disk full"));
}

}  // namespace
}  // namespace berth::image
