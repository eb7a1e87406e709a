// berth/image: writing docker-archive and oci-archive tars from the store.
//   docker-archive: <config hex>.json, <diff id hex>.tar (uncompressed), manifest.json,
//                   repositories
//   oci-archive:    oci-layout, index.json (one entry per name), blobs/sha256/* as stored
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "berth/base/strings.h"
#include "berth/image/archive.h"
#include "berth/image/archive_internal.h"
#include "berth/image/digest.h"
#include "berth/image/store_internal.h"
#include "berth/oci/reference.h"

namespace berth::image {

namespace {

struct SaveItem {
  ImageRecord image;
  std::vector<std::string> names;  // normalized; the ones the caller asked for
};

Result<std::vector<SaveItem>> ResolveAll(ImageStore& store, const std::vector<std::string>& refs) {
  std::vector<SaveItem> items;
  for (const auto& r : refs) {
    BERTH_ASSIGN_OR_RETURN(ImageRecord rec, store.Resolve(r));
    // Saved by name: that name goes with it. Saved by id: no name, as docker does.
    std::string name;
    if (auto ref = oci::ParseReference(r); ref.has_value() && ref->digest.empty()) {
      if (std::find(rec.names.begin(), rec.names.end(), ref->String()) != rec.names.end())
        name = ref->String();
    }
    auto it = std::find_if(items.begin(), items.end(),
                           [&](const SaveItem& s) { return s.image.id == rec.id; });
    if (it == items.end()) {
      items.push_back(SaveItem{std::move(rec), {}});
      it = items.end() - 1;
    }
    if (!name.empty() && std::find(it->names.begin(), it->names.end(), name) == it->names.end())
      it->names.push_back(name);
  }
  return items;
}

// docker writes docker.io names in their familiar form; others in full.
std::string RepoTag(const std::string& normalized) {
  auto ref = oci::ParseReference(normalized);
  if (!ref.has_value()) return normalized;
  return ref->domain == "docker.io" ? ref->Familiar() : ref->String();
}

std::function<Result<size_t>(void*, size_t)> FdFill(int fd, std::string what) {
  return [fd, what](void* buf, size_t n) -> Result<size_t> {
    while (true) {
      ssize_t got = ::read(fd, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) return ErrnoFail(StrCat("read ", what));
    }
  };
}

// Streams the uncompressed form of layer blob `digest` to `out` as `name`, checking that
// it hashes to `diff_id`.
Status WriteLayerTar(ContentStore& cs, internal::TarOutput& out, const std::string& name,
                     const std::string& digest, const std::string& diff_id) {
  std::string ctx = StrCat("layer ", digest);
  BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd fd, cs.OpenBlob(digest), ctx);
  char head[8] = {};
  ssize_t hn = ::pread(fd.get(), head, sizeof head, 0);
  if (hn < 0) return ErrnoFail(StrCat(ctx, ": read"));
  oci::Compression comp =
      internal::SniffCompression(std::string_view(head, static_cast<size_t>(hn)));
  if (comp == oci::Compression::kNone) {
    BERTH_ASSIGN_OR_RETURN_CTX(int64_t size, cs.Size(digest), ctx);
    if (digest != diff_id)
      return InvalidArgument(StrCat(ctx, ": uncompressed layer does not match diff id ", diff_id));
    return out.AddStream(name, size, FdFill(fd.get(), ctx));
  }
  // The tar header needs the uncompressed size first: one pass to count (and verify),
  // one to write.
  int64_t size = 0;
  {
    Sha256 h;
    BERTH_ASSIGN_OR_RETURN_CTX(auto raw, internal::OpenRawReader(fd.get(), "decompress"), ctx);
    std::string buf(1 << 17, '\0');
    while (true) {
      BERTH_ASSIGN_OR_RETURN_CTX(
          size_t n, internal::ReadRaw(raw.get(), buf.data(), buf.size(), "decompress"), ctx);
      if (n == 0) break;
      h.Update(buf.data(), n);
      size += static_cast<int64_t>(n);
    }
    std::string got = h.Finish();
    if (got != diff_id)
      return InvalidArgument(StrCat(ctx, ": decompresses to ", got, ", not the diff id ", diff_id));
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return ErrnoFail(StrCat(ctx, ": seek"));
  BERTH_ASSIGN_OR_RETURN_CTX(auto raw, internal::OpenRawReader(fd.get(), "decompress"), ctx);
  struct archive* a = raw.get();
  return out.AddStream(
      name, size, [a](void* buf, size_t n) { return internal::ReadRaw(a, buf, n, "decompress"); });
}

Status SaveDocker(ImageStore& store, const std::vector<SaveItem>& items, internal::TarOutput& out) {
  Json manifest = Json::array();
  Json repositories = Json::object();
  std::set<std::string> written;
  for (const auto& item : items) {
    std::string ctx = StrCat("image ", item.image.id);
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Manifest man, store.ManifestOf(item.image), ctx);
    BERTH_ASSIGN_OR_RETURN_CTX(std::string config, store.content().Read(item.image.id), ctx);
    BERTH_ASSIGN_OR_RETURN(oci::ImageConfig cfg, oci::ParseImageConfig(config, ctx));
    if (cfg.diff_ids.size() != man.layers.size())
      return InvalidArgument(StrCat(ctx, ": layer count differs from diff id count"));
    BERTH_ASSIGN_OR_RETURN(std::string chex, DigestHex(item.image.id));
    std::string config_name = chex + ".json";
    if (written.insert(config_name).second) BERTH_TRY(out.AddFile(config_name, config));
    Json layers = Json::array();
    for (size_t i = 0; i < man.layers.size(); ++i) {
      BERTH_ASSIGN_OR_RETURN(std::string lhex, DigestHex(cfg.diff_ids[i]));
      std::string name = lhex + ".tar";
      if (written.insert(name).second)
        BERTH_TRY_CTX(
            WriteLayerTar(store.content(), out, name, man.layers[i].digest, cfg.diff_ids[i]), ctx);
      layers.push_back(name);
    }
    Json tags = Json::array();
    for (const auto& n : item.names) {
      std::string tag = RepoTag(n);
      tags.push_back(tag);
      // repositories (legacy): repository -> tag -> top layer id.
      auto ref = oci::ParseReference(n);
      if (ref.has_value() && !cfg.diff_ids.empty()) {
        std::string repo = tag.substr(0, tag.size() - ref->tag.size() - 1);
        repositories[repo][ref->tag] = *DigestHex(cfg.diff_ids.back());
      }
    }
    Json ent = Json::object();
    ent["Config"] = config_name;
    ent["RepoTags"] = item.names.empty() ? Json(nullptr) : tags;
    ent["Layers"] = layers;
    manifest.push_back(std::move(ent));
  }
  BERTH_TRY(out.AddFile("manifest.json", internal::DumpJson(manifest)));
  if (!repositories.empty())
    BERTH_TRY(out.AddFile("repositories", internal::DumpJson(repositories)));
  return Ok();
}

Status SaveOci(ImageStore& store, const std::vector<SaveItem>& items, internal::TarOutput& out) {
  oci::Index index;
  index.schema_version = 2;
  index.media_type = oci::media::kOciIndex;
  std::vector<std::string> blobs;
  for (const auto& item : items) {
    std::string ctx = StrCat("image ", item.image.id);
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Manifest man, store.ManifestOf(item.image), ctx);
    BERTH_ASSIGN_OR_RETURN_CTX(int64_t msize, store.content().Size(item.image.manifest_digest),
                               ctx);
    oci::Descriptor d;
    d.media_type = man.media_type.empty() ? std::string(oci::media::kOciManifest) : man.media_type;
    d.digest = item.image.manifest_digest;
    d.size = msize;
    if (item.names.empty()) {
      index.manifests.push_back(d);
    } else {
      for (const auto& n : item.names) {
        oci::Descriptor named = d;
        named.annotations["org.opencontainers.image.ref.name"] = n;
        named.annotations["io.containerd.image.name"] = n;
        index.manifests.push_back(std::move(named));
      }
    }
    blobs.push_back(item.image.manifest_digest);
    blobs.push_back(man.config.digest);
    for (const auto& l : man.layers) blobs.push_back(l.digest);
  }
  BERTH_TRY(out.AddFile("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  BERTH_TRY(out.AddFile("index.json", internal::DumpJson(oci::ToJson(index))));
  BERTH_TRY(out.AddDir("blobs"));
  BERTH_TRY(out.AddDir("blobs/sha256"));
  std::set<std::string> written;
  for (const auto& b : blobs) {
    if (!written.insert(b).second) continue;
    BERTH_ASSIGN_OR_RETURN(std::string hex, DigestHex(b));
    std::string ctx = StrCat("blob ", b);
    BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd fd, store.content().OpenBlob(b), ctx);
    BERTH_ASSIGN_OR_RETURN_CTX(int64_t size, store.content().Size(b), ctx);
    BERTH_TRY(out.AddStream(StrCat("blobs/sha256/", hex), size, FdFill(fd.get(), ctx)));
  }
  return Ok();
}

}  // namespace

Status SaveArchive(ImageStore& store, const std::vector<std::string>& refs, ArchiveFormat format,
                   const std::string& path) {
  std::string ctx = StrCat("save ", path == "-" ? std::string("stdout") : Quote(path));
  if (refs.empty()) return InvalidArgument(StrCat(ctx, ": no image given"));
  BERTH_ASSIGN_OR_RETURN_CTX(auto items, ResolveAll(store, refs), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(internal::TarOutput out, internal::TarOutput::Open(path), ctx);
  if (format == ArchiveFormat::kDocker) {
    BERTH_TRY_CTX(SaveDocker(store, items, out), ctx);
  } else {
    BERTH_TRY_CTX(SaveOci(store, items, out), ctx);
  }
  BERTH_TRY_CTX(out.Finish(), ctx);
  return Ok();
}

}  // namespace berth::image
