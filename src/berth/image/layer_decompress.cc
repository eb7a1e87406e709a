#include "berth/image/layer_decompress.h"

#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <vector>

#include "berth/base/strings.h"
#include "berth/image/digest.h"

namespace berth::image::internal {

namespace {
constexpr size_t kInSize = size_t{128} << 10;
constexpr size_t kOutSize = size_t{256} << 10;
}  // namespace

struct LayerReader::Impl {
  const ByteSource& source;
  UnpackOptions options;
  oci::Compression mode = oci::Compression::kNone;
  bool detected = false;

  std::vector<unsigned char> in = std::vector<unsigned char>(kInSize);
  size_t in_pos = 0, in_len = 0;
  bool source_eof = false;
  std::vector<unsigned char> out;

  Sha256 compressed_hash, uncompressed_hash;
  int64_t compressed = 0, uncompressed = 0;

  z_stream zs{};
  bool zs_init = false;
  bool member_done = false;  // gzip: the current member ended; another may follow
  ZSTD_DStream* zd = nullptr;
  bool frame_done = true;  // zstd: no frame half-read

  Impl(const ByteSource& s, const UnpackOptions& o) : source(s), options(o) {}
  ~Impl() {
    if (zs_init) inflateEnd(&zs);
    if (zd) ZSTD_freeDStream(zd);
  }

  size_t available() const { return in_len - in_pos; }

  // Reads more compressed bytes, keeping the unread ones; false at the end of the source.
  Result<bool> Fill() {
    if (source_eof) return false;
    if (in_pos > 0) {
      std::memmove(in.data(), in.data() + in_pos, available());
      in_len -= in_pos;
      in_pos = 0;
    }
    if (in_len == in.size()) return true;
    BERTH_ASSIGN_OR_RETURN(size_t n, source(in.data() + in_len, in.size() - in_len));
    if (n == 0) {
      source_eof = true;
      return false;
    }
    if (n > in.size() - in_len) return Fail(ErrorCode::kInternal, "layer source overran buffer");
    compressed_hash.Update(in.data() + in_len, n);
    compressed += static_cast<int64_t>(n);
    in_len += n;
    return true;
  }

  Status Detect() {
    detected = true;
    if (!options.detect_compression) {
      mode = options.compression;
    } else {
      while (available() < 4) {
        BERTH_ASSIGN_OR_RETURN(bool more, Fill());
        if (!more) break;
      }
      const unsigned char* p = in.data() + in_pos;
      if (available() >= 2 && p[0] == 0x1f && p[1] == 0x8b) {
        mode = oci::Compression::kGzip;
      } else if (available() >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f &&
                 p[3] == 0xfd) {
        mode = oci::Compression::kZstd;
      } else {
        mode = oci::Compression::kNone;
      }
    }
    if (mode == oci::Compression::kGzip) {
      // 15 + 32: a window of 32 KiB and automatic gzip/zlib header detection.
      if (inflateInit2(&zs, 15 + 32) != Z_OK) return Fail(ErrorCode::kInternal, "inflateInit2");
      zs_init = true;
    } else if (mode == oci::Compression::kZstd) {
      zd = ZSTD_createDStream();
      if (!zd) return Fail(ErrorCode::kInternal, "ZSTD_createDStream");
    }
    if (mode != oci::Compression::kNone) out.resize(kOutSize);
    return Ok();
  }

  Status Produced(const void* data, size_t n) {
    uncompressed_hash.Update(data, n);
    uncompressed += static_cast<int64_t>(n);
    if (uncompressed > options.max_uncompressed) {
      return InvalidArgument(StrCat("layer is larger than ", options.max_uncompressed,
                                    " bytes uncompressed"));
    }
    return Ok();
  }

  Result<size_t> NextPlain(const void** data) {
    if (available() == 0) {
      BERTH_ASSIGN_OR_RETURN(bool more, Fill());
      if (!more) return size_t{0};
    }
    size_t n = available();
    *data = in.data() + in_pos;
    in_pos = in_len;
    BERTH_TRY(Produced(*data, n));
    return n;
  }

