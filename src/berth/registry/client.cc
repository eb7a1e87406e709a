// berth/registry: the distribution API client.
#include "berth/registry/client.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>
#include <cstdlib>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/base/file.h"
#include "berth/image/digest.h"
#include "berth/oci/image.h"

namespace berth::registry {

namespace {

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : s) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out.push_back(static_cast<char>(ch));
    } else {
      out.push_back('%');
      out.push_back(kHex[ch >> 4]);
      out.push_back(kHex[ch & 15]);
    }
  }
  return out;
}

// localhost, 127.0.0.0/8 or ::1 written as addresses (a name like 127.example.com is not).
bool IsLoopback(std::string_view domain) {
  std::string_view host = domain;
  if (host.starts_with("[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  if (host == "localhost") return true;
  std::string h(host);
  unsigned char v4[4], v6[16];
  if (::inet_pton(AF_INET, h.c_str(), v4) == 1) return v4[0] == 127;
  if (::inet_pton(AF_INET6, h.c_str(), v6) == 1) {
    static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(v6, kLoop, 16) == 0;
  }
  return false;
}

// "MANIFEST_UNKNOWN: manifest unknown" from the spec's error body, or the status line.
std::string RegistryError(const HttpResponse& resp) {
  auto j = ParseJson(resp.body, "error");
  std::vector<std::string> parts;
  if (j.has_value() && j->is_object() && j->contains("errors") && (*j)["errors"].is_array()) {
    for (const auto& e : (*j)["errors"]) {
      if (!e.is_object()) continue;
      // Registries are not all strict about types: a number here must not throw.
      auto text = [&](const char* key) {
        auto it = e.find(key);
        return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
      };
      std::string code = text("code");
      std::string msg = text("message");
      parts.push_back(code.empty() ? msg : msg.empty() ? code : StrCat(code, ": ", msg));
    }
  }
  std::string head = StrCat("HTTP ", resp.status);
  if (parts.empty()) {
    std::string body(Trim(resp.body.substr(0, 200)));
    bool printable = !body.empty() && body.find('<') == std::string::npos;
    for (char ch : body)
      if (static_cast<unsigned char>(ch) < 0x20) printable = false;
    return printable ? StrCat(head, ": ", body) : head;
  }
  return StrCat(head, ": ", Join(parts, "; "));
}

ErrorCode CodeForStatus(int status) {
  switch (status) {
    case 401:
    case 403: return ErrorCode::kPermissionDenied;
    case 404: return ErrorCode::kNotFound;
    case 400:
    case 416: return ErrorCode::kInvalidArgument;
    default: return ErrorCode::kUnavailable;
  }
}

std::string MediaTypeOf(const HttpResponse& resp, std::string_view data) {
  std::string ct = resp.Header("content-type");
  ct = ct.substr(0, ct.find(';'));
  std::string from_body;
  auto j = ParseJson(data, "manifest");
  if (j.has_value() && j->is_object() && j->contains("mediaType") && (*j)["mediaType"].is_string())
    from_body = (*j)["mediaType"].get<std::string>();
  if (!from_body.empty()) return from_body;
  if (oci::IsIndexMediaType(ct) || oci::IsManifestMediaType(ct)) return ct;
  if (j.has_value() && j->is_object() && j->contains("manifests"))
    return std::string(oci::media::kOciIndex);
  return std::string(oci::media::kOciManifest);
}

}  // namespace

std::string ManifestAcceptHeader() {
  return StrCat(oci::media::kOciIndex, ", ", oci::media::kOciManifest, ", ",
                oci::media::kDockerManifestList, ", ", oci::media::kDockerManifest);
}

struct RegistryClient::Impl {
  std::string domain;
  RegistryConfig config;
  bool insecure = false;
  std::string scheme;  // decided by the first request that reaches the registry
  std::unique_ptr<HttpClient> http;
  std::map<std::string, std::string> authorization;  // scope -> header value
  std::map<std::string, std::optional<Credentials>> credentials;  // repository -> found

  std::string Endpoint() const { return domain == "docker.io" ? "registry-1.docker.io" : domain; }

  std::string CertDir() const {
    if (!config.cert_dir.empty()) return config.cert_dir;
    for (const char* base : {"/etc/containers/certs.d/", "/etc/docker/certs.d/"}) {
      std::string d = StrCat(base, domain);
      if (PathExists(d)) return d;
    }
    return {};
  }

  Result<std::optional<Credentials>> CredentialsFor(std::string_view repository) {
    if (config.credentials) return config.credentials;
    auto it = credentials.find(std::string(repository));
    if (it != credentials.end()) return it->second;
    std::string file = config.auth_file.empty() ? DefaultAuthFile() : config.auth_file;
    BERTH_ASSIGN_OR_RETURN(auto found, LookupCredentials(file, domain, repository));
    credentials[std::string(repository)] = found;
    return found;
  }

  HttpClient& Http() {
    if (!http) {
      HttpOptions o;
      o.tls.verify = !insecure;
      o.tls.cert_dir = CertDir();
      o.idle_timeout_ms = config.idle_timeout_ms;
      o.connect_timeout_ms = std::min(config.idle_timeout_ms, 30'000);
      http = std::make_unique<HttpClient>(o);
    }
    return *http;
  }

  std::string Url(std::string_view path) const {
    return StrCat(scheme.empty() ? "https" : scheme, "://", Endpoint(), path);
  }

  // Sends `req` (its url relative when it starts with '/'), authenticating as the registry
  // asks; scope is the token scope ("repository:NAME:pull").
  Result<HttpResponse> Send(HttpRequest req, const std::string& scope, const BodySink* sink,
                            int64_t max_body = 8 << 20) {
    bool relative = !req.url.empty() && req.url[0] == '/';
    std::string path = req.url;
    // A streamed body has side effects: once its headers arrived, the scheme is settled, so
    // a failure later in the body is never retried over plain HTTP.
    if (sink != nullptr) {
      auto inner = req.on_headers;
      req.on_headers = [this, inner, &req](const HttpResponse& r) -> Status {
        if (scheme.empty()) scheme = req.url.substr(0, req.url.find(':'));
        return inner ? inner(r) : Ok();
      };
    }
    auto send_once = [&]() -> Result<HttpResponse> {
      if (relative) req.url = Url(path);
      std::erase_if(req.headers, [](const auto& h) { return h.first == "Authorization"; });
      // Credentials go to the registry only, never to another origin a Location or Link
      // header names.
      auto it = authorization.find(scope);
      auto target = registry::Url::Parse(req.url);
      auto self = registry::Url::Parse(Url("/"));
      if (it != authorization.end() && target.has_value() && self.has_value() &&
          target->Origin() == self->Origin())
        req.headers.emplace_back("Authorization", it->second);
      return sink ? Http().Stream(req, *sink) : Http().Do(req, max_body);
    };
    auto resp = send_once();
    if (!resp.has_value() && scheme.empty() && relative) {
      // First contact failed over HTTPS: an insecure registry may speak plain HTTP.
      if (insecure && resp.error().code() == ErrorCode::kUnavailable) {
        std::string https_error = resp.error().message();
        scheme = "http";
        resp = send_once();
        if (!resp.has_value())
          return Unexpected(std::move(resp).error().Wrap(
              StrCat("over HTTPS: ", https_error, "; over HTTP")));
      }
    }
    if (!resp.has_value()) return resp;
    if (scheme.empty() && relative) scheme = req.url.substr(0, req.url.find(':'));
    if (resp->status != 401) return resp;

    // Unauthorized: answer the challenge once.
    auto challenges = ParseWwwAuthenticate(resp->Header("www-authenticate"));
    std::string repository;
    if (size_t p = scope.find(':'); p != std::string::npos)
      repository = scope.substr(p + 1, scope.find(':', p + 1) - p - 1);
    BERTH_ASSIGN_OR_RETURN(auto creds, CredentialsFor(repository));
    const Challenge* bearer = nullptr;
    const Challenge* basic = nullptr;
    for (const auto& c : challenges) {
      if (c.scheme == "bearer" && !bearer) bearer = &c;
      if (c.scheme == "basic" && !basic) basic = &c;
    }
    if (bearer) {
      BERTH_ASSIGN_OR_RETURN(std::string token, FetchToken(*bearer, scope, creds));
      authorization[scope] = "Bearer " + token;
    } else if (basic) {
      if (!creds)
        return Fail(ErrorCode::kPermissionDenied,
                    StrCat(req.method, " ", req.url, ": ", domain,
                           " requires authentication: run `berth login ", domain, "`"));
      authorization[scope] =
          "Basic " + Base64Encode(StrCat(creds->username, ":", creds->password));
    } else {
      return Fail(ErrorCode::kPermissionDenied,
                  StrCat(req.method, " ", req.url, ": unauthorized, and no supported challenge in ",
                         Quote(resp->Header("www-authenticate"))));
    }
    resp = send_once();
    if (resp.has_value() && resp->status == 401)
      return Fail(ErrorCode::kPermissionDenied,
                  StrCat(req.method, " ", req.url, ": ", RegistryError(*resp),
                         creds ? " (credentials rejected)" : " (no credentials for this registry)"));
    return resp;
  }

  Result<std::string> FetchToken(const Challenge& c, const std::string& scope,
                                 const std::optional<Credentials>& creds) {
    auto realm = c.params.find("realm");
    if (realm == c.params.end() || realm->second.empty())
      return Fail(ErrorCode::kUnavailable, StrCat(domain, ": bearer challenge without a realm"));
    std::string url = realm->second;
    std::string sep = url.find('?') == std::string::npos ? "?" : "&";
    if (auto s = c.params.find("service"); s != c.params.end()) {
      url += sep + "service=" + UrlEncode(s->second);
      sep = "&";
    }
    for (const auto& one : SplitNonEmpty(scope, ' ')) {
      url += sep + "scope=" + UrlEncode(one);
      sep = "&";
    }
    HttpRequest req;
    req.url = url;
    if (creds)
      req.headers.emplace_back("Authorization",
                               "Basic " + Base64Encode(StrCat(creds->username, ":", creds->password)));
    std::string ctx = StrCat("token from ", realm->second);
    BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp, Http().Do(req, 1 << 20), ctx);
    if (resp.status == 401 || resp.status == 403)
      return Fail(ErrorCode::kPermissionDenied,
                  StrCat(ctx, ": ", RegistryError(resp),
                         creds ? " (credentials rejected)" : " (no credentials)"));
    if (resp.status != 200)
      return Fail(CodeForStatus(resp.status), StrCat(ctx, ": ", RegistryError(resp)));
    BERTH_ASSIGN_OR_RETURN_CTX(Json j, ParseJson(resp.body, "token response"), ctx);
    for (const char* key : {"token", "access_token"}) {
      if (j.is_object() && j.contains(key) && j[key].is_string() &&
          !j[key].get<std::string>().empty())
        return j[key].get<std::string>();
    }
    return Fail(ErrorCode::kUnavailable, StrCat(ctx, ": the response holds no token"));
  }

  Result<HttpResponse> Expect(HttpRequest req, const std::string& scope,
                              std::initializer_list<int> ok, const BodySink* sink = nullptr,
                              int64_t max_body = 8 << 20) {
    std::string what = StrCat(req.method, " ", req.url);
    BERTH_ASSIGN_OR_RETURN(HttpResponse resp, Send(std::move(req), scope, sink, max_body));
    for (int s : ok)
      if (resp.status == s) return resp;
    return Fail(CodeForStatus(resp.status),
                StrCat(what.substr(0, what.find(' ') + 1), resp.url, ": ", RegistryError(resp)));
  }
};

RegistryClient::RegistryClient(std::string domain, RegistryConfig config)
    : domain_(std::move(domain)), impl_(std::make_unique<Impl>()) {
  impl_->domain = domain_;
  impl_->insecure = config.tls_verify.has_value() ? !*config.tls_verify : IsLoopback(domain_);
  impl_->config = std::move(config);
  // Tests shorten the idle timeout to exercise a stalled server.
  if (const char* t = std::getenv("BERTH_REGISTRY_TIMEOUT"); t != nullptr && *t != '\0') {
    auto secs = ParseInt64(t, "BERTH_REGISTRY_TIMEOUT");
    if (secs.has_value() && *secs > 0 && *secs < 86400)
      impl_->config.idle_timeout_ms = static_cast<int>(*secs * 1000);
  }
}

RegistryClient::~RegistryClient() = default;

namespace {
std::string PullScope(std::string_view repo) { return StrCat("repository:", repo, ":pull"); }
std::string PushScope(std::string_view repo) { return StrCat("repository:", repo, ":pull,push"); }
}  // namespace

Status RegistryClient::CheckLogin() {
  HttpRequest req;
  req.url = "/v2/";
  // Login must prove the credentials: an anonymous 200 from a registry that challenges
  // only some requests says nothing, so a basic header goes with the first request too.
  BERTH_ASSIGN_OR_RETURN(auto creds, impl_->CredentialsFor(""));
  if (creds)
    impl_->authorization[""] =
        "Basic " + Base64Encode(StrCat(creds->username, ":", creds->password));
  BERTH_ASSIGN_OR_RETURN(HttpResponse resp, impl_->Send(req, "", nullptr));
  if (resp.status == 200) return Ok();
  return Fail(CodeForStatus(resp.status),
              StrCat("log in to ", domain_, ": ", RegistryError(resp)));
}

Result<FetchedManifest> RegistryClient::GetManifest(std::string_view repository,
                                                    std::string_view reference) {
  HttpRequest req;
  req.url = StrCat("/v2/", repository, "/manifests/", reference);
  req.headers.emplace_back("Accept", ManifestAcceptHeader());
  std::string what = StrCat("manifest ", domain_, "/", repository, ":", reference);
  BERTH_ASSIGN_OR_RETURN_CTX(
      HttpResponse resp, impl_->Expect(req, PullScope(repository), {200}, nullptr, 4 << 20), what);
  FetchedManifest m;
  m.data = std::move(resp.body);
  m.digest = image::DigestOf(m.data);
  bool by_digest = reference.find(':') != std::string_view::npos;
  if (by_digest && m.digest != reference)
    return InvalidArgument(StrCat(what, ": digest mismatch: the registry sent content with digest ",
                                  m.digest));
  std::string announced = resp.Header("docker-content-digest");
  if (!by_digest && announced.starts_with("sha256:") && announced != m.digest)
    return InvalidArgument(StrCat(what, ": digest mismatch: the registry announced ", announced,
                                  " but sent content with digest ", m.digest));
  m.media_type = MediaTypeOf(resp, m.data);
  return m;
}

Status RegistryClient::FetchBlob(std::string_view repository, std::string_view digest,
                                 int64_t offset, const std::function<Status(int64_t)>& on_start,
                                 const BodySink& sink) {
  HttpRequest req;
  req.url = StrCat("/v2/", repository, "/blobs/", digest);
  if (offset > 0) req.headers.emplace_back("Range", StrCat("bytes=", offset, "-"));
  req.on_headers = [&](const HttpResponse& r) -> Status {
    if (r.status == 206) {
      // "bytes START-END/TOTAL": a server that answers another range than asked is wrong.
      std::string range = r.Header("content-range");
      std::string want = StrCat("bytes ", offset, "-");
      if (!range.starts_with(want))
        return Fail(ErrorCode::kUnavailable,
                    StrCat("asked for bytes from ", offset, ", got range ", Quote(range)));
      return on_start(offset);
    }
    return on_start(0);
  };
  BERTH_TRY_CTX(impl_->Expect(req, PullScope(repository), {200, 206}, &sink),
                StrCat("blob ", digest));
  return Ok();
}

Result<std::string> RegistryClient::FetchSmallBlob(std::string_view repository,
                                                   std::string_view digest, int64_t max_size) {
  HttpRequest req;
  req.url = StrCat("/v2/", repository, "/blobs/", digest);
  std::string what = StrCat("blob ", digest);
  BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp,
                             impl_->Expect(req, PullScope(repository), {200}, nullptr, max_size),
                             what);
  std::string got = image::DigestOf(resp.body);
  if (got != digest)
    return InvalidArgument(StrCat(what, ": digest mismatch: the registry sent content with digest ", got));
  return std::move(resp.body);
}

