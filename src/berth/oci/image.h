// berth/oci: the OCI image-spec (and Docker image manifest v2 schema 2) models: descriptors,
// manifests, indexes, image configs. Parse*() are strict about types and name the field at
// fault ("manifest: layers[2].digest: expected a string"); unknown properties are ignored.
// ToJson() writes the canonical form (used for configs and manifests berth creates).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::oci {

namespace media {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
}  // namespace media

enum class Compression { kNone, kGzip, kZstd };
// The compression a layer media type declares; an error names an unknown type.
Result<Compression> LayerCompression(std::string_view media_type);
bool IsIndexMediaType(std::string_view media_type);
bool IsManifestMediaType(std::string_view media_type);

struct Platform {
  std::string architecture;  // "amd64"
  std::string os;            // "linux"
  std::string variant;
  std::string os_version;
  std::vector<std::string> os_features;
  bool operator==(const Platform&) const = default;
};
// The platform berth runs images for: linux/amd64 on x86_64 (from uname otherwise).
Platform HostPlatform();

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<64 hex>", validated by the parsers
  int64_t size = 0;
  std::vector<std::string> urls;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
  std::string artifact_type;
  bool operator==(const Descriptor&) const = default;
};

struct Manifest {
  int schema_version = 2;
  std::string media_type;  // may be empty in OCI manifests
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
  bool operator==(const Manifest&) const = default;
};

struct Index {
  int schema_version = 2;
  std::string media_type;
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  bool operator==(const Index&) const = default;
};
// The entry of `index` for `want` (os/architecture, variant when given), or kNotFound
// listing the platforms the index offers.
Result<Descriptor> SelectPlatform(const Index& index, const Platform& want);

struct HealthConfig {
  std::vector<std::string> test;  // ["CMD", ...], ["CMD-SHELL", "..."], ["NONE"]
  int64_t interval_ns = 0;
  int64_t timeout_ns = 0;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 0;
  int retries = 0;
  bool operator==(const HealthConfig&) const = default;
};

// The "config" object of an image config: what `docker run` applies by default.
struct ContainerConfig {
  std::string user;
  std::vector<std::string> exposed_ports;  // "80/tcp"
  std::vector<std::string> env;            // "K=V"
  std::optional<std::vector<std::string>> entrypoint;
  std::optional<std::vector<std::string>> cmd;
  std::vector<std::string> volumes;  // paths
  std::string working_dir;
  std::map<std::string, std::string> labels;
  std::string stop_signal;
  std::optional<HealthConfig> healthcheck;  // Docker extension
  std::vector<std::string> shell;           // Docker extension
  std::vector<std::string> on_build;        // Docker extension
  bool args_escaped = false;
  bool operator==(const ContainerConfig&) const = default;
};

struct HistoryEntry {
  std::string created;  // RFC 3339
  std::string created_by;
  std::string author;
  std::string comment;
  bool empty_layer = false;
  bool operator==(const HistoryEntry&) const = default;
};

struct ImageConfig {
  std::string created;  // RFC 3339, may be empty
  std::string author;
  std::string architecture;
  std::string os;
  std::string variant;
  ContainerConfig config;
  std::string rootfs_type = "layers";
  std::vector<std::string> diff_ids;  // "sha256:..." of each uncompressed layer, bottom first
  std::vector<HistoryEntry> history;
  bool operator==(const ImageConfig&) const = default;
};

// `what` names the document in errors ("manifest sha256:ab12...").
Result<Manifest> ParseManifest(std::string_view json, std::string_view what = "manifest");
Result<Index> ParseIndex(std::string_view json, std::string_view what = "index");
Result<ImageConfig> ParseImageConfig(std::string_view json, std::string_view what = "image config");
Result<Descriptor> ParseDescriptor(const Json& j, std::string_view what);

Json ToJson(const Descriptor& d);
Json ToJson(const Manifest& m);
Json ToJson(const Index& i);
Json ToJson(const ImageConfig& c);
Json ToJson(const ContainerConfig& c);

// "sha256:<64 lowercase hex>" (the only algorithm berth writes; sha512 accepted by
// ValidateDigest for reading descriptors).
Status ValidateDigest(std::string_view digest);

}  // namespace berth::oci
