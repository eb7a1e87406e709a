// Unit tests for CompileSeccomp: field errors, flags, unknown syscalls, arg rules. The
// compiled program is run through a small classic-BPF interpreter (below), so the tests check
// what the filter decides for a syscall without loading it.
#include "berth/runtime/seccomp.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "berth/base/log.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint32_t kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT
constexpr int kI386Getpid = 20;
constexpr int kI386Mkdir = 39;

// Warnings written while it lives, for the tests that check what is logged.
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

// Runs a seccomp program over one syscall the way the kernel would, returning the
// SECCOMP_RET_* value. Covers the classic BPF subset a seccomp filter may use.
uint32_t RunFilter(const std::vector<sock_filter>& prog, int nr,
                   std::initializer_list<uint64_t> args = {}, uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data data = {};
  data.nr = nr;
  data.arch = arch;
  size_t i = 0;
  for (uint64_t a : args) data.args[i++] = a;
  unsigned char bytes[sizeof data];
  std::memcpy(bytes, &data, sizeof data);
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter& f = prog[pc];
    uint32_t src = BPF_SRC(f.code) == BPF_X ? x : f.k;
    switch (BPF_CLASS(f.code)) {
      case BPF_LD:
        if (BPF_MODE(f.code) == BPF_ABS) {
          if (f.k + 4 > sizeof bytes) return 0xdeadbeef;
          std::memcpy(&a, bytes + f.k, 4);
        } else if (BPF_MODE(f.code) == BPF_IMM) {
          a = f.k;
        } else if (BPF_MODE(f.code) == BPF_MEM) {
          a = mem[f.k % BPF_MEMWORDS];
        } else if (BPF_MODE(f.code) == BPF_LEN) {
          a = sizeof data;
        }
        break;
      case BPF_LDX:
        x = BPF_MODE(f.code) == BPF_MEM ? mem[f.k % BPF_MEMWORDS] : f.k;
        break;
      case BPF_ST:
        mem[f.k % BPF_MEMWORDS] = a;
        break;
      case BPF_STX:
        mem[f.k % BPF_MEMWORDS] = x;
        break;
      case BPF_ALU:
        switch (BPF_OP(f.code)) {
          case BPF_ADD:
            a += src;
            break;
          case BPF_SUB:
            a -= src;
            break;
          case BPF_MUL:
            a *= src;
            break;
          case BPF_DIV:
            a = src ? a / src : 0;
            break;
          case BPF_MOD:
            a = src ? a % src : 0;
            break;
          case BPF_OR:
            a |= src;
            break;
          case BPF_AND:
            a &= src;
            break;
          case BPF_XOR:
            a ^= src;
            break;
          case BPF_LSH:
            a <<= src;
            break;
          case BPF_RSH:
            a >>= src;
            break;
          case BPF_NEG:
            a = 0 - a;
            break;
        }
        break;
      case BPF_JMP: {
        if (BPF_OP(f.code) == BPF_JA) {
          pc += f.k;
          break;
        }
        bool taken = false;
        switch (BPF_OP(f.code)) {
          case BPF_JEQ:
            taken = a == src;
            break;
          case BPF_JGT:
            taken = a > src;
            break;
          case BPF_JGE:
            taken = a >= src;
            break;
          case BPF_JSET:
            taken = (a & src) != 0;
            break;
        }
        pc += taken ? f.jt : f.jf;
        break;
      }
      case BPF_RET:
        return BPF_RVAL(f.code) == BPF_A ? a : f.k;
      case BPF_MISC:
        (BPF_MISCOP(f.code) == BPF_TAX ? x = a : a = x);
        break;
    }
  }
  return 0xdeadbeef;  // fell off the end: the kernel would reject such a program
}

oci::SeccompSyscall Rule(std::vector<std::string> names, std::string action,
                         std::optional<uint32_t> errno_ret = std::nullopt,
                         std::vector<oci::SeccompArg> args = {}) {
  oci::SeccompSyscall s;
  s.names = std::move(names);
  s.action = std::move(action);
  s.errno_ret = errno_ret;
  s.args = std::move(args);
  return s;
}

