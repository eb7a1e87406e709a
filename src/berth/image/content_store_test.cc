#include "berth/image/content_store.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "berth/base/file.h"
#include "berth/image/digest.h"

namespace berth::image {
namespace {

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-cs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = ContentStore::Open(dir_ + "/content");
    ASSERT_TRUE(s.has_value()) << s.error().message();
    store_ = std::make_unique<ContentStore>(std::move(*s));
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  size_t IngestCount() {
    size_t n = 0;
    auto names = ListIngest();
    n = names.size();
    return n;
  }
  std::vector<std::string> ListIngest() {
    std::vector<std::string> out;
    std::string d = store_->root() + "/ingest";
    if (DIR* dp = ::opendir(d.c_str())) {
      while (auto* e = ::readdir(dp)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(d + "/" + n);
      }
      ::closedir(dp);
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<ContentStore> store_;
};

TEST_F(ContentStoreTest, CreatesLayout) {
  auto layout = ReadFile(store_->root() + "/oci-layout");
  ASSERT_TRUE(layout.has_value());
  EXPECT_EQ(*layout, R"({"imageLayoutVersion":"1.0.0"})");
  EXPECT_TRUE(PathExists(store_->root() + "/blobs/sha256"));
  EXPECT_TRUE(PathExists(store_->root() + "/ingest"));
  // Opening again keeps everything.
  ASSERT_TRUE(store_->Write("hello").has_value());
  auto again = ContentStore::Open(store_->root());
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->Has(DigestOf("hello")));
}

TEST_F(ContentStoreTest, WriteReadRoundTrip) {
  auto d = store_->Write("hello world");
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(*d, DigestOf("hello world"));
  EXPECT_TRUE(store_->Has(*d));
  EXPECT_EQ(store_->BlobPath(*d), store_->root() + "/blobs/sha256/" + d->substr(7));
  auto data = store_->Read(*d);
  ASSERT_TRUE(data.has_value());
  EXPECT_EQ(*data, "hello world");
  auto size = store_->Size(*d);
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(*size, 11);
  struct stat st;
  ASSERT_EQ(::stat(store_->BlobPath(*d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444u);
  EXPECT_EQ(IngestCount(), 0u);
  // Writing the same bytes again is fine.
  auto d2 = store_->Write("hello world", *d);
  ASSERT_TRUE(d2.has_value());
  EXPECT_EQ(*d2, *d);
}

TEST_F(ContentStoreTest, WriteMismatchStoresNothing) {
  std::string want = DigestOf("other");
  auto d = store_->Write("hello", want);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().message(), "blob " + want + ": digest mismatch: got " + DigestOf("hello"));
  EXPECT_FALSE(store_->Has(want));
  EXPECT_FALSE(store_->Has(DigestOf("hello")));
  EXPECT_EQ(IngestCount(), 0u);
  EXPECT_FALSE(store_->Write("hello", "sha256:nothex").has_value());
}

TEST_F(ContentStoreTest, MissingBlob) {
  std::string d = DigestOf("absent");
  EXPECT_FALSE(store_->Has(d));
  EXPECT_FALSE(store_->Has("garbage"));
  auto r = store_->Read(d);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Size(d).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->OpenBlob(d).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Delete(d).error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(store_->Read("sha256:zz").error().code(), ErrorCode::kInvalidArgument);
}

TEST_F(ContentStoreTest, ReadReverifiesAndLimitsSize) {
  auto d = store_->Write("original");
  ASSERT_TRUE(d.has_value());
  std::string path = store_->BlobPath(*d);
  ASSERT_EQ(::chmod(path.c_str(), 0644), 0);
  ASSERT_TRUE(WriteFile(path, "tampered").has_value());
  auto r = store_->Read(*d);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("digest mismatch"), std::string::npos);

  auto big = store_->Write(std::string(1000, 'a'));
  ASSERT_TRUE(big.has_value());
  EXPECT_FALSE(store_->Read(*big, 999).has_value());
  EXPECT_TRUE(store_->Read(*big, 1000).has_value());
}

TEST_F(ContentStoreTest, WriterStreams) {
  auto w = store_->NewWriter();
  ASSERT_TRUE(w.has_value());
  std::string all;
  for (int i = 0; i < 100; ++i) {
    std::string chunk(1000 + i, static_cast<char>('a' + i % 26));
    ASSERT_TRUE(w->Write(chunk).has_value());
    all += chunk;
  }
  EXPECT_EQ(w->written(), static_cast<int64_t>(all.size()));
  EXPECT_EQ(IngestCount(), 1u);
  auto d = w->Commit(DigestOf(all), static_cast<int64_t>(all.size()));
  ASSERT_TRUE(d.has_value()) << d.error().message();
  EXPECT_EQ(*d, DigestOf(all));
  EXPECT_EQ(IngestCount(), 0u);
  EXPECT_EQ(*store_->Read(*d), all);
  // A committed writer refuses more work.
  EXPECT_FALSE(w->Write("x").has_value());
  EXPECT_FALSE(w->Commit().has_value());
}

TEST_F(ContentStoreTest, WriterMismatchAndSizeMismatch) {
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->Write("abc").has_value());
    auto d = w->Commit(DigestOf("abd"));
    ASSERT_FALSE(d.has_value());
    EXPECT_NE(d.error().message().find("digest mismatch: got " + DigestOf("abc")),
              std::string::npos);
  }
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w->Write("abc").has_value());
    auto d = w->Commit(DigestOf("abc"), 4);
    ASSERT_FALSE(d.has_value());
    EXPECT_NE(d.error().message().find("size mismatch"), std::string::npos);
  }
  EXPECT_FALSE(store_->Has(DigestOf("abc")));
  EXPECT_EQ(IngestCount(), 0u);
}

