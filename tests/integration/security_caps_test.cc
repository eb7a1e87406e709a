// Integration tests for capabilities on the real kernel, as root: a forked child runs the
// container init's sequence (PrepareCapabilities -> setgroups/setresgid/setresuid ->
// ApplyCapabilities, then optionally exec) and /proc/self/status shows exactly the sets asked
// for. Every child is reaped by a ChildProcess.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/runtime/capabilities.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;

struct ChildResult {
  int status = -1;
  std::string out;  // stdout and stderr
};

ChildResult RunChild(const std::function<void()>& fn) {
  ChildResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    fn();
    ::_exit(0);
  }
  ::close(fds[1]);
  auto pidfd = sys::PidfdOpen(pid);
  sys::ChildProcess child(pid, pidfd.has_value() ? std::move(*pidfd) : UniqueFd());
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto st = child.Wait();
  if (st.has_value()) r.status = *st;
  return r;
}

void Say(const std::string& s) { (void)!::write(STDOUT_FILENO, s.data(), s.size()); }

[[noreturn]] void Die(const std::string& s) {
  Say("error: " + s + "\n");
  ::_exit(1);
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// The Cap* lines /proc/self/status shows for these sets.
std::string ExpectedStatus(uint64_t inh, uint64_t prm, uint64_t eff, uint64_t bnd, uint64_t amb) {
  return StrCat("CapInh:\t", Hex(inh), "\nCapPrm:\t", Hex(prm), "\nCapEff:\t", Hex(eff),
                "\nCapBnd:\t", Hex(bnd), "\nCapAmb:\t", Hex(amb), "\n");
}

std::string CapLines(const std::string& status) {
  std::string out;
  for (const std::string& line : Split(status, '\n'))
    if (line.rfind("Cap", 0) == 0) out += line + "\n";
  return out;
}

constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

class CapsIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    auto now = CurrentCapabilities();
    ASSERT_TRUE(now.has_value());
    for (int cap : {CAP_SETUID, CAP_SETGID, CAP_SETPCAP})
      if (!(now->effective & Bit(cap))) GTEST_SKIP() << "needs " << CapabilityName(cap);
    held_ = *now;
  }
  CapabilitySets held_;
};

// Container init with user 1000:1000 and the runtime-spec example's sets.
oci::Capabilities ExampleCaps() {
  oci::Capabilities c;
  c.bounding = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_CHOWN"};
  c.permitted = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.inheritable = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = {"CAP_AUDIT_WRITE", "CAP_KILL"};
  c.ambient = {"CAP_NET_BIND_SERVICE"};
  return c;
}

void BecomeUser(uid_t uid, gid_t gid) {
  if (::setgroups(0, nullptr) != 0) Die("setgroups");
  if (::setresgid(gid, gid, gid) != 0) Die("setresgid");
  if (::setresuid(uid, uid, uid) != 0) Die("setresuid");
}

TEST_F(CapsIntegrationTest, NonRootUserGetsExactlyTheRequestedSets) {
  auto sets = ResolveCapabilities(ExampleCaps());
  ASSERT_TRUE(sets.has_value()) << sets.error().message();
  ChildResult r = RunChild([&] {
    if (auto st = PrepareCapabilities(*sets); !st.has_value()) Die(st.error().message());
    BecomeUser(1000, 1000);
    if (auto st = ApplyCapabilities(*sets); !st.has_value()) Die(st.error().message());
    auto status = ReadFile("/proc/self/status");
    if (!status.has_value()) Die(status.error().message());
    Say(CapLines(*status));
    Say(::getuid() == 1000 && ::getgid() == 1000 ? "uid ok\n" : "uid wrong\n");
  });
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.out;
  const uint64_t audit = Bit(CAP_AUDIT_WRITE), kill = Bit(CAP_KILL),
                 bind = Bit(CAP_NET_BIND_SERVICE), chown = Bit(CAP_CHOWN);
  EXPECT_EQ(r.out, ExpectedStatus(audit | kill | bind, audit | kill | bind, audit | kill,
                                  audit | kill | bind | chown, bind) +
                       "uid ok\n");
}

