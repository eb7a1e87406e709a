// Integration-test harness: which binaries the suite runs, and facts about the host.
//
//   BERTH_RUNTIME        the runtime under test (e.g. /usr/sbin/runc to check the tests)
//   BERTH_RUNTIME_BUILT  set by CMake: the berth-runtime built with the tests
//   BERTH_PROBE          the static probe binary copied into every rootfs (default: the
//                        build's tests/probe/berth-probe next to the test binary)
//   BERTH_ITEST_TMP      where bundles go (default /tmp/berth-itest)
#pragma once

#include <string>

namespace berth::itest {

// $BERTH_RUNTIME, else $BERTH_RUNTIME_BUILT; empty if neither is set.
std::string RuntimePath();
std::string ProbePath();
std::string BusyboxPath();  // a static busybox for the rootfs ("" if none)
std::string TempBase();

// First line of `RUNTIME --version` (cached).
const std::string& RuntimeVersionLine();
// True when the runtime under test is runc (berth-specific expectations are skipped).
bool RuntimeIsRunc();

// Whether the test process has CAP_SYS_ADMIN (effective); the suite needs root.
bool HaveRoot();

// Host facts.
bool HostHasCgroupV1(const std::string& controller);  // /sys/fs/cgroup/<controller>
bool HostIsCgroupV2Unified();                         // /sys/fs/cgroup is cgroup2
bool HostHasTimeNamespace();

}  // namespace berth::itest

// Skips the current test (use in the test body) when the runtime is runc, for expectations
// that only berth meets (its error wording, failpoints, clamping).
#define BERTH_SKIP_IF_RUNC(reason)                                             \
  do {                                                                         \
    if (::berth::itest::RuntimeIsRunc()) GTEST_SKIP() << "runc: " << (reason); \
  } while (0)
