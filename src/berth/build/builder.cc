// berth/build: the build of a Dockerfile: stages in order, only those the target needs,
// each instruction applied to the stage's state (see builder.h).
#include "berth/build/builder.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "berth/base/defer.h"
#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/build/builder_internal.h"
#include "berth/build/instructions.h"
#include "berth/build/instructions_internal.h"
#include "berth/build/shell_words.h"
#include "berth/image/snapshot.h"
#include "berth/oci/reference.h"

namespace berth::build {
namespace {

using internal::BuildEnv;
using internal::State;

// Platform arguments BuildKit predefines in the global scope.
std::map<std::string, std::string> PlatformArgs() {
  oci::Platform p = oci::HostPlatform();
  std::string platform = StrCat(p.os, "/", p.architecture, p.variant.empty() ? "" : "/", p.variant);
  return {{"TARGETPLATFORM", platform}, {"TARGETOS", p.os},        {"TARGETARCH", p.architecture},
          {"TARGETVARIANT", p.variant}, {"BUILDPLATFORM", platform}, {"BUILDOS", p.os},
          {"BUILDARCH", p.architecture}, {"BUILDVARIANT", p.variant}};
}

}  // namespace

// A stage referred to by name or index (FROM, COPY --from, RUN --mount from=); -1 if none.
int FindStage(const Dockerfile& df, std::string_view ref, int before) {
  std::string lower;
  for (char c : ref) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (int i = 0; i < before && i < static_cast<int>(df.stages.size()); ++i)
    if (!df.stages[i].name.empty() && df.stages[i].name == lower) return i;
  if (!ref.empty() && std::all_of(ref.begin(), ref.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    int n = std::atoi(std::string(ref).c_str());
    if (n < before) return n;
  }
  return -1;
}

namespace {

// Removes what builds killed before their cleanup left in ROOT/build, and their layer holds.
void CleanStaleBuilds(image::ImageStore& store, const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    pid_t pid = static_cast<pid_t>(std::atoi(n.c_str()));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    stale.push_back(n);
  }
  ::closedir(d);
  for (const auto& n : stale) {
    std::string build = StrCat(dir, "/", n);
    if (DIR* b = ::opendir(build.c_str())) {
      std::vector<std::string> steps;
      while (struct dirent* e = ::readdir(b)) {
        std::string s = e->d_name;
        if (s != "." && s != "..") steps.push_back(s);
      }
      ::closedir(b);
      for (const auto& s : steps)
        (void)image::RemoveSnapshot(
            image::SnapshotAt(StrCat(build, "/", s), image::SnapshotKind::kOverlay, true));
    }
    (void)RemoveAll(build);
    if (n.find_first_not_of("0123456789") == std::string::npos) (void)store.Release(StrCat("build-", n));
  }
}

class Builder {
 public:
  Builder(BuildEnv& env) : env_(env), df_(*env.dockerfile), o_(*env.options) {}

  Result<BuildResult> Run();

 private:
  Status ResolveGlobals();
  Result<int> TargetStage();
  Status CollectNeeded(int stage, std::set<int>& needed);
  Status BuildStage(int index);
  Result<State> FromState(const Stage& stage, int index);
  Result<std::string> Expand(std::string_view word) const;

  BuildEnv& env_;
  const Dockerfile& df_;
  const BuildOptions& o_;
  std::map<std::string, std::optional<std::string>> globals_;
};

Status Builder::ResolveGlobals() {
  for (const auto& [k, v] : PlatformArgs()) globals_[k] = v;
  std::map<std::string, std::string> visible;
  for (const auto& [k, v] : globals_) visible[k] = *v;
  for (const auto& ins : df_.global_args) {
    BERTH_ASSIGN_OR_RETURN(auto kvs, ParseKeyValues(ins, df_.escape));
    for (const auto& kv : kvs) {
      std::optional<std::string> value;
      auto given = o_.build_args.find(kv.key);
      if (given != o_.build_args.end()) {
        value = given->second;
      } else if (kv.has_value) {
        internal::Vars vars{nullptr, &visible};
        BERTH_ASSIGN_OR_RETURN_CTX(
            std::string v,
            ExpandWord(kv.value, [&](std::string_view n) { return vars.Get(n); }, df_.escape),
            StrCat(df_.path, ":", ins.pos.line, ": ARG ", kv.key));
        value = v;
      }
      globals_[kv.key] = value;
      if (value) visible[kv.key] = *value;
      else visible.erase(kv.key);
    }
  }
  return Ok();
}

Result<std::string> Builder::Expand(std::string_view word) const {
  return ExpandWord(
      word,
      [&](std::string_view n) -> std::optional<std::string> {
        auto it = globals_.find(std::string(n));
        if (it == globals_.end()) return std::nullopt;
        return it->second;
      },
      df_.escape);
}

Result<int> Builder::TargetStage() {
  if (df_.stages.empty()) return InvalidArgument(StrCat(df_.path, ": no FROM instruction"));
  if (o_.target.empty()) return static_cast<int>(df_.stages.size()) - 1;
  int i = FindStage(df_, o_.target, static_cast<int>(df_.stages.size()));
  if (i < 0)
    return InvalidArgument(StrCat("--target ", Quote(o_.target), ": no such stage in ", df_.path));
  return i;
}

Status Builder::CollectNeeded(int index, std::set<int>& needed) {
  if (!needed.insert(index).second) return Ok();
  const Stage& st = df_.stages[index];
  BERTH_ASSIGN_OR_RETURN_CTX(std::string base, Expand(st.base), StrCat(df_.path, ":", st.pos.line));
  int dep = FindStage(df_, base, index);
  if (dep >= 0) BERTH_TRY(CollectNeeded(dep, needed));
  for (const auto& ins : st.instructions) {
    for (const auto& f : ins.flags) {
      std::string from;
      if ((ins.keyword == "COPY" || ins.keyword == "ADD") && f.name == "from") from = f.value;
      if (ins.keyword == "RUN" && f.name == "mount") {
        for (const auto& part : Split(f.value, ','))
          if (part.starts_with("from=")) from = part.substr(5);
      }
      if (from.empty()) continue;
      auto expanded = Expand(from);
      if (!expanded.has_value()) continue;  // reported when the step runs
      int d = FindStage(df_, *expanded, index);
      if (d >= 0) BERTH_TRY(CollectNeeded(d, needed));
    }
  }
  return Ok();
}

Result<State> Builder::FromState(const Stage& stage, int index) {
  std::string ctx = StrCat(df_.path, ":", stage.pos.line);
  BERTH_ASSIGN_OR_RETURN_CTX(std::string base, Expand(stage.base), ctx);
  if (base.empty()) return InvalidArgument(StrCat(ctx, ": FROM: empty image name"));
  if (!stage.platform.empty()) {
    BERTH_ASSIGN_OR_RETURN_CTX(std::string platform, Expand(stage.platform), ctx);
    BERTH_TRY_CTX(CheckPlatform(platform), StrCat(ctx, ": FROM --platform"));
  }
  int dep = FindStage(df_, base, index);
  if (dep >= 0) return env_.built.at(dep);
  State s;
  if (base == "scratch") {
    oci::Platform p = oci::HostPlatform();
    s.config.architecture = p.architecture;
    s.config.os = p.os;
    s.config.variant = p.variant;
    s.key = internal::NextKey("", "FROM scratch");
    return s;
  }
  BERTH_ASSIGN_OR_RETURN_CTX(image::ImageRecord rec, env_.host->Image(base, o_.pull, o_.platform),
                         StrCat(ctx, ": FROM ", base));
  BERTH_TRY_CTX(env_.store->Hold(env_.holder, rec.chain_ids), StrCat(ctx, ": FROM ", base));
  BERTH_ASSIGN_OR_RETURN_CTX(s, internal::StateOfImage(*env_.store, rec), StrCat(ctx, ": FROM ", base));
  s.key = internal::NextKey("", StrCat("FROM ", rec.id));
  return s;
}

Status Builder::BuildStage(int index) {
  const Stage& stage = df_.stages[index];
  ++env_.step;
  std::fprintf(o_.out, "[%d/%d] STEP %d/%d: FROM %s%s%s\n", index + 1,
               static_cast<int>(df_.stages.size()), env_.step, env_.total, stage.base.c_str(),
               stage.name.empty() ? "" : " AS ", stage.name.c_str());
  std::fflush(o_.out);
  BERTH_ASSIGN_OR_RETURN(State state, FromState(stage, index));
  StageContext sc;
  sc.env = &env_;
  sc.globals = &globals_;
  sc.stage_index = index;
  // ONBUILD triggers of the base image run first, then are dropped (docker does not
  // inherit them further).
  std::vector<std::string> triggers = std::move(state.config.config.on_build);
  state.config.config.on_build.clear();
  for (const auto& t : triggers) {
    BERTH_ASSIGN_OR_RETURN(Dockerfile trig,
                           ParseDockerfile(StrCat("FROM scratch\n", t, "\n"), "ONBUILD trigger"));
    for (const auto& ins : trig.stages.at(0).instructions) {
      std::fprintf(o_.out, "ONBUILD %s\n", ins.original.c_str());
      BERTH_ASSIGN_OR_RETURN_CTX(state, ApplyInstruction(sc, state, ins),
                             StrCat(df_.path, ": ONBUILD ", Quote(t)));
    }
  }
  for (const auto& ins : stage.instructions) {
    if (o_.interrupted && o_.interrupted()) return Fail(ErrorCode::kFailedPrecondition, "build interrupted");
    ++env_.step;
    std::fprintf(o_.out, "[%d/%d] STEP %d/%d: %s\n", index + 1, static_cast<int>(df_.stages.size()),
                 env_.step, env_.total, ins.original.c_str());
    std::fflush(o_.out);
    BERTH_ASSIGN_OR_RETURN_CTX(state, ApplyInstruction(sc, state, ins),
                           StrCat(df_.path, ":", ins.pos.line, ": ", ins.keyword));
  }
  // The stage's end state is cached too: an unchanged build gives the same image id, with
  // the timestamps of the first build, as docker does.
  if (!o_.no_cache) {
    BERTH_ASSIGN_OR_RETURN(auto cached, internal::LoadCached(*env_.store, state.key));
    if (cached) state = std::move(*cached);
  }
  // --no-cache replaces the entry: the next plain build must find this build's result.
  if (o_.no_cache || !env_.store->CacheLookup(state.key).value_or(std::nullopt)) {
    BERTH_ASSIGN_OR_RETURN(std::string mdigest, internal::WriteState(*env_.store, state));
    BERTH_TRY_CTX(env_.store->CacheStore(state.key, mdigest,
                                         state.chains.empty() ? std::string() : state.chains.back()),
                  "record build cache");
  }
  env_.built[index] = std::move(state);
  return Ok();
}

Result<BuildResult> Builder::Run() {
  BERTH_TRY(ResolveGlobals());
  BERTH_ASSIGN_OR_RETURN(int target, TargetStage());
  std::set<int> needed;
  BERTH_TRY(CollectNeeded(target, needed));
  for (int i : needed) env_.total += 1 + static_cast<int>(df_.stages[i].instructions.size());
  for (int i : needed) BERTH_TRY(BuildStage(i));

  State final_state = env_.built.at(target);
  for (const auto& [k, v] : o_.labels) final_state.config.config.labels[k] = v;
  BERTH_ASSIGN_OR_RETURN(std::string mdigest, internal::WriteState(*env_.store, final_state));
  std::vector<std::string> names;
  for (const auto& t : o_.tags) {
    BERTH_ASSIGN_OR_RETURN_CTX(oci::Reference ref, oci::ParseReference(t), StrCat("-t ", Quote(t)));
    names.push_back(ref.String());
  }
  BERTH_ASSIGN_OR_RETURN_CTX(image::ImageRecord rec, env_.store->AddImage(mdigest, names),
                         "record the built image");
  if (!names.empty()) std::fprintf(o_.out, "COMMIT %s\n", Join(names, ", ").c_str());
  std::fprintf(o_.out, "--> %s\n", rec.id.substr(rec.id.find(':') + 1, 12).c_str());
  std::fflush(o_.out);
  BuildResult r;
  r.image = std::move(rec);
  r.steps = env_.step;
  r.cached = env_.cached;
  return r;
}

}  // namespace

Status CheckPlatform(std::string_view platform) {
  if (platform.empty()) return Ok();
  oci::Platform host = oci::HostPlatform();
  std::string os_arch = StrCat(host.os, "/", host.architecture);
  if (platform == os_arch || platform == StrCat(os_arch, "/", host.variant)) return Ok();
  return Fail(ErrorCode::kUnsupported,
              StrCat(Quote(platform), ": only the host platform ", os_arch, " can be built"));
}

std::string CacheMountsDir(const std::string& store_root) {
  return StrCat(store_root, "/build-cache-mounts");
}

Result<BuildResult> Build(image::ImageStore& store, Host& host, const BuildOptions& options) {
  BuildEnv env;
  env.store = &store;
  env.host = &host;
  env.options = &options;
  BERTH_TRY_CTX(CheckPlatform(options.platform), "--platform");
  BERTH_ASSIGN_OR_RETURN_CTX(env.context_fd, OpenFile(options.context, O_RDONLY | O_DIRECTORY),
                         StrCat("build context ", Quote(options.context)));
  std::string path =
      options.dockerfile.empty() ? StrCat(options.context, "/Dockerfile") : options.dockerfile;
  BERTH_ASSIGN_OR_RETURN_CTX(std::string text, ReadFile(path), "read the Dockerfile");
  BERTH_ASSIGN_OR_RETURN(Dockerfile df, ParseDockerfile(text, path));
  env.dockerfile = &df;
  auto ignore_text = ReadFileAt(env.context_fd.get(), ".dockerignore");
  if (ignore_text.has_value()) {
    BERTH_ASSIGN_OR_RETURN(env.ignore,
                           IgnoreMatcher::Parse(*ignore_text, StrCat(options.context, "/.dockerignore")));
  } else if (ignore_text.error().sys_errno() != ENOENT) {
    return Unexpected(std::move(ignore_text).error());
  }

  std::string builds = StrCat(store.root(), "/build");
  BERTH_TRY(MkdirAll(builds, 0700));
  CleanStaleBuilds(store, builds);
  env.work_dir = StrCat(builds, "/", ::getpid());
  env.holder = StrCat("build-", ::getpid());
  BERTH_TRY(MkdirAll(env.work_dir, 0700));
  Defer remove_work([&] {
    (void)RemoveAll(env.work_dir);
    (void)store.Release(env.holder);
  });
  Builder b(env);
  return b.Run();
}

}  // namespace berth::build
