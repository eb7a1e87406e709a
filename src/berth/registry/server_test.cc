#include "berth/registry/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <thread>
#include <vector>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/image/digest.h"
#include "berth/registry/htpasswd.h"
#include "berth/registry/server_routes.h"
#include "berth/registry/server_storage.h"

namespace berth::registry {
namespace {

using image::DigestOf;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-registry-test.XXXXXX";
    path_ = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)RemoveAll(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---- names and routes

TEST(Routes, RepositoryNames) {
  for (const char* ok : {"a", "library/busybox", "a.b_c__d---e/f0", "x/y/z", "0"}) {
    EXPECT_TRUE(IsValidRepositoryName(ok)) << ok;
  }
  for (const char* bad : {"", "/a", "a/", "a//b", "..", "a/../b", "../etc", "A", "a_", "a___b",
                          "a.-b", "-a", "a/.b", "a b", "a\\b", "_blobs", "a/_tags"}) {
    EXPECT_FALSE(IsValidRepositoryName(bad)) << bad;
  }
  EXPECT_FALSE(IsValidRepositoryName(std::string(256, 'a')));
  EXPECT_TRUE(IsValidRepositoryName(std::string(255, 'a')));
}

TEST(Routes, Tags) {
  for (const char* ok : {"latest", "v1.2.3", "_x", "A-b_c.d"}) EXPECT_TRUE(IsValidTag(ok)) << ok;
  for (const char* bad : {"", ".x", "-x", "..", "a/b", "a:b"}) EXPECT_FALSE(IsValidTag(bad)) << bad;
  EXPECT_TRUE(IsValidTag(std::string(128, 'a')));
  EXPECT_FALSE(IsValidTag(std::string(129, 'a')));
}

TEST(Routes, Endpoints) {
  EXPECT_EQ(ParseRoute("/v2/").endpoint, Endpoint::kBase);
  EXPECT_EQ(ParseRoute("/v2/_catalog").endpoint, Endpoint::kCatalog);
  Route r = ParseRoute("/v2/a/manifests/b/manifests/latest");
  EXPECT_EQ(r.endpoint, Endpoint::kManifest);
  EXPECT_EQ(r.name, "a/manifests/b");
  EXPECT_EQ(r.reference, "latest");
  r = ParseRoute("/v2/x/y/blobs/uploads/");
  EXPECT_EQ(r.endpoint, Endpoint::kUploadStart);
  EXPECT_EQ(r.name, "x/y");
  r = ParseRoute("/v2/x/blobs/uploads/abc-123");
  EXPECT_EQ(r.endpoint, Endpoint::kUpload);
  EXPECT_EQ(r.reference, "abc-123");
  r = ParseRoute("/v2/x/blobs/sha256:00");
  EXPECT_EQ(r.endpoint, Endpoint::kBlob);
  EXPECT_EQ(ParseRoute("/v2/x/tags/list").name, "x");
  EXPECT_EQ(ParseRoute("/v2/x/referrers/sha256:1").endpoint, Endpoint::kReferrers);
  EXPECT_EQ(ParseRoute("/v1/x").endpoint, Endpoint::kUnknown);
  EXPECT_EQ(ParseRoute("/v2/x").endpoint, Endpoint::kUnknown);
}

TEST(Routes, PercentDecoding) {
  std::string out;
  EXPECT_TRUE(PercentDecode("sha256%3Aab", out));
  EXPECT_EQ(out, "sha256:ab");
  EXPECT_FALSE(PercentDecode("a%2", out));
  EXPECT_FALSE(PercentDecode("a%00b", out));
  EXPECT_FALSE(PercentDecode("%zz", out));
  auto q = ParseQuery("digest=sha256%3Aff&n=3&last=");
  EXPECT_EQ(q["digest"], "sha256:ff");
  EXPECT_EQ(q["n"], "3");
  EXPECT_EQ(q.count("last"), 1u);
  EXPECT_EQ(PercentEncode("a b/c"), "a%20b/c");
}

TEST(ListenAddress, Parses) {
  auto a = ParseListenAddress("127.0.0.1:5000");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "127.0.0.1");
  EXPECT_EQ(a->second, 5000);
  a = ParseListenAddress("[::1]:80");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "::1");
  a = ParseListenAddress(":5000");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->first, "0.0.0.0");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:70000", "example.com:80", "1.2.3.4:x", "[::1]80"}) {
    auto r = ParseListenAddress(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_NE(r.error().message().find(bad), std::string::npos) << r.error().message();
  }
}

