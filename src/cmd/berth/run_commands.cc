// berth CLI: `run` and `create`. Flags as docker's; parsing stops at the image (everything
// after it is the container's command, so `berth run busybox ls -l` passes -l to ls).
#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "cli.h"

namespace berth::cli {
namespace {

struct RunFlags {
  bool detach = false, interactive = false, tty = false, rm = false, read_only = false,
       privileged = false, init = false, no_healthcheck = false, publish_all = false;
  std::string name, workdir, user, hostname, stop_signal, restart = "no",
                                             cpuset_cpus, cpuset_mems, pull = "missing", cidfile,
                                             detach_keys;
  std::optional<std::string> entrypoint, memory, memory_swap, memory_reservation, cpus, health_cmd,
      health_interval, health_timeout, health_start_period;
  std::optional<uint64_t> cpu_shares;
  std::optional<int64_t> pids_limit;
  std::optional<int> oom_score_adj, stop_timeout, health_retries;
  std::vector<std::string> env, env_file, volumes, mounts, tmpfs, cap_add, cap_drop, security_opt,
      devices, device_cgroup_rules, ulimits, sysctls, labels, label_files, log_opts, group_add,
      publish, networks, network_aliases, dns, dns_search, dns_options, add_hosts;
  std::string ip, ip6;
};

void AddRunFlags(CLI::App* sub, RunFlags& f) {
  // -h is --hostname, as in docker; help stays on --help.
  sub->set_help_flag("--help", "print help");
  sub->prefix_command();  // the first positional (the image) ends the flags
  sub->add_flag("-d,--detach", f.detach, "run in the background and print the container id");
  sub->add_flag("-i,--interactive", f.interactive, "keep stdin open");
  sub->add_flag("-t,--tty", f.tty, "allocate a pseudo-terminal");
  sub->add_flag("--rm", f.rm, "remove the container when it exits");
  sub->add_option("--name", f.name, "container name");
  AddMulti(sub, "-e,--env", f.env, "set an environment variable (NAME=VALUE or NAME)");
  AddMulti(sub, "--env-file", f.env_file, "read environment variables from a file");
  sub->add_option("-w,--workdir", f.workdir, "working directory inside the container");
  sub->add_option("-u,--user", f.user, "user[:group] (names or ids)");
  sub->add_option("--entrypoint", f.entrypoint, "override the image's entrypoint");
  AddMulti(sub, "-v,--volume", f.volumes, "bind mount or volume SRC:DST[:OPTS]");
  AddMulti(sub, "--mount", f.mounts, "mount: type=bind|volume|tmpfs,src=,dst=,...");
  AddMulti(sub, "--tmpfs", f.tmpfs, "tmpfs mount PATH[:OPTS]");
  sub->add_option("-m,--memory", f.memory, "memory limit (e.g. 512m)");
  sub->add_option("--memory-swap", f.memory_swap, "memory + swap limit, -1 for unlimited");
  sub->add_option("--memory-reservation", f.memory_reservation, "memory soft limit");
  sub->add_option("--cpus", f.cpus, "number of CPUs (e.g. 1.5)");
  sub->add_option("-c,--cpu-shares", f.cpu_shares, "CPU shares (relative weight)");
  sub->add_option("--cpuset-cpus", f.cpuset_cpus, "CPUs to run on (0-3, 0,1)");
  sub->add_option("--cpuset-mems", f.cpuset_mems, "memory nodes to use");
  sub->add_option("--pids-limit", f.pids_limit, "process limit, -1 for unlimited");
  sub->add_flag("--read-only", f.read_only, "mount the root filesystem read-only");
  AddMulti(sub, "--cap-add", f.cap_add, "add a capability");
  AddMulti(sub, "--cap-drop", f.cap_drop, "drop a capability");
  sub->add_flag("--privileged", f.privileged, "all capabilities and devices, no seccomp");
  AddMulti(sub, "--security-opt", f.security_opt, "seccomp=PROFILE|unconfined, no-new-privileges");
  AddMulti(sub, "--device", f.devices, "add a host device HOST[:CONTAINER[:rwm]]");
  AddMulti(sub, "--device-cgroup-rule", f.device_cgroup_rules,
           "allow devices in the cgroup: \"TYPE MAJOR:MINOR ACCESS\" (c 13:* rwm)");
  AddMulti(sub, "--ulimit", f.ulimits, "ulimit NAME=SOFT[:HARD]");
  AddMulti(sub, "--sysctl", f.sysctls, "namespaced kernel parameter NAME=VALUE");
  sub->add_option("-h,--hostname", f.hostname, "container host name");
  AddMulti(sub, "--network,--net", f.networks,
           "network: bridge (default), a network's name, none, host or container:NAME; "
           "repeat to join more bridge networks (eth1, eth2, ...)");
  sub->add_option("--ip", f.ip, "IPv4 address on the network (user-defined networks)");
  sub->add_option("--ip6", f.ip6, "IPv6 address on the network");
  AddMulti(sub, "--network-alias,--net-alias", f.network_aliases, "another name on the network");
  AddMulti(sub, "--dns", f.dns, "DNS server for the container");
  AddMulti(sub, "--dns-search", f.dns_search, "DNS search domain");
  AddMulti(sub, "--dns-option,--dns-opt", f.dns_options, "resolv.conf option");
  AddMulti(sub, "--add-host", f.add_hosts, "add NAME:IP to /etc/hosts (IP may be host-gateway)");
  sub->add_flag("--init", f.init, "run an init that reaps zombies and forwards signals");
  AddMulti(sub, "-l,--label", f.labels, "set a label KEY=VALUE");
  AddMulti(sub, "--label-file", f.label_files, "read labels from a file");
  sub->add_option("--stop-signal", f.stop_signal, "signal to stop the container");
  sub->add_option("--stop-timeout", f.stop_timeout, "seconds to wait before killing on stop");
  sub->add_option("--restart", f.restart, "no, on-failure[:N], always, unless-stopped");
  sub->add_option("--health-cmd", f.health_cmd, "command to check health");
  sub->add_option("--health-interval", f.health_interval, "time between checks (e.g. 30s)");
  sub->add_option("--health-retries", f.health_retries, "failures before unhealthy");
  sub->add_option("--health-timeout", f.health_timeout, "maximum time of one check");
  sub->add_option("--health-start-period", f.health_start_period, "grace period after start");
  sub->add_flag("--no-healthcheck", f.no_healthcheck, "disable the image's health check");
  AddMulti(sub, "--log-opt", f.log_opts, "log option: max-size=SIZE, max-file=N");
  AddMulti(sub, "--group-add", f.group_add, "additional group");
  sub->add_option("--oom-score-adj", f.oom_score_adj, "OOM score adjustment (-1000..1000)");
  sub->add_option("--pull", f.pull, "pull policy: always, missing, newer, never")
      ->check(CLI::IsMember({"always", "missing", "never"}));
  AddMulti(sub, "-p,--publish", f.publish, "publish a port [HOST_IP:][HOST_PORT:]PORT[/PROTO]");
  sub->add_flag("-P,--publish-all", f.publish_all, "publish all exposed ports");
  sub->add_option("--cidfile", f.cidfile, "write the container id to this file");
  sub->add_option("--detach-keys", f.detach_keys, "accepted; the default ctrl-p,ctrl-q applies");
}

Result<int64_t> MemoryValue(const std::optional<std::string>& v, std::string_view flag) {
  if (*v == "-1") return -1;
  return engine::ParseBytes(*v, flag);
}

Result<engine::RunConfig> BuildConfig(const RunFlags& f, const std::vector<std::string>& rest) {
  engine::RunConfig c;
  if (rest.empty()) return InvalidArgument("requires an image argument: IMAGE [COMMAND] [ARG...]");
  // With prefix_command() CLI11 hands an unknown flag before the image over as is.
  if (rest[0].size() > 1 && rest[0][0] == '-') {
    return InvalidArgument(StrCat("unknown flag: ", rest[0]));
  }
  c.image = rest[0];
  c.cmd.assign(rest.begin() + 1, rest.end());
  c.network = "bridge";
  for (size_t i = 0; i < f.networks.size(); ++i) {
    std::string n = f.networks[i].empty() || f.networks[i] == "default" ? "bridge" : f.networks[i];
    if (i == 0) {
      c.network = n;
    } else {
      c.more_networks.push_back(n);
    }
  }
  for (const auto& p : f.publish) {
    BERTH_ASSIGN_OR_RETURN(std::vector<engine::PortMapping> ports, engine::ParsePublishFlag(p));
    c.ports.insert(c.ports.end(), ports.begin(), ports.end());
  }
  c.publish_all = f.publish_all;
  c.ip = f.ip;
  c.ip6 = f.ip6;
  c.network_aliases = f.network_aliases;
  for (const auto& d : f.dns) {
    unsigned char buf[16];
    if (::inet_pton(AF_INET, d.c_str(), buf) != 1 && ::inet_pton(AF_INET6, d.c_str(), buf) != 1) {
      return InvalidArgument(StrCat("--dns ", Quote(d), ": not an IP address"));
    }
  }
  c.dns = f.dns;
  c.dns_search = f.dns_search;
  c.dns_options = f.dns_options;
  for (const auto& h : f.add_hosts) BERTH_TRY(engine::CheckAddHostFlag(h));
  c.add_hosts = f.add_hosts;
  c.pull = f.pull;
  c.name = f.name;
  c.workdir = f.workdir;
  c.user = f.user;
  c.hostname = f.hostname;
  c.interactive = f.interactive;
  c.tty = f.tty;
  c.detach = f.detach;
  c.auto_remove = f.rm;
  c.read_only = f.read_only;
  c.privileged = f.privileged;
  c.init = f.init;
  if (f.entrypoint) {
    c.entrypoint = f.entrypoint->empty() ? std::vector<std::string>{}
                                         : std::vector<std::string>{*f.entrypoint};
  }
  // docker's order: --env-file first, then -e, so -e wins.
  for (const auto& file : f.env_file) {
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> vars, engine::ParseEnvFile(file));
    c.env.insert(c.env.end(), vars.begin(), vars.end());
  }
  for (const auto& e : f.env) {
    if (auto v = engine::ExpandEnvFlag(e)) c.env.push_back(*v);
  }
  for (const auto& v : f.volumes) {
    BERTH_ASSIGN_OR_RETURN(engine::VolumeMount m, engine::ParseVolumeFlag(v));
    c.mounts.push_back(std::move(m));
  }
  for (const auto& v : f.mounts) {
    BERTH_ASSIGN_OR_RETURN(engine::VolumeMount m, engine::ParseMountFlag(v));
    c.mounts.push_back(std::move(m));
  }
  for (const auto& v : f.tmpfs) {
    BERTH_ASSIGN_OR_RETURN(engine::VolumeMount m, engine::ParseTmpfsFlag(v));
    c.mounts.push_back(std::move(m));
  }
  if (f.memory) {
    BERTH_ASSIGN_OR_RETURN(c.memory, MemoryValue(f.memory, "--memory"));
  }
  if (f.memory_swap) {
    BERTH_ASSIGN_OR_RETURN(c.memory_swap, MemoryValue(f.memory_swap, "--memory-swap"));
  }
  if (f.memory_reservation) {
    BERTH_ASSIGN_OR_RETURN(c.memory_reservation,
                           MemoryValue(f.memory_reservation, "--memory-reservation"));
  }
  if (f.cpus) {
    char* end = nullptr;
    double v = std::strtod(f.cpus->c_str(), &end);
    if (f.cpus->empty() || *end != '\0' || v < 0) {
      return InvalidArgument(StrCat("--cpus: invalid value ", Quote(*f.cpus)));
    }
    c.cpus = v;
  }
  c.cpu_shares = f.cpu_shares;
  c.cpuset_cpus = f.cpuset_cpus;
  c.cpuset_mems = f.cpuset_mems;
  c.pids_limit = f.pids_limit;
  c.oom_score_adj = f.oom_score_adj;
  c.cap_add = f.cap_add;
  for (const auto& rule : f.device_cgroup_rules) {
    BERTH_TRY(engine::ParseDeviceCgroupRule(rule));  // the flag's own error, before anything
  }
  c.device_cgroup_rules = f.device_cgroup_rules;
  c.cap_drop = f.cap_drop;
  c.security_opt = f.security_opt;
  c.group_add = f.group_add;
  for (const auto& d : f.devices) {
    BERTH_ASSIGN_OR_RETURN(engine::DeviceMapping m, engine::ParseDeviceFlag(d));
    c.devices.push_back(std::move(m));
  }
  for (const auto& u : f.ulimits) {
    BERTH_ASSIGN_OR_RETURN(engine::Ulimit m, engine::ParseUlimitFlag(u));
    c.ulimits.push_back(std::move(m));
  }
  for (const auto& s : f.sysctls) {
    size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument(StrCat("--sysctl: ", Quote(s), " is not NAME=VALUE"));
    }
    c.sysctls[s.substr(0, eq)] = s.substr(eq + 1);
  }
  for (const auto& file : f.label_files) {
    BERTH_ASSIGN_OR_RETURN(std::string text, ReadFile(file));
    for (const auto& line : Split(text, '\n')) {
      std::string_view l = Trim(line);
      if (l.empty() || l[0] == '#') continue;
      for (const auto& [k, v] : ParseKeyValues({std::string(l)})) c.labels[k] = v;
    }
  }
  for (const auto& [k, v] : ParseKeyValues(f.labels)) c.labels[k] = v;
  c.stop_signal = f.stop_signal;
  c.stop_timeout = f.stop_timeout;
  BERTH_ASSIGN_OR_RETURN(c.restart, engine::ParseRestartFlag(f.restart));
  if (f.rm && c.restart.name != "no") {
    return InvalidArgument("conflicting options: --restart and --rm");
  }
  if (f.health_cmd) c.health.test = {"CMD-SHELL", *f.health_cmd};
  if (f.health_interval) {
    BERTH_ASSIGN_OR_RETURN(c.health.interval_ns,
                           engine::ParseDurationNs(*f.health_interval, "--health-interval"));
  }
  if (f.health_timeout) {
    BERTH_ASSIGN_OR_RETURN(c.health.timeout_ns,
                           engine::ParseDurationNs(*f.health_timeout, "--health-timeout"));
  }
  if (f.health_start_period) {
    BERTH_ASSIGN_OR_RETURN(
        c.health.start_period_ns,
        engine::ParseDurationNs(*f.health_start_period, "--health-start-period"));
  }
  if (f.health_retries) {
    if (*f.health_retries < 0) return InvalidArgument("--health-retries: cannot be negative");
    c.health.retries = *f.health_retries;
  }
  c.health.disable = f.no_healthcheck;
  if (f.no_healthcheck && f.health_cmd) {
    return InvalidArgument("--no-healthcheck conflicts with --health-* options");
  }
  for (const auto& [k, v] : ParseKeyValues(f.log_opts)) {
    if (k == "max-size") {
      BERTH_ASSIGN_OR_RETURN(c.log_max_size, engine::ParseBytes(v, "--log-opt max-size"));
    } else if (k == "max-file") {
      BERTH_ASSIGN_OR_RETURN(int64_t n, ParseInt64(v, "--log-opt max-file"));
      if (n < 1) return InvalidArgument("--log-opt max-file: must be at least 1");
      c.log_max_file = static_cast<int>(n);
    } else {
      return InvalidArgument(StrCat("--log-opt: unknown log option ", Quote(k)));
    }
  }
  return c;
}

