// Tests of the container state JSON: the text matches what `runc state` printed on this host.
#include "berth/oci/state.h"

#include <gtest/gtest.h>

namespace berth::oci {
namespace {

State Running() {
  State s;
  s.oci_version = "1.0.2-dev";
  s.id = "berthocitest";
  s.pid = 7790;
  s.status = std::string(kStatusRunning);
  s.bundle = "/tmp/ocispec/bundle";
  s.rootfs = "/tmp/ocispec/bundle/rootfs";
  s.created = "2026-11-25T15:28:56.799680659Z";
  return s;
}

TEST(StateTest, TextMatchesRuncState) {
  // `runc state berthocitest` (runc 1.1.5), verbatim: two spaces, no final newline.
  EXPECT_EQ(StateToText(Running()), R"({
  "ociVersion": "1.0.2-dev",
  "id": "berthocitest",
  "pid": 7790,
  "status": "running",
  "bundle": "/tmp/ocispec/bundle",
  "rootfs": "/tmp/ocispec/bundle/rootfs",
  "created": "2026-11-25T15:28:56.799680659Z",
  "owner": ""
})");
}

TEST(StateTest, AnnotationsComeBeforeOwnerAndAreEscapedLikeGo) {
  State s = Running();
  s.id = "berthocitest2";
  s.pid = 7899;
  s.status = std::string(kStatusCreated);
  s.created = "2026-11-25T15:29:00.700054148Z";
  s.annotations = {{"org.example.b", "2"}, {"org.example.a", "x\"<&>"}};
  // `runc state berthocitest2` for a config with these two annotations, verbatim.
  EXPECT_EQ(StateToText(s), R"({
  "ociVersion": "1.0.2-dev",
  "id": "berthocitest2",
  "pid": 7899,
  "status": "created",
  "bundle": "/tmp/ocispec/bundle",
  "rootfs": "/tmp/ocispec/bundle/rootfs",
  "created": "2026-11-25T15:29:00.700054148Z",
  "annotations": {
    "org.example.a": "x\"\u003c\u0026\u003e",
    "org.example.b": "2"
  },
  "owner": ""
})");
}

TEST(StateTest, JsonHasRuncsMemberOrder) {
  State s = Running();
  s.annotations = {{"k", "v"}};
  OrderedJson j = StateToJson(s);
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  EXPECT_EQ(keys, (std::vector<std::string>{"ociVersion", "id", "pid", "status", "bundle", "rootfs",
                                            "created", "annotations", "owner"}));
  // Where order does not matter it converts to a plain Json.
  Json plain = StateToJson(s);
  EXPECT_EQ(plain["pid"], 7790);
}

TEST(StateTest, RoundTrips) {
  State s = Running();
  s.owner = "root";
  s.annotations = {{"a", "b"}};
  auto back = StateFromJson(StateToJson(s), "state.json");
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, s);
  auto bad = StateFromJson(Json::parse(R"({"pid": "1"})"), "state.json");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "state.json: pid: expected an integer, got a string");
}

TEST(StateTest, FormatCreatedIsGoRfc3339Nano) {
  EXPECT_EQ(FormatCreated({1795620536, 799680659}), "2026-11-25T15:28:56.799680659Z");
  // Go drops the fraction's trailing zeros, and the fraction when it is zero.
  EXPECT_EQ(FormatCreated({1795620536, 799680000}), "2026-11-25T15:28:56.79968Z");
  EXPECT_EQ(FormatCreated({1795620536, 0}), "2026-11-25T15:28:56Z");
  EXPECT_EQ(FormatCreated({0, 1}), "1970-01-01T00:00:00.000000001Z");
}

}  // namespace
}  // namespace berth::oci
