// berth/build: RUN (with --mount and --network) and WORKDIR.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/strings.h"
#include "berth/build/copy.h"
#include "berth/build/instructions_internal.h"
#include "berth/build/shell_words.h"
#include "berth/sys/safe_path.h"

namespace berth::build {

using internal::State;

std::string CleanAbsolute(std::string_view path) {
  std::vector<std::string> parts;
  for (const auto& p : Split(path, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  return "/" + Join(parts, "/");
}

Result<std::string> HostPathInRoot(int root_fd, std::string_view path) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd fd, sys::OpenInRoot(root_fd, path, O_PATH));
  std::string link = sys::FdPath(fd.get());
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return ErrnoFail(StrCat("resolve ", Quote(path)));
  return std::string(buf, static_cast<size_t>(n));
}

Result<FromSource> ResolveFrom(StageContext& sc, std::string_view from_raw) {
  const Dockerfile& df = *sc.env->dockerfile;
  BERTH_ASSIGN_OR_RETURN(
      std::string from,
      ExpandWord(
          from_raw,
          [&](std::string_view n) -> std::optional<std::string> {
            auto it = sc.globals->find(std::string(n));
            if (it == sc.globals->end()) return std::nullopt;
            return it->second;
          },
          df.escape));
  FromSource out;
  int stage = FindStage(df, from, sc.stage_index);
  if (stage >= 0) {
    auto it = sc.env->built.find(stage);
    if (it == sc.env->built.end())
      return Fail(ErrorCode::kInternal, StrCat("stage ", Quote(from), " was not built"));
    out.stage = &it->second;
    out.key = StrCat("stage ", it->second.key);
    return out;
  }
  if (FindStage(df, from, static_cast<int>(df.stages.size())) >= 0)
    return InvalidArgument(StrCat("--from=", from, ": a stage can only use the stages before it"));
  BERTH_ASSIGN_OR_RETURN_CTX(image::ImageRecord rec,
                         sc.env->host->Image(from, sc.env->options->pull, sc.env->options->platform),
                         StrCat("--from=", from));
  BERTH_TRY(sc.env->store->Hold(sc.env->holder, rec.chain_ids));
  BERTH_ASSIGN_OR_RETURN(out.image_state, internal::StateOfImage(*sc.env->store, rec));
  out.key = StrCat("image ", rec.id);
  return out;
}

namespace {

struct MountPlan {
  std::string type = "bind";
  std::string target, source, from, id;
  bool readonly = true;
  bool rw_given = false;  // ro or rw given explicitly
  long uid = 0, gid = 0, mode = 0755;  // a cache directory's owner and mode when made
};

Result<MountPlan> ParseMount(std::string_view spec) {
  MountPlan m;
  for (const auto& part : Split(spec, ',')) {
    auto eq = part.find('=');
    std::string k = part.substr(0, eq), v = eq == std::string::npos ? "" : part.substr(eq + 1);
    if (k == "type") m.type = v;
    else if (k == "target" || k == "dst" || k == "destination") m.target = v;
    else if (k == "source" || k == "src") m.source = v;
    else if (k == "from") m.from = v;
    else if (k == "id") m.id = v;
    else if (k == "ro" || k == "readonly") {
      m.readonly = v.empty() || v == "true";
      m.rw_given = true;
    }
    else if (k == "rw" || k == "readwrite") {
      m.readonly = !(v.empty() || v == "true");
      m.rw_given = true;
    } else if (k == "uid" || k == "gid" || k == "mode") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, k == "mode" ? 8 : 10);
      if (v.empty() || *end != 0 || n < 0) return InvalidArgument(StrCat("--mount: invalid ", k, "=", v));
      (k == "uid" ? m.uid : k == "gid" ? m.gid : m.mode) = n;
    } else if (k == "sharing" || k == "size") {
      // Accepted; every cache mount is shared between builds here.
    } else {
      return InvalidArgument(StrCat("--mount: unknown option ", Quote(k)));
    }
  }
  if (m.type != "bind" && m.type != "cache" && m.type != "tmpfs")
    return Fail(ErrorCode::kUnsupported, StrCat("--mount: type ", Quote(m.type), " is not supported"));
  if (m.target.empty()) return InvalidArgument(StrCat("--mount ", Quote(spec), ": target is required"));
  // Only bind mounts are read-only unless asked otherwise.
  if (m.type != "bind" && !m.rw_given) m.readonly = false;
  return m;
}

