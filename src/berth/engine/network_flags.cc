// Flag parsers of the network options of `berth run/create`.
#include <arpa/inet.h>

#include "berth/base/strings.h"
#include "berth/engine/run_config.h"

namespace berth::engine {
namespace {

// "80" or "8000-8010"; `first`..`last` inclusive.
Status ParsePortRange(std::string_view text, std::string_view flag_value, uint16_t* first,
                      uint16_t* last) {
  auto bad = [&]() {
    return InvalidArgument(StrCat("-p ", Quote(flag_value), ": invalid port ", Quote(text),
                                  " (expected 1-65535 or a range like 8000-8010)"));
  };
  std::string_view a = text, b = text;
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    a = text.substr(0, dash);
    b = text.substr(dash + 1);
  }
  auto pa = ParseInt64(a, "port");
  auto pb = ParseInt64(b, "port");
  if (!pa || !pb || *pa < 1 || *pa > 65535 || *pb < *pa || *pb > 65535) return bad();
  *first = static_cast<uint16_t>(*pa);
  *last = static_cast<uint16_t>(*pb);
  return Ok();
}

bool IsIp(std::string_view s) {
  unsigned char buf[16];
  std::string str(s);
  return ::inet_pton(AF_INET, str.c_str(), buf) == 1 || ::inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

}  // namespace

Result<std::vector<PortMapping>> ParsePublishFlag(std::string_view text) {
  std::string_view spec = text;
  std::string protocol = "tcp";
  if (auto slash = spec.rfind('/'); slash != std::string_view::npos) {
    protocol = std::string(spec.substr(slash + 1));
    spec = spec.substr(0, slash);
    if (protocol != "tcp" && protocol != "udp" && protocol != "sctp") {
      return InvalidArgument(StrCat("-p ", Quote(text), ": unknown protocol ", Quote(protocol),
                                    " (tcp, udp or sctp)"));
    }
  }
  // [HOST_IP:][HOST_PORT:]CONTAINER_PORT; an IPv6 host address is written in brackets.
  std::string host_ip;
  if (!spec.empty() && spec[0] == '[') {
    auto close = spec.find(']');
    if (close == std::string_view::npos || close + 1 >= spec.size() || spec[close + 1] != ':') {
      return InvalidArgument(StrCat("-p ", Quote(text), ": bad IPv6 address (write [ADDR]:PORT:PORT)"));
    }
    host_ip = std::string(spec.substr(1, close - 1));
    spec = spec.substr(close + 2);
    if (!IsIp(host_ip)) return InvalidArgument(StrCat("-p ", Quote(text), ": ", Quote(host_ip), " is not an IP address"));
  }
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= spec.size(); ++i) {
    if (i == spec.size() || spec[i] == ':') {
      parts.push_back(spec.substr(start, i - start));
      start = i + 1;
    }
  }
  std::string_view host_ports, container_ports;
  if (parts.size() == 1) {
    container_ports = parts[0];
  } else if (parts.size() == 2) {
    host_ports = parts[0];
    container_ports = parts[1];
  } else if (parts.size() == 3 && host_ip.empty()) {
    host_ip = std::string(parts[0]);
    host_ports = parts[1];
    container_ports = parts[2];
    if (!IsIp(host_ip)) {
      return InvalidArgument(StrCat("-p ", Quote(text), ": ", Quote(host_ip), " is not an IP address"));
    }
  } else {
    return InvalidArgument(StrCat("-p ", Quote(text),
                                  ": expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]"));
  }
  uint16_t c_first = 0, c_last = 0;
  BERTH_TRY(ParsePortRange(container_ports, text, &c_first, &c_last));
  uint16_t h_first = 0, h_last = 0;
  if (!host_ports.empty()) {
    BERTH_TRY(ParsePortRange(host_ports, text, &h_first, &h_last));
    if (h_last - h_first != c_last - c_first) {
      return InvalidArgument(StrCat("-p ", Quote(text),
                                    ": the host and container port ranges differ in length"));
    }
  }
  std::vector<PortMapping> out;
  for (uint32_t p = c_first; p <= c_last; ++p) {
    PortMapping m;
    m.host_ip = host_ip;
    m.container_port = static_cast<uint16_t>(p);
    m.host_port = host_ports.empty() ? 0 : static_cast<uint16_t>(h_first + (p - c_first));
    m.protocol = protocol;
    out.push_back(m);
  }
  return out;
}

Status CheckAddHostFlag(std::string_view text) {
  auto sep = text.find_first_of(":=");
  if (sep == std::string_view::npos || sep == 0) {
    return InvalidArgument(StrCat("--add-host ", Quote(text), ": expected NAME:IP"));
  }
  std::string_view ip = text.substr(sep + 1);
  if (!ip.empty() && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip != "host-gateway" && !IsIp(ip)) {
    return InvalidArgument(StrCat("--add-host ", Quote(text), ": ", Quote(ip), " is not an IP address"));
  }
  return Ok();
}

}  // namespace berth::engine
