// berth/engine: docker's default capability set and default seccomp profile, written out
// as data: an allowlist that fails everything else with EPERM, namespace-creating clone
// flags refused without CAP_SYS_ADMIN, clone3 answered ENOSYS so libcs fall back to clone,
// personality limited to the harmless domains, socket(AF_VSOCK) refused, and the syscalls
// each capability unlocks allowed only when the container holds that capability.
#include <cerrno>

#include "berth/engine/spec_gen.h"
#include "berth/engine/spec_gen_internal.h"

namespace berth::engine {
namespace internal {
namespace {

constexpr const char* kAllow = "SCMP_ACT_ALLOW";

// Allowed for every container.
const std::vector<std::string>& BaseAllowList() {
  static const std::vector<std::string> kNames = {
      "accept",
      "accept4",
      "access",
      "adjtimex",
      "alarm",
      "bind",
      "brk",
      "cachestat",
      "capget",
      "capset",
      "chdir",
      "chmod",
      "chown",
      "chown32",
      "clock_adjtime",
      "clock_adjtime64",
      "clock_getres",
      "clock_getres_time64",
      "clock_gettime",
      "clock_gettime64",
      "clock_nanosleep",
      "clock_nanosleep_time64",
      "close",
      "close_range",
      "connect",
      "copy_file_range",
      "creat",
      "dup",
      "dup2",
      "dup3",
      "epoll_create",
      "epoll_create1",
      "epoll_ctl",
      "epoll_ctl_old",
      "epoll_pwait",
      "epoll_pwait2",
      "epoll_wait",
      "epoll_wait_old",
      "eventfd",
      "eventfd2",
      "execve",
      "execveat",
      "exit",
      "exit_group",
      "faccessat",
      "faccessat2",
      "fadvise64",
      "fadvise64_64",
      "fallocate",
      "fanotify_mark",
      "fchdir",
      "fchmod",
      "fchmodat",
      "fchmodat2",
      "fchown",
      "fchown32",
      "fchownat",
      "fcntl",
      "fcntl64",
      "fdatasync",
      "fgetxattr",
      "flistxattr",
      "flock",
      "fork",
      "fremovexattr",
      "fsetxattr",
      "fstat",
      "fstat64",
      "fstatat64",
      "fstatfs",
      "fstatfs64",
      "fsync",
      "ftruncate",
      "ftruncate64",
      "futex",
      "futex_requeue",
      "futex_time64",
      "futex_wait",
      "futex_waitv",
      "futex_wake",
      "futimesat",
      "getcpu",
      "getcwd",
      "getdents",
      "getdents64",
      "getegid",
      "getegid32",
      "geteuid",
      "geteuid32",
      "getgid",
      "getgid32",
      "getgroups",
      "getgroups32",
      "getitimer",
      "getpeername",
      "getpgid",
      "getpgrp",
      "getpid",
      "getppid",
      "getpriority",
      "getrandom",
      "getresgid",
      "getresgid32",
      "getresuid",
      "getresuid32",
      "getrlimit",
      "get_robust_list",
      "getrusage",
      "getsid",
      "getsockname",
      "getsockopt",
      "get_thread_area",
      "gettid",
      "gettimeofday",
      "getuid",
      "getuid32",
      "getxattr",
      "inotify_add_watch",
      "inotify_init",
      "inotify_init1",
      "inotify_rm_watch",
      "io_cancel",
      "ioctl",
      "io_destroy",
      "io_getevents",
      "io_pgetevents",
      "io_pgetevents_time64",
      "ioprio_get",
      "ioprio_set",
      "io_setup",
      "io_submit",
      "ipc",
      "kill",
      "landlock_add_rule",
      "landlock_create_ruleset",
      "landlock_restrict_self",
      "lchown",
      "lchown32",
      "lgetxattr",
      "link",
      "linkat",
      "listen",
      "listxattr",
      "llistxattr",
      "_llseek",
      "lremovexattr",
      "lseek",
      "lsetxattr",
      "lstat",
      "lstat64",
      "madvise",
      "map_shadow_stack",
      "membarrier",
      "memfd_create",
      "memfd_secret",
      "mincore",
      "mkdir",
      "mkdirat",
      "mknod",
      "mknodat",
      "mlock",
      "mlock2",
      "mlockall",
      "mmap",
      "mmap2",
      "mprotect",
      "mq_getsetattr",
      "mq_notify",
      "mq_open",
      "mq_timedreceive",
      "mq_timedreceive_time64",
      "mq_timedsend",
      "mq_timedsend_time64",
      "mq_unlink",
      "mremap",
      "msgctl",
      "msgget",
      "msgrcv",
      "msgsnd",
      "msync",
      "munlock",
      "munlockall",
      "munmap",
      "name_to_handle_at",
      "nanosleep",
      "newfstatat",
      "_newselect",
      "open",
      "openat",
      "openat2",
      "pause",
      "pidfd_open",
      "pidfd_send_signal",
      "pipe",
      "pipe2",
      "pkey_alloc",
      "pkey_free",
      "pkey_mprotect",
      "poll",
      "ppoll",
      "ppoll_time64",
      "prctl",
      "pread64",
      "preadv",
      "preadv2",
      "prlimit64",
      "process_mrelease",
      "pselect6",
      "pselect6_time64",
      "pwrite64",
      "pwritev",
      "pwritev2",
      "read",
      "readahead",
      "readlink",
      "readlinkat",
      "readv",
      "recv",
      "recvfrom",
      "recvmmsg",
      "recvmmsg_time64",
      "recvmsg",
      "remap_file_pages",
      "removexattr",
      "rename",
      "renameat",
      "renameat2",
      "restart_syscall",
      "rmdir",
      "rseq",
      "rt_sigaction",
      "rt_sigpending",
      "rt_sigprocmask",
      "rt_sigqueueinfo",
      "rt_sigreturn",
      "rt_sigsuspend",
      "rt_sigtimedwait",
      "rt_sigtimedwait_time64",
      "rt_tgsigqueueinfo",
      "sched_getaffinity",
      "sched_getattr",
      "sched_getparam",
      "sched_get_priority_max",
      "sched_get_priority_min",
      "sched_getscheduler",
      "sched_rr_get_interval",
      "sched_rr_get_interval_time64",
      "sched_setaffinity",
      "sched_setattr",
      "sched_setparam",
      "sched_setscheduler",
      "sched_yield",
      "seccomp",
      "select",
      "semctl",
      "semget",
      "semop",
      "semtimedop",
      "semtimedop_time64",
      "send",
      "sendfile",
      "sendfile64",
      "sendmmsg",
      "sendmsg",
      "sendto",
      "setfsgid",
      "setfsgid32",
      "setfsuid",
      "setfsuid32",
      "setgid",
      "setgid32",
      "setgroups",
      "setgroups32",
      "setitimer",
      "setpgid",
      "setpriority",
      "setregid",
      "setregid32",
      "setresgid",
      "setresgid32",
      "setresuid",
      "setresuid32",
      "setreuid",
      "setreuid32",
      "setrlimit",
      "set_robust_list",
      "setsid",
      "setsockopt",
      "set_thread_area",
      "set_tid_address",
      "setuid",
      "setuid32",
      "setxattr",
      "shmat",
      "shmctl",
      "shmdt",
      "shmget",
      "shutdown",
      "sigaltstack",
      "signalfd",
      "signalfd4",
      "sigprocmask",
      "sigreturn",
      "socketcall",
      "socketpair",
      "splice",
      "stat",
      "stat64",
      "statfs",
      "statfs64",
      "statx",
      "symlink",
      "symlinkat",
      "sync",
      "sync_file_range",
      "syncfs",
      "sysinfo",
      "tee",
      "tgkill",
      "time",
      "timer_create",
      "timer_delete",
      "timer_getoverrun",
      "timer_gettime",
      "timer_gettime64",
      "timer_settime",
      "timer_settime64",
      "timerfd_create",
      "timerfd_gettime",
      "timerfd_gettime64",
      "timerfd_settime",
      "timerfd_settime64",
      "times",
      "tkill",
      "truncate",
      "truncate64",
      "ugetrlimit",
      "umask",
      "uname",
      "unlink",
      "unlinkat",
      "utime",
      "utimensat",
      "utimensat_time64",
      "utimes",
      "vfork",
      "vmsplice",
      "wait4",
      "waitid",
      "waitpid",
      "write",
      "writev",
  };
  return kNames;
}

// CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
// CLONE_NEWNET: clone may create none of these without CAP_SYS_ADMIN.
constexpr uint64_t kCloneNamespaceFlags = 0x7E020000;
constexpr uint64_t kAfVsock = 40;

ProfileRule Allow(std::vector<std::string> names) {
  ProfileRule r;
  r.names = std::move(names);
  r.action = kAllow;
  return r;
}

ProfileRule AllowWithCap(std::string cap, std::vector<std::string> names) {
  ProfileRule r = Allow(std::move(names));
  r.include_caps = {std::move(cap)};
  return r;
}

ProfileRule AllowOnArches(std::vector<std::string> arches, std::vector<std::string> names) {
  ProfileRule r = Allow(std::move(names));
  r.include_arches = std::move(arches);
  return r;
}

ProfileRule AllowArg(std::string name, uint32_t index, uint64_t value, uint64_t value_two,
                     std::string op) {
  ProfileRule r = Allow({std::move(name)});
  r.args.push_back(oci::SeccompArg{index, value, value_two, std::move(op)});
  return r;
}

}  // namespace

Profile DockerDefaultProfile() {
  Profile p;
  p.default_action = "SCMP_ACT_ERRNO";
  p.default_errno_ret = EPERM;
  p.arch_map = {
      {"SCMP_ARCH_X86_64", {"SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"SCMP_ARCH_AARCH64", {"SCMP_ARCH_ARM"}},
      {"SCMP_ARCH_MIPS64", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64N32"}},
      {"SCMP_ARCH_MIPS64N32", {"SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64"}},
      {"SCMP_ARCH_MIPSEL64", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64N32"}},
      {"SCMP_ARCH_MIPSEL64N32", {"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64"}},
      {"SCMP_ARCH_S390X", {"SCMP_ARCH_S390"}},
      {"SCMP_ARCH_RISCV64", {}},
  };
  auto& r = p.rules;
  r.push_back(Allow(BaseAllowList()));
  // socket() for every family but AF_VSOCK, which reaches the host's hypervisor services.
  r.push_back(AllowArg("socket", 0, kAfVsock, 0, "SCMP_CMP_NE"));
  // Only the plain Linux personalities (and the query value 0xffffffff).
  for (uint64_t persona : {0x0ULL, 0x0008ULL, 0x20000ULL, 0x20008ULL, 0xffffffffULL})
    r.push_back(AllowArg("personality", 0, persona, 0, "SCMP_CMP_EQ"));
  ProfileRule ptrace = Allow({"process_vm_readv", "process_vm_writev", "ptrace"});
  ptrace.include_min_kernel = "4.8";  // before 4.8, ptrace could bypass seccomp
  r.push_back(std::move(ptrace));
  r.push_back(AllowOnArches({"ppc64le"}, {"sync_file_range2", "swapcontext"}));
  r.push_back(
      AllowOnArches({"arm", "arm64"}, {"arm_fadvise64_64", "arm_sync_file_range",
                                       "sync_file_range2", "breakpoint", "cacheflush", "set_tls"}));
  r.push_back(AllowOnArches({"amd64", "x32"}, {"arch_prctl"}));
  r.push_back(AllowOnArches({"amd64", "x32", "x86"}, {"modify_ldt"}));
  r.push_back(AllowOnArches({"s390", "s390x"},
                            {"s390_pci_mmio_read", "s390_pci_mmio_write", "s390_runtime_instr"}));
  r.push_back(AllowOnArches({"riscv64"}, {"riscv_flush_icache"}));

  r.push_back(AllowWithCap("CAP_DAC_READ_SEARCH", {"open_by_handle_at"}));
  r.push_back(
      AllowWithCap("CAP_SYS_ADMIN",
                   {"bpf",           "clone",         "clone3",      "fanotify_init",   "fsconfig",
                    "fsmount",       "fsopen",        "fspick",      "lookup_dcookie",  "mount",
                    "mount_setattr", "move_mount",    "open_tree",   "perf_event_open", "quotactl",
                    "quotactl_fd",   "setdomainname", "sethostname", "setns",           "syslog",
                    "umount",        "umount2",       "unshare"}));
  // Without CAP_SYS_ADMIN: clone without namespace flags (the flags are argument 1 on s390).
  // MASKED_EQ tests (arg & value) == valueTwo.
  ProfileRule clone = AllowArg("clone", 0, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ");
  clone.exclude_caps = {"CAP_SYS_ADMIN"};
  clone.exclude_arches = {"s390", "s390x"};
  r.push_back(clone);
  ProfileRule clone_s390 = AllowArg("clone", 1, kCloneNamespaceFlags, 0, "SCMP_CMP_MASKED_EQ");
  clone_s390.include_arches = {"s390", "s390x"};
  clone_s390.exclude_caps = {"CAP_SYS_ADMIN"};
  r.push_back(std::move(clone_s390));
  // clone3 passes its flags in memory seccomp cannot read: ENOSYS makes libcs use clone.
  ProfileRule clone3;
  clone3.names = {"clone3"};
  clone3.action = "SCMP_ACT_ERRNO";
  clone3.errno_ret = ENOSYS;
  clone3.exclude_caps = {"CAP_SYS_ADMIN"};
  r.push_back(std::move(clone3));
  r.push_back(AllowWithCap("CAP_SYS_BOOT", {"reboot"}));
  r.push_back(AllowWithCap("CAP_SYS_CHROOT", {"chroot"}));
  r.push_back(AllowWithCap("CAP_SYS_MODULE", {"delete_module", "init_module", "finit_module"}));
  r.push_back(AllowWithCap("CAP_SYS_PACCT", {"acct"}));
  r.push_back(AllowWithCap("CAP_SYS_PTRACE", {"kcmp", "pidfd_getfd", "process_madvise",
                                              "process_vm_readv", "process_vm_writev", "ptrace"}));
  r.push_back(AllowWithCap("CAP_SYS_RAWIO", {"iopl", "ioperm"}));
  r.push_back(
      AllowWithCap("CAP_SYS_TIME", {"settimeofday", "stime", "clock_settime", "clock_settime64"}));
  r.push_back(AllowWithCap("CAP_SYS_TTY_CONFIG", {"vhangup"}));
  r.push_back(AllowWithCap("CAP_SYS_NICE",
                           {"get_mempolicy", "mbind", "set_mempolicy", "set_mempolicy_home_node"}));
  r.push_back(AllowWithCap("CAP_SYSLOG", {"syslog"}));
  r.push_back(AllowWithCap("CAP_BPF", {"bpf"}));
  r.push_back(AllowWithCap("CAP_PERFMON", {"perf_event_open"}));
  return p;
}

}  // namespace internal

std::vector<std::string> DefaultCapabilities() {
  return {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
          "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
          "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
          "CAP_KILL",    "CAP_AUDIT_WRITE"};
}

oci::Seccomp DefaultSeccompProfile(const std::vector<std::string>& caps) {
  // The built-in profile has no conditions that can fail to resolve.
  auto s = internal::ResolveProfile(internal::DockerDefaultProfile(),
                                    internal::HostSeccompContext(caps));
  return s ? std::move(*s) : oci::Seccomp{};
}

oci::Seccomp DefaultSeccompProfile() { return DefaultSeccompProfile(DefaultCapabilities()); }

}  // namespace berth::engine