oci::SeccompArg Arg(uint32_t index, std::string op, uint64_t value, uint64_t value_two = 0) {
  oci::SeccompArg a;
  a.index = index;
  a.op = std::move(op);
  a.value = value;
  a.value_two = value_two;
  return a;
}

oci::Seccomp Profile(std::string default_action, std::vector<oci::SeccompSyscall> rules = {}) {
  oci::Seccomp s;
  s.default_action = std::move(default_action);
  s.syscalls = std::move(rules);
  return s;
}

std::string CompileError(const oci::Seccomp& s) {
  auto r = CompileSeccomp(s);
  if (r.has_value()) return "<compiled>";
  return r.error().message();
}

constexpr uint32_t Errno(uint32_t e) { return SECCOMP_RET_ERRNO | e; }

TEST(SeccompCompileTest, DenyOneSyscallWithDefaultErrno) {
  auto p =
      CompileSeccomp(Profile("SCMP_ACT_ALLOW", {Rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO")}));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_FALSE(p->filter.empty());
  EXPECT_EQ(p->flags, 0u);
  EXPECT_FALSE(p->new_listener);
  EXPECT_EQ(RunFilter(p->filter, __NR_mkdir), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_mkdirat), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid), SECCOMP_RET_ALLOW);
  // Only the native ABI is in the filter: anything else meets the bad-arch action (kill).
  EXPECT_EQ(RunFilter(p->filter, kI386Getpid, {}, AUDIT_ARCH_I386), SECCOMP_RET_KILL_THREAD);
}

TEST(SeccompCompileTest, EveryActionMapsToItsKernelValue) {
  auto s = Profile("SCMP_ACT_ERRNO");
  s.default_errno_ret = ENOSYS;
  s.syscalls = {
      Rule({"getpid"}, "SCMP_ACT_ALLOW"),       Rule({"getppid"}, "SCMP_ACT_KILL"),
      Rule({"getuid"}, "SCMP_ACT_KILL_THREAD"), Rule({"geteuid"}, "SCMP_ACT_KILL_PROCESS"),
      Rule({"getgid"}, "SCMP_ACT_TRAP"),        Rule({"getegid"}, "SCMP_ACT_ERRNO", 42),
      Rule({"gettid"}, "SCMP_ACT_TRACE", 7),    Rule({"getpgrp"}, "SCMP_ACT_TRACE"),
      Rule({"getsid"}, "SCMP_ACT_LOG"),         Rule({"uname"}, "SCMP_ACT_NOTIFY"),
  };
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_getppid), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(RunFilter(p->filter, __NR_getuid), SECCOMP_RET_KILL_THREAD);
  EXPECT_EQ(RunFilter(p->filter, __NR_geteuid), SECCOMP_RET_KILL_PROCESS);
  EXPECT_EQ(RunFilter(p->filter, __NR_getgid), SECCOMP_RET_TRAP);
  EXPECT_EQ(RunFilter(p->filter, __NR_getegid), Errno(42));
  EXPECT_EQ(RunFilter(p->filter, __NR_gettid), SECCOMP_RET_TRACE | 7);
  EXPECT_EQ(RunFilter(p->filter, __NR_getpgrp), SECCOMP_RET_TRACE | EPERM);
  EXPECT_EQ(RunFilter(p->filter, __NR_getsid), SECCOMP_RET_LOG);
  EXPECT_EQ(RunFilter(p->filter, __NR_uname), SECCOMP_RET_USER_NOTIF);
  EXPECT_EQ(RunFilter(p->filter, __NR_mkdir), Errno(ENOSYS));
  EXPECT_TRUE(p->new_listener);
  EXPECT_EQ(p->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_NEW_LISTENER));
}

TEST(SeccompCompileTest, DefaultErrnoRetAndTrace) {
  auto s = Profile("SCMP_ACT_TRACE");
  s.default_errno_ret = 99;
  s.syscalls = {Rule({"getpid"}, "SCMP_ACT_ALLOW")};
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_mkdir), SECCOMP_RET_TRACE | 99);
}

