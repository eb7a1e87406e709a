// berth/image (internal): helpers shared by the image store, GC and archives.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/base/unique_fd.h"
#include "berth/image/image_store.h"

namespace berth::image::internal {

// An flock on ROOT/image.lock. Everything that writes blobs or layers and then records
// them holds it shared for the whole operation; GarbageCollect holds it exclusively, so it
// never deletes what an ongoing load, import or commit has written but not yet recorded.
class StoreLock {
 public:
  static Result<StoreLock> Shared(const std::string& root);
  static Result<StoreLock> Exclusive(const std::string& root);

 private:
  explicit StoreLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

// Now as RFC 3339 UTC with seconds ("2024-05-01T12:00:00Z").
std::string NowRfc3339();
// Serializes without throwing on invalid UTF-8 (replaced), compact.
std::string DumpJson(const Json& j);
// 16 random hex characters for temporary names.
std::string RandomHex();

}  // namespace berth::image::internal

namespace berth::image::internal {

// EnsureLayer and AddImage without taking the store lock (the caller holds it).
Result<std::string> EnsureLayerLocked(ImageStore& store, std::string_view parent_chain,
                                      const oci::Descriptor& layer,
                                      std::string_view expected_diff_id,
                                      const ByteSource* source = nullptr);
Result<bool> IsRecorded(Database& db, const std::string& chain);
Result<ImageRecord> AddImageLocked(ImageStore& store, std::string_view manifest_digest,
                                   const std::vector<std::string>& names);
// The record of image `id` (kNotFound when absent).
Result<ImageRecord> GetImage(ImageStore& store, std::string_view id);

}  // namespace berth::image::internal
