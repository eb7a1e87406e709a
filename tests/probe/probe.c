/* berth-probe: the program the integration tests run inside containers.
 *
 * Usage: probe SUBCOMMAND [ARGS...]   (argv[0] may be anything: /probe, probe)
 * Every subcommand prints JSON objects, one per line, on stdout. Exit status 0 on success,
 * 1 when the probed operation failed (the JSON says how), 2 for a usage error.
 */
#include "probe.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char* name;
  int (*fn)(int, char**);
  const char* usage;
} kCommands[] = {
    {"report", CmdReport,
     "[SECTION...]  ids caps status maps uts cwd env rlimits oom "
     "personality mounts cgroup fds ns proc sched ioprio"},
    {"read", CmdRead, "FILE"},
    {"write", CmdWrite, "FILE DATA"},
    {"open", CmdOpen, "PATH r|w|rw"},
    {"stat", CmdStat, "PATH"},
    {"ls", CmdLs, "DIR"},
    {"sysctl", CmdSysctl, "KEY"},
    {"syscall", CmdSyscall, "NAME [ARGS...]"},
    {"fork", CmdFork, "N [HOLD_MS]"},
    {"alloc", CmdAlloc, "MB"},
    {"sleep", CmdSleep, "SECONDS [TAG...]"},
    {"exit", CmdExit, "CODE"},
    {"signal-self", CmdSignalSelf, "SIG"},
    {"wait-signal", CmdWaitSignal, "[COUNT]"},
    {"tick", CmdTick, "MS [COUNT]"},
    {"tty", CmdTty, "[echo]"},
    {"hook", CmdHook, "KIND LOGFILE [exit CODE]"},
    {"exe-attack", CmdExeAttack, "SECONDS [append]"},
};

int main(int argc, char** argv) {
  if (argc >= 2) {
    for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++) {
      if (strcmp(argv[1], kCommands[i].name) == 0) return kCommands[i].fn(argc - 2, argv + 2);
    }
  }
  fprintf(stderr, "usage: probe SUBCOMMAND [ARGS...]\n");
  for (size_t i = 0; i < sizeof kCommands / sizeof kCommands[0]; i++) {
    fprintf(stderr, "  %s %s\n", kCommands[i].name, kCommands[i].usage);
  }
  return 2;
}