// ---- storage

TEST(Storage, BlobsManifestsTags) {
  TempDir dir;
  auto s = RegistryStorage::Open(dir.path());
  ASSERT_TRUE(s.has_value()) << s.error().message();
  RegistryStorage& st = **s;
  auto blob = st.content().Write("layer");
  ASSERT_TRUE(blob.has_value());
  EXPECT_FALSE(st.HasBlob("a/b", *blob));
  ASSERT_TRUE(st.LinkBlob("a/b", *blob).has_value());
  EXPECT_TRUE(st.HasBlob("a/b", *blob));
  EXPECT_FALSE(st.HasBlob("c", *blob));

  std::string body = R"({"schemaVersion":2})";
  std::string digest = DigestOf(body);
  ManifestMeta meta;
  meta.media_type = "application/vnd.oci.image.manifest.v1+json";
  ASSERT_TRUE(st.PutManifest("a/b", "v1", digest, body, meta).has_value());
  ASSERT_TRUE(st.PutManifest("a/b", "v2", digest, body, meta).has_value());
  EXPECT_EQ(st.Resolve("a/b", "v1").value_or(""), digest);
  EXPECT_EQ(st.Resolve("a/b", digest).value_or(""), digest);
  EXPECT_FALSE(st.Resolve("a/b", "v3").has_value());
  EXPECT_EQ(st.ManifestInfo("a/b", digest)->media_type, meta.media_type);
  EXPECT_EQ(st.Tags("a/b").value(), (std::vector<std::string>{"v1", "v2"}));
  EXPECT_FALSE(st.Tags("nope").has_value());
  ASSERT_TRUE(st.LinkBlob("c", *blob).has_value());
  EXPECT_EQ(st.Repositories().value(), (std::vector<std::string>{"a/b", "c"}));

  ASSERT_TRUE(st.DeleteManifest("a/b", "v1").has_value());
  EXPECT_EQ(st.Tags("a/b").value(), (std::vector<std::string>{"v2"}));
  ASSERT_TRUE(st.DeleteManifest("a/b", digest).has_value());  // takes v2 along
  EXPECT_TRUE(st.Tags("a/b").value().empty());
  EXPECT_FALSE(st.HasManifest("a/b", digest));
  EXPECT_EQ(st.DeleteManifest("a/b", digest).error().code(), ErrorCode::kNotFound);
}

TEST(Storage, UploadSessionsBelongToTheirRepository) {
  TempDir dir;
  auto s = RegistryStorage::Open(dir.path());
  ASSERT_TRUE(s.has_value());
  auto u = (*s)->StartUpload("a");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ((*s)->FindUpload("b", (*u)->id), nullptr);
  ASSERT_NE((*s)->FindUpload("a", (*u)->id), nullptr);
  ASSERT_TRUE((*u)->writer.Write("hello").has_value());
  auto got = (*s)->CommitUpload(**u, DigestOf("hello"));
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_TRUE((*s)->HasBlob("a", DigestOf("hello")));
  (*s)->EndUpload((*u)->id);
  EXPECT_EQ((*s)->FindUpload("a", (*u)->id), nullptr);
}

// ---- a real server on a loopback port, driven by a raw-socket HTTP/1.1 client

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
  std::string Header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? "" : it->second;
  }
};

Reply Send(uint16_t port, const std::string& method, const std::string& target,
           const std::string& body = "",
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Reply r;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return r;
  }
  std::string req = StrCat(method, ' ', target, " HTTP/1.1\r\nHost: 127.0.0.1\r\n",
                           "Connection: close\r\nContent-Length: ", body.size(), "\r\n");
  for (const auto& [k, v] : headers) req += StrCat(k, ": ", v, "\r\n");
  req += "\r\n" + body;
  (void)WriteAll(fd, req, "request");
  std::string raw;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.size() < 12) return r;
  r.status = std::atoi(raw.substr(9, 3).c_str());
  for (const auto& line : Split(raw.substr(0, end), '\n')) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(Trim(std::string_view(line).substr(colon + 1)));
  }
  r.body = raw.substr(end + 4);
  return r;
}

