// berth/registry: the HTTP client over Boost.Beast. Every operation is started
// asynchronously on the connection's own io_context and run to completion at once, because
// only asynchronous operations honour beast::tcp_stream's timeouts: that is what turns a
// stalled server into an error.
#include "berth/registry/http_client.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <chrono>
#include <cstring>
#include <limits>
#include <map>
#include <optional>

#include "berth/base/strings.h"

namespace berth::registry {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

}  // namespace

// ---- Url ----

Result<Url> Url::Parse(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument(StrCat("URL ", Quote(text), ": ", why));
  };
  Url u;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return bad("no scheme");
  u.scheme = AsciiLower(text.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
  std::string_view rest = text.substr(sep + 3);
  size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!u.target.empty() && u.target[0] == '?') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos) return bad("credentials in URLs are refused");
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated IPv6 address");
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("junk after the IPv6 address");
      u.port = std::string(after.substr(1));
    }
  } else {
    size_t colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) u.port = std::string(authority.substr(colon + 1));
  }
  if (u.host.empty()) return bad("no host");
  for (char ch : u.host)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '[' || ch == ']')
      return bad("bad characters in the host");
  if (u.port.empty()) u.port = u.scheme == "https" ? "443" : "80";
  if (u.port.size() > 5 || !std::all_of(u.port.begin(), u.port.end(), ::isdigit) ||
      std::stoi(u.port) == 0 || std::stoi(u.port) > 65535)
    return bad(StrCat("bad port ", Quote(u.port)));
  for (char ch : u.target)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) return bad("control characters");
  return u;
}

std::string Url::Origin() const {
  std::string h = host.find(':') != std::string::npos ? StrCat("[", host, "]") : host;
  return StrCat(scheme, "://", h, ":", port);
}

Result<Url> Url::Resolve(std::string_view location) const {
  if (location.find("://") != std::string_view::npos) return Parse(location);
  Url u = *this;
  if (location.starts_with("//")) return Parse(StrCat(scheme, ":", location));
  if (location.starts_with("/")) {
    u.target = std::string(location);
  } else {
    std::string path = target.substr(0, target.find('?'));
    u.target = StrCat(path.substr(0, path.rfind('/') + 1), location);
  }
  for (char ch : u.target)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f)
      return InvalidArgument(StrCat("redirect ", Quote(location), ": control characters"));
  return u;
}

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return {};
}

// ---- base64 ----

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(n < 0 ? 0 : static_cast<size_t>(n));
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  std::string in(Trim(text));
  if (in.size() % 4 != 0) in.append(4 - in.size() % 4, '=');  // tolerate missing padding
  std::string out(in.size() / 4 * 3 + 1, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return InvalidArgument("invalid base64");
  size_t len = static_cast<size_t>(n);
  for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && len > 0; --i) --len;
  out.resize(len);
  return out;
}

// ---- connections ----

namespace {

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

struct Connection {
  asio::io_context ioc;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  beast::flat_buffer buffer;

  beast::tcp_stream& tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  // Runs the asynchronous operation that `start` begins until it completes.
  template <class Start>
  error_code Run(int timeout_ms, Start&& start) {
    error_code result = asio::error::would_block;
    tcp().expires_after(std::chrono::milliseconds(timeout_ms));
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  template <class Fn>
  auto WithStream(Fn&& fn) {
    if (tls) return fn(*tls);
    return fn(*plain);
  }
};

std::string Describe(const error_code& ec) {
  if (ec == beast::error::timeout) return "timed out (the server stopped answering)";
  if (ec == http::error::end_of_stream || ec == asio::error::eof)
    return "the server closed the connection";
  return ec.message();
}

// Strips the "sensitive" headers that must not follow a redirect to another origin.
Headers ForRedirect(const Headers& in, bool same_origin) {
  if (same_origin) return in;
  Headers out;
  for (const auto& h : in)
    if (AsciiLower(h.first) != "authorization") out.push_back(h);
  return out;
}

}  // namespace

struct HttpClient::Impl {
  HttpOptions options;
  std::unique_ptr<asio::ssl::context> ssl_ctx;
  std::string ssl_error;  // why the TLS context could not be set up
  std::map<std::string, std::unique_ptr<Connection>> idle;  // origin -> keep-alive connection

