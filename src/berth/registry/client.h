// berth/registry: a client of one registry's distribution API (OCI distribution spec v1.1):
// manifests, blobs (ranged reads), uploads (monolithic, chunked, cross-repository mounts),
// tags. Authentication follows the registry's challenges: anonymous, basic, or a bearer token
// fetched from the realm it names, cached per scope.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/registry/auth.h"
#include "berth/registry/http_client.h"

namespace berth::registry {

struct RegistryConfig {
  std::string auth_file;                   // empty: DefaultAuthFile()
  std::optional<Credentials> credentials;  // --creds: instead of the auth file
  // --tls-verify. Unset: verify, except on loopback registries, which (as in docker) may
  // also be spoken to in plain HTTP. false: no certificate checks, and plain HTTP allowed.
  std::optional<bool> tls_verify;
  // Certificates (docker's certs.d layout); empty: /etc/containers/certs.d/HOST[:PORT], then
  // /etc/docker/certs.d/HOST[:PORT].
  std::string cert_dir;
  int idle_timeout_ms = 60'000;
};

struct FetchedManifest {
  std::string data;
  std::string media_type;
  std::string digest;  // of `data`, checked against the one asked for or announced
};

class RegistryClient {
 public:
  // `domain` as in a reference ("docker.io", "localhost:5000").
  RegistryClient(std::string domain, RegistryConfig config);
  ~RegistryClient();
  RegistryClient(const RegistryClient&) = delete;
  RegistryClient& operator=(const RegistryClient&) = delete;

  const std::string& domain() const { return domain_; }

  // GET /v2/ with credentials: succeeds when they are accepted (login).
  Status CheckLogin();
  // A manifest or index by tag or digest; `max_size` guards against a huge response.
  Result<FetchedManifest> GetManifest(std::string_view repository, std::string_view reference);
  // Streams blob bytes from `offset` into `sink`. `on_start` learns, before any byte, where
  // the server starts: `offset`, or 0 when it ignored the Range request.
  Status FetchBlob(std::string_view repository, std::string_view digest, int64_t offset,
                   const std::function<Status(int64_t start)>& on_start, const BodySink& sink);
  Result<std::string> FetchSmallBlob(std::string_view repository, std::string_view digest,
                                     int64_t max_size);
  Result<bool> HasBlob(std::string_view repository, std::string_view digest);
  // Asks the registry to link a blob from another repository; false when it started an
  // upload instead (the blob is unknown there), which is cancelled.
  Result<bool> MountBlob(std::string_view repository, std::string_view digest,
                         std::string_view from_repository);
  // Uploads `size` bytes of `fd` as blob `digest`: one PUT, or PATCH requests of
  // `chunk_size` bytes (when > 0 and smaller than the blob) followed by the closing PUT.
  Status UploadBlob(std::string_view repository, std::string_view digest, int fd, int64_t size,
                    int64_t chunk_size = 0);
  // Returns the digest the registry reports (or computed).
  Result<std::string> PutManifest(std::string_view repository, std::string_view reference,
                                  std::string_view data, std::string_view media_type);
  Result<std::vector<std::string>> ListTags(std::string_view repository);

 private:
  struct Impl;
  std::string domain_;
  std::unique_ptr<Impl> impl_;
};

// Runs job(client, i) for every i < count on up to `parallel` threads, each with its own
// connection to the registry (the calling thread uses `first`). The first error stops the
// workers from starting new jobs and is returned.
Status ForEachParallel(RegistryClient& first, const RegistryConfig& config, int parallel,
                       size_t count, const std::function<Status(RegistryClient&, size_t)>& job);

// Media types a pull accepts for a manifest, in the Accept header.
std::string ManifestAcceptHeader();

}  // namespace berth::registry
