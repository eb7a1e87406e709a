#include "berth/net/dns_server.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <optional>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/net/dns_message.h"

namespace berth::net {
namespace {

using Clock = std::chrono::steady_clock;

// Containers come and go, so answers are cached briefly.
constexpr uint32_t kTtl = 60;
constexpr auto kForwardTimeout = std::chrono::seconds(2);
constexpr auto kTcpIdle = std::chrono::seconds(5);
// Forwards in flight; more get SERVFAIL at once (the client retries).
constexpr size_t kMaxPending = 64;
constexpr size_t kMaxTcpConns = 64;
// Unsent answers a TCP client may leave unread before it is dropped.
constexpr size_t kMaxTcpOut = 256 * 1024;
// Datagrams read from one socket per wake-up, so one busy client cannot starve the rest.
constexpr int kUdpBatch = 64;

// ---- records

struct Records {
  std::map<std::string, std::vector<IpAddress>, std::less<>> by_name;
  std::map<IpAddress, std::string> by_addr;  // the first name of the address's first line
};

std::string NormalizeName(std::string_view n) {
  if (!n.empty() && n.back() == '.') n.remove_suffix(1);
  std::string out(n);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

Records ParseRecords(std::string_view text, const std::string& path) {
  Records r;
  int line_no = 0;
  for (const std::string& raw : Split(text, '\n')) {
    ++line_no;
    std::string_view line = raw;
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> f = Fields(line);
    if (f.empty()) continue;
    auto addr = IpAddress::Parse(f[0], "address");
    if (!addr || f.size() < 2) {
      log::Warn(StrCat("dns: records ", Quote(path), " line ", line_no, ": ",
                       addr ? std::string("no name") : addr.error().message(), ": skipped"));
      continue;
    }
    for (size_t i = 1; i < f.size(); ++i) {
      std::string name = NormalizeName(f[i]);
      if (name.empty()) continue;
      std::vector<IpAddress>& v = r.by_name[name];
      if (std::find(v.begin(), v.end(), *addr) == v.end()) v.push_back(*addr);
      r.by_addr.emplace(*addr, name);  // keeps the first
    }
  }
  return r;
}

// The records file, re-read when it was replaced or changed: one stat per query.
class RecordsFile {
 public:
  explicit RecordsFile(std::string path) : path_(std::move(path)) {}

  const Records& Get() {
    struct stat st;
    if (path_.empty() || ::stat(path_.c_str(), &st) != 0) {
      if (loaded_ || !missing_) {
        if (!path_.empty() && errno != ENOENT)
          log::Warn(StrCat("dns: stat ", Quote(path_), ": ", std::strerror(errno)));
        records_ = {};
        loaded_ = false;
        missing_ = true;
      }
      return records_;
    }
    // The inode changes on every rename; mtime alone has the kernel tick's granularity.
    if (loaded_ && st.st_dev == st_.st_dev && st.st_ino == st_.st_ino &&
        st.st_size == st_.st_size && st.st_mtim.tv_sec == st_.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == st_.st_mtim.tv_nsec) {
      return records_;
    }
    auto text = ReadFile(path_);
    if (!text) {
      log::Warn(StrCat("dns: ", text.error().message()));
      return records_;  // the last good records; retried on the next query
    }
    records_ = ParseRecords(*text, path_);
    st_ = st;
    loaded_ = true;
    missing_ = false;
    log::Debug(StrCat("dns: loaded ", records_.by_name.size(), " names from ", Quote(path_)));
    return records_;
  }

 private:
  std::string path_;
  struct stat st_ {};
  bool loaded_ = false;
  bool missing_ = false;
  Records records_;
};

// ---- lookup

// Strips ".suffix" from `name`; false if it does not end so.
bool StripSuffix(std::string_view& name, std::string_view suffix) {
  if (name.size() <= suffix.size() || !name.ends_with(suffix) ||
      name[name.size() - suffix.size() - 1] != '.') {
    return false;
  }
  name.remove_suffix(suffix.size() + 1);
  return true;
}

// The address a reverse name stands for: "4.3.2.1.in-addr.arpa" or 32 nibbles + "ip6.arpa".
std::optional<IpAddress> ParseReverse(std::string_view name) {
  IpAddress a;
  if (StripSuffix(name, "in-addr.arpa")) {
    std::vector<std::string> labels = Split(name, '.');
    if (labels.size() != 4) return std::nullopt;
    a.family = AF_INET;
    for (size_t i = 0; i < 4; ++i) {
      auto v = ParseUint64(labels[i], "label");
      if (!v || *v > 255 || labels[i].size() > 3) return std::nullopt;
      a.bytes[3 - i] = static_cast<uint8_t>(*v);
    }
    return a;
  }
  if (StripSuffix(name, "ip6.arpa")) {
    // "b.a.9.8. ... .0.1.0.0.2": 32 one-digit labels, least significant nibble first.
    if (name.size() != 63) return std::nullopt;
    a.family = AF_INET6;
    for (size_t i = 0; i < 32; ++i) {
      char c = name[2 * i];
      if (i < 31 && name[2 * i + 1] != '.') return std::nullopt;
      int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (v < 0) return std::nullopt;
      size_t nibble = 31 - i;  // from the most significant
      a.bytes[nibble / 2] = static_cast<uint8_t>(a.bytes[nibble / 2] | (nibble % 2 ? v : v << 4));
    }
    return a;
  }
  return std::nullopt;
}

struct Lookup {
  bool forward = false;
  uint8_t rcode = dns::kRcodeOk;
  std::vector<IpAddress> addresses;
  std::vector<std::string> ptr_names;
};

Lookup Resolve(const Records& records, const dns::Question& q, bool have_upstreams) {
  Lookup r;
  bool class_in = q.qclass == dns::kClassIn || q.qclass == dns::kTypeAny;
  std::string_view name = q.name;
  std::string_view short_name = name;
  bool ours = name == kDnsSearchDomain || StripSuffix(short_name, kDnsSearchDomain);
  auto it = records.by_name.find(name);
  if (it == records.by_name.end() && short_name != name) it = records.by_name.find(short_name);
  if (it != records.by_name.end()) {
    // The name exists: NOERROR, with no records for another family or type (NODATA).
    for (const IpAddress& a : it->second) {
      bool want = q.type == dns::kTypeAny || (q.type == dns::kTypeA && a.is_v4()) ||
                  (q.type == dns::kTypeAaaa && !a.is_v4());
      if (want && class_in) r.addresses.push_back(a);
    }
    return r;
  }
  if (q.type == dns::kTypePtr && class_in) {
    if (auto a = ParseReverse(name)) {
      if (auto p = records.by_addr.find(*a); p != records.by_addr.end()) {
        r.ptr_names.push_back(p->second);
        return r;
      }
    }
  }
  // Names under our domain never leave; elsewhere NXDOMAIN (not REFUSED or SERVFAIL) lets a
  // resolver walking its search list go on to the next domain.
  if (ours) {
    if (name != kDnsSearchDomain) r.rcode = dns::kRcodeNxDomain;
    return r;
  }
  if (!have_upstreams) {
    r.rcode = dns::kRcodeNxDomain;
    return r;
  }
  r.forward = true;
  return r;
}

// ---- sockets

socklen_t ToSockaddr(const IpAddress& a, uint16_t port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);  // sockaddr_storage holds any family
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    return sizeof *sin;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
  return sizeof *sin6;
}

std::string Endpoint(const IpAddress& a, uint16_t port) {
  return a.is_v4() ? StrCat(a.ToString(), ":", port) : StrCat("[", a.ToString(), "]:", port);
}

Result<UniqueFd> Listen(const IpAddress& a, uint16_t port, int type) {
  std::string where = StrCat(type == SOCK_DGRAM ? "udp " : "tcp ", Quote(Endpoint(a, port)));
  UniqueFd fd(::socket(a.family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return ErrnoFail(StrCat("socket for ", where));
  int one = 1;
  // TCP only: a restarted server binds again while old connections sit in TIME_WAIT. On UDP
  // SO_REUSEADDR would let a second server share the port silently instead of failing.
  if (type == SOCK_STREAM &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    return ErrnoFail(StrCat("set SO_REUSEADDR on ", where));
  }
  if (!a.is_v4() && ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) {
    return ErrnoFail(StrCat("set IPV6_V6ONLY on ", where));
  }
  sockaddr_storage ss;
  socklen_t len = ToSockaddr(a, port, &ss);
  // reinterpret_cast: the sockets API takes every address family as sockaddr.
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return ErrnoFail(StrCat("bind ", where));
  }
  if (type == SOCK_STREAM && ::listen(fd.get(), 64) != 0)
    return ErrnoFail(StrCat("listen on ", where));
  return fd;
}

uint16_t Id(std::string_view packet) {
  return static_cast<uint16_t>(static_cast<uint8_t>(packet[0]) << 8 |
                               static_cast<uint8_t>(packet[1]));
}

std::string LengthPrefixed(std::string_view msg) {
  std::string out;
  out.push_back(static_cast<char>(msg.size() >> 8));
  out.push_back(static_cast<char>(msg.size() & 0xff));
  out.append(msg);
  return out;
}

// ---- the server

class Server {
 public:
  explicit Server(const DnsServerOptions& o) : o_(o), records_(o.records_file), buf_(65536) {}

  Status Bind() {
    for (const IpAddress& a : o_.listen) {
      Listener l;
      BERTH_ASSIGN_OR_RETURN(l.udp, Listen(a, o_.port, SOCK_DGRAM));
      BERTH_ASSIGN_OR_RETURN(l.tcp, Listen(a, o_.port, SOCK_STREAM));
      listeners_.push_back(std::move(l));
    }
    return Ok();
  }

  Status Serve(int signal_fd);

 private:
  struct Listener {
    UniqueFd udp, tcp;
  };
  struct TcpConn {
    UniqueFd fd;
    std::string in, out;
    Clock::time_point last;
    bool eof = false;
  };
  // A query forwarded to the upstreams; the reply goes to a UDP client (`udp_fd` and
  // `client`) or to TCP connection `tcp_id` (if it is still open).
  struct Pending {
    UniqueFd sock;
    std::string query;
    dns::Question q;
    size_t next_upstream = 0;
    Clock::time_point deadline;
    int udp_fd = -1;
    sockaddr_storage client{};
    socklen_t client_len = 0;
    uint64_t tcp_id = 0;
    bool done = false;
  };
  enum class Outcome { kDrop, kReply, kForward };

  Outcome Handle(std::string_view packet, size_t max_size, std::string* reply, dns::Question* q);
  void ReadUdp(int fd);
  void Accept(int fd);
  void ReadTcp(uint64_t id);
  void Flush(uint64_t id);
  void Forward(Pending p);
  bool SendToNextUpstream(Pending& p);
  void ReadUpstream(Pending& p);
  void Deliver(Pending& p, std::string_view reply);
  void Fail(Pending& p);

  const DnsServerOptions& o_;
  RecordsFile records_;
  std::vector<Listener> listeners_;
  std::map<uint64_t, TcpConn> tcp_;
  uint64_t next_tcp_id_ = 1;
  std::list<Pending> pending_;  // a list: pointers stay valid while new forwards are added
  std::vector<char> buf_;
};

Server::Outcome Server::Handle(std::string_view packet, size_t max_size, std::string* reply,
                               dns::Question* q) {
  // A response, or too short to answer: answering responses could start a loop between two
  // servers.
  if (packet.size() < dns::kHeaderSize || (static_cast<uint8_t>(packet[2]) & 0x80))
    return Outcome::kDrop;
  auto parsed = dns::ParseQuery(packet);
  if (!parsed) {
    log::Debug(StrCat("dns: bad query: ", parsed.error().message()));
    bool notimp = parsed.error().code() == ErrorCode::kUnsupported;
    *reply = dns::BuildError(packet, notimp ? dns::kRcodeNotImp : dns::kRcodeFormErr);
    return Outcome::kReply;
  }
  *q = std::move(*parsed);
  Lookup r = Resolve(records_.Get(), *q, !o_.upstreams.empty());
  log::Debug(StrCat("dns: query ", Quote(q->name), " type ", q->type,
                    r.forward ? ": forward" : ": local"));
  if (r.forward) {
    if (pending_.size() < kMaxPending) return Outcome::kForward;
    r.rcode = dns::kRcodeServFail;
  }
  *reply = dns::BuildAnswer(packet, *q, r.rcode, r.addresses, r.ptr_names, kTtl, max_size);
  return Outcome::kReply;
}

void Server::ReadUdp(int fd) {
  for (int i = 0; i < kUdpBatch; ++i) {
    Pending p;
    p.client_len = sizeof p.client;
    ssize_t n = ::recvfrom(fd, buf_.data(), buf_.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&p.client), &p.client_len);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        log::Warn(StrCat("dns: receive: ", std::strerror(errno)));
      }
      return;
    }
    std::string_view packet(buf_.data(), static_cast<size_t>(n));
    std::string reply;
    switch (Handle(packet, dns::kMaxUdpSize, &reply, &p.q)) {
      case Outcome::kDrop:
        break;
      case Outcome::kReply:
        // Best effort, as UDP is: a full socket buffer drops the answer and the client retries.
        (void)::sendto(fd, reply.data(), reply.size(), MSG_DONTWAIT,
                       reinterpret_cast<sockaddr*>(&p.client), p.client_len);
        break;
      case Outcome::kForward:
        p.query.assign(packet);
        p.udp_fd = fd;
        Forward(std::move(p));
        break;
    }
  }
}

