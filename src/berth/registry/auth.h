// berth/registry: credentials and challenges. Credentials live in an auth.json that podman,
// skopeo and docker read too: {"auths": {"reg:5000": {"auth": base64("user:password")}}},
// keys being a registry or a registry/repository prefix (the longest match wins).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::registry {

struct Credentials {
  std::string username;
  std::string password;
};

// `--authfile` when given, else $REGISTRY_AUTH_FILE, else podman's per-user file
// ($XDG_RUNTIME_DIR/containers/auth.json, /run/containers/UID/auth.json for root).
std::string DefaultAuthFile();

// Looks `registry` (and `registry/repository` prefixes) up in `auth_file`, then in docker's
// ~/.docker/config.json. nullopt when nothing matches; an unreadable file is an error.
Result<std::optional<Credentials>> LookupCredentials(const std::string& auth_file,
                                                     std::string_view registry,
                                                     std::string_view repository);
// Adds or replaces the entry `key`; the file is rewritten atomically with mode 0600 and other
// entries (and unknown fields) kept.
Status StoreCredentials(const std::string& auth_file, std::string_view key,
                        const Credentials& credentials);
// Removes `key`; false when there was no such entry.
Result<bool> RemoveCredentials(const std::string& auth_file, std::string_view key);
Status RemoveAllCredentials(const std::string& auth_file);

// One challenge of a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."`.
struct Challenge {
  std::string scheme;  // lowercased: "basic", "bearer"
  std::map<std::string, std::string> params;  // names lowercased
};
std::vector<Challenge> ParseWwwAuthenticate(std::string_view header);

}  // namespace berth::registry
