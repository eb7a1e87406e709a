// berth/registry: the HTTP(S) side of `berth registry serve`, the only file that includes
// Boost.Beast (it costs ~20 s of compile time per file that does).
//
// The acceptor runs on the caller's thread. Each connection runs on a thread of its own with
// a private io_context: every read and write is an async operation with a deadline
// (beast::tcp_stream::expires_after), run to completion on that io_context, so the code
// reads like blocking I/O while a stalled client still times out. Stop() posts a close to
// each connection's io_context, which aborts whatever it waits for.
#include "berth/registry/server.h"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/registry/htpasswd.h"
#include "berth/registry/server_api.h"
#include "berth/registry/server_storage.h"

namespace berth::registry {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

constexpr size_t kFileChunk = 256 << 10;
constexpr int64_t kMaxDrain = 1 << 20;  // unread body bytes worth reading to keep a connection

struct OpResult {
  beast::error_code ec;
  size_t bytes = 0;
};

// Starts one async operation through `initiate` and runs the connection's io_context until
// it completes (its deadline, set on the tcp_stream beforehand, completes it too).
template <class Initiate>
OpResult Await(net::io_context& ioc, Initiate&& initiate) {
  OpResult r;
  bool done = false;
  initiate([&r, &done](beast::error_code ec, auto... n) {
    r.ec = ec;
    if constexpr (sizeof...(n) > 0) r.bytes = (static_cast<size_t>(n), ...);
    done = true;
  });
  ioc.restart();
  while (!done && ioc.run_one() > 0) {
  }
  if (!done) r.ec = net::error::operation_aborted;
  return r;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void DefaultAccessLog(std::string_view line) {
  std::string l = StrCat(line, '\n');
  std::fwrite(l.data(), 1, l.size(), stderr);
}

// Closing a socket with unread input makes the kernel send a reset, which can destroy the
// response still in flight to the client (a 401 to a big PUT, a 431). So the sending side is
// shut first and what the client still sends is read and dropped for a moment.
template <class Stream>
void LingeringClose(net::io_context& ioc, Stream& stream) {
  auto& tcp = beast::get_lowest_layer(stream);
  beast::error_code ec;
  tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
  tcp.expires_after(std::chrono::seconds(1));
  char sink[16 << 10];
  for (size_t total = 0; total < (size_t{1} << 20);) {
    auto r = Await(ioc, [&](auto h) { tcp.async_read_some(net::buffer(sink), std::move(h)); });
    if (r.ec) break;
    total += r.bytes;
  }
}

}  // namespace

Result<std::pair<std::string, uint16_t>> ParseListenAddress(std::string_view addr) {
  std::string ctx = StrCat("listen address ", Quote(addr));
  std::string host;
  std::string_view port;
  if (addr.starts_with('[')) {
    size_t close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':') {
      return InvalidArgument(StrCat(ctx, ": expected [IPV6]:PORT"));
    }
    host = std::string(addr.substr(1, close - 1));
    port = addr.substr(close + 2);
  } else {
    size_t colon = addr.rfind(':');
    if (colon == std::string_view::npos) return InvalidArgument(StrCat(ctx, ": expected HOST:PORT"));
    host = std::string(addr.substr(0, colon));
    port = addr.substr(colon + 1);
  }
  if (host.empty()) host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  unsigned char buf[16];
  if (::inet_pton(AF_INET, host.c_str(), buf) != 1 && ::inet_pton(AF_INET6, host.c_str(), buf) != 1) {
    return InvalidArgument(StrCat(ctx, ": ", Quote(host), " is not an IP address"));
  }
  auto p = ParseUint64(port, "port");
  if (!p || *p > 65535) return InvalidArgument(StrCat(ctx, ": invalid port ", Quote(port)));
  return std::make_pair(host, static_cast<uint16_t>(*p));
}

