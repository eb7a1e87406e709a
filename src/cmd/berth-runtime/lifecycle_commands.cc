// berth-runtime: create, start, run, kill, delete, pause, resume, update.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/sys/signals.h"
#include "cli.h"

namespace berth::cli {

namespace {

struct CreateFlags {
  std::string id;
  runtime::CreateOptions o;
};

void AddCreateFlags(CLI::App* sub, CreateFlags& f) {
  sub->add_option("id", f.id, "container id")->required();
  sub->add_option("-b,--bundle", f.o.bundle, "path to the bundle directory")->capture_default_str();
  sub->add_option("--console-socket", f.o.console_socket,
                  "unix socket that receives the pty master when process.terminal is true");
  sub->add_option("--pid-file", f.o.pid_file, "file to write the init's pid to");
  sub->add_flag("--no-pivot", f.o.no_pivot, "use MS_MOVE + chroot instead of pivot_root");
  sub->add_flag("--no-new-keyring", f.o.no_new_keyring, "keep the caller's session keyring");
  sub->add_option("--preserve-fds", f.o.preserve_fds,
                  "number of fds after stdio to pass to the container");
}

// runc update's flags, each optional; -r FILE gives a whole resources object.
struct UpdateFlags {
  std::string id;
  std::string resources_file;
  std::optional<std::string> blkio_weight, cpu_period, cpu_quota, cpu_share, cpu_rt_period,
      cpu_rt_runtime, cpuset_cpus, cpuset_mems, kernel_memory, kernel_memory_tcp, memory,
      memory_reservation, memory_swap, pids_limit, l3_cache_schema, mem_bw_schema;
};

Result<int64_t> MemoryValue(const std::string& s, std::string_view flag) {
  if (s == "-1") return -1;
  BERTH_ASSIGN_OR_RETURN(uint64_t v, ParseBytes(s, flag));
  return static_cast<int64_t>(v);
}

Result<oci::Resources> UpdateResources(const UpdateFlags& f) {
  oci::Resources r;
  if (!f.resources_file.empty()) {
    std::string text;
    if (f.resources_file == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      BERTH_ASSIGN_OR_RETURN(text, ReadFile(f.resources_file));
    }
    BERTH_ASSIGN_OR_RETURN(Json j, ParseJson(text, f.resources_file == "-" ? "stdin" : f.resources_file));
    BERTH_ASSIGN_OR_RETURN(r, oci::ResourcesFromJson(j, "resources"));
  }
  auto num = [](const std::string& s, std::string_view flag) { return ParseInt64(s, flag); };
  if (f.kernel_memory) {
    return Fail(ErrorCode::kUnsupported, "--kernel-memory: kernel memory limits are not supported");
  }
  if (f.l3_cache_schema || f.mem_bw_schema) {
    return Fail(ErrorCode::kUnsupported, "--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported");
  }
  if (f.memory || f.memory_reservation || f.memory_swap || f.kernel_memory_tcp) {
    if (!r.memory) r.memory.emplace();
    if (f.memory) {
      BERTH_ASSIGN_OR_RETURN(r.memory->limit, MemoryValue(*f.memory, "--memory"));
    }
    if (f.memory_reservation) {
      BERTH_ASSIGN_OR_RETURN(r.memory->reservation,
                             MemoryValue(*f.memory_reservation, "--memory-reservation"));
    }
    if (f.memory_swap) {
      BERTH_ASSIGN_OR_RETURN(r.memory->swap, MemoryValue(*f.memory_swap, "--memory-swap"));
    }
    if (f.kernel_memory_tcp) {
      BERTH_ASSIGN_OR_RETURN(r.memory->kernel_tcp,
                             MemoryValue(*f.kernel_memory_tcp, "--kernel-memory-tcp"));
    }
  }
  if (f.cpu_period || f.cpu_quota || f.cpu_share || f.cpu_rt_period || f.cpu_rt_runtime ||
      f.cpuset_cpus || f.cpuset_mems) {
    if (!r.cpu) r.cpu.emplace();
    if (f.cpu_period) {
      BERTH_ASSIGN_OR_RETURN(int64_t v, num(*f.cpu_period, "--cpu-period"));
      r.cpu->period = static_cast<uint64_t>(v);
    }
    if (f.cpu_quota) {
      BERTH_ASSIGN_OR_RETURN(r.cpu->quota, num(*f.cpu_quota, "--cpu-quota"));
    }
    if (f.cpu_share) {
      BERTH_ASSIGN_OR_RETURN(int64_t v, num(*f.cpu_share, "--cpu-share"));
      r.cpu->shares = static_cast<uint64_t>(v);
    }
    if (f.cpu_rt_period) {
      BERTH_ASSIGN_OR_RETURN(int64_t v, num(*f.cpu_rt_period, "--cpu-rt-period"));
      r.cpu->realtime_period = static_cast<uint64_t>(v);
    }
    if (f.cpu_rt_runtime) {
      BERTH_ASSIGN_OR_RETURN(r.cpu->realtime_runtime, num(*f.cpu_rt_runtime, "--cpu-rt-runtime"));
    }
    if (f.cpuset_cpus) r.cpu->cpus = *f.cpuset_cpus;
    if (f.cpuset_mems) r.cpu->mems = *f.cpuset_mems;
  }
  if (f.pids_limit) {
    BERTH_ASSIGN_OR_RETURN(int64_t v, num(*f.pids_limit, "--pids-limit"));
    r.pids = oci::PidsResources{v};
  }
  if (f.blkio_weight) {
    BERTH_ASSIGN_OR_RETURN(int64_t v, num(*f.blkio_weight, "--blkio-weight"));
    if (v < 0 || v > 1000) return InvalidArgument("--blkio-weight: must be between 10 and 1000");
    if (!r.block_io) r.block_io.emplace();
    r.block_io->weight = static_cast<uint16_t>(v);
  }
  return r;
}

}  // namespace

void AddLifecycleCommands(CLI::App& app, const Globals& g, std::vector<Command>& out,
                   std::string_view only) {
  if (Wanted(only, "create")) {
    auto f = std::make_shared<CreateFlags>();
    CLI::App* sub = app.add_subcommand("create", "create a container");
    AddCreateFlags(sub, *f);
    out.push_back({sub, [&g, f]() -> Result<int> {
                     f->o.id = f->id;
                     BERTH_TRY(runtime::Create(g.Options(), f->o));
                     return 0;
                   }});
  }
  if (Wanted(only, "start")) {
    auto id = std::make_shared<std::string>();
    CLI::App* sub = app.add_subcommand("start", "start a created container");
    sub->add_option("id", *id, "container id")->required();
    out.push_back({sub, [&g, id]() -> Result<int> {
                     BERTH_TRY(runtime::Start(g.Options(), *id));
                     return 0;
                   }});
  }
  if (Wanted(only, "run")) {
    struct RunFlags {
      CreateFlags c;
      bool detach = false, keep = false, no_subreaper = false;
    };
    auto f = std::make_shared<RunFlags>();
    CLI::App* sub = app.add_subcommand("run", "create and start a container");
    AddCreateFlags(sub, f->c);
    sub->add_flag("-d,--detach", f->detach, "detach from the container's process");
    sub->add_flag("--keep", f->keep, "keep the container's state after it exits");
    sub->add_flag("--no-subreaper", f->no_subreaper, "accepted for compatibility");
    out.push_back({sub, [&g, f]() -> Result<int> {
                     runtime::RunOptions o;
                     o.create = f->c.o;
                     o.create.id = f->c.id;
                     o.detach = f->detach;
                     o.keep = f->keep;
                     return runtime::Run(g.Options(), o);
                   }});
  }
  if (Wanted(only, "kill")) {
    struct KillFlags {
      std::string id, signal = "SIGTERM";
      bool all = false;
    };
    auto f = std::make_shared<KillFlags>();
    CLI::App* sub = app.add_subcommand("kill", "send a signal to a container's init (or all)");
    sub->add_option("id", f->id, "container id")->required();
    sub->add_option("signal", f->signal, "signal name or number (default SIGTERM)");
    sub->add_flag("-a,--all", f->all, "signal every process of the container");
    out.push_back({sub, [&g, f]() -> Result<int> {
                     BERTH_ASSIGN_OR_RETURN(int sig, sys::ParseSignal(f->signal));
                     BERTH_TRY(runtime::Kill(g.Options(), f->id, sig, f->all));
                     return 0;
                   }});
  }
  if (Wanted(only, "delete")) {
    struct DeleteFlags {
      std::string id;
      bool force = false;
    };
    auto f = std::make_shared<DeleteFlags>();
    CLI::App* sub = app.add_subcommand("delete", "delete a container");
    sub->add_option("id", f->id, "container id")->required();
    sub->add_flag("-f,--force", f->force, "kill a running container first");
    out.push_back({sub, [&g, f]() -> Result<int> {
                     BERTH_TRY(runtime::Delete(g.Options(), f->id, f->force));
                     return 0;
                   }});
  }
  for (const char* name : {"pause", "resume"}) {
    if (!Wanted(only, name)) continue;
    auto id = std::make_shared<std::string>();
    bool pause = std::string(name) == "pause";
    CLI::App* sub = app.add_subcommand(name, pause ? "freeze every process of a container"
                                                   : "thaw a paused container");
    sub->add_option("id", *id, "container id")->required();
    out.push_back({sub, [&g, id, pause]() -> Result<int> {
                     if (pause) {
                       BERTH_TRY(runtime::Pause(g.Options(), *id));
                     } else {
                       BERTH_TRY(runtime::Resume(g.Options(), *id));
                     }
                     return 0;
                   }});
  }
  if (Wanted(only, "update")) {
    auto f = std::make_shared<UpdateFlags>();
    CLI::App* sub = app.add_subcommand("update", "change a running container's resources");
    sub->add_option("id", f->id, "container id")->required();
    sub->add_option("-r,--resources", f->resources_file, "JSON resources file, - for stdin");
    sub->add_option("--blkio-weight", f->blkio_weight);
    sub->add_option("--cpu-period", f->cpu_period);
    sub->add_option("--cpu-quota", f->cpu_quota);
    sub->add_option("--cpu-share", f->cpu_share);
    sub->add_option("--cpu-rt-period", f->cpu_rt_period);
    sub->add_option("--cpu-rt-runtime", f->cpu_rt_runtime);
    sub->add_option("--cpuset-cpus", f->cpuset_cpus);
    sub->add_option("--cpuset-mems", f->cpuset_mems);
    sub->add_option("--kernel-memory", f->kernel_memory);
    sub->add_option("--kernel-memory-tcp", f->kernel_memory_tcp);
    sub->add_option("-m,--memory", f->memory);
    sub->add_option("--memory-reservation", f->memory_reservation);
    sub->add_option("--memory-swap", f->memory_swap);
    sub->add_option("--pids-limit", f->pids_limit);
    sub->add_option("--l3-cache-schema", f->l3_cache_schema);
    sub->add_option("--mem-bw-schema", f->mem_bw_schema);
    out.push_back({sub, [&g, f]() -> Result<int> {
                     BERTH_ASSIGN_OR_RETURN(oci::Resources r, UpdateResources(*f));
                     BERTH_TRY(runtime::Update(g.Options(), f->id, r));
                     return 0;
                   }});
  }
  for (const char* name : {"checkpoint", "restore"}) {
    if (!Wanted(only, name)) continue;
    CLI::App* sub = app.add_subcommand(name, "not supported");
    sub->allow_extras();
    std::string n = name;
    out.push_back({sub, [n]() -> Result<int> {
                     return Fail(ErrorCode::kUnsupported, StrCat(n, ": checkpoint/restore is not supported"));
                   }});
  }
}

Result<uint64_t> ParseBytes(const std::string& s, std::string_view flag) {
  // Like docker's RAMInBytes: a number with an optional binary unit (b, k, m, g, t, p; "kb"...).
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return InvalidArgument(StrCat(flag, ": invalid size ", Quote(s)));
  double v = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = s.substr(i);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.size() == 2 && unit[1] == 'b') unit.pop_back();
  if (unit.size() == 3 && unit.substr(1) == "ib") unit = unit.substr(0, 1);
  double mult = 1;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k") mult = 1024.0;
  else if (unit == "m") mult = 1024.0 * 1024;
  else if (unit == "g") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t") mult = 1024.0 * 1024 * 1024 * 1024;
  else if (unit == "p") mult = 1024.0 * 1024 * 1024 * 1024 * 1024;
  else return InvalidArgument(StrCat(flag, ": invalid size unit in ", Quote(s)));
  return static_cast<uint64_t>(v * mult);
}

Result<std::chrono::milliseconds> ParseDuration(const std::string& s, std::string_view flag) {
  // Go duration syntax for the common units: "5s", "100ms", "1m", "1.5s".
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  if (i == 0) return InvalidArgument(StrCat(flag, ": invalid duration ", Quote(s)));
  double v = std::strtod(s.substr(0, i).c_str(), nullptr);
  std::string unit = s.substr(i);
  double ms;
  if (unit == "ms") ms = v;
  else if (unit == "s" || unit.empty()) ms = v * 1000;
  else if (unit == "m") ms = v * 60000;
  else if (unit == "h") ms = v * 3600000;
  else return InvalidArgument(StrCat(flag, ": invalid duration unit in ", Quote(s)));
  if (ms < 1) return InvalidArgument(StrCat(flag, ": duration must be positive"));
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace berth::cli