Result<bool> RegistryClient::HasBlob(std::string_view repository, std::string_view digest) {
  HttpRequest req;
  req.method = "HEAD";
  req.url = StrCat("/v2/", repository, "/blobs/", digest);
  BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp,
                             impl_->Expect(req, PushScope(repository), {200, 404}),
                             StrCat("blob ", digest));
  return resp.status == 200;
}

Result<bool> RegistryClient::MountBlob(std::string_view repository, std::string_view digest,
                                       std::string_view from_repository) {
  HttpRequest req;
  req.method = "POST";
  req.url = StrCat("/v2/", repository, "/blobs/uploads/?mount=", digest, "&from=", from_repository);
  std::string scope = StrCat(PushScope(repository), " ", PullScope(from_repository));
  BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp, impl_->Expect(req, scope, {201, 202}),
                             StrCat("mount blob ", digest, " from ", from_repository));
  if (resp.status == 201) return true;
  // An upload was started instead: cancel it (best effort; it expires anyway).
  if (std::string loc = resp.Header("location"); !loc.empty()) {
    auto base = Url::Parse(resp.url);
    if (base.has_value()) {
      auto target = base->Resolve(loc);
      if (target.has_value()) {
        HttpRequest del;
        del.method = "DELETE";
        del.url = target->String();
        (void)impl_->Send(del, scope, nullptr);
      }
    }
  }
  return false;
}

