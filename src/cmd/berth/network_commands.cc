// berth CLI: `network create/ls/inspect/rm/prune/connect/disconnect` and `port`, as docker
// prints them.
#include <map>
#include <memory>

#include "berth/base/strings.h"
#include "cli.h"
#include "views.h"

namespace berth::cli {
namespace {

const ListFormat& NetworkFormat() {
  static const ListFormat f{"table {{.ID}}\\t{{.Name}}\\t{{.Driver}}\\t{{.Scope}}",
                            Json{{"ID", "NETWORK ID"},
                                 {"Name", "NAME"},
                                 {"Driver", "DRIVER"},
                                 {"Scope", "SCOPE"},
                                 {"Subnet", "SUBNET"},
                                 {"Internal", "INTERNAL"},
                                 {"IPv6", "IPV6"},
                                 {"Labels", "LABELS"},
                                 {"CreatedAt", "CREATED AT"}}};
  return f;
}

Result<bool> NetworkMatches(const engine::NetworkRecord& n, const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    size_t eq = f.find('=');
    std::string key = f.substr(0, eq), value = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (key == "name") {
      if (n.name.find(value) == std::string::npos) return false;
    } else if (key == "id") {
      if (!n.id.starts_with(value)) return false;
    } else if (key == "driver") {
      if (n.driver != value) return false;
    } else if (key == "label") {
      size_t leq = value.find('=');
      auto it = n.labels.find(value.substr(0, leq));
      if (it == n.labels.end()) return false;
      if (leq != std::string::npos && it->second != value.substr(leq + 1)) return false;
    } else if (key == "type") {
      bool builtin = n.name == engine::kDefaultNetwork;
      if ((value == "builtin") != builtin) return false;
    } else {
      return InvalidArgument(StrCat("--filter: invalid filter ", Quote(key)));
    }
  }
  return true;
}

void PrintErrorLine(const Error& e) {
  std::fflush(stdout);
  std::fprintf(stderr, "Error: %s\n", e.message().c_str());
}

}  // namespace

