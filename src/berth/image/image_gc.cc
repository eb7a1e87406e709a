// berth/image: garbage collection of unpacked layers and blobs nothing references.
// Runs under the exclusive store lock, so no load, import or commit is between writing
// its blobs or layers and recording them.
#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <map>
#include <set>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/image/image_store.h"
#include "berth/image/layer_fsutil.h"
#include "berth/image/store_internal.h"

namespace berth::image {

namespace {

// Blobs younger than this are kept even when unreferenced: a writer outside the image
// store (a registry pull that does not take the store lock) may be about to record them.
constexpr time_t kBlobGraceSeconds = 600;

struct LayerRow {
  std::string parent;
  int64_t size = 0;
};

}  // namespace

Result<ImageStore::GcResult> ImageStore::GarbageCollect() {
  GcResult out;
  BERTH_ASSIGN_OR_RETURN_CTX(auto lock, internal::StoreLock::Exclusive(root_), "gc");

  // Layers: rows first (one transaction against concurrent holds), directories after.
  std::vector<std::string> doomed;
  BERTH_TRY_CTX(db_->Transaction([&]() -> Status {
    std::map<std::string, LayerRow> rows;
    BERTH_TRY(db_->Query("SELECT chain_id, parent, size FROM layers", {}, [&](const Row& r) {
      rows[r.Text(0)] = LayerRow{r.Text(1), r.Int(2)};
      return true;
    }));
    std::set<std::string> keep;
    std::vector<std::string> stack;
    BERTH_TRY(db_->Query("SELECT chain_id FROM image_layers UNION SELECT chain_id FROM layer_holds "
                         "UNION SELECT top_chain FROM build_cache WHERE top_chain != ''",
                         {}, [&](const Row& r) {
                           stack.push_back(r.Text(0));
                           return true;
                         }));
    // A kept layer keeps its ancestors: overlay needs every lower below it.
    while (!stack.empty()) {
      std::string c = std::move(stack.back());
      stack.pop_back();
      if (!keep.insert(c).second) continue;
      auto it = rows.find(c);
      if (it != rows.end() && !it->second.parent.empty()) stack.push_back(it->second.parent);
    }
    doomed.clear();
    out.bytes_freed = 0;
    for (const auto& [chain, row] : rows) {
      if (keep.count(chain)) continue;
      BERTH_TRY(db_->Exec("DELETE FROM layers WHERE chain_id = ?", {chain}));
      doomed.push_back(chain);
      out.bytes_freed += row.size;
    }
    return Ok();
  }),
                "gc: layers");
  out.layers_removed = static_cast<int64_t>(doomed.size());

  // Directories: the doomed ones plus anything unrecorded (temporaries of killed unpacks,
  // layers renamed into place by a process that died before recording them).
  std::string layers = root_ + "/layers";
  UniqueFd lfd(::open(layers.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!lfd) return ErrnoFail(StrCat("gc: open ", Quote(layers)));
  std::set<std::string> recorded;
  BERTH_TRY_CTX(db_->Query("SELECT chain_id FROM layers", {},
                           [&](const Row& r) {
                             auto hex = DigestHex(r.Text(0));
                             if (hex.has_value()) recorded.insert(*hex);
                             return true;
                           }),
                "gc");
  BERTH_ASSIGN_OR_RETURN_CTX(auto names, internal::ListDir(lfd.get(), layers), "gc");
  struct stat root_st;
  if (::fstat(lfd.get(), &root_st) != 0) return ErrnoFail(StrCat("gc: stat ", Quote(layers)));
  for (const auto& n : names) {
    if (recorded.count(n)) continue;
    // same_dev: never descend into something mounted inside a layer directory.
    BERTH_TRY_CTX(internal::RemoveTreeAt(lfd.get(), n, StrCat(layers, "/", n), &root_st.st_dev),
                  "gc");
  }

  // Blobs: referenced by an image's manifest (the manifest, its config, its layers).
  std::set<std::string> referenced;
  std::vector<std::pair<std::string, std::string>> images;  // id, manifest digest
  BERTH_TRY_CTX(db_->Query("SELECT id, manifest_digest FROM images UNION ALL "
                           "SELECT '', manifest_digest FROM build_cache",
                           {},
                           [&](const Row& r) {
                             images.emplace_back(r.Text(0), r.Text(1));
                             return true;
                           }),
                "gc");
  for (const auto& [id, mdigest] : images) {
    if (!id.empty()) referenced.insert(id);
    referenced.insert(mdigest);
    ImageRecord rec;
    rec.id = id;
    rec.manifest_digest = mdigest;
    auto m = ManifestOf(rec);
    if (!m.has_value()) {
      log::Warn(StrCat("gc: image ", id, ": ", m.error().message()));
      continue;
    }
    referenced.insert(m->config.digest);
    for (const auto& l : m->layers) referenced.insert(l.digest);
  }
  BERTH_ASSIGN_OR_RETURN_CTX(auto blobs, content_->List(), "gc");
  time_t now = ::time(nullptr);
  for (const auto& d : blobs) {
    if (referenced.count(d)) continue;
    struct stat st;
    if (::lstat(content_->BlobPath(d).c_str(), &st) != 0) continue;
    if (now - st.st_mtime < kBlobGraceSeconds) continue;
    auto del = content_->Delete(d);
    if (!del.has_value()) {
      if (del.error().code() == ErrorCode::kNotFound) continue;
      return Unexpected(std::move(del).error().Wrap("gc"));
    }
    ++out.blobs_removed;
    out.bytes_freed += st.st_size;
  }
  BERTH_TRY_CTX(content_->CleanIngest(3600), "gc");
  return out;
}

}  // namespace berth::image
