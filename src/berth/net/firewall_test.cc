#include "berth/net/firewall.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::net {
namespace {

IpAddress Ip(std::string_view s) { return *IpAddress::Parse(s, "test"); }
Prefix Net(std::string_view s) { return *Prefix::Parse(s, "test"); }

PortForward Port(std::string proto, std::optional<std::string> host, uint16_t hp, std::string cip,
                 uint16_t cp, std::string bridge) {
  PortForward p;
  p.protocol = std::move(proto);
  if (host) p.host_ip = Ip(*host);
  p.host_port = hp;
  p.container_ip = Ip(cip);
  p.container_port = cp;
  p.bridge = std::move(bridge);
  return p;
}

// Two networks (one dual-stack), four published ports.
FirewallState Typical() {
  FirewallState s;
  s.networks.push_back({"berth0", {Net("10.77.0.0/24"), Net("fd00:77::/64")}, false, true});
  s.networks.push_back({"br-web", {Net("10.78.0.0/24")}, false, true});
  s.ports.push_back(Port("tcp", std::nullopt, 8080, "10.77.0.2", 80, "berth0"));
  s.ports.push_back(Port("tcp", std::nullopt, 8080, "fd00:77::2", 80, "berth0"));
  s.ports.push_back(Port("udp", "127.0.0.1", 5353, "10.78.0.3", 53, "br-web"));
  s.ports.push_back(Port("tcp", "127.0.0.1", 8080, "10.78.0.3", 8000, "br-web"));
  return s;
}

constexpr std::string_view kTypicalScript = R"(table inet berth {}
delete table inet berth
table inet berth {
	set bridges {
		type ifname
		elements = { "berth0", "br-web" }
	}
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local jump publish
	}
	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local jump publish
	}
	chain publish {
		ip daddr 127.0.0.1 tcp dport 8080 dnat ip to 10.78.0.3:8000
		ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.78.0.3:53
		meta nfproto ipv4 tcp dport 8080 dnat ip to 10.77.0.2:80
		meta nfproto ipv6 tcp dport 8080 dnat ip6 to [fd00:77::2]:80
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 masquerade
		ip6 saddr fd00:77::/64 ip6 daddr != fd00:77::/64 masquerade
		ip saddr 10.78.0.0/24 ip daddr != 10.78.0.0/24 masquerade
		ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade
		ct status dnat ip saddr 10.77.0.0/24 ip daddr 10.77.0.0/24 oifname "berth0" masquerade
		ct status dnat ip6 saddr fd00:77::/64 ip6 daddr fd00:77::/64 oifname "berth0" masquerade
		ct status dnat ip saddr 10.78.0.0/24 ip daddr 10.78.0.0/24 oifname "br-web" masquerade
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct status dnat accept
		iifname "berth0" oifname != "berth0" oifname @bridges drop
		iifname "br-web" oifname != "br-web" oifname @bridges drop
		ct state established,related accept
	}
}
)";

TEST(FirewallScript, EmptyStateOnlyDeletesTheTable) {
  auto s = FirewallScript(FirewallState{});
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(*s, "table inet berth {}\ndelete table inet berth\n");
  FirewallState t;
  t.table = "berth_test_1";
  EXPECT_EQ(*FirewallScript(t), "table inet berth_test_1 {}\ndelete table inet berth_test_1\n");
}

TEST(FirewallScript, TypicalState) {
  auto s = FirewallScript(Typical());
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(*s, kTypicalScript);
}

TEST(FirewallScript, SameScriptInAnyOrder) {
  std::mt19937 rng(7);
  for (int i = 0; i < 10; ++i) {
    FirewallState s = Typical();
    std::shuffle(s.networks.begin(), s.networks.end(), rng);
    std::shuffle(s.ports.begin(), s.ports.end(), rng);
    std::shuffle(s.networks[0].subnets.begin(), s.networks[0].subnets.end(), rng);
    auto script = FirewallScript(s);
    ASSERT_TRUE(script.has_value()) << script.error().message();
    EXPECT_EQ(*script, kTypicalScript);
  }
}

