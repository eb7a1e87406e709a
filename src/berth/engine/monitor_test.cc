// Runs the real berth-monitor (found by MonitorBinaryPath(): $BERTH_MONITOR, or the build tree)
// over a fake "init": a shell the test forks from the process that then execs the monitor,
// so the monitor is its parent, as in `berth run`. No root needed.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"
#include "berth/engine/attach.h"
#include "berth/engine/logs.h"
#include "berth/engine/monitor/monitor_protocol.h"
#include "berth/engine/monitor_launch.h"

namespace berth::engine {
namespace {

using namespace std::chrono_literals;

struct Workload {
  std::string script;  // run by /bin/sh -c
  bool tty = false;
  bool stdin_pipe = false;
  bool shuffle_fds = false;  // put the fds on 3-6 in the wrong order before ExecMonitor
};

class MonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-monitor-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    config_.id = "c1";
    config_.run_dir = dir_;
    config_.log_path = dir_ + "/ctr.log";
  }
  void TearDown() override {
    if (monitor_pid_ > 0) {
      kill(monitor_pid_, SIGKILL);
      waitpid(monitor_pid_, nullptr, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  // Forks P; P forks the workload W and execs the monitor over it. Returns the ready status.
  Status Launch(const Workload& w) {
    int ready[2];
    if (pipe2(ready, O_CLOEXEC) < 0) return ErrnoFail("pipe");
    pid_t p = fork();
    if (p < 0) return ErrnoFail("fork");
    if (p == 0) {
      close(ready[0]);
      RunMonitorSide(w, ready[1]);
    }
    monitor_pid_ = p;
    close(ready[1]);
    UniqueFd r(ready[0]);
    return WaitMonitorReady(r.get(), 5s);
  }

  [[noreturn]] void RunMonitorSide(const Workload& w, int ready_fd) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    int master = -1, slave = -1;
    if (w.tty) {
      if (openpty(&master, &slave, nullptr, nullptr, nullptr) < 0) _exit(90);
      fcntl(master, F_SETFD, FD_CLOEXEC);
      fcntl(slave, F_SETFD, FD_CLOEXEC);
    } else {
      if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) _exit(90);
      if (w.stdin_pipe && pipe2(in, O_CLOEXEC) < 0) _exit(90);
    }
    pid_t child = fork();
    if (child == 0) {
      setsid();
      if (w.tty) {
        ioctl(slave, TIOCSCTTY, 0);
        for (int fd = 0; fd < 3; fd++) dup2(slave, fd);
      } else {
        int null_fd = open("/dev/null", O_RDONLY);
        dup2(w.stdin_pipe ? in[0] : null_fd, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
      }
      execl("/bin/sh", "sh", "-c", w.script.c_str(), nullptr);
      _exit(127);
    }
    MonitorConfig c = config_;
    c.init_pid = child;
    c.ready_fd = ready_fd;
    if (w.tty) {
      close(slave);
      c.tty = true;
      c.open_stdin = true;
      c.stdout_fd = master;
    } else {
      close(out[1]);
      close(err[1]);
      if (w.stdin_pipe) close(in[0]);
      c.stdin_fd = in[1];
      c.stdout_fd = out[0];
      c.stderr_fd = err[0];
    }
    if (w.shuffle_fds) {
      // stdout on 6, stderr on 3, ready on 4, stdin on 5: every move collides.
      const int src[4] = {c.stdout_fd, c.stderr_fd, c.ready_fd, c.stdin_fd};
      const int dst[4] = {6, 3, 4, 5};
      int tmp[4];
      for (int i = 0; i < 4; i++) tmp[i] = src[i] < 0 ? -1 : fcntl(src[i], F_DUPFD_CLOEXEC, 20);
      for (int i = 0; i < 4; i++)
        if (tmp[i] >= 0) dup2(tmp[i], dst[i]);
      c.stdout_fd = 6;
      c.stderr_fd = 3;
      c.ready_fd = 4;
      c.stdin_fd = tmp[3] < 0 ? -1 : 5;
    }
    ExecMonitor(c);
  }

  // Waits for the monitor process (its exit command included) and returns its wait status.
  int WaitMonitor() {
    int status = -1;
    for (int i = 0; i < 1000; i++) {
      if (waitpid(monitor_pid_, &status, WNOHANG) == monitor_pid_) {
        monitor_pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "monitor did not exit";
    return -1;
  }

  std::string Read(const std::string& name) {
    auto s = ReadFile(dir_ + "/" + name);
    return s ? *s : "<missing " + name + ">";
  }

  std::string dir_;
  MonitorConfig config_;
  pid_t monitor_pid_ = -1;
};

// What a raw client received until EOF.
struct Received {
  std::string out, err;
  std::optional<berth_monitor_exit> exit;
  bool eof = false;
};

Received ReceiveAll(int sock, std::chrono::milliseconds timeout = 10s) {
  Received r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[1 + BERTH_MONITOR_MAX_PAYLOAD];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p = {sock, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    ssize_t n = recv(sock, buf, sizeof buf, 0);
    if (n <= 0) {
      r.eof = true;
      break;
    }
    if (buf[0] == BERTH_MSG_STDOUT) r.out.append(buf + 1, static_cast<size_t>(n - 1));
    if (buf[0] == BERTH_MSG_STDERR) r.err.append(buf + 1, static_cast<size_t>(n - 1));
    if (buf[0] == BERTH_MSG_EXIT) {
      berth_monitor_exit ex;
      memcpy(&ex, buf + 1, sizeof ex);
      r.exit = ex;
    }
  }
  return r;
}

std::vector<std::string> Lines(const std::string& s) { return SplitNonEmpty(s, '\n'); }

TEST_F(MonitorTest, PipesLogExitFileAndExitCommand) {
  config_.exit_command = {"/bin/sh", "-c",
                          "sleep 0.2; echo $BERTH_MONITOR_EXIT_CODE > " + dir_ + "/done"};
  ASSERT_TRUE(Launch({.script = "read x; echo got $x; echo err >&2; printf tail; exit 3",
                      .stdin_pipe = true}).has_value());
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value()) << sock.error().message();

  int in[2];
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(write(in[1], "hello\n", 6), 6);
  close(in[1]);
  UniqueFd in_r(in[0]);
  std::string out_path = dir_ + "/out", err_path = dir_ + "/err";
  UniqueFd out(open(out_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  UniqueFd err(open(err_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  AttachOptions o;
  o.attach_stdin = true;
  o.in_fd = in_r.get();
  o.out_fd = out.get();
  o.err_fd = err.get();
  auto code = RelayAttach(sock->get(), o);
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, std::optional<int>(3));
  // EOF came only after the exit command had run.
  EXPECT_EQ(Read("done"), "3\n");
  EXPECT_EQ(*ReadFile(out_path), "got hello\ntail");
  EXPECT_EQ(*ReadFile(err_path), "err\n");

  auto lines = Lines(Read("ctr.log"));
  ASSERT_EQ(lines.size(), 3u) << Read("ctr.log");
  std::regex re(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) [FP] .*$)");
  for (const auto& l : lines) EXPECT_TRUE(std::regex_match(l, re)) << l;
  EXPECT_TRUE(lines[0].ends_with(" stdout F got hello"));
  EXPECT_TRUE(lines[1].ends_with(" stderr F err"));
  EXPECT_TRUE(lines[2].ends_with(" stdout P tail"));  // the stream ended without a newline

  auto exit = ReadExitFile(dir_);
  ASSERT_TRUE(exit.has_value()) << exit.error().message();
  ASSERT_TRUE(exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 3);
  EXPECT_EQ((*exit)->signal, 0);
  EXPECT_TRUE(ParseRfc3339Nano((*exit)->started_at).has_value()) << (*exit)->started_at;
  EXPECT_GE(*ParseRfc3339Nano((*exit)->finished_at), *ParseRfc3339Nano((*exit)->started_at));
  EXPECT_FALSE(PathExists(dir_ + "/attach"));
  EXPECT_FALSE(PathExists(dir_ + "/monitor.log")) << Read("monitor.log");
  int st = WaitMonitor();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
}

// The berth command that launched the monitor dies before it starts the container: the
// monitor opens the exec fifo itself (releasing the "init", here a shell blocked opening it
// for writing) and runs the started command. While that command lives, it does not.
TEST_F(MonitorTest, StartsTheContainerWhenItsClientDies) {
  std::string fifo = dir_ + "/exec.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  config_.start_fifo = fifo;
  config_.started_command = {"/bin/sh", "-c", StrCat("echo recorded > ", dir_, "/started")};
  Workload w;
  w.script = StrCat("echo 0 > ", fifo, "; echo ran > ", dir_, "/ran");
  int ready[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  pid_t client = fork();  // the client; the monitor side is its child
  ASSERT_GE(client, 0);
  if (client == 0) {
    pid_t p = fork();
    if (p == 0) {
      config_.client_pid = getppid();
      close(ready[0]);
      RunMonitorSide(w, ready[1]);
    }
    for (;;) pause();
  }
  close(ready[1]);
  UniqueFd r(ready[0]);
  ASSERT_TRUE(WaitMonitorReady(r.get(), 5s).has_value());
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(PathExists(dir_ + "/ran")) << "started while its client was alive";
  kill(client, SIGKILL);
  waitpid(client, nullptr, 0);
  for (int i = 0; i < 100 && !(PathExists(dir_ + "/ran") && PathExists(dir_ + "/started")); i++)
    std::this_thread::sleep_for(50ms);
  EXPECT_TRUE(PathExists(dir_ + "/ran")) << "the container was never started";
  EXPECT_TRUE(PathExists(dir_ + "/started")) << "the started command did not run";
  EXPECT_FALSE(PathExists(fifo)) << "the fifo outlived the start";
}

TEST_F(MonitorTest, KilledBySignalAndFdsInAnyOrder) {
  // It waits for input, as a real init waits for start, so that the client is attached first.
  ASSERT_TRUE(Launch({.script = "read x; echo before; kill -TERM $$", .stdin_pipe = true,
                      .shuffle_fds = true}).has_value());
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value()) << sock.error().message();
  ASSERT_TRUE(SendAttachMessage(sock->get(), BERTH_MSG_STDIN, "\n").has_value());
  Received r = ReceiveAll(sock->get());
  EXPECT_TRUE(r.eof);
  ASSERT_TRUE(r.exit.has_value());
  EXPECT_EQ(r.exit->exit_code, 143);
  EXPECT_EQ(r.exit->signal, SIGTERM);
  auto exit = ReadExitFile(dir_);
  ASSERT_TRUE(exit.has_value() && exit->has_value());
  EXPECT_EQ((*exit)->exit_code, 143);
  EXPECT_EQ((*exit)->signal, SIGTERM);
  EXPECT_TRUE(Read("ctr.log").ends_with(" stdout F before\n")) << Read("ctr.log");
  int st = WaitMonitor();
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;  // no exit command
}

TEST_F(MonitorTest, CloseStdinAndNoClient) {
  ASSERT_TRUE(Launch({.script = "cat; echo eof-seen", .stdin_pipe = true}).has_value());
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value());
  ASSERT_TRUE(SendAttachMessage(sock->get(), BERTH_MSG_STDIN, "abc\n").has_value());
  ASSERT_TRUE(SendAttachMessage(sock->get(), BERTH_MSG_CLOSE_STDIN).has_value());
  Received r = ReceiveAll(sock->get());
  EXPECT_EQ(r.out, "abc\neof-seen\n");
  ASSERT_TRUE(r.exit.has_value());
  EXPECT_EQ(r.exit->exit_code, 0);
  WaitMonitor();
}

TEST_F(MonitorTest, LogRotation) {
  config_.log_max_size = 1000;
  config_.log_max_file = 3;
  ASSERT_TRUE(Launch({.script = "i=0; while [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done"})
                  .has_value());
  WaitMonitor();
  for (const char* f : {"ctr.log", "ctr.log.1", "ctr.log.2"}) {
    std::string s = Read(f);
    EXPECT_FALSE(s.starts_with("<missing")) << f;
    EXPECT_LE(s.size(), 1000u) << f;
  }
  EXPECT_FALSE(PathExists(dir_ + "/ctr.log.3"));
  EXPECT_TRUE(Read("ctr.log").ends_with(" stdout F line-199\n"));

  // What is left is a contiguous run of lines ending with the last one.
  std::string out_path = dir_ + "/out";
  UniqueFd out(open(out_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(ReadLogs(config_.log_path, 3, {}, [] { return false; }, out.get(), out.get())
                  .has_value());
  auto lines = Lines(*ReadFile(out_path));
  ASSERT_GT(lines.size(), 10u);
  int first = std::stoi(lines[0].substr(5));
  for (size_t i = 0; i < lines.size(); i++) EXPECT_EQ(lines[i], StrCat("line-", first + i));
  EXPECT_EQ(lines.back(), "line-199");
}

TEST_F(MonitorTest, TtyResizeAndInput) {
  ASSERT_TRUE(Launch({.script = "read x; stty size; echo got:$x; exit 5", .tty = true})
                  .has_value());
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value());
  berth_monitor_winsize ws = {33, 77};
  ASSERT_TRUE(SendAttachMessage(sock->get(), BERTH_MSG_RESIZE,
                                std::string_view(reinterpret_cast<char*>(&ws), sizeof ws))
                  .has_value());
  ASSERT_TRUE(SendAttachMessage(sock->get(), BERTH_MSG_STDIN, "go\n").has_value());
  Received r = ReceiveAll(sock->get());
  EXPECT_NE(r.out.find("33 77"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("got:go"), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
  ASSERT_TRUE(r.exit.has_value());
  EXPECT_EQ(r.exit->exit_code, 5);
  std::string log = Read("ctr.log");
  EXPECT_EQ(log.find(" stderr "), std::string::npos) << log;
  EXPECT_NE(log.find(" stdout F got:go\r"), std::string::npos) << log;
  WaitMonitor();
}

TEST_F(MonitorTest, BackgroundProcessHoldingTheOutputDoesNotDelayExit) {
  ASSERT_TRUE(Launch({.script = "sleep 5 & echo fg; exit 0"}).has_value());
  auto start = std::chrono::steady_clock::now();
  WaitMonitor();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_TRUE(Read("ctr.log").ends_with(" stdout F fg\n"));
}

TEST_F(MonitorTest, HealthChecksRunEveryInterval) {
  config_.health_interval_ns = 50'000'000;
  config_.health_cmd = {"/bin/sh", "-c", "echo check >> " + dir_ + "/health"};
  ASSERT_TRUE(Launch({.script = "sleep 0.6"}).has_value());
  WaitMonitor();
  size_t checks = Lines(Read("health")).size();
  EXPECT_GE(checks, 4u);
  EXPECT_LE(checks, 12u);
}

TEST_F(MonitorTest, IdleRss) {
  ASSERT_TRUE(Launch({.script = "sleep 30", .stdin_pipe = true}).has_value());
  auto sock = ConnectAttach(dir_);  // one attached client, as a foreground run has
  ASSERT_TRUE(sock.has_value());
  std::this_thread::sleep_for(200ms);
  std::string status = *ReadFile(StrCat("/proc/", monitor_pid_, "/status"));
  auto pos = status.find("VmRSS:");
  ASSERT_NE(pos, std::string::npos);
  long rss_kb = std::stol(status.substr(pos + 6));
  std::cout << "idle berth-monitor VmRSS: " << rss_kb << " kB\n";
  EXPECT_LT(rss_kb, 600);

  // The workload is the monitor's only child; killing it ends the monitor.
  std::string children =
      *ReadFile(StrCat("/proc/", monitor_pid_, "/task/", monitor_pid_, "/children"));
  ASSERT_FALSE(Trim(children).empty());
  kill(std::stoi(children), SIGKILL);
  Received r = ReceiveAll(sock->get());
  ASSERT_TRUE(r.exit.has_value());
  EXPECT_EQ(r.exit->exit_code, 137);
  WaitMonitor();
}

TEST_F(MonitorTest, SlowClientGetsEverything) {
  ASSERT_TRUE(Launch({.script = "read x; seq 1 200000", .stdin_pipe = true}).has_value());
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value());
  ASSERT_TRUE(SendAttachMessage(sock->get(), BERTH_MSG_STDIN, "\n").has_value());
  std::this_thread::sleep_for(500ms);  // the socket buffer fills; the monitor must wait
  Received r = ReceiveAll(sock->get(), 30s);
  ASSERT_TRUE(r.exit.has_value());
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 200000u);
  EXPECT_EQ(lines.front(), "1");
  EXPECT_EQ(lines.back(), "200000");
  EXPECT_EQ(Lines(Read("ctr.log")).size(), 200000u);
}

// RelayAttach against a local pty standing in for the user's terminal.
class LocalTerminal {
 public:
  LocalTerminal() {
    winsize ws = {40, 100, 0, 0};
    EXPECT_EQ(openpty(&master_, &slave_, nullptr, nullptr, &ws), 0);
  }
  ~LocalTerminal() {
    close(master_);
    close(slave_);
  }
  int master() const { return master_; }
  int slave() const { return slave_; }
  bool canonical() const {
    termios t;
    return tcgetattr(slave_, &t) == 0 && (t.c_lflag & ICANON);
  }
  std::string Drain() {
    std::string s;
    char buf[4096];
    pollfd p = {master_, POLLIN, 0};
    while (poll(&p, 1, 100) > 0) {
      ssize_t n = read(master_, buf, sizeof buf);
      if (n <= 0) break;
      s.append(buf, static_cast<size_t>(n));
    }
    return s;
  }

 private:
  int master_ = -1, slave_ = -1;
};

TEST_F(MonitorTest, RelayAttachWithLocalTerminal) {
  ASSERT_TRUE(Launch({.script = "read x; stty size; echo got:$x; exit 4", .tty = true})
                  .has_value());
  LocalTerminal term;
  ASSERT_TRUE(term.canonical());
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value());
  AttachOptions o;
  o.attach_stdin = true;
  o.tty = true;
  o.in_fd = o.out_fd = o.err_fd = term.slave();
  Result<std::optional<int>> code;
  std::thread relay([&] { code = RelayAttach(sock->get(), o); });
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(term.canonical());  // raw while attached
  ASSERT_EQ(write(term.master(), "hi\r", 3), 3);
  relay.join();
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_EQ(*code, std::optional<int>(4));
  EXPECT_TRUE(term.canonical());  // restored
  std::string out = term.Drain();
  EXPECT_NE(out.find("40 100"), std::string::npos) << out;  // the initial size was sent
  EXPECT_NE(out.find("got:hi"), std::string::npos) << out;
  WaitMonitor();
}

TEST_F(MonitorTest, DetachKeysLeaveTheContainerRunning) {
  ASSERT_TRUE(Launch({.script = "read x; echo got:$x", .tty = true}).has_value());
  LocalTerminal term;
  auto sock = ConnectAttach(dir_);
  ASSERT_TRUE(sock.has_value());
  AttachOptions o;
  o.attach_stdin = true;
  o.tty = true;
  o.in_fd = o.out_fd = o.err_fd = term.slave();
  bool detached = false;
  o.detached = &detached;
  Result<std::optional<int>> code;
  std::thread relay([&] { code = RelayAttach(sock->get(), o); });
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(write(term.master(), "a\x10" "b\x10\x11", 5), 5);  // ctrl-p b is not a detach
  relay.join();
  ASSERT_TRUE(code.has_value()) << code.error().message();
  EXPECT_FALSE(code->has_value());
  EXPECT_TRUE(detached);
  EXPECT_TRUE(term.canonical());
  sock->Reset();
  EXPECT_TRUE(PathExists(dir_ + "/attach"));  // still running
  // A new client finishes the line; what was typed before detaching arrived as well.
  auto again = ConnectAttach(dir_);
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(SendAttachMessage(again->get(), BERTH_MSG_STDIN, "c\n").has_value());
  Received r = ReceiveAll(again->get());
  ASSERT_TRUE(r.exit.has_value());
  WaitMonitor();
  EXPECT_NE(Read("ctr.log").find("got:a\x10" "bc\r"), std::string::npos) << Read("ctr.log");
}

TEST_F(MonitorTest, ExecFailureReachesTheReadyPipe) {
  config_.monitor_path = "/nonexistent/berth-monitor";
  auto st = Launch({.script = "exit 0"});
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("/nonexistent/berth-monitor"), std::string::npos)
      << st.error().message();
}

TEST_F(MonitorTest, SetupFailureReachesTheReadyPipe) {
  config_.run_dir = dir_ + "/missing";
  auto st = Launch({.script = "exit 0"});
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("chdir"), std::string::npos) << st.error().message();
}

TEST(MonitorLaunchTest, ArgvAndPaths) {
  MonitorConfig c;
  c.monitor_path = "/m";
  c.id = "x";
  c.run_dir = "/run/x";
  c.init_pid = 42;
  c.log_path = "/l";
  c.log_max_size = 10;
  c.log_max_file = 2;
  c.tty = true;
  c.health_interval_ns = 5;
  c.health_cmd = {"/b", "hc"};
  c.exit_command = {"/b", "cleanup"};
  EXPECT_EQ(Join(MonitorArgv(c), " "),
            "/m --id x --dir /run/x --pid 42 --log /l --log-max-size 10 --log-max-file 2 --tty "
            "--health-interval 5 --health-arg /b --health-arg hc -- /b cleanup");
  EXPECT_EQ(access(MonitorBinaryPath().c_str(), X_OK), 0) << MonitorBinaryPath();
  EXPECT_TRUE(ReadExitFile("/nonexistent").has_value());
  EXPECT_FALSE(ReadExitFile("/nonexistent")->has_value());
}

TEST(AttachTest, DetachKeysAndMissingSocket) {
  EXPECT_EQ(*ParseDetachKeys("ctrl-p,ctrl-q"), (std::vector<char>{0x10, 0x11}));
  EXPECT_EQ(*ParseDetachKeys("ctrl-a,x"), (std::vector<char>{0x01, 'x'}));
  EXPECT_TRUE(ParseDetachKeys("")->empty());
  EXPECT_FALSE(ParseDetachKeys("ctrl-").has_value());
  auto s = ConnectAttach("/nonexistent");
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace berth::engine