void Server::Accept(int fd) {
  UniqueFd conn(::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!conn) return;
  if (tcp_.size() >= kMaxTcpConns) return;  // closed at once; the client falls back or retries
  TcpConn& c = tcp_[next_tcp_id_++];
  c.fd = std::move(conn);
  c.last = Clock::now();
}

void Server::ReadTcp(uint64_t id) {
  auto it = tcp_.find(id);
  if (it == tcp_.end()) return;
  TcpConn& c = it->second;
  ssize_t n = ::recv(c.fd.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
  if (n < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) tcp_.erase(it);
    return;
  }
  if (n == 0) {
    c.eof = true;
    if (c.out.empty()) tcp_.erase(it);
    return;
  }
  c.last = Clock::now();
  c.in.append(buf_.data(), static_cast<size_t>(n));
  // Two-byte length, then the message (RFC 1035 4.2.2); several may arrive at once.
  while (c.in.size() >= 2) {
    size_t len =
        static_cast<size_t>(static_cast<uint8_t>(c.in[0]) << 8 | static_cast<uint8_t>(c.in[1]));
    if (c.in.size() < 2 + len) break;
    Pending p;
    std::string reply;
    std::string_view packet = std::string_view(c.in).substr(2, len);
    Outcome out = Handle(packet, 65535, &reply, &p.q);
    if (out == Outcome::kReply) {
      c.out += LengthPrefixed(reply);
    } else if (out == Outcome::kForward) {
      p.query.assign(packet);
      p.tcp_id = id;
      Forward(std::move(p));
    }
    c.in.erase(0, 2 + len);
  }
  Flush(id);
}

