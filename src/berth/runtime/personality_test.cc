// Unit tests for linux.personality: names, and LINUX32 applied in a forked child.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "berth/runtime/rlimits.h"

namespace berth::runtime {
namespace {

oci::Personality Persona(std::string domain, std::vector<std::string> flags = {}) {
  oci::Personality p;
  p.domain = std::move(domain);
  p.flags = std::move(flags);
  return p;
}

TEST(PersonalityTest, Domains) {
  EXPECT_EQ(*ResolvePersonality(Persona("LINUX")), static_cast<unsigned long>(PER_LINUX));
  EXPECT_EQ(*ResolvePersonality(Persona("LINUX32")), static_cast<unsigned long>(PER_LINUX32));
  auto bad = ResolvePersonality(Persona("SVR4"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "linux.personality.domain: unknown domain `SVR4`");
  EXPECT_EQ(ResolvePersonality(Persona("")).error().message(),
            "linux.personality.domain: is required");
  auto flags = ResolvePersonality(Persona("LINUX", {"ADDR_NO_RANDOMIZE"}));
  ASSERT_FALSE(flags.has_value());
  EXPECT_EQ(flags.error().message(),
            "linux.personality.flags[0]: unsupported flag `ADDR_NO_RANDOMIZE`");
}

TEST(PersonalityTest, Linux32ChangesUnameMachine) {
  struct utsname host;
  ASSERT_EQ(::uname(&host), 0);
  if (std::string(host.machine) != "x86_64") GTEST_SKIP() << "checks the x86_64 -> i686 case";
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string out = "apply failed";
    if (ApplyPersonality(*ResolvePersonality(Persona("LINUX32"))).has_value()) {
      struct utsname u;
      ::uname(&u);
      out = u.machine;
    }
    (void)!::write(fds[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  char buf[64] = {};
  ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf), "i686");
}

}  // namespace
}  // namespace berth::runtime
