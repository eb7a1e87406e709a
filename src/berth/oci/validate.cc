// berth/oci: semantic checks on a parsed Spec: the top level, the process, mounts and hooks.
// The linux section's checks are in validate_linux.cc. Each check names the field at fault.
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "berth/oci/spec.h"
#include "berth/oci/validate_linux.h"
#include "berth/oci/validate_util.h"

namespace berth::oci {
namespace {

using internal::CheckAbsolutePath;
using internal::CheckCpuList;
using internal::CheckIdMappings;
using internal::CheckKnown;
using internal::Field;
using internal::FieldError;
using internal::OneOf;

constexpr std::string_view kRlimits[] = {
    "RLIMIT_AS",     "RLIMIT_CORE",   "RLIMIT_CPU",        "RLIMIT_DATA",
    "RLIMIT_FSIZE",  "RLIMIT_LOCKS",  "RLIMIT_MEMLOCK",    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",   "RLIMIT_NOFILE", "RLIMIT_NPROC",      "RLIMIT_RSS",
    "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK",
};

constexpr std::string_view kSchedPolicies[] = {
    "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
    "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE",
};

constexpr std::string_view kSchedFlags[] = {
    "SCHED_FLAG_RESET_ON_FORK",  "SCHED_FLAG_RECLAIM",     "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",    "SCHED_FLAG_KEEP_PARAMS", "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
};

constexpr std::string_view kIoPriorityClasses[] = {
    "IOPRIO_CLASS_RT",
    "IOPRIO_CLASS_BE",
    "IOPRIO_CLASS_IDLE",
};

// Mount options that make a mount a bind mount whatever its type says.
constexpr std::string_view kBindOptions[] = {"bind", "rbind"};

Status CheckEnv(std::string_view field, const std::vector<std::string>& env) {
  for (size_t i = 0; i < env.size(); ++i) {
    std::string_view e = env[i];
    size_t eq = e.find('=');
    if (eq == std::string_view::npos)
      return FieldError(Field(field, i), StrCat(Quote(e), " is not of the form KEY=VALUE"));
    if (eq == 0) return FieldError(Field(field, i), StrCat(Quote(e), " has an empty name"));
    if (e.find('\0') != std::string_view::npos)
      return FieldError(Field(field, i), "contains a NUL byte");
  }
  return Ok();
}

Status CheckRlimits(std::string_view field, const std::vector<Rlimit>& rlimits) {
  std::set<std::string_view> seen;
  for (size_t i = 0; i < rlimits.size(); ++i) {
    const Rlimit& l = rlimits[i];
    std::string f = Field(field, i);
    BERTH_TRY(CheckKnown(Field(f, "type"), l.type, kRlimits, "rlimit"));
    if (!seen.insert(l.type).second)
      return FieldError(Field(f, "type"), StrCat("duplicate rlimit ", Quote(l.type)));
    if (l.soft > l.hard)
      return FieldError(f, StrCat("soft limit ", l.soft, " exceeds hard limit ", l.hard));
  }
  return Ok();
}

Status CheckScheduler(std::string_view field, const Scheduler& s) {
  BERTH_TRY(CheckKnown(Field(field, "policy"), s.policy, kSchedPolicies, "scheduler policy"));
  for (size_t i = 0; i < s.flags.size(); ++i)
    BERTH_TRY(
        CheckKnown(Field(Field(field, "flags"), i), s.flags[i], kSchedFlags, "scheduler flag"));
  if (s.nice < -20 || s.nice > 19)
    return FieldError(Field(field, "nice"), StrCat("must be between -20 and 19, got ", s.nice));
  bool realtime = s.policy == "SCHED_FIFO" || s.policy == "SCHED_RR";
  if (realtime && (s.priority < 1 || s.priority > 99))
    return FieldError(Field(field, "priority"),
                      StrCat("must be between 1 and 99 for ", s.policy, ", got ", s.priority));
  if (!realtime && s.priority != 0)
    return FieldError(Field(field, "priority"), StrCat("must be 0 for ", s.policy));
  if (s.policy != "SCHED_DEADLINE") {
    if (s.runtime != 0 || s.deadline != 0 || s.period != 0)
      return FieldError(field, "runtime, deadline and period apply only to SCHED_DEADLINE");
    return Ok();
  }
  // sched_setattr(2) requires runtime <= deadline <= period (a zero period means deadline).
  if (s.runtime > s.deadline)
    return FieldError(Field(field, "runtime"), "must not exceed deadline");
  if (s.period != 0 && s.deadline > s.period)
    return FieldError(Field(field, "deadline"), "must not exceed period");
  return Ok();
}

Status CheckIoPriority(std::string_view field, const IoPriority& p) {
  BERTH_TRY(CheckKnown(Field(field, "class"), p.io_class, kIoPriorityClasses, "ioPriority class"));
  if (p.priority < 0 || p.priority > 7)
    return FieldError(Field(field, "priority"),
                      StrCat("must be between 0 and 7, got ", p.priority));
  return Ok();
}

Status CheckMount(std::string_view field, const Mount& m, std::vector<std::string>* warnings) {
  std::string dest = Field(field, "destination");
  if (m.destination.empty()) return FieldError(dest, "required");
  if (m.destination.find('\0') != std::string::npos) return FieldError(dest, "contains a NUL byte");
  if (m.destination.front() != '/' && warnings != nullptr) {
    // runc still accepts these (resolving them against the container's /) with a warning.
    warnings->push_back(StrCat(dest, ": ", Quote(m.destination),
                               " is not absolute; it is taken as relative to `/`"));
  }
  for (char c : m.type) {
    if (c == '/' || c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\0')
      return FieldError(Field(field, "type"), StrCat("invalid filesystem type ", Quote(m.type)));
  }
  for (size_t i = 0; i < m.options.size(); ++i) {
    const std::string& o = m.options[i];
    if (o.empty() || o.find('\0') != std::string::npos)
      return FieldError(Field(Field(field, "options"), i), StrCat("invalid option ", Quote(o)));
  }
  bool bind = m.type == "bind";
  for (const auto& o : m.options) bind = bind || OneOf(kBindOptions, o);
  if (bind && m.source.empty())
    return FieldError(Field(field, "source"), "required for a bind mount");
  // Idmapped mounts: the kernel needs both maps, and runc applies them to bind mounts only.
  if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) {
    if (m.uid_mappings.empty() || m.gid_mappings.empty())
      return FieldError(field, "uidMappings and gidMappings must be given together");
    if (!bind) return FieldError(field, "uidMappings and gidMappings need a bind mount");
    BERTH_TRY(CheckIdMappings(Field(field, "uidMappings"), m.uid_mappings));
    BERTH_TRY(CheckIdMappings(Field(field, "gidMappings"), m.gid_mappings));
  }
  return Ok();
}

Status CheckHooks(const Hooks& hooks) {
  const std::pair<const char*, const std::vector<Hook>*> kinds[] = {
      {"prestart", &hooks.prestart},
      {"createRuntime", &hooks.create_runtime},
      {"createContainer", &hooks.create_container},
      {"startContainer", &hooks.start_container},
      {"poststart", &hooks.poststart},
      {"poststop", &hooks.poststop},
  };
  for (const auto& [name, list] : kinds) {
    for (size_t i = 0; i < list->size(); ++i) {
      const Hook& h = (*list)[i];
      std::string f = Field(Field("hooks", name), i);
      BERTH_TRY(CheckAbsolutePath(Field(f, "path"), h.path));
      BERTH_TRY(CheckEnv(Field(f, "env"), h.env));
      if (h.timeout && *h.timeout <= 0)
        return FieldError(Field(f, "timeout"), StrCat("must be positive, got ", *h.timeout));
    }
  }
  return Ok();
}

// runtime-spec 1.x: MAJOR.MINOR.PATCH with an optional -prerelease or +build suffix.
Status CheckVersion(std::string_view v) {
  if (v.empty()) return FieldError("ociVersion", "required");
  std::string_view core = v.substr(0, v.find_first_of("-+"));
  std::vector<std::string> parts = Split(core, '.');
  bool ok = parts.size() == 3;
  for (const auto& p : parts) ok = ok && !p.empty() && p.find_first_not_of("0123456789") == p.npos;
  if (!ok) return FieldError("ociVersion", StrCat(Quote(v), " is not a MAJOR.MINOR.PATCH version"));
  if (parts[0] != "1")
    return FieldError(
        "ociVersion",
        StrCat("unsupported version ", Quote(v), ": berth implements runtime-spec 1.x"),
        ErrorCode::kUnsupported);
  return Ok();
}

}  // namespace

Status ValidateProcess(const Process& p, std::string_view field) {
  if (p.args.empty()) return FieldError(Field(field, "args"), "must not be empty");
  if (p.args[0].empty()) return FieldError(Field(Field(field, "args"), 0), "must not be empty");
  for (size_t i = 0; i < p.args.size(); ++i) {
    // execve(2) would see the argument cut at the NUL.
    if (p.args[i].find('\0') != std::string::npos)
      return FieldError(Field(Field(field, "args"), i), "contains a NUL byte");
  }
  BERTH_TRY(CheckAbsolutePath(Field(field, "cwd"), p.cwd));
  BERTH_TRY(CheckEnv(Field(field, "env"), p.env));
  BERTH_TRY(CheckRlimits(Field(field, "rlimits"), p.rlimits));
  if (p.oom_score_adj && (*p.oom_score_adj < -1000 || *p.oom_score_adj > 1000))
    return FieldError(Field(field, "oomScoreAdj"),
                      StrCat("must be between -1000 and 1000, got ", *p.oom_score_adj));
  if (p.scheduler) BERTH_TRY(CheckScheduler(Field(field, "scheduler"), *p.scheduler));
  if (p.io_priority) BERTH_TRY(CheckIoPriority(Field(field, "ioPriority"), *p.io_priority));
  if (p.exec_cpu_affinity) {
    std::string f = Field(field, "execCPUAffinity");
    if (!p.exec_cpu_affinity->initial.empty())
      BERTH_TRY(CheckCpuList(Field(f, "initial"), p.exec_cpu_affinity->initial));
    if (!p.exec_cpu_affinity->final.empty())
      BERTH_TRY(CheckCpuList(Field(f, "final"), p.exec_cpu_affinity->final));
  }
  return Ok();
}

Status Validate(const Spec& spec) { return Validate(spec, nullptr); }

Status Validate(const Spec& spec, std::vector<std::string>* warnings) {
  BERTH_TRY(CheckVersion(spec.oci_version));
  const std::pair<const char*, bool> other_platforms[] = {
      {"windows", spec.has_windows},
      {"solaris", spec.has_solaris},
      {"vm", spec.has_vm},
      {"zos", spec.has_zos},
  };
  for (const auto& [name, present] : other_platforms)
    if (present) return FieldError(name, "unsupported on linux", ErrorCode::kUnsupported);

  if (spec.root.path.empty()) return FieldError("root.path", "required");
  if (spec.root.path.find('\0') != std::string::npos)
    return FieldError("root.path", "contains a NUL byte");
  if (!spec.process) return FieldError("process", "required");
  BERTH_TRY(ValidateProcess(*spec.process));

  for (size_t i = 0; i < spec.mounts.size(); ++i)
    BERTH_TRY(CheckMount(Field("mounts", i), spec.mounts[i], warnings));
  if (spec.hooks) BERTH_TRY(CheckHooks(*spec.hooks));
  for (const auto& [key, value] : spec.annotations)
    if (key.empty()) return FieldError("annotations", "keys must not be empty");

  const Linux no_linux;  // no linux section: nothing is namespaced
  const Linux& linux_config = spec.linux_config ? *spec.linux_config : no_linux;
  BERTH_TRY(internal::CheckUtsFields(spec, linux_config));
  if (spec.linux_config) BERTH_TRY(internal::CheckLinux(linux_config));
  return Ok();
}

}  // namespace berth::oci
