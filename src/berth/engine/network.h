// berth/engine: container networks, the control plane. A network is a record in berth.db
// (name, subnets, options) plus the kernel state berth/net makes from it (a bridge, nftables
// rules, a DNS server for user-defined networks). IPAM: every address a container holds is
// a row of `net_addresses` (network, address) -> container, inserted in the transaction
// that picks it, so concurrent `run`s never get one address twice.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/net/addr.h"

namespace berth::engine {

// The network `run` uses without --network, as docker's `bridge`.
inline constexpr const char* kDefaultNetwork = "bridge";
inline constexpr const char* kDefaultBridge = "berth0";
inline constexpr const char* kDefaultSubnet = "10.77.0.0/16";
// User-defined networks without --subnet get the first free /24 of this range.
inline constexpr const char* kUserSubnetPool = "10.78.0.0/16";
inline constexpr const char* kUserSubnet6Pool = "fd4b:6572:7468::/48";  // "berth"
inline constexpr const char* kDnsDomain = "dns.berth";

struct NetworkSubnet {
  net::Prefix subnet;
  net::IpAddress gateway;
  std::optional<net::Prefix> ip_range;  // containers get addresses only from here
};

struct NetworkRecord {
  std::string id;     // 64 hex
  std::string name;
  std::string driver = "bridge";
  std::string bridge;  // the kernel bridge: berth0, br-<id12>
  std::vector<NetworkSubnet> subnets;  // one IPv4, and one IPv6 with --ipv6
  bool internal = false;
  bool ipv6 = false;
  bool dns = true;  // a DNS server answers for the containers (not on the default network)
  int mtu = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;
  std::string created;
};

struct NetworkCreateOptions {
  std::string name;
  std::string driver = "bridge";
  std::vector<std::string> subnets, gateways, ip_ranges;  // paired by position
  bool internal = false;
  bool ipv6 = false;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // -o mtu=1400, com.docker.network.bridge.name=
};

// A container's place on a network (the record keeps one per network it is connected to).
struct NetworkAttachment {
  std::string network_id;
  std::string network;  // name
  std::string ifname;   // eth0, eth1, ... inside the container
  std::string host_veth;
  std::string ip, ip6;  // addresses without prefix
  int prefix_len = 0, prefix6_len = 0;
  std::string gateway, gateway6;
  std::string mac;
  std::vector<std::string> aliases;
  bool operator==(const NetworkAttachment&) const = default;
};

Json NetworkToJson(const NetworkRecord& n);
Result<NetworkRecord> NetworkFromJson(const Json& j);
Json AttachmentToJson(const NetworkAttachment& a);
Result<NetworkAttachment> AttachmentFromJson(const Json& j);

}  // namespace berth::engine
