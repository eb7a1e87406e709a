// berth/registry: Push. Blobs first (the config and the layers, in parallel), each skipped
// when the registry has it, mounted from another repository of the same registry that the
// image is also named in, or uploaded from the content store; the manifest last, so the tag
// appears only when everything it references is there.
#include <sys/stat.h>

#include <mutex>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/image/layer_pack.h"
#include "berth/registry/pull.h"

namespace berth::registry {

namespace {

std::string ShortDigest(std::string_view digest) {
  return std::string(digest.substr(digest.find(':') + 1, 12));
}

}  // namespace

Result<PushResult> Push(image::ImageStore& store, const image::ImageRecord& img,
                        const oci::Reference& dest, const PushOptions& options) {
  std::string name = dest.Familiar();
  std::string ctx = StrCat("push ", name);
  image::ContentStore& cs = store.content();
  BERTH_ASSIGN_OR_RETURN_CTX(std::string data, cs.Read(img.manifest_digest, 4 << 20), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Manifest manifest,
                             oci::ParseManifest(data, StrCat("manifest ", img.manifest_digest)), ctx);
  std::string media_type =
      manifest.media_type.empty() ? std::string(oci::media::kOciManifest) : manifest.media_type;
  bool docker_manifest = media_type == oci::media::kDockerManifest;
  if (docker_manifest && options.compression == oci::Compression::kZstd)
    return InvalidArgument(StrCat(ctx, ": zstd layers need an OCI manifest; this image has a "
                                       "Docker schema 2 manifest (use --compression-format gzip)"));

  // blobs[0] is the config, blobs[i + 1] layer i; a plain-tar layer is replaced by its
  // compressed form before upload.
  std::vector<oci::Descriptor> blobs;
  blobs.push_back(manifest.config);
  for (const auto& l : manifest.layers) blobs.push_back(l);
  auto compress = [&](oci::Descriptor& b) -> Status {
    auto kind = oci::LayerCompression(b.media_type);
    if (!kind.has_value() || *kind != oci::Compression::kNone ||
        options.compression == oci::Compression::kNone)
      return Ok();
    std::string bctx = StrCat("compress layer ", b.digest);
    BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd in, cs.OpenBlob(b.digest), bctx);
    BERTH_ASSIGN_OR_RETURN_CTX(image::BlobWriter w, cs.NewWriter(), bctx);
    image::PackOptions po;
    po.compression = options.compression;
    BERTH_ASSIGN_OR_RETURN_CTX(
        image::PackResult r,
        image::CompressLayer(in.get(), [&](const void* d, size_t n) { return w.Write(d, n); }, po),
        bctx);
    if (r.diff_id != b.digest)
      return Fail(ErrorCode::kInternal, StrCat(bctx, ": the stored blob hashes to ", r.diff_id));
    BERTH_TRY_CTX(w.Commit(r.digest, r.size), bctx);
    bool zstd = options.compression == oci::Compression::kZstd;
    b.media_type = std::string(docker_manifest ? oci::media::kDockerLayerGzip
                               : zstd          ? oci::media::kOciLayerZstd
                                               : oci::media::kOciLayerGzip);
    b.digest = r.digest;
    b.size = r.size;
    return Ok();
  };

  // Other repositories of the same registry that hold this image: blobs can be mounted.
  std::vector<std::string> mount_from;
  for (const auto& n : img.names) {
    auto r = oci::ParseReference(n);
    if (r.has_value() && r->domain == dest.domain && r->path != dest.path)
      mount_from.push_back(r->path);
  }

  auto emit_mu = std::make_shared<std::mutex>();
  auto emit = [&](const std::string& id, TransferEvent::State s, int64_t cur, int64_t total) {
    if (!options.progress) return;
    std::lock_guard lock(*emit_mu);
    options.progress(TransferEvent{id, s, cur, total});
  };
  for (const auto& b : blobs) emit(ShortDigest(b.digest), TransferEvent::State::kWaiting, 0, b.size);

  auto push_blob = [&](RegistryClient& client, oci::Descriptor& b) -> Status {
    std::string id = ShortDigest(b.digest);  // the line keeps its name when compressed
    BERTH_TRY(compress(b));
    std::string bctx = StrCat("blob ", b.digest);
    BERTH_ASSIGN_OR_RETURN_CTX(bool present, client.HasBlob(dest.path, b.digest), bctx);
    if (present) {
      emit(id, TransferEvent::State::kExists, b.size, b.size);
      return Ok();
    }
    for (const auto& from : mount_from) {
      auto mounted = client.MountBlob(dest.path, b.digest, from);
      if (mounted.has_value() && *mounted) {
        emit(id, TransferEvent::State::kMounted, b.size, b.size);
        return Ok();
      }
      // Not fatal: the blob is uploaded instead.
      if (!mounted.has_value()) log::Debug(mounted.error().message());
    }
    BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd fd, cs.OpenBlob(b.digest), bctx);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return ErrnoFail(StrCat(bctx, ": stat"));
    if (st.st_size != b.size)
      return InvalidArgument(StrCat(bctx, ": the store holds ", st.st_size,
                                    " bytes, the manifest declares ", b.size));
    emit(id, TransferEvent::State::kUploading, 0, b.size);
    BERTH_TRY_CTX(client.UploadBlob(dest.path, b.digest, fd.get(), b.size, options.chunk_size),
                  bctx);
    emit(id, TransferEvent::State::kPushed, b.size, b.size);
    return Ok();
  };

  RegistryClient client(dest.domain, options.registry);
  BERTH_TRY_CTX(ForEachParallel(client, options.registry, options.parallel, blobs.size(),
                                [&](RegistryClient& c, size_t i) -> Status {
                                  Status st = push_blob(c, blobs[i]);
                                  if (!st.has_value())
                                    emit(ShortDigest(blobs[i].digest),
                                         TransferEvent::State::kFailed, 0, blobs[i].size);
                                  return st;
                                }),
                  ctx);

  bool rewritten = false;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    rewritten = rewritten || manifest.layers[i].digest != blobs[i + 1].digest;
    manifest.layers[i] = blobs[i + 1];
  }
  if (rewritten) {
    data = oci::ToJson(manifest).dump();
    BERTH_TRY_CTX(cs.Write(data), ctx);
  }
  if (!dest.digest.empty() && dest.digest != image::DigestOf(data))
    return InvalidArgument(StrCat(ctx, ": the manifest to push is ", image::DigestOf(data),
                                  ", not the digest the destination names"));
  std::string reference = dest.digest.empty() ? dest.tag : dest.digest;
  PushResult result;
  BERTH_ASSIGN_OR_RETURN_CTX(result.digest,
                             client.PutManifest(dest.path, reference, data, media_type), ctx);
  result.size = static_cast<int64_t>(data.size());
  return result;
}

}  // namespace berth::registry