void Server::Flush(uint64_t id) {
  auto it = tcp_.find(id);
  if (it == tcp_.end()) return;
  TcpConn& c = it->second;
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      tcp_.erase(it);
      return;
    }
    c.out.erase(0, static_cast<size_t>(n));
    c.last = Clock::now();
  }
  if (c.out.size() > kMaxTcpOut || (c.eof && c.out.empty())) tcp_.erase(it);
}

void Server::Forward(Pending p) {
  if (!SendToNextUpstream(p)) {
    Fail(p);
    return;
  }
  pending_.push_back(std::move(p));
}

bool Server::SendToNextUpstream(Pending& p) {
  while (p.next_upstream < o_.upstreams.size()) {
    const IpAddress& up = o_.upstreams[p.next_upstream++];
    // A new socket per try: its own random source port, and the connected socket only
    // takes datagrams from this upstream.
    UniqueFd s(::socket(up.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = ToSockaddr(up, o_.upstream_port, &ss);
    if (!s || ::connect(s.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
        ::send(s.get(), p.query.data(), p.query.size(), MSG_DONTWAIT) < 0) {
      log::Debug(
          StrCat("dns: forward to ", Endpoint(up, o_.upstream_port), ": ", std::strerror(errno)));
      continue;
    }
    p.sock = std::move(s);
    p.deadline = Clock::now() + kForwardTimeout;
    return true;
  }
  p.sock.Reset();
  return false;
}

void Server::ReadUpstream(Pending& p) {
  for (;;) {
    ssize_t n = ::recv(p.sock.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      // ECONNREFUSED (an ICMP port unreachable) and the like: the next upstream.
      if (!SendToNextUpstream(p)) Fail(p);
      return;
    }
    std::string_view reply(buf_.data(), static_cast<size_t>(n));
    // Only the reply to this query; anything else is dropped (a late or spoofed datagram).
    if (reply.size() >= dns::kHeaderSize && Id(reply) == p.q.id) {
      Deliver(p, reply);
      return;
    }
  }
}

void Server::Deliver(Pending& p, std::string_view reply) {
  p.done = true;
  p.sock.Reset();
  if (p.tcp_id == 0) {
    (void)::sendto(p.udp_fd, reply.data(), reply.size(), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&p.client), p.client_len);
    return;
  }
  // Only queued: this may run inside ReadTcp, which must not see its connection erased. The
  // next poll() asks for POLLOUT.
  auto it = tcp_.find(p.tcp_id);
  if (it != tcp_.end()) it->second.out += LengthPrefixed(reply);  // else the client went away
}

void Server::Fail(Pending& p) {
  Deliver(p, dns::BuildAnswer(p.query, p.q, dns::kRcodeServFail, {}, {}, kTtl));
}

Status Server::Serve(int signal_fd) {
  enum class Kind { kSignal, kUdp, kTcpListen, kConn, kUpstream };
  struct Ref {
    Kind kind;
    uint64_t id = 0;
    Pending* pending = nullptr;
  };
  std::vector<pollfd> fds;
  std::vector<Ref> refs;
  for (;;) {
    fds.clear();
    refs.clear();
    auto add = [&](int fd, short events, Ref ref) {
      fds.push_back({fd, events, 0});
      refs.push_back(ref);
    };
    add(signal_fd, POLLIN, {Kind::kSignal});
    for (const Listener& l : listeners_) {
      add(l.udp.get(), POLLIN, {Kind::kUdp});
      add(l.tcp.get(), POLLIN, {Kind::kTcpListen});
    }
    Clock::time_point now = Clock::now();
    std::optional<Clock::time_point> wake;
    auto wake_at = [&](Clock::time_point t) { wake = wake ? std::min(*wake, t) : t; };
    for (auto& [id, c] : tcp_) {
      add(c.fd.get(), static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)),
          {Kind::kConn, id});
      wake_at(c.last + kTcpIdle);
    }
    for (Pending& p : pending_) {
      add(p.sock.get(), POLLIN, {Kind::kUpstream, 0, &p});
      wake_at(p.deadline);
    }
    int timeout = -1;
    if (wake) {
      auto ms = std::chrono::ceil<std::chrono::milliseconds>(*wake - now).count();
      timeout = static_cast<int>(std::clamp<int64_t>(ms, 0, 60000));
    }
    if (::poll(fds.data(), fds.size(), timeout) < 0) {
      if (errno == EINTR) continue;
      return ErrnoFail("poll");
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      short ev = fds[i].revents;
      if (ev == 0) continue;
      const Ref& r = refs[i];
      switch (r.kind) {
        case Kind::kSignal: {
          signalfd_siginfo si;
          if (::read(signal_fd, &si, sizeof si) == sizeof si) {
            log::Info(StrCat("dns: signal ", si.ssi_signo, ": exiting"));
            return Ok();
          }
          break;
        }
        case Kind::kUdp:
          ReadUdp(fds[i].fd);
          break;
        case Kind::kTcpListen:
          Accept(fds[i].fd);
          break;
        case Kind::kConn:
          if (ev & (POLLIN | POLLERR | POLLHUP)) ReadTcp(r.id);
          if (ev & POLLOUT) Flush(r.id);
          break;
        case Kind::kUpstream:
          if (!r.pending->done) ReadUpstream(*r.pending);
          break;
      }
    }
    now = Clock::now();
    for (Pending& p : pending_) {
      if (p.done || now < p.deadline) continue;
      if (!SendToNextUpstream(p)) Fail(p);
    }
    pending_.remove_if([](const Pending& p) { return p.done; });
    std::erase_if(tcp_, [&](const auto& kv) { return now - kv.second.last >= kTcpIdle; });
  }
}

}  // namespace

