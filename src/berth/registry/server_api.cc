// berth/registry: the distribution-spec endpoints of `berth registry serve`: manifests,
// blobs, uploads, tags, catalog and referrers, with the spec's error bodies. Request bodies
// are read in pieces from a BodySource, so a layer goes to disk as it arrives.
#include "berth/registry/server_api.h"

#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include <openssl/evp.h>

#include "berth/base/json.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/oci/image.h"
#include "berth/registry/server_routes.h"

namespace berth::registry {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr size_t kCopyBuffer = 256 << 10;
constexpr size_t kMaxRememberedCredentials = 256;

ApiResponse ErrorResponse(int status, std::string_view code, std::string_view message) {
  ApiResponse r;
  r.status = status;
  Json body = {{"errors", Json::array({{{"code", code}, {"message", message}}})}};
  r.body = body.dump();
  r.Set("Content-Type", std::string(kJson));
  return r;
}

ApiResponse JsonResponse(int status, const Json& j, std::string_view content_type = kJson) {
  ApiResponse r;
  r.status = status;
  r.body = j.dump();
  r.Set("Content-Type", std::string(content_type));
  return r;
}

ApiResponse Internal(const Error& e) {
  log::Error(StrCat("registry: ", e.message()));
  return ErrorResponse(500, "UNKNOWN", e.message());
}

ApiResponse Empty(int status) {
  ApiResponse r;
  r.status = status;
  return r;
}

// A body that must fit in memory (a manifest): kInvalidArgument past `limit`.
Result<std::string> ReadSmallBody(BodySource& body, int64_t limit) {
  std::string out;
  char buf[16 << 10];
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, body.Read(buf, sizeof buf));
    if (n == 0) return out;
    if (static_cast<int64_t>(out.size() + n) > limit) {
      return InvalidArgument(StrCat("body exceeds ", limit, " bytes"));
    }
    out.append(buf, n);
  }
}

// Appends the whole body to `w`; returns the bytes copied.
Result<int64_t> StreamBody(BodySource& body, image::BlobWriter& w) {
  std::unique_ptr<char[]> buf(new char[kCopyBuffer]);
  int64_t total = 0;
  for (;;) {
    BERTH_ASSIGN_OR_RETURN(size_t n, body.Read(buf.get(), kCopyBuffer));
    if (n == 0) return total;
    BERTH_TRY(w.Write(buf.get(), n));
    total += static_cast<int64_t>(n);
  }
}

std::string MediaTypeOf(std::string_view content_type) {
  return std::string(Trim(content_type.substr(0, content_type.find(';'))));
}

// "N-M" (the spec), also "bytes N-M" and "bytes=N-M" (what some clients send).
std::optional<std::pair<int64_t, int64_t>> ParseContentRange(std::string_view v) {
  if (v.starts_with("bytes")) v = Trim(v.substr(5));
  if (!v.empty() && v[0] == '=') v = v.substr(1);
  v = v.substr(0, v.find('/'));
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto a = ParseInt64(Trim(v.substr(0, dash)), "range start");
  auto b = ParseInt64(Trim(v.substr(dash + 1)), "range end");
  if (!a || !b || *a < 0 || *b < *a) return std::nullopt;
  return std::make_pair(*a, *b);
}

std::string UploadRange(int64_t written) {
  return StrCat("0-", written > 0 ? written - 1 : 0);
}

std::string Base64Decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return {};
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return {};
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = in.ends_with("==") ? 2 : in.ends_with("=") ? 1 : 0;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

// ?n=&last= over a sorted list; sets the Link header when more entries follow.
Result<std::vector<std::string>> Paginate(const std::vector<std::string>& all,
                                          const std::map<std::string, std::string>& q,
                                          const std::string& path, ApiResponse& r) {
  auto start = all.begin();
  std::string last;
  if (auto it = q.find("last"); it != q.end()) {
    last = it->second;
    start = std::upper_bound(all.begin(), all.end(), last);
  }
  std::vector<std::string> page(start, all.end());
  if (auto it = q.find("n"); it != q.end()) {
    BERTH_ASSIGN_OR_RETURN(int64_t n, ParseInt64(it->second, "n"));
    if (n < 0) return InvalidArgument("n: must not be negative");
    if (static_cast<size_t>(n) < page.size()) {
      page.resize(static_cast<size_t>(n));
      if (!page.empty()) {
        r.Set("Link", StrCat('<', path, "?n=", n, "&last=", PercentEncode(page.back()),
                             ">; rel=\"next\""));
      }
    }
  }
  return page;
}

