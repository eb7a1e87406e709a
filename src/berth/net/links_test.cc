// Links and netns on the real kernel (root): a bridge and a veth into a fresh namespace,
// checked with real UDP traffic across them, then torn down and checked gone.
#include "berth/net/links.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/net/netns.h"
#include "berth/sys/mountinfo.h"

namespace berth::net {
namespace {

IpAddress V4(const std::string& s) { return *IpAddress::Parse(s, "test"); }

TEST(MacForAddress, FollowsTheIpv4Address) {
  auto mac = MacForAddress(V4("10.77.3.200"));
  std::array<uint8_t, 6> want{0x02, 0x42, 10, 77, 3, 200};
  EXPECT_EQ(mac, want);
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-net-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A 10.250.X.0/24 that no host route overlaps (the default route aside).
std::optional<int> FreeSubnetOctet() {
  std::ifstream in("/proc/net/route");
  std::string line;
  std::getline(in, line);                             // header
  std::vector<std::pair<uint32_t, uint32_t>> routes;  // dest, mask (host order)
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string iface, dest, gw, flags, refcnt, use, metric, mask;
    ss >> iface >> dest >> gw >> flags >> refcnt >> use >> metric >> mask;
    uint32_t d = ntohl(static_cast<uint32_t>(std::stoul(dest, nullptr, 16)));
    uint32_t m = ntohl(static_cast<uint32_t>(std::stoul(mask, nullptr, 16)));
    if (m != 0) routes.emplace_back(d, m);
  }
  for (int i = 0; i < 250; ++i) {
    int x = static_cast<int>((::getpid() + i) % 250) + 1;
    uint32_t net = (10u << 24) | (250u << 16) | (static_cast<uint32_t>(x) << 8);
    bool clash = std::any_of(routes.begin(), routes.end(), [&](auto& r) {
      uint32_t m = r.second & 0xffffff00u;  // the shorter of the two masks
      return (r.first & m) == (net & m);
    });
    if (!clash) return x;
  }
  return std::nullopt;
}

std::string NetnsInode(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

bool Mounted(const std::string& path) {
  auto mounts = sys::ReadMountInfo();
  if (!mounts) return false;
  return std::any_of(mounts->begin(), mounts->end(),
                     [&](const sys::MountInfo& m) { return m.mount_point == path; });
}

sockaddr_in SockAddr(const IpAddress& a, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  std::memcpy(&sa.sin_addr, a.bytes.data(), 4);
  return sa;
}

sockaddr_in6 SockAddr6(const IpAddress& a, uint16_t port) {
  sockaddr_in6 sa{};
  sa.sin6_family = AF_INET6;
  sa.sin6_port = htons(port);
  std::memcpy(&sa.sin6_addr, a.bytes.data(), 16);
  return sa;
}

// Waits up to 2 s for a datagram on `fd`.
std::string Receive(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 2000) != 1) return "";
  char buf[64];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

class LinksRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_FALSE(dir_.path().empty());
    auto octet = FreeSubnetOctet();
    if (!octet) GTEST_SKIP() << "no free 10.250.X.0/24";
    x_ = std::to_string(*octet);
    char hex[16];
    std::snprintf(hex, sizeof hex, "%x", static_cast<unsigned>(::getpid()));
    bridge_ = std::string("bt") + hex;
    veth_ = std::string("vt") + hex;
    ns_ = dir_.path() + "/ns";
    auto l = Links::Open();
    ASSERT_TRUE(l) << l.error().message();
    host_.emplace(std::move(*l));
  }
  void TearDown() override {
    // Best effort whatever the test left: the links first (the peer dies with its pair).
    if (host_) {
      (void)host_->Delete(veth_);
      (void)host_->Delete(bridge_);
    }
    if (!ns_.empty()) (void)RemoveNetns(ns_);
  }
  Prefix Net(const std::string& host, int len = 24) {
    return Prefix{V4("10.250." + x_ + "." + host), len};
  }
  // fdbe:250:X::/64 (ULA; the host's own fd00::/64 is elsewhere).
  Prefix Net6(const std::string& host) {
    return Prefix{*IpAddress::Parse("fdbe:250:" + x_ + "::" + host, "test"), 64};
  }