TEST(FirewallScript, InternalNetworkForwardsNothingAndIsNotMasqueraded) {
  FirewallState s;
  s.networks.push_back({"berth0", {Net("10.77.0.0/24")}, false, true});
  s.networks.push_back({"secret", {Net("10.79.0.0/24")}, true, true});
  s.networks.push_back({"nomasq", {Net("10.80.0.0/24")}, false, false});
  auto script = FirewallScript(s);
  ASSERT_TRUE(script.has_value()) << script.error().message();
  EXPECT_NE(script->find("ip saddr 10.77.0.0/24 ip daddr != 10.77.0.0/24 masquerade"),
            std::string::npos);
  EXPECT_EQ(script->find("ip saddr 10.79.0.0/24 ip daddr != 10.79.0.0/24"), std::string::npos);
  EXPECT_EQ(script->find("ip saddr 10.80.0.0/24 ip daddr != 10.80.0.0/24"), std::string::npos);
  // Hairpin masquerade stays for every network: it only touches DNATed traffic.
  EXPECT_NE(script->find("ct status dnat ip saddr 10.79.0.0/24 ip daddr 10.79.0.0/24 oifname "
                         "\"secret\" masquerade"),
            std::string::npos);
  // Internal drops come before published ports are let through.
  std::string forward = script->substr(script->find("chain forward"));
  EXPECT_EQ(forward.substr(forward.find("policy accept;\n") + 15),
            "\t\tiifname \"secret\" oifname != \"secret\" drop\n"
            "\t\toifname \"secret\" iifname != \"secret\" drop\n"
            "\t\tct status dnat accept\n"
            "\t\tiifname \"berth0\" oifname != \"berth0\" oifname @bridges drop\n"
            "\t\tiifname \"nomasq\" oifname != \"nomasq\" oifname @bridges drop\n"
            "\t\tct state established,related accept\n"
            "\t}\n}\n");
}

TEST(FirewallScript, HostAddressRulesComeBeforeWildcards) {
  FirewallState s;
  s.networks.push_back({"berth0", {Net("10.77.0.0/24"), Net("fd00::/64")}, false, true});
  s.ports.push_back(Port("tcp", std::nullopt, 80, "10.77.0.2", 80, "berth0"));
  s.ports.push_back(Port("tcp", "192.168.1.5", 80, "10.77.0.3", 80, "berth0"));
  s.ports.push_back(Port("sctp", "::1", 80, "fd00::3", 80, "berth0"));
  // 0.0.0.0 is the wildcard, not a host address.
  s.ports.push_back(Port("udp", "0.0.0.0", 80, "10.77.0.4", 81, "berth0"));
  auto script = FirewallScript(s);
  ASSERT_TRUE(script.has_value()) << script.error().message();
  std::string publish = script->substr(script->find("chain publish {\n") + 16);
  publish = publish.substr(0, publish.find("\t}"));
  EXPECT_EQ(publish,
            "\t\tip daddr 192.168.1.5 tcp dport 80 dnat ip to 10.77.0.3:80\n"
            "\t\tip6 daddr ::1 sctp dport 80 dnat ip6 to [fd00::3]:80\n"
            "\t\tmeta nfproto ipv4 tcp dport 80 dnat ip to 10.77.0.2:80\n"
            "\t\tmeta nfproto ipv4 udp dport 80 dnat ip to 10.77.0.4:81\n");
}

void ExpectInvalid(const FirewallState& s, std::string_view needle) {
  auto r = FirewallScript(s);
  ASSERT_FALSE(r.has_value()) << "accepted, want error with " << needle;
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(r.error().message().find(needle), std::string::npos) << r.error().message();
}

TEST(FirewallScript, RejectsNamesThatCouldInjectSyntax) {
  for (std::string bad :
       {"", "0123456789abcdef", "a\" drop", "a b", "a;b", "a/b", "..", "a\nb", "a{b}", "a@b"}) {
    FirewallState s;
    s.networks.push_back({bad, {Net("10.77.0.0/24")}, false, true});
    ExpectInvalid(s, "network bridge");
  }
  FirewallState ok;
  ok.networks.push_back({"0123456789abcde", {}, false, true});  // 15 characters
  ok.networks.push_back({"a-b.c_d", {}, false, true});
  EXPECT_TRUE(FirewallScript(ok).has_value());

  for (std::string bad : {"", "1berth", "berth-x", "berth x", "berth;"}) {
    FirewallState s;
    s.table = bad;
    ExpectInvalid(s, "nftables table");
  }
}

