#include "berth/build/dockerfile.h"

#include <gtest/gtest.h>

#include "berth/base/strings.h"
#include "berth/build/shell_words.h"

namespace berth::build {
namespace {

using V = std::vector<std::string>;

Dockerfile Parse(std::string_view text) {
  auto df = ParseDockerfile(text);
  EXPECT_TRUE(df.has_value()) << df.error().message();
  return df.has_value() ? std::move(*df) : Dockerfile();
}

std::string Err(std::string_view text) {
  auto df = ParseDockerfile(text);
  EXPECT_FALSE(df.has_value()) << text;
  if (df.has_value()) return "";
  EXPECT_EQ(df.error().code(), ErrorCode::kInvalidArgument);
  return df.error().message();
}

// The instructions of the only stage.
std::vector<Instruction> Steps(std::string_view text) {
  Dockerfile df = Parse(text);
  EXPECT_EQ(df.stages.size(), 1u);
  return df.stages.empty() ? std::vector<Instruction>{} : df.stages[0].instructions;
}

Instruction One(std::string_view body) {
  std::vector<Instruction> s = Steps(StrCat("FROM scratch\n", body));
  EXPECT_EQ(s.size(), 1u) << body;
  return s.empty() ? Instruction() : s[0];
}

std::vector<KeyValue> KV(std::string_view body, char escape = '\\') {
  Instruction ins = One(body);
  auto kv = ParseKeyValues(ins, escape);
  EXPECT_TRUE(kv.has_value()) << kv.error().message();
  return kv.has_value() ? *kv : std::vector<KeyValue>{};
}

// ---- structure ----

TEST(Dockerfile, MinimalAndPositions) {
  Dockerfile df = Parse("FROM alpine:3.19\nRUN echo hi\n  CMD [\"sh\"]\n");
  EXPECT_EQ(df.path, "Dockerfile");
  EXPECT_EQ(df.escape, '\\');
  ASSERT_EQ(df.stages.size(), 1u);
  const Stage& s = df.stages[0];
  EXPECT_EQ(s.index, 0);
  EXPECT_EQ(s.base, "alpine:3.19");
  EXPECT_EQ(s.name, "");
  EXPECT_EQ(s.pos.line, 1);
  EXPECT_EQ(s.pos.column, 1);
  ASSERT_EQ(s.instructions.size(), 2u);
  EXPECT_EQ(s.instructions[0].keyword, "RUN");
  EXPECT_EQ(s.instructions[0].text, "echo hi");
  EXPECT_EQ(s.instructions[0].pos.line, 2);
  EXPECT_EQ(s.instructions[1].keyword, "CMD");
  EXPECT_EQ(s.instructions[1].pos.line, 3);
  EXPECT_EQ(s.instructions[1].pos.column, 3);
}

TEST(Dockerfile, KeywordsAreCaseInsensitive) {
  std::vector<Instruction> s = Steps("from alpine\nrun echo\nCoPy a b\nworkdir /x\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].keyword, "RUN");
  EXPECT_EQ(s[1].keyword, "COPY");
  EXPECT_EQ(s[2].keyword, "WORKDIR");
}

TEST(Dockerfile, EveryInstruction) {
  std::vector<Instruction> s = Steps(
      "FROM base\n"
      "RUN make\n"
      "CMD [\"app\"]\n"
      "LABEL a=b\n"
      "MAINTAINER someone <a@b.c>\n"
      "EXPOSE 80/tcp 443\n"
      "ENV K=v\n"
      "ADD a.tar /x/\n"
      "COPY a /b\n"
      "ENTRYPOINT [\"/entry\"]\n"
      "VOLUME /data\n"
      "USER app:app\n"
      "WORKDIR /srv\n"
      "ARG V=1\n"
      "ONBUILD RUN echo trig\n"
      "STOPSIGNAL SIGTERM\n"
      "HEALTHCHECK CMD true\n"
      "SHELL [\"/bin/bash\", \"-c\"]\n");
  V got;
  for (const Instruction& i : s) got.push_back(i.keyword);
  EXPECT_EQ(got, (V{"RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY",
                    "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL",
                    "HEALTHCHECK", "SHELL"}));
  EXPECT_EQ(s[3].text, "someone <a@b.c>");
  EXPECT_EQ(s[4].text, "80/tcp 443");
  EXPECT_EQ(s[10].text, "app:app");
  EXPECT_EQ(s[14].text, "SIGTERM");
}

TEST(Dockerfile, UnknownInstruction) {
  EXPECT_EQ(Err("FROM a\n\n   FROB x\n"), "Dockerfile:3:4: unknown instruction `FROB`");
  auto df = ParseDockerfile("FROM a\nCOPPY a b\n", "sub/Dockerfile.dev");
  ASSERT_FALSE(df.has_value());
  EXPECT_EQ(df.error().message(), "sub/Dockerfile.dev:2:1: unknown instruction `COPPY`");
}

TEST(Dockerfile, CommentsAndBlankLines) {
  std::vector<Instruction> s = Steps(
      "# leading comment\n"
      "\n"
      "FROM a\n"
      "   # indented comment\n"
      "\t\n"
      "RUN echo 1 # not a comment\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].text, "echo 1 # not a comment");
  EXPECT_EQ(s[0].pos.line, 6);
}

TEST(Dockerfile, CrlfAndBom) {
  Dockerfile df = Parse(
      "\xEF\xBB\xBF"
      "FROM a\r\nRUN echo \\\r\n  hi\r\n");
  ASSERT_EQ(df.stages.size(), 1u);
  ASSERT_EQ(df.stages[0].instructions.size(), 1u);
  EXPECT_EQ(df.stages[0].instructions[0].text, "echo   hi");
}

// ---- parser directives ----

TEST(Dockerfile, Directives) {
  Dockerfile df = Parse("# syntax=docker/dockerfile:1\n# escape=`\n\nFROM a\n");
  EXPECT_EQ(df.syntax, "docker/dockerfile:1");
  EXPECT_EQ(df.escape, '`');

  // Case-insensitive names, free whitespace.
  Dockerfile df2 = Parse("#\tEsCaPe =  ` \n#SYNTAX= x \nFROM a\n");
  EXPECT_EQ(df2.escape, '`');
  EXPECT_EQ(df2.syntax, "x");
}

TEST(Dockerfile, DirectivesOnlyAtTheTop) {
  EXPECT_EQ(Parse("# a comment\n# escape=`\nFROM a\n").escape, '\\');
  EXPECT_EQ(Parse("\n# escape=`\nFROM a\n").escape, '\\');
  EXPECT_EQ(Parse("FROM a\n# escape=`\n").escape, '\\');
  // An unknown directive is a comment, and ends the directives.
  Dockerfile df = Parse("# unknowndirective=value\n# escape=`\nFROM a\n");
  EXPECT_EQ(df.escape, '\\');
  // A continuation does not extend a directive.
  EXPECT_EQ(Parse("# esc \\\n# ape=`\nFROM a\n").escape, '\\');
}

TEST(Dockerfile, DirectiveErrors) {
  EXPECT_EQ(Err("# escape=\\\n# escape=`\nFROM a\n"),
            "Dockerfile:2:1: only one `escape` parser directive can be used");
  EXPECT_EQ(Err("# escape=x\nFROM a\n"),
            "Dockerfile:1:1: invalid escape character `x`: must be \\ or `");
  EXPECT_EQ(Err("# syntax=a\n# SYNTAX=b\nFROM a\n"),
            "Dockerfile:2:1: only one `syntax` parser directive can be used");
}

// ---- continuations ----

TEST(Dockerfile, Continuation) {
  Instruction r = One("RUN apt-get update && \\\n    apt-get install -y \\\n      curl\n");
  EXPECT_EQ(r.text, "apt-get update &&     apt-get install -y       curl");
  EXPECT_EQ(r.original, "RUN apt-get update &&     apt-get install -y       curl");
  EXPECT_EQ(r.pos.line, 2);
}

TEST(Dockerfile, ContinuationToleratesTrailingBlanks) {
  Instruction r = One("RUN a \\  \t\n b\n");
  EXPECT_EQ(r.text, "a  b");
}

TEST(Dockerfile, ContinuationDropsCommentsAndEmptyLines) {
  std::vector<Instruction> s = Steps(
      "FROM a\n"
      "RUN one \\\n"
      "# a comment in the middle\n"
      "  # an indented one\n"
      "\n"
      "   \n"
      "  two\n"
      "RUN three\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].text, "one   two");
  EXPECT_EQ(s[1].text, "three");
  EXPECT_EQ(s[1].pos.line, 8);
}

TEST(Dockerfile, ContinuationAtEndOfFile) {
  Instruction r = One("RUN a \\\n");
  EXPECT_EQ(r.text, "a");
}

TEST(Dockerfile, BacktickEscape) {
  Dockerfile df = Parse(
      "# escape=`\n"
      "FROM mcr.microsoft.com/windows/servercore\n"
      "COPY testfile.txt c:\\\n"
      "RUN dir c:\\ `\n"
      "    && echo done\n");
  ASSERT_EQ(df.stages.size(), 1u);
  const auto& s = df.stages[0].instructions;
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].text, "testfile.txt c:\\");  // the backslash is literal, no continuation
  EXPECT_EQ(s[1].text, "dir c:\\     && echo done");
}

TEST(Dockerfile, BackslashContinuationWhenDefault) {
  // Without the directive, `c:\` at the end of a line continues it (the reference's example).
  std::vector<Instruction> s = Steps("FROM a\nCOPY testfile.txt c:\\\\\nRUN dir c:\\\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].keyword, "COPY");
  EXPECT_EQ(s[0].text, "testfile.txt c:\\RUN dir c:");
}

// ---- exec and shell form ----

TEST(Dockerfile, ExecForm) {
  Instruction r = One("RUN [\"/bin/sh\", \"-c\", \"echo \\\"hi\\\" \\u00e9\"]");
  EXPECT_TRUE(r.json_form);
  EXPECT_EQ(r.json_args, (V{"/bin/sh", "-c", "echo \"hi\" \xC3\xA9"}));
  Instruction c = One("CMD [ ]");
  EXPECT_TRUE(c.json_form);
  EXPECT_TRUE(c.json_args.empty());
  Instruction e = One("ENTRYPOINT [ \"a\" ,\t\"b\" ]  ");  // JSON whitespace is fine
  EXPECT_TRUE(e.json_form);
  EXPECT_EQ(e.json_args, (V{"a", "b"}));
}

TEST(Dockerfile, ExecFormAcrossContinuation) {
  Instruction e = One("ENTRYPOINT [\"top\", \\\n  \"-b\"]\n");
  EXPECT_TRUE(e.json_form);
  EXPECT_EQ(e.json_args, (V{"top", "-b"}));
}

TEST(Dockerfile, NotJsonIsShellForm) {
  Instruction r = One("RUN [ -f /etc/passwd ] && echo yes");
  EXPECT_FALSE(r.json_form);
  EXPECT_EQ(r.text, "[ -f /etc/passwd ] && echo yes");
  Instruction c = One("CMD ['single', 'quotes']");
  EXPECT_FALSE(c.json_form);
  Instruction u = One("CMD [\"unterminated\"");
  EXPECT_FALSE(u.json_form);
  Instruction t = One("CMD [\"a\"] trailing");
  EXPECT_FALSE(t.json_form);
  Instruction s = One("CMD echo [\"a\"]");
  EXPECT_FALSE(s.json_form);
}

TEST(Dockerfile, JsonWithNonStringsIsAnError) {
  EXPECT_EQ(Err("FROM a\nCMD [\"a\", 1]\n"),
            "Dockerfile:2:1: CMD: exec form must be a JSON array of strings");
  EXPECT_NE(Err("FROM a\nRUN [[\"a\"]]\n").find("JSON array of strings"), std::string::npos);
  EXPECT_NE(Err("FROM a\nCOPY [\"a\", {\"b\": null}]\n").find("JSON array of strings"),
            std::string::npos);
}

TEST(Dockerfile, CopyAddVolumeJson) {
  Instruction c = One("COPY [\"my file\", \"/dst dir/\"]");
  EXPECT_TRUE(c.json_form);
  EXPECT_EQ(c.json_args, (V{"my file", "/dst dir/"}));
  Instruction a = One("ADD --chown=1:1 [\"a\", \"b\", \"/c/\"]");
  EXPECT_TRUE(a.json_form);
  EXPECT_EQ(a.json_args.size(), 3u);
  Instruction v = One("VOLUME [\"/data\", \"/logs\"]");
  EXPECT_TRUE(v.json_form);
  Instruction vs = One("VOLUME /data /logs");
  EXPECT_FALSE(vs.json_form);
  EXPECT_EQ(vs.text, "/data /logs");
}

TEST(Dockerfile, ShellNeedsJson) {
  EXPECT_EQ(Err("FROM a\nSHELL /bin/bash -c\n"),
            "Dockerfile:2:1: SHELL requires the arguments in JSON form");
  EXPECT_EQ(Err("FROM a\nSHELL []\n"), "Dockerfile:2:1: SHELL requires at least one argument");
  Instruction s = One("SHELL [\"powershell\", \"-command\"]");
  EXPECT_EQ(s.json_args, (V{"powershell", "-command"}));
}

// ---- flags ----

TEST(Dockerfile, Flags) {
  Instruction r =
      One("RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok "
          "--network=none pip install x");
  ASSERT_EQ(r.flags.size(), 3u);
  EXPECT_EQ(r.flags[0].name, "mount");
  EXPECT_EQ(r.flags[0].value, "type=cache,target=/root/.cache");
  EXPECT_TRUE(r.flags[0].has_value);
  EXPECT_EQ(r.flags[1].value, "type=secret,id=tok");
  EXPECT_EQ(r.flags[2].name, "network");
  EXPECT_EQ(r.text, "pip install x");

  Instruction c = One("COPY --link --from=build --chown=app:app /out /app");
  ASSERT_EQ(c.flags.size(), 3u);
  EXPECT_EQ(c.flags[0].name, "link");
  EXPECT_FALSE(c.flags[0].has_value);
  EXPECT_EQ(c.flags[0].value, "");
  EXPECT_EQ(c.flags[1].value, "build");
  EXPECT_EQ(c.text, "/out /app");
}

TEST(Dockerfile, FlagsQuotesAndTerminator) {
  Instruction r = One("RUN --mount=\"type=bind,target=/a b\" -- --not-a-flag");
  ASSERT_EQ(r.flags.size(), 1u);
  EXPECT_EQ(r.flags[0].value, "type=bind,target=/a b");
  EXPECT_EQ(r.text, "--not-a-flag");
  Instruction e = One("RUN --x= echo");
  ASSERT_EQ(e.flags.size(), 1u);
  EXPECT_TRUE(e.flags[0].has_value);
  EXPECT_EQ(e.flags[0].value, "");
  Instruction single = One("RUN echo --not-a-flag");
  EXPECT_TRUE(single.flags.empty());
}

TEST(Dockerfile, FlagErrors) {
  EXPECT_EQ(Err("FROM a\nRUN --=x echo\n"), "Dockerfile:2:1: bad flag syntax `--=x`");
  EXPECT_EQ(Err("FROM a\nRUN --mount=x\n"), "Dockerfile:2:1: RUN requires at least one argument");
}

// ---- stages ----

TEST(Dockerfile, Stages) {
  Dockerfile df = Parse(
      "ARG GO=1.22\n"
      "ARG BASE\n"
      "FROM --platform=$BUILDPLATFORM golang:${GO} AS Build\n"
      "RUN go build\n"
      "FROM scratch as final\n"
      "COPY --from=build /app /app\n"
      "FROM final\n");
  ASSERT_EQ(df.global_args.size(), 2u);
  EXPECT_EQ(df.global_args[0].text, "GO=1.22");
  ASSERT_EQ(df.stages.size(), 3u);
  EXPECT_EQ(df.stages[0].name, "build");
  EXPECT_EQ(df.stages[0].base, "golang:${GO}");
  EXPECT_EQ(df.stages[0].platform, "$BUILDPLATFORM");
  EXPECT_EQ(df.stages[0].pos.line, 3);
  ASSERT_EQ(df.stages[0].instructions.size(), 1u);
  EXPECT_EQ(df.stages[1].index, 1);
  EXPECT_EQ(df.stages[1].name, "final");
  EXPECT_EQ(df.stages[1].base, "scratch");
  EXPECT_EQ(df.stages[1].instructions.size(), 1u);
  EXPECT_EQ(df.stages[2].name, "");
  EXPECT_EQ(df.stages[2].base, "final");
  EXPECT_TRUE(df.stages[2].instructions.empty());
}

TEST(Dockerfile, StageErrors) {
  EXPECT_EQ(Err("RUN x\nFROM a\n"),
            "Dockerfile:1:1: RUN before the first FROM (only ARG may come first)");
  EXPECT_EQ(Err("# just a comment\n"),
            "Dockerfile:1:1: no FROM instruction: a Dockerfile needs at least one build stage");
  EXPECT_EQ(Err(""),
            "Dockerfile:1:1: no FROM instruction: a Dockerfile needs at least one build stage");
  EXPECT_EQ(Err("\nARG A\n"),
            "Dockerfile:2:1: no FROM instruction: a Dockerfile needs at least one build stage");
  EXPECT_EQ(Err("FROM\n"),
            "Dockerfile:1:1: FROM requires either one or three arguments "
            "(`FROM image AS name`)");
  EXPECT_NE(Err("FROM a b\n").find("1:1: FROM requires either one or three"), std::string::npos);
  EXPECT_NE(Err("FROM a AS b c\n").find("one or three"), std::string::npos);
  EXPECT_NE(Err("FROM a IS b\n").find("one or three"), std::string::npos);
  EXPECT_NE(Err("FROM a AS 1st\n").find("1:1: invalid stage name `1st`"), std::string::npos);
  EXPECT_NE(Err("FROM a AS b/c\n").find("invalid stage name"), std::string::npos);
  EXPECT_EQ(Err("FROM a AS x\nFROM b AS X\n"),
            "Dockerfile:2:1: duplicate stage name `x` (first at line 1)");
  EXPECT_EQ(Err("FROM --pltform=x a\n"), "Dockerfile:1:1: FROM: unknown flag `pltform`");
}

TEST(Dockerfile, StageNameCharacters) {
  Dockerfile df = Parse("FROM a AS my-stage_1.0\n");
  EXPECT_EQ(df.stages[0].name, "my-stage_1.0");
}

// ---- fixed shapes ----

TEST(Dockerfile, ArgumentCountErrors) {
  EXPECT_EQ(Err("FROM a\nWORKDIR\n"), "Dockerfile:2:1: WORKDIR requires exactly one argument");
  EXPECT_EQ(Err("FROM a\nUSER   \n"), "Dockerfile:2:1: USER requires exactly one argument");
  EXPECT_EQ(Err("FROM a\n  STOPSIGNAL\n"),
            "Dockerfile:2:3: STOPSIGNAL requires exactly one argument");
  EXPECT_EQ(Err("FROM a\nMAINTAINER\n"),
            "Dockerfile:2:1: MAINTAINER requires exactly one argument");
  EXPECT_EQ(Err("FROM a\nEXPOSE\n"), "Dockerfile:2:1: EXPOSE requires at least one argument");
  EXPECT_EQ(Err("FROM a\nRUN\n"), "Dockerfile:2:1: RUN requires at least one argument");
  EXPECT_EQ(Err("FROM a\nCMD\n"), "Dockerfile:2:1: CMD requires at least one argument");
  EXPECT_EQ(Err("FROM a\nENTRYPOINT \\\n\n"),
            "Dockerfile:2:1: ENTRYPOINT requires at least one argument");
  EXPECT_EQ(Err("FROM a\nCOPY onlyone\n"),
            "Dockerfile:2:1: COPY requires a source and a destination");
  EXPECT_EQ(Err("FROM a\nADD [\"x\"]\n"),
            "Dockerfile:2:1: ADD requires a source and a destination");
  EXPECT_EQ(Err("FROM a\nVOLUME\n"), "Dockerfile:2:1: VOLUME requires at least one argument");
  EXPECT_EQ(Err("FROM a\nVOLUME [\" \"]\n"), "Dockerfile:2:1: VOLUME cannot be an empty string");
  EXPECT_EQ(Err("FROM a\nONBUILD\n"), "Dockerfile:2:1: ONBUILD requires at least one argument");
  EXPECT_EQ(Err("FROM a\nARG\n"), "Dockerfile:2:1: ARG requires at least one argument");
}

TEST(Dockerfile, WorkdirKeepsTheWholeLine) {
  EXPECT_EQ(One("WORKDIR /path with spaces").text, "/path with spaces");
}

// ---- HEALTHCHECK ----

TEST(Dockerfile, Healthcheck) {
  Instruction h = One("HEALTHCHECK --interval=5m --timeout=3s CMD curl -f http://localhost/");
  EXPECT_EQ(h.subcommand, "CMD");
  EXPECT_EQ(h.text, "curl -f http://localhost/");
  EXPECT_FALSE(h.json_form);
  ASSERT_EQ(h.flags.size(), 2u);
  EXPECT_EQ(h.flags[0].name, "interval");
  EXPECT_EQ(h.flags[1].value, "3s");

  Instruction j = One("HEALTHCHECK cmd [\"/bin/check\", \"--fast\"]");
  EXPECT_EQ(j.subcommand, "CMD");
  EXPECT_TRUE(j.json_form);
  EXPECT_EQ(j.json_args, (V{"/bin/check", "--fast"}));

  Instruction n = One("HEALTHCHECK none");
  EXPECT_EQ(n.subcommand, "NONE");
  EXPECT_EQ(n.text, "");
}

TEST(Dockerfile, HealthcheckErrors) {
  EXPECT_EQ(Err("FROM a\nHEALTHCHECK NONE x\n"),
            "Dockerfile:2:1: HEALTHCHECK NONE takes no arguments");
  EXPECT_EQ(Err("FROM a\nHEALTHCHECK CMD\n"), "Dockerfile:2:1: HEALTHCHECK CMD requires a command");
  EXPECT_EQ(Err("FROM a\nHEALTHCHECK CMD []\n"),
            "Dockerfile:2:1: HEALTHCHECK CMD requires a command");
  EXPECT_EQ(Err("FROM a\nHEALTHCHECK curl x\n"),
            "Dockerfile:2:1: unknown HEALTHCHECK type `curl` (try CMD or NONE)");
  EXPECT_EQ(Err("FROM a\nHEALTHCHECK\n"),
            "Dockerfile:2:1: HEALTHCHECK requires at least one argument");
}

// ---- ONBUILD ----

TEST(Dockerfile, Onbuild) {
  Instruction o = One("ONBUILD run --mount=type=cache,target=/c [\"make\", \"all\"]");
  EXPECT_EQ(o.keyword, "ONBUILD");
  ASSERT_EQ(o.onbuild.size(), 1u);
  const Instruction& t = o.onbuild[0];
  EXPECT_EQ(t.keyword, "RUN");
  EXPECT_TRUE(t.json_form);
  EXPECT_EQ(t.json_args, (V{"make", "all"}));
  ASSERT_EQ(t.flags.size(), 1u);
  EXPECT_EQ(t.flags[0].name, "mount");
  EXPECT_EQ(t.pos.line, 2);

  Instruction c = One("ONBUILD COPY . /app/src");
  ASSERT_EQ(c.onbuild.size(), 1u);
  EXPECT_EQ(c.onbuild[0].text, ". /app/src");
  EXPECT_EQ(c.text, "COPY . /app/src");
}

TEST(Dockerfile, OnbuildErrors) {
  EXPECT_EQ(Err("FROM a\nONBUILD ONBUILD RUN x\n"),
            "Dockerfile:2:1: ONBUILD: ONBUILD is not allowed as an ONBUILD trigger");
  EXPECT_EQ(Err("FROM a\nONBUILD from b\n"),
            "Dockerfile:2:1: ONBUILD: FROM is not allowed as an ONBUILD trigger");
  EXPECT_EQ(Err("FROM a\nONBUILD MAINTAINER me\n"),
            "Dockerfile:2:1: ONBUILD: MAINTAINER is not allowed as an ONBUILD trigger");
  EXPECT_EQ(Err("FROM a\nONBUILD BOGUS\n"), "Dockerfile:2:1: ONBUILD: unknown instruction `BOGUS`");
  EXPECT_EQ(Err("FROM a\nONBUILD WORKDIR\n"),
            "Dockerfile:2:1: ONBUILD: WORKDIR requires exactly one argument");
}

// ---- heredocs ----

TEST(Dockerfile, HeredocRun) {
  std::vector<Instruction> s = Steps(
      "FROM a\n"
      "RUN <<EOF\n"
      "apt-get update\n"
      "  # not a comment here\n"
      "\n"
      "apt-get install -y vim\n"
      "EOF\n"
      "RUN echo after\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].text, "<<EOF");
  ASSERT_EQ(s[0].heredocs.size(), 1u);
  const Heredoc& h = s[0].heredocs[0];
  EXPECT_EQ(h.name, "EOF");
  EXPECT_EQ(h.content, "apt-get update\n  # not a comment here\n\napt-get install -y vim\n");
  EXPECT_TRUE(h.expand);
  EXPECT_FALSE(h.strip_tabs);
  EXPECT_EQ(s[1].text, "echo after");
  EXPECT_EQ(s[1].pos.line, 8);
}

TEST(Dockerfile, HeredocAsStdinOfCommand) {
  Instruction r = One("RUN python3 <<EOF\nprint('hi')\nEOF\n");
  EXPECT_EQ(r.text, "python3 <<EOF");
  ASSERT_EQ(r.heredocs.size(), 1u);
  EXPECT_EQ(r.heredocs[0].content, "print('hi')\n");
}

TEST(Dockerfile, HeredocStripTabs) {
  Instruction r = One("RUN <<-EOT\n\tif true; then\n\t\techo x\n\tfi\n\tEOT\n");
  ASSERT_EQ(r.heredocs.size(), 1u);
  EXPECT_TRUE(r.heredocs[0].strip_tabs);
  EXPECT_EQ(r.heredocs[0].content, "if true; then\necho x\nfi\n");
  // Without `-`, a tab-indented terminator is content.
  auto df = ParseDockerfile("FROM a\nRUN <<EOT\n\tEOT\n");
  ASSERT_FALSE(df.has_value());
}

TEST(Dockerfile, HeredocQuotedNoExpand) {
  Instruction d = One("RUN <<\"EOF\"\necho $HOME\nEOF\n");
  ASSERT_EQ(d.heredocs.size(), 1u);
  EXPECT_EQ(d.heredocs[0].name, "EOF");
  EXPECT_FALSE(d.heredocs[0].expand);
  Instruction s = One("RUN <<'END' bash\necho $HOME\nEND\n");
  ASSERT_EQ(s.heredocs.size(), 1u);
  EXPECT_EQ(s.heredocs[0].name, "END");
  EXPECT_FALSE(s.heredocs[0].expand);
  EXPECT_EQ(s.heredocs[0].content, "echo $HOME\n");
}

TEST(Dockerfile, MultipleHeredocs) {
  Instruction c =
      One("COPY <<a.txt <<-b.txt /dest/\n"
          "first\n"
          "a.txt\n"
          "\tsecond\n"
          "\tb.txt\n");
  EXPECT_EQ(c.keyword, "COPY");
  EXPECT_EQ(c.text, "<<a.txt <<-b.txt /dest/");
  ASSERT_EQ(c.heredocs.size(), 2u);
  EXPECT_EQ(c.heredocs[0].name, "a.txt");
  EXPECT_EQ(c.heredocs[0].content, "first\n");
  EXPECT_EQ(c.heredocs[1].name, "b.txt");
  EXPECT_EQ(c.heredocs[1].content, "second\n");

  Instruction r =
      One("RUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2\nI am\nFILE1\nfile2\nFILE2\n");
  ASSERT_EQ(r.heredocs.size(), 2u);
  EXPECT_EQ(r.heredocs[0].content, "I am\n");
  EXPECT_EQ(r.heredocs[1].content, "file2\n");
}

TEST(Dockerfile, HeredocWithFdPrefix) {
  Instruction r = One("RUN cat 0<<EOF\nx\nEOF\n");
  ASSERT_EQ(r.heredocs.size(), 1u);
  EXPECT_EQ(r.heredocs[0].name, "EOF");
}

TEST(Dockerfile, HeredocEmptyBody) {
  Instruction r = One("RUN <<EOF\nEOF\n");
  ASSERT_EQ(r.heredocs.size(), 1u);
  EXPECT_EQ(r.heredocs[0].content, "");
}

TEST(Dockerfile, NotHeredocs) {
  // Exec form, quoted markers, `<<` inside a word, and instructions other than RUN/COPY/ADD.
  EXPECT_TRUE(One("RUN [\"cat\", \"<<EOF\"]").heredocs.empty());
  EXPECT_TRUE(One("RUN echo \"<<EOF\"").heredocs.empty());
  EXPECT_TRUE(One("RUN echo a<<EOF").heredocs.empty());
  EXPECT_TRUE(One("RUN echo $((1<<2))").heredocs.empty());
  std::vector<Instruction> s = Steps("FROM a\nCMD cat <<EOF\nRUN x\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[0].heredocs.empty());
}

TEST(Dockerfile, HeredocAfterFlags) {
  Instruction r = One("RUN --mount=type=cache,target=/c <<EOF\nls /c\nEOF\n");
  ASSERT_EQ(r.flags.size(), 1u);
  EXPECT_EQ(r.text, "<<EOF");
  ASSERT_EQ(r.heredocs.size(), 1u);
}

TEST(Dockerfile, UnterminatedHeredoc) {
  EXPECT_EQ(Err("FROM a\nRUN cat <<EOF\nline\nEOFX\n"),
            "Dockerfile:2:9: unterminated heredoc `<<EOF`");
  EXPECT_EQ(Err("FROM a\n  COPY <<a <<b /x/\nA\na\nB\n"),
            "Dockerfile:2:12: unterminated heredoc `<<b`");
}

// ---- ENV, LABEL, ARG ----

TEST(KeyValues, Env) {
  auto kv = KV("ENV A=1 B=\"two words\" C='x y' D=a\\ b E=");
  ASSERT_EQ(kv.size(), 5u);
  EXPECT_EQ(kv[0].key, "A");
  EXPECT_EQ(kv[0].value, "1");
  EXPECT_EQ(kv[1].key, "B");
  EXPECT_EQ(kv[1].value, "\"two words\"");  // raw: quotes for ExpandWord
  EXPECT_EQ(kv[2].value, "'x y'");
  EXPECT_EQ(kv[3].value, "a\\ b");
  EXPECT_EQ(kv[4].value, "");
  EXPECT_TRUE(kv[4].has_value);
  auto r = ExpandWord(kv[1].value, VarLookup());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "two words");
}

TEST(KeyValues, EnvLegacy) {
  auto kv = KV("ENV MY_NAME John Doe  \"Jr\"");
  ASSERT_EQ(kv.size(), 1u);
  EXPECT_EQ(kv[0].key, "MY_NAME");
  EXPECT_EQ(kv[0].value, "John Doe  \"Jr\"");
}

TEST(KeyValues, EnvAcrossContinuation) {
  auto kv = KV("ENV A=1 \\\n    B=2\n");
  ASSERT_EQ(kv.size(), 2u);
  EXPECT_EQ(kv[1].key, "B");
  EXPECT_EQ(kv[1].value, "2");
}

TEST(KeyValues, Label) {
  auto kv =
      KV("LABEL \"com.example.vendor\"=\"ACME Inc\" version=1.0 description=\"multi \\\n line\"");
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0].key, "\"com.example.vendor\"");
  EXPECT_EQ(kv[0].value, "\"ACME Inc\"");
  EXPECT_EQ(kv[1].key, "version");
  EXPECT_EQ(kv[2].value, "\"multi  line\"");
}

TEST(KeyValues, Arg) {
  auto kv = KV("ARG USER=app VERSION BUILD=\"a b\"");
  ASSERT_EQ(kv.size(), 3u);
  EXPECT_EQ(kv[0].key, "USER");
  EXPECT_EQ(kv[0].value, "app");
  EXPECT_TRUE(kv[0].has_value);
  EXPECT_EQ(kv[1].key, "VERSION");
  EXPECT_FALSE(kv[1].has_value);
  EXPECT_EQ(kv[1].value, "");
  EXPECT_EQ(kv[2].value, "\"a b\"");
  auto eq = KV("ARG X=");
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_TRUE(eq[0].has_value);
}

TEST(KeyValues, BacktickEscape) {
  Dockerfile df = Parse("# escape=`\nFROM a\nENV P=C:\\dir Q=a` b\n");
  const Instruction& ins = df.stages[0].instructions[0];
  auto kv = ParseKeyValues(ins, df.escape);
  ASSERT_TRUE(kv.has_value()) << kv.error().message();
  ASSERT_EQ(kv->size(), 2u);
  EXPECT_EQ((*kv)[0].value, "C:\\dir");
  EXPECT_EQ((*kv)[1].value, "a` b");
}

TEST(KeyValues, Errors) {
  EXPECT_EQ(Err("FROM a\nENV =x\n"), "Dockerfile:2:1: ENV names can not be blank");
  EXPECT_EQ(Err("FROM a\nENV key\n"),
            "Dockerfile:2:1: ENV `key` needs a value (`ENV key=value` or `ENV key value`)");
  EXPECT_EQ(Err("FROM a\nENV\n"), "Dockerfile:2:1: ENV requires at least one argument");
  EXPECT_EQ(Err("FROM a\nENV a=1 b\n"),
            "Dockerfile:2:1: ENV: missing `=` in `b` (must be key=value)");
  EXPECT_EQ(Err("FROM a\nLABEL version 1\n"),
            "Dockerfile:2:1: LABEL: missing `=` in `version` (must be key=value)");
  EXPECT_EQ(Err("FROM a\nLABEL =v\n"), "Dockerfile:2:1: LABEL names can not be blank");
  EXPECT_EQ(Err("FROM a\nARG =v\n"), "Dockerfile:2:1: ARG names can not be blank");
  EXPECT_EQ(Err("ARG =v\nFROM a\n"), "Dockerfile:1:1: ARG names can not be blank");

  Instruction run = One("RUN x");
  EXPECT_FALSE(ParseKeyValues(run, '\\').has_value());
}

// ---- robustness ----

TEST(Dockerfile, DeepJsonNestingDoesNotRecurse) {
  std::string deep = "FROM a\nCMD " + std::string(200000, '[') + std::string(200000, ']') + "\n";
  EXPECT_NE(Err(deep).find("JSON array of strings"), std::string::npos);
  std::string open = "FROM a\nCMD " + std::string(200000, '[') + "\n";
  Instruction c = Parse(open).stages[0].instructions[0];
  EXPECT_FALSE(c.json_form);
}

TEST(Dockerfile, OriginalIsKept) {
  Instruction r = One("  run   --network=none  echo   hi  ");
  EXPECT_EQ(r.original, "run   --network=none  echo   hi");
  EXPECT_EQ(r.text, "echo   hi");
}

}  // namespace
}  // namespace berth::build
