// Integration-test harness: the OCI config.json the tests start from, and small edits.
//
// DefaultSpec() is what `runc spec` writes (runc 1.1), built in code, with two changes for
// tests: terminal is false and process.args runs the probe (`/probe report`). Tests edit
// the JSON directly for anything the helpers below do not cover.
#pragma once

#include <string>
#include <vector>

#include "berth/base/json.h"

namespace berth::itest {

Json DefaultSpec();

void SetArgs(Json& spec, const std::vector<std::string>& args);
// Appends KEY=VALUE, replacing an existing KEY.
void SetEnv(Json& spec, const std::string& kv);

// Appends a mount (after the defaults, so it may mount over them).
void AddMount(Json& spec, const std::string& destination, const std::string& type,
              const std::string& source, const std::vector<std::string>& options = {});
void RemoveMount(Json& spec, const std::string& destination);
// The mount entry with `destination`, or nullptr.
Json* FindMount(Json& spec, const std::string& destination);

// Adds the namespace (or sets its path when present); path "" means a new namespace.
void SetNamespace(Json& spec, const std::string& type, const std::string& path = "");
void RemoveNamespace(Json& spec, const std::string& type);
bool HasNamespace(const Json& spec, const std::string& type);

// Appends a hook of `kind` (prestart, createRuntime, ...); timeout 0 means none.
void AddHook(Json& spec, const std::string& kind, const std::string& path,
             const std::vector<std::string>& args, int timeout_seconds = 0,
             const std::vector<std::string>& env = {});

// A user namespace mapping container 0..size-1 to host base..base+size-1 for uids and gids.
void SetUserNamespace(Json& spec, uint32_t host_base, uint32_t size);

// Capability names for all five sets at once.
void SetAllCaps(Json& spec, const std::vector<std::string>& caps);

}  // namespace berth::itest
