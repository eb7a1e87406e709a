// terminal: true with --console-socket: the runtime sends the pty master to our socket with
// SCM_RIGHTS; the container's stdio is the pty slave (isatty, /dev/console), input written
// to the master reaches the process, and its output comes back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "berth/base/strings.h"
#include "harness/console.h"
#include "harness/fixture.h"

namespace berth::itest {
namespace {

using ::testing::HasSubstr;

class ConsoleTest : public RuntimeTest {
 protected:
  // Creates `id` with a terminal and returns the pty master; the socket lives in dir().
  UniqueFd CreateWithConsole(const std::string& id, const std::vector<std::string>& args,
                             CommandResult* create = nullptr) {
    bundle().spec()["process"]["terminal"] = true;
    SetArgs(bundle().spec(), args);
    EXPECT_TRUE(bundle().Write().has_value());
    auto sock = ConsoleSocket::Listen(dir() + "/console.sock");
    EXPECT_TRUE(sock.has_value()) << sock.error().message();
    if (!sock) return UniqueFd();
    CommandResult c = rt().Create(id, bundle().dir(), {"--console-socket", sock->path()});
    EXPECT_TRUE(c.ok()) << c.Describe();
    if (create) *create = c;
    if (!c.ok()) return UniqueFd();
    auto master = sock->ReceiveMaster(std::chrono::seconds(5));
    EXPECT_TRUE(master.has_value()) << master.error().message();
    return master ? std::move(*master) : UniqueFd();
  }
};

TEST_F(ConsoleTest, PtyMasterArrivesAndCarriesStdio) {
  std::string id = NewId();
  UniqueFd master = CreateWithConsole(id, {"/probe", "tty", "echo"});
  ASSERT_TRUE(master.valid());
  ASSERT_TRUE(rt().Start(id).ok());
  std::string out = ReadUntil(
      master.get(),
      [](const std::string& t) {
        return t.find("\"isatty\"") != std::string::npos && t.find('\n') != std::string::npos;
      },
      std::chrono::seconds(10));
  Json tty = ProbeLine(out, "tty");
  ASSERT_TRUE(tty.value("ok", false)) << "no tty report through the pty: " << out;
  EXPECT_EQ(tty["isatty"], Json({true, true, true}));
  EXPECT_THAT(tty["ttyname"].get<std::string>(), HasSubstr("/dev/pts/"));
  EXPECT_EQ(tty["tcgetsid"], tty["sid"]) << "the pty is not the controlling terminal";

  const std::string line = "hello-from-test\n";
  ASSERT_EQ(::write(master.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
  std::string more = ReadUntil(
      master.get(),
      [](const std::string& t) {
        return t.find("\"read\"") != std::string::npos && t.rfind('\n') > t.find("\"read\"");
      },
      std::chrono::seconds(10));
  EXPECT_EQ(ProbeLine(more, "tty")["read"], "hello-from-test") << more;
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(ConsoleTest, DevConsoleIsThePty) {
  std::string id = NewId();
  UniqueFd master = CreateWithConsole(id, Sh("/probe stat /dev/console; /probe report mounts"));
  ASSERT_TRUE(master.valid());
  ASSERT_TRUE(rt().Start(id).ok());
  std::string out = ReadUntil(
      master.get(),
      [](const std::string& t) {
        return t.find("\"report\"") != std::string::npos && t.rfind('\n') > t.find("\"report\"");
      },
      std::chrono::seconds(10));
  Json st = ProbeLine(out, "stat");
  ASSERT_TRUE(st.value("ok", false)) << out;
  EXPECT_EQ(st["type"], "char");
  EXPECT_EQ(st["rdev_major"], 136) << "/dev/console must be the container's pty slave";
  Json console = MountAt(ProbeLine(out, "report"), "/dev/console");
  EXPECT_FALSE(console.is_null()) << "/dev/console is bind-mounted from the pty";
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(ConsoleTest, ConsoleSize) {
  bundle().spec()["process"]["consoleSize"] = {{"height", 40}, {"width", 123}};
  std::string id = NewId();
  UniqueFd master = CreateWithConsole(id, {"/probe", "tty"});
  ASSERT_TRUE(master.valid());
  ASSERT_TRUE(rt().Start(id).ok());
  std::string out = ReadUntil(
      master.get(), [](const std::string& t) { return t.find('\n') != std::string::npos; },
      std::chrono::seconds(10));
  Json tty = ProbeLine(out, "tty");
  ASSERT_TRUE(tty.value("ok", false)) << out;
  struct winsize ws = {};
  ASSERT_EQ(::ioctl(master.get(), TIOCGWINSZ, &ws), 0);
  EXPECT_EQ(tty["rows"], ws.ws_row);
  if (RuntimeIsRunc() && ws.ws_row == 0) {
    GTEST_SKIP() << "runc 1.1 leaves the window size to the console-socket receiver";
  }
  EXPECT_EQ(tty["rows"], 40);
  EXPECT_EQ(tty["cols"], 123);
  EXPECT_EQ(rt().WaitForStatus(id, "stopped"), "stopped");
  EXPECT_TRUE(rt().Delete(id).ok());
  ExpectNoLeaks();
}

TEST_F(ConsoleTest, TerminalWithoutConsoleSocketFailsDetached) {
  bundle().spec()["process"]["terminal"] = true;
  std::string id = NewId();
  ASSERT_TRUE(bundle().Write().has_value());
  CommandResult c = rt().Create(id, bundle().dir());
  EXPECT_NE(c.exit_code, 0) << "create with a terminal needs --console-socket";
  ExpectNoLeaks();
}

TEST_F(ConsoleTest, ExecWithTty) {
  std::string id = NewId();
  SetArgs(bundle().spec(), {"/probe", "sleep", "100"});
  CreateAndStart(id, bundle());
  auto sock = ConsoleSocket::Listen(dir() + "/exec-console.sock");
  ASSERT_TRUE(sock.has_value());
  CommandResult e =
      rt().Exec(id, {"/probe", "tty"}, {"--tty", "--detach", "--console-socket", sock->path()});
  ASSERT_TRUE(e.ok()) << e.Describe();
  auto master = sock->ReceiveMaster(std::chrono::seconds(5));
  ASSERT_TRUE(master.has_value()) << master.error().message();
  std::string out = ReadUntil(
      master->get(), [](const std::string& t) { return t.find('\n') != std::string::npos; },
      std::chrono::seconds(10));
  EXPECT_EQ(ProbeLine(out, "tty")["isatty"], Json({true, true, true})) << out;
  EXPECT_TRUE(rt().Delete(id, true).ok());
  ExpectNoLeaks();
}

}  // namespace
}  // namespace berth::itest
