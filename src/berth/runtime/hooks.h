// berth/runtime: OCI hooks. Each hook is run with the container state JSON on stdin, its own
// args and env, and an optional timeout after which it is killed. Failures of prestart,
// createRuntime, createContainer and startContainer hooks fail the container; failures of
// poststart and poststop hooks are logged as warnings (as the runtime-spec says).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/oci/spec.h"

namespace berth::runtime {

// The state object hooks receive on stdin.
std::string HookStateJson(const std::string& id, std::string_view status, int pid,
                          const std::string& bundle,
                          const std::map<std::string, std::string>& annotations);

// Runs `hooks` in order; `kind` names them in errors ("createRuntime"). Like runc, a hook runs
// in the bundle directory (when it exists where the hook runs) and, when its `env` is empty,
// with the runtime's environment.
Status RunHooks(const std::vector<oci::Hook>& hooks, std::string_view kind,
                const std::string& state_json, const std::string& bundle);

// Runs them and logs failures instead of returning them (poststart, poststop).
void RunHooksBestEffort(const std::vector<oci::Hook>& hooks, std::string_view kind,
                        const std::string& state_json, const std::string& bundle);

}  // namespace berth::runtime