struct Server::Impl {
  ServerOptions opts;
  std::unique_ptr<RegistryStorage> storage;
  std::optional<Htpasswd> users;
  std::unique_ptr<RegistryApi> api;
  std::unique_ptr<ssl::context> tls;
  net::io_context ioc;  // the acceptor's and the signals'
  tcp::acceptor acceptor{ioc};
  std::optional<net::signal_set> signals;
  uint16_t port = 0;

  std::mutex mu;
  bool stopping = false;
  uint64_t next_id = 0;
  std::map<uint64_t, std::function<void()>> closers;  // one per live connection
  // Connection threads are joined, never detached: a detached thread could still be
  // unlocking `mu` while the server is destroyed. Finished ones are joined at the next
  // accept, the rest when the server stops.
  std::map<uint64_t, std::thread> workers;
  std::vector<uint64_t> finished;
  void JoinWorkers();

  void Accept();
  void StopNow();
  void Spawn(std::unique_ptr<net::io_context> cio, tcp::socket sock);
  void ServeConnection(net::io_context& cio, tcp::socket sock);
  // Makes Stop() able to close the connection; nullopt when stopping already.
  std::optional<uint64_t> Register(net::io_context& cio, beast::tcp_stream& tcp);
  void Unregister(uint64_t id);
  template <class Stream>
  void ServeRequests(net::io_context& cio, Stream& stream, const std::string& peer);
};

namespace {

// The request body, pulled through the parser into the caller's buffer.
template <class Stream>
class ParserBody : public BodySource {
 public:
  ParserBody(net::io_context& ioc, Stream& stream, beast::flat_buffer& buf,
             http::request_parser<http::buffer_body>& parser, int timeout_s, bool expect_continue)
      : ioc_(ioc), stream_(stream), buf_(buf), parser_(parser), timeout_s_(timeout_s),
        expect_continue_(expect_continue) {}

  Result<size_t> Read(char* out, size_t n) override {
    if (parser_.is_done() || n == 0) return size_t{0};
    auto& tcp = beast::get_lowest_layer(stream_);
    if (expect_continue_) {
      // The client waits for this before sending a large body.
      expect_continue_ = false;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      tcp.expires_after(std::chrono::seconds(timeout_s_));
      auto r = Await(ioc_, [&](auto h) {
        net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()), std::move(h));
      });
      if (r.ec) return Fail(ErrorCode::kSystem, StrCat("send 100 Continue: ", r.ec.message()));
    }
    auto& body = parser_.get().body();
    body.data = out;
    body.size = n;
    tcp.expires_after(std::chrono::seconds(timeout_s_));
    auto r = Await(ioc_, [&](auto h) { http::async_read(stream_, buf_, parser_, std::move(h)); });
    if (r.ec && r.ec != http::error::need_buffer) {
      return Fail(ErrorCode::kSystem, StrCat("read request body: ", r.ec.message()));
    }
    size_t got = n - body.size;
    if (got == 0 && !parser_.is_done()) {
      return Fail(ErrorCode::kSystem, "read request body: no progress");
    }
    return got;
  }

 private:
  net::io_context& ioc_;
  Stream& stream_;
  beast::flat_buffer& buf_;
  http::request_parser<http::buffer_body>& parser_;
  int timeout_s_;
  bool expect_continue_;
};

}  // namespace

