// berth/cgroup/v2: the device filter as a hand-built BPF_PROG_TYPE_CGROUP_DEVICE program.
//
// The program sees struct bpf_cgroup_dev_ctx { access_type = (access << 16) | type; major;
// minor } and returns 1 to allow, 0 to deny. Registers after the prologue:
//   r2 = device type (BPF_DEVCG_DEV_BLOCK 1 / _CHAR 2), r3 = access bits still undecided,
//   r4 = major, r5 = minor; r1 is scratch once the context is read.
// Rules are checked from the last to the first. A matching allow rule clears the bits it
// grants from r3 and allows once none are left; a matching deny rule denies if it names any
// bit still undecided. Bits no rule decides get the policy's default. That is "for each
// access bit, the last rule naming it wins".
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/cgroup/v2/bpf.h"

namespace berth::cgroup::v2 {

namespace {

bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

bpf_insn LoadCtxWord(uint8_t dst, int16_t off) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, off, 0);
}
bpf_insn Alu(uint8_t op, uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn MovReg(uint8_t dst, uint8_t src) {
  return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0);
}
bpf_insn JumpImm(uint8_t op, uint8_t dst, int32_t imm, int16_t off) {
  return Insn(BPF_JMP | op | BPF_K, dst, 0, off, imm);
}
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

// Marker in `off` for "jump to the end of this rule's block", patched once its length is
// known.
constexpr int16_t kToNext = -1;

std::vector<bpf_insn> RuleBlock(const DevRule& r) {
  std::vector<bpf_insn> b;
  if (r.type != 'a') {
    int32_t type = r.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
    b.push_back(JumpImm(BPF_JNE, BPF_REG_2, type, kToNext));
  }
  // Majors and minors fit in 32 bits (checked when converting), so the 64-bit compare
  // against a zero-extended 32-bit load is exact.
  if (r.major >= 0)
    b.push_back(JumpImm(BPF_JNE, BPF_REG_4, static_cast<int32_t>(r.major), kToNext));
  if (r.minor >= 0)
    b.push_back(JumpImm(BPF_JNE, BPF_REG_5, static_cast<int32_t>(r.minor), kToNext));
  if (r.access == kAccAll) {
    // Every requested bit is named by this rule: it decides all of them.
    b.push_back(Alu(BPF_MOV, BPF_REG_0, r.allow ? 1 : 0));
    b.push_back(Exit());
  } else if (r.allow) {
    b.push_back(Alu(BPF_AND, BPF_REG_3, ~static_cast<int32_t>(r.access)));
    b.push_back(JumpImm(BPF_JNE, BPF_REG_3, 0, kToNext));
    b.push_back(Alu(BPF_MOV, BPF_REG_0, 1));
    b.push_back(Exit());
  } else {
    b.push_back(MovReg(BPF_REG_1, BPF_REG_3));
    b.push_back(Alu(BPF_AND, BPF_REG_1, r.access));
    b.push_back(JumpImm(BPF_JEQ, BPF_REG_1, 0, kToNext));
    b.push_back(Alu(BPF_MOV, BPF_REG_0, 0));
    b.push_back(Exit());
  }
  for (size_t i = 0; i < b.size(); ++i) {
    // Jump offsets count from the next instruction.
    if (BPF_CLASS(b[i].code) == BPF_JMP && b[i].off == kToNext) {
      b[i].off = static_cast<int16_t>(b.size() - i - 1);
    }
  }
  return b;
}

long Bpf(int cmd, union bpf_attr* attr) {
  // glibc has no bpf() wrapper.
  return ::syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

// Pointers travel in bpf_attr as u64.
uint64_t Ptr(const void* p) { return reinterpret_cast<uintptr_t>(p); }

}  // namespace