struct Call {
  const ApiRequest& req;
  BodySource& body;
  const std::string& name;
  const std::string& ref;
  const std::map<std::string, std::string>& query;
  std::string Query(const std::string& k) const {
    auto it = query.find(k);
    return it == query.end() ? "" : it->second;
  }
};

ApiResponse BadReference(std::string_view ref) {
  if (ref.find(':') != std::string_view::npos) {
    return ErrorResponse(400, "DIGEST_INVALID", StrCat("invalid digest ", Quote(ref)));
  }
  return ErrorResponse(400, "TAG_INVALID", StrCat("invalid tag ", Quote(ref)));
}

// ---- manifests

ApiResponse GetManifest(RegistryStorage& s, const Call& c, bool head) {
  if (!IsValidDigest(c.ref) && !IsValidTag(c.ref)) return BadReference(c.ref);
  auto digest = s.Resolve(c.name, c.ref);
  if (!digest) {
    if (digest.error().code() != ErrorCode::kNotFound) return Internal(digest.error());
    if (!s.RepositoryExists(c.name)) {
      return ErrorResponse(404, "NAME_UNKNOWN", StrCat("repository ", Quote(c.name), " not known"));
    }
    return ErrorResponse(404, "MANIFEST_UNKNOWN", StrCat("manifest ", Quote(c.ref), " not known"));
  }
  auto bytes = s.content().Read(*digest, RegistryApi::kMaxManifestSize);
  if (!bytes) return Internal(bytes.error());
  auto meta = s.ManifestInfo(c.name, *digest);
  if (!meta) return Internal(meta.error());
  ApiResponse r;
  r.Set("Content-Type", meta->media_type.empty() ? std::string(oci::media::kOciManifest)
                                                 : meta->media_type);
  r.Set("Docker-Content-Digest", *digest);
  r.Set("Etag", StrCat('"', *digest, '"'));
  if (head) {
    r.head_length = static_cast<int64_t>(bytes->size());
  } else {
    r.body = std::move(*bytes);
  }
  return r;
}

ApiResponse PutManifest(RegistryStorage& s, const Call& c) {
  bool by_digest = IsValidDigest(c.ref);
  if (!by_digest && !IsValidTag(c.ref)) return BadReference(c.ref);
  auto body = ReadSmallBody(c.body, RegistryApi::kMaxManifestSize);
  if (!body) {
    if (body.error().code() == ErrorCode::kInvalidArgument) {
      return ErrorResponse(413, "SIZE_INVALID", StrCat("manifest: ", body.error().message()));
    }
    return ErrorResponse(400, "MANIFEST_INVALID", body.error().message());
  }
  auto j = ParseJson(*body, "manifest");
  if (!j || !j->is_object()) {
    return ErrorResponse(400, "MANIFEST_INVALID",
                         j ? "manifest: not a JSON object" : j.error().message());
  }
  std::string media_type;
  if (auto it = j->find("mediaType"); it != j->end() && it->is_string()) media_type = *it;
  if (media_type.empty()) media_type = MediaTypeOf(c.req.Header("content-type"));
  if (media_type.empty() || (!oci::IsIndexMediaType(media_type) &&
                             !oci::IsManifestMediaType(media_type) && j->contains("manifests"))) {
    media_type = j->contains("manifests") ? oci::media::kOciIndex : oci::media::kOciManifest;
  }

  std::string digest = image::DigestOf(*body);
  if (by_digest && digest != c.ref) {
    return ErrorResponse(400, "DIGEST_INVALID",
                         StrCat("manifest digest is ", digest, ", not ", c.ref));
  }
  ManifestMeta meta;
  meta.media_type = media_type;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
  auto missing = [&](std::string_view what, const std::string& d) {
    return ErrorResponse(400, "MANIFEST_BLOB_UNKNOWN",
                         StrCat(what, ' ', d, " is not in repository ", Quote(c.name)));
  };
  if (oci::IsIndexMediaType(media_type)) {
    auto index = oci::ParseIndex(*body);
    if (!index) return ErrorResponse(400, "MANIFEST_INVALID", index.error().message());
    for (const auto& m : index->manifests) {
      if (!s.HasManifest(c.name, m.digest)) return missing("manifest", m.digest);
    }
    if (auto it = j->find("artifactType"); it != j->end() && it->is_string()) artifact_type = *it;
    annotations = index->annotations;
  } else if (oci::IsManifestMediaType(media_type)) {
    auto m = oci::ParseManifest(*body);
    if (!m) return ErrorResponse(400, "MANIFEST_INVALID", m.error().message());
    if (!s.HasBlob(c.name, m->config.digest)) return missing("config blob", m->config.digest);
    for (const auto& l : m->layers) {
      // Foreign layers (with urls) live elsewhere by design.
      if (l.urls.empty() && !s.HasBlob(c.name, l.digest)) return missing("layer blob", l.digest);
    }
    artifact_type = m->artifact_type.empty() ? m->config.media_type : m->artifact_type;
    annotations = m->annotations;
  } else {
    return ErrorResponse(400, "MANIFEST_INVALID",
                         StrCat("unsupported manifest media type ", Quote(media_type)));
  }
  if (auto it = j->find("subject"); it != j->end()) {
    auto subject = oci::ParseDescriptor(*it, "manifest: subject");
    if (!subject) return ErrorResponse(400, "MANIFEST_INVALID", subject.error().message());
    meta.subject = subject->digest;
    meta.descriptor = {{"mediaType", media_type},
                       {"digest", digest},
                       {"size", static_cast<int64_t>(body->size())}};
    if (!artifact_type.empty()) meta.descriptor["artifactType"] = artifact_type;
    if (!annotations.empty()) meta.descriptor["annotations"] = annotations;
  }
  if (auto st = s.PutManifest(c.name, by_digest ? "" : c.ref, digest, *body, meta); !st) {
    return Internal(st.error());
  }
  ApiResponse r = Empty(201);
  r.Set("Location", StrCat("/v2/", c.name, "/manifests/", digest));
  r.Set("Docker-Content-Digest", digest);
  if (!meta.subject.empty()) r.Set("OCI-Subject", meta.subject);
  return r;
}

