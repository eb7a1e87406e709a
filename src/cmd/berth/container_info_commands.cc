// berth CLI: commands that show containers: ps, inspect (containers, then images), logs,
// top, port, diff. `stats` lives in stats_command.cc.
#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <regex>

#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "berth/engine/logs.h"
#include "cli.h"
#include "views.h"

namespace berth::cli {

void AddStatsCommand(CLI::App* parent, Registry& r);  // stats_command.cc

namespace {

struct PsFlags {
  bool all = false, quiet = false, no_trunc = false, latest = false, size = false;
  int last = -1;
  std::string format;
  std::vector<std::string> filters;
};

// docker ps --filter, the common keys: status, name, id, label, ancestor, exited.
Result<bool> Matches(const engine::ContainerRecord& c, const Json& row,
                     const std::vector<std::string>& filters) {
  std::map<std::string, std::vector<std::string>> by_key;
  for (const auto& f : filters) {
    size_t eq = f.find('=');
    if (eq == std::string::npos)
      return InvalidArgument(
          StrCat("--filter: bad format of filter ", Quote(f), " (expected name=value)"));
    by_key[f.substr(0, eq)].push_back(f.substr(eq + 1));
  }
  // Values of one key are alternatives; different keys must all match.
  for (const auto& [key, values] : by_key) {
    bool any = false;
    for (const auto& v : values) {
      if (key == "status")
        any = any || row["State"] == v;
      else if (key == "name") {
        // A regular expression searched in the name, as docker does (which also matches it
        // against "/NAME"): `name=web` is a substring, `name=^web$` exactly web.
        std::regex re;
        try {
          re = std::regex(v, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          return InvalidArgument(StrCat("--filter: name=", v, ": not a regular expression: ", e.what()));
        }
        try {
          any = any || std::regex_search(c.name, re) || std::regex_search("/" + c.name, re);
        } catch (const std::regex_error& e) {  // too complex for std::regex
          return InvalidArgument(StrCat("--filter: name=", v, ": ", e.what()));
        }
      }
      else if (key == "id")
        any = any || c.id.starts_with(v);
      else if (key == "exited")
        any = any || (c.state == engine::State::kExited && std::to_string(c.exit_code) == v);
      else if (key == "ancestor") {
        any = any || c.image_ref == v || c.image.starts_with(v) || c.image.substr(7).starts_with(v);
      } else if (key == "label") {
        size_t eq = v.find('=');
        std::string k = v.substr(0, eq);
        auto it = c.config.labels.find(k);
        bool has = it != c.config.labels.end();
        any = any || (has && (eq == std::string::npos || it->second == v.substr(eq + 1)));
      } else {
        return InvalidArgument(StrCat("--filter: invalid filter ", Quote(key)));
      }
    }
    if (!any) return false;
  }
  return true;
}

Result<int> Ps(Context& ctx, const PsFlags& f) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  bool all = f.all || f.latest || f.last >= 0 || !f.filters.empty();
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::ContainerRecord> list, eng->List(all));
  std::sort(list.begin(), list.end(),
            [](const auto& a, const auto& b) { return TimeNs(a.created) > TimeNs(b.created); });
  int64_t now = NowUnixNano();
  size_t limit = f.latest ? 1 : f.last >= 0 ? static_cast<size_t>(f.last) : list.size();
  std::vector<Json> rows;
  for (const auto& c : list) {
    if (rows.size() >= limit) break;
    Json row = PsRow(c, f.no_trunc, now);
    BERTH_ASSIGN_OR_RETURN(bool ok, Matches(c, row, f.filters));
    if (ok) rows.push_back(std::move(row));
  }
  if (f.quiet) {
    for (const auto& r : rows) Print(r["ID"].get<std::string>() + "\n");
    return 0;
  }
  BERTH_ASSIGN_OR_RETURN(std::string out, FormatList(f.format, rows, PsFormat()));
  Print(out);
  return 0;
}

// Inspects each name as a container and (when `images`) then as an image; prints what was
// found, then the errors for the rest.
Result<int> Inspect(Context& ctx, const std::vector<std::string>& names, const std::string& format,
                    bool containers, bool images) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  std::vector<Json> objects;
  std::vector<std::string> errors;
  for (const auto& n : names) {
    if (containers) {
      auto c = eng->Get(n);
      if (c) {
        objects.push_back(eng->Inspect(*c));
        continue;
      }
      if (c.error().code() != ErrorCode::kNotFound) return Unexpected(std::move(c).error());
    }
    if (images) {
      auto img = eng->images().Resolve(n);
      if (img) {
        BERTH_ASSIGN_OR_RETURN(oci::ImageConfig cfg, eng->images().Config(*img));
        objects.push_back(ImageInspect(*img, cfg, eng->images().LayerDirs(*img)));
        continue;
      }
      if (img.error().code() != ErrorCode::kNotFound) return Unexpected(std::move(img).error());
    }
    errors.push_back(StrCat("No such ",
                            containers && images ? "object"
                            : containers         ? "container"
                                                 : "image",
                            ": ", n));
  }
  BERTH_ASSIGN_OR_RETURN(std::string out, FormatInspect(format, objects));
  Print(out);
  if (errors.empty()) return 0;
  std::fflush(stdout);
  for (const auto& e : errors) std::fprintf(stderr, "Error: %s\n", e.c_str());
  return engine::kExitEngineError;
}

