// berth/engine: the OCI runtime spec of a container, from its image config and RunConfig,
// as docker builds it: Entrypoint/Cmd/Env/WorkingDir/User/StopSignal from the image with
// the flags on top; docker's default capabilities, seccomp profile, masked and read-only
// paths and devices; --privileged lifting them; resources, ulimits, sysctls, devices,
// mounts (bind, named volumes, tmpfs), read-only rootfs, --init, hostname.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/engine/run_config.h"
#include "berth/oci/image.h"
#include "berth/oci/spec.h"

namespace berth::engine {

// The cgroup under each hierarchy's root that holds the containers' cgroups.
inline constexpr std::string_view kCgroupParent = "berth";

struct SpecInputs {
  std::string container_id;
  std::string rootfs;               // absolute path of the mounted snapshot
  std::string hostname;             // chosen by the engine (first 12 of the id by default)
  std::string hosts_file;           // host files bind-mounted at /etc/hosts, /etc/resolv.conf, /etc/hostname
  std::string resolv_conf;
  std::string hostname_file;
  std::string init_binary;          // host path of berth's init, for --init
  std::string cgroup_parent{kCgroupParent};  // cgroupsPath becomes "/berth/<id>"
  // Named volumes resolved by the engine: target -> host directory.
  std::vector<std::pair<std::string, std::string>> volume_dirs;
  std::string netns_path;           // empty: a new netns (none) unless network=host
};

// The user string of `--user`/image User ("name", "uid", "uid:gid", "name:group") resolved
// against the rootfs's /etc/passwd and /etc/group (read safely inside `rootfs`), with
// supplementary groups. Unknown names are an error naming them.
Result<oci::User> ResolveUser(const std::string& rootfs, std::string_view user,
                              const std::vector<std::string>& group_add);

// The effective argv (entrypoint + cmd as docker combines them); an error when empty
// ("no command specified").
Result<std::vector<std::string>> EffectiveArgs(const oci::ContainerConfig& image,
                                               const RunConfig& run);

Result<oci::Spec> GenerateSpec(const oci::ContainerConfig& image, const RunConfig& run,
                               const SpecInputs& in);

// Docker's default capability set and seccomp profile (as an oci::Seccomp).
std::vector<std::string> DefaultCapabilities();
oci::Seccomp DefaultSeccompProfile();
// A docker/podman seccomp profile file (the JSON format with "defaultAction",
// "syscalls", "archMap"...) as an oci::Seccomp.
Result<oci::Seccomp> LoadSeccompProfile(const std::string& path);

// The same with the profile's capability conditions ("includes"/"excludes" caps) evaluated
// against `caps` (the container's bounding set) rather than DefaultCapabilities().
oci::Seccomp DefaultSeccompProfile(const std::vector<std::string>& caps);
Result<oci::Seccomp> LoadSeccompProfile(const std::string& path,
                                        const std::vector<std::string>& caps);

}  // namespace berth::engine
