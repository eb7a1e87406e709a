#include "berth/image/layer_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/image/layer_fsutil.h"

namespace berth::image {

namespace {

constexpr size_t kBufSize = size_t{256} << 10;

// Receives the tar stream from libarchive: hashes it, compresses it, hashes and forwards
// the compressed bytes.
class TarOutput {
 public:
  TarOutput(const ByteSink& sink, oci::Compression c) : sink_(sink), compression_(c) {}
  ~TarOutput() {
    if (zs_init_) deflateEnd(&zs_);
    if (zc_) ZSTD_freeCStream(zc_);
  }

  Status Init() {
    out_.resize(kBufSize);
    if (compression_ == oci::Compression::kGzip) {
      // 15 + 16: gzip wrapper; zlib writes mtime 0 in the header, so output is reproducible.
      if (deflateInit2(&zs_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                       Z_DEFAULT_STRATEGY) != Z_OK)
        return Fail(ErrorCode::kInternal, "deflateInit2");
      zs_init_ = true;
    } else if (compression_ == oci::Compression::kZstd) {
      zc_ = ZSTD_createCStream();
      if (!zc_ || ZSTD_isError(ZSTD_initCStream(zc_, 3)))
        return Fail(ErrorCode::kInternal, "ZSTD_initCStream");
    }
    return Ok();
  }

  Status Write(const void* data, size_t n) {
    tar_hash_.Update(data, n);
    tar_size_ += static_cast<int64_t>(n);
    switch (compression_) {
      case oci::Compression::kNone:
        return Emit(data, n);
      case oci::Compression::kGzip:
        return Deflate(data, n, Z_NO_FLUSH);
      case oci::Compression::kZstd:
        return Zstd(data, n, ZSTD_e_continue);
    }
    return Ok();
  }

  Status Finish() {
    if (compression_ == oci::Compression::kGzip) return Deflate(nullptr, 0, Z_FINISH);
    if (compression_ == oci::Compression::kZstd) return Zstd(nullptr, 0, ZSTD_e_end);
    return Ok();
  }

  PackResult Result() {
    PackResult r;
    r.diff_id = tar_hash_.Finish();
    r.digest = out_hash_.Finish();
    r.size = out_size_;
    r.uncompressed_size = tar_size_;
    return r;
  }

  std::optional<Error> error;

 private:
  Status Emit(const void* data, size_t n) {
    if (n == 0) return Ok();
    out_hash_.Update(data, n);
    out_size_ += static_cast<int64_t>(n);
    return sink_(data, n);
  }

  Status Deflate(const void* data, size_t n, int flush) {
    zs_.next_in = static_cast<Bytef*>(const_cast<void*>(data));  // zlib's API is not const
    zs_.avail_in = static_cast<uInt>(n);
    for (;;) {
      zs_.next_out = out_.data();
      zs_.avail_out = static_cast<uInt>(out_.size());
      int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) return Fail(ErrorCode::kInternal, "deflate");
      BERTH_TRY(Emit(out_.data(), out_.size() - zs_.avail_out));
      if (flush == Z_FINISH ? rc == Z_STREAM_END : (zs_.avail_in == 0 && zs_.avail_out != 0))
        return Ok();
    }
  }

  Status Zstd(const void* data, size_t n, ZSTD_EndDirective end) {
    ZSTD_inBuffer in{data, n, 0};
    for (;;) {
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      size_t rc = ZSTD_compressStream2(zc_, &ob, &in, end);
      if (ZSTD_isError(rc)) return Fail(ErrorCode::kInternal, StrCat("zstd: ", ZSTD_getErrorName(rc)));
      BERTH_TRY(Emit(out_.data(), ob.pos));
      if (end == ZSTD_e_end ? rc == 0 : in.pos == in.size) return Ok();
    }
  }

  const ByteSink& sink_;
  oci::Compression compression_;
  std::vector<unsigned char> out_;
  Sha256 tar_hash_, out_hash_;
  int64_t tar_size_ = 0, out_size_ = 0;
  z_stream zs_{};
  bool zs_init_ = false;
  ZSTD_CStream* zc_ = nullptr;
};

la_ssize_t WriteCallback(struct archive* a, void* client, const void* buf, size_t n) {
  auto* out = static_cast<TarOutput*>(client);
  auto st = out->Write(buf, n);
  if (!st.has_value()) {
    archive_set_error(a, EIO, "%s", st.error().message().c_str());
    out->error = std::move(st).error();
    return -1;
  }
  return static_cast<la_ssize_t>(n);
}

struct WriteDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
using EntryPtr = std::unique_ptr<struct archive_entry, EntryDeleter>;

class Packer {
 public:
  Packer(struct archive* a, TarOutput* out, bool diff) : a_(a), out_(out), diff_(diff) {}

