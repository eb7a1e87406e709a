// berth/image (internal): the streaming side of layer unpack. LayerReader pulls bytes from a
// ByteSource, hashes them (the compressed digest), decompresses gzip (multi-member) or zstd
// (multi-frame) or passes them through, and hashes the output (the diff_id), in one pass.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/image/layer_unpack.h"

namespace berth::image::internal {

class LayerReader {
 public:
  LayerReader(const ByteSource& source, const UnpackOptions& options);
  ~LayerReader();
  LayerReader(const LayerReader&) = delete;
  LayerReader& operator=(const LayerReader&) = delete;

  // Fills the internal buffer with the next decompressed bytes; *data points at them.
  // Returns 0 at the end of the stream.
  Result<size_t> Next(const void** data);
  // Reads and hashes whatever is left (tar padding, trailing zero blocks).
  Status Drain();

  // Valid after Next() returned 0 or Drain() succeeded.
  std::string DiffId();
  std::string CompressedDigest();
  int64_t compressed_size() const;
  int64_t uncompressed_size() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::image::internal
