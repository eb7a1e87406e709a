// Integration tests for seccomp on the real kernel: a forked child compiles nothing (the
// parent does, as the runtime will), sets no_new_privs, loads the filter with LoadSeccomp and
// reports what the syscalls it then makes return. Only harmless syscalls are denied (mkdir
// under a temp dir, getppid, umask, kill of itself with signal 0), and every child is reaped
// by a ChildProcess.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>

#include "berth/base/strings.h"
#include "berth/runtime/seccomp.h"
#include "berth/sys/process.h"
#include "berth/sys/syscalls.h"

namespace berth::runtime {
namespace {

using ::testing::HasSubstr;

struct ChildResult {
  int status = -1;
  std::string out;
};

// Forks; the child runs `fn` with stdout on a pipe (no core dumps, so SIGSYS deaths leave no
// files behind) and exits 0 when `fn` returns. The parent collects stdout and the status.
ChildResult RunChild(const std::function<void()>& fn) {
  ChildResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    struct rlimit no_core = {0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    fn();
    ::_exit(0);
  }
  ::close(fds[1]);
  auto pidfd = sys::PidfdOpen(pid);
  sys::ChildProcess child(pid, pidfd.has_value() ? std::move(*pidfd) : UniqueFd());
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) r.out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto st = child.Wait();
  if (st.has_value()) r.status = *st;
  return r;
}

void Say(const std::string& s) { (void)!::write(STDOUT_FILENO, s.data(), s.size()); }

// In the child: no_new_privs (so no CAP_SYS_ADMIN is needed) and the filter.
int Install(const SeccompProgram& p) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    Say("no_new_privs failed");
    ::_exit(2);
  }
  auto fd = LoadSeccomp(p);
  if (!fd.has_value()) {
    Say(fd.error().message());
    ::_exit(3);
  }
  return fd->Release();
}

// "rc errno" of a raw syscall result.
std::string Outcome(long rc) { return StrCat(rc, " ", rc < 0 ? errno : 0); }

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

SeccompProgram MustCompile(const oci::Seccomp& s) {
  auto p = CompileSeccomp(s);
  EXPECT_TRUE(p.has_value()) << p.error().message();
  return p.has_value() ? *p : SeccompProgram{};
}

class SeccompIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-seccomp-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    ::rmdir((dir_ + "/made").c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_;
};

