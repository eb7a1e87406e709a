// berth/oci: image references as docker and podman write them, normalized:
//   busybox                 -> docker.io/library/busybox:latest
//   localhost/busybox       -> localhost/busybox:latest
//   reg:5000/a/b@sha256:... -> domain "reg:5000", path "a/b", digest
// A first component with a '.' or ':' or equal to "localhost" is a registry domain.
#pragma once

#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::oci {

struct Reference {
  std::string domain;  // "docker.io"
  std::string path;    // "library/busybox"
  std::string tag;     // empty when only a digest was given
  std::string digest;  // "sha256:..." or empty

  std::string Name() const;    // domain/path
  std::string String() const;  // domain/path[:tag][@digest]
  // The familiar form docker prints: "busybox:latest", "reg:5000/a/b:1".
  std::string Familiar() const;
  bool operator==(const Reference&) const = default;
};

// Parses and normalizes; adds tag "latest" when neither tag nor digest is given. Errors name
// the reference and what is wrong with it (uppercase repository, bad tag, bad digest, ...).
Result<Reference> ParseReference(std::string_view text);

// True when `text` looks like an image id or a unique prefix of one (hex, >= 3 chars) rather
// than a name: callers try ids first, as docker does.
bool LooksLikeIdPrefix(std::string_view text);

}  // namespace berth::oci
