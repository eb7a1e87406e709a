// berth/net: the nftables side of container networks. berth owns two tables, `inet berth`
// (filter and NAT for every berth network and published port) and nothing else; each
// change rebuilds the whole table from the records in one atomic nftables transaction, so a
// crash between a record and its rules is repaired by the next change (and `berth network
// ls` and friends never see half a rule set).
//
// Rules are applied through libnftables by `berth-nft`, a small helper program next to the
// berth binary: Debian ships libnftables only as a shared library and berth is a static
// binary (see CMakeLists.txt).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/addr.h"

namespace berth::net {

struct FirewallNetwork {
  std::string bridge;             // "berth0"
  std::vector<Prefix> subnets;    // 10.77.0.0/24 (and an IPv6 one with --ipv6)
  bool internal = false;          // no traffic in or out of the network, DNS on the bridge only
  bool masquerade = true;         // outbound traffic leaves with the host's address
};

struct PortForward {
  std::string protocol = "tcp";        // tcp | udp | sctp
  std::optional<IpAddress> host_ip;    // unset (or 0.0.0.0 / ::) = every local address of
                                       // the host in container_ip's family
  uint16_t host_port = 0;
  IpAddress container_ip;              // must be in some FirewallNetwork subnet
  uint16_t container_port = 0;
  std::string bridge;                  // the network the container is reached on
};

struct FirewallState {
  std::vector<FirewallNetwork> networks;
  std::vector<PortForward> ports;
  // The nftables table (family inet) the script replaces. Only tests change it, so that they
  // never touch the live `berth` table.
  std::string table = "berth";
};

// The nft script (for `nft -f`/libnftables) that replaces table `inet berth` with `state`:
//   - masquerade for traffic from a non-internal subnet (with `masquerade`) leaving it;
//   - isolation: traffic between two different berth bridges is dropped, except to a
//     published port (a container may use another network's published port through the
//     host's address, as with docker's userland proxy); an internal network's bridge
//     forwards nothing in or out, published ports included (only the host reaches them);
//   - DNAT of published ports for packets to a local address of the host (or to `host_ip`
//     only) from outside (prerouting) and from the host itself (output), including
//     127.0.0.1 (hairpin through route_localnet, with masquerade so replies come back) and
//     a container reaching its own network's published port through the host address.
// An empty state gives a script that deletes the table. The output is sorted (the same state
// in any order gives the same script).
//
// Every name and value is checked before it reaches the script, so a record cannot inject
// nft syntax: bridge names are 1-15 characters of [A-Za-z0-9_.-], protocols tcp|udp|sctp,
// ports non-zero, a port's `bridge` names a network of `state` whose subnets hold its
// `container_ip`, `host_ip` (if set) has the container address's family, and no two
// mappings claim the same protocol, host address (or wildcard) and host port. Anything else
// is InvalidArgument.
Result<std::string> FirewallScript(const FirewallState& state);

// Applies a script through the `berth-nft` helper (path of the helper program): the script
// goes to its stdin, and it either commits the whole script or nothing. Errors carry
// libnftables' message. Costs one exec of the helper (a few ms).
Status ApplyFirewallScript(const std::string& helper, const std::string& script);

// The kernel settings that forwarding needs: net.ipv4.ip_forward=1 (and IPv6 forwarding
// when any network has IPv6), route_localnet=1 on `bridge` (published ports on 127.0.0.1).
// Only writes a setting that is not already 1. `bridge` must exist.
// Note: net.ipv6.conf.all.forwarding=1 makes the host stop accepting router advertisements
// on interfaces with accept_ra=1 (as with docker and podman).
Status EnableForwarding(const std::string& bridge, bool ipv6);

}  // namespace berth::net
