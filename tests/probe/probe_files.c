/* berth-probe: file subcommands: read, write, open, stat, ls, sysctl. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

/* read FILE: the content as a string. */
int CmdRead(int argc, char** argv) {
  if (argc < 1) return 2;
  size_t n = 0;
  char* data = ReadSmallFile(argv[0], &n);
  if (!data) return EmitFailure("read", argv[0], errno);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "read");
  JsonStr(&j, "path", argv[0]);
  JsonBool(&j, "ok", 1);
  JsonUint(&j, "size", n);
  JsonStrN(&j, "data", data, n);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  free(data);
  return 0;
}

/* write FILE DATA: create or truncate, then write; reports which step failed. */
int CmdWrite(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* stage = "open";
  int err = 0;
  int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    err = errno;
  } else {
    stage = "write";
    size_t len = strlen(argv[1]);
    ssize_t w = write(fd, argv[1], len);
    if (w < 0) err = errno;
    if (close(fd) != 0 && !err) {
      stage = "close";
      err = errno;
    }
  }
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "write");
  JsonStr(&j, "path", argv[0]);
  JsonBool(&j, "ok", err == 0);
  if (err) JsonStr(&j, "stage", stage);
  JsonErrno(&j, "errno", err);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return err ? 1 : 0;
}

/* open PATH r|w|rw: only opens and closes (device cgroup checks happen at open). */
int CmdOpen(int argc, char** argv) {
  if (argc < 2) return 2;
  int flags = O_RDONLY;
  if (strcmp(argv[1], "w") == 0) flags = O_WRONLY;
  if (strcmp(argv[1], "rw") == 0) flags = O_RDWR;
  int fd = open(argv[0], flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) close(fd);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "open");
  JsonStr(&j, "path", argv[0]);
  JsonBool(&j, "ok", err == 0);
  JsonErrno(&j, "errno", err);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return err ? 1 : 0;
}

static const char* TypeName(mode_t m) {
  if (S_ISREG(m)) return "file";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "symlink";
  if (S_ISCHR(m)) return "char";
  if (S_ISBLK(m)) return "block";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  return "unknown";
}

static void StatFields(Json* j, const struct stat* st) {
  JsonStr(j, "type", TypeName(st->st_mode));
  JsonUint(j, "mode", st->st_mode & 07777);
  JsonUint(j, "uid", st->st_uid);
  JsonUint(j, "gid", st->st_gid);
  JsonUint(j, "size", (unsigned long long)st->st_size);
  JsonUint(j, "nlink", st->st_nlink);
  JsonUint(j, "ino", st->st_ino);
  JsonUint(j, "dev_major", major(st->st_dev));
  JsonUint(j, "dev_minor", minor(st->st_dev));
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    JsonUint(j, "rdev_major", major(st->st_rdev));
    JsonUint(j, "rdev_minor", minor(st->st_rdev));
  }
}

/* stat PATH: lstat, plus the link target and the followed stat for symlinks. */
int CmdStat(int argc, char** argv) {
  if (argc < 1) return 2;
  struct stat st;
  if (lstat(argv[0], &st) != 0) return EmitFailure("stat", argv[0], errno);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "stat");
  JsonStr(&j, "path", argv[0]);
  JsonBool(&j, "ok", 1);
  StatFields(&j, &st);
  if (S_ISLNK(st.st_mode)) {
    char target[PATH_MAX];
    ssize_t l = readlink(argv[0], target, sizeof target - 1);
    if (l >= 0) JsonStrN(&j, "target", target, (size_t)l);
    struct stat fst;
    if (stat(argv[0], &fst) == 0) {
      JsonObjBegin(&j, "follow");
      StatFields(&j, &fst);
      JsonObjEnd(&j);
    } else {
      JsonErrno(&j, "follow_errno", errno);
    }
  }
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 0;
}

static int CompareNames(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

/* ls DIR: sorted entry names without "." and "..". */
int CmdLs(int argc, char** argv) {
  if (argc < 1) return 2;
  DIR* d = opendir(argv[0]);
  if (!d) return EmitFailure("ls", argv[0], errno);
  char** names = NULL;
  size_t n = 0, cap = 0;
  for (struct dirent* e; (e = readdir(d));) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char** nn = realloc(names, cap * sizeof *names);
      if (!nn) break;
      names = nn;
    }
    names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, n, sizeof *names, CompareNames);
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "ls");
  JsonStr(&j, "path", argv[0]);
  JsonBool(&j, "ok", 1);
  JsonArrBegin(&j, "entries");
  for (size_t i = 0; i < n; i++) {
    JsonStr(&j, NULL, names[i]);
    free(names[i]);
  }
  JsonArrEnd(&j);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  free(names);
  return 0;
}

/* sysctl KEY: net.ipv4.ip_forward -> /proc/sys/net/ipv4/ip_forward, value trimmed. */
int CmdSysctl(int argc, char** argv) {
  if (argc < 1) return 2;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "/proc/sys/%s", argv[0]);
  for (char* p = path + strlen("/proc/sys/"); *p; p++) {
    if (*p == '.') *p = '/';
  }
  size_t n = 0;
  char* v = ReadSmallFile(path, &n);
  if (!v) return EmitFailure("sysctl", argv[0], errno);
  while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == ' ')) v[--n] = '\0';
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "sysctl");
  JsonStr(&j, "key", argv[0]);
  JsonBool(&j, "ok", 1);
  JsonStr(&j, "value", v);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  free(v);
  return 0;
}
