// berth/registry: the registry server's on-disk state (see server_storage.h for the layout).
#include "berth/registry/server_storage.h"

#include <dirent.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/registry/server_routes.h"

namespace berth::registry {

namespace {

std::string HexOf(std::string_view digest) {
  return std::string(digest.substr(digest.find(':') + 1));
}

// Names in `dir` except "." and ".."; an absent directory is empty.
Result<std::vector<std::string>> ListDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return ErrnoFail(StrCat("open directory ", Quote(dir)));
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return SysFail(err, StrCat("read directory ", Quote(dir)));
  std::sort(names.begin(), names.end());
  return names;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status RemoveFile(const std::string& path, std::string_view what) {
  if (::unlink(path.c_str()) == 0) return Ok();
  if (errno == ENOENT) return Fail(ErrorCode::kNotFound, StrCat(what, ": not found"));
  return ErrnoFail(StrCat("remove ", Quote(path)));
}

// A random RFC 4122 version-4 UUID: upload ids are unguessable, so one client cannot write
// into another's session.
Result<std::string> NewUuid() {
  unsigned char b[16];
  if (::getrandom(b, sizeof b, 0) != static_cast<ssize_t>(sizeof b)) return ErrnoFail("getrandom");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
  return out;
}

// Repositories under `dir` (relative names with prefix `prefix`), depth first.
Status WalkRepositories(const std::string& dir, const std::string& prefix,
                        std::vector<std::string>& out) {
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(dir));
  bool is_repo = false;
  for (const auto& n : names) {
    if (n == "_manifests" || n == "_blobs") is_repo = true;
  }
  if (is_repo && !prefix.empty()) out.push_back(prefix);
  for (const auto& n : names) {
    if (n.empty() || n[0] == '_' || n[0] == '.') continue;
    std::string sub = StrCat(dir, '/', n);
    if (!IsDir(sub)) continue;
    BERTH_TRY(WalkRepositories(sub, prefix.empty() ? n : StrCat(prefix, '/', n), out));
  }
  return Ok();
}

}  // namespace

Result<std::unique_ptr<RegistryStorage>> RegistryStorage::Open(const std::string& root,
                                                               int stale_upload_age_s) {
  std::string ctx = StrCat("open registry storage ", Quote(root));
  BERTH_TRY_CTX(MkdirAll(StrCat(root, "/repositories"), 0755), ctx);
  BERTH_ASSIGN_OR_RETURN_CTX(image::ContentStore content,
                             image::ContentStore::Open(StrCat(root, "/content")), ctx);
  BERTH_TRY_CTX(content.CleanIngest(stale_upload_age_s), ctx);
  return std::unique_ptr<RegistryStorage>(new RegistryStorage(root, std::move(content)));
}

std::string RegistryStorage::RepoDir(const std::string& repo) const {
  return StrCat(root_, "/repositories/", repo);
}

Status RegistryStorage::WriteSmallFile(const std::string& path, std::string_view data) {
  std::lock_guard lock(file_locks_[std::hash<std::string>{}(path) % file_locks_.size()]);
  return AtomicWriteFile(path, data);
}

// ---- blobs

bool RegistryStorage::HasBlob(const std::string& repo, std::string_view digest) const {
  return PathExists(StrCat(RepoDir(repo), "/_blobs/", HexOf(digest))) && content_.Has(digest);
}

Status RegistryStorage::LinkBlob(const std::string& repo, std::string_view digest) {
  std::string dir = StrCat(RepoDir(repo), "/_blobs");
  std::string path = StrCat(dir, '/', HexOf(digest));
  if (PathExists(path)) return Ok();
  BERTH_TRY(MkdirAll(dir));
  return WriteSmallFile(path, "");
}

Status RegistryStorage::UnlinkBlob(const std::string& repo, std::string_view digest) {
  return RemoveFile(StrCat(RepoDir(repo), "/_blobs/", HexOf(digest)), StrCat("blob ", digest));
}

// ---- manifests

