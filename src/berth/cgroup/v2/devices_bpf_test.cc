// Unit tests: the v2 device filter program. A small interpreter for the instructions the
// builder emits checks the program's verdicts against a direct evaluation of the rules;
// as root the programs are also loaded into the kernel's verifier.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <random>

#include "berth/cgroup/v2/bpf.h"

namespace berth::cgroup::v2 {
namespace {

DevRule R(bool allow, char type, int64_t major, int64_t minor, uint8_t access) {
  DevRule r;
  r.allow = allow;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

// Executes `prog` for one request. Supports exactly the opcodes BuildDeviceProgram uses and
// fails the test on any other.
int Interpret(const std::vector<bpf_insn>& prog, char type, uint32_t major, uint32_t minor,
              uint8_t access) {
  bpf_cgroup_dev_ctx ctx{static_cast<uint32_t>(access) << 16 |
                             (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                         major, minor};
  uint64_t r[11] = {};
  for (size_t pc = 0, steps = 0; pc < prog.size() && steps < 10000; ++pc, ++steps) {
    const bpf_insn& i = prog[pc];
    uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(i.imm));  // sign-extended
    switch (i.code) {
      case BPF_LDX | BPF_MEM | BPF_W: {
        EXPECT_EQ(i.src_reg, BPF_REG_1);
        uint32_t v;
        std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
        r[i.dst_reg] = v;
        break;
      }
      case BPF_ALU64 | BPF_AND | BPF_K:
        r[i.dst_reg] &= imm;
        break;
      case BPF_ALU64 | BPF_RSH | BPF_K:
        r[i.dst_reg] >>= i.imm;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_K:
        r[i.dst_reg] = imm;
        break;
      case BPF_ALU64 | BPF_MOV | BPF_X:
        r[i.dst_reg] = r[i.src_reg];
        break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (r[i.dst_reg] != imm) pc += i.off;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        if (r[i.dst_reg] == imm) pc += i.off;
        break;
      case BPF_JMP | BPF_EXIT:
        return static_cast<int>(r[0]);
      default:
        ADD_FAILURE() << "unexpected opcode " << int(i.code);
        return -1;
    }
  }
  ADD_FAILURE() << "fell off the program";
  return -1;
}

// The semantics written directly: per access bit, the last matching rule naming it wins,
// starting from allow.
int Reference(const std::vector<DevRule>& rules, char type, int64_t major, int64_t minor,
              uint8_t access) {
  for (uint8_t bit : {kAccMknod, kAccRead, kAccWrite}) {
    if (!(access & bit)) continue;
    bool allowed = true;
    for (const DevRule& rule : rules) {
      bool match = (rule.type == 'a' || rule.type == type) &&
                   (rule.major < 0 || rule.major == major) &&
                   (rule.minor < 0 || rule.minor == minor) && (rule.access & bit);
      if (match) allowed = rule.allow;
    }
    if (!allowed) return 0;
  }
  return 1;
}

TEST(DeviceBpfTest, ShapeOfEmptyAndTypicalPrograms) {
  auto empty = BuildDeviceProgram(EffectivePolicy({}));
  ASSERT_EQ(empty.size(), 8u);  // 6 prologue + "r0 = 1; exit"
  EXPECT_EQ(empty[6].code, BPF_ALU64 | BPF_MOV | BPF_K);
  EXPECT_EQ(empty[6].imm, 1);
  EXPECT_EQ(empty[7].code, BPF_JMP | BPF_EXIT);

  std::vector<DevRule> rules = {R(false, 'a', -1, -1, kAccAll), R(true, 'c', 1, 3, kAccAll),
                                R(true, 'c', 136, -1, kAccRead | kAccWrite)};
  auto p = BuildDeviceProgram(EffectivePolicy(rules));
  // prologue 6; c 136:* rw = type, major, and, jne, mov, exit (6);
  // c 1:3 rwm = type, major, minor, mov, exit (5); default deny 2.
  ASSERT_EQ(p.size(), 6u + 6u + 5u + 2u);
  EXPECT_EQ(p[6].code, BPF_JMP | BPF_JNE | BPF_K);  // the last rule is checked first
  EXPECT_EQ(p[6].imm, BPF_DEVCG_DEV_CHAR);
  EXPECT_EQ(p[6].off, 5);  // to the next block
  EXPECT_EQ(p[7].imm, 136);
  EXPECT_EQ(p[12].imm, BPF_DEVCG_DEV_CHAR);
  EXPECT_EQ(p[13].imm, 1);
  EXPECT_EQ(p[14].imm, 3);
  EXPECT_EQ(p.back().code, BPF_JMP | BPF_EXIT);
  EXPECT_EQ(p[p.size() - 2].imm, 0);
}

TEST(DeviceBpfTest, VerdictsOfTypicalRules) {
  std::vector<DevRule> rules = {R(false, 'a', -1, -1, kAccAll), R(true, 'c', 1, 3, kAccAll),
                                R(true, 'c', 1, 5, kAccRead), R(true, 'b', 8, -1, kAccMknod),
                                R(false, 'c', 1, 3, kAccWrite)};
  auto p = BuildDeviceProgram(EffectivePolicy(rules));
  EXPECT_EQ(Interpret(p, 'c', 1, 3, kAccRead), 1);
  EXPECT_EQ(Interpret(p, 'c', 1, 3, kAccWrite), 0);  // the later deny wins for w
  EXPECT_EQ(Interpret(p, 'c', 1, 3, kAccRead | kAccWrite), 0);
  EXPECT_EQ(Interpret(p, 'c', 1, 5, kAccRead), 1);
  EXPECT_EQ(Interpret(p, 'c', 1, 5, kAccRead | kAccWrite), 0);
  EXPECT_EQ(Interpret(p, 'b', 8, 1, kAccMknod), 1);
  EXPECT_EQ(Interpret(p, 'b', 8, 1, kAccRead), 0);
  EXPECT_EQ(Interpret(p, 'c', 8, 1, kAccMknod), 0);
  EXPECT_EQ(Interpret(p, 'c', 10, 200, kAccRead), 0);
}

TEST(DeviceBpfTest, MatchesReferenceOnRandomRuleSets) {
  std::mt19937 rng(42);
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  for (int round = 0; round < 300; ++round) {
    std::vector<DevRule> rules;
    int n = pick(7);
    for (int i = 0; i < n; ++i) {
      const char types[] = {'a', 'c', 'b'};
      DevRule r = R(pick(2) == 0, types[pick(3)], pick(3) == 0 ? -1 : pick(3),
                    pick(3) == 0 ? -1 : pick(3), static_cast<uint8_t>(1 + pick(7)));
      if (pick(5) == 0) r = R(pick(2) == 0, 'a', -1, -1, kAccAll);
      rules.push_back(r);
    }
    auto prog = BuildDeviceProgram(EffectivePolicy(rules));
    for (char type : {'c', 'b'}) {
      for (int major = 0; major < 3; ++major) {
        for (int minor = 0; minor < 3; ++minor) {
          for (uint8_t acc = 1; acc <= kAccAll; ++acc) {
            ASSERT_EQ(Interpret(prog, type, major, minor, acc),
                      Reference(rules, type, major, minor, acc))
                << "round " << round << " " << type << " " << major << ":" << minor << " acc "
                << int(acc);
          }
        }
      }
    }
  }
}

TEST(DeviceBpfTest, KernelVerifierAcceptsPrograms) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CAP_BPF or CAP_SYS_ADMIN) to load BPF";
  std::vector<std::vector<DevRule>> sets = {
      {},
      {R(false, 'a', -1, -1, kAccAll), R(true, 'c', 1, 3, kAccAll), R(true, 'c', 5, -1, kAccRead)},
      {R(false, 'c', 10, 200, kAccAll), R(false, 'b', -1, -1, kAccWrite | kAccMknod)}};
  for (const auto& rules : sets) {
    auto fd = LoadDeviceProgram(BuildDeviceProgram(EffectivePolicy(rules)));
    if (!fd.has_value() && fd.error().sys_errno() == EPERM) {
      GTEST_SKIP() << "BPF_PROG_LOAD not permitted here: " << fd.error().message();
    }
    ASSERT_TRUE(fd.has_value()) << fd.error().message();
    EXPECT_GE(fd->get(), 0);
  }
  // A program without an exit is rejected, and the error carries the verifier's reason.
  auto bad = BuildDeviceProgram(EffectivePolicy({}));
  bad.pop_back();
  auto fd = LoadDeviceProgram(bad);
  ASSERT_FALSE(fd.has_value());
  EXPECT_NE(fd.error().message().find("verifier"), std::string::npos) << fd.error().message();
}

}  // namespace
}  // namespace berth::cgroup::v2
