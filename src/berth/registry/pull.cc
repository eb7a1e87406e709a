// berth/registry: Pull.
#include "berth/registry/pull.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"

namespace berth::registry {

std::string_view TransferStateName(TransferEvent::State state) {
  using S = TransferEvent::State;
  switch (state) {
    case S::kWaiting: return "Waiting";
    case S::kDownloading: return "Downloading";
    case S::kExtracting: return "Extracting";
    case S::kDone: return "Pull complete";
    case S::kExists: return "Already exists";
    case S::kUploading: return "Pushing";
    case S::kPushed: return "Pushed";
    case S::kMounted: return "Mounted";
    case S::kFailed: return "Failed";
  }
  return "";
}

namespace {

std::string ShortId(std::string_view digest) {
  size_t colon = digest.find(':');
  return std::string(digest.substr(colon + 1, 12));
}

// The partial blob as a stream that the unpacker reads while the downloader appends to it.
class GrowingFile {
 public:
  GrowingFile(int fd, int64_t present) : fd_(fd), written_(present) {}

  void Appended(int64_t total) {
    std::lock_guard lock(mu_);
    written_ = total;
    cv_.notify_all();
  }
  void Restart() {  // the file was truncated before any byte was read
    std::lock_guard lock(mu_);
    written_ = 0;
  }
  void Finish(std::optional<Error> error) {
    std::lock_guard lock(mu_);
    finished_ = true;
    error_ = std::move(error);
    cv_.notify_all();
  }
  void Abandon() {  // the reader stopped: the downloader must stop too
    std::lock_guard lock(mu_);
    if (!finished_) rejected_ = true;  // it rejected the content, not a failed download
    abandoned_ = true;
  }
  bool rejected() {
    std::lock_guard lock(mu_);
    return rejected_;
  }
  bool abandoned() const { return abandoned_; }
  bool at_end() const { return at_end_; }

  Result<size_t> Read(void* buf, size_t n) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return pos_ < written_ || finished_; });
      if (pos_ >= written_) {
        if (error_) return Unexpected(*error_);
        at_end_ = true;
        return size_t{0};
      }
      n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), written_ - pos_));
    }
    ssize_t r = ::pread(fd_, buf, n, pos_);
    if (r < 0) return ErrnoFail("read the partial blob");
    if (r == 0) return Fail(ErrorCode::kInternal, "the partial blob shrank while being read");
    pos_ += r;
    return static_cast<size_t>(r);
  }

 private:
  int fd_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t written_ = 0;
  int64_t pos_ = 0;
  bool finished_ = false;
  bool at_end_ = false;
  bool rejected_ = false;
  std::optional<Error> error_;
  std::atomic<bool> abandoned_{false};
};

// A failure of this machine (disk full, I/O error, a lock) rather than of the content: the
// bytes downloaded so far stay for the next pull to resume.
bool LocalFailure(const Error& e) {
  if (e.code() == ErrorCode::kTimeout || e.code() == ErrorCode::kUnavailable) return true;
  if (e.code() != ErrorCode::kSystem) return false;
  switch (e.sys_errno()) {
    case ENOSPC: case EDQUOT: case EIO: case EROFS: case ENOMEM: case EMFILE: case ENFILE:
      return true;
    default:
      return false;
  }
}

struct LayerJob {
  oci::Descriptor blob;
  std::string diff_id;
  std::string parent_chain;
  std::string chain;
};

class Puller {
 public:
  Puller(image::ImageStore& store, const oci::Reference& ref, const PullOptions& options)
      : store_(store), ref_(ref), options_(options) {}

  void Emit(const std::string& id, TransferEvent::State state, int64_t current, int64_t total) {
    if (!options_.progress) return;
    std::lock_guard lock(progress_mu_);
    options_.progress(TransferEvent{id, state, current, total});
  }