struct LogsFlags {
  std::string container, since, until, tail = "all";
  bool follow = false, timestamps = false, details = false;
};

Result<int> Logs(Context& ctx, const LogsFlags& f) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  BERTH_ASSIGN_OR_RETURN(engine::ContainerRecord c, eng->Get(f.container));
  engine::LogOptions o;
  o.follow = f.follow;
  o.timestamps = f.timestamps;
  int64_t now = NowUnixNano();
  if (f.tail != "all" && !f.tail.empty()) {
    BERTH_ASSIGN_OR_RETURN(int64_t n, ParseInt64(f.tail, "--tail"));
    if (n >= 0) o.tail = n;
  }
  if (!f.since.empty()) {
    BERTH_ASSIGN_OR_RETURN(o.since_ns, engine::ParseLogTime(f.since, now));
  }
  if (!f.until.empty()) {
    BERTH_ASSIGN_OR_RETURN(o.until_ns, engine::ParseLogTime(f.until, now));
  }
  std::string id = c.id;
  auto running = [eng, id]() {
    auto cur = eng->Get(id);
    return cur && (cur->state == engine::State::kRunning || cur->state == engine::State::kPaused ||
                   cur->state == engine::State::kRestarting);
  };
  std::fflush(stdout);
  BERTH_TRY(engine::ReadLogs(eng->LogPath(c), c.config.log_max_file, o, running, 1, 2));
  return 0;
}

}  // namespace

void AddContainerInfoCommands(CLI::App* parent, bool in_group, Registry& r) {
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, in_group ? "ls,list,ps" : "ps", "list containers")) {
    auto f = std::make_shared<PsFlags>();
    sub->add_flag("-a,--all", f->all, "show all containers (default shows just running)");
    sub->add_flag("-q,--quiet", f->quiet, "only display container ids");
    sub->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
    sub->add_flag("-l,--latest", f->latest, "show the latest created container");
    sub->add_option("-n,--last", f->last, "show the n last created containers");
    sub->add_flag("-s,--size", f->size, "accepted; sizes are not computed");
    sub->add_option("--format", f->format, "table, json or a Go template");
    AddMulti(sub, "-f,--filter", f->filters,
             "filter: status=, name=, id=, label=, ancestor=, exited=");
    r.Push(sub, [f, &ctx]() { return Ps(ctx, *f); });
  }

  if (CLI::App* sub =
          r.Add(parent, "inspect",
                in_group ? "show containers in detail" : "show containers or images in detail")) {
    struct InspectFlags {
      std::vector<std::string> names;
      std::string format, type;
      bool size = false;
    };
    auto f = std::make_shared<InspectFlags>();
    sub->add_option("names", f->names, "containers or images")->required();
    sub->add_option("-f,--format", f->format, "json or a Go template");
    sub->add_flag("-s,--size", f->size, "accepted; sizes are not computed");
    if (!in_group) {
      sub->add_option("--type", f->type, "container or image")
          ->check(CLI::IsMember({"container", "image"}));
    }
    r.Push(sub, [f, in_group, &ctx]() {
      bool containers = in_group || f->type != "image";
      bool images = !in_group && f->type != "container";
      return Inspect(ctx, f->names, f->format, containers, images);
    });
  }

  if (CLI::App* sub = r.Add(parent, "logs", "print a container's logs")) {
    auto f = std::make_shared<LogsFlags>();
    sub->add_option("container", f->container, "container name or id")->required();
    sub->add_flag("-f,--follow", f->follow, "follow the log output");
    sub->add_option("-n,--tail", f->tail, "lines from the end (default all)");
    sub->add_option("--since", f->since, "since a timestamp or a duration before now (10m)");
    sub->add_option("--until", f->until, "until a timestamp or a duration before now");
    sub->add_flag("-t,--timestamps", f->timestamps, "show timestamps");
    sub->add_flag("--details", f->details, "accepted; there are no extra attributes");
    r.Push(sub, [f, &ctx]() { return Logs(ctx, *f); });
  }

  if (CLI::App* sub = r.Add(parent, "top", "show the processes of a container")) {
    auto name = std::make_shared<std::string>();
    sub->add_option("container", *name, "container name or id")->required();
    sub->allow_extras();  // docker passes ps options; berth prints its fixed columns
    r.Push(sub, [name, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(auto rows, eng->Top(*name));
      std::vector<std::string> lines;
      for (const auto& row : rows) lines.push_back(Join(row, "\t"));
      Print(TabWrite(lines));
      return 0;
    });
  }

  AddPortCommand(parent, r);

  if (CLI::App* sub = r.Add(parent, "diff", "show changed files of a container's filesystem")) {
    auto name = std::make_shared<std::string>();
    sub->add_option("container", *name, "container name or id")->required();
    r.Push(sub, [name, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(auto changes, eng->Diff(*name));
      std::string out;
      for (const auto& [kind, path] : changes) out += StrCat(kind, ' ', path, '\n');
      Print(out);
      return 0;
    });
  }

  AddStatsCommand(parent, r);
}

}  // namespace berth::cli
