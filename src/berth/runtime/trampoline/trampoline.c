/* berth-exec: the last step before a container's program runs.
 *
 * The runtime copies this tiny static program into a sealed memfd and execs it instead of
 * exec'ing the container's program directly. Whatever the container then execs resolves
 * /proc/self/exe to this sealed memfd, never to the runtime binary on the host, so the
 * /proc/self/exe overwrite (CVE-2019-5736 class) has nothing to write to. Being a few
 * pages, it costs one cheap exec instead of re-executing the whole runtime.
 *
 * It optionally installs a seccomp filter (as late as possible, so the runtime's own setup
 * syscalls are not subject to it) and hands a seccomp listener fd back to the runtime.
 *
 * It can also be where a created container waits for `start`: given an O_PATH fd of the
 * container's exec fifo, it reopens the fifo for writing through /proc/self/fd (which blocks
 * until `start` opens it for reading), writes one byte and keeps it open: `start` reads EOF
 * once the program runs (or fails to). The init execs it as soon as the
 * container is created, so its own teardown is not on the way from `start` to the program.
 *
 * argv: [0] "berth-exec", [1] fd of the filter (sock_filter array) or "-1", [2] seccomp(2)
 * flags, [3] fd of a unix socket for the listener or "-1", [4] O_PATH fd of the exec fifo or
 * "-1", [5] path to exec, [6...] argv.
 * Freestanding: no libc, raw syscalls only.
 */
#include <asm/unistd.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

#define SOL_SOCKET_ 1
#define SCM_RIGHTS_ 1
#define MSG_NOSIGNAL_ 0x4000
#define O_WRONLY_ 01
#define O_CLOEXEC_ 02000000
#define AT_FDCWD_ (-100)
#define PR_SET_PDEATHSIG_ 1

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  ret = x0;
#else
#error "berth-exec: unsupported architecture"
#endif
  return ret;
}

#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static size_t str_len(const char* s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

static long parse_long(const char* s) {
  long sign = 1, v = 0;
  if (*s == '-') {
    sign = -1;
    s++;
  }
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return sign * v;
}

static const char* errno_text(long e) {
  switch (e) {
    case 1: return "operation not permitted";
    case 2: return "no such file or directory";
    case 6: return "no such device or address";
    case 7: return "argument list too long";
    case 8: return "exec format error";
    case 12: return "cannot allocate memory";
    case 13: return "permission denied";
    case 20: return "not a directory";
    case 26: return "text file busy";
    case 32: return "broken pipe";
    case 40: return "too many levels of symbolic links";
    default: return "failed";
  }
}

static void put(const char* s) { sys3(__NR_write, 2, s, str_len(s)); }

static void die(const char* what, const char* obj, long err, int code) {
  put("berth-runtime: ");
  put(what);
  if (obj) {
    put(" `");
    put(obj);
    put("`");
  }
  put(": ");
  put(errno_text(err));
  put("\n");
  sys3(__NR_exit_group, code, 0, 0);
  for (;;) {
  }
}

/* 4096 instructions is the kernel's BPF_MAXINSNS. */
static struct sock_filter filter[4096];

static void send_fd(int sock, int fd) {
  char byte = 0;
  /* struct cmsghdr followed by one int, laid out as the kernel expects on 64-bit. */
  struct {
    size_t cmsg_len;
    int cmsg_level;
    int cmsg_type;
    int fd;
    int pad;
  } cm;
  struct {
    void* base;
    size_t len;
  } iov = {&byte, 1};
  struct {
    void* name;
    int namelen;
    void* iov;
    size_t iovlen;
    void* control;
    size_t controllen;
    int flags;
  } msg = {0, 0, &iov, 1, &cm, sizeof cm, 0};
  cm.cmsg_len = sizeof(size_t) + 2 * sizeof(int) + sizeof(int); /* CMSG_LEN(sizeof(int)) */
  cm.cmsg_level = SOL_SOCKET_;
  cm.cmsg_type = SCM_RIGHTS_;
  cm.pad = 0;
  cm.fd = fd;
  sys3(__NR_sendmsg, sock, &msg, MSG_NOSIGNAL_);
}

/* Blocks until `start` opens the fifo, then says so with one byte. */
static void wait_for_start(long path_fd) {
  char path[32] = "/proc/self/fd/";
  char digits[12];
  int n = 0, at = 14;
  long v = path_fd;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n > 0) path[at++] = digits[--n];
  path[at] = 0;
  long fd = sys6(__NR_openat, AT_FDCWD_, (long)path, O_WRONLY_ | O_CLOEXEC_, 0, 0, 0);
  if (fd < 0) die("wait for start: open the exec fifo", 0, -fd, 1);
  sys3(__NR_close, path_fd, 0, 0);
  /* Started: the container no longer dies with the runtime that created it. */
  sys3(__NR_prctl, PR_SET_PDEATHSIG_, 0, 0);
  /* Kept open (close-on-exec): `start` reads EOF once the program runs. A failed exec is
   * the container's own exit (126 or 127, the reason on its stderr), as with the init. */
  if (sys3(__NR_write, fd, "0", 1) != 1) die("wait for start: write the exec fifo", 0, 32, 1);
}

__attribute__((used)) void berth_exec_main(long* sp) {
  long argc = sp[0];
  char** argv = (char**)(sp + 1);
  char** envp = argv + argc + 1;
  if (argc < 7) die("usage", 0, 22, 127);
  long filter_fd = parse_long(argv[1]);
  long flags = parse_long(argv[2]);
  long sock = parse_long(argv[3]);
  long fifo = parse_long(argv[4]);
  if (fifo >= 0) wait_for_start(fifo);
  if (filter_fd >= 0) {
    size_t got = 0;
    for (;;) {
      long n = sys3(__NR_read, filter_fd, (char*)filter + got, sizeof filter - got);
      if (n < 0) die("read seccomp filter", 0, -n, 127);
      if (n == 0) break;
      got += (size_t)n;
      if (got == sizeof filter) break;
    }
    sys3(__NR_close, filter_fd, 0, 0);
    struct sock_fprog prog = {(unsigned short)(got / sizeof(struct sock_filter)), filter};
    long fd = sys3(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (fd < 0) die("load seccomp filter", 0, -fd, 127);
    if ((flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && sock >= 0) {
      send_fd((int)sock, (int)fd);
      sys3(__NR_close, fd, 0, 0);
    }
  }
  if (sock >= 0) sys3(__NR_close, sock, 0, 0);
  long err = sys3(__NR_execve, argv[5], argv + 6, envp);
  die("exec", argv[5], -err, err == -2 ? 127 : 126);
}

#if defined(__x86_64__)
__asm__(".text\n.global _start\n_start:\n  mov %rsp, %rdi\n  and $-16, %rsp\n"
        "  call berth_exec_main\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n  mov x0, sp\n  bl berth_exec_main\n  brk #0\n");
#endif
