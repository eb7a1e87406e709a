// berth/engine: RunConfig <-> JSON, the form the engine stores with each container.
// Keys are the field names; optional fields are absent when unset. Reading is strict about
// types (the error names the key) and tolerant of missing keys (older records keep working
// when fields are added).
#include "berth/engine/run_config.h"

#include <exception>
#include <stdexcept>
#include <type_traits>

#include "berth/base/strings.h"

namespace berth::engine {
namespace {

const char* KindName(VolumeMount::Kind k) {
  switch (k) {
    case VolumeMount::Kind::kBind:
      return "bind";
    case VolumeMount::Kind::kVolume:
      return "volume";
    case VolumeMount::Kind::kTmpfs:
      return "tmpfs";
  }
  return "bind";
}

Result<VolumeMount::Kind> KindFromName(std::string_view s) {
  if (s == "bind") return VolumeMount::Kind::kBind;
  if (s == "volume") return VolumeMount::Kind::kVolume;
  if (s == "tmpfs") return VolumeMount::Kind::kTmpfs;
  return InvalidArgument(StrCat("unknown mount kind ", Quote(s)));
}

// Reads `key` of object `j` into `out` when present. nlohmann throws on a type mismatch;
// the throw stays in here.
template <class T>
Status Get(const Json& j, std::string_view key, T& out, std::string_view where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Ok();
  try {
    // get<uint64_t> of a negative number wraps silently: check signs first.
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!it->is_number_integer()) throw std::invalid_argument("expected an integer");
      if (std::is_unsigned_v<T> && it->is_number_integer() && !it->is_number_unsigned() &&
          it->template get<int64_t>() < 0)
        throw std::invalid_argument("expected a non-negative integer");
    }
    out = it->template get<T>();
  } catch (const std::exception& e) {
    return InvalidArgument(StrCat(where, key, ": ", e.what()));
  }
  return Ok();
}

template <class T>
Status GetOpt(const Json& j, std::string_view key, std::optional<T>& out, std::string_view where) {
  if (!j.contains(key) || j.at(key).is_null()) return Ok();
  T v{};
  BERTH_TRY(Get(j, key, v, where));
  out = std::move(v);
  return Ok();
}

Status RequireObject(const Json& j, std::string_view where) {
  if (!j.is_object()) return InvalidArgument(StrCat(where, "expected an object"));
  return Ok();
}

Json MountToJson(const VolumeMount& m) {
  Json j = Json::object();
  j["kind"] = KindName(m.kind);
  j["source"] = m.source;
  j["target"] = m.target;
  j["readonly"] = m.readonly;
  j["options"] = m.options;
  j["create_source"] = m.create_source;
  return j;
}

Result<VolumeMount> MountFromJson(const Json& j, const std::string& where) {
  BERTH_TRY(RequireObject(j, where));
  VolumeMount m;
  std::string kind = "bind";
  BERTH_TRY(Get(j, "kind", kind, where));
  BERTH_ASSIGN_OR_RETURN_CTX(m.kind, KindFromName(kind), StrCat(where, "kind"));
  BERTH_TRY(Get(j, "source", m.source, where));
  BERTH_TRY(Get(j, "target", m.target, where));
  BERTH_TRY(Get(j, "readonly", m.readonly, where));
  BERTH_TRY(Get(j, "options", m.options, where));
  BERTH_TRY(Get(j, "create_source", m.create_source, where));
  return m;
}

template <class T, class F>
Status GetList(const Json& j, std::string_view key, std::vector<T>& out, std::string_view where,
               F from_json) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Ok();
  if (!it->is_array()) return InvalidArgument(StrCat(where, key, ": expected an array"));
  out.clear();
  for (size_t i = 0; i < it->size(); ++i) {
    std::string item_where = StrCat(where, key, "[", i, "].");
    BERTH_TRY(RequireObject((*it)[i], item_where));
    BERTH_ASSIGN_OR_RETURN(T v, from_json((*it)[i], item_where));
    out.push_back(std::move(v));
  }
  return Ok();
}

}  // namespace

Json ToJson(const std::vector<PortMapping>& ports) {
  Json out = Json::array();
  for (const auto& p : ports) {
    out.push_back({{"host_ip", p.host_ip}, {"host_port", p.host_port},
                   {"container_port", p.container_port}, {"protocol", p.protocol}});
  }
  return out;
}

Result<std::vector<PortMapping>> PortMappingsFromJson(const Json& j, std::string_view key,
                                                      std::string_view where) {
  std::vector<PortMapping> out;
  BERTH_TRY(GetList(j, key, out, where,
                    [](const Json& d, const std::string& dw) -> Result<PortMapping> {
                      PortMapping p;
                      BERTH_TRY(Get(d, "host_ip", p.host_ip, dw));
                      BERTH_TRY(Get(d, "host_port", p.host_port, dw));
                      BERTH_TRY(Get(d, "container_port", p.container_port, dw));
                      BERTH_TRY(Get(d, "protocol", p.protocol, dw));
                      return p;
                    }));
  return out;
}

