#include "berth/runtime/process_setup.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "berth/base/strings.h"
#include "berth/runtime/exec_protection.h"
#include "berth/runtime/users.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {

namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

bool UsesNotify(const SeccompProgram* p) { return p && p->new_listener; }

// Sends the listener fd and the container process state to the seccomp agent at
// linux.seccomp.listenerPath (runtime-spec "containerProcessState").
Status SendListener(const ProcessPlan& plan, int listener) {
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  const std::string& path = plan.seccomp_listener_path;
  if (path.size() >= sizeof addr.sun_path) return InvalidArgument("listenerPath too long");
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return ErrnoFail("socket");
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return ErrnoFail(StrCat("connect ", Quote(path)));
  Json msg;
  msg["ociVersion"] = std::string(oci::kSpecVersion);
  msg["fds"] = Json::array({"seccompFd"});
  msg["pid"] = static_cast<int64_t>(::getpid());
  msg["metadata"] = plan.seccomp_listener_metadata;
  msg["state"] = plan.state_json.empty() ? Json::object() : Json::parse(plan.state_json, nullptr, false);
  std::string body = msg.dump();
  struct iovec iov = {body.data(), body.size()};
  struct msghdr m = {};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  alignas(struct cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))];
  m.msg_control = cbuf;
  m.msg_controllen = sizeof cbuf;
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &listener, sizeof(int));
  if (::sendmsg(s.get(), &m, MSG_NOSIGNAL) < 0) return ErrnoFail(StrCat("send to ", Quote(path)));
  return Ok();
}

Status LoadHere(const ProcessPlan& plan) {
  BERTH_ASSIGN_OR_RETURN(UniqueFd listener, LoadSeccomp(*plan.seccomp));
  if (listener.valid()) BERTH_TRY_CTX(SendListener(plan, listener.get()), "linux.seccomp.listenerPath");
  return Ok();
}

}  // namespace

Status ResolveProcessPlan(const oci::Spec& spec, const oci::Process& process, ProcessPlan* plan,
                          bool quiet) {
  plan->process = &process;
  if (process.capabilities) {
    BERTH_ASSIGN_OR_RETURN(plan->caps, ResolveCapabilities(*process.capabilities));
  }
  BERTH_ASSIGN_OR_RETURN(plan->rlimits, ResolveRlimits(process.rlimits, "process.rlimits", !quiet));
  if (spec.linux_config && spec.linux_config->personality) {
    BERTH_ASSIGN_OR_RETURN(unsigned long p, ResolvePersonality(*spec.linux_config->personality));
    plan->personality = p;
  }
  if (process.scheduler) BERTH_TRY(ValidateScheduler(*process.scheduler));
  if (process.io_priority) BERTH_TRY(ValidateIoPriority(*process.io_priority));
  if (!process.apparmor_profile.empty() &&
      ::access("/sys/kernel/security/apparmor", F_OK) != 0) {
    return Fail(ErrorCode::kUnsupported,
                "process.apparmorProfile: AppArmor is not enabled on this host");
  }
  if (!process.selinux_label.empty() && ::access("/sys/fs/selinux/enforce", F_OK) != 0) {
    return Fail(ErrorCode::kUnsupported, "process.selinuxLabel: SELinux is not enabled on this host");
  }
  return Ok();
}

Status SetCpuAffinity(const std::string& list) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (const auto& part : Split(list, ',')) {
    auto range = Split(part, '-');
    BERTH_ASSIGN_OR_RETURN(uint64_t lo, ParseUint64(Trim(range[0]), "cpu"));
    uint64_t hi = lo;
    if (range.size() > 1) {
      BERTH_ASSIGN_OR_RETURN(hi, ParseUint64(Trim(range[1]), "cpu"));
    }
    if (hi < lo || hi >= CPU_SETSIZE) return InvalidArgument(StrCat("invalid cpu list ", Quote(list)));
    for (uint64_t c = lo; c <= hi; ++c) CPU_SET(c, &set);
  }
  if (::sched_setaffinity(0, sizeof set, &set) != 0) {
    return ErrnoFail(StrCat("sched_setaffinity ", Quote(list)));
  }
  return Ok();
}

Status CheckPreservedFds(int n) {
  if (n < 0) return InvalidArgument("--preserve-fds must not be negative");
  for (int fd = 3; fd < 3 + n; ++fd) {
    if (::fcntl(fd, F_GETFD) < 0) {
      return InvalidArgument(StrCat("--preserve-fds ", n, ": fd ", fd, " is not open"));
    }
  }
  return Ok();
}