TEST(SeccompCompileTest, ErrnoRetOnlyWithErrnoOrTrace) {
  auto s = Profile("SCMP_ACT_ALLOW", {Rule({"mkdir"}, "SCMP_ACT_ERRNO"),
                                      Rule({"rmdir"}, "SCMP_ACT_KILL_PROCESS", 1)});
  EXPECT_EQ(CompileError(s),
            "linux.seccomp.syscalls[1].errnoRet: not supported by action `SCMP_ACT_KILL_PROCESS`");
  auto d = Profile("SCMP_ACT_ALLOW");
  d.default_errno_ret = 1;
  EXPECT_EQ(CompileError(d),
            "linux.seccomp.defaultErrnoRet: not supported by action `SCMP_ACT_ALLOW`");
  EXPECT_THAT(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"mkdir"}, "SCMP_ACT_ERRNO", 70000)})),
              HasSubstr("linux.seccomp.syscalls[0].errnoRet: 70000"));
}

TEST(SeccompCompileTest, FieldErrorsNameThePath) {
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"mkdir"}, "SCMP_ACT_ERRNO"),
                                                    Rule({"rmdir"}, "SCMP_ACT_FOO")})),
            "linux.seccomp.syscalls[1].action: unknown action `SCMP_ACT_FOO`");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_BAR")),
            "linux.seccomp.defaultAction: unknown action `SCMP_ACT_BAR`");
  EXPECT_EQ(CompileError(Profile("")), "linux.seccomp.defaultAction: is required");
  auto ops = Profile(
      "SCMP_ACT_ALLOW",
      {Rule({"a"}, "SCMP_ACT_ALLOW"), Rule({"b"}, "SCMP_ACT_ALLOW"), Rule({"c"}, "SCMP_ACT_ALLOW"),
       Rule({"kill"}, "SCMP_ACT_ERRNO", std::nullopt, {Arg(0, "SCMP_CMP_FOO", 1)})});
  EXPECT_EQ(CompileError(ops),
            "linux.seccomp.syscalls[3].args[0].op: unknown operator `SCMP_CMP_FOO`");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW",
                                 {Rule({"kill"}, "SCMP_ACT_ERRNO", std::nullopt,
                                       {Arg(0, "SCMP_CMP_EQ", 1), Arg(6, "SCMP_CMP_EQ", 1)})})),
            "linux.seccomp.syscalls[0].args[1].index: 6 is not a syscall argument (0 to 5)");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({}, "SCMP_ACT_ERRNO")})),
            "linux.seccomp.syscalls[0].names: must name a syscall");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"mkdir", ""}, "SCMP_ACT_ERRNO")})),
            "linux.seccomp.syscalls[0].names[1]: empty syscall name");
  auto arch = Profile("SCMP_ACT_ALLOW");
  arch.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"};
  EXPECT_EQ(CompileError(arch),
            "linux.seccomp.architectures[1]: unknown architecture `SCMP_ARCH_VAX`");
  auto flags = Profile("SCMP_ACT_ALLOW");
  flags.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_NEW_LISTENER"};
  EXPECT_EQ(CompileError(flags),
            "linux.seccomp.flags[1]: unknown flag `SECCOMP_FILTER_FLAG_NEW_LISTENER`");
  EXPECT_EQ(CompileError(Profile("SCMP_ACT_NOTIFY")),
            "linux.seccomp.defaultAction: `SCMP_ACT_NOTIFY` cannot be the default action");
  // Field errors come before any kernel or libseccomp work, with the caller's prefix.
  auto custom = CompileSeccomp(Profile("SCMP_ACT_X"), "spec.linux.seccomp");
  ASSERT_FALSE(custom.has_value());
  EXPECT_EQ(custom.error().message(),
            "spec.linux.seccomp.defaultAction: unknown action `SCMP_ACT_X`");
  EXPECT_EQ(custom.error().code(), ErrorCode::kInvalidArgument);
}

