// berth-init: the tiny init `berth run --init` puts at PID 1 of a container.
//
//   berth-init -- PROGRAM [ARGS...]
//
// Runs PROGRAM as its child, forwards the signals a user sends to a container (SIGTERM,
// SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH) to it, reaps every zombie that the
// kernel re-parents to PID 1, and exits with the child's status: its exit code, or 128 +
// the signal that killed it. If PROGRAM cannot be executed, it prints why and exits 127
// (not found) or 126 (found but not executable), as a shell does.
//
// Built static with musl (src/berth/engine/monitor/CMakeLists.txt); it must stay tiny and
// depend on nothing.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const int kForwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void die(const char* what, int err, int code) {
  fprintf(stderr, "berth-init: %s: %s\n", what, strerror(err));
  _exit(code);
}

static int exit_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// In the child: back to a normal signal state, then exec. Never returns.
static void run_child(char** argv, const sigset_t* old_mask) {
  for (size_t i = 0; i < sizeof kForwarded / sizeof kForwarded[0]; ++i)
    signal(kForwarded[i], SIG_DFL);
  signal(SIGTTIN, SIG_DFL);
  signal(SIGTTOU, SIG_DFL);
  if (sigprocmask(SIG_SETMASK, old_mask, NULL) != 0) die("sigprocmask", errno, 126);
  execvp(argv[0], argv);
  int err = errno;
  fprintf(stderr, "berth-init: exec `%s`: %s\n", argv[0], strerror(err));
  _exit(err == ENOENT || err == ENOTDIR ? 127 : 126);
}

int main(int argc, char** argv) {
  int first = 1;
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    fprintf(stderr, "usage: berth-init -- PROGRAM [ARGS...]\n");
    return 2;
  }

  // Block what we forward and SIGCHLD before forking, so none is lost between fork and the
  // wait loop; the child restores the old mask before exec.
  sigset_t set, old_mask;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof kForwarded / sizeof kForwarded[0]; ++i)
    sigaddset(&set, kForwarded[i]);
  sigaddset(&set, SIGCHLD);
  if (sigprocmask(SIG_BLOCK, &set, &old_mask) != 0) die("sigprocmask", errno, 126);
  // As PID 1 orphans come to us anyway; outside a PID namespace (tests) this makes them.
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  // A background read/write on the terminal must not stop init.
  signal(SIGTTIN, SIG_IGN);
  signal(SIGTTOU, SIG_IGN);

  pid_t child = fork();
  if (child < 0) die("fork", errno, 126);
  if (child == 0) run_child(argv + first, &old_mask);

  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) {
      if (errno == EINTR) continue;
      die("sigwaitinfo", errno, 126);
    }
    if (sig != SIGCHLD) {
      // The child may have exited already; ESRCH is then expected.
      kill(child, sig);
      continue;
    }
    // SIGCHLDs coalesce: reap everything that has exited.
    for (;;) {
      int status = 0;
      pid_t pid = waitpid(-1, &status, WNOHANG);
      if (pid <= 0) break;
      if (pid == child) {
        // Reap what else is already dead; the rest die with the PID namespace.
        while (waitpid(-1, NULL, WNOHANG) > 0) {
        }
        return exit_code(status);
      }
    }
  }
}