TEST_F(SeccompIntegrationTest, DeniedSyscallsReturnTheConfiguredErrno) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {Rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO"),
                Rule({"getppid"}, "SCMP_ACT_ERRNO", 42)};
  SeccompProgram p = MustCompile(s);
  std::string path = dir_ + "/made";
  ChildResult r = RunChild([&] {
    Install(p);
    Say(Outcome(::mkdir(path.c_str(), 0755)) + "|");
    Say(Outcome(::syscall(SYS_getppid)) + "|");
    Say(Outcome(::syscall(SYS_getpid) > 0 ? 0 : -1));
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.out;
  EXPECT_EQ(r.out, StrCat("-1 ", EPERM, "|-1 42|0 0"));
  struct stat st;
  EXPECT_NE(::stat(path.c_str(), &st), 0) << "mkdir went through";
}

TEST_F(SeccompIntegrationTest, KillActionsEndTheProcessWithSigsys) {
  for (const char* action :
       {"SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"}) {
    oci::Seccomp s;
    s.default_action = "SCMP_ACT_ALLOW";
    s.syscalls = {Rule({"getppid"}, action)};
    SeccompProgram p = MustCompile(s);
    ChildResult r = RunChild([&] {
      Install(p);
      Say("loaded");
      ::syscall(SYS_getppid);
      Say(" survived");
    });
    EXPECT_EQ(r.out, "loaded") << action;
    ASSERT_TRUE(WIFSIGNALED(r.status)) << action << " status " << r.status;
    EXPECT_EQ(WTERMSIG(r.status), SIGSYS) << action;
  }
}

TEST_F(SeccompIntegrationTest, ArgumentFilters) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {
      // umask(m) refused when (m & 077) == 077.
      Rule({"umask"}, "SCMP_ACT_ERRNO", EACCES, {Arg(0, "SCMP_CMP_MASKED_EQ", 077, 077)}),
      // kill(pid, sig) refused for signal 0 OR SIGCONT: a repeated index becomes two rules.
      Rule({"kill"}, "SCMP_ACT_ERRNO", ESRCH,
           {Arg(1, "SCMP_CMP_EQ", 0), Arg(1, "SCMP_CMP_EQ", SIGCONT)}),
      // getpriority(which, who) refused only for PRIO_USER AND who > 1000: distinct indexes.
      Rule({"getpriority"}, "SCMP_ACT_ERRNO", EINVAL,
           {Arg(0, "SCMP_CMP_EQ", PRIO_USER), Arg(1, "SCMP_CMP_GT", 1000)}),
  };
  SeccompProgram p = MustCompile(s);
  ChildResult r = RunChild([&] {
    Install(p);
    pid_t self = static_cast<pid_t>(::syscall(SYS_getpid));
    Say(Outcome(::syscall(SYS_umask, 0777)) + "|");
    Say(Outcome(::syscall(SYS_umask, 0022) >= 0 ? 0 : -1) + "|");
    Say(Outcome(::syscall(SYS_kill, self, 0)) + "|");
    Say(Outcome(::syscall(SYS_kill, self, SIGCONT)) + "|");
    Say(Outcome(::syscall(SYS_kill, self, SIGWINCH)) + "|");
    Say(Outcome(::syscall(SYS_getpriority, PRIO_USER, 5000)) + "|");
    Say(Outcome(::syscall(SYS_getpriority, PRIO_USER, 0) >= 0 ? 0 : -1) + "|");
    Say(Outcome(::syscall(SYS_getpriority, PRIO_PROCESS, 5000) == -1 && errno == ESRCH ? 0 : -1));
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.out;
  EXPECT_EQ(r.out, StrCat("-1 ", EACCES, "|0 0|-1 ", ESRCH, "|-1 ", ESRCH, "|0 0|-1 ", EINVAL,
                          "|0 0|0 0"));
}

TEST_F(SeccompIntegrationTest, FlagsLoad) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
             "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
  s.syscalls = {Rule({"getppid"}, "SCMP_ACT_ERRNO", 7), Rule({"getsid"}, "SCMP_ACT_LOG")};
  SeccompProgram p = MustCompile(s);
  ChildResult r = RunChild([&] {
    Install(p);
    Say(Outcome(::syscall(SYS_getppid)) + "|");
    Say(Outcome(::syscall(SYS_getsid, 0) >= 0 ? 0 : -1));
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.out;
  EXPECT_EQ(r.out, "-1 7|0 0");
}

TEST_F(SeccompIntegrationTest, NotifyReturnsAListenerThatReceivesTheSyscall) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.flags = {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  s.syscalls = {Rule({"getppid"}, "SCMP_ACT_NOTIFY")};
  SeccompProgram p = MustCompile(s);
  ASSERT_TRUE(p.new_listener);

  int sp[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  UniqueFd parent_end(sp[0]), child_end(sp[1]);
  int child_sock = child_end.get();
  // The child hands the listener over with SCM_RIGHTS (sendmsg is not notified), then makes
  // the notified call, which blocks until this process answers.
  std::function<void()> body = [&] {
    int listener = Install(p);
    if (listener < 0) {
      Say("no listener");
      ::_exit(4);
    }
    char byte = 'L';
    struct iovec iov = {&byte, 1};
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg = {};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cm), &listener, sizeof(int));
    if (::sendmsg(child_sock, &msg, 0) != 1) ::_exit(5);
    Say(Outcome(::syscall(SYS_getppid)));
  };

  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  auto pidfd = sys::PidfdOpen(pid);
  sys::ChildProcess child(pid, pidfd.has_value() ? std::move(*pidfd) : UniqueFd());
  child_end.Reset();

  char byte = 0;
  struct iovec iov = {&byte, 1};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ASSERT_EQ(::recvmsg(parent_end.get(), &msg, MSG_CMSG_CLOEXEC), 1);
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(cm, nullptr);
  ASSERT_EQ(cm->cmsg_type, SCM_RIGHTS);
  int raw = -1;
  std::memcpy(&raw, CMSG_DATA(cm), sizeof(int));
  UniqueFd listener(raw);

  struct seccomp_notif req;
  std::memset(&req, 0, sizeof req);  // the kernel insists on a zeroed request
  ASSERT_EQ(::ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << std::strerror(errno);
  EXPECT_EQ(req.data.nr, SYS_getppid);
  EXPECT_EQ(static_cast<pid_t>(req.pid), pid);
  struct seccomp_notif_resp resp = {};
  resp.id = req.id;
  resp.val = 4242;  // the answer getppid() will return in the child
  resp.error = 0;
  ASSERT_EQ(::ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << std::strerror(errno);

  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  auto st = child.Wait();
  ASSERT_TRUE(st.has_value());
  EXPECT_TRUE(WIFEXITED(*st)) << out;
  EXPECT_EQ(out, "4242 0");
}

TEST_F(SeccompIntegrationTest, LoadWithoutNoNewPrivsNeedsCapSysAdmin) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.syscalls = {Rule({"getppid"}, "SCMP_ACT_ERRNO")};
  SeccompProgram p = MustCompile(s);
  ChildResult r = RunChild([&] {
    // Drop CAP_SYS_ADMIN from the effective set by becoming uid 65534 (no keep-caps).
    if (::geteuid() == 0 && ::setresuid(65534, 65534, 65534) != 0) Say("setresuid failed ");
    auto fd = LoadSeccomp(p);
    Say(fd.has_value() ? std::string("loaded") : fd.error().message());
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.out;
  EXPECT_THAT(r.out, HasSubstr("load seccomp filter (needs no_new_privs or CAP_SYS_ADMIN)"));
}

// Docker's default allow list (abridged to what a shell, coreutils and the dynamic loader
// use) under a default ERRNO, plus the clone and clone3 rules: exec works, namespaces don't.
TEST_F(SeccompIntegrationTest, DockerLikeProfileRunsAShellAndRefusesNamespaces) {
  oci::Seccomp s;
  s.default_action = "SCMP_ACT_ERRNO";
  s.default_errno_ret = EPERM;
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
  s.syscalls = {
      // clang-format off
      Rule({
            "access", "arch_prctl", "brk", "close", "close_range", "dup", "dup2", "dup3", "execve",
            "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fcntl", "fstat",
            "fstatfs", "futex", "getcwd", "getdents64", "getegid", "geteuid", "getgid", "getpgrp",
            "getpid", "getppid", "getrandom", "getrlimit", "gettid", "getuid", "ioctl", "lseek",
            "madvise", "mmap", "mprotect", "munmap", "newfstatat", "open", "openat", "pipe",
            "pipe2", "pread64", "prlimit64", "read", "readlink", "rseq", "rt_sigaction",
            "rt_sigprocmask", "rt_sigreturn", "set_robust_list", "set_tid_address", "stat", "statx",
            "uname", "wait4", "write", "writev", "fork", "vfork"},
           "SCMP_ACT_ALLOW"),
      // clang-format on
      Rule({"clone"}, "SCMP_ACT_ALLOW", std::nullopt,
           {Arg(0, "SCMP_CMP_MASKED_EQ", 2114060288, 0)}),
      Rule({"clone3"}, "SCMP_ACT_ERRNO", ENOSYS),
  };
  SeccompProgram p = MustCompile(s);
  ChildResult r = RunChild([&] {
    Install(p);
    Say(Outcome(::unshare(CLONE_NEWUTS)) + "|");
    Say(Outcome(::syscall(SYS_clone3, nullptr, 0)) + "|");
    Say(Outcome(::syscall(SYS_mkdir, "/tmp/berth-never", 0755)) + "|");
    const char* argv[] = {"/bin/sh", "-c", "echo shell-ran", nullptr};
    ::execv(argv[0], const_cast<char* const*>(argv));
    Say("exec failed");
  });
  ASSERT_TRUE(WIFEXITED(r.status)) << r.out;
  EXPECT_EQ(WEXITSTATUS(r.status), 0) << r.out;
  EXPECT_EQ(r.out, StrCat("-1 ", EPERM, "|-1 ", ENOSYS, "|-1 ", EPERM, "|shell-ran\n"));
}

}  // namespace
}  // namespace berth::runtime