TEST(SeccompCompileTest, RuleEqualToDefaultIsSkipped) {
  auto bare = CompileSeccomp(Profile("SCMP_ACT_ERRNO"));
  auto same = CompileSeccomp(
      Profile("SCMP_ACT_ERRNO", {Rule({"mkdir", "no_such_syscall"}, "SCMP_ACT_ERRNO", EPERM)}));
  ASSERT_TRUE(bare.has_value() && same.has_value());
  ASSERT_EQ(bare->filter.size(), same->filter.size());
  EXPECT_EQ(std::memcmp(bare->filter.data(), same->filter.data(),
                        bare->filter.size() * sizeof(sock_filter)),
            0);
  // A different errno is a different action, and makes a rule.
  auto other = CompileSeccomp(Profile("SCMP_ACT_ERRNO", {Rule({"mkdir"}, "SCMP_ACT_ERRNO", 5)}));
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(RunFilter(other->filter, __NR_mkdir), Errno(5));
  EXPECT_EQ(RunFilter(other->filter, __NR_rmdir), Errno(EPERM));
}

TEST(SeccompCompileTest, DistinctArgIndexesAreAnd) {
  // kill(pid, sig): denied only when pid == 1 AND sig == 9.
  auto p = CompileSeccomp(
      Profile("SCMP_ACT_ALLOW", {Rule({"kill"}, "SCMP_ACT_ERRNO", 13,
                                      {Arg(0, "SCMP_CMP_EQ", 1), Arg(1, "SCMP_CMP_EQ", 9)})}));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {1, 9}), Errno(13));
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {1, 15}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {2, 9}), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompileTest, RepeatedArgIndexBecomesSeparateRules) {
  // libseccomp refuses two comparisons of one argument in a rule; like runc, each arg then
  // becomes its own rule, so any one matching triggers the action.
  auto p = CompileSeccomp(Profile(
      "SCMP_ACT_ALLOW",
      {Rule({"kill"}, "SCMP_ACT_ERRNO", 13,
            {Arg(0, "SCMP_CMP_EQ", 1), Arg(0, "SCMP_CMP_EQ", 2), Arg(1, "SCMP_CMP_EQ", 9)})}));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {1, 0}), Errno(13));
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {2, 0}), Errno(13));
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {3, 9}), Errno(13));
  EXPECT_EQ(RunFilter(p->filter, __NR_kill, {3, 15}), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompileTest, EveryOperator) {
  auto p = CompileSeccomp(
      Profile("SCMP_ACT_ALLOW",
              {
                  Rule({"setuid"}, "SCMP_ACT_ERRNO", 1, {Arg(0, "SCMP_CMP_NE", 5)}),
                  Rule({"setgid"}, "SCMP_ACT_ERRNO", 2, {Arg(0, "SCMP_CMP_LT", 5)}),
                  Rule({"setfsuid"}, "SCMP_ACT_ERRNO", 3, {Arg(0, "SCMP_CMP_LE", 5)}),
                  Rule({"setfsgid"}, "SCMP_ACT_ERRNO", 4, {Arg(0, "SCMP_CMP_EQ", 0x100000005ULL)}),
                  Rule({"umask"}, "SCMP_ACT_ERRNO", 5, {Arg(0, "SCMP_CMP_GE", 5)}),
                  Rule({"alarm"}, "SCMP_ACT_ERRNO", 6, {Arg(0, "SCMP_CMP_GT", 5)}),
                  // (arg1 & 0xff) == 0x12
                  Rule({"tkill"}, "SCMP_ACT_ERRNO", 7, {Arg(1, "SCMP_CMP_MASKED_EQ", 0xff, 0x12)}),
              }));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_setuid, {4}), Errno(1));
  EXPECT_EQ(RunFilter(p->filter, __NR_setuid, {5}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_setgid, {4}), Errno(2));
  EXPECT_EQ(RunFilter(p->filter, __NR_setgid, {5}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_setfsuid, {5}), Errno(3));
  EXPECT_EQ(RunFilter(p->filter, __NR_setfsuid, {6}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_setfsgid, {0x100000005ULL}), Errno(4));
  EXPECT_EQ(RunFilter(p->filter, __NR_setfsgid, {5}), SECCOMP_RET_ALLOW);  // 64-bit compare
  EXPECT_EQ(RunFilter(p->filter, __NR_umask, {5}), Errno(5));
  EXPECT_EQ(RunFilter(p->filter, __NR_umask, {4}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_alarm, {6}), Errno(6));
  EXPECT_EQ(RunFilter(p->filter, __NR_alarm, {5}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_tkill, {0, 0x3412}), Errno(7));
  EXPECT_EQ(RunFilter(p->filter, __NR_tkill, {0, 0x3413}), SECCOMP_RET_ALLOW);
}

