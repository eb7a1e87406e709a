/* berth-probe: process subcommands: fork, alloc, sleep, exit, signal-self, wait-signal,
 * tick, tty. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static void SleepMs(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* fork N [HOLD_MS]: forks up to N children that each live HOLD_MS (default 2000) so they
 * all exist at once, then kills and reaps them. A pids cgroup limit shows as EAGAIN. */
int CmdFork(int argc, char** argv) {
  if (argc < 1) return 2;
  int want = atoi(argv[0]);
  long hold = argc > 1 ? atol(argv[1]) : 2000;
  pid_t* kids = calloc((size_t)(want > 0 ? want : 1), sizeof *kids);
  int forked = 0, err = 0;
  for (int i = 0; i < want; i++) {
    pid_t p = fork();
    if (p == 0) {
      SleepMs(hold);
      _exit(0);
    }
    if (p < 0) {
      err = errno;
      break;
    }
    kids[forked++] = p;
  }
  for (int i = 0; i < forked; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < forked; i++) waitpid(kids[i], NULL, 0);
  free(kids);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "fork");
  JsonBool(&j, "ok", err == 0);
  JsonInt(&j, "requested", want);
  JsonInt(&j, "forked", forked);
  JsonErrno(&j, "errno", err);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 0;
}

/* alloc MB: maps and touches MB MiB; a memory limit ends it with the OOM killer. */
int CmdAlloc(int argc, char** argv) {
  if (argc < 1) return 2;
  long mb = atol(argv[0]);
  size_t len = (size_t)mb << 20;
  char* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return EmitFailure("alloc", NULL, errno);
  for (size_t off = 0; off < len; off += 4096) p[off] = 1;
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "alloc");
  JsonBool(&j, "ok", 1);
  JsonInt(&j, "allocated_mb", mb);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 0;
}

/* sleep SECONDS [ignored...]: extra arguments let tests tag a process's command line. */
int CmdSleep(int argc, char** argv) {
  if (argc < 1) return 2;
  SleepMs((long)(atof(argv[0]) * 1000));
  return 0;
}

/* exit CODE: prints nothing, so tests can check an exact empty stdout too. */
int CmdExit(int argc, char** argv) { return argc > 0 ? atoi(argv[0]) : 0; }

/* signal-self SIG: default disposition, unblocked, then raise(3). */
int CmdSignalSelf(int argc, char** argv) {
  if (argc < 1) return 2;
  int sig = ParseSignal(argv[0]);
  if (sig < 0) return 2;
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "signal-self");
  JsonBool(&j, "ok", 0);
  JsonBool(&j, "survived", 1);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 1;
}

static void NoopHandler(int sig) { (void)sig; }

/* wait-signal [COUNT]: prints {"ready":true} once every signal is caught, then one line per
 * signal received. A handler (not SIG_DFL) matters: a pid namespace's init drops signals
 * whose disposition is the default. */
int CmdWaitSignal(int argc, char** argv) {
  int count = argc > 0 ? atoi(argv[0]) : 1;
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = NoopHandler;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    sigaction(sig, &sa, NULL);
  }
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "wait-signal");
  JsonBool(&j, "ready", 1);
  JsonInt(&j, "pid", getpid());
  JsonObjEnd(&j);
  JsonEmit(&j);
  for (int i = 0; i < count;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    i++;
    JsonObjBegin(&j, NULL);
    JsonStr(&j, "cmd", "wait-signal");
    JsonStr(&j, "signal", SignalName(sig));
    JsonInt(&j, "signo", sig);
    JsonInt(&j, "sender_pid", si.si_pid);
    JsonObjEnd(&j);
    JsonEmit(&j);
  }
  JsonFree(&j);
  return 0;
}

/* tick MS [COUNT]: one line every MS milliseconds; COUNT 0 (default) means forever. Tests
 * watch the count grow to see whether the process is running or frozen. */
int CmdTick(int argc, char** argv) {
  long ms = argc > 0 ? atol(argv[0]) : 100;
  long count = argc > 1 ? atol(argv[1]) : 0;
  Json j;
  JsonInit(&j);
  for (long n = 1; count == 0 || n <= count; n++) {
    JsonObjBegin(&j, NULL);
    JsonStr(&j, "cmd", "tick");
    JsonInt(&j, "tick", n);
    JsonObjEnd(&j);
    JsonEmit(&j);
    SleepMs(ms);
  }
  JsonFree(&j);
  return 0;
}

/* tty [echo]: terminal facts of fds 0-2; with `echo`, then reads one line from stdin and
 * reports it (the test writes it through the pty master). */
int CmdTty(int argc, char** argv) {
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "tty");
  JsonBool(&j, "ok", 1);
  JsonArrBegin(&j, "isatty");
  for (int fd = 0; fd < 3; fd++) JsonBool(&j, NULL, isatty(fd));
  JsonArrEnd(&j);
  JsonStr(&j, "ttyname", ttyname(0));
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) == 0) {
    JsonInt(&j, "rows", ws.ws_row);
    JsonInt(&j, "cols", ws.ws_col);
  }
  /* The foreground process group and the session of the terminal: a runtime that makes
   * the tty the controlling terminal shows tcgetsid == our session. */
  JsonInt(&j, "tcgetsid", tcgetsid(0));
  JsonInt(&j, "sid", getsid(0));
  JsonObjEnd(&j);
  JsonEmit(&j);
  if (argc > 0 && strcmp(argv[0], "echo") == 0) {
    char line[1024];
    if (fgets(line, sizeof line, stdin)) {
      line[strcspn(line, "\r\n")] = '\0';
      JsonObjBegin(&j, NULL);
      JsonStr(&j, "cmd", "tty");
      JsonStr(&j, "read", line);
      JsonObjEnd(&j);
      JsonEmit(&j);
    }
  }
  JsonFree(&j);
  return 0;
}