ApiResponse DeleteManifest(RegistryStorage& s, const Call& c) {
  if (!IsValidDigest(c.ref) && !IsValidTag(c.ref)) return BadReference(c.ref);
  if (auto st = s.DeleteManifest(c.name, c.ref); !st) {
    if (st.error().code() == ErrorCode::kNotFound) {
      return ErrorResponse(404, "MANIFEST_UNKNOWN", st.error().message());
    }
    return Internal(st.error());
  }
  return Empty(202);
}

// ---- blobs

ApiResponse GetBlob(RegistryStorage& s, const Call& c, bool head) {
  if (!IsValidDigest(c.ref)) {
    return ErrorResponse(400, "DIGEST_INVALID", StrCat("invalid digest ", Quote(c.ref)));
  }
  if (!s.HasBlob(c.name, c.ref)) {
    return ErrorResponse(404, "BLOB_UNKNOWN", StrCat("blob ", c.ref, " not known"));
  }
  auto fd = s.content().OpenBlob(c.ref);
  if (!fd) {
    if (fd.error().code() == ErrorCode::kNotFound) {
      return ErrorResponse(404, "BLOB_UNKNOWN", StrCat("blob ", c.ref, " not known"));
    }
    return Internal(fd.error());
  }
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return Internal(Error::Errno(StrCat("stat blob ", c.ref)));
  int64_t size = st.st_size, first = 0, last = size - 1;
  ApiResponse r;
  std::string range = c.req.Header("range");
  if (!range.empty()) {
    std::string_view v = Trim(range);
    bool ok = v.starts_with("bytes=");
    std::optional<int64_t> a, b;
    if (ok) {
      v = v.substr(6);
      size_t dash = v.find('-');
      ok = dash != std::string_view::npos && dash > 0;
      if (ok) {
        auto pa = ParseInt64(v.substr(0, dash), "range");
        ok = pa.has_value();
        if (ok) a = *pa;
        if (ok && dash + 1 < v.size()) {
          auto pb = ParseInt64(v.substr(dash + 1), "range");
          ok = pb.has_value();
          if (ok) b = *pb;
        }
      }
    }
    if (!ok || *a < 0 || *a >= size || (b && *b < *a)) {
      ApiResponse e = ErrorResponse(416, "RANGE_INVALID", StrCat("range ", Quote(range),
                                                                  " not satisfiable"));
      e.Set("Content-Range", StrCat("bytes */", size));
      return e;
    }
    first = *a;
    last = b ? std::min(*b, size - 1) : size - 1;
    r.status = 206;
    r.Set("Content-Range", StrCat("bytes ", first, '-', last, '/', size));
  }
  r.Set("Content-Type", "application/octet-stream");
  r.Set("Docker-Content-Digest", c.ref);
  r.Set("Accept-Ranges", "bytes");
  r.Set("Etag", StrCat('"', c.ref, '"'));
  if (head) {
    r.head_length = size == 0 ? 0 : last - first + 1;
  } else {
    r.file = std::move(*fd);
    r.file_offset = first;
    r.file_length = size == 0 ? 0 : last - first + 1;
  }
  return r;
}