std::vector<bpf_insn> BuildDeviceProgram(const DevicePolicy& policy) {
  std::vector<bpf_insn> p = {
      LoadCtxWord(BPF_REG_2, offsetof(bpf_cgroup_dev_ctx, access_type)),
      Alu(BPF_AND, BPF_REG_2, 0xffff),
      LoadCtxWord(BPF_REG_3, offsetof(bpf_cgroup_dev_ctx, access_type)),
      Alu(BPF_RSH, BPF_REG_3, 16),
      LoadCtxWord(BPF_REG_4, offsetof(bpf_cgroup_dev_ctx, major)),
      LoadCtxWord(BPF_REG_5, offsetof(bpf_cgroup_dev_ctx, minor)),
  };
  for (auto it = policy.rules.rbegin(); it != policy.rules.rend(); ++it) {
    auto b = RuleBlock(*it);
    p.insert(p.end(), b.begin(), b.end());
  }
  p.push_back(Alu(BPF_MOV, BPF_REG_0, policy.default_allow ? 1 : 0));
  p.push_back(Exit());
  return p;
}

Result<UniqueFd> LoadDeviceProgram(const std::vector<bpf_insn>& insns) {
  static const char kLicense[] = "Apache-2.0";  // no GPL-only helpers are called
  auto load = [&](char* log, uint32_t log_size) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    attr.insns = Ptr(insns.data());
    attr.insn_cnt = static_cast<uint32_t>(insns.size());
    attr.license = Ptr(kLicense);
    std::strncpy(attr.prog_name, "berth_devices", sizeof(attr.prog_name) - 1);
    if (log) {
      attr.log_buf = Ptr(log);
      attr.log_size = log_size;
      attr.log_level = 1;
    }
    // BPF program fds are always created close-on-exec.
    return static_cast<int>(Bpf(BPF_PROG_LOAD, &attr));
  };
  int fd = load(nullptr, 0);
  if (fd >= 0) return UniqueFd(fd);
  int err = errno;
  if (err == EPERM) return SysFail(err, "load device filter (needs CAP_BPF or CAP_SYS_ADMIN)");
  // Load again with the verifier log to say why it was rejected.
  std::string log(1 << 16, '\0');
  fd = load(log.data(), static_cast<uint32_t>(log.size()));
  if (fd >= 0) return UniqueFd(fd);
  log.resize(std::strlen(log.c_str()));
  return SysFail(err, StrCat("load device filter (verifier: ", Trim(log), ")"));
}

Result<std::vector<uint32_t>> QueryDevicePrograms(int cgroup_fd) {
  std::vector<uint32_t> ids(16);
  while (true) {
    union bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = Ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    // ENOSPC: more programs than room; prog_cnt says how many.
    if (errno != ENOSPC || attr.query.prog_cnt <= ids.size()) {
      return ErrnoFail("query device filters");
    }
    ids.resize(attr.query.prog_cnt);
  }
}

Status ReplaceDeviceProgram(int cgroup_fd, int prog_fd) {
  BERTH_ASSIGN_OR_RETURN(std::vector<uint32_t> old, QueryDevicePrograms(cgroup_fd));
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) return ErrnoFail("attach device filter");
  for (uint32_t id : old) {
    std::memset(&attr, 0, sizeof attr);
    attr.prog_id = id;
    long fd = Bpf(BPF_PROG_GET_FD_BY_ID, &attr);
    if (fd < 0) {
      if (errno == ENOENT) continue;  // detached meanwhile
      return ErrnoFail(StrCat("open old device filter ", id));
    }
    UniqueFd old_fd(static_cast<int>(fd));
    std::memset(&attr, 0, sizeof attr);
    attr.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.attach_bpf_fd = static_cast<uint32_t>(old_fd.get());
    attr.attach_type = BPF_CGROUP_DEVICE;
    if (Bpf(BPF_PROG_DETACH, &attr) != 0 && errno != ENOENT) {
      return ErrnoFail(StrCat("detach old device filter ", id));
    }
  }
  return Ok();
}

Status ApplyDevices(const std::string& dir, const std::vector<DevRule>& rules) {
  constexpr std::string_view kField = "linux.resources.devices";
  auto insns = BuildDeviceProgram(EffectivePolicy(rules));
  BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd prog, LoadDeviceProgram(insns), kField);
  BERTH_ASSIGN_OR_RETURN_CTX(UniqueFd cg, OpenFile(dir, O_RDONLY | O_DIRECTORY), kField);
  BERTH_TRY_CTX(ReplaceDeviceProgram(cg.get(), prog.get()), StrCat(kField, ": ", Quote(dir)));
  return Ok();
}

}  // namespace berth::cgroup::v2