Status RegistryClient::UploadBlob(std::string_view repository, std::string_view digest, int fd,
                                  int64_t size, int64_t chunk_size) {
  std::string what = StrCat("upload blob ", digest);
  std::string scope = PushScope(repository);
  HttpRequest start;
  start.method = "POST";
  start.url = StrCat("/v2/", repository, "/blobs/uploads/");
  BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp, impl_->Expect(start, scope, {202}), what);
  auto next_location = [&](const HttpResponse& r) -> Result<std::string> {
    std::string loc = r.Header("location");
    if (loc.empty())
      return Fail(ErrorCode::kUnavailable, StrCat(what, ": the registry sent no upload location"));
    BERTH_ASSIGN_OR_RETURN(registry::Url base, registry::Url::Parse(r.url));
    BERTH_ASSIGN_OR_RETURN(registry::Url u, base.Resolve(loc));
    return u.String();
  };
  BERTH_ASSIGN_OR_RETURN_CTX(std::string location, next_location(resp), what);

  int64_t done = 0;
  if (chunk_size > 0 && chunk_size < size) {
    while (done < size) {
      int64_t n = std::min(chunk_size, size - done);
      HttpRequest patch;
      patch.method = "PATCH";
      patch.url = location;
      patch.body_fd = fd;
      patch.body_offset = done;
      patch.body_length = n;
      patch.headers = {{"Content-Type", "application/octet-stream"},
                       {"Content-Range", StrCat(done, "-", done + n - 1)}};
      BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse r, impl_->Expect(patch, scope, {202, 204}),
                                 StrCat(what, ": chunk at ", done));
      BERTH_ASSIGN_OR_RETURN_CTX(location, next_location(r), what);
      done += n;
    }
  }
  HttpRequest put;
  put.method = "PUT";
  put.url = StrCat(location, location.find('?') == std::string::npos ? "?" : "&", "digest=",
                   UrlEncode(digest));
  put.headers = {{"Content-Type", "application/octet-stream"}};
  if (done < size) {
    put.body_fd = fd;
    put.body_offset = done;
    put.body_length = size - done;
  }
  BERTH_TRY_CTX(impl_->Expect(put, scope, {201, 204}), what);
  return Ok();
}