std::string ErrorCodeOf(const Reply& r) {
  auto j = ParseJson(r.body, "reply");
  if (!j || !j->contains("errors")) return "";
  return (*j)["errors"][0].value("code", "");
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& htpasswd = "") {
    ServerOptions o;
    o.addr = "127.0.0.1:0";
    o.root = dir_.path() + "/root";
    o.htpasswd_file = htpasswd;
    o.io_timeout_s = 10;
    o.access_log = [](std::string_view) {};
    auto s = Server::Start(o);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    server_ = std::move(*s);
    port_ = server_->port();
    thread_ = std::thread([this] { (void)server_->Run(false); });
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      thread_.join();
      server_.reset();
    }
  }
  Reply Do(const std::string& method, const std::string& target, const std::string& body = "",
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return Send(port_, method, target, body, headers);
  }
  // Pushes `data` to `repo` in one POST; returns its digest.
  std::string PushBlob(const std::string& repo, const std::string& data) {
    std::string d = DigestOf(data);
    Reply r = Do("POST", StrCat("/v2/", repo, "/blobs/uploads/?digest=", d), data);
    EXPECT_EQ(r.status, 201) << r.body;
    return d;
  }
  std::string ImageManifest(const std::string& config, const std::string& layer,
                            const std::string& extra = "") {
    return StrCat(R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)",
                  R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")",
                  DigestOf(config), R"(","size":)", config.size(), R"(},"layers":[{"mediaType":)",
                  R"("application/vnd.oci.image.layer.v1.tar","digest":")", DigestOf(layer),
                  R"(","size":)", layer.size(), "}]", extra, "}");
  }

  TempDir dir_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(ServerTest, BaseEndpoint) {
  StartServer();
  Reply r = Do("GET", "/v2/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("docker-distribution-api-version"), "registry/2.0");
  EXPECT_EQ(Do("GET", "/nope").status, 404);
}

TEST_F(ServerTest, KeepAliveSurvivesHeadErrors) {
  StartServer();
  // A HEAD answer carries no body even for an error, or the next response would be garbled.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port_);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
  std::string reqs = StrCat("HEAD /v2/x/blobs/", DigestOf("none"), " HTTP/1.1\r\nHost: h\r\n\r\n",
                            "GET /v2/ HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(WriteAll(fd, reqs, "requests").has_value());
  std::string raw;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) raw.append(buf, static_cast<size_t>(n));
  ::close(fd);
  ASSERT_EQ(raw.rfind("HTTP/1.1 404", 0), 0u) << raw;
  size_t second = raw.find("\r\n\r\n") + 4;
  EXPECT_EQ(raw.compare(second, 12, "HTTP/1.1 200"), 0) << raw;
  EXPECT_TRUE(raw.ends_with("\r\n\r\n{}")) << raw;
}

TEST_F(ServerTest, MonolithicBlobAndRanges) {
  StartServer();
  std::string data = "0123456789";
  std::string d = PushBlob("lib/x", data);
  Reply r = Do("GET", "/v2/lib/x/blobs/" + d);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, data);
  EXPECT_EQ(r.Header("docker-content-digest"), d);
  r = Do("HEAD", "/v2/lib/x/blobs/" + d);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-length"), "10");
  EXPECT_EQ(r.body, "");
  r = Do("GET", "/v2/lib/x/blobs/" + d, "", {{"Range", "bytes=7-"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "789");
  EXPECT_EQ(r.Header("content-range"), "bytes 7-9/10");
  r = Do("GET", "/v2/lib/x/blobs/" + d, "", {{"Range", "bytes=2-4"}});
  EXPECT_EQ(r.body, "234");
  EXPECT_EQ(Do("GET", "/v2/lib/x/blobs/" + d, "", {{"Range", "bytes=10-"}}).status, 416);
  // Another repository does not see it until mounted.
  EXPECT_EQ(Do("GET", "/v2/other/blobs/" + d).status, 404);
  EXPECT_EQ(ErrorCodeOf(Do("GET", "/v2/other/blobs/" + d)), "BLOB_UNKNOWN");
  r = Do("POST", StrCat("/v2/other/blobs/uploads/?mount=", d, "&from=lib/x"));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(Do("GET", "/v2/other/blobs/" + d).body, data);
  // Mounting from a repository without it falls back to an upload session.
  r = Do("POST", StrCat("/v2/third/blobs/uploads/?mount=", d, "&from=nope"));
  EXPECT_EQ(r.status, 202);
  EXPECT_FALSE(r.Header("docker-upload-uuid").empty());
  EXPECT_EQ(Do("DELETE", "/v2/other/blobs/" + d).status, 202);
  EXPECT_EQ(Do("GET", "/v2/other/blobs/" + d).status, 404);
}

TEST_F(ServerTest, ChunkedUpload) {
  StartServer();
  Reply r = Do("POST", "/v2/x/blobs/uploads/");
  ASSERT_EQ(r.status, 202);
  EXPECT_EQ(r.Header("range"), "0-0");
  std::string loc = r.Header("location");
  ASSERT_EQ(loc.rfind("/v2/x/blobs/uploads/", 0), 0u) << loc;
  r = Do("PATCH", loc, "hello", {{"Content-Range", "0-4"}});
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.Header("range"), "0-4");
  // Out of order: 416 and nothing written.
  r = Do("PATCH", loc, "xyz", {{"Content-Range", "7-9"}});
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.Header("range"), "0-4");
  r = Do("PATCH", loc, " world", {{"Content-Range", "5-10"}});
  EXPECT_EQ(r.status, 202);
  r = Do("GET", loc);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.Header("range"), "0-10");
  // The upload belongs to `x`.
  EXPECT_EQ(Do("PATCH", "/v2/y/blobs/uploads/" + r.Header("docker-upload-uuid"), "!").status,
            404);
  std::string d = DigestOf("hello world!");
  r = Do("PUT", StrCat(loc, "?digest=", d), "!");
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("location"), "/v2/x/blobs/" + d);
  EXPECT_EQ(Do("GET", "/v2/x/blobs/" + d).body, "hello world!");
  EXPECT_EQ(ErrorCodeOf(Do("GET", loc)), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(ServerTest, DigestMismatchStoresNothing) {
  StartServer();
  std::string wrong = DigestOf("something else");
  Reply r = Do("POST", "/v2/x/blobs/uploads/?digest=" + wrong, "data");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCodeOf(r), "DIGEST_INVALID");
  EXPECT_EQ(Do("HEAD", "/v2/x/blobs/" + wrong).status, 404);
  EXPECT_EQ(Do("HEAD", "/v2/x/blobs/" + DigestOf("data")).status, 404);

  r = Do("POST", "/v2/x/blobs/uploads/");
  std::string loc = r.Header("location");
  EXPECT_EQ(Do("PATCH", loc, "data").status, 202);
  r = Do("PUT", StrCat(loc, "?digest=", wrong));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCodeOf(r), "DIGEST_INVALID");
  EXPECT_EQ(Do("HEAD", "/v2/x/blobs/" + DigestOf("data")).status, 404);
  EXPECT_EQ(ErrorCodeOf(Do("PUT", loc + "?digest=sha256:zz")), "DIGEST_INVALID");
}