  Status EmitOne(int dirfd, const std::string& name) {
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return ErrnoFail(StrCat("stat ", Quote(name)));
    return Emit(dirfd, name, name, st);
  }

  Status WalkDir(int dirfd, const std::string& rel) {
    BERTH_ASSIGN_OR_RETURN(auto names, internal::ListDir(dirfd, rel.empty() ? "." : rel));
    for (const std::string& name : names) {
      std::string path = rel.empty() ? name : StrCat(rel, "/", name);
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return ErrnoFail(StrCat("stat ", Quote(path)));
      BERTH_TRY(Emit(dirfd, name, path, st));
    }
    return Ok();
  }

 private:
  Error ArchiveError(std::string_view path) {
    if (out_->error) return *out_->error;
    const char* msg = archive_error_string(a_);
    return Error(ErrorCode::kInternal,
                 StrCat("write tar entry ", Quote(path), ": ", msg ? msg : "unknown error"));
  }

  Status WriteHeader(struct archive_entry* e, std::string_view path) {
    if (archive_write_header(a_, e) < ARCHIVE_WARN) return Unexpected(ArchiveError(path));
    return Ok();
  }

  // An empty regular file entry: a whiteout or an opaque marker.
  Status EmitMarker(const std::string& path, const struct stat& st) {
    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_size(e.get(), 0);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return WriteHeader(e.get(), path);
  }

  Status AddXattrs(struct archive_entry* e, int fd, const std::string& path, bool* opaque) {
    BERTH_ASSIGN_OR_RETURN(auto xattrs, internal::ReadXattrs(fd, path));
    for (const auto& [name, value] : xattrs) {
      if (name == "trusted.overlay.opaque" && value == "y") *opaque = true;
      if (!internal::LayerXattrAllowed(name) || name.starts_with("user.overlay.")) continue;
      archive_entry_xattr_add_entry(e, name.c_str(), value.data(), value.size());
    }
    return Ok();
  }

  Status Emit(int dirfd, const std::string& name, const std::string& path, const struct stat& st) {
    std::string parent = path.substr(0, path.size() - name.size());  // "" or "dir/"
    // overlayfs whiteout (checked before hard links: overlayfs may share one whiteout inode).
    if (diff_ && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
      return EmitMarker(StrCat(parent, ".wh.", name), st);
    if (S_ISSOCK(st.st_mode)) return Ok();

    EntryPtr e(archive_entry_new());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_perm(e.get(), st.st_mode & 07777);
    archive_entry_set_uid(e.get(), st.st_uid);
    archive_entry_set_gid(e.get(), st.st_gid);
    archive_entry_set_mtime(e.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    archive_entry_set_filetype(e.get(), st.st_mode & S_IFMT);

    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = links_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!inserted) {
        archive_entry_set_hardlink(e.get(), it->second.c_str());
        archive_entry_set_size(e.get(), 0);
        return WriteHeader(e.get(), path);
      }
    }

    bool opaque = false;
    if (S_ISREG(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd fd, internal::OpenAtNoFollow(dirfd, name, O_RDONLY, path));
      BERTH_TRY(AddXattrs(e.get(), fd.get(), path, &opaque));
      archive_entry_set_size(e.get(), st.st_size);
      BERTH_TRY(WriteHeader(e.get(), path));
      return CopyData(fd.get(), st.st_size, path);
    }
    if (S_ISDIR(st.st_mode)) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd fd,
                             internal::OpenAtNoFollow(dirfd, name, O_RDONLY | O_DIRECTORY, path));
      BERTH_TRY(AddXattrs(e.get(), fd.get(), path, &opaque));
      BERTH_TRY(WriteHeader(e.get(), path));
      if (diff_ && opaque) BERTH_TRY(EmitMarker(StrCat(path, "/.wh..wh..opq"), st));
      return WalkDir(fd.get(), path);
    }
    BERTH_ASSIGN_OR_RETURN(UniqueFd fd, internal::OpenAtNoFollow(dirfd, name, O_PATH, path));
    BERTH_TRY(AddXattrs(e.get(), fd.get(), path, &opaque));
    if (S_ISLNK(st.st_mode)) {
      std::string target(std::max<size_t>(static_cast<size_t>(st.st_size) + 1, 4096), '\0');
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) return ErrnoFail(StrCat("readlink ", Quote(path)));
      target.resize(static_cast<size_t>(n));
      archive_entry_set_symlink(e.get(), target.c_str());
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      archive_entry_set_rdevmajor(e.get(), major(st.st_rdev));
      archive_entry_set_rdevminor(e.get(), minor(st.st_rdev));
    }
    return WriteHeader(e.get(), path);
  }

  Status CopyData(int fd, off_t size, const std::string& path) {
    buf_.resize(kBufSize);
    off_t left = size;
    while (left > 0) {
      size_t want = static_cast<size_t>(std::min<off_t>(left, static_cast<off_t>(buf_.size())));
      ssize_t n = ::read(fd, buf_.data(), want);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoFail(StrCat("read ", Quote(path)));
      }
      if (n == 0) break;  // the file shrank: libarchive pads the entry with zeros
      if (archive_write_data(a_, buf_.data(), static_cast<size_t>(n)) < 0)
        return Unexpected(ArchiveError(path));
      left -= n;
    }
    return Ok();
  }

  struct archive* a_;
  TarOutput* out_;
  bool diff_;
  std::map<std::pair<dev_t, ino_t>, std::string> links_;
  std::vector<char> buf_;
};

