/* berth/engine/monitor: the contract between berth-monitor (a static musl C program) and the
 * C++ engine that launches it and attaches to it. Plain C: included by monitor.c and by
 * monitor_launch.cc / attach.cc. Everything here is host-local, so numbers are in native
 * byte order.
 *
 * Launch: the launcher places the container's stdio on fixed fds (below), fds 0-2 on
 * /dev/null, closes everything else and execs berth-monitor. The monitor writes one NUL byte
 * to the ready fd once its attach socket is listening; a non-NUL message on the ready pipe is
 * an error text (from the monitor or from a failed exec), and EOF without a byte means it
 * died before it was ready.
 *
 * Attach: RUNDIR/attach is a SOCK_SEQPACKET unix socket. Every message is one packet: a
 * one-byte type, then the payload (at most BERTH_MONITOR_MAX_PAYLOAD bytes).
 *
 * Exit: when the container's init exits the monitor writes RUNDIR/exit (temp + rename), a
 * JSON object on one line:
 *   {"exit_code":N,"signal":S,"started_at":"RFC3339Nano","finished_at":"RFC3339Nano"}
 * exit_code is the status, or 128 + signal when killed (signal is then non-zero). Then it
 * sends EXIT to attached clients, unlinks the socket and execs the exit command, which
 * inherits the client connections: clients see EOF only once that command has finished.
 */
#ifndef BERTH_ENGINE_MONITOR_MONITOR_PROTOCOL_H_
#define BERTH_ENGINE_MONITOR_MONITOR_PROTOCOL_H_

#include <stdint.h>

/* The fds berth-monitor receives. A missing one is closed. */
#define BERTH_MONITOR_FD_STDIN 3  /* write end of the container's stdin pipe (pipes only) */
#define BERTH_MONITOR_FD_STDOUT 4 /* read end of its stdout pipe, or the pty master (--tty) */
#define BERTH_MONITOR_FD_STDERR 5 /* read end of its stderr pipe (absent with --tty) */
#define BERTH_MONITOR_FD_READY 6  /* write end of the ready pipe */
#define BERTH_MONITOR_FIRST_FREE_FD 7

/* Files in the run directory. */
#define BERTH_MONITOR_ATTACH_SOCKET "attach"
#define BERTH_MONITOR_EXIT_FILE "exit"
#define BERTH_MONITOR_LOG_FILE "monitor.log" /* the monitor's own notes; absent when all went well */

/* Set in the exit command's environment. */
#define BERTH_MONITOR_ENV_EXIT_CODE "BERTH_MONITOR_EXIT_CODE"

#define BERTH_MONITOR_MAX_PAYLOAD 8192
#define BERTH_MONITOR_MAX_CLIENTS 16

/* Message types, client -> monitor. */
#define BERTH_MSG_STDIN 'i'       /* payload: bytes for the container's stdin (or the pty) */
#define BERTH_MSG_RESIZE 'r'      /* payload: struct berth_monitor_winsize */
#define BERTH_MSG_CLOSE_STDIN 'c' /* no payload: close the stdin pipe (ignored with a pty) */
#define BERTH_MSG_STARTED 's'     /* no payload: the container was started; sets started_at */
#define BERTH_MSG_CLIENT_CLEANUP 'k' /* no payload: this client runs the exit command's work
                                        itself: if it is still attached at the exit, the
                                        monitor just exits */

/* Message types, monitor -> client. */
#define BERTH_MSG_STDOUT 'o' /* payload: output bytes (all of a pty's output) */
#define BERTH_MSG_STDERR 'e'
#define BERTH_MSG_EXIT 'x' /* payload: struct berth_monitor_exit */

struct berth_monitor_winsize {
  uint16_t rows;
  uint16_t cols;
};

struct berth_monitor_exit {
  int32_t exit_code; /* status, or 128 + signal */
  int32_t signal;    /* 0 unless killed by a signal */
};

#endif /* BERTH_ENGINE_MONITOR_MONITOR_PROTOCOL_H_ */
