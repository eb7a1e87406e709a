// Unit tests for capability names, ResolveCapabilities and (in forked children, so the test
// runner keeps its own sets) PrepareCapabilities / ApplyCapabilities. No root needed.
#include "berth/runtime/capabilities.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/capability.h>  // libcap, only to cross-check the name table
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;

constexpr int kChown = 0, kKill = 5, kSetpcap = 8, kNetBind = 10, kSysBoot = 22;
constexpr uint64_t Bit(int cap) { return uint64_t{1} << cap; }

class LogCapture {
 public:
  LogCapture() : fd_(::memfd_create("log", MFD_CLOEXEC)) {
    log::Configure(log::Level::kWarn, log::Format::kText, ::fcntl(fd_, F_DUPFD_CLOEXEC, 0));
  }
  ~LogCapture() {
    log::Configure(log::Level::kWarn, log::Format::kText, -1);
    ::close(fd_);
  }
  std::string Text() const {
    std::string out;
    char buf[4096];
    ssize_t n;
    off_t off = 0;
    while ((n = ::pread(fd_, buf, sizeof buf, off)) > 0) {
      out.append(buf, static_cast<size_t>(n));
      off += n;
    }
    return out;
  }

 private:
  int fd_;
};

// Runs `fn` in a forked child, so process-wide changes stay out of the test runner, and
// returns what it returned.
std::string InChild(const std::function<std::string()>& fn) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return "pipe2 failed";
  pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    std::string out = fn();
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  auto pidfd = sys::PidfdOpen(pid);
  sys::ChildProcess child(pid, pidfd.has_value() ? std::move(*pidfd) : UniqueFd());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto status = child.Wait();
  if (!status.has_value() || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return "child died: " + out;
  return out;
}

std::string Hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

TEST(CapabilityNamesTest, RoundTrip) {
  std::vector<std::string> all = AllCapabilityNames();
  ASSERT_EQ(all.size(), 41u);
  for (int cap = 0; cap < static_cast<int>(all.size()); ++cap) {
    EXPECT_EQ(CapabilityName(cap), all[cap]);
    auto back = CapabilityFromName(all[cap]);
    ASSERT_TRUE(back.has_value()) << all[cap];
    EXPECT_EQ(*back, cap);
  }
  EXPECT_EQ(*CapabilityFromName("CAP_SYS_ADMIN"), 21);
  EXPECT_EQ(*CapabilityFromName("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_EQ(CapabilityName(45), "CAP_45");
  auto bad = CapabilityFromName("CAP_FOO");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "unknown capability `CAP_FOO`");
  EXPECT_FALSE(CapabilityFromName("cap_chown").has_value());
  EXPECT_EQ(CapabilityNames(Bit(kChown) | Bit(kKill)), "`CAP_CHOWN`, `CAP_KILL`");
  EXPECT_EQ(CapabilityNames(0), "none");
}

TEST(CapabilityNamesTest, MatchLibcap) {
  // libcap 2.66 knows the same 41 names (in lower case).
  for (int cap = 0; cap <= 40; ++cap) {
    char* name = cap_to_name(static_cast<cap_value_t>(cap));
    ASSERT_NE(name, nullptr);
    std::string upper(name);
    cap_free(name);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(CapabilityName(cap), upper);
  }
}

TEST(CapabilityNamesTest, LastCapabilityIsTheKernels) {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(LastCapability(), std::stoi(*text));
}

TEST(ResolveCapabilitiesTest, NamesToBits) {
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.permitted = {"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = {"CAP_NET_BIND_SERVICE"};
  c.ambient = {"CAP_NET_BIND_SERVICE"};
  auto s = ResolveCapabilities(c);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->bounding, Bit(kChown) | Bit(kKill) | Bit(kNetBind));
  EXPECT_EQ(s->permitted, Bit(kChown) | Bit(kKill) | Bit(kNetBind));
  EXPECT_EQ(s->effective, Bit(kChown) | Bit(kKill));
  EXPECT_EQ(s->inheritable, Bit(kNetBind));
  EXPECT_EQ(s->ambient, Bit(kNetBind));
  // Absent sets are empty.
  auto none = ResolveCapabilities(oci::Capabilities{});
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, CapabilitySets{});
}

