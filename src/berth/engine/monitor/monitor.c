/* berth-monitor: the per-container monitor. It is the parent of the container's init, holds
 * its stdio (pipes or a pty master), writes the log, relays to attached clients, runs health
 * checks, records the exit status and then execs the exit command (berth's cleanup).
 *
 *   berth-monitor --id ID --dir RUNDIR --pid INITPID
 *                 [--log PATH [--log-max-size BYTES] [--log-max-file N]]
 *                 [--tty] [--stdin]
 *                 [--health-interval NS --health-arg ARG [--health-arg ARG ...]]
 *                 [--start-fifo PATH --client-pid PID [--started-arg ARG ...]]
 *                 -- [EXIT_COMMAND ARG...]
 *
 * --dir      the container's run directory: the attach socket and the exit file go there,
 *            and it is the monitor's working directory until the exit command runs.
 * --pid      the init; it must be a child of this process (the launcher forked it).
 * --log      CRI log file, one record per line:
 *              <RFC3339Nano UTC> <stdout|stderr> <F|P> <content>\n
 *            P marks a piece of a line that continues in the next record (split because it
 *            exceeded the line buffer, or the stream ended without a newline). With --log-max-size
 *            the file rotates (log -> log.1 -> ... -> log.(N-1)) so that at most --log-max-file
 *            files exist; with one file it is truncated instead.
 * --tty      fd 4 is a pty master (no fd 5); --stdin lets clients write to it.
 * --health-* every NS nanoseconds after the previous check finished, fork+exec the health
 *            command (its argv is the --health-arg values), unless one is still running.
 * --start-fifo, --client-pid: the container waits for `start` on the runtime's exec fifo
 *            and the client (the berth command that launched us) is about to start it. If
 *            the client dies first, the monitor starts it itself (opens the fifo and reads
 *            its byte), as a daemon would go on with a start its client asked for; it never
 *            stays created with a live monitor and nobody to start it. Then it runs the
 *            --started-arg command (berth's `container started ID`) to record that.
 * Without an exit command the monitor exits with status 0 after the container.
 * See monitor_protocol.h for fds, messages and files. Fatal setup errors go to the ready fd;
 * later problems are noted in RUNDIR/monitor.log.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "monitor_protocol.h"

#define LINE_MAX_BYTES 16384   /* a longer line is logged in P pieces */
#define CHUNK_BYTES 8192       /* one read of container output */
#define DRAIN_QUIET_NS 50000000LL    /* after init exit: stop when output is quiet this long */
#define DRAIN_MAX_NS 2000000000LL    /* ... or after this long in any case */
#define CLIENT_STALL_NS 30000000000LL /* a client that takes no output this long is dropped */
#define MAX_HEALTH_ARGS 64

static const char* g_dir;
static const char* g_log_path;
static long long g_log_max_size;
static int g_log_max_file = 1;
static int g_tty, g_stdin_ok;
static pid_t g_init_pid;
static long long g_health_interval;
static char* g_health_argv[MAX_HEALTH_ARGS + 1];
static int g_health_argc;
static char** g_exit_argv;

static int g_log_fd = -1;
static long long g_log_size;
static int g_out_fd[2] = {-1, -1}; /* stdout, stderr */
static int g_in_fd = -1;           /* where client stdin goes: the pipe or the pty master */
static int g_listen_fd = -1;
static int g_sig_fd = -1;

struct line {
  size_t len;
  char buf[LINE_MAX_BYTES];
};
static struct line g_line[2];

/* The output chunk being delivered; no more output is read until every client has it. */
static char g_chunk[CHUNK_BYTES];
static size_t g_chunk_len;
static char g_chunk_type;
static long long g_chunk_since;

/* One received client message; while stdin data in it is pending, clients are not read. */
static char g_msg[1 + BERTH_MONITOR_MAX_PAYLOAD];
static size_t g_stdin_off, g_stdin_end;

