// berth/registry: a small HTTP/1.1 client for the distribution API, over Boost.Beast (plain
// TCP or TLS through OpenSSL). One idle keep-alive connection is kept per origin; a client is
// used by one thread at a time (parallel downloads each take their own). Every network
// operation has an idle timeout, so a server that stalls is an error, not a hang.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"

namespace berth::registry {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::string port;    // always set ("443" by default for https)
  std::string target;  // path and query, "/" at least

  static Result<Url> Parse(std::string_view text);
  std::string Origin() const;  // "https://host:port"
  std::string String() const { return Origin() + target; }
  // A `Location` header relative to this URL (absolute, absolute-path or relative).
  Result<Url> Resolve(std::string_view location) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct TlsOptions {
  bool verify = true;
  // Extra trust and client certificates, docker's certs.d layout: *.crt are CAs,
  // NAME.cert with NAME.key a client certificate.
  std::string cert_dir;
};

struct HttpOptions {
  TlsOptions tls;
  int connect_timeout_ms = 30'000;
  int idle_timeout_ms = 60'000;  // no byte moved for this long: the request fails
  int max_redirects = 5;
};

struct HttpResponse {
  int status = 0;
  Headers headers;  // names lowercased
  std::string body;
  std::string url;  // after redirects
  std::string Header(std::string_view lowercase_name) const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // A body read from a file instead: `body_length` bytes from `body_offset` of `body_fd`.
  int body_fd = -1;
  int64_t body_offset = 0;
  int64_t body_length = -1;
  bool follow_redirects = true;
  // Stream(): called with the status and headers of a 2xx response before its body.
  std::function<Status(const HttpResponse&)> on_headers;
};


// Receives a streamed body; an error stops the transfer.
using BodySink = std::function<Status(const char* data, size_t n)>;

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  const HttpOptions& options() const;

  // The whole response; a body larger than `max_body` is an error.
  Result<HttpResponse> Do(const HttpRequest& request, int64_t max_body = 8 << 20);
  // A 2xx body goes to `sink` as it arrives (response.body stays empty); any other status's
  // body (capped at 64 KiB) is returned in the response for the caller's error message.
  Result<HttpResponse> Stream(const HttpRequest& request, const BodySink& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "user:password" in base64 (HTTP basic auth, auth.json's "auth").
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace berth::registry
