// berth/image: AddImage: from a manifest (or an index) in content/ to a recorded image
// with its layers unpacked.
#include <ctime>

#include "berth/base/strings.h"
#include "berth/image/image_store.h"
#include "berth/image/store_internal.h"
#include "berth/oci/reference.h"

namespace berth::image {

namespace internal {

namespace {

// Reads the manifest at `digest`; an index is resolved to the host platform's manifest.
Result<std::pair<std::string, oci::Manifest>> ReadManifest(ContentStore& cs, std::string digest) {
  for (int depth = 0; depth < 4; ++depth) {
    std::string what = StrCat("manifest ", digest);
    BERTH_ASSIGN_OR_RETURN_CTX(std::string data, cs.Read(digest, 4 << 20), what);
    BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(data, what));
    bool is_index = false;
    if (j.is_object()) {
      auto mt = j.find("mediaType");
      if (mt != j.end() && mt->is_string()) {
        is_index = oci::IsIndexMediaType(mt->get<std::string>());
      } else {
        is_index = j.contains("manifests") && !j.contains("layers");
      }
    }
    if (!is_index) {
      BERTH_ASSIGN_OR_RETURN(oci::Manifest m, oci::ParseManifest(data, what));
      return std::make_pair(digest, std::move(m));
    }
    BERTH_ASSIGN_OR_RETURN(oci::Index idx, oci::ParseIndex(data, StrCat("index ", digest)));
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Descriptor d, oci::SelectPlatform(idx, oci::HostPlatform()),
                               StrCat("index ", digest));
    digest = d.digest;
  }
  return InvalidArgument(StrCat("manifest ", digest, ": indexes nested too deeply"));
}

}  // namespace

Result<ImageRecord> AddImageLocked(ImageStore& store, std::string_view manifest_digest,
                                   const std::vector<std::string>& names) {
  std::string ctx = StrCat("add image ", manifest_digest);
  std::vector<std::string> normalized;
  for (const auto& n : names) {
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference ref, oci::ParseReference(n), ctx);
    normalized.push_back(ref.String());
  }
  BERTH_ASSIGN_OR_RETURN_CTX(auto found,
                             ReadManifest(store.content(), std::string(manifest_digest)), ctx);
  const std::string digest = found.first;
  const oci::Manifest& manifest = found.second;
  const std::string& id = manifest.config.digest;
  std::string cwhat = StrCat("image config ", id);
  BERTH_ASSIGN_OR_RETURN_CTX(std::string cdata, store.content().Read(id, 16 << 20),
                             StrCat(ctx, ": ", cwhat));
  BERTH_ASSIGN_OR_RETURN_CTX(oci::ImageConfig config, oci::ParseImageConfig(cdata, cwhat), ctx);
  if (config.diff_ids.size() != manifest.layers.size())
    return InvalidArgument(StrCat(ctx, ": the manifest has ", manifest.layers.size(),
                                  " layers but the config lists ", config.diff_ids.size(),
                                  " diff ids"));

  std::vector<std::string> chains;
  std::string parent;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    BERTH_ASSIGN_OR_RETURN_CTX(
        parent, EnsureLayerLocked(store, parent, manifest.layers[i], config.diff_ids[i]), ctx);
    chains.push_back(parent);
  }

  Database& db = store.db();
  BERTH_TRY_CTX(db.Transaction([&]() -> Status {
    int64_t size = 0;
    for (const auto& c : chains) {
      bool found_row = false;
      BERTH_TRY(db.Query("SELECT size FROM layers WHERE chain_id = ?", {c}, [&](const Row& r) {
        size += r.Int(0);
        found_row = true;
        return false;
      }));
      if (!found_row) return Fail(ErrorCode::kInternal, StrCat("layer ", c, ": not recorded"));
    }
    // An image added again keeps its first manifest unless that blob is gone.
    std::string existing;
    BERTH_TRY(db.Query("SELECT manifest_digest FROM images WHERE id = ?", {id}, [&](const Row& r) {
      existing = r.Text(0);
      return false;
    }));
    if (existing.empty()) {
      BERTH_TRY(
          db.Exec("INSERT INTO images (id, manifest_digest, created, size, added_unix) "
                  "VALUES (?, ?, ?, ?, ?)",
                  {id, digest, config.created, size, static_cast<int64_t>(::time(nullptr))}));
    } else if (existing != digest && !store.content().Has(existing)) {
      BERTH_TRY(db.Exec("UPDATE images SET manifest_digest = ? WHERE id = ?", {digest, id}));
    }
    BERTH_TRY(db.Exec("DELETE FROM image_layers WHERE image_id = ?", {id}));
    for (size_t i = 0; i < chains.size(); ++i)
      BERTH_TRY(db.Exec("INSERT INTO image_layers (image_id, idx, chain_id) VALUES (?, ?, ?)",
                        {id, static_cast<int64_t>(i), chains[i]}));
    // A name moves from whichever image had it; that image stays, possibly as <none>.
    for (const auto& n : normalized)
      BERTH_TRY(
          db.Exec("INSERT OR REPLACE INTO image_names (name, image_id) VALUES (?, ?)", {n, id}));
    return Ok();
  }),
                ctx);
  return GetImage(store, id);
}

}  // namespace internal

Result<ImageRecord> ImageStore::AddImage(std::string_view manifest_digest,
                                         const std::vector<std::string>& names) {
  BERTH_ASSIGN_OR_RETURN(auto lock, internal::StoreLock::Shared(root_));
  return internal::AddImageLocked(*this, manifest_digest, names);
}

}  // namespace berth::image
