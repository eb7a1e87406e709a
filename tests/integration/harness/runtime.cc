#include "harness/runtime.h"

#include <thread>

namespace berth::itest {

CommandResult Runtime::Run(const std::vector<std::string>& args, const CommandOptions& opts) const {
  std::vector<std::string> argv = {binary_, "--root", root_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, work_dir_, opts);
}

CommandResult Runtime::RunNoRoot(const std::vector<std::string>& args,
                                 const CommandOptions& opts) const {
  std::vector<std::string> argv = {binary_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, work_dir_, opts);
}

CommandResult Runtime::Create(const std::string& id, const std::string& bundle,
                              const std::vector<std::string>& extra,
                              const CommandOptions& opts) const {
  std::vector<std::string> args = {"create", "--bundle", bundle};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  return Run(args, opts);
}

CommandResult Runtime::Start(const std::string& id) const { return Run({"start", id}); }

CommandResult Runtime::RunContainer(const std::string& id, const std::string& bundle,
                                    const std::vector<std::string>& extra,
                                    const CommandOptions& opts) const {
  std::vector<std::string> args = {"run", "--bundle", bundle};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  return Run(args, opts);
}

CommandResult Runtime::State(const std::string& id) const { return Run({"state", id}); }

CommandResult Runtime::Kill(const std::string& id, const std::string& signal,
                            const std::vector<std::string>& extra) const {
  std::vector<std::string> args = {"kill"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id);
  if (!signal.empty()) args.push_back(signal);
  return Run(args);
}

CommandResult Runtime::Delete(const std::string& id, bool force) const {
  if (force) return Run({"delete", "--force", id});
  return Run({"delete", id});
}

CommandResult Runtime::Exec(const std::string& id, const std::vector<std::string>& args,
                            const std::vector<std::string>& flags,
                            const CommandOptions& opts) const {
  std::vector<std::string> a = {"exec"};
  a.insert(a.end(), flags.begin(), flags.end());
  a.push_back(id);
  a.insert(a.end(), args.begin(), args.end());
  return Run(a, opts);
}

std::optional<Json> Runtime::StateJson(const std::string& id) const {
  CommandResult r = State(id);
  if (!r.ok()) return std::nullopt;
  Json j = Json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  return j;
}

std::string Runtime::Status(const std::string& id) const {
  auto s = StateJson(id);
  return s ? s->value("status", "") : "";
}

int Runtime::Pid(const std::string& id) const {
  auto s = StateJson(id);
  return s ? s->value("pid", 0) : 0;
}

std::string Runtime::WaitForStatus(const std::string& id, const std::string& want,
                                   std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string status;
  for (;;) {
    status = Status(id);
    if (status == want || std::chrono::steady_clock::now() >= deadline) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace berth::itest
