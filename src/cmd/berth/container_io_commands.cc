// berth CLI: commands that move processes and files in and out of a container: exec, cp,
// export, commit.
#include <unistd.h>

#include <memory>

#include "berth/base/strings.h"
#include "berth/image/archive.h"
#include "cli.h"

namespace berth::cli {
namespace {

struct ExecFlags {
  bool detach = false, interactive = false, tty = false, privileged = false;
  std::string user, workdir, detach_keys;
  std::vector<std::string> env, env_file;
};

// "CONTAINER:PATH" -> (container, path); a local path (absolute, relative with a slash
// before any colon, or "-") is not a container path.
std::optional<std::pair<std::string, std::string>> ContainerPath(const std::string& arg) {
  size_t colon = arg.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  if (arg[0] == '/' || arg[0] == '.') return std::nullopt;
  if (arg.substr(0, colon).find('/') != std::string::npos) return std::nullopt;
  return std::make_pair(arg.substr(0, colon), arg.substr(colon + 1));
}

}  // namespace

void AddContainerFileCommands(CLI::App* parent, bool /*in_group*/, Registry& r) {
  Context& ctx = r.ctx();

  if (CLI::App* sub = r.Add(parent, "exec", "run a command in a running container")) {
    auto f = std::make_shared<ExecFlags>();
    sub->prefix_command();  // CONTAINER ends the flags; the rest is the command
    sub->add_flag("-d,--detach", f->detach, "run the command in the background");
    sub->add_flag("-i,--interactive", f->interactive, "keep stdin open");
    sub->add_flag("-t,--tty", f->tty, "allocate a pseudo-terminal");
    sub->add_option("-u,--user", f->user, "user[:group]");
    sub->add_option("-w,--workdir", f->workdir, "working directory");
    AddMulti(sub, "-e,--env", f->env, "set an environment variable");
    AddMulti(sub, "--env-file", f->env_file, "read environment variables from a file");
    sub->add_flag("--privileged", f->privileged, "all capabilities for the command");
    sub->add_option("--detach-keys", f->detach_keys, "accepted; the default ctrl-p,ctrl-q applies");
    r.Push(
        sub,
        [sub, f, &ctx]() -> Result<int> {
          std::vector<std::string> rest = sub->remaining();
          if (rest.size() < 2) {
            return InvalidArgument(
                "exec requires at least 2 arguments: CONTAINER COMMAND [ARG...]");
          }
          if (rest[0].size() > 1 && rest[0][0] == '-') {
            return InvalidArgument(StrCat("unknown flag: ", rest[0]));
          }
          engine::Engine::ExecConfig e;
          e.args.assign(rest.begin() + 1, rest.end());
          for (const auto& file : f->env_file) {
            BERTH_ASSIGN_OR_RETURN(std::vector<std::string> vars, engine::ParseEnvFile(file));
            e.env.insert(e.env.end(), vars.begin(), vars.end());
          }
          for (const auto& v : f->env) {
            if (auto x = engine::ExpandEnvFlag(v)) e.env.push_back(*x);
          }
          e.user = f->user;
          e.workdir = f->workdir;
          e.tty = f->tty;
          e.interactive = f->interactive;
          e.detach = f->detach;
          e.privileged = f->privileged;
          BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
          return eng->Exec(rest[0], e);
        },
        ErrorStyle::kContainer);
  }

  if (CLI::App* sub = r.Add(parent, "cp", "copy files between a container and the host")) {
    auto args = std::make_shared<std::pair<std::string, std::string>>();
    auto flags = std::make_shared<std::pair<bool, bool>>();
    sub->add_option("src", args->first, "SRC: CONTAINER:PATH or a host path")->required();
    sub->add_option("dest", args->second, "DEST: CONTAINER:PATH or a host path")->required();
    sub->add_flag("-a,--archive", flags->first, "accepted; ownership is kept as root copies it");
    sub->add_flag("-L,--follow-link", flags->second, "accepted");
    r.Push(sub, [args, &ctx]() -> Result<int> {
      auto src = ContainerPath(args->first), dst = ContainerPath(args->second);
      if (src && dst) return InvalidArgument("copying between containers is not supported");
      if (!src && !dst) {
        return InvalidArgument("must specify at least one container source (CONTAINER:PATH)");
      }
      if (args->second == "-" && isatty(STDOUT_FILENO)) {
        return InvalidArgument(
            "cowardly refusing to write a tar archive to a terminal: redirect stdout");
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      std::fflush(stdout);
      if (src) {
        BERTH_TRY(eng->CopyFromContainer(src->first, src->second, args->second));
      } else {
        BERTH_TRY(eng->CopyToContainer(args->first, dst->first, dst->second));
      }
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "export", "write a container's filesystem as a tar archive")) {
    auto args = std::make_shared<std::pair<std::string, std::string>>();
    sub->add_option("container", args->first, "container name or id")->required();
    sub->add_option("-o,--output", args->second, "write to a file instead of stdout");
    r.Push(sub, [args, &ctx]() -> Result<int> {
      if (args->second.empty() && isatty(STDOUT_FILENO)) {
        return InvalidArgument(
            "cowardly refusing to write a tar archive to a terminal: use -o or redirect");
      }
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      std::fflush(stdout);
      BERTH_TRY(eng->Export(args->first, args->second.empty() ? "-" : args->second));
      return 0;
    });
  }

  if (CLI::App* sub = r.Add(parent, "commit", "create an image from a container's changes")) {
    struct CommitFlags {
      std::string container, ref;
      image::NewImageOptions o;
      bool pause = true;
    };
    auto f = std::make_shared<CommitFlags>();
    sub->add_option("container", f->container, "container name or id")->required();
    sub->add_option("repository", f->ref, "REPOSITORY[:TAG]");
    sub->add_option("-a,--author", f->o.author, "author (\"Name <email>\")");
    sub->add_option("-m,--message", f->o.message, "commit message");
    AddMulti(sub, "-c,--change", f->o.changes, "Dockerfile instruction to apply (CMD, ENV, ...)");
    sub->add_flag("-p,--pause,!--no-pause", f->pause, "accepted (the container is not paused)");
    r.Push(sub, [f, &ctx]() -> Result<int> {
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      f->o.name = f->ref;
      BERTH_ASSIGN_OR_RETURN(image::ImageRecord img, eng->Commit(f->container, f->o));
      Print(img.id + "\n");
      return 0;
    });
  }
}

}  // namespace berth::cli
