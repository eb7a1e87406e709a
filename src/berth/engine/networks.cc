// `berth network create/ls/inspect/rm/prune/connect/disconnect`: the records and the
// network-wide kernel state (bridge, forwarding, firewall). Per-container setup is in
// network_attach.cc.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <set>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/network_store.h"
#include "berth/net/firewall.h"
#include "berth/net/links.h"

namespace berth::engine {

std::string NewContainerId();  // create.cc

namespace {

Status ValidateNetworkName(const std::string& name) {
  bool ok = !name.empty() && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ok = false;
  }
  if (!ok) {
    return InvalidArgument(StrCat("network name ", Quote(name),
                                  ": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"));
  }
  if (name == "host" || name == "none" || name == kDefaultNetwork) {
    return InvalidArgument(StrCat("network name ", Quote(name), " is pre-defined"));
  }
  return Ok();
}

Status ValidateBridgeName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= 15;
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_' && ch != '.' && ch != '-') ok = false;
  }
  if (!ok) {
    return InvalidArgument(StrCat("-o com.docker.network.bridge.name=", name,
                                  ": an interface name is 1-15 of [a-zA-Z0-9_.-]"));
  }
  return Ok();
}

// IPv4 routes of the host (/proc/net/route), so an automatic subnet does not shadow them.
std::vector<net::Prefix> HostRoutes() {
  std::vector<net::Prefix> out;
  auto text = ReadFile("/proc/net/route");
  if (!text) return out;
  bool header = true;
  for (auto line : Split(*text, '\n')) {
    if (header) {
      header = false;
      continue;
    }
    auto f = Split(line, '\t');
    if (f.size() < 8) continue;
    uint32_t dest = static_cast<uint32_t>(std::strtoul(std::string(f[1]).c_str(), nullptr, 16));
    uint32_t mask = static_cast<uint32_t>(std::strtoul(std::string(f[7]).c_str(), nullptr, 16));
    if (mask == 0) continue;  // the default route overlaps everything
    net::Prefix p;
    std::memcpy(p.addr.bytes.data(), &dest, 4);  // already in network order
    p.len = __builtin_popcount(mask);
    out.push_back(p);
  }
  return out;
}

// IPv6 prefixes in use on the host: its routes (/proc/net/ipv6_route: 32 hex digits of
// destination, its prefix length in hex) and the prefixes of its addresses
// (/proc/net/if_inet6: address, ifindex, prefix length), which covers a bridge without
// carrier, whose prefix route the kernel holds back. No default route, no multicast.
std::vector<net::Prefix> HostPrefixes6() {
  std::vector<net::Prefix> out;
  auto scan = [&](const char* file, size_t len_field) {
    auto text = ReadFile(file);
    if (!text) return;
    for (auto line : Split(*text, '\n')) {
      std::vector<std::string> f;
      for (auto& word : Split(line, ' ')) {
        if (!word.empty()) f.push_back(std::move(word));
      }
      if (f.size() <= len_field || f[0].size() != 32 || f[len_field].size() != 2) continue;
      net::Prefix p;
      p.addr.family = AF_INET6;
      bool ok = true;
      for (size_t i = 0; i < 16 && ok; ++i) {
        std::string byte(f[0].substr(2 * i, 2));
        char* end = nullptr;
        p.addr.bytes[i] = static_cast<uint8_t>(std::strtoul(byte.c_str(), &end, 16));
        ok = end && *end == '\0';
      }
      p.len = static_cast<int>(std::strtoul(f[len_field].c_str(), nullptr, 16));
      if (!ok || p.len == 0 || p.len > 128 || p.addr.bytes[0] == 0xff) continue;
      out.push_back(p);
    }
  };
  scan("/proc/net/ipv6_route", 1);
  scan("/proc/net/if_inet6", 2);
  return out;
}