void AddNetworkCommands(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, "create", "create a network")) {
    struct Flags {
      engine::NetworkCreateOptions o;
      std::vector<std::string> labels, opts;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("name", f->o.name, "network name")->required();
    sub->add_option("-d,--driver", f->o.driver, "network driver (bridge)")->capture_default_str();
    AddMulti(sub, "--subnet", f->o.subnets, "subnet in CIDR form (10.1.0.0/24)");
    AddMulti(sub, "--gateway", f->o.gateways, "gateway of the subnet (default: its first address)");
    AddMulti(sub, "--ip-range", f->o.ip_ranges, "allocate container addresses from this range");
    sub->add_flag("--internal", f->o.internal, "no traffic in or out of the network");
    sub->add_flag("--ipv6", f->o.ipv6, "add an IPv6 subnet");
    AddMulti(sub, "--label", f->labels, "set a label KEY=VALUE");
    AddMulti(sub, "-o,--opt", f->opts, "driver option: mtu=N, com.docker.network.bridge.name=NAME");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      f->o.labels = ParseKeyValues(f->labels);
      for (const auto& o : f->opts) {
        size_t eq = o.find('=');
        if (eq == std::string::npos) return InvalidArgument(StrCat("-o ", Quote(o), ": expected KEY=VALUE"));
        f->o.options[o.substr(0, eq)] = o.substr(eq + 1);
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(engine::NetworkRecord n, eng->CreateNetwork(f->o));
      Print(n.id + "\n");
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "ls,list", "list networks")) {
    struct Flags {
      bool quiet = false, no_trunc = false;
      std::string format;
      std::vector<std::string> filters;
    };
    auto f = std::make_shared<Flags>();
    sub->add_flag("-q,--quiet", f->quiet, "only display network ids");
    sub->add_flag("--no-trunc", f->no_trunc, "do not truncate ids");
    sub->add_option("--format", f->format, "table, json or a Go template");
    AddMulti(sub, "-f,--filter", f->filters, "filter: name=, id=, driver=, label=, type=");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(std::vector<engine::NetworkRecord> list, eng->ListNetworks());
      std::vector<Json> rows;
      for (const auto& n : list) {
        BERTH_ASSIGN_OR_RETURN(bool ok, NetworkMatches(n, f->filters));
        if (!ok) continue;
        std::string id = f->no_trunc ? n.id : n.id.substr(0, 12);
        if (f->quiet) {
          Print(id + "\n");
          continue;
        }
        std::vector<std::string> subnets;
        for (const auto& s : n.subnets) subnets.push_back(s.subnet.ToString());
        std::vector<std::string> labels;
        for (const auto& [k, v] : n.labels) labels.push_back(StrCat(k, "=", v));
        rows.push_back({{"ID", id},
                        {"Name", n.name},
                        {"Driver", n.driver},
                        {"Scope", "local"},
                        {"Subnet", Join(subnets, ",")},
                        {"Internal", n.internal ? "true" : "false"},
                        {"IPv6", n.ipv6 ? "true" : "false"},
                        {"Labels", Join(labels, ",")},
                        {"CreatedAt", n.created}});
      }
      if (f->quiet) return 0;
      BERTH_ASSIGN_OR_RETURN(std::string out, FormatList(f->format, rows, NetworkFormat()));
      Print(out);
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "inspect", "show networks in detail")) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>();
    sub->add_option("networks", *names, "network names or ids")->required();
    sub->add_option("-f,--format", *format, "json or a Go template");
    r.Push(sub, [names, format, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      std::vector<Json> objects;
      std::string errors;
      for (const auto& n : *names) {
        auto rec = eng->GetNetwork(n);
        if (!rec) {
          errors += "Error: " + rec.error().message() + "\n";
          continue;
        }
        objects.push_back(eng->InspectNetwork(*rec));
      }
      BERTH_ASSIGN_OR_RETURN(std::string out, FormatInspect(*format, objects));
      Print(out);
      std::fflush(stdout);
      std::fputs(errors.c_str(), stderr);
      return errors.empty() ? 0 : engine::kExitEngineError;
    });
  }

  if (CLI::App* sub = r.Add(parent, "rm,remove", "remove networks")) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    sub->add_option("networks", *names, "network names or ids")->required();
    sub->add_flag("-f,--force", *force, "disconnect its containers first");
    r.Push(sub, [names, force, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      int rc = 0;
      for (const auto& n : *names) {
        if (Status s = eng->RemoveNetwork(n, *force); !s) {
          PrintErrorLine(s.error());
          rc = engine::kExitEngineError;
        } else {
          Print(n + "\n");
        }
      }
      return rc;
    });
  }

  if (CLI::App* sub = r.Add(parent, "prune", "remove networks no container uses")) {
    auto force = std::make_shared<bool>(false);
    sub->add_flag("-f,--force", *force, "do not prompt for confirmation");
    r.Push(sub, [force, &ctx]() -> Result<int> {
      if (!*force && !Confirm("WARNING! This will remove all custom networks not used by at least one container.")) {
        return 0;
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(std::vector<std::string> removed, eng->PruneNetworks());
      if (!removed.empty()) Print("Deleted Networks:\n" + Join(removed, "\n") + "\n");
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "connect", "connect a container to a network")) {
    struct Flags {
      std::string network, container;
      engine::Engine::ConnectOptions o;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("network", f->network, "network")->required();
    sub->add_option("container", f->container, "container")->required();
    sub->add_option("--ip", f->o.ip, "IPv4 address");
    sub->add_option("--ip6", f->o.ip6, "IPv6 address");
    AddMulti(sub, "--alias", f->o.aliases, "another name on the network");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_TRY(eng->ConnectNetwork(f->network, f->container, f->o));
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "disconnect", "disconnect a container from a network")) {
    struct Flags {
      std::string network, container;
      bool force = false;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("network", f->network, "network")->required();
    sub->add_option("container", f->container, "container")->required();
    sub->add_flag("-f,--force", f->force, "no error if it is not connected");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_TRY(eng->DisconnectNetwork(f->network, f->container, f->force));
      return 0;
    });
  }
}

void AddPortCommand(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, "port", "list a container's published ports")) {
    struct Flags {
      std::string container, port;
    };
    auto f = std::make_shared<Flags>();
    sub->add_option("container", f->container, "container")->required();
    sub->add_option("port", f->port, "PORT[/PROTO]: only this container port");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(engine::ContainerRecord c, eng->Get(f->container));
      std::string want_port = f->port, want_proto = "tcp";
      if (auto slash = want_port.find('/'); slash != std::string::npos) {
        want_proto = want_port.substr(slash + 1);
        want_port = want_port.substr(0, slash);
      }
      std::string out;
      for (const auto& p : c.ports) {
        std::string host = p.host_ip.empty() ? "0.0.0.0" : p.host_ip;
        if (host.find(':') != std::string::npos) host = StrCat("[", host, "]");
        if (!want_port.empty()) {
          if (std::to_string(p.container_port) != want_port || p.protocol != want_proto) continue;
          out += StrCat(host, ":", p.host_port, "\n");
        } else {
          out += StrCat(p.container_port, "/", p.protocol, " -> ", host, ":", p.host_port, "\n");
        }
      }
      if (!want_port.empty() && out.empty()) {
        return Fail(ErrorCode::kNotFound,
                    StrCat("no public port '", f->port, "' published for ", c.name));
      }
      Print(out);
      return 0;
    });
  }
}

}  // namespace berth::cli
