// berth/image: applying a layer (a tar stream, gzip/zstd/uncompressed) to a directory, in
// overlayfs form: a whiteout `.wh.NAME` becomes a 0:0 character device NAME, an opaque
// marker `.wh..wh..opq` sets trusted.overlay.opaque=y on its directory. Hard links,
// symlinks, xattrs, device nodes, ownership, modes and mtimes are preserved.
//
// Safety: every entry is resolved inside `dest` (openat2 RESOLVE_IN_ROOT | NO_MAGICLINKS
// on the parent directory fd); `..`, absolute paths, symlinks pointing out of the root and
// hard links to anything outside the layer cannot make a write land outside `dest`.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/oci/image.h"

namespace berth::image {

// Reads up to `n` bytes into `buf`; returns bytes read, 0 at end of stream.
using ByteSource = std::function<Result<size_t>(void* buf, size_t n)>;

struct UnpackOptions {
  // Detect gzip/zstd/none from the stream's magic when true; otherwise use `compression`.
  bool detect_compression = true;
  oci::Compression compression = oci::Compression::kNone;
  // Convert whiteouts to overlay form (true) or apply them by deleting (false: used for
  // flattening layers into one directory, e.g. the copy snapshotter and `export`).
  bool overlay_whiteouts = true;
  // `cp - CTR:DIR`: the entries are plain files. A `.wh.` name is an ordinary name (no
  // whiteout), and nothing existing is replaced by an entry of the other kind (directory vs
  // non-directory), so no directory tree is ever deleted.
  bool plain_copy = false;
  // Decompress and hash in a second thread, ahead of the unpack (for large layers: pull,
  // load). The source is then called from that thread.
  bool pipeline = false;
  // Refuse a decompressed stream larger than this (a decompression bomb).
  int64_t max_uncompressed = int64_t{64} << 30;
};

struct UnpackResult {
  std::string diff_id;            // sha256 of the uncompressed tar stream
  std::string compressed_digest;  // sha256 of the bytes read from the source
  int64_t compressed_size = 0;
  int64_t uncompressed_size = 0;
  int64_t entries = 0;
};

// `dest` must exist and be empty (or hold lower layers' content when !overlay_whiteouts).
// Errors name the entry at fault ("layer entry `../etc/passwd`: path escapes the layer root").
// The caller unpacks into a temporary directory and renames it into place on success.
Result<UnpackResult> UnpackLayer(const ByteSource& source, const std::string& dest,
                                 const UnpackOptions& options = {});
Result<UnpackResult> UnpackLayerFile(const std::string& path, const std::string& dest,
                                     const UnpackOptions& options = {});

}  // namespace berth::image