  // Downloads and unpacks one layer (or only downloads it when the layer is unpacked but its
  // blob is missing).
  Status FetchLayer(RegistryClient& client, const LayerJob& job) {
    const std::string id = ShortId(job.blob.digest);
    image::ContentStore& cs = store_.content();
    bool have_blob = cs.Has(job.blob.digest);
    if (have_blob && store_.HasLayer(job.chain)) {
      Emit(id, TransferEvent::State::kExists, job.blob.size, job.blob.size);
      return Ok();
    }
    std::string ctx = StrCat("layer ", job.blob.digest);
    if (have_blob) {  // unpack from the store, nothing to download
      Emit(id, TransferEvent::State::kExtracting, 0, job.blob.size);
      BERTH_TRY(store_.EnsureLayer(job.parent_chain, job.blob, job.diff_id));
      Emit(id, TransferEvent::State::kDone, job.blob.size, job.blob.size);
      return Ok();
    }
    BERTH_ASSIGN_OR_RETURN_CTX(image::PartialBlob partial, cs.OpenPartial(job.blob.digest), ctx);
    if (cs.Has(job.blob.digest)) {  // another pull finished it while we waited for its lock
      partial.Discard();
      return FetchLayer(client, job);
    }
    if (partial.size() > job.blob.size) BERTH_TRY_CTX(partial.Truncate(), ctx);

    const bool unpack = !store_.HasLayer(job.chain);
    GrowingFile file(partial.fd(), partial.size());
    image::ByteSource source = [&](void* buf, size_t n) { return file.Read(buf, n); };
    std::optional<Error> reader_error;
    bool reader_named_layer = false;
    bool verified = false;  // the unpack hashed every byte and found the digest
    // The reader thread starts once the download knows where it starts (a server that
    // ignores Range makes us start over from byte 0).
    std::thread reader;
    auto start_reader = [&]() -> Status {
      if (reader.joinable())  // a request retried after its body began: never twice
        return Fail(ErrorCode::kInternal, "the download started twice");
      reader = std::thread([&] {
        if (unpack) {
          auto r = store_.EnsureLayerFrom(job.parent_chain, job.blob, job.diff_id, source);
          if (!r.has_value()) {
            reader_error = r.error();
            reader_named_layer = true;  // the store's errors start with "layer DIGEST"
            file.Abandon();
            return;
          }
          verified = file.at_end();
          if (verified) return;
        }
        // Hash what the unpack did not read (or everything when nothing was unpacked).
        image::Sha256 hash;
        int fd = partial.fd();
        int64_t pos = 0;
        std::vector<char> buf(256 * 1024);
        while (true) {
          auto n = file.Read(buf.data(), buf.size());
          if (!n.has_value()) {
            reader_error = n.error();
            return;
          }
          if (*n == 0) break;
        }
        while (true) {
          ssize_t r = ::pread(fd, buf.data(), buf.size(), pos);
          if (r < 0) {
            reader_error = Error(ErrorCode::kSystem, "read the partial blob");
            return;
          }
          if (r == 0) break;
          hash.Update(buf.data(), static_cast<size_t>(r));
          pos += r;
        }
        std::string got = hash.Finish();
        if (got != job.blob.digest) {
          reader_error = Error(ErrorCode::kInvalidArgument,
                               StrCat("digest mismatch: the blob hashes to ", got));
          return;
        }
        verified = true;
      });
      return Ok();
    };

    Emit(id, TransferEvent::State::kDownloading, partial.size(), job.blob.size);
    int64_t last_emit = 0;
    Status download = Ok();
    if (partial.size() == job.blob.size) {
      download = start_reader();  // complete already (an earlier pull died while unpacking)
    } else {
      download = client.FetchBlob(
          ref_.path, job.blob.digest, partial.size(),
          [&](int64_t start) -> Status {
            if (start == 0 && partial.size() > 0) {
              BERTH_TRY(partial.Truncate());
              file.Restart();
            }
            return start_reader();
          },
          [&](const char* data, size_t n) -> Status {
            if (file.abandoned()) return InvalidArgument("stopped: the layer was rejected");
            if (partial.size() + static_cast<int64_t>(n) > job.blob.size)
              return InvalidArgument(StrCat("the registry sent more than the ", job.blob.size,
                                            " bytes the manifest declares"));
            BERTH_TRY(partial.Append(data, n));
            file.Appended(partial.size());
            if (partial.size() - last_emit >= (512 << 10) || partial.size() == job.blob.size) {
              last_emit = partial.size();
              Emit(id, TransferEvent::State::kDownloading, partial.size(), job.blob.size);
            }
            return Ok();
          });
      if (download.has_value() && partial.size() != job.blob.size)
        download = InvalidArgument(StrCat("the registry sent ", partial.size(),
                                          " bytes, the manifest declares ", job.blob.size));
    }
    file.Finish(download.has_value() ? std::nullopt : std::optional<Error>(download.error()));
    if (reader.joinable()) reader.join();
    if (!download.has_value()) {
      Emit(id, TransferEvent::State::kFailed, partial.size(), job.blob.size);
      // A reader's complaint (a bad entry, a wrong digest) says more than "stopped".
      // Content the unpack refused (a bad entry, digest, stream) is dropped; a local
      // failure (disk full, a lock) keeps the bytes for the next pull.
      if (reader_error && file.rejected() && !LocalFailure(*reader_error)) {
        partial.Discard();  // its content was rejected: a resume would only repeat that
        return Unexpected(reader_named_layer ? *reader_error : reader_error->Wrap(ctx));
      }
      return Unexpected(download.error().Wrap(ctx));  // the partial blob stays for a resume
    }
    if (reader_error || !verified) {
      // Complete but wrong: a resume would only repeat the error. A local failure keeps it.
      if (!reader_error || !LocalFailure(*reader_error)) partial.Discard();
      Emit(id, TransferEvent::State::kFailed, partial.size(), job.blob.size);
      if (reader_named_layer) return Unexpected(*reader_error);
      return Unexpected((reader_error ? *reader_error : Error(ErrorCode::kInternal, "not verified"))
                            .Wrap(ctx));
    }
    BERTH_TRY_CTX(partial.Commit(job.blob.digest), ctx);
    Emit(id, TransferEvent::State::kDone, job.blob.size, job.blob.size);
    return Ok();
  }

