// berth CLI: `volume create/ls/inspect/rm/prune`, as docker prints them.
#include <map>
#include <memory>
#include <set>

#include "berth/base/strings.h"
#include "cli.h"
#include "views.h"

namespace berth::cli {
namespace {

Result<bool> VolumeMatches(const engine::Engine::Volume& v, const std::set<std::string>& used,
                           const std::vector<std::string>& filters) {
  for (const auto& f : filters) {
    size_t eq = f.find('=');
    std::string key = f.substr(0, eq), value = eq == std::string::npos ? "" : f.substr(eq + 1);
    if (key == "dangling") {
      if ((value == "true" || value == "1") != (used.count(v.name) == 0)) return false;
    } else if (key == "name") {
      if (v.name.find(value) == std::string::npos) return false;
    } else if (key == "label") {
      size_t leq = value.find('=');
      auto it = v.labels.find(value.substr(0, leq));
      if (it == v.labels.end()) return false;
      if (leq != std::string::npos && it->second != value.substr(leq + 1)) return false;
    } else if (key == "driver") {
      if (value != "local") return false;
    } else {
      return InvalidArgument(StrCat("--filter: invalid filter ", Quote(key)));
    }
  }
  return true;
}

// Volumes that some container (any state) mounts.
Result<std::set<std::string>> UsedVolumes(engine::Engine& eng) {
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::ContainerRecord> all, eng.List(true));
  std::set<std::string> used;
  for (const auto& c : all) {
    for (const auto& m : c.config.mounts) {
      if (m.kind == engine::VolumeMount::Kind::kVolume) used.insert(m.source);
    }
  }
  return used;
}

}  // namespace

void AddVolumeCommands(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, "create", "create a volume")) {
    struct CreateFlags {
      std::string name, driver = "local";
      std::vector<std::string> labels, opts;
    };
    auto f = std::make_shared<CreateFlags>();
    sub->add_option("name", f->name, "volume name (default: a random id)");
    AddMulti(sub, "--label", f->labels, "set a label KEY=VALUE");
    sub->add_option("-d,--driver", f->driver, "volume driver (only local)")->capture_default_str();
    AddMulti(sub, "-o,--opt", f->opts, "driver options (not supported)");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      if (f->driver != "local") {
        return Fail(ErrorCode::kUnsupported,
                    StrCat("volume driver ", Quote(f->driver), " is not supported"));
      }
      if (!f->opts.empty())
        return Fail(ErrorCode::kUnsupported, "volume driver options are not supported");
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(engine::Engine::Volume v,
                             eng->CreateVolume(f->name, ParseKeyValues(f->labels)));
      Print(v.name + "\n");
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "ls,list", "list volumes")) {
    struct LsFlags {
      bool quiet = false;
      std::string format;
      std::vector<std::string> filters;
    };
    auto f = std::make_shared<LsFlags>();
    sub->add_flag("-q,--quiet", f->quiet, "only display volume names");
    sub->add_option("--format", f->format, "table, json or a Go template");
    AddMulti(sub, "-f,--filter", f->filters, "filter: dangling=, name=, label=, driver=");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(std::vector<engine::Engine::Volume> list, eng->ListVolumes());
      std::set<std::string> used;
      if (!f->filters.empty()) {
        BERTH_ASSIGN_OR_RETURN(used, UsedVolumes(*eng));
      }
      std::vector<Json> rows;
      for (const auto& v : list) {
        BERTH_ASSIGN_OR_RETURN(bool ok, VolumeMatches(v, used, f->filters));
        if (!ok) continue;
        if (f->quiet) {
          Print(v.name + "\n");
          continue;
        }
        Json row = VolumeJson(v);
        row["Labels"] = LabelsString(row["Labels"]);
        row["Size"] = "N/A";
        row["Links"] = "N/A";
        rows.push_back(std::move(row));
      }
      if (f->quiet) return 0;
      BERTH_ASSIGN_OR_RETURN(std::string out, FormatList(f->format, rows, VolumeFormat()));
      Print(out);
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "inspect", "show volumes in detail")) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto format = std::make_shared<std::string>();
    sub->add_option("volumes", *names, "volume names")->required();
    sub->add_option("-f,--format", *format, "json or a Go template");
    r.Push(sub, [names, format, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      std::vector<Json> objects;
      std::string errors;
      for (const auto& n : *names) {
        auto v = eng->GetVolume(n);
        if (!v) {
          errors += "Error: " + v.error().message() + "\n";
          continue;
        }
        objects.push_back(VolumeJson(*v));
      }
      BERTH_ASSIGN_OR_RETURN(std::string out, FormatInspect(*format, objects));
      Print(out);
      std::fflush(stdout);
      std::fputs(errors.c_str(), stderr);
      return errors.empty() ? 0 : engine::kExitEngineError;
    });
  }

  if (CLI::App* sub = r.Add(parent, "rm,remove", "remove volumes")) {
    auto names = std::make_shared<std::vector<std::string>>();
    auto force = std::make_shared<bool>(false);
    sub->add_option("volumes", *names, "volume names")->required();
    sub->add_flag("-f,--force", *force, "remove even if containers use it");
    r.Push(sub, [names, force, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      int rc = 0;
      for (const auto& n : *names) {
        Status s = eng->RemoveVolume(n, *force);
        if (!s) {
          std::fflush(stdout);
          std::fprintf(stderr, "Error: %s\n", s.error().message().c_str());
          rc = engine::kExitEngineError;
        } else {
          Print(n + "\n");
        }
      }
      return rc;
    });
  }

  if (CLI::App* sub = r.Add(parent, "prune", "remove volumes no container uses")) {
    auto fl = std::make_shared<std::pair<bool, bool>>(false, false);
    sub->add_flag("-f,--force", fl->first, "do not prompt for confirmation");
    sub->add_flag("-a,--all", fl->second, "accepted (named volumes are pruned too)");
    r.Push(sub, [fl, &ctx]() -> Result<int> {
      if (!fl->first &&
          !Confirm(
              "WARNING! This will remove all local volumes not used by at least one container.")) {
        return 0;
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(std::vector<engine::Engine::Volume> before, eng->ListVolumes());
      std::map<std::string, int64_t> sizes;
      for (const auto& v : before) sizes[v.name] = DirSize(v.mountpoint);
      BERTH_ASSIGN_OR_RETURN(std::vector<std::string> removed, eng->PruneVolumes());
      std::string out;
      int64_t freed = 0;
      if (!removed.empty()) {
        out += "Deleted Volumes:\n";
        for (const auto& n : removed) {
          out += n + "\n";
          freed += sizes[n];
        }
        out += "\n";
      }
      Print(out + "Total reclaimed space: " + HumanSize(static_cast<double>(freed)) + "\n");
      return 0;
    });
  }
}

}  // namespace berth::cli
