// berth/image: turning a directory into a layer tar.
//  - PackDiff: an overlayfs upper directory (0:0 char devices are whiteouts, the
//    trusted.overlay.opaque xattr marks opaque dirs) -> a layer with `.wh.` entries (commit).
//  - PackTree: a plain directory tree -> a tar (export, docker-archive of a flattened tree).
// Output is an uncompressed or gzip tar written to `sink`; the result carries both digests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/oci/image.h"

namespace berth::image {

using ByteSink = std::function<Status(const void* data, size_t n)>;

struct PackResult {
  std::string diff_id;  // sha256 of the uncompressed tar
  std::string digest;   // sha256 of what was written to the sink
  int64_t size = 0;     // bytes written to the sink
  int64_t uncompressed_size = 0;
};

struct PackOptions {
  oci::Compression compression = oci::Compression::kGzip;
  // Entries are sorted by path and mtimes kept, so the same tree gives the same bytes.
};

Result<PackResult> PackDiff(const std::string& upper_dir, const ByteSink& sink,
                            const PackOptions& options = {});
Result<PackResult> PackTree(const std::string& dir, const ByteSink& sink,
                            const PackOptions& options = {});
// One entry of the directory `parent_fd`: a file, or a directory with everything under it,
// named `name` in the tar (`cp CONTAINER:PATH -`). Symlinks are stored, never followed.
Result<PackResult> PackEntry(int parent_fd, const std::string& name, const ByteSink& sink,
                             const PackOptions& options = {});

// Compresses an existing uncompressed layer read from `fd` (from its current offset to the
// end) into `sink`: a push of a layer stored as a plain tar sends it gzip-compressed, as
// docker and podman do. diff_id is the digest of the input.
Result<PackResult> CompressLayer(int fd, const ByteSink& sink, const PackOptions& options = {});

}  // namespace berth::image