// Subnets are chosen by looking at the host's routes, and a route appears only once the
// bridge has its address: one host-wide lock covers choose-and-create, also across stores.
class HostNetworkLock {
 public:
  static Result<HostNetworkLock> Take() {
    HostNetworkLock l;
    (void)MkdirAll("/run/lock", 0755);
    l.fd_ = UniqueFd(::open("/run/lock/berth-network.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!l.fd_.valid()) return ErrnoFail("open /run/lock/berth-network.lock");
    while (::flock(l.fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoFail("lock /run/lock/berth-network.lock");
    }
    return l;
  }

 private:
  UniqueFd fd_;
};

std::string StoreTagOf(const std::string& root) {
  if (root == "/var/lib/berth") return "";
  uint64_t h = 1469598103934665603ull;  // FNV-1a of the root path
  for (unsigned char ch : root) h = (h ^ ch) * 1099511628211ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08llx", static_cast<unsigned long long>(h & 0xffffffffu));
  return buf;
}

std::string FirewallTableOf(const std::string& root) {
  std::string tag = StoreTagOf(root);
  return tag.empty() ? "berth" : StrCat("berth_", tag);
}

constexpr std::string_view kBridgeAliasPrefix = "berth store ";

// Whether any link is enslaved to the bridge (/sys/class/net/NAME/brif lists them); when it
// cannot tell, it says yes.
bool BridgeHasPorts(const std::string& name) {
  DIR* dir = ::opendir(StrCat("/sys/class/net/", name, "/brif").c_str());
  if (!dir) return true;
  bool any = false;
  while (dirent* e = ::readdir(dir)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) any = true;
  }
  ::closedir(dir);
  return any;
}

}  // namespace

std::string Engine::StoreTag() const { return StoreTagOf(options_.root); }

std::string Engine::FirewallTable() const { return FirewallTableOf(options_.root); }

std::string Engine::BridgeAlias() const {
  if (options_.root.size() + kBridgeAliasPrefix.size() >= 256) return "";
  return StrCat(kBridgeAliasPrefix, options_.root);
}

int Engine::RemoveOrphanedNetworks() {
  // Best effort: another store's leftovers never fail this store's prune.
  auto warn = [](const Error& e) { log::Warn(StrCat("removed stores' networks: ", e.message())); };
  auto links = net::Links::Open();
  if (!links) {
    warn(links.error());
    return 0;
  }
  auto bridges = links->Bridges();
  if (!bridges) {
    warn(bridges.error());
    return 0;
  }
  std::map<std::string, std::vector<std::string>> orphans;  // root -> its bridges
  for (const auto& b : *bridges) {
    if (!b.alias.starts_with(kBridgeAliasPrefix)) continue;
    std::string root = b.alias.substr(kBridgeAliasPrefix.size());
    // Only an absolute root that is gone: a store being made has its directory first. A
    // bridge with ports is in use whatever the path says (a root in another mount
    // namespace, a filesystem not mounted yet).
    if (!root.starts_with("/") || root == options_.root || PathExists(root)) continue;
    if (BridgeHasPorts(b.name)) continue;
    orphans[root].push_back(b.name);
  }
  int removed = 0;
  for (const auto& [root, names] : orphans) {
    // The table first: it is found only through a bridge of its store, so the bridges
    // stay until it is gone.
    net::FirewallState empty;
    empty.table = FirewallTableOf(root);
    auto script = net::FirewallScript(empty);
    Status st = script ? net::ApplyFirewallScript(options_.nft_helper, *script)
                       : Status(Unexpected(script.error()));
    if (!st) {
      warn(st.error().Wrap(StrCat("remove nftables table ", empty.table, " of ", root)));
      continue;
    }
    for (const auto& name : names) {
      if (auto del = links->Delete(name); !del) {
        warn(del.error().Wrap(StrCat("remove bridge ", name, " of ", root)));
      } else {
        ++removed;
      }
    }
  }
  return removed;
}

std::string Engine::DefaultBridgeName() const {
  std::string tag = StoreTag();
  return tag.empty() ? kDefaultBridge : StrCat("berth", tag);
}

std::string Engine::NetworkRunDir(const NetworkRecord& n) const {
  return StrCat(options_.runroot, "/networks/", n.id);
}

Result<NetworkRecord> Engine::CreateNetwork(const NetworkCreateOptions& o) {
  BERTH_TRY(ValidateNetworkName(o.name));
  if (o.driver != "bridge") {
    return Fail(ErrorCode::kUnsupported,
                StrCat("network driver ", Quote(o.driver), " is not supported (only `bridge`)"));
  }
  NetworkRecord n;
  n.id = NewContainerId();
  n.name = o.name;
  n.internal = o.internal;
  n.ipv6 = o.ipv6;
  n.labels = o.labels;
  n.options = o.options;
  n.created = NowRfc3339();
  n.bridge = StrCat("br-", n.id.substr(0, 12));
  for (const auto& [k, v] : o.options) {
    if (k == "mtu" || k == "com.docker.network.driver.mtu") {
      auto mtu = ParseInt64(v, StrCat("-o ", k));
      if (!mtu || *mtu < 68 || *mtu > 65535) {
        return InvalidArgument(StrCat("-o ", k, "=", v, ": the MTU must be 68-65535"));
      }
      n.mtu = static_cast<int>(*mtu);
    } else if (k == "com.docker.network.bridge.name" || k == "bridge_name") {
      BERTH_TRY(ValidateBridgeName(v));
      n.bridge = v;
    } else {
      return InvalidArgument(StrCat("-o ", k, ": unknown option of the bridge driver (mtu, ",
                                    "com.docker.network.bridge.name)"));
    }
  }
  if (o.gateways.size() > o.subnets.size() || o.ip_ranges.size() > o.subnets.size()) {
    return InvalidArgument("--gateway and --ip-range need a --subnet each");
  }
  BERTH_ASSIGN_OR_RETURN(HostNetworkLock host_lock, HostNetworkLock::Take());
  BERTH_ASSIGN_OR_RETURN(std::vector<NetworkRecord> existing, networks_->All());
  auto overlap = [&](const net::Prefix& p) -> Status {
    for (const auto& other : existing) {
      for (const auto& s : other.subnets) {
        if (s.subnet.Overlaps(p)) {
          return Fail(ErrorCode::kAlreadyExists,
                      StrCat("subnet ", p.ToString(), " overlaps ", s.subnet.ToString(),
                             " of network ", other.name));
        }
      }
    }
    return Ok();
  };
  for (size_t i = 0; i < o.subnets.size(); ++i) {
    NetworkSubnet s;
    BERTH_ASSIGN_OR_RETURN(s.subnet, net::Prefix::Parse(o.subnets[i], "--subnet"));
    if (s.subnet.Size() < 4) return InvalidArgument(StrCat("--subnet ", o.subnets[i], ": too small"));
    if (i < o.gateways.size()) {
      BERTH_ASSIGN_OR_RETURN(s.gateway, net::IpAddress::Parse(o.gateways[i], "--gateway"));
      if (!s.subnet.Contains(s.gateway)) {
        return InvalidArgument(StrCat("--gateway ", o.gateways[i], " is not in --subnet ", o.subnets[i]));
      }
    } else {
      s.gateway = s.subnet.Nth(1);
    }
    if (i < o.ip_ranges.size()) {
      BERTH_ASSIGN_OR_RETURN(net::Prefix r, net::Prefix::Parse(o.ip_ranges[i], "--ip-range"));
      if (!s.subnet.Contains(r)) {
        return InvalidArgument(StrCat("--ip-range ", o.ip_ranges[i], " is not in --subnet ", o.subnets[i]));
      }
      s.ip_range = r;
    }
    BERTH_TRY(overlap(s.subnet));
    if (!s.subnet.addr.is_v4()) n.ipv6 = true;
    n.subnets.push_back(s);
  }
  auto has_family = [&](int family) {
    for (const auto& s : n.subnets) {
      if (s.subnet.addr.family == family) return true;
    }
    return false;
  };
  if (!has_family(AF_INET)) {
    // The first /24 of the pool that no network and no host route uses.
    BERTH_ASSIGN_OR_RETURN(net::Prefix pool, net::Prefix::Parse(kUserSubnetPool, "pool"));
    std::vector<net::Prefix> routes = HostRoutes();
    bool found = false;
    for (uint64_t i = 0; i < 256 && !found; ++i) {
      net::Prefix p{pool.addr.Plus(i * 256), 24};
      bool used = !overlap(p).has_value();
      for (const auto& r : routes) used |= r.Overlaps(p);
      if (used) continue;
      n.subnets.push_back({p, p.Nth(1), std::nullopt});
      found = true;
    }
    if (!found) {
      return Fail(ErrorCode::kUnavailable,
                  StrCat("no free subnet left in ", kUserSubnetPool, "; give one with --subnet"));
    }
  }
  if (n.ipv6 && !has_family(AF_INET6)) {
    BERTH_ASSIGN_OR_RETURN(net::Prefix pool, net::Prefix::Parse(kUserSubnet6Pool, "pool"));
    // Another store's network with the same /64 shows on the host (the host-wide lock
    // covers choose-and-create).
    std::vector<net::Prefix> routes = HostPrefixes6();
    bool found = false;
    for (uint64_t i = 0; i < 65536 && !found; ++i) {
      net::Prefix p = pool;
      p.len = 64;
      p.addr.bytes[6] = static_cast<uint8_t>(i >> 8);
      p.addr.bytes[7] = static_cast<uint8_t>(i);
      if (!overlap(p).has_value()) continue;
      bool routed = false;
      for (const auto& r : routes) routed |= r.Overlaps(p);
      if (routed) continue;
      n.subnets.push_back({p, p.Nth(1), std::nullopt});
      found = true;
    }
    if (!found) return Fail(ErrorCode::kUnavailable, "no free IPv6 subnet left; give one with --subnet");
  }
  if (n.bridge != StrCat("br-", n.id.substr(0, 12))) {
    // A name given with -o must not adopt (and later delete) an interface of someone else.
    BERTH_ASSIGN_OR_RETURN(net::Links links, net::Links::Open());
    if (links.Exists(n.bridge)) {
      return Fail(ErrorCode::kAlreadyExists,
                  StrCat("-o com.docker.network.bridge.name=", n.bridge, ": an interface of that name exists"));
    }
  }
  for (const auto& other : existing) {
    if (other.bridge == n.bridge) {
      return Fail(ErrorCode::kAlreadyExists,
                  StrCat("bridge ", n.bridge, " is already used by network ", other.name));
    }
  }
  BERTH_TRY(networks_->Insert(n));
  auto up = EnsureNetworkUp(n);
  if (!up) {
    (void)networks_->Delete(n.id);
    if (auto links = net::Links::Open(); links.has_value()) (void)links->Delete(n.bridge);
    (void)SyncFirewall();
    return Unexpected(std::move(up).error().Wrap(StrCat("create network ", n.name)));
  }
  return n;
}

Result<NetworkRecord> Engine::DefaultNetwork() {
  auto found = networks_->Find(kDefaultNetwork);
  if (found || found.error().code() != ErrorCode::kNotFound) return found;
  BERTH_ASSIGN_OR_RETURN(HostNetworkLock host_lock, HostNetworkLock::Take());
  NetworkRecord n;
  n.id = NewContainerId();
  n.name = kDefaultNetwork;
  n.bridge = DefaultBridgeName();
  n.dns = false;  // as docker's default bridge: names resolve only on user-defined networks
  n.created = NowRfc3339();
  // 10.77.0.0/16, or the next /16 no route and no other network of this store uses (another
  // store on this host may hold it).
  BERTH_ASSIGN_OR_RETURN(net::Prefix first, net::Prefix::Parse(kDefaultSubnet, "default subnet"));
  BERTH_ASSIGN_OR_RETURN(net::Prefix pool, net::Prefix::Parse(kUserSubnetPool, "pool"));
  BERTH_ASSIGN_OR_RETURN(std::vector<NetworkRecord> existing, networks_->All());
  std::vector<net::Prefix> routes = HostRoutes();
  for (const auto& other : existing) {
    for (const auto& s : other.subnets) routes.push_back(s.subnet);
  }
  for (uint64_t i = 0; i < 24 && n.subnets.empty(); ++i) {
    net::Prefix p{first.addr.Plus(i << 16), 16};
    if (p.Overlaps(pool)) continue;
    bool used = false;
    for (const auto& r : routes) used |= r.Overlaps(p);
    if (!used) n.subnets.push_back({p, p.Nth(1), std::nullopt});
  }
  if (n.subnets.empty()) {
    return Fail(ErrorCode::kUnavailable, "no free /16 for the default network in 10.77.0.0-10.100.0.0");
  }
  auto inserted = networks_->Insert(n);
  if (!inserted) {
    if (inserted.error().code() == ErrorCode::kAlreadyExists) return networks_->Find(kDefaultNetwork);
    return Unexpected(inserted.error());
  }
  auto up = EnsureNetworkUp(n);
  if (!up) {
    (void)DeleteNetwork(n);
    return Unexpected(std::move(up).error().Wrap("set up the default network"));
  }
  return n;
}

Status Engine::EnsureNetworkUp(const NetworkRecord& n) {
  BERTH_ASSIGN_OR_RETURN(net::Links links, net::Links::Open());
  net::BridgeConfig b;
  b.name = n.bridge;
  b.mtu = n.mtu;
  b.alias = BridgeAlias();
  for (const auto& s : n.subnets) b.gateways.push_back({s.gateway, s.subnet.len});
  BERTH_TRY_CTX(links.EnsureBridge(b), StrCat("network ", n.name));
  BERTH_TRY_CTX(net::EnableForwarding(n.bridge, n.ipv6), StrCat("network ", n.name));
  return SyncFirewall();
}

Result<std::vector<NetworkRecord>> Engine::ListNetworks() {
  BERTH_TRY(DefaultNetwork());
  return networks_->All();
}

Result<NetworkRecord> Engine::GetNetwork(const std::string& name_or_id) {
  if (name_or_id == kDefaultNetwork) return DefaultNetwork();
  return networks_->Find(name_or_id);
}

Result<std::map<std::string, NetworkAttachment>> Engine::NetworkContainers(const NetworkRecord& n) {
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
  std::map<std::string, NetworkAttachment> out;
  for (const auto& c : all) {
    for (const auto& a : c.networks) {
      if (a.network_id == n.id) out[c.id] = a;
    }
  }
  return out;
}

Status Engine::RemoveNetwork(const std::string& name_or_id, bool force) {
  BERTH_ASSIGN_OR_RETURN(NetworkRecord n, networks_->Find(name_or_id));
  if (n.name == kDefaultNetwork) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat(n.name, " is a pre-defined network and cannot be removed"));
  }
  BERTH_ASSIGN_OR_RETURN(auto users, NetworkContainers(n));
  // A `run` being created holds a lease before its record names the network.
  BERTH_ASSIGN_OR_RETURN(auto leases, networks_->Leases());
  for (const auto& l : leases) {
    if (l.network_id == n.id && !users.count(l.container)) {
      if (!force) {
        return Fail(ErrorCode::kFailedPrecondition,
                    StrCat("network ", n.name, " is in use by a container being created (",
                           l.container.substr(0, 12), ")"));
      }
    }
  }
  if (!users.empty()) {
    if (!force) {
      std::vector<std::string> names;
      for (const auto& [id, a] : users) {
        auto c = containers_->FindById(id);
        names.push_back(c && *c ? (*c)->name : id.substr(0, 12));
      }
      return Fail(ErrorCode::kFailedPrecondition,
                  StrCat("network ", n.name, " has active endpoints (", Join(names, ", "),
                         "); disconnect them or use --force"));
    }
    for (const auto& [id, a] : users) BERTH_TRY(DisconnectNetwork(n.id, id, true));
  }
  return DeleteNetwork(n);
}

