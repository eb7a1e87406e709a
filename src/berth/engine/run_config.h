// berth/engine: what `berth run/create` was asked for, after flag parsing and before the
// image is applied. The CLI fills it; the engine stores it (as JSON) with the container and
// generates the OCI spec from it plus the image config (spec_gen.h).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/oci/spec.h"

namespace berth::engine {

struct VolumeMount {
  enum class Kind { kBind, kVolume, kTmpfs };
  Kind kind = Kind::kBind;
  std::string source;  // host path (bind), volume name (volume; empty = anonymous)
  std::string target;  // absolute path in the container
  bool readonly = false;
  std::vector<std::string> options;  // extra mount options (propagation, tmpfs size/mode, ...)
  // A missing bind source is created (-v, as docker does) rather than refused (--mount).
  bool create_source = false;
  bool operator==(const VolumeMount&) const = default;
};

struct DeviceMapping {
  std::string host_path;
  std::string container_path;
  std::string permissions = "rwm";
  bool operator==(const DeviceMapping&) const = default;
};

struct Ulimit {
  std::string name;  // "nofile"
  uint64_t soft = 0;
  uint64_t hard = 0;
  bool operator==(const Ulimit&) const = default;
};

struct RestartPolicy {
  std::string name = "no";  // no | on-failure | always | unless-stopped
  int max_retries = 0;      // on-failure:N (0 = unlimited)
  bool operator==(const RestartPolicy&) const = default;
};

struct Healthcheck {
  std::vector<std::string> test;  // ["CMD-SHELL", "cmd"] or ["CMD", ...]; empty = image's
  int64_t interval_ns = 0;        // 0 = default (30 s)
  int64_t timeout_ns = 0;         // 0 = default (30 s)
  int64_t start_period_ns = 0;
  int retries = 0;                // 0 = default (3)
  bool disable = false;           // --no-healthcheck
  bool operator==(const Healthcheck&) const = default;
};

// -p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]; ranges are expanded by the parser.
struct PortMapping {
  std::string host_ip;          // empty: every address of the host
  uint16_t host_port = 0;       // 0: a free port chosen at create
  uint16_t container_port = 0;
  std::string protocol = "tcp"; // tcp | udp | sctp
  bool operator==(const PortMapping&) const = default;
};

struct RunConfig {
  std::string image;  // as the user wrote it
  std::string name;
  std::optional<std::vector<std::string>> entrypoint;  // --entrypoint ("" clears it)
  std::vector<std::string> cmd;                        // args after the image
  std::vector<std::string> env;                        // -e / --env-file, in order
  std::string workdir;
  std::string user;
  std::string hostname;
  bool interactive = false;  // -i
  bool tty = false;          // -t
  bool detach = false;       // -d
  bool auto_remove = false;  // --rm
  bool read_only = false;
  bool privileged = false;
  bool init = false;
  // bridge (the default network) | NAME (a user-defined network) | none | host |
  // container:NAME_OR_ID (join that container's network namespace). The CLI's default is
  // `bridge`, as docker's; an engine caller that says nothing gets no network.
  std::string network = "none";
  // Further --network flags: more bridge networks, joined as eth1, eth2, ... (as docker's
  // repeated --network); --ip/--ip6 apply to the first network only.
  std::vector<std::string> more_networks;
  std::string ip, ip6;                           // --ip, --ip6 (on `network`)
  std::vector<std::string> network_aliases;      // --network-alias
  std::vector<PortMapping> ports;                // -p
  bool publish_all = false;                      // -P: every EXPOSEd port to a free host port
  std::vector<std::string> dns;                  // --dns
  std::vector<std::string> dns_search;           // --dns-search
  std::vector<std::string> dns_options;          // --dns-option
  std::vector<std::string> add_hosts;            // --add-host NAME:IP
  std::vector<VolumeMount> mounts;
  std::vector<std::string> cap_add;
  std::vector<std::string> cap_drop;
  std::vector<std::string> security_opt;  // seccomp=PATH|unconfined, no-new-privileges[:true]
  std::vector<DeviceMapping> devices;
  std::vector<std::string> device_cgroup_rules;  // --device-cgroup-rule "c 13:* rwm"
  std::vector<Ulimit> ulimits;
  std::map<std::string, std::string> sysctls;
  std::map<std::string, std::string> labels;
  std::optional<int64_t> memory;       // bytes
  std::optional<int64_t> memory_swap;  // bytes, -1 unlimited
  std::optional<int64_t> memory_reservation;
  std::optional<double> cpus;
  std::optional<uint64_t> cpu_shares;
  std::string cpuset_cpus;
  std::string cpuset_mems;
  std::optional<int64_t> pids_limit;
  std::optional<int> oom_score_adj;
  std::string stop_signal;             // empty = image's or SIGTERM
  std::optional<int> stop_timeout;     // seconds; empty = 10
  RestartPolicy restart;
  Healthcheck health;
  int64_t log_max_size = 0;  // --log-opt max-size (bytes; 0 = unlimited)
  int log_max_file = 1;      // --log-opt max-file
  std::vector<std::string> group_add;
  std::string pull = "missing";
  bool operator==(const RunConfig&) const = default;
};

Json ToJson(const RunConfig& c);
Result<RunConfig> RunConfigFromJson(const Json& j);
// Published ports as stored in a run config (as asked) and in a container record (as given).
Json ToJson(const std::vector<PortMapping>& ports);
Result<std::vector<PortMapping>> PortMappingsFromJson(const Json& j, std::string_view key,
                                                      std::string_view where);

// Flag value parsers shared by the CLI and tests; errors name the flag and value.
Result<int64_t> ParseBytes(std::string_view text, std::string_view flag);  // "512m", "1g", "100k", "1024"
Result<VolumeMount> ParseVolumeFlag(std::string_view text);                 // -v SRC:DST[:ro,z,...]
Result<VolumeMount> ParseMountFlag(std::string_view text);                  // --mount type=...,src=,dst=
Result<VolumeMount> ParseTmpfsFlag(std::string_view text);                  // --tmpfs /path[:opts]
Result<DeviceMapping> ParseDeviceFlag(std::string_view text);               // --device /dev/x[:/dev/y[:rwm]]
// --device-cgroup-rule "TYPE MAJOR:MINOR ACCESS": TYPE a|b|c, MAJOR/MINOR a number or *,
// ACCESS of r, w, m. An allow rule for the device cgroup.
Result<oci::DeviceRule> ParseDeviceCgroupRule(std::string_view text);
Result<Ulimit> ParseUlimitFlag(std::string_view text);                      // nofile=1024[:2048]
Result<RestartPolicy> ParseRestartFlag(std::string_view text);
// -p/--publish; "8000-8001:80-81" gives two mappings. Errors quote the flag's value.
Result<std::vector<PortMapping>> ParsePublishFlag(std::string_view text);
// --add-host NAME:IP (also NAME=IP); IP may be "host-gateway".
Status CheckAddHostFlag(std::string_view text);
Result<int64_t> ParseDurationNs(std::string_view text, std::string_view flag);  // "30s", "1m30s", "500ms"

// "RLIMIT_NOFILE" for docker's ulimit name "nofile"; an error names an unknown one.
Result<std::string> UlimitRlimitName(std::string_view name);
// `-e NAME=VALUE` as is; `-e NAME` takes NAME's value from the caller's environment and is
// dropped (nullopt) when unset. The CLI expands at parse time so that a restarted container
// sees the values of the `run`, not of whoever restarts it.
std::optional<std::string> ExpandEnvFlag(std::string_view text);
// --env-file: one variable a line, `#` comments and blank lines skipped, lines expanded as
// ExpandEnvFlag does. Errors name the file and line.
Result<std::vector<std::string>> ParseEnvFile(const std::string& path);

}  // namespace berth::engine
