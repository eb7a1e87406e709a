// berth/net: the resolver each user-defined network gets, as podman's aardvark-dns and
// docker's embedded DNS do. It listens on the network's gateway address, port 53 (UDP and
// TCP), answers A/AAAA/PTR for the containers on that network (by name, alias or short id,
// case-insensitive) from a records file the engine rewrites atomically on every attach and
// detach, and forwards every other question to the host's resolvers.
//
// Records file: one line per container, "ADDRESS NAME [NAME...]" ('#' comments, blank lines;
// a line that does not parse is skipped with a warning). Names match case-insensitively,
// with or without a trailing dot and with or without the search domain "dns.berth"; a name
// on several lines answers with all of its addresses; PTR answers with the first name on
// the address's first line. The server re-reads the file when its inode, mtime or size
// changes (checked on every query), so write it with a rename. A missing file means no
// records.
//
// Other names are forwarded, the query unchanged, over UDP to the upstreams in order (2 s
// each) and the reply relayed unchanged; names under "dns.berth" never leave, and without
// upstreams unknown names get NXDOMAIN. All of it runs in one thread around poll(): a slow
// upstream never holds up other clients.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/addr.h"

namespace berth::net {

// The search domain of container names: "web.dns.berth" answers as "web". Containers'
// resolv.conf can list it under "search".
constexpr std::string_view kDnsSearchDomain = "dns.berth";

struct DnsServerOptions {
  std::vector<IpAddress> listen;  // gateway addresses
  uint16_t port = 53;
  std::string records_file;
  std::vector<IpAddress> upstreams;  // from the host's resolv.conf; none: NXDOMAIN
  uint16_t upstream_port = 53;       // tests point it at a fake upstream
  std::string pid_file;              // written once listening (atomic); removed on exit
};

// Serves until SIGTERM/SIGINT. Binding failures are returned before anything is written
// to pid_file (no IP_FREEBIND: a listen address must already be on an interface, and an
// IPv6 one past duplicate address detection). pid_file ("PID\n") appears once every socket
// is bound, so its existence means ready. SIGTERM and SIGINT are blocked in the calling
// thread and read from a signalfd: call it from a single-threaded process (the CLI) or one
// whose other threads block them too.
Status RunDnsServer(const DnsServerOptions& options);

// "nameserver" lines of a resolv.conf text, skipping addresses in 127.0.0.0/8 and ::1
// (unreachable from a container's namespace).
std::vector<IpAddress> UpstreamsFromResolvConf(const std::string& text);

}  // namespace berth::net
