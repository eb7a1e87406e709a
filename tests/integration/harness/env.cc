#include "harness/env.h"

#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "harness/command.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace berth::itest {

namespace {

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

std::string RuntimePath() {
  std::string p = Getenv("BERTH_RUNTIME");
  return p.empty() ? Getenv("BERTH_RUNTIME_BUILT") : p;
}

std::string ProbePath() {
  std::string p = Getenv("BERTH_PROBE");
  if (!p.empty()) return p;
  // Next to the build's test binaries: <build>/tests/integration/X -> <build>/tests/probe.
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  auto probe = self.parent_path().parent_path() / "probe" / "berth-probe";
  return ::access(probe.c_str(), X_OK) == 0 ? probe.string() : "";
}

std::string BusyboxPath() {
  for (const char* p : {"/bin/busybox", "/usr/bin/busybox"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

std::string TempBase() {
  std::string p = Getenv("BERTH_ITEST_TMP");
  return p.empty() ? "/tmp/berth-itest" : p;
}

const std::string& RuntimeVersionLine() {
  static std::once_flag once;
  static std::string line;
  std::call_once(once, [] {
    std::string rt = RuntimePath();
    if (rt.empty()) return;
    CommandOptions opts;
    opts.timeout = std::chrono::seconds(20);
    (void)MkdirAll(TempBase(), 0755);
    CommandResult r = RunCommand({rt, "--version"}, TempBase(), opts);
    line = std::string(Trim(r.out.substr(0, r.out.find('\n'))));
    (void)::unlink(r.out_path.c_str());
    (void)::unlink(r.err_path.c_str());
  });
  return line;
}

bool RuntimeIsRunc() { return RuntimeVersionLine().starts_with("runc"); }

bool HaveRoot() {
  auto status = ReadFile("/proc/self/status");
  if (!status) return false;
  size_t p = status->find("CapEff:");
  if (p == std::string::npos) return false;
  uint64_t eff = std::strtoull(status->c_str() + p + 7, nullptr, 16);
  return ::geteuid() == 0 && (eff & (1ULL << 21));  // CAP_SYS_ADMIN
}

bool HostHasCgroupV1(const std::string& controller) {
  struct statfs sf;
  std::string p = "/sys/fs/cgroup/" + controller;
  return ::statfs(p.c_str(), &sf) == 0 && sf.f_type != CGROUP2_SUPER_MAGIC &&
         PathExists(p + "/cgroup.procs");
}

bool HostIsCgroupV2Unified() {
  struct statfs sf;
  return ::statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

bool HostHasTimeNamespace() { return PathExists("/proc/self/ns/time"); }

}  // namespace berth::itest
