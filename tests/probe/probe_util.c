/* berth-probe: errno and signal names, small file reads. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "probe.h"

const char* ErrnoName(int err) {
  /* glibc >= 2.32: the symbolic name, independent of the locale. */
  const char* n = strerrorname_np(err);
  if (n) return n;
  static char buf[16];
  snprintf(buf, sizeof buf, "E%d", err);
  return buf;
}

char* ReadSmallFile(const char* path, size_t* len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap);
  if (!buf) {
    close(fd);
    errno = ENOMEM;
    return NULL;
  }
  for (;;) {
    if (n + 1 >= cap) {
      /* Cap at 16 MiB: the probe reads proc files and small test files only. */
      if (cap >= (16u << 20)) break;
      char* nb = realloc(buf, cap * 2);
      if (!nb) break;
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - n - 1);
    if (r < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      free(buf);
      close(fd);
      errno = e;
      return NULL;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = '\0';
  if (len) *len = n;
  return buf;
}

int EmitFailure(const char* cmd, const char* path, int err) {
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", cmd);
  if (path) JsonStr(&j, "path", path);
  JsonBool(&j, "ok", 0);
  JsonErrno(&j, "errno", err);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 1;
}

int ParseSignal(const char* s) {
  char* end;
  long n = strtol(s, &end, 10);
  if (*s && !*end) return (n > 0 && n < NSIG) ? (int)n : -1;
  if (strncasecmp(s, "SIG", 3) == 0) s += 3;
  for (int sig = 1; sig < NSIG; sig++) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev && strcasecmp(abbrev, s) == 0) return sig;
  }
  return -1;
}

const char* SignalName(int sig) {
  static char buf[32];
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev) {
    snprintf(buf, sizeof buf, "SIG%s", abbrev);
  } else if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    snprintf(buf, sizeof buf, "SIGRTMIN+%d", sig - SIGRTMIN);
  } else {
    snprintf(buf, sizeof buf, "%d", sig);
  }
  return buf;
}
