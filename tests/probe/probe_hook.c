/* berth-probe: `hook KIND LOGFILE [exit CODE]`, an OCI hook that records itself.
 *
 * Reads the container state from stdin (the runtime must send it) and appends one JSON line
 * to LOGFILE: the hook kind, the raw state text, and where the hook ran (pid, namespaces,
 * hostname, cwd). The tests read the lines back for order, state and namespace checks.
 * `exit CODE` then fails the hook on purpose.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

extern char** environ;

static char* ReadAllStdin(size_t* len) {
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (n + 1 >= cap) {
      char* nb = realloc(buf, cap * 2);
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(0, buf + n, cap - n - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  buf[n] = '\0';
  *len = n;
  return buf;
}

int CmdHook(int argc, char** argv) {
  if (argc < 2) return 2;
  size_t len = 0;
  char* state = ReadAllStdin(&len);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "hook");
  JsonStr(&j, "kind", argv[0]);
  JsonStrN(&j, "state", state ? state : "", state ? len : 0);
  JsonInt(&j, "pid", getpid());
  ReportNs(&j);
  struct utsname u;
  if (uname(&u) == 0) JsonStr(&j, "hostname", u.nodename);
  char cwd[PATH_MAX];
  JsonStr(&j, "cwd", getcwd(cwd, sizeof cwd));
  JsonArrBegin(&j, "args");
  for (int i = 0; i < argc; i++) JsonStr(&j, NULL, argv[i]);
  JsonArrEnd(&j);
  JsonArrBegin(&j, "env");
  for (char** e = environ; e && *e; e++) JsonStr(&j, NULL, *e);
  JsonArrEnd(&j);
  JsonObjEnd(&j);
  int fd = open(argv[1], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    fprintf(stderr, "probe hook: open %s: %s\n", argv[1], ErrnoName(errno));
    return 3;
  }
  JsonEmitTo(&j, fd);
  close(fd);
  JsonFree(&j);
  free(state);
  if (argc >= 4 && strcmp(argv[2], "exit") == 0) {
    fprintf(stderr, "probe hook %s: failing on purpose with %s\n", argv[0], argv[3]);
    return atoi(argv[3]);
  }
  return 0;
}
