// Opening the engine, finding containers and telling the truth about them.
#include "berth/engine/engine.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/engine/container_store.h"
#include "berth/engine/network_store.h"
#include "berth/engine/monitor_launch.h"
#include "berth/engine/spec_gen.h"
#include "berth/image/snapshot.h"
#include "berth/sys/process.h"

namespace berth::engine {

std::string_view StateName(State s) {
  switch (s) {
    case State::kCreated: return "created";
    case State::kRunning: return "running";
    case State::kPaused: return "paused";
    case State::kRestarting: return "restarting";
    case State::kExited: return "exited";
    case State::kRemoving: return "removing";
    case State::kDead: return "dead";
  }
  return "unknown";
}

Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  std::unique_ptr<Engine> e(new Engine());
  e->options_ = options;
  if (e->options_.berth_binary.empty()) {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) e->options_.berth_binary.assign(buf, static_cast<size_t>(n));
  }
  BERTH_TRY_CTX(MkdirAll(options.root, 0700), StrCat("root ", Quote(options.root)));
  BERTH_TRY_CTX(MkdirAll(options.runroot + "/containers", 0700),
                StrCat("runroot ", Quote(options.runroot)));
  BERTH_ASSIGN_OR_RETURN(image::ImageStore store,
                         image::ImageStore::Open(options.root, StrCat(ContainerStore::Schema(),
                                                                        NetworkStore::Schema())));
  e->images_ = std::make_unique<image::ImageStore>(std::move(store));
  log::Trace("engine: open");
  e->containers_ = std::make_unique<ContainerStore>(e->images_->db());
  e->networks_ = std::make_unique<NetworkStore>(e->images_->db());
  if (e->options_.nft_helper.empty() && !e->options_.berth_binary.empty()) {
    auto slash = e->options_.berth_binary.rfind('/');
    e->options_.nft_helper = e->options_.berth_binary.substr(0, slash + 1) + "berth-nft";
  }
  return e;
}

runtime::GlobalOptions Engine::RuntimeOptions() const {
  runtime::GlobalOptions g;
  g.root = options_.runroot + "/runtime";
  return g;
}

std::string Engine::ContainerDir(const std::string& id) const {
  return StrCat(options_.root, "/containers/", id);
}
std::string Engine::RunDir(const std::string& id) const {
  return StrCat(options_.runroot, "/containers/", id);
}
std::string Engine::LogPath(const ContainerRecord& c) const {
  return ContainerDir(c.id) + "/ctr.log";
}

bool Engine::MonitorAlive(const ContainerRecord& c) const {
  if (c.monitor_pid <= 0) return false;
  auto start = sys::ProcessStartTime(c.monitor_pid);
  if (!start || *start != c.monitor_start) return false;
  auto st = sys::ProcessStateChar(c.monitor_pid);
  return st && *st != 'Z' && *st != 'X';
}

Result<ContainerRecord> Engine::Reconcile(ContainerRecord c) {
  bool active = c.state == State::kRunning || c.state == State::kPaused ||
                c.state == State::kRestarting || c.state == State::kRemoving;
  if (!active) {
    // A network namespace of a container that does not run: a start killed between its
    // network setup and its record (kill -9), whose links and rules would stay up.
    if (c.state != State::kCreated && PathExists(NetnsPath(c.id))) (void)TearDownNetworks(c);
    return c;
  }
  if (MonitorAlive(c)) {
    // Paused is the kernel's fact (freezer), not the record's.
    if (c.state == State::kRunning || c.state == State::kPaused) {
      if (auto info = runtime::Inspect(RuntimeOptions(), c.id); info.has_value()) {
        if (info->status == runtime::ContainerStatus::kPaused) c.state = State::kPaused;
        if (info->status == runtime::ContainerStatus::kRunning) c.state = State::kRunning;
      }
    }
    return c;
  }
  // The monitor is gone (killed) before it recorded the exit: finish its work here.
  log::Debug(StrCat("container ", c.id, ": monitor ", c.monitor_pid, " is gone; cleaning up"));
  (void)runtime::Kill(RuntimeOptions(), c.id, SIGKILL, true);
  auto exit_info = ReadExitFile(RunDir(c.id));
  bool oom = false;
  if (auto kills = runtime::OomKills(RuntimeOptions(), c.id); kills.has_value()) oom = *kills > 0;
  BERTH_TRY(Teardown(c));
  BERTH_ASSIGN_OR_RETURN(
      c, containers_->Update(c.id, [&](ContainerRecord& r) -> Status {
        if (r.state == State::kExited || r.state == State::kCreated) return Ok();
        r.state = State::kExited;
        r.pid = 0;
        r.monitor_pid = 0;
        r.finished_at = NowRfc3339();
        r.oom_killed = oom;
        if (exit_info.has_value() && exit_info->has_value()) {
          r.exit_code = (*exit_info)->exit_code;
          if (!(*exit_info)->finished_at.empty()) r.finished_at = (*exit_info)->finished_at;
        } else {
          r.exit_code = 137;
          r.error = "the container's monitor exited unexpectedly";
        }
        return Ok();
      }));
  if (c.config.auto_remove) {
    BERTH_TRY(Destroy(c, true));
    return Fail(ErrorCode::kNotFound, StrCat("no such container: ", c.id));
  }
  return c;
}

