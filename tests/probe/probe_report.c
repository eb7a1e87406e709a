/* berth-probe: `report [SECTION...]`, everything the process can see about itself.
 *
 * Sections: ids caps status maps uts cwd env rlimits oom personality mounts cgroup fds ns
 * proc sched ioprio. With no arguments every section is printed.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

extern char** environ;

/* The value after "Key:\t" in /proc/self/status, or NULL. Returns a pointer into `status`
 * and NUL-terminates the line in place. */
static char* StatusField(char* status, const char* key) {
  size_t kl = strlen(key);
  for (char* line = status; line && *line;) {
    char* nl = strchr(line, '\n');
    if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
      char* v = line + kl + 1;
      while (*v == ' ' || *v == '\t') v++;
      if (nl) *nl = '\0';
      return v;
    }
    line = nl ? nl + 1 : NULL;
  }
  return NULL;
}

static void ReportIds(Json* j) {
  uid_t r, e, s;
  gid_t gr, ge, gs;
  getresuid(&r, &e, &s);
  getresgid(&gr, &ge, &gs);
  JsonInt(j, "uid", r);
  JsonInt(j, "euid", e);
  JsonInt(j, "suid", s);
  JsonInt(j, "gid", gr);
  JsonInt(j, "egid", ge);
  JsonInt(j, "sgid", gs);
  gid_t groups[NGROUPS_MAX];
  int n = getgroups(NGROUPS_MAX, groups);
  JsonArrBegin(j, "groups");
  for (int i = 0; i < n; i++) JsonInt(j, NULL, groups[i]);
  JsonArrEnd(j);
}

/* Caps and the other /proc/self/status facts need their own copy of the text because
 * StatusField cuts lines in place. */
static void ReportCaps(Json* j) {
  static const char* const kKeys[][2] = {{"CapInh", "inheritable"},
                                         {"CapPrm", "permitted"},
                                         {"CapEff", "effective"},
                                         {"CapBnd", "bounding"},
                                         {"CapAmb", "ambient"}};
  JsonObjBegin(j, "caps");
  for (size_t i = 0; i < sizeof kKeys / sizeof kKeys[0]; i++) {
    char* status = ReadSmallFile("/proc/self/status", NULL);
    char* v = status ? StatusField(status, kKeys[i][0]) : NULL;
    if (v) {
      JsonUint(j, kKeys[i][1], strtoull(v, NULL, 16));
    } else {
      JsonNull(j, kKeys[i][1]);
    }
    free(status);
  }
  JsonObjEnd(j);
}