template <class Stream>
void Server::Impl::ServeRequests(net::io_context& cio, Stream& stream, const std::string& peer) {
  auto& tcp = beast::get_lowest_layer(stream);
  beast::flat_buffer buf;
  std::unique_ptr<char[]> chunk;
  bool first = true;
  for (;;) {
    {
      std::lock_guard lock(mu);
      if (stopping) return;
    }
    http::request_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // layers stream to disk
    tcp.expires_after(std::chrono::seconds(first ? opts.io_timeout_s : opts.idle_timeout_s));
    bool at_start = first;
    first = false;
    auto rh = Await(cio, [&](auto h) { http::async_read_header(stream, buf, parser, std::move(h)); });
    if (rh.ec && at_start && buf.size() > 0 &&
        static_cast<const unsigned char*>(buf.data().data())[0] == 0x16) {
      // A TLS ClientHello on a plain-HTTP port. Answering in HTTP (as Go's servers do) lets
      // clients that probe HTTPS first (docker's, for an insecure registry) fall back to HTTP.
      static constexpr std::string_view k400 =
          "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
      tcp.expires_after(std::chrono::seconds(opts.io_timeout_s));
      Await(cio, [&](auto h) {
        net::async_write(stream, net::buffer(k400.data(), k400.size()), std::move(h));
      });
      LingeringClose(cio, stream);
      return;
    }
    if (rh.ec) {
      if (rh.ec == http::error::header_limit) {
        static constexpr std::string_view k431 =
            "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n";
        tcp.expires_after(std::chrono::seconds(opts.io_timeout_s));
        Await(cio, [&](auto h) {
          net::async_write(stream, net::buffer(k431.data(), k431.size()), std::move(h));
        });
        LingeringClose(cio, stream);
      }
      return;  // end of stream, timeout, garbage: the connection ends either way
    }
    auto start = std::chrono::steady_clock::now();
    auto& msg = parser.get();
    ApiRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) {
      std::string name = Lower(f.name_string());
      auto [it, fresh] = req.headers.emplace(name, std::string(f.value()));
      if (!fresh) it->second = StrCat(it->second, ", ", f.value());
    }
    if (parser.is_done()) {
      req.content_length = 0;
    } else if (auto cl = parser.content_length()) {
      req.content_length = static_cast<int64_t>(*cl);
    }
    bool expect_continue = beast::iequals(req.Header("expect"), "100-continue");
    ParserBody<Stream> body(cio, stream, buf, parser, opts.io_timeout_s, expect_continue);
    ApiResponse res = api->Handle(req, body);

    // A body the handler did not read (an error answered early) is skipped when small;
    // otherwise the connection closes, which is cheaper than reading a layer for nothing.
    if (!parser.is_done() && req.content_length >= 0 && req.content_length <= kMaxDrain &&
        !expect_continue) {
      char sink[16 << 10];
      while (!parser.is_done()) {
        auto n = body.Read(sink, sizeof sink);
        if (!n || *n == 0) break;
      }
    }
    bool keep_alive = msg.keep_alive() && parser.is_done();

    int64_t length = res.file ? res.file_length
                     : res.head_length >= 0 ? res.head_length
                                            : static_cast<int64_t>(res.body.size());
    http::response<http::empty_body> head;
    head.version(msg.version());
    head.result(static_cast<unsigned>(res.status));
    for (const auto& [k, v] : res.headers) head.insert(k, v);
    head.set(http::field::server, "berth");
    head.keep_alive(keep_alive);
    if (res.status != 204 && res.status >= 200) head.content_length(static_cast<uint64_t>(length));

    tcp.expires_after(std::chrono::seconds(opts.io_timeout_s));
    auto wh = Await(cio, [&](auto h) { http::async_write(stream, head, std::move(h)); });
    bool ok = !wh.ec;
    int64_t sent = 0;
    if (req.method == "HEAD") {
      // Headers only, whatever the handler put in the body (an error's JSON, say).
    } else if (ok && res.file) {
      if (!chunk) chunk.reset(new char[kFileChunk]);
      int64_t off = res.file_offset, left = res.file_length;
      while (ok && left > 0) {
        ssize_t n = ::pread(res.file.get(), chunk.get(),
                            static_cast<size_t>(std::min<int64_t>(left, kFileChunk)), off);
        if (n <= 0) {
          ok = false;  // the length is promised already: only closing tells the client
          break;
        }
        tcp.expires_after(std::chrono::seconds(opts.io_timeout_s));
        auto w = Await(cio, [&](auto h) {
          net::async_write(stream, net::buffer(chunk.get(), static_cast<size_t>(n)), std::move(h));
        });
        ok = !w.ec;
        off += n;
        left -= n;
        sent += n;
      }
    } else if (ok && !res.body.empty()) {
      tcp.expires_after(std::chrono::seconds(opts.io_timeout_s));
      auto w = Await(cio, [&](auto h) {
        net::async_write(stream, net::buffer(res.body.data(), res.body.size()), std::move(h));
      });
      ok = !w.ec;
      sent = static_cast<int64_t>(res.body.size());
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count();
    char tail[64];
    std::snprintf(tail, sizeof tail, " %d %lld %.1fms", res.status, static_cast<long long>(sent),
                  ms);
    opts.access_log(StrCat(peer, " \"", req.method, ' ', req.target, '"', tail,
                           ok ? "" : " (connection lost)"));
    if (ok && !parser.is_done()) LingeringClose(cio, stream);
    if (!ok || !keep_alive) return;
  }
}