TEST_F(ServerTest, ManifestsAndTags) {
  StartServer();
  std::string config = R"({"architecture":"amd64","os":"linux"})", layer = "layer bytes";
  std::string manifest = ImageManifest(config, layer);
  // Blobs first, or the manifest is refused.
  Reply r = Do("PUT", "/v2/app/manifests/v1", manifest);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ErrorCodeOf(r), "MANIFEST_BLOB_UNKNOWN");
  PushBlob("app", config);
  PushBlob("app", layer);
  r = Do("PUT", "/v2/app/manifests/v1", manifest,
         {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string d = DigestOf(manifest);
  EXPECT_EQ(r.Header("docker-content-digest"), d);
  EXPECT_EQ(r.Header("location"), "/v2/app/manifests/" + d);
  EXPECT_EQ(Do("PUT", "/v2/app/manifests/v2", manifest).status, 201);
  EXPECT_EQ(Do("PUT", "/v2/app/manifests/" + d, manifest).status, 201);
  EXPECT_EQ(ErrorCodeOf(Do("PUT", "/v2/app/manifests/" + DigestOf("x"), manifest)),
            "DIGEST_INVALID");
  EXPECT_EQ(ErrorCodeOf(Do("PUT", "/v2/app/manifests/v3", "{not json")), "MANIFEST_INVALID");
  EXPECT_EQ(ErrorCodeOf(Do("PUT", "/v2/app/manifests/-bad", manifest)), "TAG_INVALID");

  for (const std::string& ref : {std::string("v1"), d}) {
    r = Do("GET", "/v2/app/manifests/" + ref);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, manifest);
    EXPECT_EQ(r.Header("content-type"), "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(r.Header("docker-content-digest"), d);
  }
  r = Do("HEAD", "/v2/app/manifests/v1");
  EXPECT_EQ(r.Header("content-length"), std::to_string(manifest.size()));
  EXPECT_EQ(ErrorCodeOf(Do("GET", "/v2/app/manifests/nope")), "MANIFEST_UNKNOWN");
  EXPECT_EQ(ErrorCodeOf(Do("GET", "/v2/nope/manifests/v1")), "NAME_UNKNOWN");

  r = Do("GET", "/v2/app/tags/list");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ParseJson(r.body, "tags")->at("tags"), Json({"v1", "v2"}));
  r = Do("GET", "/v2/app/tags/list?n=1");
  EXPECT_EQ(ParseJson(r.body, "tags")->at("tags"), Json({"v1"}));
  EXPECT_EQ(r.Header("link"), "</v2/app/tags/list?n=1&last=v1>; rel=\"next\"");
  r = Do("GET", "/v2/app/tags/list?n=1&last=v1");
  EXPECT_EQ(ParseJson(r.body, "tags")->at("tags"), Json({"v2"}));
  EXPECT_EQ(r.Header("link"), "");
  EXPECT_EQ(ErrorCodeOf(Do("GET", "/v2/nope/tags/list")), "NAME_UNKNOWN");
  r = Do("GET", "/v2/_catalog");
  EXPECT_EQ(ParseJson(r.body, "catalog")->at("repositories"), Json({"app"}));

  // An index of that manifest.
  std::string index = StrCat(
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)",
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")", d,
      R"(","size":)", manifest.size(), "}]}");
  EXPECT_EQ(Do("PUT", "/v2/app/manifests/multi", index).status, 201);
  EXPECT_EQ(ErrorCodeOf(Do("PUT", "/v2/other/manifests/multi", index)), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(Do("GET", "/v2/app/manifests/multi").Header("content-type"),
            "application/vnd.oci.image.index.v1+json");

  EXPECT_EQ(Do("DELETE", "/v2/app/manifests/v2").status, 202);
  EXPECT_EQ(Do("GET", "/v2/app/manifests/v2").status, 404);
  EXPECT_EQ(Do("DELETE", "/v2/app/manifests/" + d).status, 202);
  EXPECT_EQ(Do("GET", "/v2/app/manifests/v1").status, 404);
}

