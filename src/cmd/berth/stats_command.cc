// berth CLI: `stats`, from the cgroup counters. CPU % is the container's CPU time over wall
// time between two samples (docker's cpuDelta/systemDelta*CPUs comes to the same thing);
// memory usage leaves out the inactive file cache, as docker does.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include "berth/base/strings.h"
#include "berth/base/time.h"
#include "cli.h"
#include "views.h"

namespace berth::cli {
namespace {

const ListFormat& StatsFormat() {
  static const ListFormat f{
      "table {{.ID}}\\t{{.Name}}\\t{{.CPUPerc}}\\t{{.MemUsage}}\\t{{.MemPerc}}\\t{{.NetIO}}\\t{{."
      "BlockIO}}\\t{{.PIDs}}",
      Json{{"ID", "CONTAINER ID"},
           {"Container", "CONTAINER"},
           {"Name", "NAME"},
           {"CPUPerc", "CPU %"},
           {"MemUsage", "MEM USAGE / LIMIT"},
           {"MemPerc", "MEM %"},
           {"NetIO", "NET I/O"},
           {"BlockIO", "BLOCK I/O"},
           {"PIDs", "PIDS"}}};
  return f;
}

struct StatsFlags {
  std::vector<std::string> names;
  bool all = false, no_stream = false, no_trunc = false;
  std::string format;
};

struct Sample {
  engine::ContainerRecord rec;
  std::optional<cgroup::Stats> stats;
  int64_t at_ns = 0;
};

uint64_t HostMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
}

Json StatsRow(const std::string& given, const Sample& prev, const Sample& cur, bool no_trunc) {
  Json row;
  row["Container"] = given;
  row["ID"] = no_trunc ? cur.rec.id : TruncateId(cur.rec.id);
  row["Name"] = cur.rec.name;
  if (!cur.stats) {
    row["CPUPerc"] = "--";
    row["MemUsage"] = "-- / --";
    row["MemPerc"] = "--";
    row["NetIO"] = "--";
    row["BlockIO"] = "--";
    row["PIDs"] = "--";
    return row;
  }
  const cgroup::Stats& s = *cur.stats;
  double cpu = 0;
  if (prev.stats && cur.at_ns > prev.at_ns && s.cpu.total_ns >= prev.stats->cpu.total_ns) {
    cpu = 100.0 * static_cast<double>(s.cpu.total_ns - prev.stats->cpu.total_ns) /
          static_cast<double>(cur.at_ns - prev.at_ns);
  }
  uint64_t usage = s.memory.usage.usage;
  for (const char* key : {"total_inactive_file", "inactive_file"}) {
    auto it = s.memory.raw.find(key);
    if (it != s.memory.raw.end() && it->second < usage) {
      usage -= it->second;
      break;
    }
  }
  uint64_t host = HostMemory();
  uint64_t limit = s.memory.usage.limit;
  if (limit == 0 || (host && limit > host)) limit = host;
  uint64_t read = 0, write = 0;
  for (const auto& e : s.blkio.io_service_bytes_recursive) {
    if (e.op == "Read" || e.op == "read") read += e.value;
    if (e.op == "Write" || e.op == "write") write += e.value;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", cpu);
  row["CPUPerc"] = buf;
  row["MemUsage"] =
      BytesSize(static_cast<double>(usage)) + " / " + BytesSize(static_cast<double>(limit));
  std::snprintf(buf, sizeof buf, "%.2f%%",
                limit ? 100.0 * static_cast<double>(usage) / static_cast<double>(limit) : 0.0);
  row["MemPerc"] = buf;
  row["NetIO"] = "0B / 0B";  // no network namespace of its own has counters to show yet
  row["BlockIO"] =
      HumanSize(static_cast<double>(read)) + " / " + HumanSize(static_cast<double>(write));
  row["PIDs"] = std::to_string(s.pids.current);
  return row;
}

// The containers to show: the names given, or every running one (every one with -a).
Result<std::vector<std::pair<std::string, Sample>>> TakeSamples(engine::Engine& eng,
                                                                const StatsFlags& f) {
  std::vector<std::pair<std::string, Sample>> out;
  std::vector<std::string> names = f.names;
  if (names.empty()) {
    BERTH_ASSIGN_OR_RETURN(auto list, eng.List(f.all));
    for (const auto& c : list) names.push_back(c.id);
  }
  for (const auto& n : names) {
    Sample s;
    BERTH_ASSIGN_OR_RETURN(s.rec, eng.Get(n));
    if (s.rec.state == engine::State::kRunning || s.rec.state == engine::State::kPaused) {
      auto st = eng.Stats(n);
      if (st) s.stats = std::move(*st);
    }
    s.at_ns = NowUnixNano();
    out.emplace_back(n, std::move(s));
  }
  return out;
}

volatile sig_atomic_t g_stop = 0;

Result<int> Stats(Context& ctx, const StatsFlags& f) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  BERTH_ASSIGN_OR_RETURN(auto prev, TakeSamples(*eng, f));
  // --no-stream takes its second sample sooner: one line, half a second of CPU history.
  auto interval = f.no_stream ? std::chrono::milliseconds(500) : std::chrono::milliseconds(1000);
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  bool tty = isatty(STDOUT_FILENO);
  while (!g_stop) {
    std::this_thread::sleep_for(interval);
    if (g_stop) break;
    BERTH_ASSIGN_OR_RETURN(auto cur, TakeSamples(*eng, f));
    std::vector<Json> rows;
    for (const auto& [name, s] : cur) {
      Sample none;
      const Sample* p = &none;
      for (const auto& [pn, ps] : prev) {
        if (ps.rec.id == s.rec.id) p = &ps;
      }
      rows.push_back(StatsRow(name, *p, s, f.no_trunc));
    }
    BERTH_ASSIGN_OR_RETURN(std::string out, FormatList(f.format, rows, StatsFormat()));
    // Live: clear the screen and redraw, as docker does on a terminal.
    if (!f.no_stream && tty) out = "\033[2J\033[H" + out;
    Print(out);
    std::fflush(stdout);
    if (f.no_stream) break;
    prev = std::move(cur);
  }
  return 0;
}

}  // namespace

void AddStatsCommand(CLI::App* parent, Registry& r) {
  CLI::App* sub = r.Add(parent, "stats", "live resource usage of containers");
  if (!sub) return;
  auto f = std::make_shared<StatsFlags>();
  sub->add_option("containers", f->names, "container names or ids (default: all running)");
  sub->add_flag("-a,--all", f->all, "show all containers (default shows just running)");
  sub->add_flag("--no-stream", f->no_stream, "print one sample and exit");
  sub->add_flag("--no-trunc", f->no_trunc, "do not truncate output");
  sub->add_option("--format", f->format, "table, json or a Go template");
  Context& ctx = r.ctx();
  r.Push(sub, [f, &ctx]() { return Stats(ctx, *f); });
}

}  // namespace berth::cli
