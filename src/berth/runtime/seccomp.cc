// berth/runtime: linux.seccomp compiled to classic BPF with libseccomp (in the runtime, before
// fork), the kernel probes for the flags and actions a profile uses, and the raw seccomp(2)
// load in the container's init.
#include "berth/runtime/seccomp.h"

#include <linux/bpf_common.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include "berth/base/file.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"

namespace berth::runtime {
namespace {

// The action part of a SECCOMP_RET_* value; the low 16 bits carry an errno or trace value.
constexpr uint32_t kActionMask = SECCOMP_RET_ACTION_FULL;
constexpr uint32_t kMaxActionData = SECCOMP_RET_DATA;
// BPF_MAXINSNS: the kernel refuses longer classic BPF programs.
constexpr size_t kMaxInstructions = BPF_MAXINSNS;
constexpr unsigned int kMaxSyscallArgs = 6;

struct ActionName {
  std::string_view name;
  uint32_t action;  // errno/trace data left 0
  bool takes_data;  // errnoRet applies
};
constexpr ActionName kActions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},  // the thread, as libseccomp's SCMP_ACT_KILL
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

struct OperatorName {
  std::string_view name;
  scmp_compare op;
};
constexpr OperatorName kOperators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// Every SCMP_ARCH_* name libseccomp has defined, with the name seccomp_arch_resolve_name
// takes. Those this libseccomp cannot build for resolve to 0 and are left out (see below).
struct ArchName {
  std::string_view name;
  const char* libseccomp;
};
constexpr ArchName kArchs[] = {
    {"SCMP_ARCH_X86", "x86"},
    {"SCMP_ARCH_X86_64", "x86_64"},
    {"SCMP_ARCH_X32", "x32"},
    {"SCMP_ARCH_ARM", "arm"},
    {"SCMP_ARCH_AARCH64", "aarch64"},
    {"SCMP_ARCH_LOONGARCH64", "loongarch64"},
    {"SCMP_ARCH_M68K", "m68k"},
    {"SCMP_ARCH_MIPS", "mips"},
    {"SCMP_ARCH_MIPS64", "mips64"},
    {"SCMP_ARCH_MIPS64N32", "mips64n32"},
    {"SCMP_ARCH_MIPSEL", "mipsel"},
    {"SCMP_ARCH_MIPSEL64", "mipsel64"},
    {"SCMP_ARCH_MIPSEL64N32", "mipsel64n32"},
    {"SCMP_ARCH_PPC", "ppc"},
    {"SCMP_ARCH_PPC64", "ppc64"},
    {"SCMP_ARCH_PPC64LE", "ppc64le"},
    {"SCMP_ARCH_S390", "s390"},
    {"SCMP_ARCH_S390X", "s390x"},
    {"SCMP_ARCH_PARISC", "parisc"},
    {"SCMP_ARCH_PARISC64", "parisc64"},
    {"SCMP_ARCH_RISCV64", "riscv64"},
    {"SCMP_ARCH_SH", "sh"},
    {"SCMP_ARCH_SHEB", "sheb"},
};

struct FlagName {
  std::string_view name;
  unsigned int flag;
};
constexpr FlagName kFlags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

template <class T, size_t N>
const T* FindName(const T (&table)[N], std::string_view name) {
  for (const T& e : table)
    if (e.name == name) return &e;
  return nullptr;
}

bool IsAllow(uint32_t action) {
  uint32_t a = action & kActionMask;
  return a == SCMP_ACT_ALLOW || a == SCMP_ACT_LOG;
}
// Actions that refuse the syscall outright; TRACE and NOTIFY leave the verdict to another
// process, so they count as neither.
bool IsDeny(uint32_t action) {
  uint32_t a = action & kActionMask;
  return a == SCMP_ACT_KILL_PROCESS || a == SCMP_ACT_KILL_THREAD || a == SCMP_ACT_TRAP ||
         a == (SCMP_ACT_ERRNO(0) & kActionMask);
}

Result<uint32_t> ParseAction(std::string_view name, const std::optional<uint32_t>& data,
                             std::string_view field, std::string_view data_field) {
  if (name.empty()) return InvalidArgument(StrCat(field, ": is required"));
  const ActionName* a = FindName(kActions, name);
  if (a == nullptr) return InvalidArgument(StrCat(field, ": unknown action ", Quote(name)));
  if (!a->takes_data) {
    // runtime-spec: "When the action doesn't support an errno, the runtime MUST print and
    // error and fail."
    if (data.has_value())
      return InvalidArgument(StrCat(data_field, ": not supported by action ", Quote(name)));
    return a->action;
  }
  uint32_t value = data.value_or(EPERM);
  if (value > kMaxActionData)
    return InvalidArgument(StrCat(data_field, ": ", value, " does not fit in 16 bits"));
  return a->action | value;
}

enum class Probe { kYes, kNo, kUnknown };

Probe ProbeFlags(unsigned int flags) {
  // seccomp(2) validates the flags before it copies the program in: with a NULL program it
  // fails with EFAULT when every flag is known and EINVAL when one is not. Nothing is
  // installed either way (no glibc wrapper for seccomp(2)).
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, nullptr);
  if (rc < 0 && errno == EFAULT) return Probe::kYes;
  if (rc < 0 && errno == EINVAL) return Probe::kNo;
  return Probe::kUnknown;  // seccomp(2) itself filtered (nested runtime) or absent
}

