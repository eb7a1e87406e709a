#include "berth/image/archive_internal.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/store_internal.h"

namespace berth::image::internal {

void ArchiveReadCloser::operator()(struct archive* a) const { archive_read_free(a); }

Error ArchiveError(struct archive* a, std::string_view what) {
  const char* msg = a ? archive_error_string(a) : nullptr;
  int err = a ? archive_errno(a) : 0;
  return Error(ErrorCode::kInvalidArgument, StrCat(what, ": ", msg ? msg : "archive error"),
               err > 0 ? err : 0);
}

Result<UniqueFd> OpenInput(const std::string& path) {
  if (path == "-") {
    int fd = ::fcntl(0, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return ErrnoFail("duplicate stdin");
    return UniqueFd(fd);
  }
  return OpenFile(path, O_RDONLY);
}

namespace {

Result<ArchiveReader> OpenReader(int fd, std::string_view what, bool raw) {
  ArchiveReader a(archive_read_new());
  if (!a) return Fail(ErrorCode::kInternal, StrCat(what, ": archive_read_new failed"));
  archive_read_support_filter_all(a.get());
  if (raw) {
    archive_read_support_format_raw(a.get());
  } else {
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
  }
  if (archive_read_open_fd(a.get(), fd, 1 << 16) != ARCHIVE_OK)
    return Unexpected(ArchiveError(a.get(), what));
  return a;
}

}  // namespace

Result<ArchiveReader> OpenTarReader(int fd, std::string_view what) {
  return OpenReader(fd, what, false);
}

Result<ArchiveReader> OpenRawReader(int fd, std::string_view what) {
  BERTH_ASSIGN_OR_RETURN(ArchiveReader a, OpenReader(fd, what, true));
  struct archive_entry* e = nullptr;
  int rc = archive_read_next_header(a.get(), &e);
  if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return Unexpected(ArchiveError(a.get(), what));
  return a;
}

Result<size_t> ReadRaw(struct archive* a, void* buf, size_t n, std::string_view what) {
  la_ssize_t got = archive_read_data(a, buf, n);
  if (got < 0) return Unexpected(ArchiveError(a, what));
  return static_cast<size_t>(got);
}

oci::Compression SniffCompression(std::string_view head) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 2 && b(0) == 0x1f && b(1) == 0x8b) return oci::Compression::kGzip;
  if (head.size() >= 4 && b(0) == 0x28 && b(1) == 0xb5 && b(2) == 0x2f && b(3) == 0xfd)
    return oci::Compression::kZstd;
  return oci::Compression::kNone;
}

// ---- TarOutput ----

struct TarOutput::Impl {
  struct archive* a = nullptr;
  UniqueFd fd;
  std::string path;  // final path; empty for stdout
  std::string tmp;   // temporary file while writing
  bool done = false;

  ~Impl() {
    if (a) archive_write_free(a);
    if (!done && !tmp.empty()) ::unlink(tmp.c_str());
  }
  Error Err(std::string_view what) const { return ArchiveError(a, what); }
};

TarOutput::TarOutput(TarOutput&&) noexcept = default;
TarOutput& TarOutput::operator=(TarOutput&&) noexcept = default;
TarOutput::~TarOutput() = default;

Result<TarOutput> TarOutput::Open(const std::string& path) {
  TarOutput out;
  out.impl_ = std::make_unique<Impl>();
  Impl& w = *out.impl_;
  if (path == "-") {
    int fd = ::fcntl(1, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) return ErrnoFail("duplicate stdout");
    w.fd.Reset(fd);
  } else {
    w.path = path;
    w.tmp = StrCat(path, ".tmp-", RandomHex());
    BERTH_ASSIGN_OR_RETURN(w.fd, OpenFile(w.tmp, O_WRONLY | O_CREAT | O_EXCL, 0644));
  }
  w.a = archive_write_new();
  if (!w.a) return Fail(ErrorCode::kInternal, "archive_write_new failed");
  // pax (restricted): ustar unless a name or size needs an extension header.
  if (archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK ||
      archive_write_open_fd(w.a, w.fd.get()) != ARCHIVE_OK)
    return Unexpected(w.Err(StrCat("write ", Quote(path))));
  return out;
}

namespace {

struct EntryCloser {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

std::unique_ptr<struct archive_entry, EntryCloser> NewEntry(const std::string& name, mode_t type,
                                                            mode_t perm, int64_t size) {
  std::unique_ptr<struct archive_entry, EntryCloser> e(archive_entry_new());
  archive_entry_set_pathname(e.get(), name.c_str());
  archive_entry_set_filetype(e.get(), type);
  archive_entry_set_perm(e.get(), perm);
  archive_entry_set_size(e.get(), size);
  archive_entry_set_uid(e.get(), 0);
  archive_entry_set_gid(e.get(), 0);
  // A fixed mtime: the same images give the same archive bytes.
  archive_entry_set_mtime(e.get(), 0, 0);
  return e;
}

}  // namespace

Status TarOutput::AddDir(const std::string& name) {
  auto e = NewEntry(name, AE_IFDIR, 0755, 0);
  if (archive_write_header(impl_->a, e.get()) != ARCHIVE_OK)
    return Unexpected(impl_->Err(StrCat("write ", Quote(name))));
  return Ok();
}

Status TarOutput::AddFile(const std::string& name, std::string_view data) {
  size_t pos = 0;
  return AddStream(name, static_cast<int64_t>(data.size()),
                   [&](void* buf, size_t n) -> Result<size_t> {
                     size_t k = std::min(n, data.size() - pos);
                     std::memcpy(buf, data.data() + pos, k);
                     pos += k;
                     return k;
                   });
}

Status TarOutput::AddStream(const std::string& name, int64_t size,
                            const std::function<Result<size_t>(void*, size_t)>& fill) {
  std::string what = StrCat("write ", Quote(name));
  auto e = NewEntry(name, AE_IFREG, 0644, size);
  if (archive_write_header(impl_->a, e.get()) != ARCHIVE_OK) return Unexpected(impl_->Err(what));
  std::string buf(1 << 17, '\0');
  int64_t total = 0;
  while (true) {
    BERTH_ASSIGN_OR_RETURN_CTX(size_t n, fill(buf.data(), buf.size()), what);
    if (n == 0) break;
    total += static_cast<int64_t>(n);
    // libarchive silently truncates or pads a member whose data disagrees with its header.
    if (total > size)
      return Fail(ErrorCode::kInternal, StrCat(what, ": more than the ", size, " bytes expected"));
    if (archive_write_data(impl_->a, buf.data(), n) != static_cast<la_ssize_t>(n))
      return Unexpected(impl_->Err(what));
  }
  if (total != size)
    return Fail(ErrorCode::kInternal, StrCat(what, ": got ", total, " bytes, expected ", size));
  if (archive_write_finish_entry(impl_->a) != ARCHIVE_OK) return Unexpected(impl_->Err(what));
  return Ok();
}

Status TarOutput::Finish() {
  Impl& w = *impl_;
  std::string shown = w.path.empty() ? std::string("stdout") : w.path;
  if (archive_write_close(w.a) != ARCHIVE_OK)
    return Unexpected(w.Err(StrCat("write ", Quote(shown))));
  if (!w.path.empty()) {
    if (::fsync(w.fd.get()) != 0) return ErrnoFail(StrCat("fsync ", Quote(w.tmp)));
    if (::rename(w.tmp.c_str(), w.path.c_str()) != 0)
      return ErrnoFail(StrCat("rename ", Quote(w.tmp), " to ", Quote(w.path)));
  }
  w.done = true;
  return Ok();
}

}  // namespace berth::image::internal