  Result<size_t> NextGzip(const void** data) {
    for (;;) {
      if (available() == 0) {
        BERTH_ASSIGN_OR_RETURN(bool more, Fill());
        if (!more) {
          if (member_done) return size_t{0};
          return InvalidArgument("gzip stream: unexpected end of data (truncated layer)");
        }
      }
      if (member_done) {
        // Another gzip member may follow; zero padding after the last one is tolerated.
        const unsigned char* p = in.data() + in_pos;
        if (p[0] == 0) {
          size_t z = 0;
          while (z < available() && p[z] == 0) ++z;
          if (z < available()) return InvalidArgument("gzip stream: garbage after the end");
          in_pos = in_len;
          continue;
        }
        if (available() < 2) {
          BERTH_ASSIGN_OR_RETURN(bool more, Fill());
          if (!more) return InvalidArgument("gzip stream: garbage after the end");
          continue;
        }
        if (p[0] != 0x1f || p[1] != 0x8b) return InvalidArgument("gzip stream: garbage after the end");
        inflateReset(&zs);
        member_done = false;
      }
      zs.next_in = in.data() + in_pos;
      zs.avail_in = static_cast<uInt>(available());
      zs.next_out = out.data();
      zs.avail_out = static_cast<uInt>(out.size());
      int rc = inflate(&zs, Z_NO_FLUSH);
      in_pos = in_len - zs.avail_in;
      size_t n = out.size() - zs.avail_out;
      if (rc == Z_STREAM_END) {
        member_done = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return InvalidArgument(
            StrCat("gzip stream: ", zs.msg ? zs.msg : "corrupt data", " (code ", rc, ")"));
      }
      if (n > 0) {
        *data = out.data();
        BERTH_TRY(Produced(out.data(), n));
        return n;
      }
    }
  }

  Result<size_t> NextZstd(const void** data) {
    for (;;) {
      if (available() == 0) {
        BERTH_ASSIGN_OR_RETURN(bool more, Fill());
        if (!more) {
          if (frame_done) return size_t{0};
          return InvalidArgument("zstd stream: unexpected end of data (truncated layer)");
        }
      }
      ZSTD_inBuffer ib{in.data() + in_pos, available(), 0};
      ZSTD_outBuffer ob{out.data(), out.size(), 0};
      size_t rc = ZSTD_decompressStream(zd, &ob, &ib);
      if (ZSTD_isError(rc)) {
        return InvalidArgument(StrCat("zstd stream: ", ZSTD_getErrorName(rc)));
      }
      in_pos += ib.pos;
      // rc == 0: a frame ended and was fully flushed; another may start.
      frame_done = rc == 0;
      if (ob.pos > 0) {
        *data = out.data();
        BERTH_TRY(Produced(out.data(), ob.pos));
        return ob.pos;
      }
    }
  }
};

LayerReader::LayerReader(const ByteSource& source, const UnpackOptions& options)
    : impl_(std::make_unique<Impl>(source, options)) {}
LayerReader::~LayerReader() = default;

Result<size_t> LayerReader::Next(const void** data) {
  if (!impl_->detected) BERTH_TRY(impl_->Detect());
  switch (impl_->mode) {
    case oci::Compression::kGzip:
      return impl_->NextGzip(data);
    case oci::Compression::kZstd:
      return impl_->NextZstd(data);
    case oci::Compression::kNone:
      break;
  }
  return impl_->NextPlain(data);
}

Status LayerReader::Drain() {
  const void* data;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, Next(&data));
    if (n == 0) return Ok();
  }
}

std::string LayerReader::DiffId() { return impl_->uncompressed_hash.Finish(); }
std::string LayerReader::CompressedDigest() { return impl_->compressed_hash.Finish(); }
int64_t LayerReader::compressed_size() const { return impl_->compressed; }
int64_t LayerReader::uncompressed_size() const { return impl_->uncompressed; }

}  // namespace berth::image::internal
