// Integration-test harness: the gtest fixture every runtime test derives from.
//
// SetUp gives each test a unique tag, a temp dir named after it (bundles, the runtime's
// private --root, command output), a default bundle and a leak baseline. TearDown runs the
// test's cleanups, asserts that nothing is left on the host (LeakChecker; so every scenario
// ends with its own `delete`), then force-deletes every container id the test made and
// removes whatever is left, so one failure does not cascade into the next test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/json.h"
#include "harness/bundle.h"
#include "harness/command.h"
#include "harness/env.h"
#include "harness/leak_checker.h"
#include "harness/probe_output.h"
#include "harness/runtime.h"
#include "harness/spec.h"

namespace berth::itest {

class RuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& tag() const { return tag_; }
  // The test's temp dir (0755); everything the test creates on the host goes under it.
  const std::string& dir() const { return dir_; }
  const Runtime& rt() const { return *runtime_; }
  Bundle& bundle() { return *bundle_; }

  // A unique container id (registered for force-delete and leak checks).
  std::string NewId();
  // A further bundle under dir(); fails the test (and returns nullopt) on error.
  std::optional<Bundle> NewBundle();
  // A host directory dir()/name (mode 0755), for bind mounts and hook logs.
  std::string MakeHostDir(const std::string& name);

  // Sets process.args of `b` (default bundle if null), writes config.json and runs the
  // container in the foreground under a new id.
  CommandResult RunProbe(const std::vector<std::string>& args, Bundle* b = nullptr,
                         const std::vector<std::string>& run_flags = {});
  // Writes the bundle's config and runs it in the foreground under `id`.
  CommandResult RunBundle(const std::string& id, Bundle& b,
                          const std::vector<std::string>& run_flags = {},
                          const CommandOptions& opts = {});
  // Writes config, `create` + `start`. The container's stdout lands in the returned create
  // result's out file. Fails the test if either step fails.
  CommandResult CreateAndStart(const std::string& id, Bundle& b,
                               const std::vector<std::string>& create_flags = {});

  // Polls the output of `r` (a create or run -d whose container writes to it) until a probe
  // line with "cmd" == cmd (and, if given, containing `key`) appears.
  Json WaitForProbeLine(const CommandResult& r, std::string_view cmd, std::string_view key = "",
                        std::chrono::milliseconds timeout = std::chrono::seconds(15));

  // Ends the scenario: runs the test's cleanups (its own helpers: host mounts, netns), then
  // asserts (non-fatally) that nothing of this test is left on the host.
  void ExpectNoLeaks(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Releases a helper resource of the test; runs at ExpectNoLeaks or TearDown, whichever
  // comes first, in reverse order of adding.
  void AddCleanup(std::function<void()> fn) { cleanups_.push_back(std::move(fn)); }
  void RunCleanups();

  const LeakChecker& leaks() const { return *leak_checker_; }
  const std::vector<std::string>& ids() const { return ids_; }

 private:
  std::string tag_;
  std::string dir_;
  std::string state_root_;
  std::unique_ptr<Runtime> runtime_;
  std::optional<Bundle> bundle_;
  std::unique_ptr<LeakChecker> leak_checker_;
  std::vector<std::string> ids_;
  std::vector<std::function<void()>> cleanups_;
  int next_bundle_ = 0;
  bool set_up_ = false;
};

// "sh -c SCRIPT" as args.
std::vector<std::string> Sh(const std::string& script);

}  // namespace berth::itest
