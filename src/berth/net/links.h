// berth/net: links, addresses and routes through rtnetlink (libnl-route-3). A Links object
// is a netlink socket bound to the network namespace of the thread that opened it; open one
// inside InNetns() to configure a container's side. Not thread-safe: one per thread.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/addr.h"

namespace berth::net {

struct BridgeConfig {
  std::string name;                  // "berth0", "br-<id12>"
  int mtu = 0;                       // 0 = kernel default
  // Gateway addresses with their prefix length ("10.77.0.1/24"); may be empty (internal
  // networks still get them: the DNS server listens there).
  std::vector<Prefix> gateways;      // Prefix.addr = the gateway address itself, len = subnet's
  // The link's alias (IFLA_IFALIAS, at most 255 bytes), set when the bridge is made: berth
  // writes its store there, so a store removed by hand can be told from a live one.
  std::string alias;
};

struct BridgeInfo {
  std::string name;
  std::string alias;
};

struct VethConfig {
  std::string host_name;             // "veth<hex>" on the host, enslaved to `bridge`
  std::string bridge;
  std::string peer_name = "eth0";    // inside the container
  int peer_netns_fd = -1;            // the container's netns (the peer is created there)
  int mtu = 0;
  // The caller passes MacForAddress(ipv4) for docker's behaviour; unset, the kernel picks a
  // random one.
  std::optional<std::array<uint8_t, 6>> peer_mac;
};

class Links {
 public:
  static Result<Links> Open();
  Links(Links&&) noexcept;
  Links& operator=(Links&&) noexcept;
  ~Links();

  bool Exists(const std::string& name);
  // The link's alias ("" when it has none); nullopt when there is no such link.
  std::optional<std::string> Alias(const std::string& name);
  // Creates the bridge (or keeps the existing one), sets its MTU and addresses (adding
  // missing ones), brings it up. Idempotent: the next command repairs a half-made bridge.
  Status EnsureBridge(const BridgeConfig& b);
  // Every bridge in this namespace, with its alias.
  Result<std::vector<BridgeInfo>> Bridges();
  // A veth pair: `host_name` on this namespace's side, enslaved to `bridge` and up, in
  // hairpin mode (a container reaches its own published ports through the host); the peer
  // created directly inside `peer_netns_fd` as `peer_name` (down; configure it with
  // ConfigureInterface from inside that namespace).
  Status CreateVeth(const VethConfig& v);
  // Deletes a link (a veth's peer goes with it); a missing link is fine. Deleting a veth
  // blocks for 10-30 ms (RCU grace periods in the kernel); removing the container's netns
  // alone also removes the pair, asynchronously.
  Status Delete(const std::string& name);
  // Inside a container namespace: sets the addresses ("10.77.0.2/24"), brings the link and
  // `lo` up, and adds default routes via `gateway4`/`gateway6` when given.
  Status ConfigureInterface(const std::string& name, const std::vector<Prefix>& addresses,
                            std::optional<IpAddress> gateway4, std::optional<IpAddress> gateway6);

 private:
  Links() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// 02:42:<ipv4 bytes> as docker does, so a container's MAC follows its address.
std::array<uint8_t, 6> MacForAddress(const IpAddress& v4);

}  // namespace berth::net
