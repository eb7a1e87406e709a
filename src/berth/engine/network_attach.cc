// A container's side of its networks: leases and published ports at create, the network
// namespace with its veth links at start, their removal at teardown; the firewall and the
// per-network DNS records follow the containers whose namespace exists.
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <random>
#include <set>
#include <thread>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/unique_fd.h"
#include "berth/engine/container_store.h"
#include "berth/engine/engine.h"
#include "berth/engine/network_store.h"
#include "berth/net/dns_server.h"
#include "berth/net/firewall.h"
#include "berth/net/links.h"
#include "berth/net/netns.h"
#include "berth/sys/process.h"

namespace berth::engine {
namespace {

// An exclusive flock on `path` for the scope (serialises firewall and DNS rebuilds between
// concurrent berth commands: each rebuild reads the records, so the last one wins with the
// newest truth).
class FileLock {
 public:
  static Result<FileLock> Take(const std::string& path) {
    FileLock l;
    l.fd_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!l.fd_.valid()) return ErrnoFail(StrCat("open lock ", Quote(path)));
    while (::flock(l.fd_.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return ErrnoFail(StrCat("lock ", Quote(path)));
    }
    return l;
  }
  void Release() { fd_.Reset(); }  // before the end of the scope

 private:
  UniqueFd fd_;
};

// Connect, disconnect and a start's link setup in one store take turns: each reads a
// container's attachments and acts on them, so a connect racing a start could otherwise
// record an interface the started container never gets, and two connects could pick the
// same interface name. (Teardown needs no turn: it removes the whole namespace.)
Result<FileLock> TakeAttachLock(const std::string& runroot) {
  BERTH_TRY(MkdirAll(runroot + "/networks", 0700));
  return FileLock::Take(runroot + "/networks/attach.lock");
}

std::string MacString(const std::array<uint8_t, 6>& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

// Whether the host can bind `port` itself (nobody else listens there).
bool PortFree(const std::string& host_ip, uint16_t port, const std::string& protocol) {
  bool v6 = host_ip.find(':') != std::string::npos;
  UniqueFd fd(::socket(v6 ? AF_INET6 : AF_INET,
                       (protocol == "udp" ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return true;
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    ::inet_pton(AF_INET6, host_ip.c_str(), &a->sin6_addr);
    len = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (!host_ip.empty()) ::inet_pton(AF_INET, host_ip.c_str(), &a->sin_addr);
    len = sizeof *a;
  }
  return ::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

// A name the DNS server answers for: one records-file token, so it cannot add lines.
Status CheckDnsName(const std::string& name, std::string_view flag) {
  bool ok = !name.empty() && name.size() <= 253;
  for (char ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.') ok = false;
  }
  if (!ok) {
    return InvalidArgument(StrCat(flag, " ", Quote(name),
                                  ": a name has 1-253 characters of [A-Za-z0-9._-]"));
  }
  return Ok();
}

bool IsLoopback(const std::string& ip) {
  return ip.starts_with("127.") || ip == "::1";
}

bool SamePort(const PortMapping& a, const PortMapping& b) {
  return a.host_port == b.host_port && a.protocol == b.protocol &&
         (a.host_ip.empty() || b.host_ip.empty() || a.host_ip == b.host_ip);
}

}  // namespace

std::string Engine::NetnsPath(const std::string& id) const {
  return StrCat(options_.runroot, "/netns/", id);
}

Result<NetworkAttachment> Engine::LeaseAttachment(const NetworkRecord& n, const ContainerRecord& c,
                                                  const std::string& ifname, const ConnectOptions& o) {
  NetworkAttachment a;
  a.network_id = n.id;
  a.network = n.name;
  a.ifname = ifname;
  // veth + 9 hex + the eth number: at most 15 characters up to eth99.
  a.host_veth = StrCat("veth", c.id.substr(0, 9), ifname.substr(3));
  if (a.host_veth.size() > 15) {
    return Fail(ErrorCode::kUnavailable, StrCat("container ", c.name, ": too many networks"));
  }
  for (const auto& alias : o.aliases) BERTH_TRY(CheckDnsName(alias, "--network-alias"));
  a.aliases = o.aliases;
  if (!o.aliases.empty() && n.name == kDefaultNetwork) {
    return InvalidArgument("--network-alias: aliases work only on user-defined networks");
  }
  std::optional<net::IpAddress> want4, want6;
  if (!o.ip.empty()) {
    BERTH_ASSIGN_OR_RETURN(want4, net::IpAddress::Parse(o.ip, "--ip"));
    if (!want4->is_v4()) return InvalidArgument(StrCat("--ip ", o.ip, ": not an IPv4 address"));
  }
  if (!o.ip6.empty()) {
    BERTH_ASSIGN_OR_RETURN(want6, net::IpAddress::Parse(o.ip6, "--ip6"));
    if (want6->is_v4()) return InvalidArgument(StrCat("--ip6 ", o.ip6, ": not an IPv6 address"));
    if (!n.ipv6) return InvalidArgument(StrCat("--ip6: network ", n.name, " has no IPv6 subnet"));
  }
  bool ok = false;
  Defer release([&] {
    if (!ok) (void)networks_->ReleaseAll(c.id, n.id);
  });
  for (const auto& s : n.subnets) {
    bool v4 = s.subnet.addr.is_v4();
    BERTH_ASSIGN_OR_RETURN(net::IpAddress ip, networks_->Lease(n, s, c.id, v4 ? want4 : want6));
    if (v4 && a.ip.empty()) {
      a.ip = ip.ToString();
      a.prefix_len = s.subnet.len;
      a.gateway = s.gateway.ToString();
      a.mac = MacString(net::MacForAddress(ip));
    } else if (!v4 && a.ip6.empty()) {
      a.ip6 = ip.ToString();
      a.prefix6_len = s.subnet.len;
      a.gateway6 = s.gateway.ToString();
    }
  }
  ok = true;
  return a;
}

Status Engine::AttachNetworksAtCreate(ContainerRecord& c) {
  const RunConfig& rc = c.config;
  bool bridge_mode = rc.network != "none" && rc.network != "host" && !rc.network.starts_with("container:");
  if (!bridge_mode) {
    if (!rc.more_networks.empty()) {
      return InvalidArgument(StrCat("--network ", rc.more_networks.front(), ": a container with --network ",
                                    rc.network, " cannot join other networks"));
    }
    if (!rc.ports.empty() || rc.publish_all) {
      return InvalidArgument(StrCat("-p/-P: ports cannot be published with --network ", rc.network));
    }
    if (!rc.ip.empty() || !rc.ip6.empty() || !rc.network_aliases.empty()) {
      return InvalidArgument(StrCat("--ip/--ip6/--network-alias need a bridge network, not --network ",
                                    rc.network));
    }
    return Ok();
  }
  NetworkRecord n;
  if (rc.network == kDefaultNetwork) {
    BERTH_ASSIGN_OR_RETURN(n, DefaultNetwork());
  } else {
    BERTH_ASSIGN_OR_RETURN_CTX(n, networks_->Find(rc.network), "--network");
  }
  if (!rc.ip.empty() && n.name == kDefaultNetwork) {
    return InvalidArgument("--ip: a fixed address needs a user-defined network (berth network create)");
  }
  BERTH_ASSIGN_OR_RETURN(NetworkAttachment a,
                         LeaseAttachment(n, c, "eth0", {rc.ip, rc.ip6, rc.network_aliases}));
  c.networks = {a};
  for (const auto& name : rc.more_networks) {
    if (name == "none" || name == "host" || name.starts_with("container:")) {
      return InvalidArgument(StrCat("--network ", name, ": cannot be combined with other networks"));
    }
    NetworkRecord more;
    if (name == kDefaultNetwork) {
      BERTH_ASSIGN_OR_RETURN(more, DefaultNetwork());
    } else {
      BERTH_ASSIGN_OR_RETURN_CTX(more, networks_->Find(name), "--network");
    }
    for (const auto& joined : c.networks) {
      if (joined.network_id == more.id) {
        return InvalidArgument(StrCat("--network ", name, ": given twice"));
      }
    }
    // Aliases are names on user-defined networks; the default network has none.
    ConnectOptions o;
    if (more.name != kDefaultNetwork) o.aliases = rc.network_aliases;
    BERTH_ASSIGN_OR_RETURN(NetworkAttachment extra,
                           LeaseAttachment(more, c, StrCat("eth", static_cast<uint64_t>(c.networks.size())), o));
    c.networks.push_back(std::move(extra));
  }

  // Published ports: -p as given, -P adds every EXPOSEd port; host port 0 = a free one.
  std::vector<PortMapping> ports = rc.ports;
  if (rc.publish_all) {
    for (const auto& e : c.image_config.exposed_ports) {
      auto slash = e.find('/');
      auto num = ParseInt64(e.substr(0, slash), "EXPOSE");
      if (!num || *num < 1 || *num > 65535) continue;
      PortMapping m;
      m.container_port = static_cast<uint16_t>(*num);
      m.protocol = slash == std::string::npos ? "tcp" : e.substr(slash + 1);
      bool dup = false;
      for (const auto& p : ports) dup |= p.container_port == m.container_port && p.protocol == m.protocol;
      if (!dup) ports.push_back(m);
    }
  }
  if (ports.empty()) return Ok();
  for (size_t i = 0; i < ports.size(); ++i) {
    const PortMapping& p = ports[i];
    if (!p.host_ip.empty() && p.host_ip != "0.0.0.0" && p.host_ip != "::") {
      bool v6 = p.host_ip.find(':') != std::string::npos;
      if (v6 ? a.ip6.empty() : a.ip.empty()) {
        return InvalidArgument(StrCat("-p ", p.host_ip, ":", p.host_port, ":", p.container_port,
                                      ": the container has no IPv", v6 ? "6" : "4",
                                      " address on network ", n.name));
      }
      if (p.host_ip == "::1") {
        return InvalidArgument("-p [::1]:...: IPv6 loopback cannot be forwarded to a container");
      }
    }
    for (size_t j = 0; j < i; ++j) {
      if (p.host_port != 0 && SamePort(p, ports[j])) {
        return InvalidArgument(StrCat("-p: host port ", p.host_port, "/", p.protocol,
                                      " is published twice"));
      }
    }
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
  std::vector<PortMapping> taken;
  for (const auto& other : all) {
    if (other.id != c.id) taken.insert(taken.end(), other.ports.begin(), other.ports.end());
  }
  std::mt19937 rng(std::random_device{}());
  for (auto& p : ports) {
    if (p.host_port != 0) {
      taken.push_back(p);
      continue;
    }
    // Like docker: somewhere in the ephemeral range, a port no container publishes and
    // nothing on the host listens on.
    constexpr uint32_t kFirst = 32768, kCount = 28232;
    uint32_t start = rng() % kCount;
    for (uint32_t i = 0; i < kCount && p.host_port == 0; ++i) {
      PortMapping cand = p;
      cand.host_port = static_cast<uint16_t>(kFirst + (start + i) % kCount);
      bool used = false;
      for (const auto& t : taken) used |= SamePort(t, cand);
      if (used || !PortFree(cand.host_ip, cand.host_port, cand.protocol)) continue;
      p.host_port = cand.host_port;
    }
    if (p.host_port == 0) return Fail(ErrorCode::kUnavailable, "-P: no free host port left");
    taken.push_back(p);
  }
  c.ports = std::move(ports);
  return Ok();
}

Status Engine::SetUpAttachment(const ContainerRecord& c, const NetworkAttachment& a, int netns_fd) {
  BERTH_ASSIGN_OR_RETURN(std::optional<NetworkRecord> found, networks_->FindById(a.network_id));
  if (!found) {
    return Fail(ErrorCode::kNotFound, StrCat("container ", c.name, ": network ", a.network,
                                             " no longer exists (berth network disconnect it)"));
  }
  const NetworkRecord& n = *found;
  BERTH_ASSIGN_OR_RETURN(net::Links links, net::Links::Open());
  // Missing after a reboot; without its alias when a command died making it (the alias
  // can only be set after the bridge exists).
  if (links.Alias(n.bridge) != BridgeAlias()) BERTH_TRY(EnsureNetworkUp(n));
  net::VethConfig v;
  v.host_name = a.host_veth;
  v.bridge = n.bridge;
  v.peer_name = a.ifname;
  v.peer_netns_fd = netns_fd;
  v.mtu = n.mtu;
  std::vector<net::Prefix> addresses;
  std::optional<net::IpAddress> gw4, gw6;
  if (!a.ip.empty()) {
    BERTH_ASSIGN_OR_RETURN(net::IpAddress ip, net::IpAddress::Parse(a.ip, "container record: ip"));
    v.peer_mac = net::MacForAddress(ip);
    addresses.push_back({ip, a.prefix_len});
    if (!n.internal && !a.gateway.empty()) {
      BERTH_ASSIGN_OR_RETURN(gw4, net::IpAddress::Parse(a.gateway, "container record: gateway"));
    }
  }
  if (!a.ip6.empty()) {
    BERTH_ASSIGN_OR_RETURN(net::IpAddress ip, net::IpAddress::Parse(a.ip6, "container record: ip6"));
    addresses.push_back({ip, a.prefix6_len});
    if (!n.internal && !a.gateway6.empty()) {
      BERTH_ASSIGN_OR_RETURN(gw6, net::IpAddress::Parse(a.gateway6, "container record: gateway6"));
    }
  }
  // A veth left by a crash (same name) goes first.
  if (links.Exists(a.host_veth)) BERTH_TRY(links.Delete(a.host_veth));
  BERTH_TRY_CTX(links.CreateVeth(v), StrCat("network ", n.name));
  // Only the primary interface gets the default route.
  bool primary = a.ifname == "eth0";
  return net::InNetns(netns_fd, [&]() -> Status {
    BERTH_ASSIGN_OR_RETURN(net::Links inside, net::Links::Open());
    return inside.ConfigureInterface(a.ifname, addresses, primary ? gw4 : std::nullopt,
                                     primary ? gw6 : std::nullopt);
  });
}

Status Engine::SetUpNetworks(const ContainerRecord& launched) {
  const std::string& mode = launched.config.network;
  // Bridge mode: the spec names the netns file, so it exists even with every network
  // disconnected (then the container has only `lo`, as docker's).
  if (mode == "none" || mode == "host" || mode.starts_with("container:")) return Ok();
  // Held for the links only: the firewall and DNS rebuilds below read the records under
  // their own locks, and parallel starts should not queue behind them.
  BERTH_ASSIGN_OR_RETURN(FileLock turn, TakeAttachLock(options_.runroot));
  // The attachments as they are now: a connect or disconnect may have come in between.
  BERTH_ASSIGN_OR_RETURN(std::optional<ContainerRecord> fresh, containers_->FindById(launched.id));
  const ContainerRecord& c = fresh ? *fresh : launched;
  std::string path = NetnsPath(c.id);
  if (PathExists(path)) BERTH_TRY(TearDownNetworks(c));  // left by a crash
  BERTH_TRY(MkdirAll(options_.runroot + "/netns", 0755));
  BERTH_TRY(net::CreateNetns(path));
  bool ok = false;
  Defer undo([&] {
    if (!ok) (void)TearDownNetworks(c);
  });
  BERTH_ASSIGN_OR_RETURN(UniqueFd netns, net::OpenNetns(path));
  for (const auto& a : c.networks) BERTH_TRY(SetUpAttachment(c, a, netns.get()));
  turn.Release();
  log::Trace("start: network links up");
  if (!c.ports.empty()) {
    // A port another running container publishes, or that a host program listens on, is
    // refused (docker: "port is already allocated").
    BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
    for (const auto& p : c.ports) {
      for (const auto& other : all) {
        if (other.id == c.id || !PathExists(NetnsPath(other.id))) continue;
        for (const auto& q : other.ports) {
          if (SamePort(p, q)) {
            return Fail(ErrorCode::kAlreadyExists,
                        StrCat("-p ", p.host_ip.empty() ? "" : p.host_ip + ":", p.host_port, "/",
                               p.protocol, ": port is already allocated by container ", other.name));
          }
        }
      }
      if (!PortFree(p.host_ip, p.host_port, p.protocol)) {
        return Fail(ErrorCode::kAlreadyExists,
                    StrCat("-p ", p.host_ip.empty() ? "0.0.0.0" : p.host_ip, ":", p.host_port, "/",
                           p.protocol, ": address already in use on the host"));
      }
    }
    BERTH_TRY(SyncFirewall());
    log::Trace("start: ports published");
  }
  for (const auto& a : c.networks) {
    BERTH_ASSIGN_OR_RETURN(std::optional<NetworkRecord> n, networks_->FindById(a.network_id));
    if (n && n->dns) BERTH_TRY(SyncDns(*n));
  }
  ok = true;
  return Ok();
}

Status Engine::TearDownNetworks(const ContainerRecord& c) {
  std::string path = NetnsPath(c.id);
  if (!PathExists(path)) return Ok();
  // Removing the namespace (nothing of ours runs in it any more) takes its veth pairs with
  // it, in the background: deleting each veth first would block ~20 ms in the kernel. A
  // container that joined this one (--network container:) keeps the namespace alive, so
  // then the veths are deleted explicitly (their addresses are about to be released).
  bool joined = false;
  if (auto all = containers_->All(); all.has_value()) {
    for (const auto& other : *all) {
      if (other.id == c.id || !other.config.network.starts_with("container:")) continue;
      std::string target = other.config.network.substr(10);
      if ((target == c.name || c.id.starts_with(target)) && other.pid > 0) joined = true;
    }
  }
  if (joined) {
    if (auto links = net::Links::Open(); links.has_value()) {
      for (const auto& a : c.networks) (void)links->Delete(a.host_veth);
    }
  }
  BERTH_TRY_CTX(net::RemoveNetns(path), StrCat("container ", c.name, ": remove its network namespace"));
  // Rebuilt from the records: a failure here is repaired by the next change on this store,
  // and must not keep the container from stopping or being removed.
  if (!c.ports.empty()) {
    if (auto st = SyncFirewall(); !st) log::Warn(StrCat("container ", c.name, ": ", st.error().message()));
  }
  for (const auto& a : c.networks) {
    auto n = networks_->FindById(a.network_id);
    if (n && *n && (*n)->dns) {
      if (auto st = SyncDns(**n); !st) log::Warn(StrCat("container ", c.name, ": ", st.error().message()));
    }
  }
  return Ok();
}

Status Engine::SyncFirewall() {
  BERTH_TRY(MkdirAll(options_.runroot + "/networks", 0700));
  BERTH_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(options_.runroot + "/networks/firewall.lock"));
  BERTH_ASSIGN_OR_RETURN(std::vector<NetworkRecord> nets, networks_->All());
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
  net::FirewallState state;
  std::map<std::string, std::string> bridge_of;
  for (const auto& n : nets) {
    net::FirewallNetwork f;
    f.bridge = n.bridge;
    f.internal = n.internal;
    f.masquerade = !n.internal;
    for (const auto& s : n.subnets) f.subnets.push_back(s.subnet);
    state.networks.push_back(std::move(f));
    bridge_of[n.id] = n.bridge;
  }
  for (const auto& c : all) {
    if (c.ports.empty() || c.networks.empty() || !PathExists(NetnsPath(c.id))) continue;
    const NetworkAttachment& a = c.networks.front();
    if (!bridge_of.count(a.network_id) || a.ip.empty()) continue;
    for (const auto& p : c.ports) {
      net::PortForward f;
      f.protocol = p.protocol;
      if (!p.host_ip.empty()) {
        BERTH_ASSIGN_OR_RETURN(net::IpAddress hip, net::IpAddress::Parse(p.host_ip, "-p host address"));
        f.host_ip = hip;
      }
      f.host_port = p.host_port;
      BERTH_ASSIGN_OR_RETURN(f.container_ip, net::IpAddress::Parse(a.ip, "container record: ip"));
      f.container_port = p.container_port;
      f.bridge = bridge_of[a.network_id];
      state.ports.push_back(f);
    }
  }
  state.table = FirewallTable();
  BERTH_ASSIGN_OR_RETURN(std::string script, net::FirewallScript(state));
  return net::ApplyFirewallScript(options_.nft_helper, script);
}

Status Engine::SyncDns(const NetworkRecord& n, bool removing) {
  std::string dir = NetworkRunDir(n);
  BERTH_TRY(MkdirAll(dir, 0700));
  BERTH_ASSIGN_OR_RETURN(FileLock lock, FileLock::Take(dir + "/lock"));
  std::string records;
  if (!removing) {
    BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> all, containers_->All());
    for (const auto& c : all) {
      if (!PathExists(NetnsPath(c.id))) continue;
      for (const auto& a : c.networks) {
        if (a.network_id != n.id) continue;
        std::vector<std::string> names = {c.name, c.id.substr(0, 12)};
        if (!c.config.hostname.empty() && c.config.hostname != c.name) names.push_back(c.config.hostname);
        names.insert(names.end(), a.aliases.begin(), a.aliases.end());
        if (!a.ip.empty()) records += StrCat(a.ip, " ", Join(names, " "), "\n");
        if (!a.ip6.empty()) records += StrCat(a.ip6, " ", Join(names, " "), "\n");
      }
    }
  }
  std::string pid_file = dir + "/dns.pid";
  pid_t running = 0;
  if (auto text = ReadFile(pid_file); text.has_value()) {
    auto pid = ParseInt64(Trim(*text), pid_file);
    if (pid && *pid > 0 && ::kill(static_cast<pid_t>(*pid), 0) == 0) {
      // A live process of that pid must be our server, not a reused pid.
      auto cmd = ReadFile(StrCat("/proc/", *pid, "/cmdline"));
      if (cmd && cmd->find(pid_file) != std::string::npos) running = static_cast<pid_t>(*pid);
    }
  }
  if (records.empty()) {
    if (running > 0) {
      // Wait (under the lock) until it is gone: the next server binds the same port.
      UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, running, 0)));
      ::kill(running, SIGTERM);
      if (pidfd.valid()) (void)sys::WaitPidfdExit(pidfd.get(), std::chrono::seconds(2));
    }
    ::unlink(pid_file.c_str());
    ::unlink((dir + "/records").c_str());
    return Ok();
  }
  BERTH_TRY(AtomicWriteFile(dir + "/records", records, 0644, Durability::kAtomicOnly));
  if (running > 0) return Ok();
  // The server: `berth container dns-server`, in its own session, detached from us.
  std::vector<std::string> args = {options_.berth_binary, "container", "dns-server",
                                   "--records", dir + "/records", "--pid-file", pid_file,
                                   "--port", "53"};
  for (const auto& s : n.subnets) {
    args.push_back("--listen");
    args.push_back(s.gateway.ToString());
  }
  if (!n.internal) {
    // The server runs in the host's namespace: the host's resolvers, loopback ones included
    // (systemd-resolved's 127.0.0.53), are its upstreams.
    auto resolv = ReadFile("/etc/resolv.conf");
    for (auto line : Split(resolv ? *resolv : "", '\n')) {
      auto f = SplitNonEmpty(std::string(Trim(line)), ' ');
      if (f.size() >= 2 && f[0] == "nameserver" && net::IpAddress::Parse(f[1], "resolv.conf").has_value()) {
        args.push_back("--upstream");
        args.push_back(f[1]);
      }
    }
  }
  ::unlink(pid_file.c_str());
  UniqueFd log_fd(::open((dir + "/dns.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  sys::SpawnOptions so;
  so.path = options_.berth_binary;
  so.args = args;
  so.stdin_data = "";  // not our stdin: a daemon must not hold the caller's pipes
  so.stdout_fd = log_fd.get();
  so.stderr_fd = log_fd.get();
  BERTH_ASSIGN_OR_RETURN(sys::ChildProcess child, sys::Spawn(so));
  // Ready once it wrote its pid file (after binding); it ends on its own only on failure.
  for (int i = 0; i < 400; ++i) {
    if (PathExists(pid_file)) {
      child.Release();
      return Ok();
    }
    BERTH_ASSIGN_OR_RETURN(std::optional<int> exited, child.WaitFor(std::chrono::milliseconds(5)));
    if (exited) {
      auto log_text = ReadFile(dir + "/dns.log");
      return Fail(ErrorCode::kInternal,
                  StrCat("network ", n.name, ": the DNS server did not start: ",
                         log_text ? std::string(Trim(*log_text)) : "no log"));
    }
  }
  return Fail(ErrorCode::kTimeout, StrCat("network ", n.name, ": the DNS server did not start in 2 s"));
}

Result<std::string> Engine::HostsFile(const ContainerRecord& c, const std::string& hostname) {
  std::string hosts = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  if (!c.networks.empty()) {
    const NetworkAttachment& a = c.networks.front();
    std::string names = hostname == c.name ? hostname : StrCat(hostname, " ", c.name);
    if (!a.ip.empty()) hosts += StrCat(a.ip, "\t", names, "\n");
    if (!a.ip6.empty()) hosts += StrCat(a.ip6, "\t", names, "\n");
  } else {
    hosts += StrCat("127.0.1.1\t", hostname, "\n");
  }
  for (const auto& h : c.config.add_hosts) {
    auto sep = h.find_first_of(":=");
    std::string name = h.substr(0, sep);
    std::string ip = h.substr(sep + 1);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    if (ip == "host-gateway") {
      if (c.networks.empty() || c.networks.front().gateway.empty()) {
        return InvalidArgument(StrCat("--add-host ", h, ": host-gateway needs a bridge network"));
      }
      ip = c.networks.front().gateway;
    }
    hosts += StrCat(ip, "\t", name, "\n");
  }
  return hosts;
}

Result<std::string> Engine::ResolvConf(const ContainerRecord& c) {
  std::string host = ReadFile("/etc/resolv.conf").value_or("");
  std::vector<std::string> nameservers, search, options;
  for (auto line : Split(host, '\n')) {
    auto f = SplitNonEmpty(std::string(Trim(line)), ' ');
    if (f.size() < 2) continue;
    if (f[0] == "nameserver") nameservers.push_back(f[1]);
    if (f[0] == "search") search.assign(f.begin() + 1, f.end());
    if (f[0] == "options") options.insert(options.end(), f.begin() + 1, f.end());
  }
  bool dns_network = false;
  std::string gateway;
  if (!c.networks.empty()) {
    auto n = networks_->FindById(c.networks.front().network_id);
    if (n && *n && (*n)->dns) {
      dns_network = true;
      gateway = c.networks.front().gateway;
    }
  }
  if (dns_network) {
    nameservers = {gateway};
    search.insert(search.begin(), kDnsDomain);
  } else {
    // The host's loopback resolvers are not reachable from the container's namespace; as
    // docker does, public ones stand in when nothing else is left.
    std::erase_if(nameservers, IsLoopback);
    if (nameservers.empty()) nameservers = {"8.8.8.8", "8.8.4.4"};
  }
  if (!c.config.dns.empty()) nameservers = c.config.dns;
  if (!c.config.dns_search.empty()) search = c.config.dns_search;
  if (!c.config.dns_options.empty()) options = c.config.dns_options;
  std::string out;
  if (!search.empty() && !(search.size() == 1 && search[0] == ".")) out += StrCat("search ", Join(search, " "), "\n");
  for (const auto& ns : nameservers) out += StrCat("nameserver ", ns, "\n");
  if (!options.empty()) out += StrCat("options ", Join(options, " "), "\n");
  return out;
}

Status Engine::ConnectNetwork(const std::string& network, const std::string& container,
                              const ConnectOptions& o) {
  BERTH_ASSIGN_OR_RETURN(NetworkRecord n, GetNetwork(network));
  BERTH_ASSIGN_OR_RETURN(FileLock turn, TakeAttachLock(options_.runroot));
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, Get(container));
  if (c.config.network == "host" || c.config.network == "none" || c.config.network.starts_with("container:")) {
    return Fail(ErrorCode::kFailedPrecondition,
                StrCat("container ", c.name, " uses --network ", c.config.network,
                       ": it cannot be connected to other networks"));
  }
  for (const auto& a : c.networks) {
    if (a.network_id == n.id) {
      return Fail(ErrorCode::kAlreadyExists,
                  StrCat("container ", c.name, " is already connected to network ", n.name));
    }
  }
  std::set<std::string> used;
  for (const auto& a : c.networks) used.insert(a.ifname);
  std::string ifname;
  for (int i = 0; ifname.empty(); ++i) {
    if (!used.count(StrCat("eth", i))) ifname = StrCat("eth", i);
  }
  BERTH_ASSIGN_OR_RETURN(NetworkAttachment a, LeaseAttachment(n, c, ifname, o));
  bool ok = false;
  Defer release([&] {
    if (!ok) (void)networks_->ReleaseAll(c.id, n.id);
  });
  bool running = PathExists(NetnsPath(c.id));
  if (running) {
    BERTH_ASSIGN_OR_RETURN(UniqueFd netns, net::OpenNetns(NetnsPath(c.id)));
    auto st = SetUpAttachment(c, a, netns.get());
    if (!st) {
      if (auto links = net::Links::Open(); links.has_value()) (void)links->Delete(a.host_veth);
      return st;
    }
  }
  BERTH_TRY(containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
    r.networks.push_back(a);
    return Ok();
  }));
  ok = true;
  if (running && n.dns) BERTH_TRY(SyncDns(n));
  return Ok();
}

Status Engine::DisconnectNetwork(const std::string& network, const std::string& container, bool force) {
  BERTH_ASSIGN_OR_RETURN(FileLock turn, TakeAttachLock(options_.runroot));
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, containers_->Find(container));
  auto found = networks_->Find(network);
  NetworkRecord n;
  if (found) {
    n = *found;
  } else {
    // A network removed under a container (a crash, a race): its attachment can still go.
    if (found.error().code() != ErrorCode::kNotFound) return Unexpected(found.error());
    bool matched = false;
    for (const auto& a : c.networks) {
      if (a.network == network || a.network_id.starts_with(network)) {
        n.id = a.network_id;
        n.name = a.network;
        n.dns = false;
        matched = true;
      }
    }
    if (!matched) return Unexpected(found.error());
  }
  std::optional<NetworkAttachment> att;
  for (const auto& a : c.networks) {
    if (a.network_id == n.id) att = a;
  }
  if (!att) {
    if (force) return Ok();
    return Fail(ErrorCode::kNotFound,
                StrCat("container ", c.name, " is not connected to network ", n.name));
  }
  if (PathExists(NetnsPath(c.id))) {
    BERTH_ASSIGN_OR_RETURN(net::Links links, net::Links::Open());
    BERTH_TRY(links.Delete(att->host_veth));
  }
  BERTH_TRY(containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
    std::erase_if(r.networks, [&](const NetworkAttachment& a) { return a.network_id == n.id; });
    if (r.networks.empty()) r.ports.clear();
    return Ok();
  }));
  BERTH_TRY(networks_->ReleaseAll(c.id, n.id));
  if (!c.ports.empty() && c.networks.front().network_id == n.id) BERTH_TRY(SyncFirewall());
  if (n.dns) BERTH_TRY(SyncDns(n));
  return Ok();
}

}  // namespace berth::engine