// The command a shell-form RUN runs: a RUN that is only a heredoc runs it as a script;
// otherwise the heredocs go back after the line, for the shell to feed them.
std::string ShellCommand(const Instruction& ins) {
  std::string text(Trim(ins.text));
  if (ins.heredocs.empty()) return text;
  if (ins.heredocs.size() == 1 && text.starts_with("<<") && text.find(' ') == std::string::npos)
    return ins.heredocs[0].content;
  std::string cmd = text + "\n";
  for (const auto& h : ins.heredocs) cmd += h.content + h.name + "\n";
  return cmd;
}

}  // namespace

Result<State> ApplyRun(StageContext& sc, const State& state, const Instruction& ins) {
  internal::BuildEnv& env = *sc.env;
  RunRequest req;
  req.network = env.options->network;
  std::string desc = "RUN";
  std::vector<MountPlan> plans;
  for (const auto& f : ins.flags) {
    if (f.name == "network") {
      if (f.value != "host" && f.value != "none" && f.value != "default")
        return InvalidArgument(StrCat("--network=", f.value, ": expected default, none or host"));
      if (f.value != "default") req.network = f.value;
    } else if (f.name == "mount") {
      BERTH_ASSIGN_OR_RETURN(MountPlan m, ParseMount(f.value));
      plans.push_back(std::move(m));
    } else if (f.name == "security") {
      if (f.value != "sandbox")
        return Fail(ErrorCode::kUnsupported, StrCat("--security=", f.value, " is not supported"));
    } else {
      return InvalidArgument(StrCat("unknown option --", f.name));
    }
  }
  if (ins.json_form) {
    req.args = ins.json_args;
  } else {
    req.args = state.config.config.shell.empty() ? std::vector<std::string>{"/bin/sh", "-c"}
                                                 : state.config.config.shell;
    req.args.push_back(ShellCommand(ins));
  }
  if (req.args.empty() || req.args[0].empty()) return InvalidArgument("RUN: empty command");
  req.env = state.config.config.env;
  // Build args are in the environment of RUN, below ENV of the same name, not in the image.
  for (const auto& [k, v] : sc.args) {
    bool shadowed = false;
    for (const auto& e : req.env) shadowed = shadowed || e.starts_with(k + "=");
    if (!shadowed) {
      req.env.push_back(StrCat(k, "=", v));
      desc += StrCat(" arg:", k, "=", v);
    }
  }
  req.user = state.config.config.user;
  req.workdir = state.config.config.working_dir;
  req.step = StrCat(env.step, "/", env.total);
  desc += " network:" + req.network + " " + Json(req.args).dump();

  std::vector<std::unique_ptr<internal::ReadOnlyRoot>> roots;
  for (const auto& m : plans) {
    RunRequest::Mount mount;
    mount.target = CleanAbsolute(m.target.starts_with('/') ? m.target
                                                           : StrCat(req.workdir, "/", m.target));
    mount.readonly = m.readonly;
    if (m.type == "tmpfs") {
      mount.kind = RunRequest::Mount::Kind::kTmpfs;
      desc += " tmpfs:" + mount.target;
    } else if (m.type == "cache") {
      image::Sha256 h;
      h.Update(m.id.empty() ? mount.target : m.id);
      std::string dir = StrCat(CacheMountsDir(env.store->root()), "/", h.Finish().substr(7, 32));
      if (!PathExists(dir)) {
        BERTH_TRY(MkdirAll(dir, 0755));
        if (::chown(dir.c_str(), static_cast<uid_t>(m.uid), static_cast<gid_t>(m.gid)) != 0 ||
            ::chmod(dir.c_str(), static_cast<mode_t>(m.mode)) != 0)
          return ErrnoFail(StrCat("cache mount ", Quote(dir)));
      }
      mount.source = dir;
      desc += " cache:" + mount.target;
    } else {
      if (!m.readonly)
        return Fail(ErrorCode::kUnsupported, "--mount type=bind,rw is not supported (use a cache mount)");
      std::string src = m.source.empty() ? "/" : m.source;
      if (!m.from.empty()) {
        BERTH_ASSIGN_OR_RETURN(FromSource fs, ResolveFrom(sc, m.from));
        BERTH_ASSIGN_OR_RETURN(auto root,
                               internal::ReadOnlyRoot::Open(env, fs.stage ? *fs.stage : fs.image_state));
        BERTH_ASSIGN_OR_RETURN_CTX(mount.source, HostPathInRoot(root->fd(), src),
                               StrCat("--mount from=", m.from, " source ", Quote(src)));
        roots.push_back(std::move(root));
        desc += StrCat(" bind:", fs.key, ":", src, ":", mount.target);
      } else {
        BERTH_ASSIGN_OR_RETURN_CTX(mount.source, HostPathInRoot(env.context_fd.get(), src),
                               StrCat("--mount source ", Quote(src), " in the build context"));
        // The mounted files decide the result: their content is part of the key.
        image::Sha256 h;
        std::string rel = CleanAbsolute(src).substr(1);
        auto slash = rel.rfind('/');
        std::string dir = slash == std::string::npos ? "." : rel.substr(0, slash);
        std::string name = rel.empty() ? "." : rel.substr(slash == std::string::npos ? 0 : slash + 1);
        BERTH_ASSIGN_OR_RETURN(UniqueFd parent,
                               sys::OpenInRoot(env.context_fd.get(), dir, O_RDONLY | O_DIRECTORY));
        CopyOptions co;
        co.ignore = &env.ignore;
        BERTH_TRY(HashEntry(parent.get(), name, rel.empty() ? "." : rel, co, h));
        desc += StrCat(" bind:", h.Finish(), ":", mount.target);
      }
    }
    req.mounts.push_back(std::move(mount));
  }

  std::string created_by = StrCat("RUN ", ins.json_form ? Json(ins.json_args).dump()
                                                        : std::string(Trim(ins.text)));
  return RecordStep(
      sc, state, created_by, desc, state,
      [&](const std::string& rootfs, int root_fd) -> Status {
        if (!req.workdir.empty()) BERTH_TRY(sys::MkdirAllInRoot(root_fd, req.workdir));
        req.rootfs = rootfs;
        BERTH_ASSIGN_OR_RETURN(int code, env.host->Run(req));
        if (code != 0)
          return Fail(ErrorCode::kFailedPrecondition,
                      StrCat("process ", Quote(Join(req.args, " ")), " did not complete successfully: exit code ",
                             code));
        return Ok();
      },
      false);
}