ApiResponse DeleteBlob(RegistryStorage& s, const Call& c) {
  if (!IsValidDigest(c.ref)) {
    return ErrorResponse(400, "DIGEST_INVALID", StrCat("invalid digest ", Quote(c.ref)));
  }
  if (auto st = s.UnlinkBlob(c.name, c.ref); !st) {
    if (st.error().code() == ErrorCode::kNotFound) {
      return ErrorResponse(404, "BLOB_UNKNOWN", st.error().message());
    }
    return Internal(st.error());
  }
  return Empty(202);
}

// ---- uploads

ApiResponse BlobCreated(const std::string& name, const std::string& digest) {
  ApiResponse r = Empty(201);
  r.Set("Location", StrCat("/v2/", name, "/blobs/", digest));
  r.Set("Docker-Content-Digest", digest);
  return r;
}

ApiResponse UploadState(int status, const std::string& name, const Upload& u) {
  ApiResponse r = Empty(status);
  r.Set("Location", StrCat("/v2/", name, "/blobs/uploads/", u.id));
  r.Set("Docker-Upload-UUID", u.id);
  r.Set("Range", UploadRange(u.writer.written()));
  return r;
}

ApiResponse CommitFailed(const Error& e) {
  if (e.code() == ErrorCode::kInvalidArgument) {
    return ErrorResponse(400, "DIGEST_INVALID", e.message());
  }
  return Internal(e);
}

ApiResponse StartUpload(RegistryStorage& s, const Call& c) {
  std::string mount = c.Query("mount"), from = c.Query("from");
  if (!mount.empty() && IsValidDigest(mount) && IsValidRepositoryName(from) &&
      s.HasBlob(from, mount)) {
    if (auto st = s.LinkBlob(c.name, mount); !st) return Internal(st.error());
    return BlobCreated(c.name, mount);
  }
  // Otherwise (no mount, or the blob is not in `from`) a plain upload, as the spec says.
  std::string digest = c.Query("digest");
  if (!digest.empty()) {
    if (!IsValidDigest(digest)) {
      return ErrorResponse(400, "DIGEST_INVALID", StrCat("invalid digest ", Quote(digest)));
    }
    auto w = s.content().NewWriter();
    if (!w) return Internal(w.error());
    if (auto n = StreamBody(c.body, *w); !n) {
      return ErrorResponse(400, "BLOB_UPLOAD_INVALID", n.error().message());
    }
    auto got = w->Commit(digest);
    if (!got) return CommitFailed(got.error());
    if (auto st = s.LinkBlob(c.name, *got); !st) return Internal(st.error());
    return BlobCreated(c.name, *got);
  }
  auto u = s.StartUpload(c.name);
  if (!u) {
    if (u.error().code() == ErrorCode::kUnsupported) {
      return ErrorResponse(429, "TOOMANYREQUESTS", u.error().message());
    }
    return Internal(u.error());
  }
  return UploadState(202, c.name, **u);
}

// The spec's 416 for a chunk that does not start where the upload stands.
std::optional<ApiResponse> CheckChunkStart(const Call& c, const Upload& u) {
  std::string cr = c.req.Header("content-range");
  if (cr.empty()) return std::nullopt;
  auto range = ParseContentRange(cr);
  if (!range || range->first != u.writer.written()) {
    ApiResponse r = ErrorResponse(
        416, "RANGE_INVALID",
        StrCat("chunk ", Quote(cr), " does not start at offset ", u.writer.written()));
    r.Set("Location", StrCat("/v2/", c.name, "/blobs/uploads/", u.id));
    r.Set("Range", UploadRange(u.writer.written()));
    r.Set("Docker-Upload-UUID", u.id);
    return r;
  }
  if (c.req.content_length >= 0 && range->second - range->first + 1 != c.req.content_length) {
    return ErrorResponse(400, "SIZE_INVALID",
                         StrCat("Content-Range ", Quote(cr), " does not match Content-Length ",
                                c.req.content_length));
  }
  return std::nullopt;
}

