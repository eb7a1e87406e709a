// berth/registry: `berth registry serve`, an OCI distribution-spec v1.1 registry.
//
// Each connection gets a thread with its own io_context; every read and write on it has a
// deadline, so a slow or silent client costs one thread for at most `io_timeout_s`.
// Requests go through RegistryApi (server_api.h) to RegistryStorage (server_storage.h).
// The HTTP and TLS machinery (Boost.Beast) stays inside server_http.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "berth/base/error.h"

namespace berth::registry {

struct ServerOptions {
  std::string addr = "127.0.0.1:5000";  // HOST:PORT, [V6]:PORT or :PORT; port 0 picks one
  std::string root;                     // storage directory, created when missing
  std::string htpasswd_file;            // empty: no authentication
  std::string tls_cert_file;            // PEM chain; with tls_key_file, serve HTTPS
  std::string tls_key_file;
  std::string realm = "berth-registry";
  int io_timeout_s = 60;        // per read or write of a request or response
  int idle_timeout_s = 120;     // a kept-alive connection waiting for its next request
  int max_connections = 256;    // further connections are closed at once
  size_t max_header_bytes = 64 << 10;
  // One line per request; default: stderr.
  std::function<void(std::string_view)> access_log;
};

// "127.0.0.1:5000" -> {"127.0.0.1", 5000}; "[::1]:5000"; ":5000" listens on all addresses.
Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view addr);

class Server {
 public:
  // Checks the options (addresses, htpasswd, TLS files), opens the storage and binds.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  // Accepts until Stop() or, with `stop_on_signals`, SIGINT or SIGTERM; then ends the open
  // connections and waits for their threads.
  Status Run(bool stop_on_signals);
  // From any thread.
  void Stop();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::registry