std::optional<uint64_t> Server::Impl::Register(net::io_context& cio, beast::tcp_stream& tcp) {
  std::lock_guard lock(mu);
  if (stopping) return std::nullopt;
  uint64_t id = next_id++;
  closers[id] = [&cio, &tcp] { net::post(cio, [&tcp] { tcp.close(); }); };
  return id;
}

void Server::Impl::Unregister(uint64_t id) {
  std::lock_guard lock(mu);
  closers.erase(id);
}

void Server::Impl::ServeConnection(net::io_context& cio, tcp::socket sock) {
  beast::error_code ec;
  auto ep = sock.remote_endpoint(ec);
  std::string peer = ec ? "?" : StrCat(ep.address().to_string(), ':', ep.port());
  if (tls) {
    beast::ssl_stream<beast::tcp_stream> stream(std::move(sock), *tls);
    auto& tcp = beast::get_lowest_layer(stream);
    auto id = Register(cio, tcp);
    if (!id) return;
    tcp.expires_after(std::chrono::seconds(opts.io_timeout_s));
    auto hs = Await(cio, [&](auto h) {
      stream.async_handshake(ssl::stream_base::server, std::move(h));
    });
    if (!hs.ec) {
      ServeRequests(cio, stream, peer);
      tcp.expires_after(std::chrono::seconds(5));
      Await(cio, [&](auto h) { stream.async_shutdown(std::move(h)); });
    } else {
      opts.access_log(StrCat(peer, " TLS handshake failed: ", hs.ec.message()));
    }
    Unregister(*id);
  } else {
    beast::tcp_stream tcp(std::move(sock));
    auto id = Register(cio, tcp);
    if (!id) return;
    ServeRequests(cio, tcp, peer);
    tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
    Unregister(*id);
  }
}

void Server::Impl::Spawn(std::unique_ptr<net::io_context> cio, tcp::socket sock) {
  std::lock_guard lock(mu);
  for (uint64_t id : finished) {
    workers[id].join();  // returning already: it only had to release `mu`
    workers.erase(id);
  }
  finished.clear();
  if (stopping || workers.size() >= static_cast<size_t>(opts.max_connections)) return;
  uint64_t id = next_id++;
  workers.emplace(id, std::thread([this, id, cio = std::move(cio), sock = std::move(sock)]() mutable {
    ServeConnection(*cio, std::move(sock));
    cio.reset();
    std::lock_guard lock(mu);
    finished.push_back(id);
  }));
}

void Server::Impl::JoinWorkers() {
  std::map<uint64_t, std::thread> all;
  {
    std::lock_guard lock(mu);
    all.swap(workers);
    finished.clear();
  }
  for (auto& [id, t] : all) t.join();
}