ApiResponse UnknownUpload(const Call& c) {
  return ErrorResponse(404, "BLOB_UPLOAD_UNKNOWN", StrCat("upload ", Quote(c.ref), " not known"));
}

ApiResponse PatchUpload(RegistryStorage& s, const Call& c) {
  auto u = s.FindUpload(c.name, c.ref);
  if (!u) return UnknownUpload(c);
  std::lock_guard lock(u->mu);
  if (auto bad = CheckChunkStart(c, *u)) return std::move(*bad);
  if (auto n = StreamBody(c.body, u->writer); !n) {
    // What arrived is kept; the client learns the offset from the upload's status.
    return ErrorResponse(400, "BLOB_UPLOAD_INVALID", n.error().message());
  }
  return UploadState(202, c.name, *u);
}

ApiResponse FinishUpload(RegistryStorage& s, const Call& c) {
  std::string digest = c.Query("digest");
  if (!IsValidDigest(digest)) {
    return ErrorResponse(400, "DIGEST_INVALID", StrCat("invalid digest ", Quote(digest)));
  }
  auto u = s.FindUpload(c.name, c.ref);
  if (!u) return UnknownUpload(c);
  std::lock_guard lock(u->mu);
  if (c.req.content_length != 0) {
    if (auto bad = CheckChunkStart(c, *u)) return std::move(*bad);
    if (auto n = StreamBody(c.body, u->writer); !n) {
      return ErrorResponse(400, "BLOB_UPLOAD_INVALID", n.error().message());
    }
  }
  auto got = s.CommitUpload(*u, digest);
  s.EndUpload(u->id);  // a failed commit cannot be retried: the hash is finished
  if (!got) return CommitFailed(got.error());
  return BlobCreated(c.name, *got);
}

ApiResponse UploadStatus(RegistryStorage& s, const Call& c) {
  auto u = s.FindUpload(c.name, c.ref);
  if (!u) return UnknownUpload(c);
  std::lock_guard lock(u->mu);
  return UploadState(204, c.name, *u);
}

ApiResponse CancelUpload(RegistryStorage& s, const Call& c) {
  auto u = s.FindUpload(c.name, c.ref);
  if (!u) return UnknownUpload(c);
  s.EndUpload(u->id);
  return Empty(204);
}

// ---- listings

ApiResponse TagsList(RegistryStorage& s, const Call& c) {
  auto tags = s.Tags(c.name);
  if (!tags) {
    if (tags.error().code() == ErrorCode::kNotFound) {
      return ErrorResponse(404, "NAME_UNKNOWN", StrCat("repository ", Quote(c.name), " not known"));
    }
    return Internal(tags.error());
  }
  ApiResponse r;
  auto page = Paginate(*tags, c.query, StrCat("/v2/", c.name, "/tags/list"), r);
  if (!page) return ErrorResponse(400, "PAGINATION_NUMBER_INVALID", page.error().message());
  ApiResponse out = JsonResponse(200, {{"name", c.name}, {"tags", *page}});
  for (auto& h : r.headers) out.headers.push_back(std::move(h));
  return out;
}

ApiResponse Catalog(RegistryStorage& s, const std::map<std::string, std::string>& query) {
  auto repos = s.Repositories();
  if (!repos) return Internal(repos.error());
  ApiResponse r;
  auto page = Paginate(*repos, query, "/v2/_catalog", r);
  if (!page) return ErrorResponse(400, "PAGINATION_NUMBER_INVALID", page.error().message());
  ApiResponse out = JsonResponse(200, {{"repositories", *page}});
  for (auto& h : r.headers) out.headers.push_back(std::move(h));
  return out;
}

ApiResponse ReferrersList(RegistryStorage& s, const Call& c) {
  if (!IsValidDigest(c.ref)) {
    return ErrorResponse(400, "DIGEST_INVALID", StrCat("invalid digest ", Quote(c.ref)));
  }
  auto all = s.Referrers(c.name, c.ref);
  if (!all) return Internal(all.error());
  std::string want = c.Query("artifactType");
  Json manifests = Json::array();
  for (auto& d : *all) {
    if (!want.empty() && d.value("artifactType", "") != want) continue;
    manifests.push_back(std::move(d));
  }
  Json index = {{"schemaVersion", 2},
                {"mediaType", oci::media::kOciIndex},
                {"manifests", std::move(manifests)}};
  ApiResponse r = JsonResponse(200, index, oci::media::kOciIndex);
  if (!want.empty()) r.Set("OCI-Filters-Applied", "artifactType");
  return r;
}

