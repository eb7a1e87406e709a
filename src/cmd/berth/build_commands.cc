// berth CLI: `build` (berth/build does the work; the engine runs its RUN steps) and
// `builder prune`.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/build/builder.h"
#include "berth/engine/build_host.h"
#include "berth/image/layer_unpack.h"
#include "cli.h"

namespace berth::cli {
namespace {

// FROM images pulled as `run --pull` would: when missing, or always with --pull.
class CliBuildHost : public engine::BuildHost {
 public:
  CliBuildHost(engine::Engine& e, Context& ctx) : BuildHost(e), ctx_(ctx) {}
  Result<image::ImageRecord> Image(std::string_view ref, bool pull, std::string_view) override {
    BERTH_ASSIGN_OR_RETURN(std::string name,
                           PullForRun(ctx_, std::string(ref), pull ? "always" : "missing"));
    return engine_.images().Resolve(name);
  }

 private:
  Context& ctx_;
};

struct BuildFlags {
  build::BuildOptions o;
  std::vector<std::string> tags, build_args, labels;
  std::string file, iidfile, context;
};

Result<int> RunBuild(Context& ctx, BuildFlags& f) {
  BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
  build::BuildOptions& o = f.o;
  o.tags = f.tags;
  for (const auto& a : f.build_args) {
    auto eq = a.find('=');
    if (eq == 0) return InvalidArgument(StrCat("--build-arg ", Quote(a), ": empty name"));
    if (eq != std::string::npos) {
      o.build_args[a.substr(0, eq)] = a.substr(eq + 1);
    } else if (const char* v = std::getenv(a.c_str())) {
      o.build_args[a] = v;  // `--build-arg NAME` takes the caller's value, as docker
    }
  }
  for (const auto& l : f.labels) {
    auto eq = l.find('=');
    if (eq == 0) return InvalidArgument(StrCat("--label ", Quote(l), ": empty name"));
    o.labels[l.substr(0, eq)] = eq == std::string::npos ? "" : l.substr(eq + 1);
  }
  if (o.network.empty() || o.network == "default" || o.network == "bridge") o.network = "host";
  if (o.network != "host" && o.network != "none")
    return InvalidArgument(StrCat("--network ", Quote(o.network), ": expected host or none"));

  // `-`: the context is a tar on stdin, unpacked into a directory removed afterwards.
  std::string temp;
  Defer remove_temp([&] {
    if (!temp.empty()) (void)RemoveAll(temp);
  });
  if (f.context == "-") {
    // Named for this process, so that a build cleaning up after dead ones leaves it alone.
    temp = StrCat(eng->options().root, "/build/", ::getpid(), "-context");
    (void)RemoveAll(temp);
    BERTH_TRY(MkdirAll(temp, 0700));
    image::UnpackOptions uo;
    uo.plain_copy = true;
    uo.overlay_whiteouts = false;
    BERTH_TRY_CTX(image::UnpackLayerFile("/dev/stdin", temp, uo),
                  "build context from stdin");
    o.context = temp;
  } else {
    o.context = f.context;
  }
  std::string dockerfile_temp;
  Defer remove_dockerfile([&] {
    if (!dockerfile_temp.empty()) ::unlink(dockerfile_temp.c_str());
  });
  if (f.file == "-") {
    if (f.context == "-") return InvalidArgument("-f - and a context from stdin cannot both read stdin");
    BERTH_ASSIGN_OR_RETURN(std::string text, ReadFd(0, "the Dockerfile from stdin"));
    dockerfile_temp = StrCat(eng->options().root, "/build/", ::getpid(), "-Dockerfile");
    BERTH_TRY(MkdirAll(StrCat(eng->options().root, "/build"), 0700));
    BERTH_TRY(WriteFile(dockerfile_temp, text, 0600));
    o.dockerfile = dockerfile_temp;
  } else if (!f.file.empty()) {
    // Relative to the current directory (docker's rule), and inside the context by default.
    o.dockerfile = f.file;
  }
  FILE* out = o.quiet ? std::fopen("/dev/null", "w") : stdout;
  if (out == nullptr) return ErrnoFail("open /dev/null");
  Defer close_out([&] {
    if (out != stdout) std::fclose(out);
  });
  o.out = out;
  // Ctrl-C or a SIGTERM stops the build between steps (and kills a running step, see
  // RunOptions::kill_on_interrupt) so that its snapshots are cleaned up; they stay pending
  // until asked for.
  sigset_t stop_signals, old_mask;
  sigemptyset(&stop_signals);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stop_signals, sig);
  ::sigprocmask(SIG_BLOCK, &stop_signals, &old_mask);
  bool was_interrupted = false;
  Defer restore_mask([&] {
    if (!was_interrupted) ::sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  });
  o.interrupted = [&] {
    sigset_t pending;
    if (::sigpending(&pending) != 0) return false;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
      if (sigismember(&pending, sig)) was_interrupted = true;
    return was_interrupted;
  };
  CliBuildHost host(*eng, ctx);
  auto built = build::Build(eng->images(), host, o);
  // A step killed by the signal: report the interruption, not its exit code.
  if (!built.has_value() && o.interrupted()) return Fail(ErrorCode::kFailedPrecondition, "build interrupted");
  BERTH_ASSIGN_OR_RETURN(build::BuildResult res, std::move(built));
  if (!f.iidfile.empty()) BERTH_TRY_CTX(WriteFile(f.iidfile, res.image.id), "--iidfile");
  Print(res.image.id + "\n");
  return 0;
}

void AddBuild(CLI::App* parent, Registry& r) {
  Context& ctx = r.ctx();
  CLI::App* sub = r.Add(parent, "build", "build an image from a Dockerfile");
  if (sub == nullptr) return;
  auto f = std::make_shared<BuildFlags>();
  sub->add_option("context", f->context, "build context directory, or - for a tar on stdin")
      ->required();
  AddMulti(sub, "-t,--tag", f->tags, "name the image NAME[:TAG] (repeatable)");
  sub->add_option("-f,--file", f->file, "the Dockerfile (default CONTEXT/Dockerfile)");
  AddMulti(sub, "--build-arg", f->build_args, "set a build argument NAME=VALUE (repeatable)");
  AddMulti(sub, "--label", f->labels, "set an image label NAME=VALUE (repeatable)");
  sub->add_option("--target", f->o.target, "build up to this stage");
  sub->add_flag("--no-cache", f->o.no_cache, "run every step, ignoring the build cache");
  sub->add_flag("--pull", f->o.pull, "pull FROM images even when present");
  sub->add_option("--network", f->o.network, "network of RUN steps: host (default) or none");
  sub->add_option("--iidfile", f->iidfile, "write the image id to this file");
  sub->add_option("--platform", f->o.platform, "target platform (only the host's)");
  sub->add_flag("-q,--quiet", f->o.quiet, "print only the image id");
  AddIgnoredFlag(sub, "--rm", "intermediate containers are always removed");
  AddIgnoredFlag(sub, "--force-rm", "intermediate containers are always removed");
  r.Push(sub, [f, &ctx]() -> Result<int> { return RunBuild(ctx, *f); });
}

}  // namespace

