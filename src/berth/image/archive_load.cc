// berth/image: loading docker-archive and oci-archive tars. The archive is read once as a
// stream: every member goes to the content store by digest (small ones are kept in memory
// until needed), so no member path ever becomes a file path. Then each image's manifest is
// built (docker-archive) or found (oci-archive) and the image added.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <map>
#include <optional>

#include "berth/base/strings.h"
#include "berth/image/archive.h"
#include "berth/image/archive_internal.h"
#include "berth/image/digest.h"
#include "berth/image/store_internal.h"
#include "berth/oci/reference.h"

namespace berth::image {

namespace {

constexpr int64_t kMetadataLimit = 16 << 20;  // manifest.json, index.json, ...
constexpr int64_t kSmallMember = 1 << 20;     // kept in memory up to this size
constexpr int64_t kSmallTotal = 256 << 20;    // ... and this much in all
constexpr int kMaxLinkHops = 16;

struct Member {
  bool in_memory = false;
  std::string data;    // in_memory: the content
  std::string digest;  // set once stored (always for streamed members)
  int64_t size = 0;
  std::string head;  // the first bytes, for compression sniffing
};

struct Contents {
  std::map<std::string, Member> files;
  std::map<std::string, std::string> links;  // member -> the member it points to
};

// "./a//b/" -> "a/b". ".." that would climb above the root stays as a leading "../", which
// no manifest reference can name (references are cleaned the same way and refused when
// they escape).
std::string CleanPath(std::string_view p) {
  std::vector<std::string> parts;
  int ups = 0;
  for (auto& c : Split(p, '/')) {
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (parts.empty()) {
        ++ups;
      } else {
        parts.pop_back();
      }
      continue;
    }
    parts.push_back(std::move(c));
  }
  std::string out;
  for (int i = 0; i < ups; ++i) out += "../";
  return out + Join(parts, "/");
}

bool IsMetadata(const std::string& path) {
  return path == "manifest.json" || path == "index.json" || path == "oci-layout" ||
         path == "repositories";
}

// "blobs/sha256/<hex>" -> "sha256:<hex>", else empty.
std::string DigestFromBlobPath(const std::string& path) {
  if (!path.starts_with("blobs/sha256/")) return {};
  std::string d = StrCat("sha256:", path.substr(13));
  return DigestHex(d).has_value() ? d : std::string();
}

Result<Contents> ReadContents(ContentStore& cs, struct archive* a) {
  Contents c;
  int64_t small_total = 0;
  std::string buf(1 << 17, '\0');
  struct archive_entry* e = nullptr;
  int rc;
  while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    const char* pn = archive_entry_pathname(e);
    if (pn == nullptr) return InvalidArgument("member without a name");
    std::string path = CleanPath(pn);
    std::string what = StrCat("member ", Quote(pn));
    if (const char* hl = archive_entry_hardlink(e)) {
      c.links[path] = CleanPath(hl);
      continue;
    }
    mode_t type = archive_entry_filetype(e);
    if (type == AE_IFLNK) {
      // Older docker saves link duplicate layers to the first copy.
      const char* target = archive_entry_symlink(e);
      if (target == nullptr) continue;
      std::string t = target;
      std::string dir = path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/'));
      c.links[path] = t.starts_with("/") ? CleanPath(t) : CleanPath(StrCat(dir, "/", t));
      continue;
    }
    if (type != AE_IFREG) continue;
    int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
    if (size < 0) return InvalidArgument(StrCat(what, ": no size"));
    c.links.erase(path);
    Member m;
    m.size = size;
    bool meta = IsMetadata(path);
    if (meta && size > kMetadataLimit)
      return InvalidArgument(StrCat(what, ": ", size, " bytes is too large for metadata"));
    std::optional<BlobWriter> writer;
    if (meta || (size <= kSmallMember && small_total + size <= kSmallTotal)) {
      m.in_memory = true;
      small_total += size;
      m.data.reserve(static_cast<size_t>(size));
    } else {
      BERTH_ASSIGN_OR_RETURN_CTX(writer, cs.NewWriter(), what);
    }
    int64_t got = 0;
    while (true) {
      la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
      if (n < 0) return Unexpected(internal::ArchiveError(a, what));
      if (n == 0) break;
      got += n;
      if (got > size) return InvalidArgument(StrCat(what, ": longer than its header says"));
      std::string_view chunk(buf.data(), static_cast<size_t>(n));
      if (m.head.size() < 8) m.head += chunk.substr(0, 8 - m.head.size());
      if (m.in_memory) {
        m.data.append(chunk);
      } else {
        BERTH_TRY_CTX(writer->Write(chunk), what);
      }
    }
    if (got != size) return InvalidArgument(StrCat(what, ": truncated"));
    if (writer) {
      BERTH_ASSIGN_OR_RETURN_CTX(m.digest, writer->Commit(DigestFromBlobPath(path), size), what);
    }
    c.files[path] = std::move(m);
  }
  if (rc != ARCHIVE_EOF) return Unexpected(internal::ArchiveError(a, "read"));
  return c;
}