Probe ProbeAction(uint32_t action) {
  uint32_t a = action & kActionMask;
  // SECCOMP_GET_ACTION_AVAIL (linux 4.14) reads one u32 and answers 0 or EOPNOTSUPP; older
  // kernels fail with EINVAL, which says nothing about the action.
  if (::syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &a) == 0) return Probe::kYes;
  if (errno == EOPNOTSUPP) return Probe::kNo;
  return Probe::kUnknown;
}

unsigned int FlagProbeSet(unsigned int flag) {
  // The kernel refuses WAIT_KILLABLE_RECV without NEW_LISTENER, so probe it with one.
  if (flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) flag |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  return flag;
}

// "`SECCOMP_FILTER_FLAG_TSYNC`|`SECCOMP_FILTER_FLAG_NEW_LISTENER`" for messages.
std::string FlagNames(unsigned int flags) {
  static constexpr FlagName kAll[] = {
      {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
      {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
      {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
      {"SECCOMP_FILTER_FLAG_NEW_LISTENER", SECCOMP_FILTER_FLAG_NEW_LISTENER},
      {"SECCOMP_FILTER_FLAG_TSYNC_ESRCH", SECCOMP_FILTER_FLAG_TSYNC_ESRCH},
      {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
  };
  std::vector<std::string> names;
  for (const auto& f : kAll)
    if (flags & f.flag) names.push_back(Quote(f.name));
  return Join(names, "|");
}

std::string LibseccompVersion() {
  const scmp_version* v = seccomp_version();
  return StrCat(v->major, '.', v->minor, '.', v->micro);
}

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterCtx = std::unique_ptr<void, CtxDeleter>;

// Remembers which actions were already checked against the kernel.
class ActionChecker {
 public:
  Status Check(uint32_t action, std::string_view name, std::string_view field) {
    uint32_t a = action & kActionMask;
    for (uint32_t seen : checked_)
      if (seen == a) return Ok();
    checked_.push_back(a);
    if (ProbeAction(a) == Probe::kNo)
      return Fail(ErrorCode::kUnsupported,
                  StrCat(field, ": action ", Quote(name), " is not supported by this kernel"));
    return Ok();
  }

 private:
  std::vector<uint32_t> checked_;
};

Status AddArchitectures(scmp_filter_ctx ctx, const oci::Seccomp& s, std::string_view field) {
  for (size_t i = 0; i < s.architectures.size(); ++i) {
    const std::string& name = s.architectures[i];
    std::string at = StrCat(field, ".architectures[", i, "]");
    const ArchName* a = FindName(kArchs, name);
    if (a == nullptr) return InvalidArgument(StrCat(at, ": unknown architecture ", Quote(name)));
    uint32_t token = seccomp_arch_resolve_name(a->libseccomp);
    if (token == 0) {
      // Leaving an ABI out only takes syscalls away: its callers get the bad-architecture
      // action (kill). A host of that ABI would need a newer libseccomp anyway.
      log::Warn(StrCat(at, ": architecture ", Quote(name), " is unknown to libseccomp ",
                       LibseccompVersion(), "; left out of the filter"));
      continue;
    }
    int rc = seccomp_arch_add(ctx, token);
    if (rc == -EEXIST) continue;  // the native one (always present) or listed twice
    if (rc == -EDOM) {
      // libseccomp cannot mix byte orders in one filter (s390x beside x86_64); this host
      // cannot run that ABI's syscalls anyway, so it is left out like an unknown one.
      log::Warn(StrCat(at, ": architecture ", Quote(name),
                       " has another byte order than the native one; left out of the filter"));
      continue;
    }
    if (rc < 0) return Unexpected(Error::Sys(-rc, StrCat(at, ": add architecture ", Quote(name))));
  }
  return Ok();
}

struct ParsedFlags {
  unsigned int flags = 0;
  std::optional<size_t> wait_killable_index;
};

Result<ParsedFlags> ParseFlags(const oci::Seccomp& s, std::string_view field) {
  ParsedFlags out;
  for (size_t i = 0; i < s.flags.size(); ++i) {
    const FlagName* f = FindName(kFlags, s.flags[i]);
    if (f == nullptr)
      return InvalidArgument(StrCat(field, ".flags[", i, "]: unknown flag ", Quote(s.flags[i])));
    if (ProbeFlags(FlagProbeSet(f->flag)) == Probe::kNo)
      return Fail(ErrorCode::kUnsupported, StrCat(field, ".flags[", i, "]: ", Quote(f->name),
                                                  " is not supported by this kernel"));
    if (f->flag == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) out.wait_killable_index = i;
    out.flags |= f->flag;
  }
  return out;
}

// The comparisons of one syscalls[] entry, and whether they must be split (see the header).
struct ParsedArgs {
  std::vector<scmp_arg_cmp> cmps;
  bool repeated_index = false;
};

Result<ParsedArgs> ParseArgs(const oci::SeccompSyscall& sc, std::string_view at) {
  ParsedArgs out;
  unsigned int seen = 0;
  for (size_t j = 0; j < sc.args.size(); ++j) {
    const oci::SeccompArg& arg = sc.args[j];
    if (arg.index >= kMaxSyscallArgs)
      return InvalidArgument(
          StrCat(at, ".args[", j, "].index: ", arg.index, " is not a syscall argument (0 to 5)"));
    const OperatorName* op = FindName(kOperators, arg.op);
    if (op == nullptr)
      return InvalidArgument(StrCat(at, ".args[", j, "].op: unknown operator ", Quote(arg.op)));
    if (seen & (1u << arg.index)) out.repeated_index = true;
    seen |= 1u << arg.index;
    scmp_arg_cmp cmp = {};
    cmp.arg = arg.index;
    cmp.op = op->op;
    cmp.datum_a = arg.value;  // the mask for SCMP_CMP_MASKED_EQ
    cmp.datum_b = op->op == SCMP_CMP_MASKED_EQ ? arg.value_two : 0;
    out.cmps.push_back(cmp);
  }
  return out;
}

Result<std::vector<struct sock_filter>> ExportBpf(scmp_filter_ctx ctx, std::string_view field) {
  // libseccomp 2.5 exports only to an fd; a memfd keeps it off any filesystem.
  UniqueFd mem(::memfd_create("berth-seccomp-bpf", MFD_CLOEXEC));
  if (!mem) return ErrnoFail(StrCat(field, ": memfd_create"));
  int rc = seccomp_export_bpf(ctx, mem.get());
  if (rc < 0) return Unexpected(Error::Sys(-rc, StrCat(field, ": export the filter")));
  if (::lseek(mem.get(), 0, SEEK_SET) < 0) return ErrnoFail(StrCat(field, ": seek the filter"));
  BERTH_ASSIGN_OR_RETURN(std::string bytes, ReadFd(mem.get(), "seccomp filter"));
  if (bytes.empty() || bytes.size() % sizeof(struct sock_filter) != 0)
    return Fail(ErrorCode::kInternal, StrCat(field, ": libseccomp exported ", bytes.size(),
                                             " bytes, not a whole BPF program"));
  std::vector<struct sock_filter> filter(bytes.size() / sizeof(struct sock_filter));
  std::memcpy(filter.data(), bytes.data(), bytes.size());
  if (filter.size() > kMaxInstructions)
    return Fail(ErrorCode::kUnsupported,
                StrCat(field, ": the filter has ", filter.size(),
                       " instructions, more than the kernel's limit of ", kMaxInstructions));
  return filter;
}

}  // namespace

Result<SeccompProgram> CompileSeccomp(const oci::Seccomp& s, std::string_view field) {
  ActionChecker checker;
  const std::string default_field = StrCat(field, ".defaultAction");
  BERTH_ASSIGN_OR_RETURN(const uint32_t default_action,
                         ParseAction(s.default_action, s.default_errno_ret, default_field,
                                     StrCat(field, ".defaultErrnoRet")));
  if ((default_action & kActionMask) == SCMP_ACT_NOTIFY)
    // Every syscall the runtime makes between the load and exec (handing the listener fd
    // over included) would wait for an agent that does not have the fd yet.
    return InvalidArgument(
        StrCat(default_field, ": ", Quote(s.default_action), " cannot be the default action"));
  BERTH_TRY(checker.Check(default_action, s.default_action, default_field));

  FilterCtx ctx(seccomp_init(default_action));
  if (!ctx) return Fail(ErrorCode::kInternal, StrCat(field, ": seccomp_init failed"));
  // A binary tree of syscall numbers instead of a linear chain: at load the kernel runs the
  // filter once per syscall number to build its allow-cache (~2 ms for docker's profile as a
  // chain), and every syscall the cache cannot answer walks a few branches, not hundreds.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc != 0)
    return Fail(ErrorCode::kInternal, StrCat(field, ": libseccomp: binary tree optimization: ",
                                             strerror(-rc)));
  BERTH_TRY(AddArchitectures(ctx.get(), s, field));
  BERTH_ASSIGN_OR_RETURN(ParsedFlags flags, ParseFlags(s, field));

  bool notify = false;
  for (size_t i = 0; i < s.syscalls.size(); ++i) {
    const oci::SeccompSyscall& sc = s.syscalls[i];
    const std::string at = StrCat(field, ".syscalls[", i, "]");
    BERTH_ASSIGN_OR_RETURN(
        const uint32_t action,
        ParseAction(sc.action, sc.errno_ret, StrCat(at, ".action"), StrCat(at, ".errnoRet")));
    if (sc.names.empty()) return InvalidArgument(StrCat(at, ".names: must name a syscall"));
    for (size_t j = 0; j < sc.names.size(); ++j)
      if (sc.names[j].empty())
        return InvalidArgument(StrCat(at, ".names[", j, "]: empty syscall name"));
    BERTH_ASSIGN_OR_RETURN(ParsedArgs args, ParseArgs(sc, at));
    // libseccomp refuses a rule that repeats the default action; it would change nothing.
    if (action == default_action) continue;
    BERTH_TRY(checker.Check(action, sc.action, StrCat(at, ".action")));

    for (size_t j = 0; j < sc.names.size(); ++j) {
      const std::string& name = sc.names[j];
      int nr = seccomp_syscall_resolve_name(name.c_str());
      if (nr == __NR_SCMP_ERROR) {
        std::string what = StrCat(at, ".names[", j, "]: syscall ", Quote(name),
                                  " is unknown to libseccomp ", LibseccompVersion());
        if (IsAllow(action)) {
          log::Debug(StrCat(what, "; left out"));
          continue;
        }
        if (IsDeny(default_action)) {
          log::Warn(StrCat(what, "; its ", Quote(sc.action), " rule is left out and the default ",
                           Quote(s.default_action), " applies"));
          continue;
        }
        return InvalidArgument(StrCat(what, ": its ", Quote(sc.action),
                                      " rule cannot be left out, the default ",
                                      Quote(s.default_action), " would let it through"));
      }
      int rc = 0;
      if (!args.repeated_index) {
        rc = seccomp_rule_add_array(ctx.get(), action, nr, args.cmps.size(), args.cmps.data());
      } else {
        for (const scmp_arg_cmp& cmp : args.cmps) {
          rc = seccomp_rule_add_array(ctx.get(), action, nr, 1, &cmp);
          if (rc < 0) break;
        }
      }
      if (rc < 0)
        return Unexpected(Error::Sys(-rc, StrCat(at, ": add the rule for ", Quote(name))));
      if ((action & kActionMask) == SCMP_ACT_NOTIFY) notify = true;
    }
  }

  SeccompProgram program;
  program.flags = flags.flags;
  program.new_listener = notify;
  if (notify) {
    program.flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    // With NEW_LISTENER the syscall returns the fd, so a TSYNC failure must come back as
    // ESRCH instead of a thread id (the kernel refuses the pair otherwise).
    if (program.flags & SECCOMP_FILTER_FLAG_TSYNC) program.flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  } else if (flags.wait_killable_index.has_value()) {
    // The flag only changes how notifications wait, and the kernel refuses it without a
    // listener; a shared profile that carries it should still run without notify rules.
    log::Warn(StrCat(field, ".flags[", *flags.wait_killable_index,
                     "]: `SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` ignored: no rule uses "
                     "`SCMP_ACT_NOTIFY`"));
    // The uapi flag is an unsigned long; the mask is cut to the width of `flags`.
    program.flags &= ~static_cast<unsigned int>(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
  }
  if (ProbeFlags(program.flags) == Probe::kNo)
    return Fail(
        ErrorCode::kUnsupported,
        StrCat(field, ".flags: this kernel refuses the combination ", FlagNames(program.flags)));

  BERTH_ASSIGN_OR_RETURN(program.filter, ExportBpf(ctx.get(), field));
  return program;
}

Result<UniqueFd> LoadSeccomp(const SeccompProgram& program) {
  if (program.filter.empty() || program.filter.size() > kMaxInstructions)
    return Fail(ErrorCode::kInvalidArgument,
                StrCat("load seccomp filter: ", program.filter.size(), " instructions"));
  struct sock_fprog prog = {};
  prog.len = static_cast<unsigned short>(program.filter.size());  // <= BPF_MAXINSNS, checked
  // The kernel only reads the program; sock_fprog's pointer is not const in the uapi header.
  prog.filter = const_cast<struct sock_filter*>(program.filter.data());
  unsigned int flags = program.flags;
  if (program.new_listener) flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  // seccomp(2) rather than prctl(PR_SET_SECCOMP): only the syscall takes flags (TSYNC, LOG,
  // SPEC_ALLOW, NEW_LISTENER, ...). glibc has no wrapper.
  long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
  if (rc < 0) {
    if (errno == EACCES)
      return ErrnoFail("load seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)");
    return ErrnoFail("load seccomp filter");
  }
  // With NEW_LISTENER the return value is the listener fd (an int in a long).
  if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) return UniqueFd(static_cast<int>(rc));
  // Without a listener, TSYNC reports a thread it could not synchronize by its id.
  if (rc > 0)
    return Fail(ErrorCode::kSystem,
                StrCat("load seccomp filter: thread ", rc, " could not be synchronized"));
  return UniqueFd();
}

SeccompFeatures GetSeccompFeatures() {
  SeccompFeatures f;
  for (const auto& a : kActions) f.actions.emplace_back(a.name);
  for (const auto& o : kOperators) f.operators.emplace_back(o.name);
  for (const auto& a : kArchs)
    if (seccomp_arch_resolve_name(a.libseccomp) != 0) f.archs.emplace_back(a.name);
  for (const auto& fl : kFlags) {
    f.known_flags.emplace_back(fl.name);
    if (ProbeFlags(FlagProbeSet(fl.flag)) == Probe::kYes) f.supported_flags.emplace_back(fl.name);
  }
  return f;
}

}  // namespace berth::runtime
