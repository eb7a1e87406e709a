// berth/image: images made on this machine: `import` (a rootfs tarball becomes a one-layer
// image) and `commit` (a container's upper directory becomes a layer on its image).
#include "berth/base/strings.h"
#include "berth/image/archive.h"
#include "berth/image/archive_internal.h"
#include "berth/image/store_internal.h"
#include "berth/oci/reference.h"

namespace berth::image {

namespace {

// Stores config and manifest and records the image under `options.name`.
Result<ImageRecord> Finish(ImageStore& store, const oci::ImageConfig& config,
                           oci::Manifest manifest, const NewImageOptions& options) {
  std::string cjson = internal::DumpJson(oci::ToJson(config));
  BERTH_ASSIGN_OR_RETURN_CTX(manifest.config.digest, store.content().Write(cjson),
                             "store image config");
  manifest.config.size = static_cast<int64_t>(cjson.size());
  BERTH_ASSIGN_OR_RETURN_CTX(std::string mdigest,
                             store.content().Write(internal::DumpJson(oci::ToJson(manifest))),
                             "store manifest");
  std::vector<std::string> names;
  if (!options.name.empty()) names.push_back(options.name);
  return internal::AddImageLocked(store, mdigest, names);
}

}  // namespace

Result<ImageRecord> ImportTarball(ImageStore& store, const std::string& path,
                                  const NewImageOptions& options) {
  std::string shown = path == "-" ? std::string("stdin") : Quote(path);
  std::string ctx = StrCat("import ", shown);
  if (!options.name.empty()) {
    // Refuse a bad name before reading a large tarball.
    BERTH_TRY_CTX(oci::ParseReference(options.name), ctx);
  }
  oci::ImageConfig config;
  BERTH_TRY_CTX(ApplyChanges(config.config, options.changes), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(auto lock, internal::StoreLock::Shared(store.root()), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd fd, internal::OpenInput(path), ctx);
  // The layer is stored uncompressed: its digest is then its diff id, computed while
  // storing, whatever compression the tarball came in.
  BERTH_ASSIGN_OR_RETURN_CTX(auto raw, internal::OpenRawReader(fd.get(), "read"), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(BlobWriter w, store.content().NewWriter(), ctx);
  std::string buf(1 << 17, '\0');
  while (true) {
    BERTH_ASSIGN_OR_RETURN_CTX(size_t n,
                               internal::ReadRaw(raw.get(), buf.data(), buf.size(), "read"), ctx);
    if (n == 0) break;
    BERTH_TRY_CTX(w.Write(buf.data(), n), ctx);
  }
  int64_t size = w.written();
  if (size == 0) return InvalidArgument(StrCat(ctx, ": empty tarball"));
  BERTH_ASSIGN_OR_RETURN_CTX(std::string digest, w.Commit(), ctx);

  oci::Platform host = oci::HostPlatform();
  config.architecture = host.architecture;
  config.os = host.os;
  config.variant = host.variant;
  config.created = internal::NowRfc3339();
  config.author = options.author;
  config.diff_ids = {digest};
  oci::HistoryEntry h;
  h.created = config.created;
  h.author = options.author;
  h.comment = options.message.empty() ? StrCat("Imported from ", path) : options.message;
  config.history.push_back(std::move(h));

  oci::Manifest m;
  m.media_type = oci::media::kOciManifest;
  m.config.media_type = oci::media::kOciConfig;
  oci::Descriptor layer;
  layer.media_type = oci::media::kOciLayer;
  layer.digest = digest;
  layer.size = size;
  m.layers.push_back(std::move(layer));
  BERTH_ASSIGN_OR_RETURN_CTX(ImageRecord rec, Finish(store, config, std::move(m), options), ctx);
  return rec;
}

Result<ImageRecord> CommitLayer(ImageStore& store, const ImageRecord& base,
                                const std::string& upper_dir,
                                const oci::ContainerConfig& container_config,
                                const NewImageOptions& options) {
  std::string ctx = StrCat("commit ", Quote(upper_dir));
  if (!options.name.empty()) BERTH_TRY_CTX(oci::ParseReference(options.name), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(oci::ImageConfig config, store.Config(base), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Manifest m, store.ManifestOf(base), ctx);
  config.config = container_config;
  BERTH_TRY_CTX(ApplyChanges(config.config, options.changes), ctx);

  BERTH_ASSIGN_OR_RETURN_CTX(auto lock, internal::StoreLock::Shared(store.root()), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(BlobWriter w, store.content().NewWriter(), ctx);
  PackOptions popts;
  popts.compression = oci::Compression::kGzip;
  BERTH_ASSIGN_OR_RETURN_CTX(
      PackResult pack,
      PackDiff(
          upper_dir, [&](const void* d, size_t n) { return w.Write(d, n); }, popts),
      ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(std::string digest, w.Commit(pack.digest, pack.size), ctx);

  bool docker = m.media_type == oci::media::kDockerManifest;
  oci::Descriptor layer;
  layer.media_type = docker ? oci::media::kDockerLayerGzip : oci::media::kOciLayerGzip;
  layer.digest = digest;
  layer.size = pack.size;
  m.layers.push_back(std::move(layer));
  m.annotations.clear();
  m.subject.reset();
  config.created = internal::NowRfc3339();
  if (!options.author.empty()) config.author = options.author;
  config.diff_ids.push_back(pack.diff_id);
  oci::HistoryEntry h;
  h.created = config.created;
  h.author = options.author;
  h.comment = options.message;
  config.history.push_back(std::move(h));
  BERTH_ASSIGN_OR_RETURN_CTX(ImageRecord rec, Finish(store, config, std::move(m), options), ctx);
  return rec;
}

}  // namespace berth::image