// The member at `path`, following links.
Member* Find(Contents& c, std::string path) {
  for (int i = 0; i < kMaxLinkHops; ++i) {
    auto f = c.files.find(path);
    if (f != c.files.end()) return &f->second;
    auto l = c.links.find(path);
    if (l == c.links.end()) return nullptr;
    path = l->second;
  }
  return nullptr;
}

// Stores an in-memory member (verifying `expected` when given); returns its digest.
Result<std::string> Store(ContentStore& cs, Member& m, std::string_view expected = {}) {
  if (m.digest.empty()) {
    BERTH_ASSIGN_OR_RETURN(m.digest, cs.Write(m.data, expected));
  } else if (!expected.empty() && m.digest != expected) {
    return InvalidArgument(StrCat("digest mismatch: got ", m.digest, ", expected ", expected));
  }
  return m.digest;
}

Result<std::string> MemberText(ContentStore& cs, Member& m, int64_t limit) {
  if (m.in_memory) return m.data;
  return cs.Read(m.digest, limit);
}

struct Pending {
  std::string manifest_digest;
  std::vector<std::string> names;
};

Result<std::vector<std::string>> StringArray(const Json& j, std::string_view what) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidArgument(StrCat(what, ": expected an array of strings"));
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) return InvalidArgument(StrCat(what, "[", i, "]: expected a string"));
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

