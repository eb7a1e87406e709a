// berth/image: the image store's records: opening, lookup, names and layer holds.
// Layers are in layer_store.cc, AddImage in image_add.cc, GC in image_gc.cc.
#include "berth/image/image_store.h"

#include <algorithm>
#include <utility>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/image/store_internal.h"
#include "berth/oci/reference.h"

namespace berth::image {

namespace {

// The engine adds its own tables to berth.db; these are the image store's.
constexpr std::string_view kSchema = R"(
CREATE TABLE IF NOT EXISTS images (
  id TEXT PRIMARY KEY,
  manifest_digest TEXT NOT NULL,
  created TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  added_unix INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS image_names (
  name TEXT PRIMARY KEY,
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS image_names_by_image ON image_names(image_id);
CREATE TABLE IF NOT EXISTS image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  chain_id TEXT NOT NULL,
  PRIMARY KEY (image_id, idx)
);
CREATE INDEX IF NOT EXISTS image_layers_by_chain ON image_layers(chain_id);
CREATE TABLE IF NOT EXISTS layers (
  chain_id TEXT PRIMARY KEY,
  parent TEXT NOT NULL DEFAULT '',
  diff_id TEXT NOT NULL,
  blob_digest TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS build_cache (
  key TEXT PRIMARY KEY,
  manifest_digest TEXT NOT NULL,
  top_chain TEXT NOT NULL DEFAULT '',
  created_unix INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS layer_holds (
  holder TEXT NOT NULL,
  chain_id TEXT NOT NULL,
  PRIMARY KEY (holder, chain_id)
);
)";

unexpected<Error> NotFound(std::string_view what) {
  return Fail(ErrorCode::kNotFound, StrCat("image ", Quote(what), ": not found"));
}

bool IsHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

ImageStore::ImageStore(ImageStore&&) noexcept = default;
ImageStore& ImageStore::operator=(ImageStore&&) noexcept = default;
ImageStore::~ImageStore() = default;

Result<ImageStore> ImageStore::Open(const std::string& root, std::string_view extra_schema) {
  std::string ctx = StrCat("open image store ", Quote(root));
  ImageStore s;
  s.root_ = root;
  while (s.root_.size() > 1 && s.root_.back() == '/') s.root_.pop_back();
  BERTH_TRY_CTX(MkdirAll(s.root_ + "/layers", 0700), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(ContentStore cs, ContentStore::Open(s.root_ + "/content"), ctx);
  s.content_ = std::make_unique<ContentStore>(std::move(cs));
  BERTH_ASSIGN_OR_RETURN_CTX(Database db, Database::Open(s.root_ + "/berth.db", StrCat(kSchema, extra_schema)), ctx);
  s.db_ = std::make_unique<Database>(std::move(db));
  return s;
}

std::string ChainId(std::string_view parent_chain, std::string_view diff_id) {
  if (parent_chain.empty()) return std::string(diff_id);
  return DigestOf(StrCat(parent_chain, " ", diff_id));
}

std::string ImageStore::LayerDir(std::string_view chain_id) const {
  auto hex = DigestHex(chain_id);
  return StrCat(root_, "/layers/", hex.has_value() ? *hex : std::string("invalid"));
}

std::vector<std::string> ImageStore::LayerDirs(const ImageRecord& image) const {
  std::vector<std::string> out;
  for (const auto& c : image.chain_ids) out.push_back(LayerDir(c));
  return out;
}

// Fills names and chain ids of records whose images rows were read.
static Status FillRecord(Database& db, ImageRecord& r) {
  r.names.clear();
  r.chain_ids.clear();
  BERTH_TRY(db.Query("SELECT name FROM image_names WHERE image_id = ? ORDER BY name", {r.id},
                     [&](const Row& row) {
                       r.names.push_back(row.Text(0));
                       return true;
                     }));
  BERTH_TRY(db.Query("SELECT chain_id FROM image_layers WHERE image_id = ? ORDER BY idx", {r.id},
                     [&](const Row& row) {
                       r.chain_ids.push_back(row.Text(0));
                       return true;
                     }));
  return Ok();
}

static ImageRecord RecordFromRow(const Row& row) {
  ImageRecord r;
  r.id = row.Text(0);
  r.manifest_digest = row.Text(1);
  r.created = row.Text(2);
  r.size = row.Int(3);
  r.added_unix = row.Int(4);
  return r;
}

static constexpr std::string_view kSelectImage =
    "SELECT id, manifest_digest, created, size, added_unix FROM images";

// Images whose id starts with "sha256:<hex>"; at most two (enough to tell ambiguity).
static Result<std::vector<ImageRecord>> ByIdPrefix(Database& db, std::string_view hex) {
  std::vector<ImageRecord> out;
  std::string lo = StrCat("sha256:", hex);
  // A range scan on the primary key: ids in [lo, lo + 0x7f) share the prefix (hex is ASCII).
  BERTH_TRY(db.Query(StrCat(kSelectImage, " WHERE id >= ? AND id < ? ORDER BY id LIMIT 2"),
                     {lo, lo + "\x7f"}, [&](const Row& row) {
                       out.push_back(RecordFromRow(row));
                       return true;
                     }));
  return out;
}

static Result<std::optional<ImageRecord>> ByName(Database& db, const std::string& name) {
  std::optional<ImageRecord> out;
  BERTH_TRY(db.Query(StrCat(kSelectImage,
                            " WHERE id = (SELECT image_id FROM image_names WHERE "
                            "name = ?)"),
                     {name}, [&](const Row& row) {
                       out = RecordFromRow(row);
                       return false;
                     }));
  return out;
}

Result<ImageRecord> internal::GetImage(ImageStore& store, std::string_view id) {
  std::optional<ImageRecord> rec;
  BERTH_TRY(store.db().Query(StrCat(kSelectImage, " WHERE id = ?"), {std::string(id)},
                             [&](const Row& row) {
                               rec = RecordFromRow(row);
                               return false;
                             }));
  if (!rec) return NotFound(id);
  BERTH_TRY(FillRecord(store.db(), *rec));
  return std::move(*rec);
}

Result<ImageRecord> ImageStore::Resolve(std::string_view name_or_id) {
  std::string_view text = Trim(name_or_id);
  if (text.empty()) return InvalidArgument("image: empty name");
  // Ids first, as docker does: "sha256:<prefix>" is only an id; bare hex may be either.
  std::string_view hex = text;
  bool id_only = false;
  if (hex.starts_with("sha256:")) {
    hex.remove_prefix(7);
    id_only = true;
  }
  if ((id_only || oci::LooksLikeIdPrefix(text)) && hex.size() >= 3 && hex.size() <= 64 &&
      IsHex(hex)) {
    BERTH_ASSIGN_OR_RETURN(auto found, ByIdPrefix(*db_, hex));
    if (found.size() > 1)
      return InvalidArgument(
          StrCat("image ", Quote(text), ": ambiguous id prefix (matches several images)"));
    if (found.size() == 1) {
      BERTH_TRY(FillRecord(*db_, found[0]));
      return std::move(found[0]);
    }
  }
  if (id_only) return NotFound(text);
  auto ref = oci::ParseReference(text);
  // A full-length hex id is no valid name: it was an id that is not here.
  if (!ref.has_value() && oci::LooksLikeIdPrefix(text)) return NotFound(text);
  if (!ref.has_value())
    return Unexpected(std::move(ref).error().Wrap(StrCat("image ", Quote(text))));
  BERTH_ASSIGN_OR_RETURN(auto rec, ByName(*db_, ref->String()));
  if (!rec && !ref->digest.empty()) {
    // name@digest: the image with that manifest, known under that repository.
    std::string repo = ref->Name();
    std::optional<ImageRecord> hit;
    BERTH_TRY(db_->Query(StrCat(kSelectImage, " WHERE manifest_digest = ?"), {ref->digest},
                         [&](const Row& row) {
                           hit = RecordFromRow(row);
                           return false;
                         }));
    if (hit) {
      BERTH_TRY(FillRecord(*db_, *hit));
      bool same_repo = std::any_of(hit->names.begin(), hit->names.end(), [&](const auto& n) {
        auto r = oci::ParseReference(n);
        return r.has_value() && r->Name() == repo;
      });
      if (same_repo || hit->names.empty()) return std::move(*hit);
    }
  }
  if (!rec) return NotFound(text);
  BERTH_TRY(FillRecord(*db_, *rec));
  return std::move(*rec);
}

Result<std::vector<ImageRecord>> ImageStore::List() {
  std::vector<ImageRecord> out;
  BERTH_TRY(
      db_->Query(StrCat(kSelectImage, " ORDER BY added_unix DESC, id"), {}, [&](const Row& row) {
        out.push_back(RecordFromRow(row));
        return true;
      }));
  for (auto& r : out) BERTH_TRY(FillRecord(*db_, r));
  return out;
}

Result<oci::ImageConfig> ImageStore::Config(const ImageRecord& image) {
  std::string what = StrCat("image config ", image.id);
  BERTH_ASSIGN_OR_RETURN_CTX(std::string data, content_->Read(image.id), what);
  return oci::ParseImageConfig(data, what);
}

Result<oci::Manifest> ImageStore::ManifestOf(const ImageRecord& image) {
  std::string what = StrCat("manifest ", image.manifest_digest);
  BERTH_ASSIGN_OR_RETURN_CTX(std::string data, content_->Read(image.manifest_digest), what);
  return oci::ParseManifest(data, what);
}

Status ImageStore::Tag(const ImageRecord& image, std::string_view name) {
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference ref, oci::ParseReference(name),
                             StrCat("tag ", image.id));
  if (!ref.digest.empty())
    return InvalidArgument(StrCat("tag ", Quote(name), ": a tag cannot contain a digest"));
  return db_->Transaction([&]() -> Status {
    bool exists = false;
    BERTH_TRY(db_->Query("SELECT 1 FROM images WHERE id = ?", {image.id}, [&](const Row&) {
      exists = true;
      return false;
    }));
    if (!exists) return NotFound(image.id);
    return db_->Exec("INSERT OR REPLACE INTO image_names (name, image_id) VALUES (?, ?)",
                     {ref.String(), image.id});
  });
}

Result<bool> ImageStore::Untag(std::string_view name) {
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference ref, oci::ParseReference(name),
                             StrCat("untag ", Quote(name)));
  bool last = false;
  BERTH_TRY(db_->Transaction([&]() -> Status {
    std::string image_id;
    BERTH_TRY(db_->Query("SELECT image_id FROM image_names WHERE name = ?", {ref.String()},
                         [&](const Row& r) {
                           image_id = r.Text(0);
                           return false;
                         }));
    if (image_id.empty()) return NotFound(name);
    BERTH_TRY(db_->Exec("DELETE FROM image_names WHERE name = ?", {ref.String()}));
    int64_t left = 0;
    BERTH_TRY(db_->Query("SELECT count(*) FROM image_names WHERE image_id = ?", {image_id},
                         [&](const Row& r) {
                           left = r.Int(0);
                           return false;
                         }));
    last = left == 0;
    return Ok();
  }));
  return last;
}

Status ImageStore::RemoveImage(const ImageRecord& image) {
  BERTH_TRY_CTX(db_->Exec("DELETE FROM images WHERE id = ?", {image.id}),
                StrCat("remove image ", image.id));
  if (db_->Changes() == 0) return NotFound(image.id);
  return Ok();
}

Status ImageStore::Hold(std::string_view holder, const std::vector<std::string>& chain_ids) {
  return db_->Transaction([&]() -> Status {
    for (const auto& c : chain_ids)
      BERTH_TRY(db_->Exec("INSERT OR IGNORE INTO layer_holds (holder, chain_id) VALUES (?, ?)",
                          {std::string(holder), c}));
    return Ok();
  });
}

Status ImageStore::Release(std::string_view holder) {
  return db_->Exec("DELETE FROM layer_holds WHERE holder = ?", {std::string(holder)});
}

bool ImageStore::IsHeld(const ImageRecord& image) {
  if (image.chain_ids.empty()) return false;
  bool held = false;
  auto st = db_->Query("SELECT 1 FROM layer_holds WHERE chain_id = ? LIMIT 1",
                       {image.chain_ids.back()}, [&](const Row&) {
                         held = true;
                         return false;
                       });
  // On a database error, say "held": the caller then keeps the image, the safe side.
  return held || !st.has_value();
}

}  // namespace berth::image