Result<ContainerRecord> Engine::Get(const std::string& name_or_id) {
  BERTH_ASSIGN_OR_RETURN(ContainerRecord c, containers_->Find(name_or_id));
  return Reconcile(std::move(c));
}

Result<std::vector<ContainerRecord>> Engine::List(bool all) {
  BERTH_ASSIGN_OR_RETURN(std::vector<ContainerRecord> raw, containers_->All());
  std::vector<ContainerRecord> out;
  for (auto& c : raw) {
    auto r = Reconcile(std::move(c));
    if (!r) {
      if (r.error().code() == ErrorCode::kNotFound) continue;
      return Unexpected(r.error());
    }
    if (!all && r->state != State::kRunning && r->state != State::kPaused &&
        r->state != State::kRestarting) {
      continue;
    }
    out.push_back(std::move(*r));
  }
  // Newest first, as docker lists them.
  std::sort(out.begin(), out.end(),
            [](const ContainerRecord& a, const ContainerRecord& b) { return a.created > b.created; });
  return out;
}

Json Engine::Inspect(const ContainerRecord& c) {
  Json j;
  j["Id"] = c.id;
  j["Created"] = c.created;
  auto args = EffectiveArgs(c.image_config, c.config);
  std::vector<std::string> argv = args ? *args : std::vector<std::string>{};
  j["Path"] = argv.empty() ? "" : argv[0];
  j["Args"] = argv.size() > 1 ? std::vector<std::string>(argv.begin() + 1, argv.end())
                              : std::vector<std::string>{};
  Json state;
  state["Status"] = StateName(c.state);
  state["Running"] = c.state == State::kRunning || c.state == State::kPaused;
  state["Paused"] = c.state == State::kPaused;
  state["Restarting"] = c.state == State::kRestarting;
  state["OOMKilled"] = c.oom_killed;
  state["Dead"] = c.state == State::kDead;
  state["Pid"] = state["Running"].get<bool>() ? c.pid : 0;
  state["ExitCode"] = c.exit_code;
  state["Error"] = c.error;
  state["StartedAt"] = c.started_at.empty() ? "0001-01-01T00:00:00Z" : c.started_at;
  state["FinishedAt"] = c.finished_at.empty() ? "0001-01-01T00:00:00Z" : c.finished_at;
  if (!c.health.status.empty()) {
    state["Health"] = {{"Status", c.health.status},
                       {"FailingStreak", c.health.failing_streak},
                       {"Log", c.health.log}};
  }
  j["State"] = state;
  j["Image"] = c.image;
  j["Name"] = "/" + c.name;
  j["RestartCount"] = c.restart_count;
  j["Driver"] = "overlay";
  j["Platform"] = "linux";
  j["LogPath"] = LogPath(c);
  j["ResolvConfPath"] = ContainerDir(c.id) + "/resolv.conf";
  j["HostnamePath"] = ContainerDir(c.id) + "/hostname";
  j["HostsPath"] = ContainerDir(c.id) + "/hosts";
  const RunConfig& rc = c.config;
  Json host;
  host["NetworkMode"] = rc.network;
  host["AutoRemove"] = rc.auto_remove;
  host["Privileged"] = rc.privileged;
  host["ReadonlyRootfs"] = rc.read_only;
  host["Init"] = rc.init;
  host["CapAdd"] = rc.cap_add;
  host["CapDrop"] = rc.cap_drop;
  host["SecurityOpt"] = rc.security_opt;
  host["DeviceCgroupRules"] = rc.device_cgroup_rules;
  host["Memory"] = rc.memory.value_or(0);
  host["MemorySwap"] = rc.memory_swap.value_or(0);
  host["MemoryReservation"] = rc.memory_reservation.value_or(0);
  host["NanoCpus"] = static_cast<int64_t>(rc.cpus.value_or(0) * 1e9);
  host["CpuShares"] = rc.cpu_shares.value_or(0);
  host["CpusetCpus"] = rc.cpuset_cpus;
  host["CpusetMems"] = rc.cpuset_mems;
  host["PidsLimit"] = rc.pids_limit.value_or(0);
  host["RestartPolicy"] = {{"Name", rc.restart.name}, {"MaximumRetryCount", rc.restart.max_retries}};
  host["Sysctls"] = rc.sysctls;
  Json ulimits = Json::array();
  for (auto& u : rc.ulimits) ulimits.push_back({{"Name", u.name}, {"Soft", u.soft}, {"Hard", u.hard}});
  host["Ulimits"] = ulimits;
  host["LogConfig"] = {{"Type", "k8s-file"},
                       {"Config", {{"max-size", std::to_string(rc.log_max_size)},
                                   {"max-file", std::to_string(rc.log_max_file)}}}};
  Json bindings = Json::object();
  for (const auto& p : c.ports) {
    bindings[StrCat(p.container_port, "/", p.protocol)].push_back(
        {{"HostIp", p.host_ip}, {"HostPort", std::to_string(p.host_port)}});
  }
  host["PortBindings"] = bindings;
  host["Dns"] = rc.dns;
  host["DnsSearch"] = rc.dns_search;
  host["DnsOptions"] = rc.dns_options;
  host["ExtraHosts"] = rc.add_hosts;
  j["HostConfig"] = host;
  Json nets = Json::object();
  for (const auto& a : c.networks) {
    nets[a.network] = {{"NetworkID", a.network_id},       {"IPAddress", a.ip},
                       {"IPPrefixLen", a.prefix_len},     {"Gateway", a.gateway},
                       {"GlobalIPv6Address", a.ip6},      {"GlobalIPv6PrefixLen", a.prefix6_len},
                       {"IPv6Gateway", a.gateway6},       {"MacAddress", a.mac},
                       {"Aliases", a.aliases}};
  }
  Json settings;
  settings["Networks"] = nets;
  settings["Ports"] = bindings;
  const NetworkAttachment* primary = c.networks.empty() ? nullptr : &c.networks.front();
  settings["IPAddress"] = primary ? primary->ip : "";
  settings["IPPrefixLen"] = primary ? primary->prefix_len : 0;
  settings["Gateway"] = primary ? primary->gateway : "";
  settings["MacAddress"] = primary ? primary->mac : "";
  settings["SandboxKey"] = primary ? NetnsPath(c.id) : "";
  j["NetworkSettings"] = settings;
  Json mounts = Json::array();
  for (auto& m : rc.mounts) {
    Json mj;
    mj["Type"] = m.kind == VolumeMount::Kind::kBind    ? "bind"
                 : m.kind == VolumeMount::Kind::kVolume ? "volume"
                                                        : "tmpfs";
    if (m.kind == VolumeMount::Kind::kVolume) {
      mj["Name"] = m.source;
      mj["Source"] = StrCat(options_.root, "/volumes/", m.source, "/_data");
    } else {
      mj["Source"] = m.source;
    }
    mj["Destination"] = m.target;
    mj["RW"] = !m.readonly;
    mounts.push_back(mj);
  }
  j["Mounts"] = mounts;
  Json cfg;
  cfg["Hostname"] = rc.hostname.empty() ? c.id.substr(0, 12) : rc.hostname;
  cfg["User"] = rc.user.empty() ? c.image_config.user : rc.user;
  cfg["Tty"] = rc.tty;
  cfg["OpenStdin"] = rc.interactive;
  std::vector<std::string> env = c.image_config.env;
  for (auto& e : rc.env) env.push_back(e);
  cfg["Env"] = env;
  cfg["Cmd"] = rc.cmd.empty() ? (c.image_config.cmd ? Json(*c.image_config.cmd) : Json(nullptr)) : Json(rc.cmd);
  cfg["Entrypoint"] = rc.entrypoint ? Json(*rc.entrypoint)
                      : c.image_config.entrypoint ? Json(*c.image_config.entrypoint)
                                                  : Json(nullptr);
  cfg["Image"] = c.image_ref;
  cfg["WorkingDir"] = rc.workdir.empty() ? c.image_config.working_dir : rc.workdir;
  std::map<std::string, std::string> labels = c.image_config.labels;
  for (auto& [k, v] : rc.labels) labels[k] = v;
  cfg["Labels"] = labels;
  cfg["StopSignal"] = rc.stop_signal.empty() ? (c.image_config.stop_signal.empty() ? "SIGTERM" : c.image_config.stop_signal) : rc.stop_signal;
  cfg["StopTimeout"] = rc.stop_timeout.value_or(10);
  j["Config"] = cfg;
  std::string dir = ContainerDir(c.id) + "/snapshot";
  std::vector<std::string> lowers;
  for (auto it = c.chain_ids.rbegin(); it != c.chain_ids.rend(); ++it) {
    lowers.push_back(images_->LayerDir(*it));
  }
  j["GraphDriver"] = {{"Name", "overlay"},
                      {"Data", {{"MergedDir", dir + "/merged"},
                                {"UpperDir", dir + "/upper"},
                                {"WorkDir", dir + "/work"},
                                {"LowerDir", Join(lowers, ":")}}}};
  return j;
}

}  // namespace berth::engine
