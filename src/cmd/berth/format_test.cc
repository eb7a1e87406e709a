#include "format.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

constexpr int64_t kSec = 1000000000;

TEST(HumanSize, SiThreeDigits) {
  EXPECT_EQ(HumanSize(0), "0B");
  EXPECT_EQ(HumanSize(999), "999B");
  EXPECT_EQ(HumanSize(1000), "1kB");
  EXPECT_EQ(HumanSize(1234), "1.23kB");
  EXPECT_EQ(HumanSize(4261376), "4.26MB");
  EXPECT_EQ(HumanSize(72900000), "72.9MB");
  EXPECT_EQ(HumanSize(1.5e9), "1.5GB");
}

TEST(BytesSize, BinaryFourDigits) {
  EXPECT_EQ(BytesSize(0), "0B");
  EXPECT_EQ(BytesSize(1536 * 1024), "1.5MiB");
  EXPECT_EQ(BytesSize(8221000000.0), "7.656GiB");
}

TEST(HumanDuration, DockerThresholds) {
  EXPECT_EQ(HumanDuration(0), "Less than a second");
  EXPECT_EQ(HumanDuration(kSec), "1 second");
  EXPECT_EQ(HumanDuration(59 * kSec), "59 seconds");
  EXPECT_EQ(HumanDuration(60 * kSec), "About a minute");
  EXPECT_EQ(HumanDuration(119 * kSec), "About a minute");
  EXPECT_EQ(HumanDuration(120 * kSec), "2 minutes");
  EXPECT_EQ(HumanDuration(59 * 60 * kSec), "59 minutes");
  EXPECT_EQ(HumanDuration(60 * 60 * kSec), "About an hour");
  EXPECT_EQ(HumanDuration(3 * 3600 * kSec), "3 hours");
  EXPECT_EQ(HumanDuration(3 * 24 * 3600 * kSec), "3 days");
  EXPECT_EQ(HumanDuration(15 * 24 * 3600 * kSec), "2 weeks");
  EXPECT_EQ(HumanDuration(90 * 24 * 3600 * kSec), "3 months");
  EXPECT_EQ(HumanDuration(3 * 365 * 24 * 3600 * kSec), "3 years");
}

TEST(ContainerStatus, DockerWording) {
  int64_t now = 1000 * kSec;
  EXPECT_EQ(ContainerStatusText({"created", 0, 0, 0, ""}, now), "Created");
  EXPECT_EQ(ContainerStatusText({"running", now - 3 * kSec, 0, 0, ""}, now), "Up 3 seconds");
  EXPECT_EQ(ContainerStatusText({"paused", now - 3 * kSec, 0, 0, ""}, now),
            "Up 3 seconds (Paused)");
  EXPECT_EQ(ContainerStatusText({"running", now - 3 * kSec, 0, 0, "starting"}, now),
            "Up 3 seconds (health: starting)");
  EXPECT_EQ(ContainerStatusText({"running", now - 3 * kSec, 0, 0, "healthy"}, now),
            "Up 3 seconds (healthy)");
  EXPECT_EQ(ContainerStatusText({"exited", now - 9 * kSec, now - 5 * kSec, 0, ""}, now),
            "Exited (0) 5 seconds ago");
  EXPECT_EQ(ContainerStatusText({"exited", now - 9 * kSec, now - 5 * kSec, 137, ""}, now),
            "Exited (137) 5 seconds ago");
  EXPECT_EQ(ContainerStatusText({"dead", 0, 0, 0, ""}, now), "Dead");
}

TEST(Text, QuoteEllipsisIds) {
  EXPECT_EQ(GoQuote("sh -c 'echo \"x\"'"), "\"sh -c 'echo \\\"x\\\"'\"");
  EXPECT_EQ(GoQuote("a\tb\n\x01"), "\"a\\tb\\n\\x01\"");
  EXPECT_EQ(GoQuote("caf\u00e9"), "\"caf\u00e9\"");
  EXPECT_EQ(Ellipsis("short", 20), "short");
  EXPECT_EQ(Ellipsis("sleep 1000000000000000000", 20), "sleep 1000000000000\u2026");
  EXPECT_EQ(DisplayWidth(Ellipsis("sleep 1000000000000000000", 20)), 20u);
  EXPECT_EQ(TruncateId("sha256:0123456789abcdef0123"), "0123456789ab");
  EXPECT_EQ(TruncateId("0123456789abcdef0123"), "0123456789ab");
  EXPECT_EQ(DockerTime(0), "1970-01-01 00:00:00 +0000 UTC");
}

TEST(Labels, ObjectAndString) {
  Json l = {{"b", "2"}, {"a", "1"}};
  EXPECT_EQ(LabelsString(l), "a=1,b=2");
  EXPECT_EQ(LabelValue(l, "b"), "2");
  EXPECT_EQ(LabelValue(Json("a=1,b=2"), "a"), "1");
  EXPECT_EQ(LabelValue(l, "zz"), "");
}

TEST(TabWrite, DockerColumns) {
  std::string out = TabWrite({"CONTAINER ID\tIMAGE\tNAMES", "0123456789ab\tbusybox\tweb"});
  EXPECT_EQ(out,
            "CONTAINER ID   IMAGE     NAMES\n"
            "0123456789ab   busybox   web\n");
  // A wide cell widens its whole column; unicode counts as one character.
  out = TabWrite({"A\tB", "a-rather-long-cell\u2026\tx"});
  EXPECT_EQ(out, "A                     B\na-rather-long-cell\u2026   x\n");
}

TEST(FormatList, TableJsonTemplate) {
  ListFormat lf{"table {{.ID}}\\t{{.Name}}", Json{{"ID", "CONTAINER ID"}, {"Name", "NAME"}}};
  std::vector<Json> rows = {Json{{"ID", "abc"}, {"Name", "web"}, {"Size", 3}}};
  EXPECT_EQ(*FormatList("", rows, lf), "CONTAINER ID   NAME\nabc            web\n");
  EXPECT_EQ(*FormatList("table", rows, lf), "CONTAINER ID   NAME\nabc            web\n");
  EXPECT_EQ(*FormatList("table {{.Name}}\\t{{.Size}}", rows, lf), "NAME      SIZE\nweb       3\n");
  EXPECT_EQ(*FormatList("{{.Name}}:{{.ID}}", rows, lf), "web:abc\n");
  EXPECT_EQ(*FormatList("json", rows, lf), "{\"ID\":\"abc\",\"Name\":\"web\",\"Size\":3}\n");
  EXPECT_FALSE(FormatList("{{.Name", rows, lf).has_value());
}

TEST(FormatInspect, ArrayAndTemplate) {
  std::vector<Json> objs = {Json{{"Id", "x"}, {"State", {{"Status", "running"}}}}};
  EXPECT_EQ(*FormatInspect("{{.State.Status}}", objs), "running\n");
  EXPECT_EQ(*FormatInspect("", objs),
            "[\n    {\n        \"Id\": \"x\",\n        \"State\": {\n            \"Status\": "
            "\"running\"\n        }\n    }\n]\n");
}

}  // namespace
}  // namespace berth::cli