Json ToJson(const RunConfig& c) {
  Json j = Json::object();
  j["image"] = c.image;
  j["name"] = c.name;
  if (c.entrypoint) j["entrypoint"] = *c.entrypoint;
  j["cmd"] = c.cmd;
  j["env"] = c.env;
  j["workdir"] = c.workdir;
  j["user"] = c.user;
  j["hostname"] = c.hostname;
  j["interactive"] = c.interactive;
  j["tty"] = c.tty;
  j["detach"] = c.detach;
  j["auto_remove"] = c.auto_remove;
  j["read_only"] = c.read_only;
  j["privileged"] = c.privileged;
  j["init"] = c.init;
  j["network"] = c.network;
  j["more_networks"] = c.more_networks;
  j["ip"] = c.ip;
  j["ip6"] = c.ip6;
  j["network_aliases"] = c.network_aliases;
  j["ports"] = ToJson(c.ports);
  j["publish_all"] = c.publish_all;
  j["dns"] = c.dns;
  j["dns_search"] = c.dns_search;
  j["dns_options"] = c.dns_options;
  j["add_hosts"] = c.add_hosts;
  Json mounts = Json::array();
  for (const auto& m : c.mounts) mounts.push_back(MountToJson(m));
  j["mounts"] = std::move(mounts);
  j["cap_add"] = c.cap_add;
  j["device_cgroup_rules"] = c.device_cgroup_rules;
  j["cap_drop"] = c.cap_drop;
  j["security_opt"] = c.security_opt;
  Json devices = Json::array();
  for (const auto& d : c.devices)
    devices.push_back({{"host_path", d.host_path},
                       {"container_path", d.container_path},
                       {"permissions", d.permissions}});
  j["devices"] = std::move(devices);
  Json ulimits = Json::array();
  for (const auto& u : c.ulimits)
    ulimits.push_back({{"name", u.name}, {"soft", u.soft}, {"hard", u.hard}});
  j["ulimits"] = std::move(ulimits);
  j["sysctls"] = c.sysctls;
  j["labels"] = c.labels;
  if (c.memory) j["memory"] = *c.memory;
  if (c.memory_swap) j["memory_swap"] = *c.memory_swap;
  if (c.memory_reservation) j["memory_reservation"] = *c.memory_reservation;
  if (c.cpus) j["cpus"] = *c.cpus;
  if (c.cpu_shares) j["cpu_shares"] = *c.cpu_shares;
  j["cpuset_cpus"] = c.cpuset_cpus;
  j["cpuset_mems"] = c.cpuset_mems;
  if (c.pids_limit) j["pids_limit"] = *c.pids_limit;
  if (c.oom_score_adj) j["oom_score_adj"] = *c.oom_score_adj;
  j["stop_signal"] = c.stop_signal;
  if (c.stop_timeout) j["stop_timeout"] = *c.stop_timeout;
  j["restart"] = {{"name", c.restart.name}, {"max_retries", c.restart.max_retries}};
  j["health"] = {{"test", c.health.test},
                 {"interval_ns", c.health.interval_ns},
                 {"timeout_ns", c.health.timeout_ns},
                 {"start_period_ns", c.health.start_period_ns},
                 {"retries", c.health.retries},
                 {"disable", c.health.disable}};
  j["log_max_size"] = c.log_max_size;
  j["log_max_file"] = c.log_max_file;
  j["group_add"] = c.group_add;
  j["pull"] = c.pull;
  return j;
}

