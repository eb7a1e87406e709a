// berth/build: steps that change a stage's filesystem, and the stage state in content/.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/build/builder_internal.h"
#include "berth/image/digest.h"
#include "berth/image/layer_pack.h"
#include "berth/image/snapshot.h"

namespace berth::build::internal {
namespace {

std::string RandomName() {
  static std::mt19937_64 rng{std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

std::vector<std::string> Lowers(BuildEnv& env, const State& s) {
  std::vector<std::string> out;
  for (const auto& c : s.chains) out.push_back(env.store->LayerDir(c));
  return out;
}

Result<bool> EmptyDir(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(path, O_RDONLY | O_DIRECTORY));
  int dup = ::dup(fd.get());
  if (dup < 0) return ErrnoFail(StrCat("dup ", Quote(path)));
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    ::close(dup);
    return ErrnoFail(StrCat("read ", Quote(path)));
  }
  bool empty = true;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

// Builds write OCI manifests; layers of a docker-format base keep their bytes, under the
// OCI name of the same media type.
std::string OciLayerType(std::string_view t) {
  if (t == oci::media::kDockerLayerGzip) return std::string(oci::media::kOciLayerGzip);
  if (t == oci::media::kDockerLayer) return std::string(oci::media::kOciLayer);
  return std::string(t);
}

}  // namespace

std::optional<std::string> Vars::Get(std::string_view name) const {
  if (config != nullptr) {
    for (auto it = config->config.env.rbegin(); it != config->config.env.rend(); ++it) {
      std::string_view e = *it;
      if (e.size() > name.size() && e.substr(0, name.size()) == name && e[name.size()] == '=')
        return std::string(e.substr(name.size() + 1));
    }
  }
  if (args != nullptr) {
    auto it = args->find(std::string(name));
    if (it != args->end()) return it->second;
  }
  return std::nullopt;
}

std::string NextKey(std::string_view prev, std::string_view what) {
  image::Sha256 h;
  h.Update(prev);
  h.Update("\n", 1);
  h.Update(what);
  return h.Finish();
}

Result<std::string> WriteState(image::ImageStore& store, State& s) {
  s.manifest.schema_version = 2;
  s.manifest.media_type = oci::media::kOciManifest;
  s.manifest.annotations.clear();
  s.manifest.subject.reset();
  for (auto& l : s.manifest.layers) l.media_type = OciLayerType(l.media_type);
  std::string cjson = oci::ToJson(s.config).dump();
  BERTH_ASSIGN_OR_RETURN_CTX(std::string cdigest, store.content().Write(cjson), "store image config");
  s.manifest.config.media_type = oci::media::kOciConfig;
  s.manifest.config.digest = cdigest;
  s.manifest.config.size = static_cast<int64_t>(cjson.size());
  return store.content().Write(oci::ToJson(s.manifest).dump());
}

Result<State> StateOfImage(image::ImageStore& store, const image::ImageRecord& rec) {
  State s;
  BERTH_ASSIGN_OR_RETURN(s.config, store.Config(rec));
  BERTH_ASSIGN_OR_RETURN(s.manifest, store.ManifestOf(rec));
  s.chains = rec.chain_ids;
  return s;
}

Result<std::optional<State>> LoadCached(image::ImageStore& store, const std::string& key) {
  BERTH_ASSIGN_OR_RETURN(auto mdigest, store.CacheLookup(key));
  if (!mdigest) return std::optional<State>();
  State s;
  BERTH_ASSIGN_OR_RETURN(std::string mjson, store.content().Read(*mdigest));
  BERTH_ASSIGN_OR_RETURN(s.manifest, oci::ParseManifest(mjson, StrCat("manifest ", *mdigest)));
  BERTH_ASSIGN_OR_RETURN(std::string cjson, store.content().Read(s.manifest.config.digest));
  BERTH_ASSIGN_OR_RETURN(s.config, oci::ParseImageConfig(cjson));
  std::string chain;
  for (const auto& d : s.config.diff_ids) {
    chain = image::ChainId(chain, d);
    s.chains.push_back(chain);
  }
  if (!s.chains.empty() && !store.HasLayer(s.chains.back())) return std::optional<State>();
  s.key = key;
  return std::optional<State>(std::move(s));
}

Result<State> FilesystemStep(BuildEnv& env, const State& state, State next,
                             const std::function<Status(const std::string&, int)>& fn,
                             bool skip_empty) {
  if (image::DefaultSnapshotKind() != image::SnapshotKind::kOverlay)
    return Fail(ErrorCode::kUnsupported, "berth build needs overlayfs (BERTH_SNAPSHOTTER=copy)");
  std::string dir = StrCat(env.work_dir, "/step-", RandomName());
  BERTH_ASSIGN_OR_RETURN(image::Snapshot snap,
                         image::CreateSnapshot(dir, Lowers(env, state), image::SnapshotKind::kOverlay,
                                               /*ephemeral=*/true));
  bool removed = false;
  Defer cleanup([&] {
    if (!removed) (void)image::RemoveSnapshot(snap);
  });
  {
    BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(snap.rootfs, O_RDONLY | O_DIRECTORY));
    BERTH_TRY(fn(snap.rootfs, root.get()));
  }
  BERTH_TRY(image::UnmountSnapshot(snap));
  BERTH_ASSIGN_OR_RETURN(bool empty, EmptyDir(snap.upper));
  if (!(empty && skip_empty)) {
    BERTH_ASSIGN_OR_RETURN(image::BlobWriter w, env.store->content().NewWriter());
    image::PackOptions popts;
    // Stored uncompressed, as buildah keeps layers: no deflate on the build's critical path;
    // a push compresses (--compression-format).
    popts.compression = oci::Compression::kNone;
    BERTH_ASSIGN_OR_RETURN(
        image::PackResult pack,
        image::PackDiff(snap.upper, [&](const void* d, size_t n) { return w.Write(d, n); }, popts));
    BERTH_ASSIGN_OR_RETURN(std::string digest, w.Commit(pack.digest, pack.size));
    oci::Descriptor layer;
    layer.media_type = oci::media::kOciLayer;
    layer.digest = digest;
    layer.size = pack.size;
    std::string parent = state.chains.empty() ? std::string() : state.chains.back();
    BERTH_ASSIGN_OR_RETURN(std::string chain,
                           env.store->AdoptLayer(parent, layer, pack.diff_id, snap.upper));
    BERTH_TRY(env.store->Hold(env.holder, {chain}));
    next.manifest.layers.push_back(std::move(layer));
    next.config.diff_ids.push_back(pack.diff_id);
    next.chains.push_back(std::move(chain));
  } else if (!next.config.history.empty()) {
    next.config.history.back().empty_layer = true;
  }
  removed = true;
  BERTH_TRY(image::RemoveSnapshot(snap));
  BERTH_ASSIGN_OR_RETURN(std::string mdigest, WriteState(*env.store, next));
  BERTH_TRY_CTX(env.store->CacheStore(next.key, mdigest,
                                      next.chains.empty() ? std::string() : next.chains.back()),
                "record build cache");
  return next;
}

Result<std::unique_ptr<ReadOnlyRoot>> ReadOnlyRoot::Open(BuildEnv& env, const State& state) {
  std::unique_ptr<ReadOnlyRoot> r(new ReadOnlyRoot());
  r->dir_ = StrCat(env.work_dir, "/from-", RandomName());
  BERTH_ASSIGN_OR_RETURN(image::Snapshot snap,
                         image::CreateSnapshot(r->dir_, Lowers(env, state),
                                               image::SnapshotKind::kOverlay, true));
  r->mounted_ = true;
  r->rootfs_ = snap.rootfs;
  BERTH_ASSIGN_OR_RETURN(r->fd_, OpenFile(snap.rootfs, O_RDONLY | O_DIRECTORY));
  return r;
}

ReadOnlyRoot::~ReadOnlyRoot() {
  fd_.Reset();
  if (mounted_) (void)image::RemoveSnapshot(image::SnapshotAt(dir_, image::SnapshotKind::kOverlay, true));
}

}  // namespace berth::build::internal
