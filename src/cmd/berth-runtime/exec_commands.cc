// berth-runtime: exec.
#include <memory>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "cli.h"

namespace berth::cli {

namespace {

struct ExecFlags {
  std::string id;
  std::vector<std::string> command;
  std::string console_socket, pid_file, process_file, cwd, user, apparmor, process_label, cgroup;
  std::vector<std::string> env, caps, additional_gids;
  bool tty = false, detach = false, no_new_privs = false, ignore_paused = false;
  int preserve_fds = 0;
};

Result<oci::Process> BuildProcess(const Globals& g, const ExecFlags& f) {
  oci::Process p;
  if (!f.process_file.empty()) {
    BERTH_ASSIGN_OR_RETURN(Json j, ReadJsonFile(f.process_file));
    BERTH_ASSIGN_OR_RETURN(p, oci::ProcessFromJson(j, f.process_file));
    return p;
  }
  // Like runc: the container's own process is the base; the flags override it.
  BERTH_ASSIGN_OR_RETURN(p, runtime::ContainerProcess(g.Options(), f.id));
  if (f.command.empty()) return InvalidArgument("exec: a command (or --process) is required");
  p.args = f.command;
  p.terminal = f.tty;
  p.console_size.reset();
  if (!f.cwd.empty()) p.cwd = f.cwd;
  for (const auto& e : f.env) p.env.push_back(e);
  if (!f.user.empty()) {
    auto parts = Split(f.user, ':');
    BERTH_ASSIGN_OR_RETURN(uint64_t uid, ParseUint64(parts[0], "--user"));
    p.user.uid = static_cast<uint32_t>(uid);
    if (parts.size() > 1) {
      BERTH_ASSIGN_OR_RETURN(uint64_t gid, ParseUint64(parts[1], "--user"));
      p.user.gid = static_cast<uint32_t>(gid);
    }
  }
  for (const auto& gstr : f.additional_gids) {
    BERTH_ASSIGN_OR_RETURN(uint64_t gid, ParseUint64(gstr, "--additional-gids"));
    p.user.additional_gids.push_back(static_cast<uint32_t>(gid));
  }
  if (!f.caps.empty()) {
    if (!p.capabilities) p.capabilities.emplace();
    auto& c = *p.capabilities;
    auto add = [](std::optional<std::vector<std::string>>& set, const std::string& cap) {
      if (!set) set.emplace();
      set->push_back(cap);
    };
    for (const auto& cap : f.caps) {
      add(c.bounding, cap);
      add(c.effective, cap);
      add(c.permitted, cap);
      // Ambient capabilities also need the inheritable set: only when the spec uses it.
      if (c.inheritable && !c.inheritable->empty()) {
        add(c.inheritable, cap);
        add(c.ambient, cap);
      }
    }
  }
  if (f.no_new_privs) p.no_new_privileges = true;
  if (!f.apparmor.empty()) p.apparmor_profile = f.apparmor;
  if (!f.process_label.empty()) p.selinux_label = f.process_label;
  return p;
}

}  // namespace

void AddExecCommands(CLI::App& app, const Globals& g, std::vector<Command>& out,
                     std::string_view only) {
  if (!Wanted(only, "exec")) return;
  auto f = std::make_shared<ExecFlags>();
  CLI::App* sub = app.add_subcommand("exec", "run a process in a running container");
  sub->add_option("--console-socket", f->console_socket, "unix socket for the pty master");
  sub->add_option("--cwd", f->cwd, "working directory in the container");
  sub->add_option("-e,--env", f->env, "environment variable (repeatable)")->allow_extra_args(false);
  sub->add_flag("-t,--tty", f->tty, "allocate a pseudo-terminal");
  sub->add_option("-u,--user", f->user, "uid[:gid]");
  sub->add_option("-g,--additional-gids", f->additional_gids, "supplementary gid (repeatable)")
      ->allow_extra_args(false);
  sub->add_option("-p,--process", f->process_file, "a process.json (runtime-spec process)");
  sub->add_flag("-d,--detach", f->detach, "detach from the process");
  sub->add_option("--pid-file", f->pid_file, "file to write the process's pid to");
  sub->add_option("--process-label", f->process_label, "SELinux label");
  sub->add_option("--apparmor", f->apparmor, "AppArmor profile");
  sub->add_flag("--no-new-privs", f->no_new_privs, "set no_new_privs");
  sub->add_option("-c,--cap", f->caps, "add a capability (repeatable)")->allow_extra_args(false);
  sub->add_option("--preserve-fds", f->preserve_fds, "fds after stdio to pass in");
  sub->add_option("--cgroup", f->cgroup, "sub-cgroup (not supported)");
  sub->add_flag("--ignore-paused", f->ignore_paused, "exec even if the container is paused");
  sub->add_option("id", f->id, "container id")->required();
  sub->add_option("command", f->command, "command and arguments");
  // Everything after the id belongs to the command, flags included.
  sub->positionals_at_end(true);
  sub->prefix_command(false);
  out.push_back({sub, [&g, f]() -> Result<int> {
                   if (!f->cgroup.empty()) {
                     return Fail(ErrorCode::kUnsupported, "--cgroup: sub-cgroups are not supported");
                   }
                   runtime::ExecOptions o;
                   BERTH_ASSIGN_OR_RETURN(o.process, BuildProcess(g, *f));
                   o.console_socket = f->console_socket;
                   o.pid_file = f->pid_file;
                   o.detach = f->detach;
                   o.ignore_paused = f->ignore_paused;
                   o.preserve_fds = f->preserve_fds;
                   return runtime::Exec(g.Options(), f->id, o);
                 }});
}

}  // namespace berth::cli
