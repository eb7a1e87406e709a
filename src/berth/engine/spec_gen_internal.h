// berth/engine: the pieces GenerateSpec assembles, one file each (spec_gen.h is the public
// face). Shared by spec_gen.cc, security_gen.cc, seccomp_profile.cc, default_seccomp.cc,
// mounts_gen.cc and resources_gen.cc, and by their tests.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/engine/run_config.h"
#include "berth/engine/spec_gen.h"
#include "berth/oci/image.h"
#include "berth/oci/spec.h"

namespace berth::engine::internal {

// Where --init's binary is mounted in the container (docker uses /sbin/docker-init).
inline constexpr std::string_view kInitPath = "/sbin/berth-init";

// --- seccomp (seccomp_profile.cc, default_seccomp.cc) ---

// A rule of a docker-format profile, before its includes/excludes are evaluated.
struct ProfileRule {
  std::vector<std::string> names;
  std::string action;
  std::optional<uint32_t> errno_ret;
  std::vector<oci::SeccompArg> args;
  std::vector<std::string> include_caps, include_arches;  // all caps needed; arch one of
  std::string include_min_kernel;                         // "4.8"
  std::vector<std::string> exclude_caps, exclude_arches;  // any cap or arch excludes
};

struct Profile {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // the old explicit form
  // archMap: a native SCMP arch -> its sub-architectures.
  std::vector<std::pair<std::string, std::vector<std::string>>> arch_map;
  std::vector<std::string> flags;
  std::string listener_path;
  std::string listener_metadata;
  std::vector<ProfileRule> rules;
};

// What the includes/excludes are evaluated against.
struct SeccompContext {
  std::vector<std::string> caps;  // "CAP_SYS_ADMIN", ...
  std::string go_arch;            // "amd64": docker profiles name arches as Go does
  int kernel_major = 0, kernel_minor = 0;
};
SeccompContext HostSeccompContext(const std::vector<std::string>& caps);

// The libseccomp name of the host's native architecture ("SCMP_ARCH_X86_64").
std::string NativeScmpArch(std::string_view go_arch);

Result<Profile> ParseProfile(const Json& j, std::string_view what);
Result<oci::Seccomp> ResolveProfile(const Profile& p, const SeccompContext& ctx);
Profile DockerDefaultProfile();

// --- capabilities and --security-opt (security_gen.cc) ---

// Docker's TweakCapabilities: the default set (all with --privileged), then --cap-drop ALL
// empties it, --cap-add adds (ALL: every capability), --cap-drop removes. Names in any case,
// with or without CAP_; an unknown one is an error naming the flag and the name.
Result<std::vector<std::string>> ComputeCapabilities(const RunConfig& run);
// Every capability the running kernel knows (--privileged).
std::vector<std::string> AllKernelCapabilities();

struct SecurityOptions {
  enum class Seccomp { kDefault, kUnconfined, kProfile };
  Seccomp seccomp = Seccomp::kDefault;
  std::string seccomp_profile;  // path for kProfile
  bool no_new_privileges = false;
  bool unmask_paths = false;  // systempaths=unconfined
};
Result<SecurityOptions> ParseSecurityOptions(const std::vector<std::string>& opts);

// --- mounts (mounts_gen.cc) ---

struct MountsResult {
  std::vector<oci::Mount> mounts;
  std::string rootfs_propagation;  // "rshared"/"rslave" when a bind asks for it
};
// Default mounts, /etc files, -v/--mount/--tmpfs, image volumes, and --init's binary.
// Creates missing -v bind sources (docker does); a missing --mount source is an error.
Result<MountsResult> GenerateMounts(const oci::ContainerConfig& image, const RunConfig& run,
                                    const SpecInputs& in);
std::vector<std::string> DefaultMaskedPaths();
std::vector<std::string> DefaultReadonlyPaths();

// --- resources, devices, sysctls, rlimits (resources_gen.cc) ---

// --device entries as linux.devices (a directory adds every node under it).
Result<std::vector<oci::Device>> DevicesFromMappings(const std::vector<DeviceMapping>& maps);
// Every char/block node under the host's /dev (--privileged).
std::vector<oci::Device> HostDevices();
// Docker's device cgroup rules: deny all, mknod of any node, the default nodes and ptys,
// then one rule per --device node.
std::vector<oci::DeviceRule> DefaultDeviceRules();
Result<oci::Resources> GenerateResources(const RunConfig& run,
                                         const std::vector<oci::Device>& devices,
                                         const std::vector<DeviceMapping>& maps);
Result<std::map<std::string, std::string>> CheckSysctls(const RunConfig& run);
// --ulimit as rlimits, with nofile defaulting to 1048576 capped to the caller's hard limit.
Result<std::vector<oci::Rlimit>> GenerateRlimits(const RunConfig& run);

}  // namespace berth::engine::internal
