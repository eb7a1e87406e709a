// Integration-test harness: the runtime under test as a command line.
//
// Every invocation gets `--root <private dir>` so tests never see each other's containers
// (ctest runs binaries in parallel). The methods mirror runc's CLI; Run() takes anything.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/json.h"
#include "harness/command.h"

namespace berth::itest {

class Runtime {
 public:
  Runtime(std::string binary, std::string root, std::string work_dir)
      : binary_(std::move(binary)), root_(std::move(root)), work_dir_(std::move(work_dir)) {}

  const std::string& binary() const { return binary_; }
  const std::string& root() const { return root_; }

  // BINARY --root ROOT ARGS...
  CommandResult Run(const std::vector<std::string>& args, const CommandOptions& opts = {}) const;
  // BINARY ARGS... without --root (for --version, spec, features).
  CommandResult RunNoRoot(const std::vector<std::string>& args,
                          const CommandOptions& opts = {}) const;

  CommandResult Create(const std::string& id, const std::string& bundle,
                       const std::vector<std::string>& extra = {},
                       const CommandOptions& opts = {}) const;
  CommandResult Start(const std::string& id) const;
  // `run` in the foreground (waits for the container to exit).
  CommandResult RunContainer(const std::string& id, const std::string& bundle,
                             const std::vector<std::string>& extra = {},
                             const CommandOptions& opts = {}) const;
  CommandResult State(const std::string& id) const;
  CommandResult Kill(const std::string& id, const std::string& signal = "",
                     const std::vector<std::string>& extra = {}) const;
  CommandResult Delete(const std::string& id, bool force = false) const;
  CommandResult Exec(const std::string& id, const std::vector<std::string>& args,
                     const std::vector<std::string>& flags = {},
                     const CommandOptions& opts = {}) const;

  // `state ID` parsed; nullopt if it failed or did not print JSON.
  std::optional<Json> StateJson(const std::string& id) const;
  // "created", "running", ...; "" if state failed.
  std::string Status(const std::string& id) const;
  int Pid(const std::string& id) const;
  // Polls `state` until the status is `want` or `timeout`; returns the last status seen.
  std::string WaitForStatus(const std::string& id, const std::string& want,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  std::string binary_;
  std::string root_;
  std::string work_dir_;
};

}  // namespace berth::itest
