#include "berth/net/firewall.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <map>
#include <set>
#include <tuple>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/process.h"

namespace berth::net {
namespace {

// A netlink transaction of a few hundred rules takes milliseconds; a helper that takes this
// long is stuck.
constexpr std::chrono::milliseconds kHelperTimeout{30000};

// IFNAMSIZ - 1. The characters are a subset of what the kernel accepts, chosen so that a name
// is safe both inside an nft string literal and as a /proc/sys path component.
bool ValidBridge(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

// An nft identifier, restricted to what berth needs.
bool ValidTable(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool ValidFamily(const IpAddress& a) { return a.family == AF_INET || a.family == AF_INET6; }

bool IsUnspecified(const IpAddress& a) {
  return std::all_of(a.bytes.begin(), a.bytes.end(), [](uint8_t b) { return b == 0; });
}

const char* L3(int family) { return family == AF_INET ? "ip" : "ip6"; }

// "8080/tcp", "127.0.0.1:8080/tcp", "[::1]:8080/tcp": how errors name a mapping.
std::string Describe(const PortForward& p) {
  std::string host;
  if (p.host_ip && ValidFamily(*p.host_ip)) {
    host = p.host_ip->is_v4() ? StrCat(p.host_ip->ToString(), ":")
                              : StrCat("[", p.host_ip->ToString(), "]:");
  }
  // The protocol may be the bad part: it is only quoted here, never put in the script.
  return Quote(StrCat(host, p.host_port, "/", p.protocol));
}

Status CheckNetwork(const FirewallNetwork& n) {
  if (!ValidBridge(n.bridge)) {
    return InvalidArgument(
        StrCat("network bridge ", Quote(n.bridge), ": want 1-15 characters of [A-Za-z0-9_.-]"));
  }
  for (const Prefix& p : n.subnets) {
    if (!ValidFamily(p.addr) || p.len < 0 || p.len > p.addr.bits()) {
      return InvalidArgument(StrCat("network ", Quote(n.bridge), ": bad subnet"));
    }
  }
  return Ok();
}

Status CheckPort(const PortForward& p, const std::map<std::string, const FirewallNetwork*>& nets) {
  std::string what = StrCat("published port ", Describe(p));
  if (p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "sctp") {
    return InvalidArgument(StrCat(what, ": protocol must be tcp, udp or sctp"));
  }
  if (p.host_port == 0 || p.container_port == 0) {
    return InvalidArgument(StrCat(what, ": port 0"));
  }
  if (!ValidFamily(p.container_ip) || (p.host_ip && !ValidFamily(*p.host_ip))) {
    return InvalidArgument(StrCat(what, ": bad address family"));
  }
  if (p.host_ip && p.host_ip->family != p.container_ip.family) {
    return InvalidArgument(StrCat(what, ": host address and container address ",
                                  Quote(p.container_ip.ToString()), " differ in family"));
  }
  auto it = nets.find(p.bridge);
  if (it == nets.end()) {
    return InvalidArgument(StrCat(what, ": bridge ", Quote(p.bridge), " is not a berth network"));
  }
  const auto& subnets = it->second->subnets;
  if (std::none_of(subnets.begin(), subnets.end(),
                   [&](const Prefix& s) { return s.Contains(p.container_ip); })) {
    return InvalidArgument(StrCat(what, ": container address ", Quote(p.container_ip.ToString()),
                                  " is not in a subnet of ", Quote(p.bridge)));
  }
  return Ok();
}

// One rule of chain `publish`. The key is what a mapping claims on the host; sorting by it
// puts mappings for one host address before wildcard ones (dnat ends the chain, so the more
// specific rule must come first) and makes the script independent of the records' order.
struct PublishRule {
  using Key = std::tuple<bool, int, std::array<uint8_t, 16>, std::string, uint16_t>;
  Key key;
  std::string text;
  std::string what;  // Describe() of the mapping
};

PublishRule MakePublishRule(const PortForward& p) {
  std::optional<IpAddress> host = p.host_ip;
  if (host && IsUnspecified(*host)) host.reset();  // 0.0.0.0 and :: mean every address
  int family = p.container_ip.family;
  PublishRule r;
  r.what = Describe(p);
  r.key = {!host.has_value(), family, host ? host->bytes : std::array<uint8_t, 16>{}, p.protocol,
           p.host_port};
  // Without a host address the family is matched explicitly, so the IPv4 and the IPv6
  // mapping of one port (a dual-stack container) each see only their own packets.
  std::string match = host ? StrCat(L3(family), " daddr ", host->ToString())
                           : StrCat("meta nfproto ", family == AF_INET ? "ipv4" : "ipv6");
  std::string to = family == AF_INET
                       ? StrCat(p.container_ip.ToString(), ":", p.container_port)
                       : StrCat("[", p.container_ip.ToString(), "]:", p.container_port);
  r.text = StrCat(match, " ", p.protocol, " dport ", p.host_port, " dnat ", L3(family), " to ", to);
  return r;
}

void Line(std::string& out, std::string_view text) { out += StrCat("\t\t", text, "\n"); }

}  // namespace

Result<std::string> FirewallScript(const FirewallState& state) {
  if (!ValidTable(state.table)) {
    return InvalidArgument(StrCat("nftables table ", Quote(state.table),
                                  ": want a letter, then letters, digits and _"));
  }
  // Declaring the table first makes the delete succeed whether or not it exists; the whole
  // script is one transaction, so no packet ever sees the table missing.
  std::string out =
      StrCat("table inet ", state.table, " {}\ndelete table inet ", state.table, "\n");
  if (state.networks.empty() && state.ports.empty()) return out;

  std::map<std::string, const FirewallNetwork*> nets;  // sorted by bridge
  for (const FirewallNetwork& n : state.networks) {
    BERTH_TRY(CheckNetwork(n));
    if (!nets.emplace(n.bridge, &n).second) {
      return InvalidArgument(StrCat("network bridge ", Quote(n.bridge), " listed twice"));
    }
  }
  std::vector<PublishRule> publish;
  for (const PortForward& p : state.ports) {
    BERTH_TRY(CheckPort(p, nets));
    publish.push_back(MakePublishRule(p));
  }
  std::sort(publish.begin(), publish.end(),
            [](const PublishRule& a, const PublishRule& b) { return a.key < b.key; });
  for (size_t i = 1; i < publish.size(); ++i) {
    if (publish[i].key == publish[i - 1].key) {
      return InvalidArgument(
          StrCat("published port ", publish[i].what, ": host port already published"));
    }
  }
  auto sorted_subnets = [](const FirewallNetwork& n) {
    std::vector<Prefix> s = n.subnets;
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
    return s;
  };

  out += StrCat("table inet ", state.table, " {\n");
  out += "\tset bridges {\n\t\ttype ifname\n\t\telements = { ";
  bool first = true;
  for (const auto& [bridge, n] : nets) {
    out += StrCat(first ? "" : ", ", "\"", bridge, "\"");
    first = false;
  }
  out += " }\n\t}\n";

  // Published ports: DNAT of packets to a local address, arriving from outside or from a
  // container (prerouting) or sent by the host itself (output, 127.0.0.1 included).
  out += "\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n";
  Line(out, "fib daddr type local jump publish");
  out += "\t}\n\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n";
  Line(out, "fib daddr type local jump publish");
  out += "\t}\n\tchain publish {\n";
  for (const PublishRule& r : publish) Line(out, r.text);
  out += "\t}\n";

  out += "\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n";
  for (const auto& [bridge, n] : nets) {
    if (n->internal || !n->masquerade) continue;
    for (const Prefix& s : sorted_subnets(*n)) {
      const char* l3 = L3(s.addr.family);
      Line(out,
           StrCat(l3, " saddr ", s.ToString(), " ", l3, " daddr != ", s.ToString(), " masquerade"));
    }
  }
  // The host reaching a published port on 127.0.0.1: after DNAT the packet leaves on the
  // bridge with source 127.0.0.1 (allowed by route_localnet), and the container could not
  // answer that address.
  Line(out, "ct status dnat ip saddr 127.0.0.0/8 oifname @bridges masquerade");
  // Hairpin: a container reaching a published port of its own network through the host's
  // address. Without masquerade the reply would go straight back over the bridge from an
  // address the client never connected to.
  for (const auto& [bridge, n] : nets) {
    for (const Prefix& s : sorted_subnets(*n)) {
      const char* l3 = L3(s.addr.family);
      Line(out, StrCat("ct status dnat ", l3, " saddr ", s.ToString(), " ", l3, " daddr ",
                       s.ToString(), " oifname \"", bridge, "\" masquerade"));
    }
  }
  out += "\t}\n";

  // Order matters: internal networks drop everything first (published ports too), then
  // published ports are open to every network, then isolation between bridges.
  out += "\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;\n";
  for (const auto& [bridge, n] : nets) {
    if (!n->internal) continue;
    Line(out, StrCat("iifname \"", bridge, "\" oifname != \"", bridge, "\" drop"));
    Line(out, StrCat("oifname \"", bridge, "\" iifname != \"", bridge, "\" drop"));
  }
  Line(out, "ct status dnat accept");
  // nft cannot compare iifname with oifname, so one rule per bridge: out of this bridge into
  // another berth bridge.
  for (const auto& [bridge, n] : nets) {
    if (n->internal) continue;
    Line(out, StrCat("iifname \"", bridge, "\" oifname != \"", bridge, "\" oifname @bridges drop"));
  }
  Line(out, "ct state established,related accept");
  out += "\t}\n}\n";
  return out;
}

Status ApplyFirewallScript(const std::string& helper, const std::string& script) {
  constexpr std::string_view kWhat = "apply nftables rules";
  if (::access(helper.c_str(), X_OK) != 0) {
    return Unexpected(Error::Errno(StrCat("helper ", Quote(helper))).Wrap(kWhat));
  }
  // The helper's output goes to a memfd: unlike a pipe it never fills up and blocks the helper
  // while we wait for it to exit.
  UniqueFd out(::memfd_create("berth-nft-output", MFD_CLOEXEC));
  if (!out.valid()) return Unexpected(Error::Errno("memfd_create").Wrap(kWhat));
  sys::SpawnOptions opts;
  opts.path = helper;
  opts.args = {helper};
  opts.stdin_data = script;  // the helper reads all of it before it writes anything
  opts.stdout_fd = out.get();
  opts.stderr_fd = out.get();
  BERTH_ASSIGN_OR_RETURN_CTX(sys::ChildProcess child, sys::Spawn(opts), kWhat);
  BERTH_ASSIGN_OR_RETURN_CTX(std::optional<int> status, child.WaitFor(kHelperTimeout), kWhat);
  if (!status) {
    child.KillAndReap();
    return Fail(ErrorCode::kTimeout, StrCat(kWhat, ": ", Quote(helper), " did not finish"));
  }
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return Ok();

  // The helper wrote through a dup of `out`, sharing its offset.
  ::lseek(out.get(), 0, SEEK_SET);
  auto text = ReadFd(out.get(), "helper output");
  std::vector<std::string> lines;
  if (text) {
    // libnftables prints the failing line and a line of ^^^ under it; keep the words.
    for (const std::string& l : SplitNonEmpty(*text, '\n')) {
      if (l.find_first_not_of(" \t^~") != std::string::npos) lines.emplace_back(Trim(l));
    }
  }
  std::string msg = StrCat(kWhat, ": ", Quote(helper), " failed (exit ",
                           sys::ExitCodeFromWaitStatus(*status), ")");
  if (!lines.empty()) msg += StrCat(": ", Join(lines, "; "));
  ErrorCode code = msg.find("Operation not permitted") != std::string::npos
                       ? ErrorCode::kPermissionDenied
                       : ErrorCode::kSystem;
  return Fail(code, std::move(msg));
}

namespace {

// Writes "1" to a sysctl file unless it already holds 1: the write is skipped on the common
// path, and a read-only /proc/sys (in a container) is fine when the host set it already.
Status EnsureOne(const std::string& path) {
  BERTH_ASSIGN_OR_RETURN(std::string cur, ReadFile(path));
  if (Trim(cur) == "1") return Ok();
  return WriteExisting(path, "1\n");
}

}  // namespace

Status EnableForwarding(const std::string& bridge, bool ipv6) {
  std::string what = StrCat("enable forwarding for ", Quote(bridge));
  if (!ValidBridge(bridge)) return InvalidArgument(StrCat(what, ": bad bridge name"));
  BERTH_TRY_CTX(EnsureOne("/proc/sys/net/ipv4/ip_forward"), what);
  BERTH_TRY_CTX(EnsureOne(StrCat("/proc/sys/net/ipv4/conf/", bridge, "/route_localnet")), what);
  if (ipv6) BERTH_TRY_CTX(EnsureOne("/proc/sys/net/ipv6/conf/all/forwarding"), what);
  return Ok();
}

}  // namespace berth::net
