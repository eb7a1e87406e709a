// berth-runtime: state, list, ps, events, spec, features.
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/cgroup/manager.h"
#include "berth/oci/default_spec.h"
#include "berth/oci/go_json.h"
#include "berth/runtime/capabilities.h"
#include "berth/runtime/mount_options.h"
#include "berth/runtime/seccomp.h"
#include "berth/sys/process.h"
#include "cli.h"

namespace berth::cli {

namespace {

// Go's text/tabwriter as runc configures it (minwidth 12, padding 3): every column but the
// last is padded to max(12, widest cell + 3).
std::string Table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> w;
  for (const auto& r : rows) {
    if (w.size() < r.size()) w.resize(r.size(), 0);
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size() + 3);
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      if (i + 1 < r.size()) out.append(std::max<size_t>(w[i], 12) - r[i].size(), ' ');
    }
    out += "\n";
  }
  return out;
}

std::string OwnerOf(const std::string& dir) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return "";
  if (struct passwd* pw = ::getpwuid(st.st_uid)) return pw->pw_name;
  return StrCat("#", st.st_uid);
}

Json FeaturesJson() {
  OrderedJson j;
  j["ociVersionMin"] = "1.0.0";
  j["ociVersionMax"] = std::string(oci::kSpecVersion);
  j["hooks"] = {"prestart", "createRuntime", "createContainer", "startContainer", "poststart",
                "poststop"};
  j["mountOptions"] = runtime::KnownMountOptions();
  OrderedJson linux_features;
  linux_features["namespaces"] = {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"};
  linux_features["capabilities"] = runtime::AllCapabilityNames();
  auto layout = cgroup::DetectLayout();
  linux_features["cgroup"] = layout ? OrderedJson(cgroup::FeaturesJson(*layout)) : OrderedJson::object();
  auto sf = runtime::GetSeccompFeatures();
  OrderedJson seccomp;
  seccomp["enabled"] = true;
  seccomp["actions"] = sf.actions;
  seccomp["operators"] = sf.operators;
  seccomp["archs"] = sf.archs;
  seccomp["knownFlags"] = sf.known_flags;
  seccomp["supportedFlags"] = sf.supported_flags;
  linux_features["seccomp"] = seccomp;
  linux_features["apparmor"] = {{"enabled", ::access("/sys/kernel/security/apparmor", F_OK) == 0}};
  linux_features["selinux"] = {{"enabled", ::access("/sys/fs/selinux/enforce", F_OK) == 0}};
  linux_features["intelRdt"] = {{"enabled", false}};
  linux_features["mountExtensions"] = {{"idmap", {{"enabled", false}}}};
  j["linux"] = linux_features;
  j["annotations"] = {{"io.github.berth.runtime.version", BERTH_VERSION}};
  return Json::parse(j.dump());
}

}  // namespace