Status Engine::DeleteNetwork(const NetworkRecord& n) {
  // Kernel state first, the record last: a failure or a crash in between leaves a record
  // whose removal can be tried again.
  BERTH_TRY(SyncDns(n, /*removing=*/true));
  BERTH_ASSIGN_OR_RETURN(net::Links links, net::Links::Open());
  BERTH_TRY_CTX(links.Delete(n.bridge), StrCat("remove network ", n.name));
  BERTH_TRY(networks_->Delete(n.id));
  (void)RemoveAll(NetworkRunDir(n));
  return SyncFirewall();
}

Result<std::vector<std::string>> Engine::PruneNetworks() {
  BERTH_ASSIGN_OR_RETURN(std::vector<NetworkRecord> all, networks_->All());
  std::vector<std::string> removed;
  for (const auto& n : all) {
    BERTH_ASSIGN_OR_RETURN(auto users, NetworkContainers(n));
    if (!users.empty()) continue;
    BERTH_ASSIGN_OR_RETURN(auto leases, networks_->Leases());
    bool leased = false;
    for (const auto& l : leases) leased |= l.network_id == n.id;
    if (leased) continue;  // a container being created
    // The default network's record and kernel state go too when nothing uses it (made again
    // on first use), so a pruned store leaves no bridge or rule table behind.
    BERTH_TRY(DeleteNetwork(n));
    if (n.name != kDefaultNetwork) removed.push_back(n.name);
  }
  RemoveOrphanedNetworks();
  return removed;
}