bool RegistryStorage::HasManifest(const std::string& repo, std::string_view digest) const {
  return PathExists(StrCat(RepoDir(repo), "/_manifests/", HexOf(digest))) &&
         content_.Has(digest);
}

Result<std::string> RegistryStorage::Resolve(const std::string& repo,
                                             std::string_view reference) const {
  std::string digest;
  if (IsValidDigest(reference)) {
    digest = std::string(reference);
  } else {
    auto text = ReadFile(StrCat(RepoDir(repo), "/_tags/", reference));
    if (!text) {
      if (text.error().sys_errno() == ENOENT) {
        return Fail(ErrorCode::kNotFound, StrCat("manifest ", Quote(reference), ": not found"));
      }
      return Unexpected(std::move(text).error());
    }
    digest = std::string(Trim(*text));
  }
  if (!HasManifest(repo, digest)) {
    return Fail(ErrorCode::kNotFound, StrCat("manifest ", Quote(reference), ": not found"));
  }
  return digest;
}

Result<ManifestMeta> RegistryStorage::ManifestInfo(const std::string& repo,
                                                   std::string_view digest) const {
  BERTH_ASSIGN_OR_RETURN(Json j,
                         ReadJsonFile(StrCat(RepoDir(repo), "/_manifests/", HexOf(digest))));
  ManifestMeta m;
  if (j.is_object()) {
    if (auto it = j.find("mediaType"); it != j.end() && it->is_string()) m.media_type = *it;
    if (auto it = j.find("subject"); it != j.end() && it->is_string()) m.subject = *it;
  }
  return m;
}

Status RegistryStorage::PutManifest(const std::string& repo, std::string_view tag,
                                    std::string_view digest, std::string_view body,
                                    const ManifestMeta& meta) {
  BERTH_TRY(content_.Write(body, digest));
  std::string dir = RepoDir(repo);
  // Referrers entry first, tag last: a crash in between leaves a manifest without its tag,
  // never a tag naming a manifest the repository does not hold.
  if (!meta.subject.empty()) {
    std::string rdir = StrCat(dir, "/_referrers/", HexOf(meta.subject));
    BERTH_TRY(MkdirAll(rdir));
    BERTH_TRY(WriteSmallFile(StrCat(rdir, '/', HexOf(digest)), meta.descriptor.dump()));
  }
  Json record = {{"mediaType", meta.media_type}};
  if (!meta.subject.empty()) record["subject"] = meta.subject;
  BERTH_TRY(MkdirAll(StrCat(dir, "/_manifests")));
  BERTH_TRY(WriteSmallFile(StrCat(dir, "/_manifests/", HexOf(digest)), record.dump()));
  if (!tag.empty()) {
    BERTH_TRY(MkdirAll(StrCat(dir, "/_tags")));
    BERTH_TRY(WriteSmallFile(StrCat(dir, "/_tags/", tag), digest));
  }
  return Ok();
}

Status RegistryStorage::RemoveReferrer(const std::string& repo, const std::string& subject,
                                       std::string_view digest) {
  std::string rdir = StrCat(RepoDir(repo), "/_referrers/", HexOf(subject));
  auto st = RemoveFile(StrCat(rdir, '/', HexOf(digest)), "referrer");
  if (!st && st.error().code() != ErrorCode::kNotFound) return st;
  ::rmdir(rdir.c_str());  // only when empty; a concurrent push may have refilled it
  return Ok();
}