Result<State> ApplyWorkdir(StageContext& sc, const State& state, const Instruction& ins) {
  if (!ins.flags.empty()) return InvalidArgument(StrCat("unknown option --", ins.flags[0].name));
  BERTH_ASSIGN_OR_RETURN(std::string wd, ExpandIn(sc, state, Trim(ins.text)));
  if (wd.empty()) return InvalidArgument("WORKDIR needs a path");
  std::string base = state.config.config.working_dir.empty() ? "/" : state.config.config.working_dir;
  wd = CleanAbsolute(wd.starts_with('/') ? wd : StrCat(base, "/", wd));
  State next = state;
  next.config.config.working_dir = wd;
  const std::string& user = state.config.config.user;
  return RecordStep(
      sc, state, StrCat("WORKDIR ", wd), StrCat("WORKDIR ", wd, " user=", user), std::move(next),
      [&](const std::string& rootfs, int root_fd) -> Status {
        // Directories it creates belong to the USER, as BuildKit makes them.
        std::optional<oci::User> owner;
        if (!user.empty()) {
          BERTH_ASSIGN_OR_RETURN_CTX(oci::User u, sc.env->host->ResolveUser(rootfs, user),
                                     StrCat("USER ", user));
          owner = u;
        }
        std::string path;
        for (const auto& part : SplitNonEmpty(wd, '/')) {
          path += "/" + part;
          bool existed = sys::OpenInRoot(root_fd, path, O_PATH).has_value();
          BERTH_TRY(sys::MkdirAllInRoot(root_fd, path));
          if (existed || !owner) continue;
          BERTH_ASSIGN_OR_RETURN(UniqueFd d, sys::OpenInRoot(root_fd, path, O_RDONLY | O_DIRECTORY));
          if (::fchown(d.get(), owner->uid, owner->gid) != 0)
            return ErrnoFail(StrCat("chown ", Quote(path)));
        }
        return Ok();
      },
      true);
}

}  // namespace berth::build