Result<std::string> RegistryClient::PutManifest(std::string_view repository,
                                                 std::string_view reference,
                                                 std::string_view data,
                                                 std::string_view media_type) {
  HttpRequest req;
  req.method = "PUT";
  req.url = StrCat("/v2/", repository, "/manifests/", reference);
  req.body = std::string(data);
  req.headers = {{"Content-Type", std::string(media_type)}};
  BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp, impl_->Expect(req, PushScope(repository), {200, 201, 202}),
                             StrCat("put manifest ", repository, ":", reference));
  std::string digest = resp.Header("docker-content-digest");
  return digest.empty() ? image::DigestOf(data) : digest;
}

Result<std::vector<std::string>> RegistryClient::ListTags(std::string_view repository) {
  std::vector<std::string> tags;
  std::string url = StrCat("/v2/", repository, "/tags/list");
  for (int page = 0; page < 1000 && !url.empty(); ++page) {
    HttpRequest req;
    req.url = url;
    BERTH_ASSIGN_OR_RETURN_CTX(HttpResponse resp, impl_->Expect(req, PullScope(repository), {200}),
                               StrCat("tags of ", repository));
    BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(resp.body, "tags list"));
    if (j.is_object() && j.contains("tags") && j["tags"].is_array())
      for (const auto& t : j["tags"])
        if (t.is_string()) tags.push_back(t.get<std::string>());
    // Link: </v2/name/tags/list?n=..&last=..>; rel="next"
    std::string link = resp.Header("link");
    url.clear();
    if (size_t lt = link.find('<'), gt = link.find('>'); lt != std::string::npos &&
        gt != std::string::npos && gt > lt && link.find("rel=\"next\"") != std::string::npos)
      url = link.substr(lt + 1, gt - lt - 1);
  }
  return tags;
}

Status ForEachParallel(RegistryClient& first, const RegistryConfig& config, int parallel,
                       size_t count, const std::function<Status(RegistryClient&, size_t)>& job) {
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::optional<Error> first_error;
  auto worker = [&](RegistryClient* mine) {
    std::unique_ptr<RegistryClient> own;
    if (mine == nullptr) {
      own = std::make_unique<RegistryClient>(first.domain(), config);
      mine = own.get();
    }
    while (true) {
      {
        std::lock_guard lock(err_mu);
        if (first_error) return;
      }
      size_t i = next.fetch_add(1);
      if (i >= count) return;
      Status st = job(*mine, i);
      if (!st.has_value()) {
        std::lock_guard lock(err_mu);
        if (!first_error) first_error = st.error();
      }
    }
  };
  size_t n_workers = std::min<size_t>(std::max(1, parallel), std::max<size_t>(count, 1));
  std::vector<std::thread> threads;
  for (size_t w = 1; w < n_workers; ++w) threads.emplace_back(worker, nullptr);
  worker(&first);
  for (auto& t : threads) t.join();
  if (first_error) return Unexpected(*first_error);
  return Ok();
}

}  // namespace berth::registry
