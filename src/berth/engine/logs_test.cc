#include "berth/engine/logs.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "berth/base/file.h"
#include "berth/base/strings.h"

namespace berth::engine {
namespace {

constexpr int64_t kSec = 1'000'000'000;

class LogsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-logs-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/ctr.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs ReadLogs with stdout and stderr captured in files.
  std::pair<std::string, std::string> Read(const LogOptions& o, int max_file = 1,
                                           std::function<bool()> running = [] { return false; }) {
    std::string out_path = dir_ + "/out", err_path = dir_ + "/err";
    UniqueFd out(open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    UniqueFd err(open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    auto st = ReadLogs(log_, max_file, o, running, out.get(), err.get());
    EXPECT_TRUE(st.has_value()) << st.error().message();
    return {*ReadFile(out_path), *ReadFile(err_path)};
  }

  std::string dir_, log_;
};

TEST(LogTimeTest, Rfc3339Nano) {
  EXPECT_EQ(*ParseRfc3339Nano("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseRfc3339Nano("2024-01-02T03:04:05.000000006Z"), 1704164645 * kSec + 6);
  EXPECT_EQ(*ParseRfc3339Nano("2024-01-02T03:04:05.5Z"), 1704164645 * kSec + kSec / 2);
  EXPECT_EQ(*ParseRfc3339Nano("2024-01-02T05:04:05+02:00"), 1704164645 * kSec);
  EXPECT_FALSE(ParseRfc3339Nano("2024-01-02T03:04:05").has_value());  // no zone
  EXPECT_FALSE(ParseRfc3339Nano("2024-13-02T03:04:05Z").has_value());
  EXPECT_FALSE(ParseRfc3339Nano("yesterday").has_value());
}

TEST(LogTimeTest, SinceUntilValues) {
  const int64_t now = 1'700'000'000 * kSec;
  EXPECT_EQ(*ParseLogTime("10m", now), now - 600 * kSec);
  EXPECT_EQ(*ParseLogTime("1h30m", now), now - 5400 * kSec);
  EXPECT_EQ(*ParseLogTime("1.5h", now), now - 5400 * kSec);
  EXPECT_EQ(*ParseLogTime("250ms", now), now - kSec / 4);
  EXPECT_EQ(*ParseLogTime("1600000000", now), 1'600'000'000 * kSec);
  EXPECT_EQ(*ParseLogTime("1600000000.25", now), 1'600'000'000 * kSec + kSec / 4);
  EXPECT_EQ(*ParseLogTime("0", now), 0);
  EXPECT_EQ(*ParseLogTime("2024-01-02T03:04:05Z", now), 1704164645 * kSec);
  EXPECT_EQ(*ParseLogTime("2024-01-02T03:04:05.25+00:00", now), 1704164645 * kSec + kSec / 4);
  // Zone-less values are local time.
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(*ParseLogTime("2024-01-02", now), 1704153600 * kSec);
  EXPECT_EQ(*ParseLogTime("2024-01-02T03:04", now), 1704164640 * kSec);
  EXPECT_FALSE(ParseLogTime("", now).has_value());
  EXPECT_FALSE(ParseLogTime("10x", now).has_value());
  EXPECT_FALSE(ParseLogTime("1.2.3", now).has_value());
  EXPECT_FALSE(ParseLogTime("2024-01-02T03:04:05Q", now).has_value());
}

TEST(LogRecordTest, Parse) {
  auto r = ParseLogRecord("2024-01-02T03:04:05.000000001Z stderr P hello world");
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_TRUE(r->is_stderr);
  EXPECT_TRUE(r->partial);
  EXPECT_EQ(r->content, "hello world");
  EXPECT_EQ(r->time_ns, 1704164645 * kSec + 1);
  auto empty = ParseLogRecord("2024-01-02T03:04:05Z stdout F ");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->content, "");
  EXPECT_FALSE(empty->partial);
  EXPECT_FALSE(ParseLogRecord("2024-01-02T03:04:05Z stdin F x").has_value());
  EXPECT_FALSE(ParseLogRecord("2024-01-02T03:04:05Z stdout X x").has_value());
  EXPECT_FALSE(ParseLogRecord("garbage").has_value());
}

TEST_F(LogsTest, StreamsPartialsAndTimestamps) {
  ASSERT_TRUE(WriteFile(log_,
                        "2024-01-02T03:04:05.000000001Z stdout F one\n"
                        "2024-01-02T03:04:06.000000000Z stderr P err-a\n"
                        "2024-01-02T03:04:07.000000000Z stdout F two\n"
                        "2024-01-02T03:04:08.000000000Z stderr F -b\n"
                        "this line is damaged\n"
                        "2024-01-02T03:04:09.000000000Z stdout P no newline")
                  .has_value());
  auto [out, err] = Read({});
  EXPECT_EQ(out, "one\ntwo\nno newline");
  EXPECT_EQ(err, "err-a-b\n");
  LogOptions ts;
  ts.timestamps = true;
  auto [out2, err2] = Read(ts);
  EXPECT_EQ(out2,
            "2024-01-02T03:04:05.000000001Z one\n2024-01-02T03:04:07.000000000Z two\n"
            "2024-01-02T03:04:09.000000000Z no newline");
  EXPECT_EQ(err2, "2024-01-02T03:04:06.000000000Z err-a-b\n");
}

TEST_F(LogsTest, RotatedFilesTailSinceUntil) {
  ASSERT_TRUE(WriteFile(log_ + ".2", "2024-01-02T03:04:01Z stdout F l1\n").has_value());
  ASSERT_TRUE(WriteFile(log_ + ".1", "2024-01-02T03:04:02Z stdout F l2\n"
                                     "2024-01-02T03:04:03Z stdout P l3-").has_value());
  ASSERT_TRUE(WriteFile(log_, "2024-01-02T03:04:04Z stdout F end\n"
                              "2024-01-02T03:04:05Z stdout F l4\n").has_value());
  EXPECT_EQ(Read({}, 3).first, "l1\nl2\nl3-end\nl4\n");
  EXPECT_EQ(Read({}, 2).first, "l2\nl3-end\nl4\n");  // log.2 is beyond max_file
  LogOptions tail;
  tail.tail = 2;
  EXPECT_EQ(Read(tail, 3).first, "l3-end\nl4\n");
  tail.tail = 0;
  EXPECT_EQ(Read(tail, 3).first, "");
  tail.tail = 100;
  EXPECT_EQ(Read(tail, 3).first, "l1\nl2\nl3-end\nl4\n");
  LogOptions window;
  window.since_ns = *ParseRfc3339Nano("2024-01-02T03:04:02Z");
  window.until_ns = *ParseRfc3339Nano("2024-01-02T03:04:03Z");
  EXPECT_EQ(Read(window, 3).first, "l2\nl3-end\n");  // a joined line has its first time
}

TEST_F(LogsTest, MissingLogIsEmpty) {
  auto [out, err] = Read({}, 3);
  EXPECT_EQ(out, "");
  EXPECT_EQ(err, "");
}

TEST_F(LogsTest, FollowAcrossRotationUntilStopped) {
  ASSERT_TRUE(WriteFile(log_, "2024-01-02T03:04:01Z stdout F first\n").has_value());
  std::atomic<bool> running = true;
  std::thread writer([&] {
    auto append = [&](const std::string& line) {
      UniqueFd fd(open(log_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
      ASSERT_EQ(write(fd.get(), line.data(), line.size()), static_cast<ssize_t>(line.size()));
    };
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    append("2024-01-02T03:04:02Z stdout F second\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    append("2024-01-02T03:04:03Z stderr P par\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // Rotation, as the monitor does it: the current file becomes log.1, a new one starts.
    std::filesystem::rename(log_, log_ + ".1");
    append("2024-01-02T03:04:04Z stderr F tial\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    append("2024-01-02T03:04:05Z stdout P last\n");
    running = false;
  });
  LogOptions follow;
  follow.follow = true;
  auto [out, err] = Read(follow, 2, [&] { return running.load(); });
  writer.join();
  EXPECT_EQ(out, "first\nsecond\nlast");
  EXPECT_EQ(err, "partial\n");
}

TEST_F(LogsTest, FollowWaitsForTheFile) {
  std::atomic<bool> running = true;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    ASSERT_TRUE(WriteFile(log_, "2024-01-02T03:04:01Z stdout F late\n").has_value());
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    running = false;
  });
  LogOptions follow;
  follow.follow = true;
  follow.tail = 0;
  auto [out, err] = Read(follow, 1, [&] { return running.load(); });
  writer.join();
  EXPECT_EQ(out, "late\n");
}

}  // namespace
}  // namespace berth::engine
