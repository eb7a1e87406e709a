// berth CLI: info, version, `system df`, `system prune`.
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <memory>
#include <set>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/oci/spec.h"
#include "berth/build/builder.h"
#include "cli.h"
#include "template.h"
#include "views.h"

namespace berth::cli {
namespace {

int CgroupVersion() {
  struct statfs s;
  // cgroup2 mounted at /sys/fs/cgroup is the unified (v2) layout; anything else is v1.
  if (statfs("/sys/fs/cgroup", &s) == 0 && s.f_type == CGROUP2_SUPER_MAGIC) return 2;
  return 1;
}

std::string OsName() {
  auto text = ReadFile("/etc/os-release");
  if (!text) return "Linux";
  for (const auto& line : Split(*text, '\n')) {
    if (line.starts_with("PRETTY_NAME=")) {
      std::string v = line.substr(12);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "Linux";
}

Result<Json> InfoJson(engine::Engine& eng, const Globals& g) {
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::ContainerRecord> all, eng.List(true));
  BERTH_ASSIGN_OR_RETURN(std::vector<image::ImageRecord> images, eng.images().List());
  int running = 0, paused = 0, stopped = 0;
  for (const auto& c : all) {
    if (c.state == engine::State::kPaused)
      ++paused;
    else if (c.state == engine::State::kRunning || c.state == engine::State::kRestarting)
      ++running;
    else
      ++stopped;
  }
  struct utsname u;
  uname(&u);
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  Json j;
  j["Containers"] = all.size();
  j["ContainersRunning"] = running;
  j["ContainersPaused"] = paused;
  j["ContainersStopped"] = stopped;
  j["Images"] = images.size();
  j["Driver"] = "overlay";
  j["LoggingDriver"] = "k8s-file";
  j["CgroupDriver"] = "cgroupfs";
  j["CgroupVersion"] = std::to_string(CgroupVersion());
  j["KernelVersion"] = u.release;
  j["OperatingSystem"] = OsName();
  j["OSType"] = "linux";
  j["Architecture"] = u.machine;
  j["NCPU"] = sysconf(_SC_NPROCESSORS_ONLN);
  j["MemTotal"] = static_cast<int64_t>(pages) * page;
  j["Name"] = host;
  j["ServerVersion"] = BERTH_VERSION;
  j["DockerRootDir"] = g.root;
  j["RunRoot"] = g.runroot;
  j["DefaultRuntime"] = "berth (in-process)";
  return j;
}

std::string InfoText(const Json& j) {
  auto s = [&](const char* k) { return GoValueString(j[k]); };
  return StrCat(
      "Client: berth\n Version:    ", BERTH_VERSION, "\n\nServer: (no daemon)\n",
      " Containers: ", s("Containers"), "\n  Running: ", s("ContainersRunning"),
      "\n  Paused: ", s("ContainersPaused"), "\n  Stopped: ", s("ContainersStopped"),
      "\n Images: ", s("Images"), "\n Server Version: ", s("ServerVersion"),
      "\n Storage Driver: ", s("Driver"), "\n Logging Driver: ", s("LoggingDriver"),
      "\n Cgroup Driver: ", s("CgroupDriver"), "\n Cgroup Version: ", s("CgroupVersion"),
      "\n Default Runtime: ", s("DefaultRuntime"), "\n Kernel Version: ", s("KernelVersion"),
      "\n Operating System: ", s("OperatingSystem"), "\n OSType: ", s("OSType"),
      "\n Architecture: ", s("Architecture"), "\n CPUs: ", s("NCPU"),
      "\n Total Memory: ", BytesSize(j["MemTotal"].get<double>()), "\n Name: ", s("Name"),
      "\n Berth Root Dir: ", s("DockerRootDir"), "\n Berth Run Dir: ", s("RunRoot"), "\n");
}

std::string Reclaimable(int64_t reclaimable, int64_t total) {
  std::string out = HumanSize(static_cast<double>(reclaimable));
  if (total > 0) out += StrCat(" (", reclaimable * 100 / total, "%)");
  return out;
}

Result<int> SystemDf(Context& ctx, const std::string& format) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::ContainerRecord> all, eng->List(true));
  BERTH_ASSIGN_OR_RETURN(std::vector<image::ImageRecord> images, eng->images().List());
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::Engine::Volume> volumes, eng->ListVolumes());
  std::set<std::string> used_images, used_volumes;
  int64_t ctr_size = 0, ctr_reclaim = 0;
  int running = 0;
  for (const auto& c : all) {
    used_images.insert(c.image);
    for (const auto& m : c.config.mounts) {
      if (m.kind == engine::VolumeMount::Kind::kVolume) used_volumes.insert(m.source);
    }
    int64_t size = DirSize(eng->ContainerDir(c.id) + "/snapshot/upper");
    ctr_size += size;
    bool up = c.state == engine::State::kRunning || c.state == engine::State::kPaused ||
              c.state == engine::State::kRestarting;
    if (up)
      ++running;
    else
      ctr_reclaim += size;
  }
  int64_t img_size = 0, img_reclaim = 0;
  int active_images = 0;
  for (const auto& i : images) {
    img_size += i.size;
    if (used_images.count(i.id))
      ++active_images;
    else
      img_reclaim += i.size;
  }
  int64_t vol_size = 0, vol_reclaim = 0;
  int active_volumes = 0;
  for (const auto& v : volumes) {
    int64_t size = DirSize(v.mountpoint);
    vol_size += size;
    if (used_volumes.count(v.name))
      ++active_volumes;
    else
      vol_reclaim += size;
  }
  auto row = [](const char* type, size_t total, int active, int64_t size, const std::string& rec) {
    return Json{{"Type", type},
                {"TotalCount", std::to_string(total)},
                {"Active", std::to_string(active)},
                {"Size", HumanSize(static_cast<double>(size))},
                {"Reclaimable", rec}};
  };
  std::vector<Json> rows = {
      row("Images", images.size(), active_images, img_size, Reclaimable(img_reclaim, img_size)),
      row("Containers", all.size(), running, ctr_size, Reclaimable(ctr_reclaim, ctr_size)),
      row("Local Volumes", volumes.size(), active_volumes, vol_size,
          Reclaimable(vol_reclaim, vol_size)),
      row("Build Cache", 0, 0, 0, "0B")};
  ListFormat lf{"table {{.Type}}\\t{{.TotalCount}}\\t{{.Active}}\\t{{.Size}}\\t{{.Reclaimable}}",
                Json{{"Type", "TYPE"},
                     {"TotalCount", "TOTAL"},
                     {"Active", "ACTIVE"},
                     {"Size", "SIZE"},
                     {"Reclaimable", "RECLAIMABLE"}}};
  BERTH_ASSIGN_OR_RETURN(std::string out, FormatList(format, rows, lf));
  Print(out);
  return 0;
}