TEST_F(ServerTest, Referrers) {
  StartServer();
  std::string config = "{}", layer = "l";
  PushBlob("r", config);
  PushBlob("r", layer);
  std::string image = ImageManifest(config, layer);
  ASSERT_EQ(Do("PUT", "/v2/r/manifests/v1", image).status, 201);
  std::string subject = StrCat(R"(,"artifactType":"application/x-sig","subject":{"mediaType":)",
                               R"("application/vnd.oci.image.manifest.v1+json","digest":")",
                               DigestOf(image), R"(","size":)", image.size(), "}");
  std::string sig = ImageManifest(config, layer, subject);
  Reply r = Do("PUT", "/v2/r/manifests/" + DigestOf(sig), sig);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Header("oci-subject"), DigestOf(image));
  r = Do("GET", "/v2/r/referrers/" + DigestOf(image));
  ASSERT_EQ(r.status, 200);
  auto j = ParseJson(r.body, "referrers");
  ASSERT_EQ(j->at("manifests").size(), 1u);
  EXPECT_EQ(j->at("manifests")[0]["digest"], DigestOf(sig));
  EXPECT_EQ(j->at("manifests")[0]["artifactType"], "application/x-sig");
  r = Do("GET", "/v2/r/referrers/" + DigestOf(image) + "?artifactType=application/x-other");
  EXPECT_EQ(ParseJson(r.body, "referrers")->at("manifests").size(), 0u);
  EXPECT_EQ(r.Header("oci-filters-applied"), "artifactType");
  EXPECT_EQ(Do("DELETE", "/v2/r/manifests/" + DigestOf(sig)).status, 202);
  r = Do("GET", "/v2/r/referrers/" + DigestOf(image));
  EXPECT_EQ(ParseJson(r.body, "referrers")->at("manifests").size(), 0u);
}