Status RunDnsServer(const DnsServerOptions& options) {
  if (options.listen.empty()) return InvalidArgument("dns server: no listen address");
  // Blocked before the pid file exists, so a SIGTERM sent as soon as it appears is read
  // from the signalfd rather than killing the process with the pid file left behind.
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, &old); err != 0) {
    return SysFail(err, "dns server: block SIGTERM");
  }
  Defer restore([&] { ::pthread_sigmask(SIG_SETMASK, &old, nullptr); });
  UniqueFd sfd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sfd) return ErrnoFail("dns server: signalfd");

  Server server(options);
  BERTH_TRY_CTX(server.Bind(), "dns server");
  if (!options.pid_file.empty()) {
    BERTH_TRY_CTX(
        AtomicWriteFile(options.pid_file, StrCat(::getpid(), "\n"), 0644, Durability::kAtomicOnly),
        "dns server: write pid file");
  }
  Defer remove_pid([&] {
    if (!options.pid_file.empty()) ::unlink(options.pid_file.c_str());
  });
  std::vector<std::string> where;
  for (const IpAddress& a : options.listen) where.push_back(Endpoint(a, options.port));
  log::Info(StrCat("dns: listening on ", Join(where, ", "), " with ", options.upstreams.size(),
                   " upstreams"));
  BERTH_TRY_CTX(server.Serve(sfd.get()), "dns server");
  return Ok();
}

std::vector<IpAddress> UpstreamsFromResolvConf(const std::string& text) {
  std::vector<IpAddress> out;
  for (const std::string& raw : Split(text, '\n')) {
    std::vector<std::string_view> f = Fields(raw);
    if (f.size() < 2 || f[0] != "nameserver") continue;
    auto a = IpAddress::Parse(f[1], "nameserver");
    if (!a) continue;  // "fe80::1%eth0" and typos: nothing a container could use either
    IpAddress loopback6;
    loopback6.family = AF_INET6;
    loopback6.bytes[15] = 1;
    if ((a->is_v4() && a->bytes[0] == 127) || *a == loopback6) continue;
    if (std::find(out.begin(), out.end(), *a) == out.end()) out.push_back(*a);
  }
  return out;
}

}  // namespace berth::net