Result<RunConfig> RunConfigFromJson(const Json& j) {
  constexpr std::string_view w = "run config: ";
  BERTH_TRY(RequireObject(j, w));
  RunConfig c;
  BERTH_TRY(Get(j, "image", c.image, w));
  BERTH_TRY(Get(j, "name", c.name, w));
  BERTH_TRY(GetOpt(j, "entrypoint", c.entrypoint, w));
  BERTH_TRY(Get(j, "cmd", c.cmd, w));
  BERTH_TRY(Get(j, "env", c.env, w));
  BERTH_TRY(Get(j, "workdir", c.workdir, w));
  BERTH_TRY(Get(j, "user", c.user, w));
  BERTH_TRY(Get(j, "hostname", c.hostname, w));
  BERTH_TRY(Get(j, "interactive", c.interactive, w));
  BERTH_TRY(Get(j, "tty", c.tty, w));
  BERTH_TRY(Get(j, "detach", c.detach, w));
  BERTH_TRY(Get(j, "auto_remove", c.auto_remove, w));
  BERTH_TRY(Get(j, "read_only", c.read_only, w));
  BERTH_TRY(Get(j, "privileged", c.privileged, w));
  BERTH_TRY(Get(j, "init", c.init, w));
  BERTH_TRY(Get(j, "network", c.network, w));
  BERTH_TRY(Get(j, "more_networks", c.more_networks, w));
  BERTH_TRY(Get(j, "ip", c.ip, w));
  BERTH_TRY(Get(j, "ip6", c.ip6, w));
  BERTH_TRY(Get(j, "network_aliases", c.network_aliases, w));
  BERTH_ASSIGN_OR_RETURN(c.ports, PortMappingsFromJson(j, "ports", w));
  BERTH_TRY(Get(j, "publish_all", c.publish_all, w));
  BERTH_TRY(Get(j, "dns", c.dns, w));
  BERTH_TRY(Get(j, "dns_search", c.dns_search, w));
  BERTH_TRY(Get(j, "dns_options", c.dns_options, w));
  BERTH_TRY(Get(j, "add_hosts", c.add_hosts, w));
  BERTH_TRY(GetList(j, "mounts", c.mounts, w, MountFromJson));
  BERTH_TRY(Get(j, "cap_add", c.cap_add, w));
  if (j.contains("device_cgroup_rules")) {
    BERTH_TRY(Get(j, "device_cgroup_rules", c.device_cgroup_rules, w));
  }
  BERTH_TRY(Get(j, "cap_drop", c.cap_drop, w));
  BERTH_TRY(Get(j, "security_opt", c.security_opt, w));
  BERTH_TRY(GetList(j, "devices", c.devices, w,
                    [](const Json& d, const std::string& dw) -> Result<DeviceMapping> {
                      DeviceMapping m;
                      BERTH_TRY(Get(d, "host_path", m.host_path, dw));
                      BERTH_TRY(Get(d, "container_path", m.container_path, dw));
                      BERTH_TRY(Get(d, "permissions", m.permissions, dw));
                      return m;
                    }));
  BERTH_TRY(GetList(j, "ulimits", c.ulimits, w,
                    [](const Json& d, const std::string& dw) -> Result<Ulimit> {
                      Ulimit u;
                      BERTH_TRY(Get(d, "name", u.name, dw));
                      BERTH_TRY(Get(d, "soft", u.soft, dw));
                      BERTH_TRY(Get(d, "hard", u.hard, dw));
                      return u;
                    }));
  BERTH_TRY(Get(j, "sysctls", c.sysctls, w));
  BERTH_TRY(Get(j, "labels", c.labels, w));
  BERTH_TRY(GetOpt(j, "memory", c.memory, w));
  BERTH_TRY(GetOpt(j, "memory_swap", c.memory_swap, w));
  BERTH_TRY(GetOpt(j, "memory_reservation", c.memory_reservation, w));
  if (j.contains("cpus") && !j["cpus"].is_null() && !j["cpus"].is_number())
    return InvalidArgument(StrCat(w, "cpus: expected a number"));
  BERTH_TRY(GetOpt(j, "cpus", c.cpus, w));
  BERTH_TRY(GetOpt(j, "cpu_shares", c.cpu_shares, w));
  BERTH_TRY(Get(j, "cpuset_cpus", c.cpuset_cpus, w));
  BERTH_TRY(Get(j, "cpuset_mems", c.cpuset_mems, w));
  BERTH_TRY(GetOpt(j, "pids_limit", c.pids_limit, w));
  BERTH_TRY(GetOpt(j, "oom_score_adj", c.oom_score_adj, w));
  BERTH_TRY(Get(j, "stop_signal", c.stop_signal, w));
  BERTH_TRY(GetOpt(j, "stop_timeout", c.stop_timeout, w));
  if (auto it = j.find("restart"); it != j.end() && !it->is_null()) {
    std::string rw = StrCat(w, "restart.");
    BERTH_TRY(RequireObject(*it, rw));
    BERTH_TRY(Get(*it, "name", c.restart.name, rw));
    BERTH_TRY(Get(*it, "max_retries", c.restart.max_retries, rw));
  }
  if (auto it = j.find("health"); it != j.end() && !it->is_null()) {
    std::string hw = StrCat(w, "health.");
    BERTH_TRY(RequireObject(*it, hw));
    BERTH_TRY(Get(*it, "test", c.health.test, hw));
    BERTH_TRY(Get(*it, "interval_ns", c.health.interval_ns, hw));
    BERTH_TRY(Get(*it, "timeout_ns", c.health.timeout_ns, hw));
    BERTH_TRY(Get(*it, "start_period_ns", c.health.start_period_ns, hw));
    BERTH_TRY(Get(*it, "retries", c.health.retries, hw));
    BERTH_TRY(Get(*it, "disable", c.health.disable, hw));
  }
  BERTH_TRY(Get(j, "log_max_size", c.log_max_size, w));
  BERTH_TRY(Get(j, "log_max_file", c.log_max_file, w));
  BERTH_TRY(Get(j, "group_add", c.group_add, w));
  BERTH_TRY(Get(j, "pull", c.pull, w));
  return c;
}

}  // namespace berth::engine
