// berth/registry: the distribution-spec API of `berth registry serve`, independent of the
// HTTP library: the connection layer (server_http.cc, the only file that sees Beast) turns
// each request into an ApiRequest plus a BodySource, and writes back the ApiResponse.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/unique_fd.h"
#include "berth/registry/htpasswd.h"
#include "berth/registry/server_storage.h"

namespace berth::registry {

struct ApiRequest {
  std::string method;  // "GET"
  std::string target;  // "/v2/x/blobs/uploads/?digest=..." as sent
  std::map<std::string, std::string> headers;  // names lowercased
  int64_t content_length = -1;                 // -1: chunked or absent
  std::string Header(std::string_view lower_name) const;
};

// The request body, read on demand so a layer streams to disk.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Up to `n` bytes into `buf`; 0 at the end of the body.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
};

struct ApiResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When valid, the body is `file_length` bytes of `file` from `file_offset` instead.
  UniqueFd file;
  int64_t file_offset = 0;
  int64_t file_length = 0;
  // HEAD: the Content-Length announced for a body that is not sent (-1: body.size()).
  int64_t head_length = -1;
  void Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

class RegistryApi {
 public:
  // `users` null: no authentication. Both must outlive the API.
  RegistryApi(RegistryStorage& storage, const Htpasswd* users, std::string realm);
  ApiResponse Handle(const ApiRequest& req, BodySource& body);

  static constexpr int64_t kMaxManifestSize = 4 << 20;

 private:
  bool Authorized(const ApiRequest& req);

  RegistryStorage& storage_;
  const Htpasswd* users_;
  std::string realm_;
  // bcrypt is slow on purpose (~50 ms at cost 10), and clients send the credentials with
  // every request: hashes of credentials that verified are remembered.
  std::mutex auth_mu_;
  std::vector<std::string> verified_;
};

}  // namespace berth::registry