  Result<PullResult> Run() {
    std::string name = ref_.Familiar();
    RegistryClient client(ref_.domain, options_.registry);
    std::string reference = ref_.digest.empty() ? ref_.tag : ref_.digest;
    BERTH_ASSIGN_OR_RETURN_CTX(FetchedManifest top, client.GetManifest(ref_.path, reference),
                               StrCat("pull ", name));
    PullResult result;
    result.digest = top.digest;
    FetchedManifest m = std::move(top);
    oci::Platform want = options_.platform.value_or(oci::HostPlatform());
    for (int depth = 0; oci::IsIndexMediaType(m.media_type); ++depth) {
      if (depth >= 2) return InvalidArgument(StrCat("pull ", name, ": indexes nested too deeply"));
      std::string what = StrCat("index ", m.digest);
      BERTH_ASSIGN_OR_RETURN_CTX(oci::Index index, oci::ParseIndex(m.data, what),
                                 StrCat("pull ", name));
      BERTH_ASSIGN_OR_RETURN_CTX(oci::Descriptor d, oci::SelectPlatform(index, want),
                                 StrCat("pull ", name, ": ", what));
      BERTH_ASSIGN_OR_RETURN_CTX(m, client.GetManifest(ref_.path, d.digest), StrCat("pull ", name));
      if (static_cast<int64_t>(m.data.size()) != d.size)
        return InvalidArgument(StrCat("pull ", name, ": manifest ", d.digest, " is ",
                                      m.data.size(), " bytes, the index declares ", d.size));
    }
    std::string ctx = StrCat("pull ", name, ": manifest ", m.digest);
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Manifest manifest, oci::ParseManifest(m.data, "manifest"), ctx);
    for (const auto& l : manifest.layers) {
      BERTH_TRY_CTX(oci::LayerCompression(l.media_type), ctx);
      if (l.size < 0) return InvalidArgument(StrCat(ctx, ": layer ", l.digest, ": negative size"));
    }