void AddBuildCommands(CLI::App* parent, bool in_group, Registry& r) {
  AddBuild(parent, r);
  if (!in_group) return;
  Context& ctx = r.ctx();
  if (CLI::App* sub = r.Add(parent, "prune", "remove the build cache")) {
    auto force = std::make_shared<bool>(false);
    sub->add_flag("-f,--force", *force, "do not prompt for confirmation");
    AddIgnoredFlag(sub, "-a,--all", "the whole cache is removed");
    // `force` is captured: the flag writes through it when the command line is parsed.
    r.Push(sub, [force, &ctx]() -> Result<int> {
      if (!*force && !Confirm("WARNING! This will remove all build cache.")) return 0;
      BERTH_ASSIGN_OR_RETURN(engine::Engine * eng, ctx.Engine());
      BERTH_ASSIGN_OR_RETURN(int64_t entries, eng->images().CachePrune());
      BERTH_TRY(RemoveAll(build::CacheMountsDir(eng->options().root)));
      BERTH_ASSIGN_OR_RETURN(auto gc, eng->images().GarbageCollect());
      Print(StrCat("Deleted build cache entries: ", entries, "\nTotal reclaimed space: ",
                   gc.bytes_freed, " bytes\n"));
      return 0;
    });
  }
}

}  // namespace berth::cli