TEST(ResolveCapabilitiesTest, UnknownNameIsLeftOutWithWarning) {
  LogCapture logs;
  oci::Capabilities c;
  c.bounding = {"CAP_CHOWN", "CAP_FOO"};
  c.permitted = {"CAP_CHOWN", "cap_kill"};
  auto s = ResolveCapabilities(c);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->bounding, Bit(kChown));
  EXPECT_EQ(s->permitted, Bit(kChown));
  EXPECT_THAT(logs.Text(), HasSubstr("process.capabilities.bounding[1]: unknown capability "
                                     "`CAP_FOO` left out of the bounding set"));
  EXPECT_THAT(logs.Text(), HasSubstr("process.capabilities.permitted[1]: unknown capability "
                                     "`cap_kill` left out of the permitted set"));
}

TEST(ResolveCapabilitiesTest, MalformedNameIsAnError) {
  oci::Capabilities c;
  c.effective = {""};
  auto s = ResolveCapabilities(c, "exec.capabilities");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message(), "exec.capabilities.effective[0]: malformed capability name ``");
  c.effective = {"CAP_CHOWN", "CAP CHOWN"};
  s = ResolveCapabilities(c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message(),
            "process.capabilities.effective[1]: malformed capability name `CAP CHOWN`");
}

TEST(ResolveCapabilitiesTest, EffectiveOutsidePermittedIsAnError) {
  oci::Capabilities c;
  c.permitted = {"CAP_CHOWN"};
  c.effective = {"CAP_CHOWN", "CAP_KILL"};
  auto s = ResolveCapabilities(c);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().message(),
            "process.capabilities.effective: `CAP_KILL` not in the permitted set");
}

TEST(ResolveCapabilitiesTest, AmbientOutsidePermittedAndInheritableIsDroppedWithWarning) {
  LogCapture logs;
  oci::Capabilities c;
  c.permitted = {"CAP_CHOWN", "CAP_KILL"};
  c.inheritable = {"CAP_KILL"};
  c.ambient = {"CAP_CHOWN", "CAP_KILL"};
  auto s = ResolveCapabilities(c);
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->ambient, Bit(kKill));
  EXPECT_THAT(logs.Text(), HasSubstr("process.capabilities.ambient: `CAP_CHOWN` left out"));
}

TEST(CurrentCapabilitiesTest, MatchesProcStatus) {
  auto s = CurrentCapabilities();
  ASSERT_TRUE(s.has_value()) << s.error().message();
  auto status = ReadFile("/proc/self/status");
  ASSERT_TRUE(status.has_value());
  EXPECT_THAT(*status, HasSubstr("CapEff:\t" + Hex(s->effective)));
  EXPECT_THAT(*status, HasSubstr("CapPrm:\t" + Hex(s->permitted)));
  EXPECT_THAT(*status, HasSubstr("CapInh:\t" + Hex(s->inheritable)));
  EXPECT_THAT(*status, HasSubstr("CapBnd:\t" + Hex(s->bounding)));
  EXPECT_THAT(*status, HasSubstr("CapAmb:\t" + Hex(s->ambient)));
}

TEST(ApplyCapabilitiesTest, DropEverything) {
  std::string out = InChild([] {
    auto st = ApplyCapabilities(CapabilitySets{});
    if (!st.has_value()) return st.error().message();
    auto now = CurrentCapabilities();
    if (!now.has_value()) return now.error().message();
    return StrCat(Hex(now->effective), " ", Hex(now->permitted), " ", Hex(now->inheritable), " ",
                  Hex(now->ambient));
  });
  EXPECT_EQ(out, StrCat(Hex(0), " ", Hex(0), " ", Hex(0), " ", Hex(0)));
}

TEST(ApplyCapabilitiesTest, KeepsASubsetOfWhatIsHeld) {
  auto now = CurrentCapabilities();
  ASSERT_TRUE(now.has_value());
  uint64_t want = Bit(kChown) | Bit(kKill);
  if ((now->permitted & want) != want) GTEST_SKIP() << "needs CAP_CHOWN and CAP_KILL";
  std::string out = InChild([want] {
    CapabilitySets s;
    s.permitted = want;
    s.effective = Bit(kKill);
    s.inheritable = 0;
    auto st = ApplyCapabilities(s);
    if (!st.has_value()) return st.error().message();
    auto after = CurrentCapabilities();
    if (!after.has_value()) return after.error().message();
    return StrCat(Hex(after->effective), " ", Hex(after->permitted));
  });
  EXPECT_EQ(out, StrCat(Hex(Bit(kKill)), " ", Hex(want)));
}

