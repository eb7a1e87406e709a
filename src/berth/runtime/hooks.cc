#include "berth/runtime/hooks.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "berth/base/file.h"
#include "berth/base/json.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/sys/process.h"

namespace berth::runtime {

std::string HookStateJson(const std::string& id, std::string_view status, int pid,
                          const std::string& bundle,
                          const std::map<std::string, std::string>& annotations) {
  OrderedJson j;
  j["ociVersion"] = std::string(oci::kSpecVersion);
  j["id"] = id;
  j["status"] = std::string(status);
  if (pid > 0) j["pid"] = pid;
  j["bundle"] = bundle;
  if (!annotations.empty()) j["annotations"] = annotations;
  return j.dump();
}

static Status RunHook(const oci::Hook& hook, std::string_view kind, size_t index,
                      const std::string& state_json, const std::string& bundle) {
  std::string what = StrCat(kind, " hook #", static_cast<uint64_t>(index), " ", Quote(hook.path));
  // Hook output is captured so a failing hook's message reaches the user.
  int out = ::memfd_create("berth-hook-output", MFD_CLOEXEC);
  if (out < 0) return ErrnoFail(StrCat(what, ": memfd_create"));
  UniqueFd out_fd(out);

  sys::SpawnOptions opts;
  opts.path = hook.path;
  opts.args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  opts.env = hook.env;
  opts.inherit_env = hook.env.empty();
  opts.cwd = bundle;
  opts.stdin_data = state_json;
  opts.stdout_fd = out;
  opts.stderr_fd = out;
  BERTH_ASSIGN_OR_RETURN_CTX(sys::ChildProcess child, sys::Spawn(opts), what);

  std::optional<int> status;
  if (hook.timeout && *hook.timeout > 0) {
    BERTH_ASSIGN_OR_RETURN_CTX(status, child.WaitFor(std::chrono::seconds(*hook.timeout)), what);
    if (!status) {
      child.KillAndReap();
      return Fail(ErrorCode::kTimeout, StrCat(what, ": timed out after ", *hook.timeout, "s"));
    }
  } else {
    BERTH_ASSIGN_OR_RETURN_CTX(int st, child.Wait(), what);
    status = st;
  }
  int code = sys::ExitCodeFromWaitStatus(*status);
  if (code != 0) {
    ::lseek(out, 0, SEEK_SET);
    std::string output = ReadFd(out, "hook output").value_or("");
    if (output.size() > 4096) output.resize(4096);
    std::string msg = StrCat(what, ": exit status ", code);
    if (code == 127 && output.empty()) msg += " (could not execute)";
    if (!Trim(output).empty()) msg += StrCat(": ", Trim(output));
    return Fail(ErrorCode::kFailedPrecondition, msg);
  }
  return Ok();
}

Status RunHooks(const std::vector<oci::Hook>& hooks, std::string_view kind,
                const std::string& state_json, const std::string& bundle) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    BERTH_TRY(RunHook(hooks[i], kind, i, state_json, bundle));
  }
  return Ok();
}

void RunHooksBestEffort(const std::vector<oci::Hook>& hooks, std::string_view kind,
                        const std::string& state_json, const std::string& bundle) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    auto st = RunHook(hooks[i], kind, i, state_json, bundle);
    if (!st) log::Warn(st.error().message());
  }
}

}  // namespace berth::runtime
