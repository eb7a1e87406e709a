#include "template.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

std::string Render(std::string_view tmpl, const Json& data) {
  auto t = Template::Parse(tmpl);
  if (!t) return "PARSE ERROR: " + t.error().message();
  auto r = t->Render(data);
  if (!r) return "EXEC ERROR: " + r.error().message();
  return *r;
}

const Json kData = {
    {"Id", "abc"},
    {"Name", "/web"},
    {"State", {{"Status", "running"}, {"Pid", 42}, {"Running", true}}},
    {"Config", {{"Labels", {{"k", "v"}, {"a.b", "c"}}}, {"Env", {"A=1", "B=2"}}}},
    {"Mounts", Json::array({{{"Source", "/s1"}}, {{"Source", "/s2"}}})},
    {"Empty", Json::array()},
    {"Null", nullptr},
};

TEST(Template, FieldsAndText) {
  EXPECT_EQ(Render("id={{.Id}} {{.State.Status}} {{.State.Pid}}", kData), "id=abc running 42");
  EXPECT_EQ(Render("{{.State.Running}}", kData), "true");
  EXPECT_EQ(Render("{{.Nope}}", kData), "<no value>");
  EXPECT_EQ(Render("{{.Null}}", kData), "<nil>");
  EXPECT_EQ(Render("{{.Config.Env}}", kData), "[A=1 B=2]");
  EXPECT_EQ(Render("{{.Config.Labels}}", kData), "map[a.b:c k:v]");
  EXPECT_EQ(Render("plain", kData), "plain");
  EXPECT_EQ(Render("{{.}}", Json("x")), "x");
}

TEST(Template, Functions) {
  EXPECT_EQ(Render("{{json .State}}", kData), R"({"Pid":42,"Running":true,"Status":"running"})");
  EXPECT_EQ(Render("{{json .Nope}}", kData), "null");
  EXPECT_EQ(Render(R"({{index .Config.Labels "a.b"}})", kData), "c");
  EXPECT_EQ(Render(R"({{index .Config.Labels "missing"}})", kData), "");
  EXPECT_EQ(Render("{{index .Config.Env 1}}", kData), "B=2");
  EXPECT_EQ(Render(R"({{join .Config.Env ","}})", kData), "A=1,B=2");
  EXPECT_EQ(Render("{{upper .State.Status}}", kData), "RUNNING");
  EXPECT_EQ(Render("{{.State.Status | upper}}", kData), "RUNNING");
  EXPECT_EQ(Render("{{len .Config.Env}}", kData), "2");
  EXPECT_EQ(Render(R"({{printf "%s-%d" .Id .State.Pid}})", kData), "abc-42");
  EXPECT_EQ(Render(R"({{printf "%-5s|" .Id}})", kData), "abc  |");
  EXPECT_EQ(Render(R"({{.Config.Label "k"}})", kData), "v");
  EXPECT_EQ(Render(R"({{index (split "a:b" ":") 1}})", kData), "b");
}

TEST(Template, Control) {
  EXPECT_EQ(Render("{{if .State.Running}}up{{else}}down{{end}}", kData), "up");
  EXPECT_EQ(Render("{{if .Empty}}x{{else}}none{{end}}", kData), "none");
  EXPECT_EQ(
      Render(
          R"({{if eq .State.Status "exited"}}e{{else if eq .State.Status "running"}}r{{else}}?{{end}})",
          kData),
      "r");
  EXPECT_EQ(Render("{{range .Mounts}}{{.Source}};{{end}}", kData), "/s1;/s2;");
  EXPECT_EQ(Render("{{range .Empty}}x{{else}}empty{{end}}", kData), "empty");
  EXPECT_EQ(Render("{{with .State}}{{.Pid}}{{end}}", kData), "42");
  EXPECT_EQ(Render("{{range .Mounts}}{{$.Id}}{{end}}", kData), "abcabc");
  EXPECT_EQ(Render("a  {{- .Id -}}  b", kData), "aabcb");
  EXPECT_EQ(Render("{{/* comment */}}x", kData), "x");
}

TEST(Template, Errors) {
  EXPECT_TRUE(Render("{{.Id", kData).starts_with("PARSE ERROR"));
  EXPECT_TRUE(Render("{{if .Id}}x", kData).starts_with("PARSE ERROR"));
  EXPECT_TRUE(Render("{{end}}", kData).starts_with("PARSE ERROR"));
  EXPECT_TRUE(Render("{{nosuch .Id}}", kData).starts_with("EXEC ERROR"));
  EXPECT_TRUE(Render(R"({{"unterminated}})", kData).starts_with("PARSE ERROR"));
}

}  // namespace
}  // namespace berth::cli