TEST(FirewallScript, RejectsBadPorts) {
  auto with = [](PortForward p) {
    FirewallState s;
    s.networks.push_back({"berth0", {Net("10.77.0.0/24"), Net("fd00::/64")}, false, true});
    s.networks.push_back({"berth1", {Net("10.78.0.0/24")}, false, true});
    s.ports.push_back(std::move(p));
    return s;
  };
  ExpectInvalid(with(Port("icmp", std::nullopt, 80, "10.77.0.2", 80, "berth0")),
                "protocol must be tcp, udp or sctp");
  ExpectInvalid(with(Port("tcp dport 1 accept;", std::nullopt, 80, "10.77.0.2", 80, "berth0")),
                "protocol must be");
  ExpectInvalid(with(Port("tcp", std::nullopt, 0, "10.77.0.2", 80, "berth0")), "port 0");
  ExpectInvalid(with(Port("tcp", std::nullopt, 80, "10.77.0.2", 0, "berth0")), "port 0");
  ExpectInvalid(with(Port("tcp", "::1", 80, "10.77.0.2", 80, "berth0")), "differ in family");
  ExpectInvalid(with(Port("tcp", std::nullopt, 80, "10.77.0.2", 80, "berth9")),
                "bridge `berth9` is not a berth network");
  ExpectInvalid(with(Port("tcp", std::nullopt, 80, "10.78.0.2", 80, "berth0")),
                "container address `10.78.0.2` is not in a subnet of `berth0`");
  PortForward weird = Port("tcp", std::nullopt, 80, "10.77.0.2", 80, "berth0");
  weird.container_ip.family = 99;
  ExpectInvalid(with(weird), "bad address family");

  // Two mappings claiming the same host port (0.0.0.0 is the same claim as no address).
  FirewallState dup = with(Port("tcp", std::nullopt, 80, "10.77.0.2", 80, "berth0"));
  dup.ports.push_back(Port("tcp", "0.0.0.0", 80, "10.77.0.3", 80, "berth0"));
  ExpectInvalid(dup, "`0.0.0.0:80/tcp`: host port already published");
  // Not a conflict: another protocol, another family, another host address.
  FirewallState fine = with(Port("tcp", std::nullopt, 80, "10.77.0.2", 80, "berth0"));
  fine.ports.push_back(Port("udp", std::nullopt, 80, "10.77.0.2", 80, "berth0"));
  fine.ports.push_back(Port("tcp", std::nullopt, 80, "fd00::2", 80, "berth0"));
  fine.ports.push_back(Port("tcp", "127.0.0.1", 80, "10.77.0.2", 80, "berth0"));
  EXPECT_TRUE(FirewallScript(fine).has_value());

  FirewallState twice;
  twice.networks.push_back({"berth0", {Net("10.77.0.0/24")}, false, true});
  twice.networks.push_back({"berth0", {Net("10.78.0.0/24")}, false, true});
  ExpectInvalid(twice, "listed twice");
}

TEST(EnableForwarding, RejectsBadBridgeNames) {
  for (std::string bad : {"", "..", "../../x", "a/b", "0123456789abcdef"}) {
    auto r = EnableForwarding(bad, false);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

// A temporary directory for fake helpers.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/berth-fw-test-XXXXXX";
    path_ = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    if (!path_.empty()) (void)RemoveAll(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string FakeHelper(const TempDir& dir, std::string_view body) {
  std::string path = dir.path() + "/helper";
  EXPECT_TRUE(WriteFile(path, StrCat("#!/bin/sh\n", body, "\n"), 0755).has_value());
  return path;
}

TEST(ApplyFirewallScript, PassesTheScriptOnStdin) {
  TempDir dir;
  std::string helper = FakeHelper(dir, StrCat("cat > ", dir.path(), "/got"));
  std::string script(200000, 'x');  // more than a pipe holds
  auto r = ApplyFirewallScript(helper, script);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*ReadFile(dir.path() + "/got"), script);
}

TEST(ApplyFirewallScript, ErrorCarriesTheHelpersMessage) {
  TempDir dir;
  std::string helper = FakeHelper(
      dir,
      "cat >/dev/null; printf 'Error: syntax error, unexpected junk\\nfoo bar\\n    ^^^\\n' "
      ">&2; exit 1");
  auto r = ApplyFirewallScript(helper, "foo bar\n");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(),
            StrCat("apply nftables rules: `", helper,
                   "` failed (exit 1): Error: syntax error, unexpected junk; foo bar"));
  auto missing = ApplyFirewallScript(dir.path() + "/none", "x");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("/none`"), std::string::npos);
}

