#include "berth/engine/network_store.h"

#include <set>

#include "berth/base/strings.h"

namespace berth::engine {

std::string_view NetworkStore::Schema() {
  return R"sql(
CREATE TABLE IF NOT EXISTS networks (
  id   TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS net_addresses (
  network   TEXT NOT NULL,
  address   TEXT NOT NULL,
  container TEXT NOT NULL,
  PRIMARY KEY (network, address)
);
CREATE INDEX IF NOT EXISTS net_addresses_container ON net_addresses (container);
)sql";
}

namespace {

Json SubnetToJson(const NetworkSubnet& s) {
  Json j = {{"subnet", s.subnet.ToString()}, {"gateway", s.gateway.ToString()}};
  if (s.ip_range) j["ip_range"] = s.ip_range->ToString();
  return j;
}

Result<NetworkSubnet> SubnetFromJson(const Json& j) {
  NetworkSubnet s;
  if (!j.is_object()) return InvalidArgument("network record: subnet: expected an object");
  BERTH_ASSIGN_OR_RETURN(s.subnet, net::Prefix::Parse(j.value("subnet", ""), "network record: subnet"));
  BERTH_ASSIGN_OR_RETURN(s.gateway, net::IpAddress::Parse(j.value("gateway", ""), "network record: gateway"));
  if (j.contains("ip_range")) {
    BERTH_ASSIGN_OR_RETURN(s.ip_range, net::Prefix::Parse(j.value("ip_range", ""), "network record: ip_range"));
  }
  return s;
}

}  // namespace

Json NetworkToJson(const NetworkRecord& n) {
  Json subnets = Json::array();
  for (const auto& s : n.subnets) subnets.push_back(SubnetToJson(s));
  return {{"id", n.id},           {"name", n.name},         {"driver", n.driver},
          {"bridge", n.bridge},   {"subnets", subnets},     {"internal", n.internal},
          {"ipv6", n.ipv6},       {"dns", n.dns},           {"mtu", n.mtu},
          {"labels", n.labels},   {"options", n.options},   {"created", n.created}};
}

Result<NetworkRecord> NetworkFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("network record: expected an object");
  NetworkRecord n;
  try {
    n.id = j.value("id", "");
    n.name = j.value("name", "");
    n.driver = j.value("driver", "bridge");
    n.bridge = j.value("bridge", "");
    n.internal = j.value("internal", false);
    n.ipv6 = j.value("ipv6", false);
    n.dns = j.value("dns", true);
    n.mtu = j.value("mtu", 0);
    n.labels = j.value("labels", std::map<std::string, std::string>{});
    n.options = j.value("options", std::map<std::string, std::string>{});
    n.created = j.value("created", "");
    for (const auto& s : j.value("subnets", Json::array())) {
      BERTH_ASSIGN_OR_RETURN(NetworkSubnet sub, SubnetFromJson(s));
      n.subnets.push_back(std::move(sub));
    }
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat("network record ", Quote(n.name), ": ", e.what()));
  }
  return n;
}

Json AttachmentToJson(const NetworkAttachment& a) {
  return {{"network_id", a.network_id}, {"network", a.network},       {"ifname", a.ifname},
          {"host_veth", a.host_veth},   {"ip", a.ip},                 {"ip6", a.ip6},
          {"prefix_len", a.prefix_len}, {"prefix6_len", a.prefix6_len}, {"gateway", a.gateway},
          {"gateway6", a.gateway6},     {"mac", a.mac},               {"aliases", a.aliases}};
}

Result<NetworkAttachment> AttachmentFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("container record: networks: expected objects");
  NetworkAttachment a;
  try {
    a.network_id = j.value("network_id", "");
    a.network = j.value("network", "");
    a.ifname = j.value("ifname", "");
    a.host_veth = j.value("host_veth", "");
    a.ip = j.value("ip", "");
    a.ip6 = j.value("ip6", "");
    a.prefix_len = j.value("prefix_len", 0);
    a.prefix6_len = j.value("prefix6_len", 0);
    a.gateway = j.value("gateway", "");
    a.gateway6 = j.value("gateway6", "");
    a.mac = j.value("mac", "");
    a.aliases = j.value("aliases", std::vector<std::string>{});
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat("container record: networks: ", e.what()));
  }
  return a;
}

Status NetworkStore::Insert(const NetworkRecord& n) {
  bool taken = false;
  BERTH_TRY(db_.Query("SELECT 1 FROM networks WHERE name = ?", {n.name}, [&](const image::Row&) {
    taken = true;
    return false;
  }));
  if (taken) return Fail(ErrorCode::kAlreadyExists, StrCat("network with name ", n.name, " already exists"));
  return db_.Exec("INSERT INTO networks (id, name, data) VALUES (?, ?, ?)",
                  {n.id, n.name, NetworkToJson(n).dump()});
}

Result<std::optional<NetworkRecord>> NetworkStore::FindById(const std::string& id) {
  std::optional<std::string> data;
  BERTH_TRY(db_.Query("SELECT data FROM networks WHERE id = ?", {id}, [&](const image::Row& r) {
    data = r.Text(0);
    return false;
  }));
  if (!data) return std::optional<NetworkRecord>();
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(*data, StrCat("network record ", id)));
  BERTH_ASSIGN_OR_RETURN(NetworkRecord n, NetworkFromJson(j));
  return std::optional<NetworkRecord>(std::move(n));
}