struct PruneFlags {
  bool all = false, force = false, volumes = false;
};

Result<int> SystemPrune(Context& ctx, const PruneFlags& f) {
  if (!f.force) {
    std::string warning =
        StrCat("WARNING! This will remove:\n  - all stopped containers\n",
               f.volumes ? "  - all volumes not used by at least one container\n" : "",
               f.all ? "  - all images without at least one container associated to them"
                     : "  - all dangling images",
               "\n  - all build cache");
    if (!Confirm(warning)) return 0;
  }
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  std::string out;
  int64_t freed = 0;
  BERTH_ASSIGN_OR_RETURN(std::vector<engine::ContainerRecord> all, eng->List(true));
  std::map<std::string, int64_t> sizes;
  for (const auto& c : all) sizes[c.id] = DirSize(eng->ContainerDir(c.id) + "/snapshot/upper");
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> containers, eng->PruneContainers());
  if (!containers.empty()) {
    out += "Deleted Containers:\n";
    for (const auto& id : containers) {
      out += id + "\n";
      freed += sizes[id];
    }
    out += "\n";
  }
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> networks, eng->PruneNetworks());
  if (!networks.empty()) out += "Deleted Networks:\n" + Join(networks, "\n") + "\n\n";
  if (f.volumes) {
    BERTH_ASSIGN_OR_RETURN(std::vector<engine::Engine::Volume> vols, eng->ListVolumes());
    std::map<std::string, int64_t> vsizes;
    for (const auto& v : vols) vsizes[v.name] = DirSize(v.mountpoint);
    BERTH_ASSIGN_OR_RETURN(std::vector<std::string> removed, eng->PruneVolumes());
    if (!removed.empty()) {
      out += "Deleted Volumes:\n";
      for (const auto& n : removed) {
        out += n + "\n";
        freed += vsizes[n];
      }
      out += "\n";
    }
  }
  // As docker's: the build cache goes too (its layers are freed by the image GC below).
  BERTH_ASSIGN_OR_RETURN(int64_t cache_entries, eng->images().CachePrune());
  BERTH_TRY(RemoveAll(build::CacheMountsDir(eng->options().root)));
  if (cache_entries > 0) {
    out += StrCat("Deleted build cache entries: ", cache_entries, "\n\n");
    BERTH_ASSIGN_OR_RETURN(auto gc, eng->images().GarbageCollect());
    freed += gc.bytes_freed;
  }
  BERTH_ASSIGN_OR_RETURN(int64_t img_freed, PruneImages(*eng, f.all, out));
  freed += img_freed;
  Print(out + "Total reclaimed space: " + HumanSize(static_cast<double>(freed)) + "\n");
  return 0;
}

}  // namespace