// The built berth-nft: $BERTH_NFT_HELPER, or the first berth-nft found walking up from this
// test binary (the build puts it at the top of the build directory).
std::string FindHelper() {
  if (const char* env = std::getenv("BERTH_NFT_HELPER"); env != nullptr && *env != '\0') {
    return env;
  }
  char self[4096];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string dir(self, static_cast<size_t>(n));
  while (dir.size() > 1) {
    dir = dir.substr(0, dir.rfind('/'));
    if (dir.empty()) break;
    std::string cand = dir + "/berth-nft";
    if (::access(cand.c_str(), X_OK) == 0) return cand;
  }
  return "";
}

std::string Capture(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

// Runs `body` in a child process in a new network namespace (its own, empty nftables
// ruleset), so the test never touches the host's tables. The child's result is its exit code;
// it prints what went wrong.
int InNewNetns(const std::function<bool()>& body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNET) != 0) {
      std::perror("unshare(CLONE_NEWNET)");
      ::_exit(2);
    }
    bool ok = body();
    std::fflush(nullptr);
    ::_exit(ok ? 0 : 1);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define CHILD_CHECK(cond, ...)                                        \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                              \
      std::fputc('\n', stderr);                                       \
      return false;                                                   \
    }                                                                 \
  } while (0)

TEST(ApplyFirewallScript, AppliesToTheKernel) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string helper = FindHelper();
  if (helper.empty()) GTEST_SKIP() << "berth-nft not built (set BERTH_NFT_HELPER)";
  std::string table = StrCat("berth_test_", static_cast<int64_t>(::getpid()));
  int rc = InNewNetns([&] {
    FirewallState s = Typical();
    s.table = table;
    auto script = FirewallScript(s);
    CHILD_CHECK(script.has_value(), "%s", script.error().message().c_str());
    // Twice: once creating the table, once replacing it.
    for (int i = 0; i < 2; ++i) {
      auto r = ApplyFirewallScript(helper, *script);
      CHILD_CHECK(r.has_value(), "%s", r.error().message().c_str());
    }
    std::string listed = Capture(StrCat("nft list table inet ", table, " 2>&1"));
    for (std::string_view want :
         {"meta nfproto ipv4 tcp dport 8080 dnat ip to 10.77.0.2:80",
          "ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.78.0.3:53",
          "ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade",
          "iifname \"br-web\" oifname != \"br-web\" oifname @bridges drop"}) {
      CHILD_CHECK(listed.find(want) != std::string::npos, "missing `%s` in:\n%s",
                  std::string(want).c_str(), listed.c_str());
    }
    // Each apply replaces the table: no rule appears twice.
    size_t first = listed.find("ct status dnat accept");
    CHILD_CHECK(first != std::string::npos &&
                    listed.find("ct status dnat accept", first + 1) == std::string::npos,
                "%s", listed.c_str());
    // The helper's own listing agrees with nft's.
    CHILD_CHECK(Capture(StrCat(helper, " --list ", table)) == listed, "berth-nft --list differs");

    // A failing script changes nothing and reports libnftables' message.
    auto bad = ApplyFirewallScript(
        helper, StrCat(*script, "add rule inet ", table, " forward tcp dport 99999 drop\n"));
    CHILD_CHECK(!bad.has_value(), "bad script applied");
    CHILD_CHECK(bad.error().message().find("Error:") != std::string::npos, "%s",
                bad.error().message().c_str());
    CHILD_CHECK(Capture(StrCat("nft list table inet ", table, " 2>&1")) == listed,
                "failed script changed the table");

    // Typical apply time: 2 networks, 4 ports.
    std::vector<double> ms;
    for (int i = 0; i < 20; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = ApplyFirewallScript(helper, *script);
      auto t1 = std::chrono::steady_clock::now();
      CHILD_CHECK(r.has_value(), "%s", r.error().message().c_str());
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("ApplyFirewallScript (2 networks, 4 ports): median %.2f ms, min %.2f, max %.2f\n",
                ms[ms.size() / 2], ms.front(), ms.back());

    // The empty state removes the table.
    FirewallState empty;
    empty.table = table;
    auto r = ApplyFirewallScript(helper, *FirewallScript(empty));
    CHILD_CHECK(r.has_value(), "%s", r.error().message().c_str());
    CHILD_CHECK(Capture(StrCat("nft list tables 2>&1")).find(table) == std::string::npos,
                "table still there");
    // And deleting a table that does not exist is fine too.
    r = ApplyFirewallScript(helper, *FirewallScript(empty));
    CHILD_CHECK(r.has_value(), "%s", r.error().message().c_str());
    return true;
  });
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace berth::net
