/* berth-probe: `syscall NAME [ARGS...]` makes one raw system call and reports its result.
 *
 * Raw syscall(2) rather than libc wrappers: a seccomp filter names kernel syscalls, and
 * glibc may route mkdir() through mkdirat(); here the named syscall is the one made. */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "probe.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static unsigned long Num(const char* s) { return strtoul(s, NULL, 0); }

static long NsFlag(const char* s) {
  static const struct {
    const char* name;
    long flag;
  } kFlags[] = {{"user", CLONE_NEWUSER}, {"mnt", CLONE_NEWNS},        {"mount", CLONE_NEWNS},
                {"net", CLONE_NEWNET},   {"uts", CLONE_NEWUTS},       {"ipc", CLONE_NEWIPC},
                {"pid", CLONE_NEWPID},   {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME}};
  for (size_t i = 0; i < sizeof kFlags / sizeof kFlags[0]; i++) {
    if (strcmp(kFlags[i].name, s) == 0) return kFlags[i].flag;
  }
  return (long)Num(s);
}

/* Returns 0 and sets *ret (raw result, -1 on error) for a known NAME, -1 if unknown or
 * the arguments are missing. */
static int Call(const char* name, int argc, char** argv, long* ret) {
#define NEED(n) \
  if (argc < (n)) return -1
  if (strcmp(name, "getpid") == 0) {
    *ret = syscall(SYS_getpid);
  } else if (strcmp(name, "getppid") == 0) {
    *ret = syscall(SYS_getppid);
  } else if (strcmp(name, "getuid") == 0) {
    *ret = syscall(SYS_getuid);
  } else if (strcmp(name, "mkdir") == 0) {
    NEED(1);
    *ret = syscall(SYS_mkdir, argv[0], argc > 1 ? Num(argv[1]) : 0755);
  } else if (strcmp(name, "mkdirat") == 0) {
    NEED(1);
    *ret = syscall(SYS_mkdirat, -100 /* AT_FDCWD */, argv[0], argc > 1 ? Num(argv[1]) : 0755);
  } else if (strcmp(name, "rmdir") == 0) {
    NEED(1);
    *ret = syscall(SYS_rmdir, argv[0]);
  } else if (strcmp(name, "chmod") == 0) {
    NEED(2);
    *ret = syscall(SYS_chmod, argv[0], Num(argv[1]));
  } else if (strcmp(name, "chown") == 0) {
    NEED(3);
    *ret = syscall(SYS_chown, argv[0], Num(argv[1]), Num(argv[2]));
  } else if (strcmp(name, "unshare") == 0) {
    NEED(1);
    *ret = syscall(SYS_unshare, NsFlag(argv[0]));
  } else if (strcmp(name, "mount") == 0) {
    NEED(1); /* mount a tmpfs on PATH */
    *ret = syscall(SYS_mount, "tmpfs", argv[0], "tmpfs", 0UL, NULL);
  } else if (strcmp(name, "umount") == 0) {
    NEED(1);
    *ret = syscall(SYS_umount2, argv[0], 0);
  } else if (strcmp(name, "personality") == 0) {
    NEED(1);
    *ret = syscall(SYS_personality, Num(argv[0]));
  } else if (strcmp(name, "sethostname") == 0) {
    NEED(1);
    *ret = syscall(SYS_sethostname, argv[0], strlen(argv[0]));
  } else if (strcmp(name, "setuid") == 0) {
    NEED(1);
    *ret = syscall(SYS_setuid, Num(argv[0]));
  } else if (strcmp(name, "chroot") == 0) {
    NEED(1);
    *ret = syscall(SYS_chroot, argv[0]);
  } else if (strcmp(name, "mknod") == 0) {
    NEED(4); /* mknod PATH c|b MAJOR MINOR */
    mode_t type = argv[1][0] == 'b' ? S_IFBLK : S_IFCHR;
    *ret = syscall(SYS_mknod, argv[0], type | 0600, makedev(Num(argv[2]), Num(argv[3])));
  } else if (strcmp(name, "kill") == 0) {
    NEED(2);
    *ret = syscall(SYS_kill, (pid_t)strtol(argv[0], NULL, 10), ParseSignal(argv[1]));
  } else {
    return -1;
  }
  return 0;
#undef NEED
}

int CmdSyscall(int argc, char** argv) {
  if (argc < 1) return 2;
  long ret = 0;
  errno = 0;
  if (Call(argv[0], argc - 1, argv + 1, &ret) != 0) {
    fprintf(stderr, "probe: unknown syscall or missing arguments: %s\n", argv[0]);
    return 2;
  }
  int err = ret < 0 ? errno : 0;
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "syscall");
  JsonStr(&j, "name", argv[0]);
  JsonBool(&j, "ok", ret >= 0);
  JsonInt(&j, "ret", ret);
  JsonErrno(&j, "errno", err);
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return ret < 0 ? 1 : 0;
}