  Status SetUpTls() {
    if (ssl_ctx || !ssl_error.empty()) {
      if (!ssl_error.empty()) return InvalidArgument(ssl_error);
      return Ok();
    }
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    error_code ec;
    ctx->set_default_verify_paths(ec);
    const std::string& dir = options.tls.cert_dir;
    if (!dir.empty()) {
      DIR* d = ::opendir(dir.c_str());
      if (d != nullptr) {
        std::vector<std::string> names;
        while (struct dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) {
          std::string path = StrCat(dir, "/", n);
          if (n.ends_with(".crt")) {
            ctx->load_verify_file(path, ec);
            if (ec) {
              ssl_error = StrCat("CA certificate ", Quote(path), ": ", ec.message());
              return InvalidArgument(ssl_error);
            }
          } else if (n.ends_with(".cert")) {
            std::string key = StrCat(dir, "/", n.substr(0, n.size() - 5), ".key");
            ctx->use_certificate_chain_file(path, ec);
            if (!ec) ctx->use_private_key_file(key, asio::ssl::context::pem, ec);
            if (ec) {
              ssl_error = StrCat("client certificate ", Quote(path), " / ", Quote(key), ": ",
                                 ec.message());
              return InvalidArgument(ssl_error);
            }
          }
        }
      } else if (errno != ENOENT) {
        ssl_error = StrCat("certificate directory ", Quote(dir), ": ", std::strerror(errno));
        return InvalidArgument(ssl_error);
      }
    }
    ssl_ctx = std::move(ctx);
    return Ok();
  }

  Result<std::unique_ptr<Connection>> Connect(const Url& url) {
    std::string what = StrCat("connect to ", url.Origin());
    auto c = std::make_unique<Connection>();
    tcp::resolver resolver(c->ioc);
    error_code ec;
    auto endpoints = resolver.resolve(url.host, url.port, ec);
    if (ec) return Fail(ErrorCode::kUnavailable, StrCat(what, ": resolve ", url.host, ": ", ec.message()));
    if (url.scheme == "https") {
      BERTH_TRY_CTX(SetUpTls(), what);
      c->tls.emplace(c->ioc, *ssl_ctx);
    } else {
      c->plain.emplace(c->ioc);
    }
    ec = c->Run(options.connect_timeout_ms, [&](auto handler) {
      c->tcp().async_connect(endpoints, [handler](error_code e, const tcp::endpoint&) mutable {
        handler(e);
      });
    });
    if (ec) return Fail(ErrorCode::kUnavailable, StrCat(what, ": ", Describe(ec)));
    if (c->tls) {
      SSL* ssl = c->tls->native_handle();
      if (!IsIpLiteral(url.host)) SSL_set_tlsext_host_name(ssl, url.host.c_str());
      if (options.tls.verify) {
        X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
        if (IsIpLiteral(url.host)) {
          X509_VERIFY_PARAM_set1_ip_asc(param, url.host.c_str());
        } else {
          SSL_set1_host(ssl, url.host.c_str());
        }
        c->tls->set_verify_mode(asio::ssl::verify_peer);
      } else {
        c->tls->set_verify_mode(asio::ssl::verify_none);
      }
      ec = c->Run(options.connect_timeout_ms, [&](auto handler) {
        c->tls->async_handshake(asio::ssl::stream_base::client, handler);
      });
      if (ec) {
        std::string why = ec.message();
        long verify = SSL_get_verify_result(ssl);
        if (verify != X509_V_OK) why = X509_verify_cert_error_string(verify);
        return Fail(ErrorCode::kUnavailable,
                    StrCat(what, ": TLS handshake: ", why,
                           options.tls.verify ? "" : " (certificate checks were off)"));
      }
    }
    return c;
  }

