// berth/registry: what `berth registry serve` keeps under --root.
//
//   ROOT/content/                          a berth::image::ContentStore: every blob and
//                                          manifest, verified, fsynced, renamed into place
//   ROOT/repositories/<name>/_blobs/<hex>  empty: the blob was pushed to (or mounted in) <name>
//   ROOT/repositories/<name>/_manifests/<hex>   {"mediaType":..., "subject":...}
//   ROOT/repositories/<name>/_tags/<tag>        the digest the tag points at
//   ROOT/repositories/<name>/_referrers/<subject hex>/<hex>   the referrer's descriptor
//
// Components of a valid repository name never start with '_', so these directories cannot
// collide with a nested repository. Every small file is written atomically (temp, fsync,
// rename), so a crash leaves the old or the new state.
//
// An upload in progress is a BlobWriter: its partial file sits in the content store's ingest
// directory and is hashed as it grows, so the final PUT does not read the layer again. The
// session itself lives in memory: a restart forgets it, and the partial file it leaves is
// removed by the age-based ingest cleanup at start.
#pragma once

#include <array>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/image/content_store.h"

namespace berth::registry {

struct Upload {
  std::string id;
  std::string repo;
  std::mutex mu;  // one request at a time writes to a session
  image::BlobWriter writer;
  time_t touched = 0;  // guarded by the storage's session lock
  explicit Upload(image::BlobWriter w) : writer(std::move(w)) {}
};

// What PutManifest records besides the bytes.
struct ManifestMeta {
  std::string media_type;
  std::string subject;  // digest of the manifest this one refers to, or ""
  Json descriptor;      // its entry in the subject's referrers index (when subject is set)
};

class RegistryStorage {
 public:
  // Creates the layout when missing and removes upload leftovers older than
  // `stale_upload_age_s`.
  static Result<std::unique_ptr<RegistryStorage>> Open(const std::string& root,
                                                       int stale_upload_age_s = 24 * 3600);

  image::ContentStore& content() { return content_; }
  const std::string& root() const { return root_; }

  // ---- blobs of a repository (names and digests must be valid)
  bool HasBlob(const std::string& repo, std::string_view digest) const;
  Status LinkBlob(const std::string& repo, std::string_view digest);
  Status UnlinkBlob(const std::string& repo, std::string_view digest);  // kNotFound

  // ---- manifests
  bool HasManifest(const std::string& repo, std::string_view digest) const;
  // A tag or digest to the digest of a manifest of `repo`; kNotFound otherwise.
  Result<std::string> Resolve(const std::string& repo, std::string_view reference) const;
  Result<ManifestMeta> ManifestInfo(const std::string& repo, std::string_view digest) const;
  // Stores `body` (whose digest the caller computed as `digest`) and tags it when `tag`
  // is not empty.
  Status PutManifest(const std::string& repo, std::string_view tag, std::string_view digest,
                     std::string_view body, const ManifestMeta& meta);
  // A tag: untags. A digest: removes the manifest from the repository with the tags that
  // point at it and its referrers entry. kNotFound when absent.
  Status DeleteManifest(const std::string& repo, std::string_view reference);
  // Descriptors of the manifests of `repo` whose subject is `digest`, by digest.
  Result<std::vector<Json>> Referrers(const std::string& repo, std::string_view digest) const;

  // ---- listings, sorted; kNotFound for a repository that does not exist
  Result<std::vector<std::string>> Tags(const std::string& repo) const;
  Result<std::vector<std::string>> Repositories() const;
  bool RepositoryExists(const std::string& repo) const;

  // ---- uploads
  // A new session for `repo`; fails with kUnsupported past kMaxUploads live sessions.
  Result<std::shared_ptr<Upload>> StartUpload(const std::string& repo);
  // The session `id` of `repo`, or nullptr.
  std::shared_ptr<Upload> FindUpload(const std::string& repo, std::string_view id);
  void EndUpload(std::string_view id);  // the writer's partial file goes with the last user
  // Verifies `digest` and makes the blob part of the session's repository. On any failure
  // nothing is stored; the session should be ended either way.
  Result<std::string> CommitUpload(Upload& u, std::string_view digest);

  // Each live session holds an open file: bounded well under the usual 1024-fd limit.
  static constexpr size_t kMaxUploads = 256;
  static constexpr int kUploadIdleSeconds = 3600;

 private:
  RegistryStorage(std::string root, image::ContentStore content)
      : root_(std::move(root)), content_(std::move(content)) {}
  std::string RepoDir(const std::string& repo) const;
  Status RemoveReferrer(const std::string& repo, const std::string& subject,
                        std::string_view digest);
  // AtomicWriteFile names its temp file after the path and the pid, so two threads writing
  // one path (two clients pushing the same blob or tag) must take turns.
  Status WriteSmallFile(const std::string& path, std::string_view data);

  std::string root_;
  image::ContentStore content_;
  std::array<std::mutex, 64> file_locks_;
  std::mutex uploads_mu_;
  std::map<std::string, std::shared_ptr<Upload>, std::less<>> uploads_;
};

}  // namespace berth::registry
