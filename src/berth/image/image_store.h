// berth/image: the image store. Layout under ROOT (default /var/lib/berth):
//   berth.db            images, names, layers, layer holds (SQLite, shared with the engine)
//   content/            blobs (ContentStore, an OCI image layout)
//   layers/<chain hex>/ each layer unpacked once, in overlay form, shared by every image and
//                       container using it; keyed by chain id (so the same diff on a
//                       different parent is a different directory)
// Images are keyed by their config digest (the docker "image id"). Names are normalized
// references ("docker.io/library/busybox:latest"). Containers hold the layers they use
// (Hold/Release), so removing an image never breaks a container: layer GC frees only
// layers no image and no holder needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/image/content_store.h"
#include "berth/image/db.h"
#include "berth/image/layer_unpack.h"
#include "berth/oci/image.h"

namespace berth::image {

struct ImageRecord {
  std::string id;               // config digest, "sha256:..."
  std::string manifest_digest;  // the manifest as stored in content/
  std::vector<std::string> names;  // normalized references, sorted
  std::string created;          // from the config (RFC 3339)
  int64_t size = 0;             // sum of uncompressed layer sizes
  int64_t added_unix = 0;       // when it entered this store
  std::vector<std::string> chain_ids;  // bottom first
};

class ImageStore {
 public:
  // `extra_schema`: tables of other modules kept in the same berth.db (the engine's).
  static Result<ImageStore> Open(const std::string& root, std::string_view extra_schema = {});
  ImageStore(ImageStore&&) noexcept;
  ImageStore& operator=(ImageStore&&) noexcept;
  ~ImageStore();

  const std::string& root() const { return root_; }
  ContentStore& content() { return *content_; }
  Database& db() { return *db_; }

  // The unpacked directory of a layer (by chain id "sha256:...").
  std::string LayerDir(std::string_view chain_id) const;
  // Unpacks blob `layer` (already in content/) on top of `parent_chain` (empty for the
  // bottom layer) unless done before; returns the chain id. Verifies the diff id.
  Result<std::string> EnsureLayer(std::string_view parent_chain, const oci::Descriptor& layer,
                                  std::string_view expected_diff_id);

  // The same, reading the compressed blob from `source` as it arrives (a pull unpacks while
  // it downloads). The blob's digest and the diff id are verified before the layer appears.
  Result<std::string> EnsureLayerFrom(std::string_view parent_chain, const oci::Descriptor& layer,
                                      std::string_view expected_diff_id, const ByteSource& source);
  // True when the layer `chain_id` is unpacked and recorded.
  bool HasLayer(std::string_view chain_id);
  // A layer made on this machine (a build step's overlay upper directory, whose tar `layer`
  // is already in content/): `dir` (on the store's filesystem, in overlay form) is renamed
  // into place instead of unpacking the blob again. `dir` is consumed either way.
  Result<std::string> AdoptLayer(std::string_view parent_chain, const oci::Descriptor& layer,
                                 std::string_view diff_id, const std::string& dir);

  // The build cache: a build step's key -> the manifest (in content/) of the image state after
  // it. Entries keep their blobs and layers from GC until pruned.
  Result<std::optional<std::string>> CacheLookup(std::string_view key);
  Status CacheStore(std::string_view key, std::string_view manifest_digest,
                    std::string_view top_chain);
  // Drops every entry; the number dropped. The next GarbageCollect frees what they held.
  Result<int64_t> CachePrune();

  // Records an image whose manifest, config and layer blobs are in content/: unpacks the
  // layers (EnsureLayer) and adds `names` (moving a name from any image that had it).
  Result<ImageRecord> AddImage(std::string_view manifest_digest,
                               const std::vector<std::string>& names);

  // By name ("busybox", "busybox:1", full reference), full id, or unique id prefix.
  Result<ImageRecord> Resolve(std::string_view name_or_id);
  Result<std::vector<ImageRecord>> List();
  Result<oci::ImageConfig> Config(const ImageRecord& image);
  Result<oci::Manifest> ManifestOf(const ImageRecord& image);
  std::vector<std::string> LayerDirs(const ImageRecord& image) const;  // bottom first

  Status Tag(const ImageRecord& image, std::string_view name);
  // Removes a name; returns true when the image lost its last name.
  Result<bool> Untag(std::string_view name);
  // Removes the image record (and its names). Blobs and layers are freed by GarbageCollect.
  Status RemoveImage(const ImageRecord& image);

  // Layer holds by containers (holder = container id).
  Status Hold(std::string_view holder, const std::vector<std::string>& chain_ids);
  Status Release(std::string_view holder);
  bool IsHeld(const ImageRecord& image);  // any holder holds this image's top layer

  struct GcResult {
    int64_t layers_removed = 0;
    int64_t blobs_removed = 0;
    int64_t bytes_freed = 0;
  };
  // Removes layers and blobs nothing references.
  Result<GcResult> GarbageCollect();

 private:
  ImageStore() = default;
  std::string root_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<Database> db_;
};

// chain id of `diff_ids` (bottom first) per the image spec.
std::string ChainId(std::string_view parent_chain, std::string_view diff_id);

}  // namespace berth::image