  TempDir dir_;
  std::string x_, bridge_, veth_, ns_;
  std::optional<Links> host_;
};

TEST_F(LinksRoot, NetnsLifecycle) {
  std::string self_ns = NetnsInode("/proc/thread-self/ns/net");
  ASSERT_TRUE(CreateNetns(ns_)) << "create";
  EXPECT_TRUE(Mounted(ns_));
  EXPECT_NE(NetnsInode(ns_), self_ns);
  EXPECT_EQ(NetnsInode("/proc/thread-self/ns/net"), self_ns) << "caller's netns changed";

  auto again = CreateNetns(ns_);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists) << again.error().message();
  EXPECT_TRUE(Mounted(ns_)) << "a failed create must not touch the existing one";

  auto fd = OpenNetns(ns_);
  ASSERT_TRUE(fd) << fd.error().message();
  std::string inside;
  bool lo_up = false;
  auto st = InNetns(fd->get(), [&]() -> Status {
    inside = NetnsInode("/proc/thread-self/ns/net");
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "lo");
    if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return ErrnoFail("SIOCGIFFLAGS");
    lo_up = ifr.ifr_flags & IFF_UP;
    return Ok();
  });
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(inside, NetnsInode(ns_));
  EXPECT_TRUE(lo_up);
  EXPECT_EQ(NetnsInode("/proc/thread-self/ns/net"), self_ns);

  // fn's error comes back as is.
  auto failed = InNetns(fd->get(), [] { return InvalidArgument("boom"); });
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().message(), "boom");

  ASSERT_TRUE(RemoveNetns(ns_));
  EXPECT_FALSE(Mounted(ns_));
  EXPECT_FALSE(PathExists(ns_));
  EXPECT_TRUE(RemoveNetns(ns_)) << "a missing netns is fine";

  auto nodir = CreateNetns(dir_.path() + "/missing/ns");
  ASSERT_FALSE(nodir);
  EXPECT_NE(nodir.error().message().find("missing/ns"), std::string::npos)
      << nodir.error().message();
}

