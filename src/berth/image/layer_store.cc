// berth/image: unpacked layers under ROOT/layers/<chain hex>, one per chain id, shared by
// every image and container that uses them.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/layer_unpack.h"
#include "berth/image/store_internal.h"

namespace berth::image {

namespace internal {

namespace {

bool IsDir(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

Result<bool> IsRecorded(Database& db, const std::string& chain) {
  bool found = false;
  BERTH_TRY(db.Query("SELECT 1 FROM layers WHERE chain_id = ?", {chain}, [&](const Row&) {
    found = true;
    return false;
  }));
  return found;
}

namespace {

Status Record(Database& db, const std::string& chain, std::string_view parent,
              std::string_view diff_id, std::string_view blob, int64_t size) {
  return db.Exec(
      "INSERT OR IGNORE INTO layers (chain_id, parent, diff_id, blob_digest, size) "
      "VALUES (?, ?, ?, ?, ?)",
      {chain, std::string(parent), std::string(diff_id), std::string(blob), size});
}

}  // namespace

Result<std::string> EnsureLayerLocked(ImageStore& store, std::string_view parent_chain,
                                      const oci::Descriptor& layer,
                                      std::string_view expected_diff_id, const ByteSource* source) {
  std::string chain = ChainId(parent_chain, expected_diff_id);
  std::string ctx = StrCat("layer ", layer.digest);
  std::string dir = store.LayerDir(chain);
  BERTH_ASSIGN_OR_RETURN_CTX(bool recorded, IsRecorded(store.db(), chain), ctx);
  if (recorded && IsDir(dir)) return chain;
  if (!recorded && IsDir(dir)) {
    // Renamed into place by a process that died (or has yet to record it): a directory is
    // renamed there only after a complete, verified unpack, so it can be recorded as is.
    BERTH_TRY_CTX(
        Record(store.db(), chain, parent_chain, expected_diff_id, layer.digest, layer.size), ctx);
    return chain;
  }

  BERTH_ASSIGN_OR_RETURN_CTX(oci::Compression comp, oci::LayerCompression(layer.media_type), ctx);
  if (source == nullptr && !store.content().Has(layer.digest))
    return Fail(ErrorCode::kNotFound, StrCat(ctx, ": blob not in the content store"));
  std::string layers = store.root() + "/layers";
  std::string tmp = StrCat(layers, "/.tmp-", RandomHex());
  if (::mkdir(tmp.c_str(), 0755) != 0) return ErrnoFail(StrCat(ctx, ": create ", Quote(tmp)));
  bool keep_tmp = false;
  auto cleanup = [&]() {
    if (keep_tmp) return;
    UniqueFd lfd(::open(layers.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (lfd) (void)RemoveTreeAt(lfd.get(), tmp.substr(layers.size() + 1), tmp);
  };
  UnpackOptions opts;
  opts.detect_compression = true;  // archives mislabel compression; the magic decides
  opts.compression = comp;
  opts.overlay_whiteouts = true;
  opts.pipeline = true;
  auto res = source != nullptr
                 ? UnpackLayer(*source, tmp, opts)
                 : UnpackLayerFile(store.content().BlobPath(layer.digest), tmp, opts);
  if (!res.has_value()) {
    cleanup();
    return Unexpected(std::move(res).error().Wrap(ctx));
  }
  if (res->compressed_digest != layer.digest) {
    cleanup();
    return InvalidArgument(
        StrCat(ctx, ": digest mismatch: the blob hashes to ", res->compressed_digest));
  }
  if (res->diff_id != expected_diff_id) {
    cleanup();
    return InvalidArgument(StrCat(ctx, ": diff id mismatch: the layer unpacks to ", res->diff_id,
                                  ", the image config says ", expected_diff_id));
  }
  {
    // The rename below publishes the layer: its content must be on disk first, or a crash
    // could leave a recorded but empty layer.
    UniqueFd fd(::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::syncfs(fd.get()) != 0) {
      int err = errno;
      cleanup();
      return SysFail(err, StrCat(ctx, ": sync ", Quote(tmp)));
    }
  }
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    cleanup();
    // Another process unpacked the same layer first: use theirs.
    if (!((err == EEXIST || err == ENOTEMPTY) && IsDir(dir)))
      return SysFail(err, StrCat(ctx, ": rename ", Quote(tmp), " to ", Quote(dir)));
  } else {
    keep_tmp = true;
  }
  BERTH_TRY_CTX(Record(store.db(), chain, parent_chain, expected_diff_id, layer.digest,
                       res->uncompressed_size),
                ctx);
  return chain;
}

}  // namespace internal

Result<std::string> ImageStore::EnsureLayer(std::string_view parent_chain,
                                            const oci::Descriptor& layer,
                                            std::string_view expected_diff_id) {
  BERTH_ASSIGN_OR_RETURN(auto lock, internal::StoreLock::Shared(root_));
  return internal::EnsureLayerLocked(*this, parent_chain, layer, expected_diff_id, nullptr);
}

Result<std::string> ImageStore::EnsureLayerFrom(std::string_view parent_chain,
                                                const oci::Descriptor& layer,
                                                std::string_view expected_diff_id,
                                                const ByteSource& source) {
  BERTH_ASSIGN_OR_RETURN(auto lock, internal::StoreLock::Shared(root_));
  return internal::EnsureLayerLocked(*this, parent_chain, layer, expected_diff_id, &source);
}

bool ImageStore::HasLayer(std::string_view chain_id) {
  struct stat st;
  if (::lstat(LayerDir(chain_id).c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  auto recorded = internal::IsRecorded(db(), std::string(chain_id));
  return recorded.has_value() && *recorded;
}

Result<std::string> ImageStore::AdoptLayer(std::string_view parent_chain,
                                           const oci::Descriptor& layer, std::string_view diff_id,
                                           const std::string& dir) {
  std::string chain = ChainId(parent_chain, diff_id);
  std::string ctx = StrCat("layer ", layer.digest);
  std::string dest = LayerDir(chain);
  auto discard = [&]() {
    auto slash = dir.rfind('/');
    std::string parent = slash == std::string::npos ? "." : dir.substr(0, slash);
    UniqueFd pfd(::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (pfd) (void)internal::RemoveTreeAt(pfd.get(), dir.substr(slash + 1), dir);
  };
  BERTH_ASSIGN_OR_RETURN_CTX(auto lock, internal::StoreLock::Shared(root_), ctx);
  {
    // As EnsureLayer: the content is on disk before the rename publishes it.
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) {
      int err = errno;
      discard();
      return SysFail(err, StrCat(ctx, ": open ", Quote(dir)));
    }
    if (::syncfs(fd.get()) != 0) {
      int err = errno;
      discard();
      return SysFail(err, StrCat(ctx, ": sync ", Quote(dir)));
    }
  }
  if (::rename(dir.c_str(), dest.c_str()) != 0) {
    int err = errno;
    discard();
    // The same step built before (the same diff on the same parent): keep the existing one.
    if (!((err == EEXIST || err == ENOTEMPTY) && internal::IsDir(dest)))
      return SysFail(err, StrCat(ctx, ": rename ", Quote(dir), " to ", Quote(dest)));
  }
  int64_t size = 0;
  if (layer.media_type == oci::media::kOciLayer || layer.media_type == oci::media::kDockerLayer)
    size = layer.size;
  BERTH_TRY_CTX(internal::Record(*db_, chain, parent_chain, diff_id, layer.digest, size), ctx);
  return chain;
}

Result<std::optional<std::string>> ImageStore::CacheLookup(std::string_view key) {
  std::optional<std::string> manifest;
  std::string top;
  BERTH_TRY_CTX(db_->Query("SELECT manifest_digest, top_chain FROM build_cache WHERE key = ?",
                           {std::string(key)},
                           [&](const Row& r) {
                             manifest = r.Text(0);
                             top = r.Text(1);
                             return false;
                           }),
                "build cache");
  // An entry whose layer or manifest went away (a crash between writing and GC) is a miss.
  if (manifest && ((!top.empty() && !HasLayer(top)) || !content_->Has(*manifest)))
    manifest.reset();
  return manifest;
}

Status ImageStore::CacheStore(std::string_view key, std::string_view manifest_digest,
                              std::string_view top_chain) {
  return db_->Exec(
      "INSERT OR REPLACE INTO build_cache (key, manifest_digest, top_chain, created_unix) "
      "VALUES (?, ?, ?, ?)",
      {std::string(key), std::string(manifest_digest), std::string(top_chain),
       static_cast<int64_t>(::time(nullptr))});
}

Result<int64_t> ImageStore::CachePrune() {
  BERTH_TRY_CTX(db_->Exec("DELETE FROM build_cache"), "build cache");
  return db_->Changes();
}

}  // namespace berth::image