TEST(SeccompCompileTest, ExtraArchitectures) {
  LogCapture logs;
  auto s = Profile("SCMP_ACT_ERRNO", {Rule({"getpid"}, "SCMP_ACT_ALLOW")});
  s.architectures = {"SCMP_ARCH_X86_64",  "SCMP_ARCH_X86",     "SCMP_ARCH_X32",
                     "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM",     "SCMP_ARCH_RISCV64",
                     "SCMP_ARCH_S390X",   "SCMP_ARCH_PPC64LE", "SCMP_ARCH_MIPSEL64"};
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, kI386Getpid, {}, AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, kI386Mkdir, {}, AUDIT_ARCH_I386), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid | kX32Bit), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_mkdir | kX32Bit), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, 172 /* getpid on aarch64 */, {}, AUDIT_ARCH_AARCH64),
            SECCOMP_RET_ALLOW);
  // libseccomp cannot put a big-endian ABI beside x86_64; it is left out with a warning.
  EXPECT_THAT(logs.Text(), HasSubstr("linux.seccomp.architectures[6]: architecture "
                                     "`SCMP_ARCH_S390X` has another byte order"));
  EXPECT_EQ(RunFilter(p->filter, 20 /* getpid on s390x */, {}, AUDIT_ARCH_S390X),
            SECCOMP_RET_KILL_THREAD);
}

TEST(SeccompCompileTest, ArchitectureLibseccompLacksIsLeftOutWithWarning) {
  LogCapture logs;
  auto s = Profile("SCMP_ACT_ALLOW");
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"};
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_THAT(logs.Text(), HasSubstr("linux.seccomp.architectures[1]: architecture "
                                     "`SCMP_ARCH_LOONGARCH64` is unknown to libseccomp"));
}

TEST(SeccompCompileTest, UnknownSyscallInAllowRuleIsSkipped) {
  LogCapture logs;
  auto p = CompileSeccomp(
      Profile("SCMP_ACT_ERRNO", {Rule({"getpid", "berth_no_such_syscall"}, "SCMP_ACT_ALLOW"),
                                 Rule({"berth_no_such_syscall2"}, "SCMP_ACT_LOG")}));
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(logs.Text(), "");
}