Result<std::vector<Pending>> DockerImages(ContentStore& cs, Contents& c) {
  const std::string ctx = "docker-archive: manifest.json";
  BERTH_ASSIGN_OR_RETURN_CTX(std::string mtext,
                             MemberText(cs, *Find(c, "manifest.json"), kMetadataLimit), ctx);
  BERTH_ASSIGN_OR_RETURN(Json doc, ParseJson(mtext, ctx));
  if (!doc.is_array()) return InvalidArgument(StrCat(ctx, ": expected an array"));
  std::vector<Pending> out;
  for (size_t i = 0; i < doc.size(); ++i) {
    const Json& ent = doc[i];
    std::string ectx = StrCat(ctx, ": [", i, "]");
    if (!ent.is_object()) return InvalidArgument(StrCat(ectx, ": expected an object"));
    auto cfg_it = ent.find("Config");
    if (cfg_it == ent.end() || !cfg_it->is_string())
      return InvalidArgument(StrCat(ectx, ": Config: expected a string"));
    const Json kNull;
    auto tags_it = ent.find("RepoTags");
    BERTH_ASSIGN_OR_RETURN(auto tags, StringArray(tags_it == ent.end() ? kNull : *tags_it,
                                                  StrCat(ectx, ": RepoTags")));
    auto layers_it = ent.find("Layers");
    if (layers_it == ent.end() || !layers_it->is_array())
      return InvalidArgument(StrCat(ectx, ": Layers: expected an array of strings"));
    BERTH_ASSIGN_OR_RETURN(auto layer_paths, StringArray(*layers_it, StrCat(ectx, ": Layers")));

    auto member = [&](const std::string& raw, const std::string& field) -> Result<Member*> {
      std::string p = CleanPath(raw);
      if (p.empty() || p.starts_with("../"))
        return InvalidArgument(
            StrCat(ectx, ": ", field, ": ", Quote(raw), " points outside the archive"));
      Member* m = Find(c, p);
      if (!m)
        return Fail(ErrorCode::kNotFound,
                    StrCat(ectx, ": ", field, ": ", Quote(raw), " is not in the archive"));
      return m;
    };
    std::string config_path = cfg_it->get<std::string>();
    BERTH_ASSIGN_OR_RETURN(Member * cm, member(config_path, "Config"));
    std::string cctx = StrCat(ectx, ": Config: ", Quote(config_path));
    BERTH_ASSIGN_OR_RETURN_CTX(std::string ctext, MemberText(cs, *cm, kMetadataLimit), cctx);
    BERTH_ASSIGN_OR_RETURN(oci::ImageConfig config, oci::ParseImageConfig(ctext, cctx));
    if (config.diff_ids.size() != layer_paths.size())
      return InvalidArgument(StrCat(ectx, ": ", layer_paths.size(), " Layers but the config has ",
                                    config.diff_ids.size(), " diff ids"));
    oci::Manifest man;
    BERTH_ASSIGN_OR_RETURN_CTX(man.config.digest,
                               Store(cs, *cm, DigestFromBlobPath(CleanPath(config_path))), cctx);
    man.config.size = cm->size;
    bool any_zstd = false;
    std::vector<oci::Compression> comps;
    for (size_t l = 0; l < layer_paths.size(); ++l) {
      std::string field = StrCat("Layers[", l, "]");
      BERTH_ASSIGN_OR_RETURN(Member * lm, member(layer_paths[l], field));
      std::string lctx = StrCat(ectx, ": ", field, ": ", Quote(layer_paths[l]));
      oci::Compression comp = internal::SniffCompression(lm->head);
      BERTH_ASSIGN_OR_RETURN_CTX(
          std::string d, Store(cs, *lm, DigestFromBlobPath(CleanPath(layer_paths[l]))), lctx);
      if (comp == oci::Compression::kNone && d != config.diff_ids[l])
        return InvalidArgument(StrCat(lctx, ": content digest ", d,
                                      " does not match the config's diff id ", config.diff_ids[l]));
      any_zstd |= comp == oci::Compression::kZstd;
      comps.push_back(comp);
      oci::Descriptor desc;
      desc.digest = d;
      desc.size = lm->size;
      man.layers.push_back(std::move(desc));
    }
    // docker schema 2 has no zstd layer type: such an image gets an OCI manifest.
    man.media_type = any_zstd ? oci::media::kOciManifest : oci::media::kDockerManifest;
    man.config.media_type = any_zstd ? oci::media::kOciConfig : oci::media::kDockerConfig;
    for (size_t l = 0; l < man.layers.size(); ++l) {
      switch (comps[l]) {
        case oci::Compression::kNone:
          man.layers[l].media_type = any_zstd ? oci::media::kOciLayer : oci::media::kDockerLayer;
          break;
        case oci::Compression::kGzip:
          man.layers[l].media_type =
              any_zstd ? oci::media::kOciLayerGzip : oci::media::kDockerLayerGzip;
          break;
        case oci::Compression::kZstd:
          man.layers[l].media_type = oci::media::kOciLayerZstd;
          break;
      }
    }
    Pending p;
    BERTH_ASSIGN_OR_RETURN_CTX(p.manifest_digest, cs.Write(internal::DumpJson(oci::ToJson(man))),
                               StrCat(ectx, ": store manifest"));
    for (size_t t = 0; t < tags.size(); ++t) {
      BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference ref, oci::ParseReference(tags[t]),
                                 StrCat(ectx, ": RepoTags[", t, "]"));
      p.names.push_back(ref.String());
    }
    out.push_back(std::move(p));
  }
  return out;
}

// The name an oci-archive index entry carries, if it is a full reference.
Result<std::optional<std::string>> OciName(const oci::Descriptor& d, std::string_view what) {
  std::string name;
  if (auto it = d.annotations.find("io.containerd.image.name"); it != d.annotations.end()) {
    name = it->second;
  } else if (auto r = d.annotations.find("org.opencontainers.image.ref.name");
             r != d.annotations.end()) {
    // A bare tag ("latest") names no repository: such an image stays unnamed.
    if (r->second.find_first_of("/:") != std::string::npos) name = r->second;
  }
  if (name.empty()) return std::nullopt;
  BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference ref, oci::ParseReference(name), what);
  return ref.String();
}