std::vector<std::string> DedupeEnv(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  std::map<std::string, size_t> index;
  for (const auto& e : env) {
    std::string key = e.substr(0, e.find('='));
    if (auto it = index.find(key); it != index.end()) {
      out[it->second] = e;
    } else {
      index[key] = out.size();
      out.push_back(e);
    }
  }
  return out;
}

Result<std::string> LookPath(const std::string& name, const std::vector<std::string>& env) {
  if (name.empty()) return InvalidArgument("process.args[0] is empty");
  struct stat st;
  if (name.find('/') != std::string::npos) {
    if (::stat(name.c_str(), &st) != 0) {
      return SysFail(errno, StrCat("exec: \"", name, "\": stat ", name));
    }
    if (S_ISDIR(st.st_mode)) {
      return Fail(ErrorCode::kPermissionDenied,
                  StrCat("exec: \"", name, "\": is a directory: permission denied"));
    }
    return name;
  }
  std::string path_var = kDefaultPath;
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path_var = e.substr(5);
  for (const auto& dir : Split(path_var, ':')) {
    std::string p = StrCat(dir.empty() ? "." : dir, "/", name);
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return p;
  }
  return Fail(ErrorCode::kNotFound,
              StrCat("exec: \"", name, "\": executable file not found in $PATH"));
}

Error FinalizeAndExec(const ProcessPlan& plan, const std::string& path,
                      const std::vector<std::string>& env) {
  auto run = [&]() -> Status {
    const oci::Process& p = *plan.process;
    if (p.exec_cpu_affinity && !p.exec_cpu_affinity->final.empty()) {
      BERTH_TRY_CTX(SetCpuAffinity(p.exec_cpu_affinity->final), "process.execCPUAffinity.final");
    }
    BERTH_TRY(ApplyRlimits(plan.rlimits));
    if (plan.personality) BERTH_TRY(ApplyPersonality(*plan.personality));
    if (p.scheduler) BERTH_TRY(ApplyScheduler(*p.scheduler));
    if (p.io_priority) BERTH_TRY(ApplyIoPriority(*p.io_priority));
    ::umask(ProcessUmask(p.user));
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which is about to be
    // dropped: load it now (as runc does). A notify filter is loaded here too, so its
    // listener can be sent to the agent before the exec.
    bool early_seccomp = plan.seccomp && (!p.no_new_privileges || UsesNotify(plan.seccomp));
    if (early_seccomp && !p.no_new_privileges) BERTH_TRY(LoadHere(plan));
    BERTH_TRY(PrepareCapabilities(plan.caps));
    BERTH_TRY(SwitchUser(p.user, plan.setgroups_allowed));
    BERTH_TRY(ApplyCapabilities(plan.caps));
    if (plan.die_with_parent) (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (p.no_new_privileges && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
      return ErrnoFail("process.noNewPrivileges: prctl");
    if (early_seccomp && p.no_new_privileges) BERTH_TRY(LoadHere(plan));

    // Only stdio and the preserved fds survive the exec (plus the filter for the trampoline).
    int first_free = 3 + plan.preserve_fds;
    FinalExec fe;
    fe.path = path;
    fe.argv = p.args;
    fe.env = env;
    if (plan.seccomp && !early_seccomp) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd f, sys::DupAbove(UniqueFd(::dup(plan.seccomp_memfd)), first_free));
      fe.seccomp_filter_fd = f.Release();
      fe.seccomp_flags = plan.seccomp->flags;
    }
    if (plan.start_fifo_fd >= 0) {
      BERTH_ASSIGN_OR_RETURN(UniqueFd f, sys::DupAbove(UniqueFd(::dup(plan.start_fifo_fd)), first_free));
      fe.start_fifo_fd = f.Release();
    }
    BERTH_TRY(sys::CloexecFdsFrom(first_free));
    for (int fd = 3; fd < first_free; ++fd) (void)::fcntl(fd, F_SETFD, 0);
    if (fe.seccomp_filter_fd >= 0 && ::fcntl(fe.seccomp_filter_fd, F_SETFD, 0) != 0)
      return ErrnoFail("keep seccomp filter fd");
    if (fe.start_fifo_fd >= 0 && ::fcntl(fe.start_fifo_fd, F_SETFD, 0) != 0)
      return ErrnoFail("keep exec fifo fd");
    return Unexpected(ExecThroughTrampoline(plan.trampoline_fd, fe));
  };
  auto st = run();
  return st.has_value() ? Error(ErrorCode::kInternal, "exec returned") : st.error();
}

}  // namespace berth::runtime
