// berth/image (internal): libarchive plumbing shared by archive load/save, import and
// commit: tar readers (any compression), raw decompressing readers, and a tar writer that
// publishes its file atomically (or streams to stdout).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/oci/image.h"

struct archive;

namespace berth::image::internal {

struct ArchiveReadCloser {
  void operator()(struct archive* a) const;
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadCloser>;

// "-" is stdin (duplicated, so closing it leaves fd 0 alone).
Result<UniqueFd> OpenInput(const std::string& path);
// A tar reader over `fd` (gzip, zstd, xz, bzip2 or uncompressed; detected).
Result<ArchiveReader> OpenTarReader(int fd, std::string_view what);
// A reader that yields `fd`'s bytes decompressed (whatever compression; none passes
// through). Read with ReadRaw until it returns 0.
Result<ArchiveReader> OpenRawReader(int fd, std::string_view what);
Result<size_t> ReadRaw(struct archive* a, void* buf, size_t n, std::string_view what);
// libarchive's message for `a`, prefixed by `what`.
Error ArchiveError(struct archive* a, std::string_view what);

// The compression a stream starts with, from its magic bytes.
oci::Compression SniffCompression(std::string_view head);

// A tar being written to `path` (through a temporary file renamed on Finish) or stdout.
class TarOutput {
 public:
  static Result<TarOutput> Open(const std::string& path);
  TarOutput(TarOutput&&) noexcept;
  TarOutput& operator=(TarOutput&&) noexcept;
  ~TarOutput();  // removes the temporary file unless Finish succeeded

  Status AddDir(const std::string& name);
  Status AddFile(const std::string& name, std::string_view data);
  // A member of exactly `size` bytes produced by `fill` (returns bytes, 0 at end).
  Status AddStream(const std::string& name, int64_t size,
                   const std::function<Result<size_t>(void*, size_t)>& fill);
  Status Finish();

 private:
  TarOutput() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::image::internal
