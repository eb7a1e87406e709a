// berth/image: the content-addressed blob store (an OCI image layout on disk).
//
// A blob is written to ROOT/ingest/ under a unique name, hashed while written, fsynced,
// made read-only and renamed to ROOT/blobs/sha256/<hex>; the directory is fsynced after the
// rename. Two writers of the same blob each rename their own complete file, so readers see
// one whole copy or none.
#include "berth/image/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <utility>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"

namespace berth::image {

namespace {

constexpr std::string_view kLayoutFile = "oci-layout";
constexpr std::string_view kLayoutContent = R"({"imageLayoutVersion":"1.0.0"})";

std::string BlobDir(const std::string& root) { return root + "/blobs/sha256"; }
std::string IngestDir(const std::string& root) { return root + "/ingest"; }

Status FsyncDir(const std::string& dir) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenFile(dir, O_RDONLY | O_DIRECTORY));
  if (::fsync(fd.get()) != 0) return ErrnoFail(StrCat("fsync ", Quote(dir)));
  return Ok();
}

unexpected<Error> Mismatch(std::string_view expected, std::string_view got) {
  return InvalidArgument(StrCat("blob ", expected, ": digest mismatch: got ", got));
}

// Lists the names in `dir` except "." and "..".
Result<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return ErrnoFail(StrCat("open directory ", Quote(dir)));
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return SysFail(err, StrCat("read directory ", Quote(dir)));
  return names;
}

}  // namespace

// ---- BlobWriter ----

struct BlobWriter::Impl {
  std::string root;
  std::string tmp_path;  // empty once renamed into place or removed
  UniqueFd fd;
  Sha256 hash;
  int64_t written = 0;
  bool committed = false;

  ~Impl() {
    if (!tmp_path.empty()) ::unlink(tmp_path.c_str());
  }
};

BlobWriter::BlobWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter& BlobWriter::operator=(BlobWriter&&) noexcept = default;
BlobWriter::~BlobWriter() = default;

int64_t BlobWriter::written() const { return impl_ ? impl_->written : 0; }

Status BlobWriter::Write(const void* data, size_t n) {
  if (!impl_ || impl_->committed) {
    return Fail(ErrorCode::kFailedPrecondition, "blob writer: already committed");
  }
  BERTH_TRY(WriteAll(impl_->fd.get(), std::string_view(static_cast<const char*>(data), n),
                     impl_->tmp_path));
  impl_->hash.Update(data, n);
  impl_->written += static_cast<int64_t>(n);
  return Ok();
}

Result<std::string> BlobWriter::Commit(std::string_view expected_digest, int64_t expected_size) {
  if (!impl_ || impl_->committed) {
    return Fail(ErrorCode::kFailedPrecondition, "blob writer: already committed");
  }
  Impl& w = *impl_;
  w.committed = true;  // the hash is finished below; no more writes either way
  std::string digest = w.hash.Finish();
  std::string name = expected_digest.empty() ? digest : std::string(expected_digest);
  if (!expected_digest.empty()) {
    BERTH_TRY(DigestHex(expected_digest));
    if (digest != expected_digest) return Mismatch(expected_digest, digest);
  }
  if (expected_size >= 0 && w.written != expected_size) {
    return InvalidArgument(
        StrCat("blob ", name, ": size mismatch: expected ", expected_size, ", got ", w.written));
  }
  std::string hex = digest.substr(digest.find(':') + 1);
  std::string dir = BlobDir(w.root);
  std::string target = StrCat(dir, '/', hex);
  if (PathExists(target)) return digest;  // someone else stored the same bytes; ours goes

  // Read-only before it becomes visible: a blob is never modified in place.
  if (::fchmod(w.fd.get(), 0444) != 0) return ErrnoFail(StrCat("chmod ", Quote(w.tmp_path)));
  if (::fsync(w.fd.get()) != 0) return ErrnoFail(StrCat("fsync ", Quote(w.tmp_path)));
  w.fd.Reset();
  if (::rename(w.tmp_path.c_str(), target.c_str()) != 0) {
    return ErrnoFail(StrCat("store blob ", digest, ": rename ", Quote(w.tmp_path)));
  }
  w.tmp_path.clear();
  BERTH_TRY_CTX(FsyncDir(dir), StrCat("store blob ", digest));
  return digest;
}

// ---- ContentStore ----