// Writes the tar of what `walk` emits.
Result<PackResult> PackWith(const ByteSink& sink, const PackOptions& options, bool diff,
                            const std::function<Status(Packer&)>& walk) {
  TarOutput out(sink, options.compression);
  BERTH_TRY(out.Init());
  std::unique_ptr<struct archive, WriteDeleter> a(archive_write_new());
  if (!a) return Fail(ErrorCode::kInternal, "archive_write_new");
  archive_write_set_format_pax_restricted(a.get());
  // No padding to a 10 KiB record after the end-of-archive blocks.
  archive_write_set_bytes_in_last_block(a.get(), 1);
  if (archive_write_open(a.get(), &out, nullptr, WriteCallback, nullptr) != ARCHIVE_OK)
    return Fail(ErrorCode::kInternal, "open tar writer");
  Packer packer(a.get(), &out, diff);
  BERTH_TRY(walk(packer));
  if (archive_write_close(a.get()) != ARCHIVE_OK) {
    if (out.error) return Unexpected(*out.error);
    const char* msg = archive_error_string(a.get());
    return Fail(ErrorCode::kInternal, StrCat("finish tar: ", msg ? msg : "unknown error"));
  }
  BERTH_TRY(out.Finish());
  return out.Result();
}

Result<PackResult> Pack(const std::string& dir, const ByteSink& sink, const PackOptions& options,
                        bool diff) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd root, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  return PackWith(sink, options, diff, [&](Packer& p) { return p.WalkDir(root.get(), ""); });
}

}  // namespace

Result<PackResult> PackDiff(const std::string& upper_dir, const ByteSink& sink,
                            const PackOptions& options) {
  auto r = Pack(upper_dir, sink, options, true);
  if (!r.has_value()) return Unexpected(std::move(r).error().Wrap(StrCat("pack ", Quote(upper_dir))));
  return r;
}

Result<PackResult> PackTree(const std::string& dir, const ByteSink& sink,
                            const PackOptions& options) {
  auto r = Pack(dir, sink, options, false);
  if (!r.has_value()) return Unexpected(std::move(r).error().Wrap(StrCat("pack ", Quote(dir))));
  return r;
}

Result<PackResult> PackEntry(int parent_fd, const std::string& name, const ByteSink& sink,
                             const PackOptions& options) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    return InvalidArgument(StrCat("pack ", Quote(name), ": not a directory entry name"));
  }
  auto r = PackWith(sink, options, false, [&](Packer& p) { return p.EmitOne(parent_fd, name); });
  if (!r.has_value()) return Unexpected(std::move(r).error().Wrap(StrCat("pack ", Quote(name))));
  return r;
}

Result<PackResult> CompressLayer(int fd, const ByteSink& sink, const PackOptions& options) {
  TarOutput out(sink, options.compression);
  BERTH_TRY(out.Init());
  std::vector<char> buf(1 << 20);
  while (true) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail("read the layer to compress");
    }
    if (n == 0) break;
    BERTH_TRY(out.Write(buf.data(), static_cast<size_t>(n)));
  }
  BERTH_TRY(out.Finish());
  return out.Result();
}

}  // namespace berth::image