static void ReportStatus(Json* j) {
  static const char* const kKeys[] = {"NoNewPrivs", "Seccomp", "Seccomp_filters", "Umask",
                                      "SigBlk",     "SigIgn",  "SigCgt",          "NSpid"};
  JsonObjBegin(j, "status");
  for (size_t i = 0; i < sizeof kKeys / sizeof kKeys[0]; i++) {
    char* status = ReadSmallFile("/proc/self/status", NULL);
    char* v = status ? StatusField(status, kKeys[i]) : NULL;
    JsonStr(j, kKeys[i], v);
    free(status);
  }
  JsonObjEnd(j);
  JsonInt(j, "no_new_privs", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
  /* umask(2) can only be read by setting it; set it back at once. */
  mode_t m = umask(0);
  umask(m);
  JsonInt(j, "umask", m);
}

static void ReportFile(Json* j, const char* key, const char* path) {
  char* text = ReadSmallFile(path, NULL);
  JsonStr(j, key, text);
  free(text);
}

static void ReportMaps(Json* j) {
  ReportFile(j, "uid_map", "/proc/self/uid_map");
  ReportFile(j, "gid_map", "/proc/self/gid_map");
  ReportFile(j, "setgroups", "/proc/self/setgroups");
}

static void ReportUts(Json* j) {
  struct utsname u;
  if (uname(&u) == 0) {
    JsonStr(j, "hostname", u.nodename);
    JsonStr(j, "domainname", u.domainname);
  }
}

static void ReportCwd(Json* j) {
  /* The raw syscall: glibc's getcwd hides "(unreachable)" paths behind ENOENT, and those
   * are exactly what a cwd outside the container's root looks like. */
  char buf[PATH_MAX];
  long n = syscall(SYS_getcwd, buf, sizeof buf);
  if (n < 0) {
    JsonNull(j, "cwd");
    JsonErrno(j, "cwd_errno", errno);
  } else {
    JsonStr(j, "cwd", buf);
  }
  char link[PATH_MAX];
  ssize_t l = readlink("/proc/self/cwd", link, sizeof link - 1);
  if (l >= 0) {
    JsonStrN(j, "cwd_link", link, (size_t)l);
  } else {
    JsonNull(j, "cwd_link");
  }
  l = readlink("/proc/self/root", link, sizeof link - 1);
  if (l >= 0) {
    JsonStrN(j, "root_link", link, (size_t)l);
  } else {
    JsonNull(j, "root_link");
  }
}

static void ReportEnv(Json* j) {
  JsonArrBegin(j, "env");
  for (char** e = environ; e && *e; e++) JsonStr(j, NULL, *e);
  JsonArrEnd(j);
}

static void ReportRlimits(Json* j) {
  static const struct {
    int res;
    const char* name;
  } kLimits[] = {
      {RLIMIT_AS, "RLIMIT_AS"},
      {RLIMIT_CORE, "RLIMIT_CORE"},
      {RLIMIT_CPU, "RLIMIT_CPU"},
      {RLIMIT_DATA, "RLIMIT_DATA"},
      {RLIMIT_FSIZE, "RLIMIT_FSIZE"},
      {RLIMIT_LOCKS, "RLIMIT_LOCKS"},
      {RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK"},
      {RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE"},
      {RLIMIT_NICE, "RLIMIT_NICE"},
      {RLIMIT_NOFILE, "RLIMIT_NOFILE"},
      {RLIMIT_NPROC, "RLIMIT_NPROC"},
      {RLIMIT_RSS, "RLIMIT_RSS"},
      {RLIMIT_RTPRIO, "RLIMIT_RTPRIO"},
      {RLIMIT_RTTIME, "RLIMIT_RTTIME"},
      {RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING"},
      {RLIMIT_STACK, "RLIMIT_STACK"},
  };
  JsonObjBegin(j, "rlimits");
  for (size_t i = 0; i < sizeof kLimits / sizeof kLimits[0]; i++) {
    struct rlimit rl;
    if (getrlimit(kLimits[i].res, &rl) != 0) continue;
    JsonObjBegin(j, kLimits[i].name);
    JsonUint(j, "soft", rl.rlim_cur);
    JsonUint(j, "hard", rl.rlim_max);
    JsonObjEnd(j);
  }
  JsonObjEnd(j);
}

static void ReportOom(Json* j) {
  char* v = ReadSmallFile("/proc/self/oom_score_adj", NULL);
  if (v) {
    JsonInt(j, "oom_score_adj", strtol(v, NULL, 10));
  } else {
    JsonNull(j, "oom_score_adj");
  }
  free(v);
}

static void ReportPersonality(Json* j) {
  /* 0xffffffff queries without changing anything. */
  JsonInt(j, "personality", personality(0xffffffff));
}

/* Undoes the octal escapes (\040 and friends) of mountinfo fields, in place. */
static void Unescape(char* s) {
  char* o = s;
  for (char* p = s; *p; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
        p[3] <= '7') {
      *o++ = (char)(((p[1] - '0') << 6) | ((p[2] - '0') << 3) | (p[3] - '0'));
      p += 3;
    } else {
      *o++ = *p;
    }
  }
  *o = '\0';
}

static void ReportMounts(Json* j) {
  char* text = ReadSmallFile("/proc/self/mountinfo", NULL);
  JsonArrBegin(j, "mounts");
  char* save = NULL;
  for (char* line = text ? strtok_r(text, "\n", &save) : NULL; line;
       line = strtok_r(NULL, "\n", &save)) {
    char* f[64];
    int n = 0;
    char* s2 = NULL;
    for (char* t = strtok_r(line, " ", &s2); t && n < 64; t = strtok_r(NULL, " ", &s2)) f[n++] = t;
    int sep = -1;
    for (int i = 6; i < n; i++) {
      if (strcmp(f[i], "-") == 0) {
        sep = i;
        break;
      }
    }
    if (sep < 0 || sep + 3 >= n + 1 || n < 10) continue;
    for (int i = 3; i < n; i++) Unescape(f[i]);
    JsonObjBegin(j, NULL);
    JsonInt(j, "id", strtol(f[0], NULL, 10));
    JsonInt(j, "parent", strtol(f[1], NULL, 10));
    JsonStr(j, "dev", f[2]);
    JsonStr(j, "root", f[3]);
    JsonStr(j, "mount_point", f[4]);
    JsonStr(j, "options", f[5]);
    JsonArrBegin(j, "optional");
    for (int i = 6; i < sep; i++) JsonStr(j, NULL, f[i]);
    JsonArrEnd(j);
    JsonStr(j, "fs_type", sep + 1 < n ? f[sep + 1] : "");
    JsonStr(j, "source", sep + 2 < n ? f[sep + 2] : "");
    JsonStr(j, "super_options", sep + 3 < n ? f[sep + 3] : "");
    JsonObjEnd(j);
  }
  JsonArrEnd(j);
  free(text);
}

static void ReportCgroup(Json* j) {
  char* text = ReadSmallFile("/proc/self/cgroup", NULL);
  JsonArrBegin(j, "cgroup");
  char* save = NULL;
  for (char* line = text ? strtok_r(text, "\n", &save) : NULL; line;
       line = strtok_r(NULL, "\n", &save)) {
    JsonStr(j, NULL, line);
  }
  JsonArrEnd(j);
  free(text);
}

static void ReportFds(Json* j) {
  DIR* d = opendir("/proc/self/fd");
  JsonArrBegin(j, "fds");
  if (d) {
    int own = dirfd(d);
    for (struct dirent* e; (e = readdir(d));) {
      if (e->d_name[0] == '.') continue;
      int fd = atoi(e->d_name);
      if (fd == own) continue; /* the listing's own descriptor */
      char path[64], target[PATH_MAX];
      snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
      ssize_t l = readlink(path, target, sizeof target - 1);
      JsonObjBegin(j, NULL);
      JsonInt(j, "fd", fd);
      if (l >= 0) {
        JsonStrN(j, "target", target, (size_t)l);
      } else {
        JsonNull(j, "target");
      }
      JsonObjEnd(j);
    }
    closedir(d);
  }
  JsonArrEnd(j);
}

void ReportNs(Json* j) {
  static const char* const kNs[] = {
      "cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children",
      "user",   "uts"};
  JsonObjBegin(j, "ns");
  for (size_t i = 0; i < sizeof kNs / sizeof kNs[0]; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/ns/%s", kNs[i]);
    struct stat st;
    if (stat(path, &st) == 0) {
      JsonUint(j, kNs[i], st.st_ino);
    } else {
      JsonNull(j, kNs[i]);
    }
  }
  JsonObjEnd(j);
}

static void ReportProc(Json* j) {
  JsonInt(j, "pid", getpid());
  JsonInt(j, "ppid", getppid());
  JsonInt(j, "pgid", getpgid(0));
  JsonInt(j, "sid", getsid(0));
  char exe[PATH_MAX];
  ssize_t l = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (l >= 0) {
    JsonStrN(j, "exe", exe, (size_t)l);
  } else {
    JsonNull(j, "exe");
  }
}

static void ReportSched(Json* j) {
  int policy = sched_getscheduler(0);
  const char* name = "unknown";
  switch (policy & ~SCHED_RESET_ON_FORK) {
    case SCHED_OTHER:
      name = "SCHED_OTHER";
      break;
    case SCHED_FIFO:
      name = "SCHED_FIFO";
      break;
    case SCHED_RR:
      name = "SCHED_RR";
      break;
    case SCHED_BATCH:
      name = "SCHED_BATCH";
      break;
    case SCHED_IDLE:
      name = "SCHED_IDLE";
      break;
  }
  JsonStr(j, "sched_policy", name);
  struct sched_param sp;
  JsonInt(j, "sched_priority", sched_getparam(0, &sp) == 0 ? sp.sched_priority : -1);
  errno = 0;
  JsonInt(j, "nice", getpriority(PRIO_PROCESS, 0));
}

static void ReportIoprio(Json* j) {
  /* ioprio_get(IOPRIO_WHO_PROCESS, self): glibc has no wrapper. */
  long v = syscall(SYS_ioprio_get, 1, 0);
  JsonObjBegin(j, "ioprio");
  if (v >= 0) {
    static const char* const kClasses[] = {"IOPRIO_CLASS_NONE", "IOPRIO_CLASS_RT",
                                           "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"};
    long cls = v >> 13;
    JsonStr(j, "class", cls >= 0 && cls < 4 ? kClasses[cls] : "unknown");
    JsonInt(j, "priority", v & 0xff);
  } else {
    JsonErrno(j, "errno", errno);
  }
  JsonObjEnd(j);
}

static const struct {
  const char* name;
  void (*fn)(Json*);
} kSections[] = {
    {"ids", ReportIds},       {"caps", ReportCaps},
    {"status", ReportStatus}, {"maps", ReportMaps},
    {"uts", ReportUts},       {"cwd", ReportCwd},
    {"env", ReportEnv},       {"rlimits", ReportRlimits},
    {"oom", ReportOom},       {"personality", ReportPersonality},
    {"mounts", ReportMounts}, {"cgroup", ReportCgroup},
    {"fds", ReportFds},       {"ns", ReportNs},
    {"proc", ReportProc},     {"sched", ReportSched},
    {"ioprio", ReportIoprio},
};

int CmdReport(int argc, char** argv) {
  const size_t count = sizeof kSections / sizeof kSections[0];
  for (int a = 0; a < argc; a++) {
    size_t i = 0;
    while (i < count && strcmp(kSections[i].name, argv[a]) != 0) i++;
    if (i == count) {
      fprintf(stderr, "probe: unknown report section %s\n", argv[a]);
      return 2;
    }
  }
  Json j;
  JsonInit(&j);
  JsonObjBegin(&j, NULL);
  JsonStr(&j, "cmd", "report");
  JsonBool(&j, "ok", 1);
  for (size_t i = 0; i < count; i++) {
    int wanted = argc == 0;
    for (int a = 0; a < argc && !wanted; a++) wanted = strcmp(kSections[i].name, argv[a]) == 0;
    if (wanted) kSections[i].fn(&j);
  }
  JsonObjEnd(&j);
  JsonEmit(&j);
  JsonFree(&j);
  return 0;
}
