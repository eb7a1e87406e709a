// berth/engine: GenerateSpec assembles the container's config.json from the image config,
// the RunConfig and what the engine prepared (SpecInputs). The process (argv, env, cwd,
// user, capabilities, rlimits) is built here; mounts, resources, seccomp and capabilities
// come from their own files (spec_gen_internal.h).
#include "berth/engine/spec_gen.h"

#include <unistd.h>

#include <cstdlib>

#include "berth/base/strings.h"
#include "berth/engine/spec_gen_internal.h"

namespace berth::engine {
namespace {

constexpr std::string_view kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string_view EnvKey(std::string_view kv) { return kv.substr(0, kv.find('=')); }

// Docker's ReplaceOrAppendEnvValues: a later value replaces an earlier one in its place.
void SetEnv(std::vector<std::string>& env, std::string kv) {
  for (auto& e : env)
    if (EnvKey(e) == EnvKey(kv)) {
      e = std::move(kv);
      return;
    }
  env.push_back(std::move(kv));
}

bool ClearsEntrypoint(const std::vector<std::string>& e) {
  return e.empty() || (e.size() == 1 && e[0].empty());
}

std::string HostHostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

Status CheckHostname(std::string_view h) {
  // HOST_NAME_MAX, and no characters sethostname would accept but a shell would trip on.
  if (h.size() > 64)
    return InvalidArgument(StrCat("--hostname: ", Quote(h), " is longer than 64 characters"));
  for (char c : h)
    if (c == '/' || c == ' ' || c == '\n' || c == '\t' || c == '\0')
      return InvalidArgument(StrCat("--hostname: invalid hostname ", Quote(h)));
  return Ok();
}

std::vector<std::string> BuildEnv(const oci::ContainerConfig& image, const RunConfig& run,
                                  const std::string& hostname) {
  std::vector<std::string> env;
  env.emplace_back(kDefaultPath);
  SetEnv(env, StrCat("HOSTNAME=", hostname));
  if (run.tty) SetEnv(env, "TERM=xterm");
  for (const auto& e : image.env)
    if (e.find('=') != std::string::npos) SetEnv(env, e);
  for (const auto& e : run.env) {
    // The CLI expands `-e NAME` (ExpandEnvFlag); one still without '=' is looked up here.
    if (auto kv = ExpandEnvFlag(e)) SetEnv(env, std::move(*kv));
  }
  return env;
}

Result<std::string> WorkingDir(const oci::ContainerConfig& image, const RunConfig& run) {
  if (!run.workdir.empty()) {
    if (!run.workdir.starts_with('/'))
      return InvalidArgument(
          StrCat("--workdir: ", Quote(run.workdir), " is invalid: it must be an absolute path"));
    return run.workdir;
  }
  if (!image.working_dir.empty()) {
    // Old builders wrote relative WorkingDirs; docker takes them from "/".
    return image.working_dir.starts_with('/') ? image.working_dir : "/" + image.working_dir;
  }
  return std::string("/");
}

}  // namespace

Result<std::vector<std::string>> EffectiveArgs(const oci::ContainerConfig& image,
                                               const RunConfig& run) {
  std::vector<std::string> entrypoint, cmd;
  if (run.entrypoint) {
    // --entrypoint replaces the image's and drops the image's Cmd: only args after the
    // image are passed to it.
    if (!ClearsEntrypoint(*run.entrypoint)) entrypoint = *run.entrypoint;
    cmd = run.cmd;
  } else {
    if (image.entrypoint) entrypoint = *image.entrypoint;
    if (!run.cmd.empty())
      cmd = run.cmd;
    else if (image.cmd)
      cmd = *image.cmd;
  }
  std::vector<std::string> args = std::move(entrypoint);
  args.insert(args.end(), cmd.begin(), cmd.end());
  if (args.empty()) return InvalidArgument("no command specified");
  return args;
}

Result<oci::Spec> GenerateSpec(const oci::ContainerConfig& image, const RunConfig& run,
                               const SpecInputs& in) {
  if (in.rootfs.empty() || !in.rootfs.starts_with('/'))
    return InvalidArgument(StrCat("generate spec: rootfs ", Quote(in.rootfs), " must be absolute"));
  BERTH_ASSIGN_OR_RETURN(internal::SecurityOptions sec,
                         internal::ParseSecurityOptions(run.security_opt));
  const bool host_network = run.network == "host";
  if (!host_network && run.network != "none" && !run.network.empty() && in.netns_path.empty())
    return Fail(ErrorCode::kUnsupported,
                StrCat("--network ", Quote(run.network), ": only `none` and `host` are supported"));

  oci::Spec spec;
  spec.oci_version = std::string(oci::kSpecVersion);
  spec.root.path = in.rootfs;
  spec.root.readonly = run.read_only;
  if (!run.hostname.empty())
    spec.hostname = run.hostname;
  else if (host_network)
    spec.hostname = HostHostname();  // a UTS ns, but the host's name
  else
    spec.hostname = in.hostname;
  BERTH_TRY(CheckHostname(spec.hostname));

  // The process.
  oci::Process p;
  p.terminal = run.tty;
  BERTH_ASSIGN_OR_RETURN(p.args, EffectiveArgs(image, run));
  if (run.init) {
    std::vector<std::string> args{std::string(internal::kInitPath), "--"};
    args.insert(args.end(), p.args.begin(), p.args.end());
    p.args = std::move(args);
  }
  p.env = BuildEnv(image, run, spec.hostname);
  BERTH_ASSIGN_OR_RETURN(p.cwd, WorkingDir(image, run));
  const std::string& user = run.user.empty() ? image.user : run.user;
  BERTH_ASSIGN_OR_RETURN(p.user, ResolveUser(in.rootfs, user, run.group_add));
  BERTH_ASSIGN_OR_RETURN(std::vector<std::string> caps, internal::ComputeCapabilities(run));
  oci::Capabilities c;
  c.bounding = caps;
  c.effective = caps;
  c.permitted = caps;
  c.inheritable = std::vector<std::string>{};
  c.ambient = std::vector<std::string>{};
  p.capabilities = std::move(c);
  BERTH_ASSIGN_OR_RETURN(p.rlimits, internal::GenerateRlimits(run));
  p.no_new_privileges = sec.no_new_privileges;
  if (run.oom_score_adj) {
    if (*run.oom_score_adj < -1000 || *run.oom_score_adj > 1000)
      return InvalidArgument(
          StrCat("--oom-score-adj: ", *run.oom_score_adj, " is out of range (-1000 to 1000)"));
    p.oom_score_adj = *run.oom_score_adj;
  }
  spec.process = std::move(p);

  BERTH_ASSIGN_OR_RETURN(internal::MountsResult mounts, internal::GenerateMounts(image, run, in));
  spec.mounts = std::move(mounts.mounts);

  oci::Linux l;
  using NT = oci::NamespaceType;
  l.namespaces = {{NT::kPid, ""}, {NT::kIpc, ""}, {NT::kUts, ""}, {NT::kMount, ""}};
  if (!host_network) l.namespaces.push_back({NT::kNetwork, in.netns_path});
  l.namespaces.push_back({NT::kCgroup, ""});
  l.cgroups_path = in.cgroup_parent.empty() ? StrCat("/", in.container_id)
                                            : StrCat("/", in.cgroup_parent, "/", in.container_id);
  if (run.privileged) {
    l.devices = internal::HostDevices();
  } else {
    BERTH_ASSIGN_OR_RETURN(l.devices, internal::DevicesFromMappings(run.devices));
  }
  BERTH_ASSIGN_OR_RETURN(oci::Resources res,
                         internal::GenerateResources(run, l.devices, run.devices));
  l.resources = std::move(res);
  BERTH_ASSIGN_OR_RETURN(l.sysctl, internal::CheckSysctls(run));
  if (!run.privileged && sec.seccomp == internal::SecurityOptions::Seccomp::kDefault) {
    l.seccomp = DefaultSeccompProfile(caps);
  } else if (!run.privileged && sec.seccomp == internal::SecurityOptions::Seccomp::kProfile) {
    BERTH_ASSIGN_OR_RETURN_CTX(l.seccomp, LoadSeccompProfile(sec.seccomp_profile, caps),
                               "--security-opt seccomp");
  }
  if (!run.privileged && !sec.unmask_paths) {
    l.masked_paths = internal::DefaultMaskedPaths();
    l.readonly_paths = internal::DefaultReadonlyPaths();
  }
  l.rootfs_propagation = mounts.rootfs_propagation;
  spec.linux_config = std::move(l);
  return spec;
}

}  // namespace berth::engine
