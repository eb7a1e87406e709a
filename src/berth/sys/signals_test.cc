#include "berth/sys/signals.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace berth::sys {
namespace {

TEST(SignalsTest, ParsesNamesAndNumbers) {
  EXPECT_EQ(*ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("sigterm"), SIGTERM);
  EXPECT_EQ(*ParseSignal("9"), 9);
  EXPECT_EQ(*ParseSignal("RTMIN+2"), SIGRTMIN + 2);
  EXPECT_EQ(*ParseSignal("SIGRTMAX-1"), SIGRTMAX - 1);
}

TEST(SignalsTest, RejectsUnknown) {
  EXPECT_FALSE(ParseSignal("NOPE").has_value());
  EXPECT_FALSE(ParseSignal("0").has_value());
  EXPECT_FALSE(ParseSignal("999").has_value());
  EXPECT_FALSE(ParseSignal("").has_value());
  EXPECT_EQ(ParseSignal("FOO").error().message(), "unknown signal `FOO`");
}

TEST(SignalsTest, Names) {
  EXPECT_EQ(SignalName(SIGTERM), "SIGTERM");
  EXPECT_EQ(SignalName(SIGRTMIN + 3), "SIGRTMIN+3");
}

}  // namespace
}  // namespace berth::sys
