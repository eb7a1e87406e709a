#include "berth/image/layer_unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/layer_decompress.h"
#include "berth/image/layer_entry.h"

namespace berth::image {

namespace {

// With options.pipeline, decompression and hashing run in a thread of their own, a few
// buffers ahead of the unpack (inflate and the file writes then overlap: a pull of a large
// gzip layer spends about as long in each).
class Prefetcher {
 public:
  explicit Prefetcher(internal::LayerReader& reader) : reader_(reader) {
    producer_ = std::thread([this] { Produce(); });
  }
  ~Prefetcher() { Stop(); }

  Result<size_t> Next(const void** data) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !full_.empty() || done_; });
    if (!full_.empty()) {
      if (!current_.empty()) spare_.push_back(std::move(current_));
      current_ = std::move(full_.front());
      full_.pop_front();
      cv_.notify_all();
      *data = current_.data();
      return current_.size();
    }
    if (error_) return Unexpected(*error_);
    return size_t{0};
  }

  void Stop() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
      cv_.notify_all();
    }
    if (producer_.joinable()) producer_.join();
  }

 private:
  static constexpr size_t kAhead = 8;

  void Produce() {
    for (;;) {
      const void* data = nullptr;
      auto n = reader_.Next(&data);
      std::unique_lock lock(mu_);
      if (!n.has_value() || *n == 0) {
        if (!n.has_value()) error_ = std::move(n).error();
        done_ = true;
        cv_.notify_all();
        return;
      }
      cv_.wait(lock, [&] { return full_.size() < kAhead || stop_; });
      if (stop_) return;
      std::vector<char> buf;
      if (!spare_.empty()) {
        buf = std::move(spare_.back());
        spare_.pop_back();
      }
      const char* p = static_cast<const char*>(data);
      buf.assign(p, p + *n);
      full_.push_back(std::move(buf));
      cv_.notify_all();
    }
  }

  internal::LayerReader& reader_;
  std::thread producer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<char>> full_;
  std::vector<std::vector<char>> spare_;
  std::vector<char> current_;
  bool done_ = false;
  bool stop_ = false;
  std::optional<Error> error_;
};

// libarchive pulls through this; decompression and hashing happen in LayerReader, so
// libarchive only sees the tar format.
struct ReadContext {
  internal::LayerReader* reader;
  std::optional<Error> error;  // why the stream failed, when libarchive reports a read error
  Prefetcher* prefetcher = nullptr;

  Result<size_t> Next(const void** data) {
    return prefetcher ? prefetcher->Next(data) : reader->Next(data);
  }
};

la_ssize_t ReadCallback(struct archive* a, void* client, const void** buffer) {
  auto* ctx = static_cast<ReadContext*>(client);
  auto n = ctx->Next(buffer);
  if (!n.has_value()) {
    archive_set_error(a, EIO, "%s", n.error().message().c_str());
    ctx->error = std::move(n).error();
    return -1;
  }
  return static_cast<la_ssize_t>(*n);
}

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

Error StreamError(struct archive* a, ReadContext& ctx) {
  if (ctx.error) return *ctx.error;
  const char* msg = archive_error_string(a);
  return Error(ErrorCode::kInvalidArgument, StrCat("tar: ", msg ? msg : "unknown error"));
}

}  // namespace

Result<UnpackResult> UnpackLayer(const ByteSource& source, const std::string& dest,
                                 const UnpackOptions& options) {
  BERTH_ASSIGN_OR_RETURN(internal::EntryApplier applier,
                         internal::EntryApplier::Open(dest, options));
  internal::LayerReader reader(source, options);
  ReadContext ctx{&reader, std::nullopt};
  std::optional<Prefetcher> prefetcher;
  if (options.pipeline) {
    prefetcher.emplace(reader);
    ctx.prefetcher = &*prefetcher;
  }
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
  if (!a) return Fail(ErrorCode::kInternal, "archive_read_new");
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  archive_read_support_format_empty(a.get());
  if (archive_read_open(a.get(), &ctx, nullptr, ReadCallback, nullptr) != ARCHIVE_OK)
    return Unexpected(StreamError(a.get(), ctx).Wrap("read layer"));

  UnpackResult result;
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      return Unexpected(StreamError(a.get(), ctx).Wrap(
          StrCat("read layer after ", result.entries, " entries")));
    }
    const char* name = archive_entry_pathname(e);
    std::string shown = name ? name : "";
    ++result.entries;
    auto st = applier.Apply(a.get(), e);
    if (!st.has_value()) {
      Error err = ctx.error ? *ctx.error : std::move(st).error();
      return Unexpected(std::move(err).Wrap(StrCat("layer entry ", Quote(shown))));
    }
  }
  // The digests cover the whole stream, including what follows the end-of-archive blocks.
  if (prefetcher) {
    const void* rest;
    for (;;) {
      BERTH_ASSIGN_OR_RETURN_CTX(size_t n, prefetcher->Next(&rest), "read layer");
      if (n == 0) break;
    }
    prefetcher->Stop();
  } else {
    BERTH_TRY_CTX(reader.Drain(), "read layer");
  }
  BERTH_TRY_CTX(applier.Finish(), "unpack layer");
  result.diff_id = reader.DiffId();
  result.compressed_digest = reader.CompressedDigest();
  result.compressed_size = reader.compressed_size();
  result.uncompressed_size = reader.uncompressed_size();
  return result;
}

Result<UnpackResult> UnpackLayerFile(const std::string& path, const std::string& dest,
                                     const UnpackOptions& options) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY));
  int raw = fd.get();
  ByteSource source = [raw, &path](void* buf, size_t n) -> Result<size_t> {
    for (;;) {
      ssize_t r = ::read(raw, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return ErrnoFail(StrCat("read ", Quote(path)));
    }
  };
  auto r = UnpackLayer(source, dest, options);
  if (!r.has_value()) return Unexpected(std::move(r).error().Wrap(StrCat("unpack ", Quote(path))));
  return r;
}

}  // namespace berth::image
