// berth/image: the content-addressed blob store, laid out as an OCI image layout:
//   ROOT/oci-layout, ROOT/blobs/sha256/<hex>, ROOT/ingest/<random> (partial writes)
// Every write is verified against its digest, fsynced and renamed into place, so a blob
// is either whole or absent; concurrent writers of the same blob are safe (rename is
// atomic and both produce the same bytes).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"

namespace berth::image {

class ContentStore;

// A blob being written. Commit() verifies the digest (and size when known) and makes it
// visible; destroying an uncommitted writer removes its partial file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();
  Status Write(const void* data, size_t n);
  Status Write(std::string_view s) { return Write(s.data(), s.size()); }
  int64_t written() const;
  // `expected_digest` empty: accept whatever was written. Returns the digest.
  Result<std::string> Commit(std::string_view expected_digest = {}, int64_t expected_size = -1);

 private:
  friend class ContentStore;
  struct Impl;
  explicit BlobWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A blob fetched in pieces: ROOT/ingest/<hex>.partial outlives the process that wrote it, so
// an interrupted download resumes where it stopped. The file is locked (flock) while open:
// a second downloader of the same blob waits for the first. The caller hashes the bytes
// (it reads them all back anyway, to unpack them) and passes the digest it computed.
class PartialBlob {
 public:
  PartialBlob(PartialBlob&&) noexcept;
  PartialBlob& operator=(PartialBlob&&) noexcept;
  ~PartialBlob();
  int fd() const;
  int64_t size() const;  // bytes already present
  const std::string& path() const;
  Status Append(const void* data, size_t n);
  Status Truncate();  // start over (the server ignored a range request)
  // Publishes the blob if `computed_digest` is the one it was opened for; otherwise the
  // partial file is removed (its bytes are wrong) and an error names both digests.
  Status Commit(std::string_view computed_digest);
  void Discard();  // removes the partial file

 private:
  friend class ContentStore;
  struct Impl;
  explicit PartialBlob(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class ContentStore {
 public:
  // Creates the layout when missing.
  static Result<ContentStore> Open(std::string root);

  const std::string& root() const { return root_; }
  std::string BlobPath(std::string_view digest) const;  // digest must be valid
  bool Has(std::string_view digest) const;
  Result<int64_t> Size(std::string_view digest) const;
  // Reads a whole blob (refusing blobs larger than max_size) and re-verifies its digest.
  Result<std::string> Read(std::string_view digest, int64_t max_size = 64 << 20) const;
  Result<UniqueFd> OpenBlob(std::string_view digest) const;
  // Writes `data`; returns its digest. With `expected_digest`, a mismatch is an error and
  // nothing is stored.
  Result<std::string> Write(std::string_view data, std::string_view expected_digest = {});
  Result<BlobWriter> NewWriter();
  // The partial download of `digest` (created empty when there is none).
  Result<PartialBlob> OpenPartial(std::string_view digest);
  Status Delete(std::string_view digest);
  Result<std::vector<std::string>> List() const;  // digests
  // Removes ingest files older than `max_age_s` (left by killed writers).
  Status CleanIngest(int max_age_s = 3600);

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
};

}  // namespace berth::image
