#include "harness/fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/sys/mountinfo.h"

namespace berth::itest {

namespace fs = std::filesystem;

namespace {

// Removes `dir` unless something is still mounted under it: rm -rf must never walk into a
// leaked bind mount of a host directory.
void SafeRemoveTree(const std::string& dir) {
  if (auto mounts = sys::ReadMountInfo("/proc/self/mountinfo")) {
    for (const auto& m : *mounts) {
      if (m.mount_point == dir || m.mount_point.starts_with(dir + "/")) {
        ADD_FAILURE() << "not removing " << dir << ": " << m.mount_point << " is mounted";
        return;
      }
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

std::vector<std::string> Sh(const std::string& script) { return {"/bin/sh", "-c", script}; }

void RuntimeTest::SetUp() {
  if (!HaveRoot()) GTEST_SKIP() << "needs root with CAP_SYS_ADMIN";
  std::string rt = RuntimePath();
  if (rt.empty() || ::access(rt.c_str(), X_OK) != 0) {
    GTEST_SKIP() << "no runtime to test: set BERTH_RUNTIME (or build berth-runtime)";
  }
  if (ProbePath().empty() || ::access(ProbePath().c_str(), X_OK) != 0) {
    GTEST_SKIP() << "BERTH_PROBE does not name the probe binary";
  }
  if (BusyboxPath().empty()) GTEST_SKIP() << "needs busybox-static";

  static std::atomic<int> counter{0};
  // The trailing 't' keeps one tag from being a prefix of another (x1t vs x12t).
  tag_ = StrCat("bt", ::getpid(), "x", ++counter, "t");
  dir_ = StrCat(TempBase(), "/", tag_);
  ASSERT_TRUE(MkdirAll(TempBase(), 0755).has_value());
  ::chmod(TempBase().c_str(), 0755);
  state_root_ = dir_ + "/state";
  leak_checker_ = std::make_unique<LeakChecker>(tag_, dir_, state_root_);
  if (PathExists(dir_)) {  // a stale dir from a crashed run whose pid was reused
    leak_checker_->ForceCleanup({});
    SafeRemoveTree(dir_);
  }
  ASSERT_TRUE(MkdirAll(dir_ + "/cmd", 0755).has_value());
  ::chmod(dir_.c_str(), 0755);
  ASSERT_TRUE(MkdirAll(state_root_, 0700).has_value());
  runtime_ = std::make_unique<Runtime>(rt, state_root_, dir_ + "/cmd");
  auto b = Bundle::Create(dir_ + "/bundle");
  ASSERT_TRUE(b.has_value()) << b.error().message();
  bundle_ = std::move(*b);
  SetEnv(bundle_->spec(), "BERTH_ITEST=" + tag_);
  leak_checker_->Baseline();
  set_up_ = true;
}

void RuntimeTest::TearDown() {
  if (!set_up_) return;
  RunCleanups();
  // Scenarios end with their own delete: leaks are judged before our force-delete, which
  // would otherwise hide a runtime that forgets to clean up after `run` or `delete`. A test
  // that already failed halfway is not judged again.
  if (!HasFailure()) {
    auto found = leak_checker_->CheckEventually(ids_, std::chrono::seconds(5));
    EXPECT_TRUE(found.empty()) << "left on the host after the test:\n  " << Join(found, "\n  ");
  }
  for (const auto& id : ids_) {
    CommandOptions opts;
    opts.timeout = std::chrono::seconds(30);
    (void)runtime_->Run({"delete", "--force", id}, opts);
  }
  leak_checker_->ForceCleanup(ids_);
  SafeRemoveTree(dir_);
}

std::string RuntimeTest::NewId() {
  std::string id = StrCat(tag_, "-", ids_.size() + 1);
  ids_.push_back(id);
  return id;
}

std::optional<Bundle> RuntimeTest::NewBundle() {
  auto b = Bundle::Create(StrCat(dir_, "/bundle", ++next_bundle_));
  if (!b) {
    ADD_FAILURE() << "bundle: " << b.error().message();
    return std::nullopt;
  }
  SetEnv(b->spec(), "BERTH_ITEST=" + tag_);
  return std::move(*b);
}

std::string RuntimeTest::MakeHostDir(const std::string& name) {
  std::string p = dir_ + "/" + name;
  EXPECT_TRUE(MkdirAll(p, 0755).has_value()) << p;
  ::chmod(p.c_str(), 0755);
  return p;
}

CommandResult RuntimeTest::RunProbe(const std::vector<std::string>& args, Bundle* b,
                                    const std::vector<std::string>& run_flags) {
  Bundle& target = b ? *b : *bundle_;
  SetArgs(target.spec(), args);
  return RunBundle(NewId(), target, run_flags);
}

CommandResult RuntimeTest::RunBundle(const std::string& id, Bundle& b,
                                     const std::vector<std::string>& run_flags,
                                     const CommandOptions& opts) {
  EXPECT_TRUE(b.Write().has_value());
  return runtime_->RunContainer(id, b.dir(), run_flags, opts);
}

CommandResult RuntimeTest::CreateAndStart(const std::string& id, Bundle& b,
                                          const std::vector<std::string>& create_flags) {
  EXPECT_TRUE(b.Write().has_value());
  CommandResult c = runtime_->Create(id, b.dir(), create_flags);
  EXPECT_TRUE(c.ok()) << c.Describe();
  if (!c.ok()) return c;
  CommandResult s = runtime_->Start(id);
  EXPECT_TRUE(s.ok()) << s.Describe();
  return c;
}

Json RuntimeTest::WaitForProbeLine(const CommandResult& r, std::string_view cmd,
                                   std::string_view key, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (auto& j : ProbeLinesFor(r.ReadOut(), cmd)) {
      if (key.empty() || j.contains(std::string(key))) return j;
    }
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ADD_FAILURE() << "no probe line cmd=" << cmd << (key.empty() ? "" : " with ") << key << " within "
                << timeout.count() << " ms; output so far:\n"
                << r.ReadOut() << "\nstderr:\n"
                << r.ReadErr();
  return Json::object();
}

void RuntimeTest::RunCleanups() {
  auto fns = std::move(cleanups_);
  cleanups_.clear();
  for (auto it = fns.rbegin(); it != fns.rend(); ++it) (*it)();
}

void RuntimeTest::ExpectNoLeaks(std::chrono::milliseconds timeout) {
  RunCleanups();
  auto found = leak_checker_->CheckEventually(ids_, timeout);
  EXPECT_TRUE(found.empty()) << "left on the host:\n  " << Join(found, "\n  ");
}

}  // namespace berth::itest