TEST_F(CapsIntegrationTest, AmbientCarriesAcrossExecForANonRootUser) {
  auto sets = ResolveCapabilities(ExampleCaps());
  ASSERT_TRUE(sets.has_value()) << sets.error().message();
  ChildResult r = RunChild([&] {
    if (auto st = PrepareCapabilities(*sets); !st.has_value()) Die(st.error().message());
    BecomeUser(1000, 1000);
    if (auto st = ApplyCapabilities(*sets); !st.has_value()) Die(st.error().message());
    const char* argv[] = {"/bin/grep", "^Cap", "/proc/self/status", nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    Die("exec grep");
  });
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.out;
  const uint64_t audit = Bit(CAP_AUDIT_WRITE), kill = Bit(CAP_KILL),
                 bind = Bit(CAP_NET_BIND_SERVICE), chown = Bit(CAP_CHOWN);
  // exec of a file without capabilities by a non-root user: permitted and effective become
  // the ambient set; inheritable, bounding and ambient stay.
  EXPECT_EQ(r.out,
            ExpectedStatus(audit | kill | bind, bind, bind, audit | kill | bind | chown, bind));
}

TEST_F(CapsIntegrationTest, RootContainerWithDefaultSetAfterExec) {
  // podman's default set for a root container: the same list in bounding, permitted and
  // effective; nothing inheritable or ambient.
  std::vector<std::string> names = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FOWNER",
                                    "CAP_FSETID",  "CAP_KILL",         "CAP_NET_BIND_SERVICE",
                                    "CAP_SETFCAP", "CAP_SETGID",       "CAP_SETPCAP",
                                    "CAP_SETUID",  "CAP_SYS_CHROOT"};
  oci::Capabilities c;
  c.bounding = c.permitted = c.effective = names;
  auto sets = ResolveCapabilities(c);
  ASSERT_TRUE(sets.has_value()) << sets.error().message();
  ChildResult r = RunChild([&] {
    if (auto st = PrepareCapabilities(*sets); !st.has_value()) Die(st.error().message());
    BecomeUser(0, 0);
    if (auto st = ApplyCapabilities(*sets); !st.has_value()) Die(st.error().message());
    const char* argv[] = {"/bin/grep", "^Cap", "/proc/self/status", nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    Die("exec grep");
  });
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.out;
  uint64_t want = 0;
  for (const auto& n : names) want |= Bit(*CapabilityFromName(n));
  EXPECT_EQ(r.out, ExpectedStatus(0, want, want, want, 0));
}

TEST_F(CapsIntegrationTest, PrivilegedSetGetsWhatTheRuntimeHolds) {
  // --privileged asks for every capability; this host's root lacks CAP_SYS_RESOURCE, which
  // is left out with a warning instead of failing the container.
  oci::Capabilities c;
  c.bounding = c.permitted = c.effective = AllCapabilityNames();
  auto sets = ResolveCapabilities(c);
  ASSERT_TRUE(sets.has_value()) << sets.error().message();
  ChildResult r = RunChild([&] {
    if (auto st = PrepareCapabilities(*sets); !st.has_value()) Die(st.error().message());
    if (auto st = ApplyCapabilities(*sets); !st.has_value()) Die(st.error().message());
    auto status = ReadFile("/proc/self/status");
    if (!status.has_value()) Die(status.error().message());
    Say(CapLines(*status));
  });
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.out;
  uint64_t all = (uint64_t{2} << LastCapability()) - 1;
  std::string expected =
      ExpectedStatus(0, held_.permitted & all, held_.permitted & all, held_.bounding, 0);
  if (held_.permitted == all) {
    EXPECT_EQ(r.out, expected);
  } else {
    EXPECT_THAT(r.out, HasSubstr("are not held by the runtime; left out"));
    EXPECT_THAT(r.out, HasSubstr(expected));
  }
}

TEST_F(CapsIntegrationTest, BoundingDropSurvivesAndBlocksRegaining) {
  // With CAP_SYS_ADMIN out of the bounding set, not even root may get it back in permitted.
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"};
  c.permitted = c.effective = {"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"};
  auto sets = ResolveCapabilities(c);
  ASSERT_TRUE(sets.has_value());
  ChildResult r = RunChild([&] {
    if (auto st = PrepareCapabilities(*sets); !st.has_value()) Die(st.error().message());
    if (auto st = ApplyCapabilities(*sets); !st.has_value()) Die(st.error().message());
    // exec as root: permitted becomes the bounding set at most.
    const char* argv[] = {"/bin/grep", "^CapPrm", "/proc/self/status", nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    Die("exec grep");
  });
  ASSERT_TRUE(WIFEXITED(r.status) && WEXITSTATUS(r.status) == 0) << r.out;
  EXPECT_EQ(r.out,
            StrCat("CapPrm:\t", Hex(Bit(CAP_CHOWN) | Bit(CAP_SETUID) | Bit(CAP_SETGID)), "\n"));
}

}  // namespace
}  // namespace berth::runtime