Json Engine::InspectNetwork(const NetworkRecord& n) {
  Json config = Json::array();
  for (const auto& s : n.subnets) {
    Json j = {{"Subnet", s.subnet.ToString()}, {"Gateway", s.gateway.ToString()}};
    if (s.ip_range) j["IPRange"] = s.ip_range->ToString();
    config.push_back(j);
  }
  Json containers = Json::object();
  if (auto users = NetworkContainers(n); users.has_value()) {
    for (const auto& [id, a] : *users) {
      auto c = containers_->FindById(id);
      containers[id] = {{"Name", c && *c ? (*c)->name : ""},
                        {"MacAddress", a.mac},
                        {"IPv4Address", a.ip.empty() ? "" : StrCat(a.ip, "/", a.prefix_len)},
                        {"IPv6Address", a.ip6.empty() ? "" : StrCat(a.ip6, "/", a.prefix6_len)},
                        {"Aliases", a.aliases}};
    }
  }
  Json options = n.options;
  options["com.docker.network.bridge.name"] = n.bridge;
  if (n.mtu) options["com.docker.network.driver.mtu"] = std::to_string(n.mtu);
  return {{"Name", n.name},
          {"Id", n.id},
          {"Created", n.created},
          {"Scope", "local"},
          {"Driver", n.driver},
          {"EnableIPv6", n.ipv6},
          {"IPAM", {{"Driver", "default"}, {"Config", config}}},
          {"Internal", n.internal},
          {"DNSEnabled", n.dns},
          {"Containers", containers},
          {"Options", options},
          {"Labels", n.labels}};
}

}  // namespace berth::engine