    image::ContentStore& cs = store_.content();
    const oci::Descriptor& cd = manifest.config;
    if (!cs.Has(cd.digest)) {
      if (cd.size > (16 << 20) || cd.size < 0)
        return InvalidArgument(StrCat(ctx, ": config ", cd.digest, ": size ", cd.size,
                                      " is out of bounds"));
      BERTH_ASSIGN_OR_RETURN_CTX(std::string data,
                                 client.FetchSmallBlob(ref_.path, cd.digest, cd.size), ctx);
      if (static_cast<int64_t>(data.size()) != cd.size)
        return InvalidArgument(StrCat(ctx, ": config ", cd.digest, " is ", data.size(),
                                      " bytes, the manifest declares ", cd.size));
      BERTH_TRY_CTX(cs.Write(data, cd.digest), ctx);
    }
    BERTH_ASSIGN_OR_RETURN_CTX(std::string config_data, cs.Read(cd.digest, 16 << 20), ctx);
    BERTH_ASSIGN_OR_RETURN_CTX(oci::ImageConfig config,
                               oci::ParseImageConfig(config_data, StrCat("config ", cd.digest)),
                               ctx);
    if (config.diff_ids.size() != manifest.layers.size())
      return InvalidArgument(StrCat(ctx, ": ", manifest.layers.size(), " layers but the config lists ",
                                    config.diff_ids.size(), " diff ids"));

    std::vector<LayerJob> jobs;
    std::string parent;
    for (size_t i = 0; i < manifest.layers.size(); ++i) {
      LayerJob j{manifest.layers[i], config.diff_ids[i], parent,
                 image::ChainId(parent, config.diff_ids[i])};
      parent = j.chain;
      Emit(ShortId(j.blob.digest), TransferEvent::State::kWaiting, 0, j.blob.size);
      jobs.push_back(std::move(j));
    }

    // Layers in parallel, each worker with its own connection.
    BERTH_TRY_CTX(ForEachParallel(client, options_.registry, options_.parallel, jobs.size(),
                                  [&](RegistryClient& c, size_t i) { return FetchLayer(c, jobs[i]); }),
                  StrCat("pull ", name));

    BERTH_TRY_CTX(cs.Write(m.data, m.digest), ctx);
    std::string record = options_.record_as ? options_.record_as->String() : ref_.String();
    auto before = store_.Resolve(record);
    BERTH_ASSIGN_OR_RETURN_CTX(result.image, store_.AddImage(m.digest, {record}),
                               StrCat("pull ", name));
    result.up_to_date = before.has_value() && before->id == result.image.id;
    result.name = record;
    return result;
  }

 private:
  image::ImageStore& store_;
  const oci::Reference& ref_;
  const PullOptions& options_;
  std::mutex progress_mu_;
};

}  // namespace

Result<PullResult> Pull(image::ImageStore& store, const oci::Reference& reference,
                        const PullOptions& options) {
  Puller p(store, reference, options);
  return p.Run();
}

Result<PullResult> PullByName(image::ImageStore& store, std::string_view text,
                              const RegistriesConf& conf, const PullOptions& options) {
  BERTH_ASSIGN_OR_RETURN(std::vector<PullSource> sources, PullSources(conf, text));
  std::vector<std::string> failures;
  for (const auto& src : sources) {
    PullOptions o = options;
    o.record_as = src.name;
    if (src.insecure && !o.registry.tls_verify.has_value()) o.registry.tls_verify = false;
    if (options.on_try) options.on_try(src);
    auto r = Pull(store, src.reference, o);
    if (r.has_value() || sources.size() == 1) return r;
    failures.push_back(StrCat(src.reference.String(), src.mirror ? " (mirror)" : "", ": ",
                              r.error().message()));
  }
  return Fail(ErrorCode::kNotFound, StrCat("pull ", Quote(text), ": every source failed:\n  ",
                                           Join(failures, "\n  ")));
}

}  // namespace berth::registry