  // One request on one connection, no redirects. `sink` receives a 2xx body when set.
  Result<HttpResponse> Once(const Url& url, const HttpRequest& req, const BodySink* sink,
                            int64_t max_body) {
    std::string what = StrCat(req.method, " ", url.String());
    std::unique_ptr<Connection> c;
    bool reused = false;
    auto it = idle.find(url.Origin());
    if (it != idle.end()) {
      c = std::move(it->second);
      idle.erase(it);
      reused = true;
    } else {
      BERTH_ASSIGN_OR_RETURN_CTX(c, Connect(url), what);
    }

    http::verb verb = http::string_to_verb(req.method);
    if (verb == http::verb::unknown) return InvalidArgument(StrCat(what, ": unknown method"));
    http::request<http::buffer_body> msg{verb, url.target, 11};
    std::string host = url.host.find(':') != std::string::npos ? StrCat("[", url.host, "]") : url.host;
    if (!((url.scheme == "https" && url.port == "443") || (url.scheme == "http" && url.port == "80")))
      host += ":" + url.port;
    msg.set(http::field::host, host);
    msg.set(http::field::user_agent, "berth/" BERTH_VERSION);
    for (const auto& [k, v] : req.headers) msg.set(k, v);
    bool from_fd = req.body_fd >= 0;
    int64_t length = from_fd ? req.body_length : static_cast<int64_t>(req.body.size());
    if (length > 0 || verb == http::verb::put || verb == http::verb::post ||
        verb == http::verb::patch)
      msg.content_length(static_cast<uint64_t>(std::max<int64_t>(length, 0)));

    // Sends the request; the body in pieces (a layer never sits in memory whole).
    auto send = [&]() -> error_code {
      msg.body().data = nullptr;
      msg.body().more = length > 0;
      http::request_serializer<http::buffer_body> sr{msg};
      error_code ec = c->Run(options.idle_timeout_ms, [&](auto handler) {
        c->WithStream([&](auto& s) { http::async_write_header(s, sr, handler); });
      });
      if (ec) return ec;
      std::vector<char> chunk(from_fd ? 256 * 1024 : 0);
      int64_t sent = 0;
      while (sent < length) {
        size_t n;
        if (from_fd) {
          ssize_t r = ::pread(req.body_fd, chunk.data(),
                              static_cast<size_t>(std::min<int64_t>(length - sent, chunk.size())),
                              req.body_offset + sent);
          if (r <= 0) return r == 0 ? error_code(asio::error::eof) : error_code(errno, boost::system::system_category());
          n = static_cast<size_t>(r);
          msg.body().data = chunk.data();
        } else {
          n = req.body.size();
          msg.body().data = const_cast<char*>(req.body.data());
        }
        msg.body().size = n;
        sent += static_cast<int64_t>(n);
        msg.body().more = sent < length;
        ec = c->Run(options.idle_timeout_ms, [&](auto handler) {
          c->WithStream([&](auto& s) { http::async_write(s, sr, handler); });
        });
        if (ec == http::error::need_buffer) ec = {};
        if (ec) return ec;
      }
      if (!sr.is_done()) {
        msg.body().data = nullptr;
        msg.body().size = 0;
        msg.body().more = false;
        ec = c->Run(options.idle_timeout_ms, [&](auto handler) {
          c->WithStream([&](auto& s) { http::async_write(s, sr, handler); });
        });
        if (ec == http::error::need_buffer) ec = {};
      }
      return ec;
    };

    std::optional<http::response_parser<http::buffer_body>> parser_slot;
    auto read_header = [&]() -> error_code {
      parser_slot.emplace();
      auto& parser = *parser_slot;
      parser.header_limit(64 * 1024);
      // Not boost::none: Beast 1.74 compares a length with an empty optional as "over".
      parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      if (verb == http::verb::head) parser.skip(true);
      return c->Run(options.idle_timeout_ms, [&](auto handler) {
        c->WithStream([&](auto& s) { http::async_read_header(s, c->buffer, parser, handler); });
      });
    };

    error_code ec = send();
    if (!ec) ec = read_header();
    if (ec && reused) {
      // The server closed an idle keep-alive connection: try once on a new one.
      BERTH_ASSIGN_OR_RETURN_CTX(c, Connect(url), what);
      ec = send();
      if (!ec) ec = read_header();
    }
    if (ec) return Fail(ErrorCode::kUnavailable, StrCat(what, ": ", Describe(ec)));

    auto& parser = *parser_slot;
    HttpResponse resp;
    resp.url = url.String();
    resp.status = static_cast<int>(parser.get().result_int());
    for (const auto& f : parser.get())
      resp.headers.emplace_back(AsciiLower(f.name_string()), std::string(f.value()));
    bool streaming = sink != nullptr && resp.status / 100 == 2;
    if (streaming && req.on_headers) BERTH_TRY(req.on_headers(resp));
    int64_t cap = streaming ? -1 : (sink != nullptr ? 64 * 1024 : max_body);
    std::array<char, 128 * 1024> buf;
    int64_t received = 0;
    while (!parser.is_done()) {
      parser.get().body().data = buf.data();
      parser.get().body().size = buf.size();
      ec = c->Run(options.idle_timeout_ms, [&](auto handler) {
        c->WithStream([&](auto& s) { http::async_read(s, c->buffer, parser, handler); });
      });
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        return Fail(ErrorCode::kUnavailable,
                    StrCat(what, ": reading the response body after ", received, " bytes: ",
                           Describe(ec)));
      }
      size_t n = buf.size() - parser.get().body().size;
      received += static_cast<int64_t>(n);
      if (streaming) {
        BERTH_TRY(sink->operator()(buf.data(), n));
      } else if (cap >= 0 && received > cap) {
        if (sink != nullptr) continue;  // an error body: keep its head for the message
        return Fail(ErrorCode::kInvalidArgument,
                    StrCat(what, ": the response body exceeds ", cap, " bytes"));
      } else {
        resp.body.append(buf.data(), n);
      }
    }
    if (parser.get().keep_alive()) idle[url.Origin()] = std::move(c);
    return resp;
  }