void AddSystemCommands(CLI::App* parent, bool in_group, Registry& r) {
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, "info", "show system-wide information")) {
    auto format = std::make_shared<std::string>();
    sub->add_option("-f,--format", *format, "json or a Go template");
    r.Push(sub, [format, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(Json j, InfoJson(*eng, ctx.g));
      if (format->empty()) {
        Print(InfoText(j));
        return 0;
      }
      std::string f = UnescapeFormat(*format);
      if (f == "json") f = "{{json .}}";
      BERTH_ASSIGN_OR_RETURN(std::string out, FormatInspect(f, {j}));
      Print(out);
      return 0;
    });
  }
  if (!in_group) {
    if (CLI::App* sub = r.Add(parent, "version", "show the berth version")) {
      auto format = std::make_shared<std::string>();
      sub->add_option("-f,--format", *format, "json or a Go template");
      r.Push(sub, [format]() -> Result<int> {
        struct utsname u;
        uname(&u);
        std::string arch = std::string_view(u.machine) == "x86_64"    ? "amd64"
                           : std::string_view(u.machine) == "aarch64" ? "arm64"
                                                                      : u.machine;
        Json j = {{"Client", {{"Version", BERTH_VERSION}, {"Os", "linux"}, {"Arch", arch}}},
                  {"Server",
                   {{"Version", BERTH_VERSION},
                    {"OciSpecVersion", std::string(oci::kSpecVersion)},
                    {"KernelVersion", u.release}}}};
        if (format->empty()) {
          Print(StrCat(
              "Client:\n Version:           ", BERTH_VERSION, "\n OS/Arch:           linux/", arch,
              "\n\nServer: berth (no daemon: the engine runs in each command)\n",
              " Version:           ", BERTH_VERSION, "\n OCI spec:          ", oci::kSpecVersion,
              "\n Kernel Version:    ", u.release, "\n"));
          return 0;
        }
        std::string f = UnescapeFormat(*format);
        if (f == "json") f = "{{json .}}";
        BERTH_ASSIGN_OR_RETURN(std::string out, FormatInspect(f, {j}));
        Print(out);
        return 0;
      });
    }
    return;
  }
  if (CLI::App* sub = r.Add(parent, "df", "show disk usage")) {
    auto format = std::make_shared<std::string>();
    sub->add_option("--format", *format, "table, json or a Go template");
    AddIgnoredFlag(sub, "-v,--verbose", "accepted");
    r.Push(sub, [format, &ctx]() { return SystemDf(ctx, *format); });
  }
  if (CLI::App* sub = r.Add(parent, "prune", "remove stopped containers and unused images")) {
    auto f = std::make_shared<PruneFlags>();
    sub->add_flag("-a,--all", f->all, "remove all unused images, not just dangling ones");
    sub->add_flag("-f,--force", f->force, "do not prompt for confirmation");
    sub->add_flag("--volumes", f->volumes, "prune volumes too");
    r.Push(sub, [f, &ctx]() { return SystemPrune(ctx, *f); });
  }
}

}  // namespace berth::cli