void Server::Impl::Accept() {
  auto cio = std::make_unique<net::io_context>(1);
  net::io_context& target = *cio;
  acceptor.async_accept(target, [this, cio = std::move(cio)](beast::error_code ec,
                                                             tcp::socket sock) mutable {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (!ec) {
      Spawn(std::move(cio), std::move(sock));
    } else {
      // Out of file descriptors, most likely: retrying at once would spin.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Accept();
  });
}

void Server::Impl::StopNow() {
  beast::error_code ec;
  acceptor.close(ec);
  if (signals) signals->cancel(ec);
  std::lock_guard lock(mu);
  stopping = true;
  for (auto& [id, close] : closers) close();
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  s.opts = std::move(options);
  if (!s.opts.access_log) s.opts.access_log = DefaultAccessLog;
  if (s.opts.root.empty()) return InvalidArgument("--root: a storage directory is required");
  BERTH_ASSIGN_OR_RETURN(auto hostport, ParseListenAddress(s.opts.addr));

  if (!s.opts.htpasswd_file.empty()) {
    BERTH_ASSIGN_OR_RETURN(Htpasswd users, Htpasswd::Load(s.opts.htpasswd_file));
    if (users.size() == 0) {
      return InvalidArgument(
          StrCat("htpasswd ", Quote(s.opts.htpasswd_file), ": no users: nobody could log in"));
    }
    s.users = std::move(users);
  }

  if (s.opts.tls_cert_file.empty() != s.opts.tls_key_file.empty()) {
    return InvalidArgument("--tls-cert and --tls-key go together");
  }
  if (!s.opts.tls_cert_file.empty()) {
    // Read first: OpenSSL's errors for a missing file do not say which one.
    BERTH_TRY_CTX(ReadFile(s.opts.tls_cert_file), "--tls-cert");
    BERTH_TRY_CTX(ReadFile(s.opts.tls_key_file), "--tls-key");
    s.tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    beast::error_code ec;
    s.tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                       ec);
    s.tls->use_certificate_chain_file(s.opts.tls_cert_file, ec);
    if (ec) {
      return InvalidArgument(StrCat("--tls-cert ", Quote(s.opts.tls_cert_file),
                                    ": not a PEM certificate chain: ", ec.message()));
    }
    s.tls->use_private_key_file(s.opts.tls_key_file, ssl::context::pem, ec);
    if (ec) {
      return InvalidArgument(StrCat("--tls-key ", Quote(s.opts.tls_key_file),
                                    ": not a PEM private key matching the certificate: ",
                                    ec.message()));
    }
  }

  BERTH_ASSIGN_OR_RETURN(s.storage, RegistryStorage::Open(s.opts.root));
  s.api = std::make_unique<RegistryApi>(*s.storage, s.users ? &*s.users : nullptr, s.opts.realm);

  beast::error_code ec;
  tcp::endpoint ep(net::ip::make_address(hostport.first, ec), hostport.second);
  std::string what = StrCat("listen on ", Quote(s.opts.addr));
  if (ec) return InvalidArgument(StrCat(what, ": ", ec.message()));
  s.acceptor.open(ep.protocol(), ec);
  if (!ec) s.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor.bind(ep, ec);
  if (!ec) s.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Fail(ErrorCode::kSystem, StrCat(what, ": ", ec.message()));
  s.port = s.acceptor.local_endpoint(ec).port();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  if (!impl_) return;
  impl_->StopNow();
  impl_->JoinWorkers();
}

uint16_t Server::port() const { return impl_->port; }

Status Server::Run(bool stop_on_signals) {
  Impl& s = *impl_;
  if (stop_on_signals) {
    s.signals.emplace(s.ioc, SIGINT, SIGTERM);
    s.signals->async_wait([&s](beast::error_code ec, int) {
      if (!ec) s.StopNow();
    });
  }
  s.Accept();
  s.ioc.run();
  s.JoinWorkers();  // StopNow closed their connections
  return Ok();
}

void Server::Stop() {
  net::post(impl_->ioc, [s = impl_.get()] { s->StopNow(); });
}

}  // namespace berth::registry