Result<std::vector<Pending>> OciImages(ContentStore& cs, Contents& c) {
  Member* layout = Find(c, "oci-layout");
  if (!layout) return InvalidArgument("oci-archive: oci-layout is missing");
  BERTH_ASSIGN_OR_RETURN_CTX(std::string ltext, MemberText(cs, *layout, kMetadataLimit),
                             "oci-archive: oci-layout");
  BERTH_ASSIGN_OR_RETURN(Json lj, ParseJson(ltext, "oci-archive: oci-layout"));
  if (!lj.is_object() || !lj.contains("imageLayoutVersion") ||
      !lj["imageLayoutVersion"].is_string())
    return InvalidArgument("oci-archive: oci-layout: imageLayoutVersion: expected a string");
  BERTH_ASSIGN_OR_RETURN_CTX(std::string itext,
                             MemberText(cs, *Find(c, "index.json"), kMetadataLimit),
                             "oci-archive: index.json");
  BERTH_ASSIGN_OR_RETURN(oci::Index index, oci::ParseIndex(itext, "oci-archive: index.json"));
  // Blobs kept in memory go to the store now, verified against their names.
  for (auto& [path, m] : c.files) {
    std::string d = DigestFromBlobPath(path);
    if (d.empty() || !m.in_memory) continue;
    BERTH_TRY_CTX(Store(cs, m, d), StrCat("oci-archive: ", Quote(path)));
  }
  auto need = [&](std::string_view digest, const std::string& what) -> Status {
    if (cs.Has(digest)) return Ok();
    return Fail(ErrorCode::kNotFound, StrCat(what, ": blob ", digest, " is not in the archive"));
  };
  std::vector<Pending> out;
  for (size_t i = 0; i < index.manifests.size(); ++i) {
    const oci::Descriptor& d = index.manifests[i];
    std::string ctx = StrCat("oci-archive: index.json: manifests[", i, "]");
    BERTH_TRY(need(d.digest, ctx));
    std::string mdigest = d.digest;
    if (oci::IsIndexMediaType(d.media_type)) {
      BERTH_ASSIGN_OR_RETURN_CTX(std::string text, cs.Read(d.digest, kMetadataLimit), ctx);
      BERTH_ASSIGN_OR_RETURN(oci::Index nested, oci::ParseIndex(text, StrCat(ctx, ": index")));
      BERTH_ASSIGN_OR_RETURN_CTX(oci::Descriptor pick,
                                 oci::SelectPlatform(nested, oci::HostPlatform()), ctx);
      BERTH_TRY(need(pick.digest, ctx));
      mdigest = pick.digest;
    }
    std::string mctx = StrCat(ctx, ": manifest ", mdigest);
    BERTH_ASSIGN_OR_RETURN_CTX(std::string mtext, cs.Read(mdigest, kMetadataLimit), ctx);
    BERTH_ASSIGN_OR_RETURN(oci::Manifest man, oci::ParseManifest(mtext, mctx));
    BERTH_TRY(need(man.config.digest, StrCat(mctx, ": config")));
    for (size_t l = 0; l < man.layers.size(); ++l)
      BERTH_TRY(need(man.layers[l].digest, StrCat(mctx, ": layers[", l, "]")));
    BERTH_ASSIGN_OR_RETURN(auto name, OciName(d, ctx));
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Pending& p) { return p.manifest_digest == mdigest; });
    if (same == out.end()) {
      out.push_back(Pending{mdigest, {}});
      same = out.end() - 1;
    }
    if (name) same->names.push_back(*name);
  }
  return out;
}

}  // namespace

Result<std::vector<LoadedImage>> LoadArchive(ImageStore& store, const std::string& path) {
  std::string ctx = StrCat("load ", path == "-" ? std::string("stdin") : Quote(path));
  BERTH_ASSIGN_OR_RETURN_CTX(auto lock, internal::StoreLock::Shared(store.root()), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd fd, internal::OpenInput(path), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(internal::ArchiveReader a, internal::OpenTarReader(fd.get(), "read"),
                             ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(Contents c, ReadContents(store.content(), a.get()), ctx);
  std::vector<Pending> pending;
  if (Find(c, "manifest.json")) {
    BERTH_ASSIGN_OR_RETURN_CTX(pending, DockerImages(store.content(), c), ctx);
  } else if (Find(c, "index.json")) {
    BERTH_ASSIGN_OR_RETURN_CTX(pending, OciImages(store.content(), c), ctx);
  } else {
    return InvalidArgument(
        StrCat(ctx, ": not an image archive (neither manifest.json nor index.json)"));
  }
  std::vector<LoadedImage> out;
  for (const auto& p : pending) {
    BERTH_ASSIGN_OR_RETURN_CTX(ImageRecord rec,
                               internal::AddImageLocked(store, p.manifest_digest, p.names), ctx);
    out.push_back(LoadedImage{std::move(rec), p.names});
  }
  return out;
}

}  // namespace berth::image