TEST(ApplyCapabilitiesTest, CapabilitiesNotHeldAreLeftOutWithWarning) {
  auto now = CurrentCapabilities();
  ASSERT_TRUE(now.has_value());
  uint64_t all = (uint64_t{2} << LastCapability()) - 1;
  if (now->permitted == all) GTEST_SKIP() << "this process holds every capability";
  std::string out = InChild([all] {
    LogCapture logs;
    CapabilitySets s;
    s.permitted = s.effective = all;
    auto st = ApplyCapabilities(s);
    if (!st.has_value()) return st.error().message();
    auto after = CurrentCapabilities();
    if (!after.has_value()) return after.error().message();
    return StrCat(Hex(after->permitted), "|", logs.Text());
  });
  EXPECT_THAT(out, HasSubstr(Hex(now->permitted) + "|"));
  EXPECT_THAT(out, HasSubstr("are not held by the runtime; left out of the container's sets"));
}

TEST(ApplyCapabilitiesTest, InconsistentSetsAreErrors) {
  CapabilitySets s;
  s.permitted = Bit(kChown);
  s.effective = Bit(kChown) | Bit(kKill);
  auto st = ApplyCapabilities(s);  // refused before any syscall: safe in the test runner
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(),
            "set capabilities: effective `CAP_KILL` not in the permitted set");
  s.effective = 0;
  s.ambient = Bit(kChown);
  st = ApplyCapabilities(s);
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(),
            "raise ambient capability `CAP_CHOWN`: not in both the permitted and inheritable sets");
}

TEST(ApplyCapabilitiesTest, RaisesAmbient) {
  auto now = CurrentCapabilities();
  ASSERT_TRUE(now.has_value());
  if (!(now->permitted & Bit(kNetBind)) || !(now->bounding & Bit(kNetBind)))
    GTEST_SKIP() << "needs CAP_NET_BIND_SERVICE";
  std::string out = InChild([] {
    CapabilitySets s;
    s.permitted = s.inheritable = s.ambient = Bit(kNetBind);
    auto st = ApplyCapabilities(s);
    if (!st.has_value()) return st.error().message();
    auto after = CurrentCapabilities();
    if (!after.has_value()) return after.error().message();
    int keep = ::prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0);
    return StrCat(Hex(after->ambient), " ", Hex(after->inheritable), " keepcaps=", keep);
  });
  EXPECT_EQ(out, StrCat(Hex(Bit(kNetBind)), " ", Hex(Bit(kNetBind)), " keepcaps=0"));
}

TEST(PrepareCapabilitiesTest, DropsFromTheBoundingSetAndKeepsCaps) {
  auto now = CurrentCapabilities();
  ASSERT_TRUE(now.has_value());
  if (!(now->effective & Bit(kSetpcap))) GTEST_SKIP() << "needs CAP_SETPCAP";
  std::string out = InChild([bounding = now->bounding] {
    CapabilitySets s;
    s.bounding = bounding & ~Bit(kSysBoot);
    auto st = PrepareCapabilities(s);
    if (!st.has_value()) return st.error().message();
    auto after = CurrentCapabilities();
    if (!after.has_value()) return after.error().message();
    return StrCat(Hex(after->bounding), " keepcaps=", ::prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
  });
  EXPECT_EQ(out, StrCat(Hex(now->bounding & ~Bit(kSysBoot)), " keepcaps=1"));
}

TEST(PrepareCapabilitiesTest, NothingToDropNeedsNoPrivilege) {
  auto now = CurrentCapabilities();
  ASSERT_TRUE(now.has_value());
  std::string out = InChild([bounding = now->bounding] {
    // Without CAP_SETPCAP in the effective set, keeping the current bounding set works.
    if (auto st = ApplyCapabilities(CapabilitySets{}); !st.has_value()) return st.error().message();
    CapabilitySets s;
    s.bounding = bounding;
    auto st = PrepareCapabilities(s);
    return st.has_value() ? std::string("ok") : st.error().message();
  });
  EXPECT_EQ(out, "ok");
}

}  // namespace
}  // namespace berth::runtime