Status RegistryStorage::DeleteManifest(const std::string& repo, std::string_view reference) {
  std::string dir = RepoDir(repo);
  if (!IsValidDigest(reference)) {
    return RemoveFile(StrCat(dir, "/_tags/", reference), StrCat("tag ", Quote(reference)));
  }
  std::string digest(reference);
  if (!HasManifest(repo, digest)) {
    return Fail(ErrorCode::kNotFound, StrCat("manifest ", digest, ": not found"));
  }
  auto meta = ManifestInfo(repo, digest);
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> tags, ListDir(StrCat(dir, "/_tags")));
  for (const auto& t : tags) {
    std::string path = StrCat(dir, "/_tags/", t);
    auto target = ReadFile(path);
    if (target && Trim(*target) == digest) ::unlink(path.c_str());
  }
  BERTH_TRY(RemoveFile(StrCat(dir, "/_manifests/", HexOf(digest)), StrCat("manifest ", digest)));
  if (meta && !meta->subject.empty()) BERTH_TRY(RemoveReferrer(repo, meta->subject, digest));
  // The bytes stay in the content store: other repositories may hold the same manifest.
  return Ok();
}

Result<std::vector<Json>> RegistryStorage::Referrers(const std::string& repo,
                                                     std::string_view digest) const {
  std::string rdir = StrCat(RepoDir(repo), "/_referrers/", HexOf(digest));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(rdir));
  std::vector<Json> out;
  for (const auto& n : names) {
    if (n.find('.') != std::string::npos) continue;  // a temp file of AtomicWriteFile
    auto j = ReadJsonFile(StrCat(rdir, '/', n));
    if (!j) continue;  // removed meanwhile
    out.push_back(std::move(*j));
  }
  return out;
}

// ---- listings

bool RegistryStorage::RepositoryExists(const std::string& repo) const {
  std::string dir = RepoDir(repo);
  return IsDir(StrCat(dir, "/_manifests")) || IsDir(StrCat(dir, "/_blobs"));
}

Result<std::vector<std::string>> RegistryStorage::Tags(const std::string& repo) const {
  if (!RepositoryExists(repo)) {
    return Fail(ErrorCode::kNotFound, StrCat("repository ", Quote(repo), ": not found"));
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDir(StrCat(RepoDir(repo), "/_tags")));
  std::vector<std::string> tags;
  for (auto& n : names) {
    if (IsValidTag(n) && n.find(".tmp") == std::string::npos) tags.push_back(std::move(n));
  }
  return tags;
}

Result<std::vector<std::string>> RegistryStorage::Repositories() const {
  std::vector<std::string> out;
  BERTH_TRY(WalkRepositories(StrCat(root_, "/repositories"), "", out));
  std::sort(out.begin(), out.end());
  return out;
}

// ---- uploads

Result<std::shared_ptr<Upload>> RegistryStorage::StartUpload(const std::string& repo) {
  BERTH_ASSIGN_OR_RETURN(std::string id, NewUuid());
  BERTH_ASSIGN_OR_RETURN(image::BlobWriter w, content_.NewWriter());
  auto u = std::make_shared<Upload>(std::move(w));
  u->id = id;
  u->repo = repo;
  time_t now = ::time(nullptr);
  u->touched = now;
  std::lock_guard lock(uploads_mu_);
  // Sessions a client abandoned without DELETE would otherwise hold a file each forever.
  std::erase_if(uploads_, [&](const auto& kv) {
    return now - kv.second->touched > kUploadIdleSeconds;
  });
  if (uploads_.size() >= kMaxUploads) {
    return Fail(ErrorCode::kUnsupported, "too many uploads in progress");
  }
  uploads_.emplace(id, u);
  return u;
}

std::shared_ptr<Upload> RegistryStorage::FindUpload(const std::string& repo, std::string_view id) {
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(id);
  if (it == uploads_.end() || it->second->repo != repo) return nullptr;
  it->second->touched = ::time(nullptr);
  return it->second;
}

void RegistryStorage::EndUpload(std::string_view id) {
  std::lock_guard lock(uploads_mu_);
  if (auto it = uploads_.find(id); it != uploads_.end()) uploads_.erase(it);
}

Result<std::string> RegistryStorage::CommitUpload(Upload& u, std::string_view digest) {
  BERTH_ASSIGN_OR_RETURN(std::string got, u.writer.Commit(digest));
  BERTH_TRY(LinkBlob(u.repo, got));
  return got;
}

}  // namespace berth::registry
