/* berth-probe: shared declarations of the probe's parts.
 *
 * The probe is a static, dependency-free C program that the integration tests run inside
 * containers. Every subcommand prints one JSON object per line on stdout; the tests parse
 * those lines and assert on what the process saw. Errors are reported as errno names
 * ("EPERM"), never as localized strings.
 */
#ifndef BERTH_PROBE_H_
#define BERTH_PROBE_H_

#include <stddef.h>

/* ---- probe_json.c: a tiny streaming JSON writer into one buffer per line. ---- */

typedef struct {
  char* buf;
  size_t len, cap;
  int depth;
  int first[64]; /* first[d]: no member written yet at depth d */
} Json;

void JsonInit(Json* j);
void JsonFree(Json* j);
/* `key` is NULL inside arrays and for the top-level object. */
void JsonObjBegin(Json* j, const char* key);
void JsonObjEnd(Json* j);
void JsonArrBegin(Json* j, const char* key);
void JsonArrEnd(Json* j);
void JsonStr(Json* j, const char* key, const char* val); /* NULL val -> null */
void JsonStrN(Json* j, const char* key, const char* val, size_t n);
void JsonInt(Json* j, const char* key, long long v);
void JsonUint(Json* j, const char* key, unsigned long long v);
void JsonBool(Json* j, const char* key, int v);
void JsonNull(Json* j, const char* key);
/* "errno": "ENOENT" (or null when err == 0). */
void JsonErrno(Json* j, const char* key, int err);
/* Writes the document and a newline to fd 1 with one write(2), then resets the buffer. */
void JsonEmit(Json* j);
/* The same to another descriptor (one write(2): O_APPEND lines from several writers stay
 * whole). */
void JsonEmitTo(Json* j, int fd);

/* ---- probe_util.c ---- */

const char* ErrnoName(int err);
/* Reads a whole small file; returns malloc'd NUL-terminated text or NULL (errno set). */
char* ReadSmallFile(const char* path, size_t* len);
/* Writes {"cmd": cmd, "path": path, "ok": false, "errno": name} and returns 1; `path` may
 * be NULL (then omitted). */
int EmitFailure(const char* cmd, const char* path, int err);
/* Parses a signal name ("TERM", "SIGTERM") or number; -1 if unknown. */
int ParseSignal(const char* s);
const char* SignalName(int sig);

/* ---- subcommands: each returns the probe's exit status. ---- */

int CmdReport(int argc, char** argv); /* probe_report.c */
void ReportNs(Json* j);               /* the "ns" object of `report` */
int CmdRead(int argc, char** argv);   /* probe_files.c */
int CmdWrite(int argc, char** argv);
int CmdOpen(int argc, char** argv);
int CmdStat(int argc, char** argv);
int CmdLs(int argc, char** argv);
int CmdSysctl(int argc, char** argv);
int CmdSyscall(int argc, char** argv); /* probe_syscall.c */
int CmdFork(int argc, char** argv);    /* probe_process.c */
int CmdAlloc(int argc, char** argv);
int CmdSleep(int argc, char** argv);
int CmdExit(int argc, char** argv);
int CmdSignalSelf(int argc, char** argv);
int CmdWaitSignal(int argc, char** argv);
int CmdTick(int argc, char** argv);
int CmdTty(int argc, char** argv);
int CmdHook(int argc, char** argv);      /* probe_hook.c */
int CmdExeAttack(int argc, char** argv); /* probe_exe_attack.c */

#endif /* BERTH_PROBE_H_ */
