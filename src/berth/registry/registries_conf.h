// berth/registry: where a name is pulled from, per containers-registries.conf(5), the file
// podman, skopeo and buildah read (so one file configures them all):
//
//   unqualified-search-registries = ["reg.internal:5000", "docker.io"]
//   [[registry]]
//   prefix = "docker.io"            # names under this prefix (default: location)
//   location = "docker.io"          # where they really are (host[:port][/path])
//   insecure = false                # plain HTTP / no certificate checks allowed
//   blocked = false
//   [[registry.mirror]]
//   location = "mirror.internal:5000/dockerhub"
//   insecure = true
//
// A short name ("busybox") is tried in each search registry in order (docker.io alone when
// the list is empty, as docker does); a pull tries the mirrors of the longest matching
// prefix first, then the location. Push goes to the location only.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/reference.h"

namespace berth::registry {

struct RegistryMirror {
  std::string location;
  bool insecure = false;
};

struct RegistryEntry {
  std::string prefix;
  std::string location;
  bool insecure = false;
  bool blocked = false;
  std::vector<RegistryMirror> mirrors;
};

struct RegistriesConf {
  std::vector<std::string> search;
  std::vector<RegistryEntry> registries;
  std::string path;  // where it was read from (empty: none)

  // $CONTAINERS_REGISTRIES_CONF, else /etc/containers/registries.conf; a missing file is an
  // empty configuration, a broken one an error naming the file and line.
  static Result<RegistriesConf> Load();
  static Result<RegistriesConf> LoadFile(const std::string& path);
  static Result<RegistriesConf> Parse(std::string_view text, std::string_view what);
};

// One place to pull from: the reference to ask that registry for, and whether it may be
// spoken to insecurely.
struct PullSource {
  oci::Reference reference;  // what to ask the registry for
  oci::Reference name;       // what the image is called once pulled
  bool insecure = false;
  bool mirror = false;
};

// True when `text` names its registry ("reg:5000/x", "localhost/x", "docker.io/x") rather than
// being a short name ("busybox", "library/busybox").
bool IsFullyQualified(std::string_view text);

// Where to look for `text`, in order. Errors: a bad name, a blocked registry.
Result<std::vector<PullSource>> PullSources(const RegistriesConf& conf, std::string_view text);
// Where a push of `ref` goes (location rewriting applies, mirrors do not).
Result<PullSource> PushTarget(const RegistriesConf& conf, const oci::Reference& ref);

}  // namespace berth::registry