Result<ContentStore> ContentStore::Open(std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  std::string ctx = StrCat("open content store ", Quote(root));
  BERTH_TRY_CTX(MkdirAll(BlobDir(root), 0755), ctx);
  BERTH_TRY_CTX(MkdirAll(IngestDir(root), 0700), ctx);
  std::string layout = StrCat(root, '/', kLayoutFile);
  if (!PathExists(layout)) BERTH_TRY_CTX(AtomicWriteFile(layout, kLayoutContent, 0644), ctx);
  return ContentStore(std::move(root));
}

std::string ContentStore::BlobPath(std::string_view digest) const {
  auto hex = DigestHex(digest);
  // An invalid digest names no blob; the path of an empty name never exists.
  return StrCat(BlobDir(root_), '/', hex.has_value() ? *hex : std::string());
}

bool ContentStore::Has(std::string_view digest) const {
  if (!DigestHex(digest).has_value()) return false;
  struct stat st;
  return ::stat(BlobPath(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<int64_t> ContentStore::Size(std::string_view digest) const {
  BERTH_TRY(DigestHex(digest));
  struct stat st;
  if (::stat(BlobPath(digest).c_str(), &st) != 0) {
    if (errno == ENOENT) return Fail(ErrorCode::kNotFound, StrCat("blob ", digest, ": not found"));
    return ErrnoFail(StrCat("stat blob ", digest));
  }
  return static_cast<int64_t>(st.st_size);
}

Result<UniqueFd> ContentStore::OpenBlob(std::string_view digest) const {
  BERTH_TRY(DigestHex(digest));
  int fd = ::open(BlobPath(digest).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Fail(ErrorCode::kNotFound, StrCat("blob ", digest, ": not found"));
    return ErrnoFail(StrCat("open blob ", digest));
  }
  return UniqueFd(fd);
}

Result<std::string> ContentStore::Read(std::string_view digest, int64_t max_size) const {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, OpenBlob(digest));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoFail(StrCat("stat blob ", digest));
  if (st.st_size > max_size) {
    return InvalidArgument(
        StrCat("blob ", digest, ": size ", st.st_size, " exceeds the limit of ", max_size));
  }
  BERTH_ASSIGN_OR_RETURN(std::string data, ReadFd(fd.get(), StrCat("blob ", digest)));
  if (static_cast<int64_t>(data.size()) > max_size) {
    return InvalidArgument(StrCat("blob ", digest, ": exceeds the limit of ", max_size));
  }
  std::string got = DigestOf(data);
  if (got != digest) {
    return Fail(ErrorCode::kInternal,
                StrCat("blob ", digest, ": digest mismatch: got ", got, " (corrupt store)"));
  }
  return data;
}

Result<std::string> ContentStore::Write(std::string_view data, std::string_view expected_digest) {
  // Hash first: a mismatch never touches the disk, and a blob already present is kept.
  std::string digest = DigestOf(data);
  if (!expected_digest.empty()) {
    BERTH_TRY(DigestHex(expected_digest));
    if (digest != expected_digest) return Mismatch(expected_digest, digest);
  }
  if (Has(digest)) return digest;
  BERTH_ASSIGN_OR_RETURN(BlobWriter w, NewWriter());
  BERTH_TRY(w.Write(data));
  return w.Commit(digest, static_cast<int64_t>(data.size()));
}

Result<BlobWriter> ContentStore::NewWriter() {
  auto impl = std::make_unique<BlobWriter::Impl>();
  impl->root = root_;
  std::string tmpl = StrCat(IngestDir(root_), "/blob-XXXXXX");
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return ErrnoFail(StrCat("create ingest file in ", Quote(IngestDir(root_))));
  impl->fd.Reset(fd);
  impl->tmp_path = std::move(tmpl);
  return BlobWriter(std::move(impl));
}

// ---- PartialBlob ----

struct PartialBlob::Impl {
  std::string root;
  std::string digest;
  std::string path;
  UniqueFd fd;
  int64_t size = 0;
};

PartialBlob::PartialBlob(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PartialBlob::PartialBlob(PartialBlob&&) noexcept = default;
PartialBlob& PartialBlob::operator=(PartialBlob&&) noexcept = default;
PartialBlob::~PartialBlob() = default;
int PartialBlob::fd() const { return impl_->fd.get(); }
int64_t PartialBlob::size() const { return impl_->size; }
const std::string& PartialBlob::path() const { return impl_->path; }

Status PartialBlob::Append(const void* data, size_t n) {
  BERTH_TRY(WriteAll(impl_->fd.get(), std::string_view(static_cast<const char*>(data), n),
                     impl_->path));
  impl_->size += static_cast<int64_t>(n);
  return Ok();
}

Status PartialBlob::Truncate() {
  if (::ftruncate(impl_->fd.get(), 0) != 0 || ::lseek(impl_->fd.get(), 0, SEEK_SET) != 0)
    return ErrnoFail(StrCat("truncate ", Quote(impl_->path)));
  impl_->size = 0;
  return Ok();
}

void PartialBlob::Discard() {
  if (!impl_->path.empty()) ::unlink(impl_->path.c_str());
}

Status PartialBlob::Commit(std::string_view computed_digest) {
  Impl& p = *impl_;
  if (computed_digest != p.digest) {
    Discard();
    return Mismatch(p.digest, computed_digest);
  }
  std::string hex = p.digest.substr(p.digest.find(':') + 1);
  std::string dir = BlobDir(p.root);
  std::string target = StrCat(dir, '/', hex);
  if (::fchmod(p.fd.get(), 0444) != 0) return ErrnoFail(StrCat("chmod ", Quote(p.path)));
  if (::fsync(p.fd.get()) != 0) return ErrnoFail(StrCat("fsync ", Quote(p.path)));
  if (::rename(p.path.c_str(), target.c_str()) != 0)
    return ErrnoFail(StrCat("store blob ", p.digest, ": rename ", Quote(p.path)));
  BERTH_TRY_CTX(FsyncDir(dir), StrCat("store blob ", p.digest));
  return Ok();
}

Result<PartialBlob> ContentStore::OpenPartial(std::string_view digest) {
  BERTH_ASSIGN_OR_RETURN(std::string hex, DigestHex(digest));
  auto impl = std::make_unique<PartialBlob::Impl>();
  impl->root = root_;
  impl->digest = std::string(digest);
  impl->path = StrCat(IngestDir(root_), "/", hex, ".partial");
  // A file renamed into blobs/ by another downloader while we waited for its lock is not
  // ours to append to: reopen by name until the locked file is the one the name points at.
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(impl->path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return ErrnoFail(StrCat("open ", Quote(impl->path)));
    UniqueFd owned(fd);
    if (::flock(fd, LOCK_EX) != 0) return ErrnoFail(StrCat("lock ", Quote(impl->path)));
    struct stat by_fd, by_name;
    if (::fstat(fd, &by_fd) != 0) return ErrnoFail(StrCat("stat ", Quote(impl->path)));
    if (::stat(impl->path.c_str(), &by_name) != 0 || by_name.st_ino != by_fd.st_ino) continue;
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) return ErrnoFail(StrCat("seek ", Quote(impl->path)));
    impl->size = end;
    impl->fd = std::move(owned);
    return PartialBlob(std::move(impl));
  }
  return Fail(ErrorCode::kInternal, StrCat("open ", Quote(impl->path), ": kept changing"));
}

Status ContentStore::Delete(std::string_view digest) {
  BERTH_TRY(DigestHex(digest));
  if (::unlink(BlobPath(digest).c_str()) != 0) {
    if (errno == ENOENT) return Fail(ErrorCode::kNotFound, StrCat("blob ", digest, ": not found"));
    return ErrnoFail(StrCat("delete blob ", digest));
  }
  return Ok();
}

Result<std::vector<std::string>> ContentStore::List() const {
  BERTH_ASSIGN_OR_RETURN(auto names, ListDir(BlobDir(root_)));
  std::vector<std::string> out;
  for (auto& n : names) {
    std::string d = StrCat("sha256:", n);
    if (DigestHex(d).has_value()) out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ContentStore::CleanIngest(int max_age_s) {
  std::string dir = IngestDir(root_);
  BERTH_ASSIGN_OR_RETURN(auto names, ListDir(dir));
  time_t now = ::time(nullptr);
  for (const auto& n : names) {
    std::string p = StrCat(dir, '/', n);
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;  // removed by its writer meanwhile
    if (now - st.st_mtime < max_age_s) continue;
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) {
      return ErrnoFail(StrCat("clean ingest: remove ", Quote(p)));
    }
  }
  return Ok();
}

}  // namespace berth::image