TEST_F(ContentStoreTest, UncommittedWriterRemovesTempFile) {
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE(w->Write("partial").has_value());
    EXPECT_EQ(IngestCount(), 1u);
    BlobWriter moved = std::move(*w);
    EXPECT_EQ(IngestCount(), 1u);
  }
  EXPECT_EQ(IngestCount(), 0u);
  auto list = store_->List();
  ASSERT_TRUE(list.has_value());
  EXPECT_TRUE(list->empty());
}

TEST_F(ContentStoreTest, ListAndDelete) {
  auto a = store_->Write("a");
  auto b = store_->Write("b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(WriteFile(store_->root() + "/blobs/sha256/not-a-digest", "x").has_value());
  auto list = store_->List();
  ASSERT_TRUE(list.has_value());
  std::vector<std::string> want = {*a, *b};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*list, want);
  ASSERT_TRUE(store_->Delete(*a).has_value());
  EXPECT_FALSE(store_->Has(*a));
  EXPECT_EQ(store_->List()->size(), 1u);
}

TEST_F(ContentStoreTest, CleanIngestRemovesStaleFiles) {
  std::string stale = store_->root() + "/ingest/blob-stale";
  std::string fresh = store_->root() + "/ingest/blob-fresh";
  ASSERT_TRUE(WriteFile(stale, "x").has_value());
  ASSERT_TRUE(WriteFile(fresh, "y").has_value());
  struct utimbuf old = {::time(nullptr) - 7200, ::time(nullptr) - 7200};
  ASSERT_EQ(::utime(stale.c_str(), &old), 0);
  ASSERT_TRUE(store_->CleanIngest(3600).has_value());
  EXPECT_FALSE(PathExists(stale));
  EXPECT_TRUE(PathExists(fresh));
  ASSERT_TRUE(store_->CleanIngest(0).has_value());
  EXPECT_FALSE(PathExists(fresh));
}

TEST_F(ContentStoreTest, ConcurrentWritersOfSameBlobThreads) {
  std::string data(1 << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131) >> 3);
  std::string want = DigestOf(data);
  for (int round = 0; round < 5; ++round) {
    if (store_->Has(want)) {
      ASSERT_TRUE(store_->Delete(want).has_value());
    }
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        auto w = store_->NewWriter();
        if (!w) return;
        for (size_t i = 0; i < data.size(); i += 65536) {
          if (!w->Write(std::string_view(data).substr(i, 65536))) return;
        }
        if (auto d = w->Commit(want); d && *d == want) ++ok;
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), 4);
    auto r = store_->Read(want, 2 << 20);
    ASSERT_TRUE(r.has_value()) << r.error().message();
    EXPECT_EQ(*r, data);
    EXPECT_EQ(IngestCount(), 0u);
  }
}

TEST_F(ContentStoreTest, ConcurrentWritersOfSameBlobProcesses) {
  std::string data(256 << 10, 'q');
  std::string want = DigestOf(data);
  std::vector<pid_t> pids;
  for (int p = 0; p < 3; ++p) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto s = ContentStore::Open(store_->root());
      bool good = s.has_value() && s->Write(data, want).has_value();
      ::_exit(good ? 0 : 1);
    }
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto r = store_->Read(want);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, data);
  EXPECT_EQ(IngestCount(), 0u);
}

TEST_F(ContentStoreTest, OpenBlobReadsContent) {
  auto d = store_->Write("via fd");
  ASSERT_TRUE(d.has_value());
  auto fd = store_->OpenBlob(*d);
  ASSERT_TRUE(fd.has_value());
  auto text = ReadFd(fd->get(), "blob");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "via fd");
}

}  // namespace
}  // namespace berth::image