void AddInfoCommands(CLI::App& app, const Globals& g, std::vector<Command>& out,
                   std::string_view only) {
  if (Wanted(only, "state")) {
    auto id = std::make_shared<std::string>();
    CLI::App* sub = app.add_subcommand("state", "print a container's state as JSON");
    sub->add_option("id", *id, "container id")->required();
    out.push_back({sub, [&g, id]() -> Result<int> {
                     BERTH_ASSIGN_OR_RETURN(runtime::ContainerInfo info, runtime::Inspect(g.Options(), *id));
                     std::puts(oci::StateToText(runtime::StateOf(info)).c_str());
                     return 0;
                   }});
  }
  if (Wanted(only, "list")) {
    struct ListFlags {
      std::string format = "table";
      bool quiet = false;
    };
    auto f = std::make_shared<ListFlags>();
    CLI::App* sub = app.add_subcommand("list", "list containers");
    sub->alias("ls");
    sub->add_option("-f,--format", f->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    sub->add_flag("-q,--quiet", f->quiet, "print only ids");
    out.push_back({sub, [&g, f]() -> Result<int> {
                     BERTH_ASSIGN_OR_RETURN(auto all, runtime::ListContainers(g.Options()));
                     if (f->quiet) {
                       for (const auto& c : all) std::printf("%s\n", c.record.id.c_str());
                       return 0;
                     }
                     if (f->format == "json") {
                       if (all.empty()) {  // runc prints Go's nil slice
                         std::printf("null\n");
                         return 0;
                       }
                       OrderedJson arr = OrderedJson::array();
                       for (const auto& c : all) {
                         oci::State st = runtime::StateOf(c);
                         st.owner = OwnerOf(runtime::ContainerDir(g.root, c.record.id));
                         arr.push_back(oci::StateToJson(st));
                       }
                       std::printf("%s\n", oci::GoJsonMarshal(arr).c_str());
                       return 0;
                     }
                     std::vector<std::vector<std::string>> rows = {
                         {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
                     for (const auto& c : all) {
                       oci::State st = runtime::StateOf(c);
                       rows.push_back({st.id, StrCat(st.pid), st.status, st.bundle, st.created,
                                       OwnerOf(runtime::ContainerDir(g.root, c.record.id))});
                     }
                     std::fputs(Table(rows).c_str(), stdout);
                     return 0;
                   }});
  }
  if (Wanted(only, "ps")) {
    struct PsFlags {
      std::string id, format = "table";
      std::vector<std::string> ps_args;
    };
    auto f = std::make_shared<PsFlags>();
    CLI::App* sub = app.add_subcommand("ps", "list the processes of a container");
    sub->add_option("-f,--format", f->format, "table or json")->check(CLI::IsMember({"table", "json"}));
    sub->add_option("id", f->id, "container id")->required();
    sub->add_option("ps-args", f->ps_args, "arguments for ps(1) (default -ef)");
    sub->positionals_at_end(false);
    out.push_back({sub, [&g, f]() -> Result<int> {
                     BERTH_ASSIGN_OR_RETURN(auto pids, runtime::Pids(g.Options(), f->id));
                     if (f->format == "json") {
                       std::printf("%s\n", Json(pids).dump().c_str());
                       return 0;
                     }
                     // Like runc: run ps(1) and keep the lines whose PID is the container's.
                     int out_fd = ::memfd_create("ps-output", MFD_CLOEXEC);
                     if (out_fd < 0) return ErrnoFail("memfd_create");
                     UniqueFd out_guard(out_fd);
                     sys::SpawnOptions so;
                     so.path = "/bin/ps";
                     so.args = {"ps"};
                     if (f->ps_args.empty()) so.args.push_back("-ef");
                     for (auto& a : f->ps_args) so.args.push_back(a);
                     so.env = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};
                     so.stdout_fd = out_fd;
                     BERTH_ASSIGN_OR_RETURN(sys::ChildProcess child, sys::Spawn(so));
                     BERTH_ASSIGN_OR_RETURN(int st, child.Wait());
                     if (sys::ExitCodeFromWaitStatus(st) != 0) {
                       return Fail(ErrorCode::kInternal, "ps failed");
                     }
                     ::lseek(out_fd, 0, SEEK_SET);
                     BERTH_ASSIGN_OR_RETURN(std::string text, ReadFd(out_fd, "ps output"));
                     auto lines = Split(text, '\n');
                     if (lines.empty()) return 0;
                     auto header = SplitNonEmpty(lines[0], ' ');
                     auto col = std::find(header.begin(), header.end(), "PID");
                     if (col == header.end()) return InvalidArgument("ps output has no PID column");
                     size_t idx = static_cast<size_t>(col - header.begin());
                     std::printf("%s\n", lines[0].c_str());
                     for (size_t i = 1; i < lines.size(); ++i) {
                       auto fields = SplitNonEmpty(lines[i], ' ');
                       if (fields.size() <= idx) continue;
                       auto pid = ParseInt64(fields[idx], "pid");
                       if (pid && std::find(pids.begin(), pids.end(), *pid) != pids.end()) {
                         std::printf("%s\n", lines[i].c_str());
                       }
                     }
                     return 0;
                   }});
  }
  if (Wanted(only, "events")) {
    struct EventsFlags {
      std::string id, interval = "5s";
      bool stats = false;
    };
    auto f = std::make_shared<EventsFlags>();
    CLI::App* sub = app.add_subcommand("events", "print stats and OOM events of a container");
    sub->add_option("id", f->id, "container id")->required();
    sub->add_option("--interval", f->interval, "stats interval")->capture_default_str();
    sub->add_flag("--stats", f->stats, "print stats once and exit");
    out.push_back({sub, [&g, f]() -> Result<int> {
                     if (f->stats) {
                       BERTH_ASSIGN_OR_RETURN(cgroup::Stats s, runtime::Stats(g.Options(), f->id));
                       OrderedJson ev;
                       ev["type"] = "stats";
                       ev["id"] = f->id;
                       ev["data"] = cgroup::StatsToJson(s);
                       std::printf("%s\n", ev.dump().c_str());
                       return 0;
                     }
                     BERTH_ASSIGN_OR_RETURN(auto interval, ParseDuration(f->interval, "--interval"));
                     BERTH_TRY(runtime::Events(g.Options(), f->id, interval, [](const Json& ev) {
                       std::printf("%s\n", ev.dump().c_str());
                       std::fflush(stdout);
                       return true;
                     }));
                     return 0;
                   }});
  }
  if (Wanted(only, "spec")) {
    struct SpecFlags {
      std::string bundle = ".";
      bool rootless = false;
    };
    auto f = std::make_shared<SpecFlags>();
    CLI::App* sub = app.add_subcommand("spec", "write a starter config.json");
    sub->add_option("-b,--bundle", f->bundle, "where to write config.json");
    sub->add_flag("--rootless", f->rootless, "a config for an unprivileged user");
    out.push_back({sub, [f]() -> Result<int> {
                     std::string path = f->bundle + "/config.json";
                     if (PathExists(path)) {
                       return Fail(ErrorCode::kAlreadyExists,
                                   StrCat("file ", Quote(path), " exists: remove it first"));
                     }
                     BERTH_TRY(WriteFile(path, oci::DefaultSpecText(f->rootless), 0666));
                     return 0;
                   }});
  }
  if (Wanted(only, "features")) {
    CLI::App* sub = app.add_subcommand("features", "print what this runtime supports, as JSON");
    out.push_back({sub, []() -> Result<int> {
                     std::printf("%s\n", FeaturesJson().dump(4).c_str());
                     return 0;
                   }});
  }
}

}  // namespace berth::cli