ApiResponse NotAllowed(std::string_view method) {
  return ErrorResponse(405, "UNSUPPORTED", StrCat("method ", method, " not allowed here"));
}

}  // namespace

std::string ApiRequest::Header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? std::string() : it->second;
}

RegistryApi::RegistryApi(RegistryStorage& storage, const Htpasswd* users, std::string realm)
    : storage_(storage), users_(users), realm_(std::move(realm)) {}

bool RegistryApi::Authorized(const ApiRequest& req) {
  if (users_ == nullptr) return true;
  std::string auth = req.Header("authorization");
  if (!auth.starts_with("Basic ") && !auth.starts_with("basic ")) return false;
  std::string key = image::DigestOf(auth);
  {
    std::lock_guard lock(auth_mu_);
    if (std::find(verified_.begin(), verified_.end(), key) != verified_.end()) return true;
  }
  std::string creds = Base64Decode(Trim(std::string_view(auth).substr(6)));
  size_t colon = creds.find(':');
  if (colon == std::string::npos) return false;
  if (!users_->Verify(creds.substr(0, colon), creds.substr(colon + 1))) return false;
  std::lock_guard lock(auth_mu_);
  if (verified_.size() >= kMaxRememberedCredentials) verified_.clear();
  verified_.push_back(std::move(key));
  return true;
}

ApiResponse RegistryApi::Handle(const ApiRequest& req, BodySource& body) {
  ApiResponse r = [&]() -> ApiResponse {
    std::string_view target = req.target;
    size_t qpos = target.find('?');
    std::string path;
    if (!PercentDecode(target.substr(0, qpos), path)) {
      return ErrorResponse(400, "NAME_INVALID", "malformed percent-encoding in the path");
    }
    auto query = ParseQuery(qpos == std::string_view::npos ? "" : target.substr(qpos + 1));
    Route route = ParseRoute(path);
    if (route.endpoint == Endpoint::kUnknown) {
      return ErrorResponse(404, "NOT_FOUND", StrCat("no such endpoint ", Quote(path)));
    }
    if (!Authorized(req)) {
      ApiResponse e = ErrorResponse(401, "UNAUTHORIZED", "authentication required");
      e.Set("WWW-Authenticate", StrCat("Basic realm=\"", realm_, '"'));
      return e;
    }
    const std::string& m = req.method;
    bool get = m == "GET", head = m == "HEAD";
    if (route.endpoint == Endpoint::kBase) {
      if (!get && !head) return NotAllowed(m);
      ApiResponse ok = JsonResponse(200, Json::object());
      if (head) {
        ok.head_length = static_cast<int64_t>(ok.body.size());
        ok.body.clear();
      }
      return ok;
    }
    if (route.endpoint == Endpoint::kCatalog) {
      return get ? Catalog(storage_, query) : NotAllowed(m);
    }
    if (!IsValidRepositoryName(route.name)) {
      return ErrorResponse(400, "NAME_INVALID",
                           StrCat("invalid repository name ", Quote(route.name)));
    }
    Call c{req, body, route.name, route.reference, query};
    switch (route.endpoint) {
      case Endpoint::kManifest:
        if (get || head) return GetManifest(storage_, c, head);
        if (m == "PUT") return PutManifest(storage_, c);
        if (m == "DELETE") return DeleteManifest(storage_, c);
        return NotAllowed(m);
      case Endpoint::kBlob:
        if (get || head) return GetBlob(storage_, c, head);
        if (m == "DELETE") return DeleteBlob(storage_, c);
        return NotAllowed(m);
      case Endpoint::kUploadStart:
        return m == "POST" ? StartUpload(storage_, c) : NotAllowed(m);
      case Endpoint::kUpload:
        if (m == "PATCH") return PatchUpload(storage_, c);
        if (m == "PUT") return FinishUpload(storage_, c);
        if (get) return UploadStatus(storage_, c);
        if (m == "DELETE") return CancelUpload(storage_, c);
        return NotAllowed(m);
      case Endpoint::kTagsList:
        return get ? TagsList(storage_, c) : NotAllowed(m);
      case Endpoint::kReferrers:
        return get ? ReferrersList(storage_, c) : NotAllowed(m);
      default:
        return ErrorResponse(404, "NOT_FOUND", "no such endpoint");
    }
  }();
  r.Set("Docker-Distribution-API-Version", "registry/2.0");
  return r;
}

}  // namespace berth::registry