struct client {
  int fd;
  int owes_chunk;
  int hup; /* hung up while stdin was busy: its last messages are read later */
  int cleans; /* this client runs the cleanup itself (BERTH_MSG_CLIENT_CLEANUP) */
};
static struct client g_clients[BERTH_MONITOR_MAX_CLIENTS];
static int g_nclients;

static char g_started_at[40], g_finished_at[40];
static int g_exit_status = -1;
static pid_t g_health_pid = -1;
static const char* g_start_fifo;
static pid_t g_client_pid = -1;
static int g_client_fd = -1; /* pidfd of the client, until the container has started */
static char* g_started_argv[MAX_HEALTH_ARGS + 1];
static int g_started_argc;
static pid_t g_started_pid = -1; /* the --started-arg command, until reaped */
static long long g_health_next;

static long long now_ns(int clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}
static long long mono(void) { return now_ns(CLOCK_MONOTONIC); }

/* "2026-01-02T15:04:05.123456789Z": fixed nine digits, so records sort as text. */
static size_t format_time(char* out, size_t cap) {
  static time_t cached_sec = -1;
  static char cached[80]; /* "2026-01-02T15:04:05." : the date changes once a second */
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  if (ts.tv_sec != cached_sec) {
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(cached, sizeof cached, "%04d-%02d-%02dT%02d:%02d:%02d.", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    cached_sec = ts.tv_sec;
  }
  if (cap < 31) return 0;
  memcpy(out, cached, 20);
  long ns = ts.tv_nsec;
  for (int i = 28; i >= 20; i--, ns /= 10) out[i] = (char)('0' + ns % 10);
  out[29] = 'Z';
  out[30] = 0;
  return 30;
}

/* Appends a line to RUNDIR/monitor.log; the monitor has no stderr worth writing to. */
static void note(const char* fmt, ...) {
  int fd = open(BERTH_MONITOR_LOG_FILE, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  char ts[40];
  format_time(ts, sizeof ts);
  dprintf(fd, "%s berth-monitor: ", ts);
  va_list ap;
  va_start(ap, fmt);
  vdprintf(fd, fmt, ap);
  va_end(ap);
  dprintf(fd, "\n");
  close(fd);
}

/* Before the ready byte, errors go to the launcher through the ready pipe. */
static void fatal(const char* what) {
  char buf[512];
  int n = snprintf(buf, sizeof buf, "berth-monitor: %s: %s", what, strerror(errno));
  if (n > 0 && write(BERTH_MONITOR_FD_READY, buf, (size_t)n) < 0) note("%s", buf);
  _exit(1);
}

static void usage(const char* msg) {
  errno = EINVAL;
  fatal(msg);
}

static int fd_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

static void set_flags(int fd) {
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* ---- log file ---- */

static void open_log(int trunc) {
  g_log_fd = open(g_log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | (trunc ? O_TRUNC : 0),
                  0640);
  g_log_size = 0;
  if (g_log_fd < 0) {
    note("open log %s: %s", g_log_path, strerror(errno));
    return;
  }
  struct stat st;
  if (fstat(g_log_fd, &st) == 0) g_log_size = st.st_size;
}

static void rotate_log(void) {
  close(g_log_fd);
  g_log_fd = -1;
  if (g_log_max_file <= 1) {
    open_log(1);
    return;
  }
  char from[4096], to[4096];
  for (int i = g_log_max_file - 1; i >= 2; i--) {
    snprintf(from, sizeof from, "%s.%d", g_log_path, i - 1);
    snprintf(to, sizeof to, "%s.%d", g_log_path, i);
    if (rename(from, to) < 0 && errno != ENOENT) note("rotate %s: %s", from, strerror(errno));
  }
  snprintf(to, sizeof to, "%s.1", g_log_path);
  if (rename(g_log_path, to) < 0) note("rotate %s: %s", g_log_path, strerror(errno));
  open_log(0);
}

static void log_record(int stream, char tag, const char* p, size_t n) {
  if (!g_log_path) return;
  char head[64];
  size_t h = format_time(head, sizeof head);
  h += (size_t)snprintf(head + h, sizeof head - h, " %s %c ", stream ? "stderr" : "stdout", tag);
  long long len = (long long)(h + n + 1);
  if (g_log_max_size > 0 && g_log_size > 0 && g_log_size + len > g_log_max_size) rotate_log();
  if (g_log_fd < 0) return;
  struct iovec iov[3] = {{head, h}, {(void*)p, n}, {"\n", 1}};
  ssize_t w = writev(g_log_fd, iov, 3);
  if (w < 0) {
    note("write log: %s", strerror(errno));
    return;
  }
  g_log_size += w;
}

/* Splits output into records: complete lines as F, overlong pieces as P. */
static void log_output(int stream, const char* p, size_t n) {
  struct line* l = &g_line[stream];
  while (n > 0) {
    const char* nl = memchr(p, '\n', n);
    size_t take = nl ? (size_t)(nl - p) : n;
    size_t room = LINE_MAX_BYTES - l->len;
    if (take > room) take = room, nl = NULL;
    memcpy(l->buf + l->len, p, take);
    l->len += take;
    p += take;
    n -= take;
    if (nl) {
      log_record(stream, 'F', l->buf, l->len);
      l->len = 0;
      p++, n--;
    } else if (l->len == LINE_MAX_BYTES) {
      log_record(stream, 'P', l->buf, l->len);
      l->len = 0;
    }
  }
}

static void flush_partial(int stream) {
  if (g_line[stream].len) log_record(stream, 'P', g_line[stream].buf, g_line[stream].len);
  g_line[stream].len = 0;
}

/* ---- clients ---- */

static void drop_client(int i) {
  close(g_clients[i].fd);
  g_clients[i] = g_clients[--g_nclients];
}

/* 1 sent, 0 would block, -1 client gone. */
static int send_msg(int fd, char type, const void* p, size_t n) {
  struct iovec iov[2] = {{&type, 1}, {(void*)p, n}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  for (;;) {
    if (sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return 1;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ? 0 : -1;
  }
}

static int chunk_pending(void) {
  for (int i = 0; i < g_nclients; i++)
    if (g_clients[i].owes_chunk) return 1;
  return 0;
}

static void deliver_chunk(int i) {
  int r = send_msg(g_clients[i].fd, g_chunk_type, g_chunk, g_chunk_len);
  if (r < 0)
    drop_client(i);
  else
    g_clients[i].owes_chunk = (r == 0);
}

static void accept_clients(void) {
  for (;;) {
    int fd = accept4(g_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (g_nclients == BERTH_MONITOR_MAX_CLIENTS) {
      note("too many attached clients; refusing one");
      close(fd);
      continue;
    }
    g_clients[g_nclients++] = (struct client){fd, 0, 0, 0};
  }
}

static void write_stdin(void) {
  while (g_stdin_off < g_stdin_end) {
    ssize_t w = write(g_in_fd, g_msg + g_stdin_off, g_stdin_end - g_stdin_off);
    if (w > 0) {
      g_stdin_off += (size_t)w;
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return;
    /* The container closed its stdin (EPIPE) or the pty is gone: drop the input. */
    if (!g_tty && g_in_fd >= 0) close(g_in_fd), g_in_fd = -1;
    break;
  }
  g_stdin_off = g_stdin_end = 0;
}

/* 1: a message was handled, 0: none pending, -1: the client is gone (dropped). */
static int handle_client_msg(int i) {
  ssize_t n = recv(g_clients[i].fd, g_msg, sizeof g_msg, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) {
    drop_client(i);
    return -1;
  }
  switch (g_msg[0]) {
    case BERTH_MSG_STDIN:
      if (g_in_fd >= 0 && (!g_tty || g_stdin_ok) && n > 1) {
        g_stdin_off = 1, g_stdin_end = (size_t)n;
        write_stdin();
      }
      break;
    case BERTH_MSG_RESIZE:
      if (g_tty && n >= 1 + (ssize_t)sizeof(struct berth_monitor_winsize)) {
        struct berth_monitor_winsize ws;
        memcpy(&ws, g_msg + 1, sizeof ws);
        struct winsize w = {.ws_row = ws.rows, .ws_col = ws.cols};
        ioctl(g_out_fd[0], TIOCSWINSZ, &w);
      }
      break;
    case BERTH_MSG_CLOSE_STDIN:
      if (!g_tty && g_in_fd >= 0) close(g_in_fd), g_in_fd = -1;
      break;
    case BERTH_MSG_STARTED:
      format_time(g_started_at, sizeof g_started_at);
      break;
    case BERTH_MSG_CLIENT_CLEANUP:
      g_clients[i].cleans = 1;
      break;
    default:
      break;
  }
  return 1;
}

/* ---- output ---- */

/* Reads one chunk of a stream; returns 1 if data arrived, 0 if none, and closes it at EOF. */
static int read_output(int stream) {
  ssize_t n = read(g_out_fd[stream], g_chunk, sizeof g_chunk);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) { /* EOF, or EIO from a pty master whose slave side is gone */
    flush_partial(stream);
    if (g_tty && g_in_fd == g_out_fd[stream]) g_in_fd = -1;
    close(g_out_fd[stream]);
    g_out_fd[stream] = -1;
    return 0;
  }
  log_output(stream, g_chunk, (size_t)n);
  g_chunk_len = (size_t)n;
  g_chunk_type = stream ? BERTH_MSG_STDERR : BERTH_MSG_STDOUT;
  g_chunk_since = mono();
  for (int i = g_nclients - 1; i >= 0; i--) deliver_chunk(i);
  return 1;
}

/* ---- children ---- */

static void reset_signals(void) {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
}

static void start_health_check(void) {
  pid_t pid = fork();
  if (pid < 0) {
    note("fork health check: %s", strerror(errno));
    g_health_next = mono() + g_health_interval;
    return;
  }
  if (pid == 0) {
    reset_signals();
    execv(g_health_argv[0], g_health_argv);
    _exit(127);
  }
  g_health_pid = pid;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == g_init_pid) {
      g_exit_status = status;
      format_time(g_finished_at, sizeof g_finished_at);
    } else if (pid == g_health_pid) {
      g_health_pid = -1;
      g_health_next = mono() + g_health_interval;
    } else if (pid == g_started_pid) {
      g_started_pid = -1;
    }
  }
}

/* ---- exit ---- */

static void write_exit_file(int code, int sig) {
  char buf[256];
  int n = snprintf(buf, sizeof buf,
                   "{\"exit_code\":%d,\"signal\":%d,\"started_at\":\"%s\",\"finished_at\":\"%s\"}\n",
                   code, sig, g_started_at, g_finished_at);
  int fd = open(BERTH_MONITOR_EXIT_FILE ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, buf, (size_t)n) != n || close(fd) < 0 ||
      rename(BERTH_MONITOR_EXIT_FILE ".tmp", BERTH_MONITOR_EXIT_FILE) < 0)
    note("write exit file: %s", strerror(errno));
}

/* Final delivery may block a little: the client is waiting for exactly this. */
static void send_final(int fd, char type, const void* p, size_t n) {
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  struct iovec iov[2] = {{&type, 1}, {(void*)p, n}};
  struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
  while (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

static void finish(void) {
  flush_partial(0);
  flush_partial(1);
  int st = g_exit_status, code, sig = 0;
  if (WIFSIGNALED(st))
    sig = WTERMSIG(st), code = 128 + sig;
  else
    code = WEXITSTATUS(st);
  write_exit_file(code, sig);

  accept_clients(); /* connections still in the backlog hear the exit too */
  /* What a client sent before the exit still counts (CLIENT_CLEANUP above all). And a
   * connection closed with unread messages is reset by the kernel, which on these sockets
   * reaches the client before the messages we queue for it below. */
  for (int i = g_nclients - 1; i >= 0; i--) {
    /* Bounded: a client that keeps sending stdin must not hold up the exit. */
    for (int n = 0; n < 64 && handle_client_msg(i) > 0; n++) {
    }
  }
  close(g_listen_fd);
  unlink(BERTH_MONITOR_ATTACH_SOCKET);
  struct berth_monitor_exit ex = {code, sig};
  int client_cleans = 0;
  for (int i = 0; i < g_nclients; i++) {
    client_cleans |= g_clients[i].cleans;
    if (g_clients[i].owes_chunk) send_final(g_clients[i].fd, g_chunk_type, g_chunk, g_chunk_len);
    send_final(g_clients[i].fd, BERTH_MSG_EXIT, &ex, sizeof ex);
    /* The exit command inherits the connection: clients see EOF when it is done. */
    fcntl(g_clients[i].fd, F_SETFD, 0);
  }

  if (g_health_pid > 0) {
    kill(g_health_pid, SIGKILL);
    waitpid(g_health_pid, NULL, 0);
  }
  /* The record says "running" before the exit command says "exited". */
  if (g_started_pid > 0) waitpid(g_started_pid, NULL, 0);
  if (g_in_fd >= 0 && g_in_fd != g_out_fd[0]) close(g_in_fd);
  for (int s = 0; s < 2; s++)
    if (g_out_fd[s] >= 0) close(g_out_fd[s]);
  if (g_log_fd >= 0) close(g_log_fd);
  close(g_sig_fd);
  reset_signals();
  if (chdir("/") < 0) note("chdir /: %s", strerror(errno));
  /* A still-attached client that took over the cleanup runs it in its own process (and if
   * it dies first, the next berth command finds the monitor gone and cleans up). */
  if (!g_exit_argv || !g_exit_argv[0] || client_cleans) _exit(0);

  char val[16];
  snprintf(val, sizeof val, "%d", code);
  setenv(BERTH_MONITOR_ENV_EXIT_CODE, val, 1);
  execv(g_exit_argv[0], g_exit_argv);
  int err = errno;
  if (chdir(g_dir) == 0) note("exec exit command %s: %s", g_exit_argv[0], strerror(err));
  _exit(1);
}

/* ---- setup ---- */

static void parse_args(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (!strcmp(a, "--")) {
      g_exit_argv = argv + i + 1;
      return;
    }
    if (!strcmp(a, "--tty")) {
      g_tty = 1;
      continue;
    }
    if (!strcmp(a, "--stdin")) {
      g_stdin_ok = 1;
      continue;
    }
    if (i + 1 >= argc) usage(a);
    char* v = argv[++i];
    if (!strcmp(a, "--id")) {
      /* only for ps listings and notes */
    } else if (!strcmp(a, "--dir")) {
      g_dir = v;
    } else if (!strcmp(a, "--pid")) {
      g_init_pid = (pid_t)atoi(v);
    } else if (!strcmp(a, "--log")) {
      g_log_path = v;
    } else if (!strcmp(a, "--log-max-size")) {
      g_log_max_size = atoll(v);
    } else if (!strcmp(a, "--log-max-file")) {
      g_log_max_file = atoi(v);
    } else if (!strcmp(a, "--health-interval")) {
      g_health_interval = atoll(v);
    } else if (!strcmp(a, "--start-fifo")) {
      g_start_fifo = v;
    } else if (!strcmp(a, "--client-pid")) {
      g_client_pid = (pid_t)atoi(v);
    } else if (!strcmp(a, "--started-arg")) {
      if (g_started_argc == MAX_HEALTH_ARGS) usage("too many --started-arg");
      g_started_argv[g_started_argc++] = v;
    } else if (!strcmp(a, "--health-arg")) {
      if (g_health_argc == MAX_HEALTH_ARGS) usage("too many --health-arg");
      g_health_argv[g_health_argc++] = v;
    } else {
      usage(a);
    }
  }
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* The client died before starting the container: start it as `start` does (open the fifo
 * for reading, which releases the waiting trampoline, take its byte, remove the fifo). */
static void start_for_client(void) {
  if (g_client_fd >= 0) close(g_client_fd);
  g_client_fd = -1;
  /* An init that is gone (the client killed it on a failed start) has nobody to release. */
  siginfo_t si = {0};
  if (g_exit_status != -1 ||
      waitid(P_PID, (id_t)g_init_pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != 0)
    return;
  int fd = open(g_start_fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return; /* started already (the fifo is gone) */
  /* The waiting trampoline's open completes as ours does; it writes at once. */
  struct pollfd p = {fd, POLLIN, 0};
  char byte;
  if (poll(&p, 1, 1000) == 1 && read(fd, &byte, 1) == 1) {
    unlink(g_start_fifo);
    note("started the container for a client that went away");
    if (g_started_argc > 0) {
      /* Reaped with the other children; the exit command waits for it (finish). */
      pid_t pid = fork();
      if (pid == 0) {
        reset_signals();
        execv(g_started_argv[0], g_started_argv);
        _exit(127);
      }
      if (pid < 0) note("run %s: %s", g_started_argv[0], strerror(errno));
      g_started_pid = pid;
    }
  }
  close(fd);
}

static void watch_client(void) {
  if (!g_start_fifo || g_client_pid <= 0) return;
  g_client_fd = (int)syscall(SYS_pidfd_open, g_client_pid, 0);
  /* Gone already, or re-parented us to a reaper (so the pid may be someone else's now). */
  if (g_client_fd < 0 || getppid() != g_client_pid) start_for_client();
}

static void setup(void) {
  if (!g_dir || g_init_pid <= 0) usage("--dir and --pid are required");
  if (chdir(g_dir) < 0) fatal("chdir to run directory");

  /* Inherited dispositions and masks are the launcher's, not ours. */
  for (int s = 1; s < 32; s++)
    if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_SETMASK, &chld, NULL);
  g_sig_fd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (g_sig_fd < 0) fatal("signalfd");

  siginfo_t si;
  if (waitid(P_PID, (id_t)g_init_pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
    fatal("init pid is not a child of the monitor");

  if (fd_open(BERTH_MONITOR_FD_STDOUT)) g_out_fd[0] = BERTH_MONITOR_FD_STDOUT;
  if (!g_tty && fd_open(BERTH_MONITOR_FD_STDERR)) g_out_fd[1] = BERTH_MONITOR_FD_STDERR;
  if (g_tty)
    g_in_fd = g_out_fd[0];
  else if (fd_open(BERTH_MONITOR_FD_STDIN))
    g_in_fd = BERTH_MONITOR_FD_STDIN;
  for (int fd = BERTH_MONITOR_FD_STDIN; fd <= BERTH_MONITOR_FD_STDERR; fd++)
    if (fd_open(fd)) set_flags(fd);
  fcntl(BERTH_MONITOR_FD_READY, F_SETFD, FD_CLOEXEC);

  if (g_log_path) open_log(0);
  format_time(g_started_at, sizeof g_started_at);

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  strcpy(addr.sun_path, BERTH_MONITOR_ATTACH_SOCKET); /* relative: RUNDIR is the cwd */
  unlink(BERTH_MONITOR_ATTACH_SOCKET);
  g_listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (g_listen_fd < 0) fatal("socket");
  if (bind(g_listen_fd, (struct sockaddr*)&addr, sizeof addr) < 0) fatal("bind attach socket");
  if (listen(g_listen_fd, 16) < 0) fatal("listen on attach socket");

  if (g_health_interval > 0 && g_health_argc > 0) g_health_next = mono() + g_health_interval;

  char ok = 0;
  if (write(BERTH_MONITOR_FD_READY, &ok, 1) != 1) note("write ready byte: %s", strerror(errno));
  close(BERTH_MONITOR_FD_READY);
  watch_client();
}

static int poll_timeout(long long deadline, long long now) {
  if (deadline <= 0) return -1;
  if (deadline <= now) return 0;
  long long ms = (deadline - now + 999999) / 1000000;
  return ms > 60000 ? 60000 : (int)ms;
}

static long long min_deadline(long long a, long long b) {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return a < b ? a : b;
}

int main(int argc, char** argv) {
  parse_args(argc, argv);
  setup();
  reap(); /* the init may have exited before SIGCHLD was blocked */

  long long drain_quiet = 0, drain_hard = 0;
  for (;;) {
    long long now = mono();
    if (g_exit_status != -1 && !drain_hard) {
      drain_quiet = now + DRAIN_QUIET_NS;
      drain_hard = now + DRAIN_MAX_NS;
    }
    int pending = chunk_pending();
    if (drain_hard) {
      int outputs_open = g_out_fd[0] >= 0 || g_out_fd[1] >= 0;
      if ((!outputs_open || now >= drain_quiet) && !pending) finish();
      if (now >= drain_hard) finish();
    }
    if (pending && now - g_chunk_since > CLIENT_STALL_NS) {
      for (int i = g_nclients - 1; i >= 0; i--)
        if (g_clients[i].owes_chunk) note("dropping a client that stopped reading"), drop_client(i);
      pending = 0;
    }

    struct pollfd p[6 + BERTH_MONITOR_MAX_CLIENTS];
    int np = 0;
    p[np++] = (struct pollfd){g_sig_fd, POLLIN, 0};
    p[np++] = (struct pollfd){g_listen_fd, POLLIN, 0};
    for (int s = 0; s < 2; s++)
      p[np++] = (struct pollfd){pending ? -1 : g_out_fd[s], POLLIN, 0};
    if (g_in_fd < 0) g_stdin_off = g_stdin_end = 0;
    int stdin_busy = g_stdin_off < g_stdin_end;
    p[np++] = (struct pollfd){stdin_busy ? g_in_fd : -1, POLLOUT, 0};
    p[np++] = (struct pollfd){g_client_fd, POLLIN, 0};
    int first_client = np;
    for (int i = 0; i < g_nclients; i++) {
      /* poll() reports a hangup even with no events asked for: leave such a client out. */
      int fd = stdin_busy && g_clients[i].hup ? -1 : g_clients[i].fd;
      short ev = (short)((stdin_busy ? 0 : POLLIN) | (g_clients[i].owes_chunk ? POLLOUT : 0));
      p[np++] = (struct pollfd){fd, ev, 0};
    }

    long long deadline = drain_hard ? min_deadline(drain_quiet, drain_hard) : 0;
    if (g_health_pid < 0) deadline = min_deadline(deadline, g_health_next);
    if (pending) deadline = min_deadline(deadline, g_chunk_since + CLIENT_STALL_NS + 1);
    int r = poll(p, (nfds_t)np, poll_timeout(deadline, now));
    if (r < 0 && errno != EINTR) {
      note("poll: %s", strerror(errno));
      sleep(1);
      continue;
    }
    now = mono();

    if (p[0].revents) {
      struct signalfd_siginfo ssi;
      while (read(g_sig_fd, &ssi, sizeof ssi) > 0) {
      }
      reap();
    }
    if (p[1].revents) accept_clients();
    for (int s = 0; s < 2; s++)
      if (p[2 + s].revents && g_out_fd[s] >= 0 && read_output(s) && drain_hard)
        drain_quiet = now + DRAIN_QUIET_NS;
    if (p[4].revents) write_stdin();
    if (p[5].revents) start_for_client(); /* the client exited */
    /* Started by the client (fifo gone) or the container exited: nothing left to watch. */
    if (g_client_fd >= 0 && (g_exit_status != -1 || access(g_start_fifo, F_OK) != 0)) {
      close(g_client_fd);
      g_client_fd = -1;
    }

    /* Clients by fd, since drop_client reorders the table. */
    for (int k = first_client; k < np; k++) {
      if (!p[k].revents) continue;
      int i = 0;
      while (i < g_nclients && g_clients[i].fd != p[k].fd) i++;
      if (i == g_nclients) continue;
      if ((p[k].revents & POLLOUT) && g_clients[i].owes_chunk) {
        deliver_chunk(i);
        if (i >= g_nclients || g_clients[i].fd != p[k].fd) continue;
      }
      if (p[k].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (g_stdin_off < g_stdin_end) {
          g_clients[i].hup = 1; /* stdin busy: read it later */
          continue;
        }
        handle_client_msg(i);
      }
    }

    if (g_health_pid < 0 && g_health_next > 0 && now >= g_health_next && g_exit_status == -1)
      start_health_check();
  }
}