// A missing image under --pull missing gets a message that says why nothing was pulled.
Error ImageError(Error e, engine::Engine& eng, const engine::RunConfig& c) {
  if (e.code() != ErrorCode::kNotFound || c.pull != "never") return e;
  if (eng.images().Resolve(c.image)) return e;  // the image is there: something else is missing
  return Error(ErrorCode::kNotFound,
               StrCat("image ", Quote(c.image), ": not found locally, and --pull never"));
}

Status WriteCidFile(const std::string& path, const std::string& id) {
  if (path.empty()) return Ok();
  if (PathExists(path)) {
    return Fail(ErrorCode::kAlreadyExists, StrCat("--cidfile: ", Quote(path), " already exists"));
  }
  return WriteFile(path, id);
}

}  // namespace

void AddRunCommands(CLI::App* parent, bool /*in_group*/, Registry& r) {
  for (bool run : {true, false}) {
    CLI::App* sub = r.Add(parent, run ? "run" : "create",
                          run ? "create and start a container from an image"
                              : "create a container from an image without starting it");
    if (!sub) continue;
    auto f = std::make_shared<RunFlags>();
    AddRunFlags(sub, *f);
    Context& ctx = r.ctx();
    r.Push(
        sub,
        [sub, f, run, &ctx]() -> Result<int> {
          BERTH_ASSIGN_OR_RETURN(engine::RunConfig c, BuildConfig(*f, sub->remaining()));
          BERTH_ASSIGN_OR_RETURN(c.image, PullForRun(ctx, c.image, c.pull));
          BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
          if (!run) {
            auto rec = eng->Create(c);
            if (!rec) return Unexpected(ImageError(std::move(rec).error(), *eng, c));
            BERTH_TRY(WriteCidFile(f->cidfile, rec->id));
            Print(rec->id + "\n");
            return 0;
          }
          auto res = eng->Run(c);
          if (!res) return Unexpected(ImageError(std::move(res).error(), *eng, c));
          BERTH_TRY(WriteCidFile(f->cidfile, res->id));
          if (c.detach) {
            Print(res->id + "\n");
            return 0;
          }
          return res->exit_code.value_or(0);
        },
        ErrorStyle::kRun);
  }
}

}  // namespace berth::cli
