// berth/oci (internal): helpers and name tables shared by the validator's checks.
#include "berth/oci/validate_util.h"

#include <algorithm>
#include <cstdint>

namespace berth::oci::internal {

const std::string_view kSeccompActions[9] = {
    "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
};

const std::string_view kSeccompOperators[7] = {
    "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
    "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ",
};

const std::string_view kSeccompFlags[4] = {
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

// The runtime-spec's list (libseccomp 2.5) plus the names later libseccomp releases added;
// whether the installed libseccomp resolves one is for the runtime to find out.
const std::string_view kSeccompArchitectures[24] = {
    "SCMP_ARCH_NATIVE",      "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",         "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

bool OneOf(Names names, std::string_view value) {
  return std::find(names.begin(), names.end(), value) != names.end();
}

Status CheckKnown(std::string_view field, std::string_view value, Names names,
                  std::string_view what) {
  if (OneOf(names, value)) return Ok();
  if (value.empty()) return FieldError(field, "required");
  return FieldError(field, StrCat("unknown ", what, ' ', Quote(value)));
}

Status CheckAbsolutePath(std::string_view field, std::string_view path) {
  if (path.empty()) return FieldError(field, "required");
  if (path.find('\0') != std::string_view::npos) return FieldError(field, "contains a NUL byte");
  if (path.front() != '/')
    return FieldError(field, StrCat(Quote(path), " is not an absolute path"));
  return Ok();
}

Status CheckCpuList(std::string_view field, std::string_view list) {
  auto bad = [&] { return FieldError(field, StrCat("invalid cpu list ", Quote(list))); };
  auto number = [](std::string_view s, uint32_t& out) {
    if (s.empty() || s.size() > 9) return false;  // cpu numbers stay far below 10^9
    out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + static_cast<uint32_t>(c - '0');
    }
    return true;
  };
  if (list.empty()) return bad();
  for (const std::string& item : Split(list, ',')) {
    std::string_view it = item;
    size_t dash = it.find('-');
    uint32_t lo = 0, hi = 0;
    if (dash == std::string_view::npos) {
      if (!number(it, lo)) return bad();
    } else if (!number(it.substr(0, dash), lo) || !number(it.substr(dash + 1), hi) || lo > hi) {
      return bad();
    }
  }
  return Ok();
}

}  // namespace berth::oci::internal