TEST_F(ServerTest, NamesCannotEscapeTheRoot) {
  StartServer();
  for (const char* target :
       {"/v2/../../etc/tags/list", "/v2/a/%2E%2E/%2E%2E/x/tags/list", "/v2/%2Fetc/tags/list",
        "/v2/UP/tags/list", "/v2/a//b/tags/list", "/v2/_x/tags/list"}) {
    Reply r = Do("GET", target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_EQ(ErrorCodeOf(r), "NAME_INVALID") << target;
  }
  Reply r = Do("POST", "/v2/..%2F..%2Fescape/blobs/uploads/?digest=" + DigestOf("x"), "x");
  EXPECT_EQ(ErrorCodeOf(r), "NAME_INVALID");
  r = Do("PUT", "/v2/a/manifests/..", "{}");
  EXPECT_EQ(ErrorCodeOf(r), "TAG_INVALID");
  // Encoded slashes become separators, and the path then names no endpoint.
  r = Do("PUT", "/v2/a/manifests/..%2F..%2Fx", "{}");
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(PathExists(dir_.path() + "/escape"));
  EXPECT_FALSE(PathExists(dir_.path() + "/root/escape"));
}

TEST_F(ServerTest, ConcurrentPushesOfOneBlob) {
  StartServer();
  std::string data(1 << 20, 'z');
  std::string d = DigestOf(data);
  std::atomic<int> created{0};
  std::vector<std::thread> pushers;
  for (int i = 0; i < 8; ++i) {
    pushers.emplace_back([&, i] {
      std::string repo = i % 2 ? "same" : StrCat("r", i);
      Reply r = Send(port_, "POST", StrCat("/v2/", repo, "/blobs/uploads/?digest=", d), data);
      if (r.status == 201) ++created;
    });
  }
  for (auto& t : pushers) t.join();
  EXPECT_EQ(created.load(), 8);
  EXPECT_EQ(Do("GET", "/v2/same/blobs/" + d).body, data);
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Reads until `want` shows up or the peer closes.
std::string ReadUntil(int fd, std::string_view want) {
  std::string raw;
  char buf[4096];
  while (want.empty() || raw.find(want) == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  return raw;
}

TEST_F(ServerTest, ExpectContinueAndChunkedBodies) {
  StartServer();
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  std::string d = DigestOf("payload");
  ASSERT_TRUE(WriteAll(fd, StrCat("POST /v2/e/blobs/uploads/?digest=", d, " HTTP/1.1\r\nHost: h\r\n",
                                  "Content-Length: 7\r\nExpect: 100-continue\r\n\r\n"),
                       "head")
                  .has_value());
  EXPECT_EQ(ReadUntil(fd, "\r\n\r\n").rfind("HTTP/1.1 100 Continue", 0), 0u);
  ASSERT_TRUE(WriteAll(fd, "payload", "body").has_value());
  EXPECT_EQ(ReadUntil(fd, "\r\n\r\n").rfind("HTTP/1.1 201", 0), 0u);
  // The same connection again, with a chunked body this time.
  std::string d2 = DigestOf("hello world");
  ASSERT_TRUE(WriteAll(fd, StrCat("POST /v2/e/blobs/uploads/?digest=", d2, " HTTP/1.1\r\nHost: h\r\n",
                                  "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                                  "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"),
                       "chunked")
                  .has_value());
  EXPECT_EQ(ReadUntil(fd, "").rfind("HTTP/1.1 201", 0), 0u);
  ::close(fd);
  EXPECT_EQ(Do("GET", "/v2/e/blobs/" + d2).body, "hello world");
}

TEST_F(ServerTest, OversizedHeadersAreRefused) {
  StartServer();
  Reply r = Do("GET", "/v2/", "", {{"X-Big", std::string(70 << 10, 'x')}});
  EXPECT_EQ(r.status, 431);
}

TEST_F(ServerTest, SilentClientsTimeOut) {
  ServerOptions o;
  o.addr = "127.0.0.1:0";
  o.root = dir_.path() + "/root";
  o.io_timeout_s = 1;
  o.idle_timeout_s = 1;
  o.access_log = [](std::string_view) {};
  auto s = Server::Start(o);
  ASSERT_TRUE(s.has_value());
  server_ = std::move(*s);
  port_ = server_->port();
  thread_ = std::thread([this] { (void)server_->Run(false); });

  auto t0 = std::chrono::steady_clock::now();
  int idle = Connect(port_);
  EXPECT_EQ(ReadUntil(idle, ""), "");  // closed without a word
  ::close(idle);
  // A body that stops halfway: the connection goes, and nothing is stored.
  int stalled = Connect(port_);
  std::string d = DigestOf(std::string(100, 'a'));
  ASSERT_TRUE(WriteAll(stalled, StrCat("POST /v2/t/blobs/uploads/?digest=", d,
                                       " HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\n",
                                       std::string(10, 'a')),
                       "partial")
                  .has_value());
  ReadUntil(stalled, "");
  ::close(stalled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(8));
  EXPECT_EQ(Do("HEAD", "/v2/t/blobs/" + d).status, 404);
}

TEST_F(ServerTest, StopEndsOpenConnections) {
  StartServer();
  int fd = Connect(port_);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(Do("GET", "/v2/").status, 200);  // the server is accepting
  auto t0 = std::chrono::steady_clock::now();
  server_->Stop();
  thread_.join();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(ReadUntil(fd, ""), "");
  ::close(fd);
}

TEST_F(ServerTest, BasicAuth) {
  auto hash = BcryptHash("pw", "$2b$05$abcdefghijklmnopqrstuu");
  ASSERT_TRUE(hash.has_value());
  std::string file = dir_.path() + "/htpasswd";
  ASSERT_TRUE(WriteFile(file, "alice:" + *hash + "\n").has_value());
  StartServer(file);
  Reply r = Do("GET", "/v2/");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.Header("www-authenticate"), "Basic realm=\"berth-registry\"");
  EXPECT_EQ(ErrorCodeOf(r), "UNAUTHORIZED");
  // alice:pw and alice:no
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Basic YWxpY2U6cHc="}}).status, 200);
  EXPECT_EQ(Do("GET", "/v2/", "", {{"Authorization", "Basic YWxpY2U6bm8="}}).status, 401);
  EXPECT_EQ(Do("GET", "/v2/_catalog").status, 401);
}

TEST(ServerStart, BadOptionsNameTheirObject) {
  TempDir dir;
  ServerOptions o;
  o.root = dir.path();
  o.addr = "nowhere:1";
  auto s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("nowhere"), std::string::npos);
  o.addr = "127.0.0.1:0";
  o.tls_cert_file = dir.path() + "/missing.pem";
  o.tls_key_file = dir.path() + "/missing.key";
  s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("missing.pem"), std::string::npos) << s.error().message();
  ASSERT_TRUE(WriteFile(dir.path() + "/garbage.pem", "not a cert").has_value());
  o.tls_cert_file = dir.path() + "/garbage.pem";
  o.tls_key_file = dir.path() + "/garbage.pem";
  s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("--tls-cert"), std::string::npos) << s.error().message();
  o.tls_cert_file.clear();
  o.tls_key_file.clear();
  ASSERT_TRUE(WriteFile(dir.path() + "/users", "bob:plain\n").has_value());
  o.htpasswd_file = dir.path() + "/users";
  s = Server::Start(o);
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("line 1"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace berth::registry