TEST(SeccompCompileTest, UnknownSyscallInDenyRuleIsAnErrorWhenDefaultAllows) {
  for (const char* def : {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"}) {
    auto s = Profile(def, {Rule({"mkdir"}, "SCMP_ACT_ERRNO"),
                           Rule({"rmdir", "berth_no_such_syscall"}, "SCMP_ACT_KILL")});
    EXPECT_THAT(CompileError(s),
                HasSubstr("linux.seccomp.syscalls[1].names[1]: syscall `berth_no_such_syscall` "
                          "is unknown to libseccomp"))
        << def;
  }
  // NOTIFY and TRACE restrict too: leaving them out under an allowing default is a hole.
  EXPECT_THAT(
      CompileError(Profile("SCMP_ACT_ALLOW", {Rule({"berth_no_such_syscall"}, "SCMP_ACT_NOTIFY")})),
      HasSubstr("`SCMP_ACT_NOTIFY` rule cannot be left out"));
}

TEST(SeccompCompileTest, UnknownSyscallInDenyRuleUnderDenyingDefaultIsAWarning) {
  LogCapture logs;
  auto s = Profile("SCMP_ACT_ERRNO", {Rule({"getpid"}, "SCMP_ACT_ALLOW"),
                                      Rule({"berth_no_such_syscall"}, "SCMP_ACT_KILL_PROCESS")});
  s.default_errno_ret = ENOSYS;
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_THAT(logs.Text(), HasSubstr("linux.seccomp.syscalls[1].names[0]: syscall "
                                     "`berth_no_such_syscall` is unknown to libseccomp"));
  EXPECT_THAT(logs.Text(), HasSubstr("the default `SCMP_ACT_ERRNO` applies"));
}

TEST(SeccompCompileTest, SyscallOfAnotherArchitectureOnly) {
  // vm86 exists on i386 only; libseccomp knows the name, so it is not "unknown".
  auto s = Profile("SCMP_ACT_ALLOW", {Rule({"vm86", "mkdir"}, "SCMP_ACT_ERRNO")});
  auto native = CompileSeccomp(s);
  ASSERT_TRUE(native.has_value()) << native.error().message();
  EXPECT_EQ(RunFilter(native->filter, __NR_mkdir), Errno(EPERM));
  s.architectures = {"SCMP_ARCH_X86"};
  auto both = CompileSeccomp(s);
  ASSERT_TRUE(both.has_value()) << both.error().message();
  EXPECT_EQ(RunFilter(both->filter, 113 /* vm86old */, {}, AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(both->filter, 166 /* vm86 */, {}, AUDIT_ARCH_I386), Errno(EPERM));
}

TEST(SeccompCompileTest, FlagsAreComputed) {
  auto s = Profile("SCMP_ACT_ALLOW", {Rule({"mkdir"}, "SCMP_ACT_ERRNO")});
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
             "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                                            SECCOMP_FILTER_FLAG_SPEC_ALLOW));
  EXPECT_FALSE(p->new_listener);

  // NOTIFY adds NEW_LISTENER; with TSYNC the kernel also needs TSYNC_ESRCH.
  s.syscalls.push_back(Rule({"uname"}, "SCMP_ACT_NOTIFY"));
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_TRUE(p->new_listener);
  EXPECT_EQ(p->flags,
            static_cast<unsigned>(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER |
                                  SECCOMP_FILTER_FLAG_TSYNC_ESRCH |
                                  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV));
}

TEST(SeccompCompileTest, WaitKillableWithoutNotifyIsDroppedWithWarning) {
  LogCapture logs;
  auto s = Profile("SCMP_ACT_ALLOW", {Rule({"mkdir"}, "SCMP_ACT_ERRNO")});
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_EQ(p->flags, static_cast<unsigned>(SECCOMP_FILTER_FLAG_LOG));
  EXPECT_THAT(logs.Text(), HasSubstr("linux.seccomp.flags[1]: "
                                     "`SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` ignored"));
}

TEST(SeccompCompileTest, FeaturesListWhatThisBuildAndKernelKnow) {
  SeccompFeatures f = GetSeccompFeatures();
  EXPECT_THAT(f.actions, testing::Contains("SCMP_ACT_KILL_PROCESS"));
  EXPECT_THAT(f.actions, testing::Contains("SCMP_ACT_NOTIFY"));
  EXPECT_EQ(f.operators.size(), 7u);
  EXPECT_THAT(f.archs, testing::Contains("SCMP_ARCH_X86_64"));
  EXPECT_THAT(f.archs, testing::Contains("SCMP_ARCH_RISCV64"));
  EXPECT_EQ(f.known_flags.size(), 4u);
  // This test host runs linux 6.x, which has all four flags.
  EXPECT_THAT(f.supported_flags, testing::Contains("SECCOMP_FILTER_FLAG_TSYNC"));
  EXPECT_LE(f.supported_flags.size(), f.known_flags.size());
}

TEST(SeccompLoadTest, RefusesAnEmptyProgram) {
  SeccompProgram empty;
  auto r = LoadSeccomp(empty);
  ASSERT_FALSE(r.has_value());
  EXPECT_THAT(r.error().message(), HasSubstr("load seccomp filter"));
}

// The allow list of Docker's default profile (as of 2024), in the shape podman and
// containerd send it: default ERRNO, ~350 names, a few argument rules.
std::vector<std::string> DockerAllowList() {
  return {
      // clang-format off
      "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
      "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
      "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
      "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
      "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
      "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
      "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
      "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
      "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
      "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
      "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64",
      "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents",
      "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
      "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
      "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
      "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
      "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr",
      "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
      "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
      "ioprio_set", "io_setup", "io_submit", "io_uring_enter", "io_uring_register",
      "io_uring_setup", "ipc", "kill", "landlock_add_rule", "landlock_create_ruleset",
      "landlock_restrict_self", "lchown", "lchown32", "lgetxattr", "link", "linkat", "listen",
      "listxattr", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat",
      "lstat64", "madvise", "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret",
      "mincore", "mkdir", "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap",
      "mmap2", "mprotect", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive",
      "mq_timedreceive_time64", "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap",
      "msgctl", "msgget", "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap",
      "name_to_handle_at", "nanosleep", "newfstatat", "_newselect", "open", "openat", "openat2",
      "pause", "pidfd_open", "pidfd_send_signal", "pipe", "pipe2", "pkey_alloc", "pkey_free",
      "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl", "pread64", "preadv", "preadv2",
      "prlimit64", "process_mrelease", "pselect6", "pselect6_time64", "pwrite64", "pwritev",
      "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "recv", "recvfrom",
      "recvmmsg", "recvmmsg_time64", "recvmsg", "remap_file_pages", "removexattr", "rename",
      "renameat", "renameat2", "restart_syscall", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
      "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
      "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
      "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
      "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
      "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
      "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
      "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
      "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
      "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
      "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
      "set_tid_address", "setuid", "setuid32", "setxattr", "shmat", "shmctl", "shmdt", "shmget",
      "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn", "socketcall",
      "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink",
      "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee", "tgkill", "time",
      "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
      "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64",
      "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate", "truncate64",
      "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "utime", "utimensat",
      "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid", "write",
      "writev",
      // clang-format on
  };
}

oci::Seccomp DockerLikeProfile() {
  auto s = Profile("SCMP_ACT_ERRNO");
  s.default_errno_ret = EPERM;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.syscalls.push_back(Rule(DockerAllowList(), "SCMP_ACT_ALLOW"));
  for (uint64_t persona : {0ULL, 8ULL, 131072ULL, 131080ULL, 4294967295ULL})
    s.syscalls.push_back(
        Rule({"personality"}, "SCMP_ACT_ALLOW", std::nullopt, {Arg(0, "SCMP_CMP_EQ", persona)}));
  s.syscalls.push_back(Rule({"arch_prctl", "modify_ldt"}, "SCMP_ACT_ALLOW"));
  // clone without any CLONE_NEW* flag: (flags & 0x7E020000) == 0.
  s.syscalls.push_back(Rule({"clone"}, "SCMP_ACT_ALLOW", std::nullopt,
                            {Arg(0, "SCMP_CMP_MASKED_EQ", 2114060288, 0)}));
  s.syscalls.push_back(Rule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS));
  s.syscalls.push_back(
      Rule({"socket"}, "SCMP_ACT_ALLOW", std::nullopt, {Arg(0, "SCMP_CMP_NE", 40 /* AF_VSOCK */)}));
  return s;
}

TEST(SeccompCompileTest, DockerLikeProfileCompilesAndDecides) {
  oci::Seccomp s = DockerLikeProfile();
  ASSERT_GE(s.syscalls[0].names.size(), 300u);
  auto p = CompileSeccomp(s);
  ASSERT_TRUE(p.has_value()) << p.error().message();
  EXPECT_GT(p->filter.size(), 300u);
  EXPECT_LE(p->filter.size(), static_cast<size_t>(BPF_MAXINSNS));
  EXPECT_EQ(p->flags, 0u);
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_write), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_mount), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_unshare), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_clone, {SIGCHLD}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_clone, {CLONE_NEWUSER | SIGCHLD}), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_clone3), Errno(ENOSYS));
  EXPECT_EQ(RunFilter(p->filter, __NR_personality, {8}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_personality, {0x0400000}), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_socket, {2 /* AF_INET */}), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, __NR_socket, {40}), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, kI386Getpid, {}, AUDIT_ARCH_I386), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, 21 /* i386 mount */, {}, AUDIT_ARCH_I386), Errno(EPERM));
  EXPECT_EQ(RunFilter(p->filter, __NR_getpid | kX32Bit), SECCOMP_RET_ALLOW);
  EXPECT_EQ(RunFilter(p->filter, 172, {}, AUDIT_ARCH_AARCH64), SECCOMP_RET_KILL_THREAD);
}

}  // namespace
}  // namespace berth::runtime
