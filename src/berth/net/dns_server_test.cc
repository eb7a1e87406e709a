#include "berth/net/dns_server.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/net/dns_message.h"
#include "berth/net/dns_test_util.h"

namespace berth::net {
namespace {

using Clock = std::chrono::steady_clock;
using dns::testing::Answer;
using dns::testing::ParseAnswer;
using namespace std::chrono_literals;

IpAddress Ip(const char* s) { return *IpAddress::Parse(s, "test"); }

socklen_t Sockaddr(const IpAddress& a, uint16_t port, sockaddr_storage* ss) {
  std::memset(ss, 0, sizeof *ss);
  if (a.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
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

UniqueFd BoundUdp(const IpAddress& a, uint16_t port) {
  UniqueFd fd(::socket(a.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = Sockaddr(a, port, &ss);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return UniqueFd();
  return fd;
}

uint16_t PortOf(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

bool Readable(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

// One UDP exchange; "" on timeout.
std::string UdpExchange(const IpAddress& server, uint16_t port, std::string_view query,
                        std::chrono::milliseconds timeout = 3000ms) {
  UniqueFd fd(::socket(server.family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = Sockaddr(server, port, &ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) return "";
  if (::send(fd.get(), query.data(), query.size(), 0) < 0) return "";
  if (!Readable(fd.get(), timeout)) return "";
  std::string buf(65536, '\0');
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  return n < 0 ? "" : buf.substr(0, static_cast<size_t>(n));
}

std::string Q(std::string_view name, uint16_t type, uint16_t id = 0x5151) {
  auto q = dns::BuildQuery(id, name, type);
  EXPECT_TRUE(q.has_value()) << name;
  return q ? *q : std::string();
}

bool ReadExactly(int fd, char* p, size_t n) {
  while (n > 0) {
    if (!Readable(fd, 3000ms)) return false;
    ssize_t r = ::recv(fd, p, n, 0);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::string ReadTcpMessage(int fd) {
  char len[2];
  if (!ReadExactly(fd, len, 2)) return "";
  std::string msg(
      static_cast<size_t>(static_cast<uint8_t>(len[0]) << 8 | static_cast<uint8_t>(len[1])), '\0');
  if (!ReadExactly(fd, msg.data(), msg.size())) return "";
  return msg;
}

std::string Framed(std::string_view msg) {
  std::string out;
  out.push_back(static_cast<char>(msg.size() >> 8));
  out.push_back(static_cast<char>(msg.size() & 0xff));
  out.append(msg);
  return out;
}

// An upstream resolver on 127.0.0.2 that answers every A question with 192.0.2.1 (TTL 300,
// so its answers are told apart from the server's own).
class FakeUpstream {
 public:
  FakeUpstream() : fd_(BoundUdp(Ip("127.0.0.2"), 0)) {}
  ~FakeUpstream() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  bool ok() const { return fd_.valid(); }
  uint16_t port() const { return PortOf(fd_.get()); }
  // After the server is forked: no thread of ours is copied into the child.
  void Start() {
    thread_ = std::thread([this] {
      std::string buf(65536, '\0');
      while (!stop_) {
        if (!Readable(fd_.get(), 50ms)) continue;
        sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = ::recvfrom(fd_.get(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &from_len);
        if (n <= 0) continue;
        std::string query = buf.substr(0, static_cast<size_t>(n));
        std::string reply = Reply(query);
        {
          std::lock_guard<std::mutex> lock(mu_);
          auto q = dns::ParseQuery(query);
          names_.push_back(q ? q->name : "?");
        }
        ::sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from),
                 from_len);
      }
    });
  }
  static std::string Reply(std::string_view query) {
    auto q = dns::ParseQuery(query);
    if (!q) return "";
    return dns::BuildAnswer(query, *q, dns::kRcodeOk, {Ip("192.0.2.1")}, {}, 300);
  }
  std::vector<std::string> names() {
    std::lock_guard<std::mutex> lock(mu_);
    return names_;
  }

 private:
  UniqueFd fd_;
  std::atomic<bool> stop_ = false;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> names_;
};

constexpr char kRecords[] = R"(# berth records
10.88.0.2 web Web-Alias abc123def456
10.88.0.3 db
fd00::2 web

10.88.0.4 shared   # two containers, one alias
10.88.0.5	shared
not-an-address foo
10.88.0.6
)";

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-dns-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    records_ = dir_ + "/records";
    pid_file_ = dir_ + "/dns.pid";
    // ::1 only where the host has IPv6 on loopback.
    v6_ = BoundUdp(Ip("::1"), 0).valid();
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    (void)RemoveAll(dir_);
  }

  void WriteRecords(std::string_view text) {
    ASSERT_TRUE(AtomicWriteFile(records_, text, 0644, Durability::kAtomicOnly).has_value());
  }

  // Forks RunDnsServer on 127.0.0.1 and 127.0.0.5 (and ::1) at a random port, retrying
  // ports in use; returns once the pid file says it is ready.
  void Start(std::vector<IpAddress> upstreams = {}, uint16_t upstream_port = 53) {
    std::mt19937 rng(std::random_device{}());
    for (int attempt = 0; attempt < 20; ++attempt) {
      auto port = static_cast<uint16_t>(20000 + rng() % 40000);
      pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        DnsServerOptions o;
        o.listen = {Ip("127.0.0.1"), Ip("127.0.0.5")};
        if (v6_) o.listen.push_back(Ip("::1"));
        o.port = port;
        o.records_file = records_;
        o.upstreams = upstreams;
        o.upstream_port = upstream_port;
        o.pid_file = pid_file_;
        Status st = RunDnsServer(o);
        if (!st) {
          std::fprintf(stderr, "dns server: %s\n", st.error().message().c_str());
          ::_exit(st.error().sys_errno() == EADDRINUSE ? 98 : 1);
        }
        ::_exit(0);
      }
      auto deadline = Clock::now() + 5s;
      bool retry = false;
      while (Clock::now() < deadline) {
        if (PathExists(pid_file_)) {
          pid_ = pid;
          port_ = port;
          return;
        }
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
          ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 98)
              << "server exited: " << status;
          retry = true;
          break;
        }
        std::this_thread::sleep_for(5ms);
      }
      if (!retry) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        FAIL() << "server did not write its pid file";
      }
    }
    FAIL() << "no free port";
  }

  // SIGTERM; the exit status.
  int Stop() {
    ::kill(pid_, SIGTERM);
    int status = -1;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

  std::string Ask(std::string_view name, uint16_t type, const char* server = "127.0.0.1") {
    return UdpExchange(Ip(server), port_, Q(name, type));
  }

  // The answer to `name`, parsed; rcode and texts.
  Answer Lookup(std::string_view name, uint16_t type, const char* server = "127.0.0.1") {
    std::string raw = Ask(name, type, server);
    auto a = ParseAnswer(raw);
    EXPECT_TRUE(a.has_value()) << name << ": " << (a ? "" : a.error().message());
    return a ? *a : Answer{.flags = 0xFFFF};
  }

  std::string dir_, records_, pid_file_;
  bool v6_ = false;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

using Texts = std::vector<std::string>;

TEST_F(DnsServerTest, AnswersFromRecords) {
  WriteRecords(kRecords);
  Start();
  auto pid = ReadFile(pid_file_);
  ASSERT_TRUE(pid.has_value());
  EXPECT_EQ(*pid, StrCat(pid_, "\n"));

  Answer a = Lookup("web", dns::kTypeA);
  EXPECT_EQ(a.rcode(), dns::kRcodeOk);
  EXPECT_EQ(a.Texts(), Texts{"10.88.0.2"});
  EXPECT_EQ(a.id, 0x5151);
  EXPECT_TRUE(a.flags & dns::kFlagQr);
  EXPECT_EQ(a.records[0].ttl, 60u);
  EXPECT_EQ(Lookup("web", dns::kTypeAaaa).Texts(), Texts{"fd00::2"});
  // Case, trailing dot, the search domain, aliases and ids.
  EXPECT_EQ(Lookup("WEB.", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  EXPECT_EQ(Lookup("Web.Dns.Berth.", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  EXPECT_EQ(Lookup("web-alias", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  EXPECT_EQ(Lookup("abc123def456.dns.berth", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  EXPECT_EQ(Lookup("db", dns::kTypeA).Texts(), Texts{"10.88.0.3"});
  // Several containers under one alias: all of them.
  EXPECT_EQ(Lookup("shared", dns::kTypeA).Texts(), (Texts{"10.88.0.4", "10.88.0.5"}));
  // The name exists without an address of that family, or the type is not one we serve.
  a = Lookup("db", dns::kTypeAaaa);
  EXPECT_EQ(a.rcode(), dns::kRcodeOk);
  EXPECT_EQ(a.ancount, 0);
  a = Lookup("web", 15 /* MX */);
  EXPECT_EQ(a.rcode(), dns::kRcodeOk);
  EXPECT_EQ(a.ancount, 0);
  // Reverse names.
  EXPECT_EQ(Lookup("2.0.88.10.in-addr.arpa", dns::kTypePtr).Texts(), Texts{"web"});
  EXPECT_EQ(Lookup("5.0.88.10.in-addr.arpa.", dns::kTypePtr).Texts(), Texts{"shared"});
  std::string v6_rev = "2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa";
  EXPECT_EQ(Lookup(v6_rev, dns::kTypePtr).Texts(), Texts{"web"});
  // Unknown names without upstreams, and under our domain: NXDOMAIN (so a resolver goes on
  // down its search list), as is a skipped record line.
  for (const char* name :
       {"nothere", "nothere.dns.berth", "example.com", "foo", "9.0.88.10.in-addr.arpa"}) {
    a = Lookup(name, name[0] == '9' ? dns::kTypePtr : dns::kTypeA);
    EXPECT_EQ(a.rcode(), dns::kRcodeNxDomain) << name;
    EXPECT_EQ(a.ancount, 0) << name;
  }
  // Every listen address answers.
  EXPECT_EQ(Lookup("web", dns::kTypeA, "127.0.0.5").Texts(), Texts{"10.88.0.2"});
  if (v6_) {
    EXPECT_EQ(Lookup("web", dns::kTypeAaaa, "::1").Texts(), Texts{"fd00::2"});
  }
}

TEST_F(DnsServerTest, MalformedQueries) {
  WriteRecords(kRecords);
  Start();
  std::string q = Q("web", dns::kTypeA);
  // Cut in the name: FORMERR with the id.
  auto a = ParseAnswer(UdpExchange(Ip("127.0.0.1"), port_, q.substr(0, 14)));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->rcode(), dns::kRcodeFormErr);
  EXPECT_EQ(a->id, 0x5151);
  // An UPDATE: NOTIMP.
  std::string update = q;
  update[2] = static_cast<char>(update[2] | 0x28);
  a = ParseAnswer(UdpExchange(Ip("127.0.0.1"), port_, update));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->rcode(), dns::kRcodeNotImp);
  // A response or a runt: no answer at all.
  std::string response = q;
  response[2] = static_cast<char>(response[2] | 0x80);
  EXPECT_EQ(UdpExchange(Ip("127.0.0.1"), port_, response, 300ms), "");
  EXPECT_EQ(UdpExchange(Ip("127.0.0.1"), port_, "abc", 300ms), "");
  // Still serving.
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
}

TEST_F(DnsServerTest, ReloadsRecordsWhenTheFileChanges) {
  // No file yet: no records, but serving.
  Start();
  EXPECT_EQ(Lookup("web", dns::kTypeA).rcode(), dns::kRcodeNxDomain);
  WriteRecords("10.88.0.2 web\n");
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  // Same size, written right away: the new inode gives it away.
  WriteRecords("10.88.0.7 web\n");
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.7"});
  WriteRecords("10.88.0.7 web\n10.88.0.8 app\n");
  EXPECT_EQ(Lookup("app", dns::kTypeA).Texts(), Texts{"10.88.0.8"});
  ASSERT_EQ(::unlink(records_.c_str()), 0);
  EXPECT_EQ(Lookup("web", dns::kTypeA).rcode(), dns::kRcodeNxDomain);
  WriteRecords("10.88.0.9 web\n");
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.9"});
}

TEST_F(DnsServerTest, ForwardsUnknownNames) {
  WriteRecords(kRecords);
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  // 127.0.0.3 has nobody on the port: refused at once, then the next one.
  Start({Ip("127.0.0.3"), Ip("127.0.0.2")}, up.port());
  up.Start();
  std::string q = Q("Example.COM", dns::kTypeA, 0x7777);
  std::string reply = UdpExchange(Ip("127.0.0.1"), port_, q);
  // Relayed unchanged.
  EXPECT_EQ(reply, FakeUpstream::Reply(q));
  auto a = ParseAnswer(reply);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->Texts(), Texts{"192.0.2.1"});
  EXPECT_EQ(a->records[0].ttl, 300u);
  // Local names and our domain stay local.
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  EXPECT_EQ(Lookup("gone.dns.berth", dns::kTypeA).rcode(), dns::kRcodeNxDomain);
  EXPECT_EQ(Lookup("4.0.88.10.in-addr.arpa", dns::kTypePtr).Texts(), Texts{"shared"});
  // Unknown reverse names go out too.
  EXPECT_EQ(Lookup("1.2.0.192.in-addr.arpa", dns::kTypePtr).rcode(), dns::kRcodeOk);
  EXPECT_EQ(up.names(), (Texts{"example.com", "1.2.0.192.in-addr.arpa"}));
}

TEST_F(DnsServerTest, SlowUpstreamBlocksNobody) {
  WriteRecords(kRecords);
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  // 127.0.0.4 takes the datagrams and never answers: 2 s, then the next upstream.
  UniqueFd silent = BoundUdp(Ip("127.0.0.4"), up.port());
  if (!silent) GTEST_SKIP() << "port " << up.port() << " busy on 127.0.0.4";
  Start({Ip("127.0.0.4"), Ip("127.0.0.2")}, up.port());
  up.Start();

  UniqueFd client(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = Sockaddr(Ip("127.0.0.1"), port_, &ss);
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  std::string q = Q("slow.example", dns::kTypeA, 0x1111);
  auto sent = Clock::now();
  ASSERT_GT(::send(client.get(), q.data(), q.size(), 0), 0);

  // Meanwhile local answers come at once.
  auto t0 = Clock::now();
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  EXPECT_LT(Clock::now() - t0, 500ms);

  ASSERT_TRUE(Readable(client.get(), 5000ms));
  std::string buf(4096, '\0');
  ssize_t n = ::recv(client.get(), buf.data(), buf.size(), 0);
  ASSERT_GT(n, 0);
  EXPECT_GE(Clock::now() - sent, 1900ms);
  EXPECT_EQ(buf.substr(0, static_cast<size_t>(n)), FakeUpstream::Reply(q));
}

TEST_F(DnsServerTest, NoUpstreamAnswersServFail) {
  WriteRecords(kRecords);
  // Nobody on either: refused, refused, SERVFAIL (not NXDOMAIN: the name may well exist).
  UniqueFd probe = BoundUdp(Ip("127.0.0.2"), 0);
  uint16_t port = PortOf(probe.get());
  probe.Reset();
  Start({Ip("127.0.0.3"), Ip("127.0.0.2")}, port);
  Answer a = Lookup("example.com", dns::kTypeA);
  EXPECT_EQ(a.rcode(), dns::kRcodeServFail);
  EXPECT_EQ(a.qname, "example.com");
}

TEST_F(DnsServerTest, Tcp) {
  WriteRecords(kRecords);
  FakeUpstream up;
  ASSERT_TRUE(up.ok());
  Start({Ip("127.0.0.2")}, up.port());
  up.Start();
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = Sockaddr(Ip("127.0.0.1"), port_, &ss);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);

  // Two queries in one write, the second split from its length by nothing.
  std::string both = Framed(Q("web", dns::kTypeA, 1)) + Framed(Q("shared", dns::kTypeA, 2));
  ASSERT_EQ(::send(fd.get(), both.data(), both.size(), 0), static_cast<ssize_t>(both.size()));
  auto a = ParseAnswer(ReadTcpMessage(fd.get()));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, 1);
  EXPECT_EQ(a->Texts(), Texts{"10.88.0.2"});
  a = ParseAnswer(ReadTcpMessage(fd.get()));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->id, 2);
  EXPECT_EQ(a->Texts(), (Texts{"10.88.0.4", "10.88.0.5"}));

  // A query dribbled in byte by byte.
  std::string one = Framed(Q("db", dns::kTypeA, 3));
  for (char c : one) {
    ASSERT_EQ(::send(fd.get(), &c, 1, 0), 1);
    std::this_thread::sleep_for(1ms);
  }
  a = ParseAnswer(ReadTcpMessage(fd.get()));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->Texts(), Texts{"10.88.0.3"});

  // Forwarded over UDP, answered over this connection.
  std::string q = Q("example.org", dns::kTypeA, 4);
  std::string framed = Framed(q);
  ASSERT_GT(::send(fd.get(), framed.data(), framed.size(), 0), 0);
  EXPECT_EQ(ReadTcpMessage(fd.get()), FakeUpstream::Reply(q));

  // Many answers fit in TCP where UDP truncates.
  std::string many;
  for (int i = 0; i < 40; ++i) many += StrCat("10.1.0.", i + 1, " many\n");
  WriteRecords(many);
  framed = Framed(Q("many", dns::kTypeA, 5));
  ASSERT_GT(::send(fd.get(), framed.data(), framed.size(), 0), 0);
  a = ParseAnswer(ReadTcpMessage(fd.get()));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ancount, 40);
  EXPECT_FALSE(a->flags & dns::kFlagTc);
  Answer udp = Lookup("many", dns::kTypeA);
  EXPECT_TRUE(udp.flags & dns::kFlagTc);
  EXPECT_LT(udp.ancount, 40);
}

TEST_F(DnsServerTest, TcpIdleConnectionsAreClosed) {
  WriteRecords(kRecords);
  Start();
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_storage ss;
  socklen_t len = Sockaddr(Ip("127.0.0.1"), port_, &ss);
  ASSERT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len), 0);
  auto t0 = Clock::now();
  ASSERT_TRUE(Readable(fd.get(), 8000ms));
  char c;
  EXPECT_EQ(::recv(fd.get(), &c, 1, 0), 0);  // EOF
  EXPECT_GE(Clock::now() - t0, 4500ms);
}

TEST_F(DnsServerTest, SigtermRemovesThePidFile) {
  WriteRecords(kRecords);
  Start();
  EXPECT_EQ(Lookup("web", dns::kTypeA).Texts(), Texts{"10.88.0.2"});
  int status = Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_FALSE(PathExists(pid_file_));
}

TEST(DnsServer, BindFailureIsReturnedBeforeThePidFile) {
  char tmpl[] = "/tmp/berth-dns-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  DnsServerOptions o;
  o.listen = {Ip("192.0.2.77")};  // TEST-NET-1: on no interface
  o.port = 20053;
  o.pid_file = dir + "/dns.pid";
  Status st = RunDnsServer(o);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("bind udp `192.0.2.77:20053`"), std::string::npos)
      << st.error().message();
  EXPECT_EQ(st.error().sys_errno(), EADDRNOTAVAIL);
  EXPECT_FALSE(PathExists(o.pid_file));
  EXPECT_FALSE(RunDnsServer(DnsServerOptions{}).has_value());
  (void)RemoveAll(dir);
}

TEST(DnsServer, UpstreamsFromResolvConf) {
  auto ups = UpstreamsFromResolvConf(
      "# generated\n"
      "search example.com\n"
      "nameserver 127.0.0.53\n"
      "nameserver\t10.0.0.1  \n"
      "nameserver ::1\n"
      "  nameserver 2001:db8::53\n"
      "nameserver fe80::1%eth0\n"
      "nameserver 10.0.0.1\n"
      "nameserver 127.1.2.3\n"
      "nameserverx 1.1.1.1\n"
      "options ndots:2\n"
      "nameserver 8.8.8.8");
  std::vector<std::string> got;
  for (const IpAddress& a : ups) got.push_back(a.ToString());
  EXPECT_EQ(got, (std::vector<std::string>{"10.0.0.1", "2001:db8::53", "8.8.8.8"}));
  EXPECT_TRUE(UpstreamsFromResolvConf("").empty());
}

}  // namespace
}  // namespace berth::net