TEST_F(LinksRoot, VethIntoNetnsCarriesTraffic) {
  ASSERT_TRUE(CreateNetns(ns_));
  auto nsfd = OpenNetns(ns_);
  ASSERT_TRUE(nsfd);

  BridgeConfig br{bridge_, 1400, {Net("1"), Net6("1")}};
  auto st = host_->EnsureBridge(br);
  ASSERT_TRUE(st) << st.error().message();
  st = host_->EnsureBridge(br);  // idempotent: the addresses are there already
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(host_->Exists(bridge_));
  // No STP wait, and a fixed MAC (addr_assign_type 3 = set by us), the gateway's.
  std::string sys = "/sys/class/net/" + bridge_;
  if (PathExists(sys)) {
    EXPECT_EQ(Trim(*ReadFile(sys + "/bridge/stp_state")), "0");
    EXPECT_EQ(Trim(*ReadFile(sys + "/bridge/forward_delay")), "0");
    EXPECT_EQ(Trim(*ReadFile(sys + "/addr_assign_type")), "3");
    EXPECT_EQ(Trim(*ReadFile(sys + "/mtu")), "1400");
    auto m = MacForAddress(Net("1").addr);
    char want[18];
    std::snprintf(want, sizeof want, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                  m[5]);
    EXPECT_EQ(Trim(*ReadFile(sys + "/address")), want);
  }

  IpAddress ctr = Net("2").addr;
  VethConfig v{veth_, bridge_, "eth0", nsfd->get(), 1400, MacForAddress(ctr)};
  st = host_->CreateVeth(v);
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(host_->Exists(veth_));

  auto dup = host_->CreateVeth(v);
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_NE(dup.error().message().find(veth_), std::string::npos) << dup.error().message();

  // Inside: configure, then bind a UDP socket on the container address (the socket belongs
  // to the namespace it was made in, whichever thread uses it later).
  UniqueFd ctr_sock, ctr_sock6;
  std::array<uint8_t, 6> mac{};
  std::string src_for_outside;
  st = InNetns(nsfd->get(), [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(Links c, Links::Open());
    for (int i = 0; i < 2; ++i) {  // the second time finds everything in place
      BERTH_TRY(c.ConfigureInterface("eth0", {Net("2"), Net6("2")}, Net("1").addr, Net6("1").addr));
    }
    ctr_sock = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa = SockAddr(ctr, 40001);
    if (::bind(ctr_sock.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      return ErrnoFail("bind container socket");
    }
    // Binding fails on a tentative address: this checks that DAD was skipped.
    ctr_sock6 = UniqueFd(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in6 sa6 = SockAddr6(Net6("2").addr, 40003);
    if (::bind(ctr_sock6.get(), reinterpret_cast<sockaddr*>(&sa6), sizeof sa6) != 0) {
      return ErrnoFail("bind container socket (IPv6)");
    }
    ifreq ifr{};
    std::strcpy(ifr.ifr_name, "eth0");
    if (::ioctl(ctr_sock.get(), SIOCGIFHWADDR, &ifr) != 0) return ErrnoFail("SIOCGIFHWADDR");
    std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    // The default route: connect() on UDP only routes, nothing is sent.
    UniqueFd probe(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in far = SockAddr(V4("198.51.100.7"), 9);
    if (::connect(probe.get(), reinterpret_cast<sockaddr*>(&far), sizeof far) != 0) {
      return ErrnoFail("route to 198.51.100.7");
    }
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(probe.get(), reinterpret_cast<sockaddr*>(&local), &len);
    char buf[INET_ADDRSTRLEN];
    src_for_outside = ::inet_ntop(AF_INET, &local.sin_addr, buf, sizeof buf);
    return Ok();
  });
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(mac, MacForAddress(ctr));
  EXPECT_EQ(src_for_outside, ctr.ToString());

  // Host -> container across the bridge and the veth.
  UniqueFd host_sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in to = SockAddr(ctr, 40001);
  ASSERT_EQ(::sendto(host_sock.get(), "ping", 4, 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            4);
  EXPECT_EQ(Receive(ctr_sock.get()), "ping");

  UniqueFd host_sock6(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 to6 = SockAddr6(Net6("2").addr, 40003);
  ASSERT_EQ(
      ::sendto(host_sock6.get(), "ping6", 5, 0, reinterpret_cast<sockaddr*>(&to6), sizeof to6), 5);
  EXPECT_EQ(Receive(ctr_sock6.get()), "ping6");

  // Container -> host (the gateway address on the bridge).
  UniqueFd gw_sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in gw = SockAddr(Net("1").addr, 40002);
  ASSERT_EQ(::bind(gw_sock.get(), reinterpret_cast<sockaddr*>(&gw), sizeof gw), 0);
  ASSERT_EQ(::sendto(ctr_sock.get(), "pong", 4, 0, reinterpret_cast<sockaddr*>(&gw), sizeof gw), 4);
  EXPECT_EQ(Receive(gw_sock.get()), "pong");

  // Deleting the host end takes the peer with it.
  ASSERT_TRUE(host_->Delete(veth_));
  EXPECT_FALSE(host_->Exists(veth_));
  bool peer_left = true;
  st = InNetns(nsfd->get(), [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(Links c, Links::Open());
    peer_left = c.Exists("eth0");
    return Ok();
  });
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_FALSE(peer_left);
  EXPECT_TRUE(host_->Delete(veth_)) << "a missing link is fine";

  ctr_sock.Reset();
  nsfd->Reset();
  ASSERT_TRUE(RemoveNetns(ns_));
  EXPECT_FALSE(Mounted(ns_));
  EXPECT_FALSE(PathExists(ns_));
}

TEST_F(LinksRoot, ErrorsNameTheLink) {
  auto missing = host_->CreateVeth({veth_, bridge_ + "x", "eth0", 0, 0, std::nullopt});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find(bridge_ + "x"), std::string::npos)
      << missing.error().message();

  auto long_name = host_->EnsureBridge({"a-name-longer-than-15", 0, {}});
  ASSERT_FALSE(long_name);
  EXPECT_EQ(long_name.error().code(), ErrorCode::kInvalidArgument);

  // A non-bridge already holding the name.
  ASSERT_TRUE(host_->EnsureBridge({bridge_, 0, {}}));
  auto not_bridge = host_->EnsureBridge({"lo", 0, {}});
  ASSERT_FALSE(not_bridge);
  EXPECT_EQ(not_bridge.error().code(), ErrorCode::kAlreadyExists) << not_bridge.error().message();

  // The kernel's errno (and extended-ack text) come through: a gateway outside every prefix.
  ASSERT_TRUE(CreateNetns(ns_));
  auto nsfd = OpenNetns(ns_);
  ASSERT_TRUE(nsfd);
  ASSERT_TRUE(host_->CreateVeth({veth_, bridge_, "eth0", nsfd->get(), 0, std::nullopt}));
  auto st = InNetns(nsfd->get(), [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(Links c, Links::Open());
    return c.ConfigureInterface("eth0", {Net("2")}, V4("192.0.2.99"), std::nullopt);
  });
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("192.0.2.99"), std::string::npos) << st.error().message();
  EXPECT_NE(st.error().sys_errno(), 0) << st.error().message();
  std::printf("route error: %s\n", st.error().message().c_str());
}

// Times the per-container part (the bridge exists already); printed, not asserted: numbers
// are compared A/B on one machine, never against a stored baseline.
TEST_F(LinksRoot, SetupTiming) {
  ASSERT_TRUE(host_->EnsureBridge({bridge_, 0, {Net("1")}}));
  using Clock = std::chrono::steady_clock;
  auto us = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  std::vector<long> netns, veth, config, del, rm, total;
  for (int i = 0; i < 20; ++i) {
    auto t0 = Clock::now();
    ASSERT_TRUE(CreateNetns(ns_));
    auto nsfd = OpenNetns(ns_);
    ASSERT_TRUE(nsfd);
    auto t1 = Clock::now();
    ASSERT_TRUE(
        host_->CreateVeth({veth_, bridge_, "eth0", nsfd->get(), 0, MacForAddress(Net("2").addr)}));
    auto t2 = Clock::now();
    auto st = InNetns(nsfd->get(), [&]() -> Status {
      BERTH_ASSIGN_OR_RETURN(Links c, Links::Open());
      return c.ConfigureInterface("eth0", {Net("2")}, Net("1").addr, std::nullopt);
    });
    ASSERT_TRUE(st) << st.error().message();
    auto t3 = Clock::now();
    ASSERT_TRUE(host_->Delete(veth_));
    auto t4 = Clock::now();
    nsfd->Reset();
    ASSERT_TRUE(RemoveNetns(ns_));
    auto t5 = Clock::now();
    netns.push_back(us(t1 - t0));
    veth.push_back(us(t2 - t1));
    config.push_back(us(t3 - t2));
    del.push_back(us(t4 - t3));
    rm.push_back(us(t5 - t4));
    total.push_back(us(t3 - t0));
  }
  auto median = [](std::vector<long> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf(
      "median µs over 20: CreateNetns+Open %ld, CreateVeth %ld, InNetns+Configure %ld "
      "(setup %ld); Delete %ld, RemoveNetns %ld\n",
      median(netns), median(veth), median(config), median(total), median(del), median(rm));
}

}  // namespace
}  // namespace berth::net