  Result<HttpResponse> Run(const HttpRequest& req, const BodySink* sink, int64_t max_body) {
    BERTH_ASSIGN_OR_RETURN(Url url, Url::Parse(req.url));
    HttpRequest cur = req;
    for (int hop = 0;; ++hop) {
      BERTH_ASSIGN_OR_RETURN(HttpResponse resp, Once(url, cur, sink, max_body));
      int s = resp.status;
      bool redirect = s == 301 || s == 302 || s == 303 || s == 307 || s == 308;
      std::string location = resp.Header("location");
      if (!redirect || !cur.follow_redirects || location.empty()) return resp;
      if (hop >= options.max_redirects)
        return Fail(ErrorCode::kUnavailable,
                    StrCat(req.method, " ", req.url, ": more than ", options.max_redirects,
                           " redirects"));
      BERTH_ASSIGN_OR_RETURN_CTX(Url next, url.Resolve(location), StrCat(req.method, " ", req.url));
      if (url.scheme == "https" && next.scheme == "http")
        return Fail(ErrorCode::kPermissionDenied,
                    StrCat(req.method, " ", req.url, ": refusing a redirect from https to ",
                           next.String()));
      cur.headers = ForRedirect(cur.headers, next.Origin() == url.Origin());
      if (s == 303 || ((s == 301 || s == 302) && cur.method == "POST")) {
        cur.method = "GET";
        cur.body.clear();
        cur.body_fd = -1;
      }
      url = std::move(next);
      cur.url = url.String();
    }
  }
};

HttpClient::HttpClient(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}
HttpClient::~HttpClient() = default;

const HttpOptions& HttpClient::options() const { return impl_->options; }

Result<HttpResponse> HttpClient::Do(const HttpRequest& request, int64_t max_body) {
  return impl_->Run(request, nullptr, max_body);
}

Result<HttpResponse> HttpClient::Stream(const HttpRequest& request, const BodySink& sink) {
  return impl_->Run(request, &sink, 0);
}

}  // namespace berth::registry