Result<NetworkRecord> NetworkStore::Find(const std::string& name_or_id) {
  std::vector<std::string> datas;
  BERTH_TRY(db_.Query("SELECT data FROM networks WHERE name = ?", {name_or_id}, [&](const image::Row& r) {
    datas.push_back(r.Text(0));
    return false;
  }));
  if (datas.empty() && !name_or_id.empty() &&
      name_or_id.find_first_not_of("0123456789abcdef") == std::string::npos) {
    BERTH_TRY(db_.Query("SELECT data FROM networks WHERE substr(id, 1, ?) = ?",
                        {static_cast<int64_t>(name_or_id.size()), name_or_id},
                        [&](const image::Row& r) {
                          datas.push_back(r.Text(0));
                          return true;
                        }));
  }
  if (datas.empty()) return Fail(ErrorCode::kNotFound, StrCat("network ", name_or_id, " not found"));
  if (datas.size() > 1) {
    return InvalidArgument(StrCat("network id prefix ", Quote(name_or_id), " is ambiguous"));
  }
  BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(datas[0], StrCat("network record ", name_or_id)));
  return NetworkFromJson(j);
}

Result<std::vector<NetworkRecord>> NetworkStore::All() {
  std::vector<std::string> datas;
  BERTH_TRY(db_.Query("SELECT data FROM networks ORDER BY name", {}, [&](const image::Row& r) {
    datas.push_back(r.Text(0));
    return true;
  }));
  std::vector<NetworkRecord> out;
  for (const auto& d : datas) {
    BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(d, "network record"));
    BERTH_ASSIGN_OR_RETURN(NetworkRecord n, NetworkFromJson(j));
    out.push_back(std::move(n));
  }
  return out;
}

Status NetworkStore::Delete(const std::string& id) {
  return db_.Transaction([&]() -> Status {
    BERTH_TRY(db_.Exec("DELETE FROM net_addresses WHERE network = ?", {id}));
    return db_.Exec("DELETE FROM networks WHERE id = ?", {id});
  });
}

Result<net::IpAddress> NetworkStore::Lease(const NetworkRecord& n, const NetworkSubnet& s,
                                           const std::string& container,
                                           std::optional<net::IpAddress> wanted) {
  net::IpAddress chosen;
  BERTH_TRY(db_.Transaction([&]() -> Status {
    bool exists = false;
    BERTH_TRY(db_.Query("SELECT 1 FROM networks WHERE id = ?", {n.id}, [&](const image::Row&) {
      exists = true;
      return false;
    }));
    if (!exists) return Fail(ErrorCode::kNotFound, StrCat("network ", n.name, " was removed"));
    std::set<std::string> taken;
    BERTH_TRY(db_.Query("SELECT address FROM net_addresses WHERE network = ?", {n.id},
                        [&](const image::Row& r) {
                          taken.insert(r.Text(0));
                          return true;
                        }));
    const net::Prefix& range = s.ip_range ? *s.ip_range : s.subnet;
    auto reserved = [&](const net::IpAddress& a) {
      if (a == s.gateway || a == s.subnet.addr) return true;
      // The broadcast address of an IPv4 subnet.
      return a.is_v4() && s.subnet.len < 31 && s.subnet.OffsetOf(a) == s.subnet.Size() - 1;
    };
    if (wanted) {
      // As docker: --ip may be anywhere in the subnet; --ip-range only bounds the automatic
      // choice.
      if (!s.subnet.Contains(*wanted)) {
        return InvalidArgument(StrCat("address ", wanted->ToString(), " is not in the subnet ",
                                      s.subnet.ToString(), " of network ", n.name));
      }
      if (reserved(*wanted)) {
        return InvalidArgument(StrCat("address ", wanted->ToString(), " of network ", n.name,
                                      " is reserved (network, gateway or broadcast address)"));
      }
      if (taken.count(wanted->ToString())) {
        return Fail(ErrorCode::kAlreadyExists,
                    StrCat("address ", wanted->ToString(), " is already in use on network ", n.name));
      }
      chosen = *wanted;
    } else {
      bool found = false;
      uint64_t size = std::min<uint64_t>(range.Size(), uint64_t{1} << 24);
      for (uint64_t i = 0; i < size && !found; ++i) {
        net::IpAddress a = range.Nth(i);
        if (reserved(a) || taken.count(a.ToString())) continue;
        chosen = a;
        found = true;
      }
      if (!found) {
        return Fail(ErrorCode::kUnavailable,
                    StrCat("network ", n.name, ": no free address left in ", range.ToString()));
      }
    }
    return db_.Exec("INSERT INTO net_addresses (network, address, container) VALUES (?, ?, ?)",
                    {n.id, chosen.ToString(), container});
  }));
  return chosen;
}

Status NetworkStore::ReleaseAll(const std::string& container, const std::string& network_id) {
  if (network_id.empty()) return db_.Exec("DELETE FROM net_addresses WHERE container = ?", {container});
  return db_.Exec("DELETE FROM net_addresses WHERE container = ? AND network = ?", {container, network_id});
}

Result<std::vector<NetworkStore::LeaseRow>> NetworkStore::Leases() {
  std::vector<LeaseRow> out;
  BERTH_TRY(db_.Query("SELECT network, address, container FROM net_addresses", {}, [&](const image::Row& r) {
    out.push_back({r.Text(0), r.Text(1), r.Text(2)});
    return true;
  }));
  return out;
}

}  // namespace berth::engine
