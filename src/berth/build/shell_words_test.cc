#include "berth/build/shell_words.h"

#include <gtest/gtest.h>

#include <map>

namespace berth::build {
namespace {

// FOO=foo, EMPTY="", SPACED="a  b", ABC=abc; everything else unset.
VarLookup Vars() {
  static const std::map<std::string, std::string, std::less<>> vars = {
      {"FOO", "foo"}, {"EMPTY", ""}, {"SPACED", "a  b"}, {"ABC", "abc"}};
  return [](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string Word(std::string_view w, char escape = '\\') {
  auto r = ExpandWord(w, Vars(), escape);
  EXPECT_TRUE(r.has_value()) << w << ": " << r.error().message();
  return r.has_value() ? *r : "<error>";
}

std::vector<std::string> Words(std::string_view w, char escape = '\\') {
  auto r = ExpandWords(w, Vars(), escape);
  EXPECT_TRUE(r.has_value()) << w << ": " << r.error().message();
  return r.has_value() ? *r : std::vector<std::string>{"<error>"};
}

std::string WordError(std::string_view w) {
  auto r = ExpandWord(w, Vars());
  EXPECT_FALSE(r.has_value()) << w << " expanded to " << *r;
  return r.has_value() ? "" : r.error().message();
}

using V = std::vector<std::string>;

TEST(ExpandWord, PlainAndVariables) {
  EXPECT_EQ(Word("hello"), "hello");
  EXPECT_EQ(Word("$FOO"), "foo");
  EXPECT_EQ(Word("${FOO}"), "foo");
  EXPECT_EQ(Word("x${FOO}y"), "xfooy");
  EXPECT_EQ(Word("$FOO/bar"), "foo/bar");
  EXPECT_EQ(Word("$FOObar"), "");  // the name is FOObar, unset
  EXPECT_EQ(Word("$UNSET"), "");
  EXPECT_EQ(Word("a$FOO$ABC"), "afooabc");
  EXPECT_EQ(Word(""), "");
}

TEST(ExpandWord, DollarBeforeNonNameIsLiteral) {
  EXPECT_EQ(Word("$"), "$");
  EXPECT_EQ(Word("a$"), "a$");
  EXPECT_EQ(Word("$/x"), "$/x");
  EXPECT_EQ(Word("cost: $ 5"), "cost: $ 5");
  EXPECT_EQ(Word("$%"), "$%");
}

TEST(ExpandWord, SpecialParametersExpandToNothing) {
  // BuildKit reads `$1`, `$@`, `$$` as names, which a Dockerfile never sets.
  EXPECT_EQ(Word("a$1b"), "ab");
  EXPECT_EQ(Word("a$@b"), "ab");
  EXPECT_EQ(Word("a$12b"), "ab");
}

TEST(ExpandWord, SingleQuotesAreLiteral) {
  EXPECT_EQ(Word("'$FOO'"), "$FOO");
  EXPECT_EQ(Word("'a b'"), "a b");
  EXPECT_EQ(Word("'a\\b'"), "a\\b");
  EXPECT_EQ(Word("'\"'"), "\"");
  EXPECT_EQ(Word("x'y'z"), "xyz");
}

TEST(ExpandWord, DoubleQuotesExpand) {
  EXPECT_EQ(Word("\"$FOO\""), "foo");
  EXPECT_EQ(Word("\"a $FOO b\""), "a foo b");
  EXPECT_EQ(Word("\"'$FOO'\""), "'foo'");
  EXPECT_EQ(Word("\"\\\"\""), "\"");  // "\""  -> "
  EXPECT_EQ(Word("\"\\$FOO\""), "$FOO");
  EXPECT_EQ(Word("\"\\\\\""), "\\");    // "\\"  -> backslash
  EXPECT_EQ(Word("\"a\\b\""), "a\\b");  // other escapes stay
  EXPECT_EQ(Word("\"\""), "");
}

TEST(ExpandWord, UnquotedEscape) {
  EXPECT_EQ(Word("\\$FOO"), "$FOO");
  EXPECT_EQ(Word("a\\ b"), "a b");
  EXPECT_EQ(Word("\\'x\\'"), "'x'");
  EXPECT_EQ(Word("\\\\"), "\\");
  EXPECT_EQ(Word("\\n"), "n");
  EXPECT_EQ(Word("trailing\\"), "trailing");
}

TEST(ExpandWord, BacktickEscape) {
  // With `# escape=``, backslashes are ordinary (Windows paths).
  EXPECT_EQ(Word("C:\\Users\\$FOO", '`'), "C:\\Users\\foo");
  EXPECT_EQ(Word("`$FOO", '`'), "$FOO");
  EXPECT_EQ(Word("\"a`\"b\"", '`'), "a\"b");
  EXPECT_EQ(Word("\"C:\\dir\"", '`'), "C:\\dir");
}

TEST(ExpandWord, DefaultAndAlternative) {
  EXPECT_EQ(Word("${FOO:-x}"), "foo");
  EXPECT_EQ(Word("${UNSET:-x}"), "x");
  EXPECT_EQ(Word("${EMPTY:-x}"), "x");
  EXPECT_EQ(Word("${FOO-x}"), "foo");
  EXPECT_EQ(Word("${UNSET-x}"), "x");
  EXPECT_EQ(Word("${EMPTY-x}"), "");
  EXPECT_EQ(Word("${FOO:+x}"), "x");
  EXPECT_EQ(Word("${UNSET:+x}"), "");
  EXPECT_EQ(Word("${EMPTY:+x}"), "");
  EXPECT_EQ(Word("${FOO+x}"), "x");
  EXPECT_EQ(Word("${UNSET+x}"), "");
  EXPECT_EQ(Word("${EMPTY+x}"), "x");
  EXPECT_EQ(Word("${UNSET:-}"), "");
}

TEST(ExpandWord, NestedAndQuotedWords) {
  EXPECT_EQ(Word("${UNSET:-$FOO}"), "foo");
  EXPECT_EQ(Word("${UNSET:-${ABC}-x}"), "abc-x");
  EXPECT_EQ(Word("${UNSET:-${ALSO_UNSET:-${FOO}}}"), "foo");
  EXPECT_EQ(Word("${FOO:+[$ABC]}"), "[abc]");
  EXPECT_EQ(Word("${UNSET:-a b}"), "a b");
  EXPECT_EQ(Word("${UNSET:-'$FOO'}"), "$FOO");
  EXPECT_EQ(Word("${UNSET:-\"}\"}"), "}");
  EXPECT_EQ(Word("${UNSET:-\\}}"), "}");
  EXPECT_EQ(Word("\"${UNSET:-a b}\""), "a b");
}

TEST(ExpandWord, Required) {
  EXPECT_EQ(Word("${FOO:?}"), "foo");
  EXPECT_EQ(Word("${FOO?}"), "foo");
  EXPECT_EQ(Word("${EMPTY?}"), "");
  std::string e = WordError("${UNSET:?}");
  EXPECT_NE(e.find("`UNSET` is not allowed to be unset"), std::string::npos) << e;
  e = WordError("${EMPTY:?}");
  EXPECT_NE(e.find("`EMPTY` is not allowed to be empty"), std::string::npos) << e;
  e = WordError("${UNSET?set it with --build-arg}");
  EXPECT_NE(e.find("`UNSET`: set it with --build-arg"), std::string::npos) << e;
  e = WordError("x${TOKEN:?need $FOO}");
  EXPECT_NE(e.find("`TOKEN`: need foo"), std::string::npos) << e;
  EXPECT_NE(e.find("expand `x${TOKEN:?need $FOO}`"), std::string::npos) << e;
}

TEST(ExpandWord, SyntaxErrors) {
  EXPECT_NE(WordError("'abc").find("unterminated single quote"), std::string::npos);
  EXPECT_NE(WordError("\"abc").find("unterminated double quote"), std::string::npos);
  EXPECT_NE(WordError("\"abc\\\"").find("unterminated double quote"), std::string::npos);
  EXPECT_NE(WordError("${FOO").find("missing `}`"), std::string::npos);
  EXPECT_NE(WordError("${FOO:-abc").find("missing `}`"), std::string::npos);
  EXPECT_NE(WordError("${").find("missing `}`"), std::string::npos);
  EXPECT_NE(WordError("${}").find("bad substitution"), std::string::npos);
  EXPECT_NE(WordError("${:-x}").find("bad substitution"), std::string::npos);
  EXPECT_NE(WordError("${{x}}").find("bad substitution"), std::string::npos);
  std::string e = WordError("${FOO%x}");
  EXPECT_NE(e.find("unsupported modifier `%`"), std::string::npos) << e;
  EXPECT_NE(WordError("${FOO:x}").find("unsupported modifier `x`"), std::string::npos);
}

TEST(ExpandWord, DeepNestingFailsCleanly) {
  std::string w;
  for (int i = 0; i < 5000; ++i) w += "${A:-";
  EXPECT_NE(WordError(w).find("nested too deeply"), std::string::npos);
}

TEST(ExpandWord, WhitespaceStaysInTheWord) {
  EXPECT_EQ(Word("a b  c"), "a b  c");
  EXPECT_EQ(Word("$SPACED"), "a  b");
}

TEST(ExpandWords, SplitsOnUnquotedWhitespace) {
  EXPECT_EQ(Words("a b\tc"), (V{"a", "b", "c"}));
  EXPECT_EQ(Words("  a   b  "), (V{"a", "b"}));
  EXPECT_EQ(Words(""), V{});
  EXPECT_EQ(Words("   "), V{});
  EXPECT_EQ(Words("\"a b\" c"), (V{"a b", "c"}));
  EXPECT_EQ(Words("'a b'c d"), (V{"a bc", "d"}));
  EXPECT_EQ(Words("a\\ b c"), (V{"a b", "c"}));
  EXPECT_EQ(Words("src/$FOO /dst/"), (V{"src/foo", "/dst/"}));
  EXPECT_EQ(Words("80/tcp ${PORT:-443}/udp"), (V{"80/tcp", "443/udp"}));
}

TEST(ExpandWords, ExpansionsSplitLikeBuildKit) {
  // BuildKit splits an unquoted expansion on whitespace (`EXPOSE $PORTS` with "80 443").
  EXPECT_EQ(Words("$SPACED x"), (V{"a", "b", "x"}));
  EXPECT_EQ(Words("\"$SPACED\" x"), (V{"a  b", "x"}));
  EXPECT_EQ(Words("${UNSET:-p q}"), (V{"p", "q"}));
  EXPECT_EQ(Words("$EMPTY"), V{});
  EXPECT_EQ(Words("x$EMPTY y"), (V{"x", "y"}));
}

TEST(ExpandWords, EmptyQuotesAloneMakeNoWord) {
  // BuildKit's rule: an empty quoted string only adds to an adjacent word.
  EXPECT_EQ(Words("\"\" a"), (V{"a"}));
  EXPECT_EQ(Words("a\"\"b"), (V{"ab"}));
}

TEST(ExpandWords, Errors) {
  auto r = ExpandWords("a 'b", Vars());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("unterminated single quote"), std::string::npos);
  EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
}

TEST(ExpandWords, NullLookupMeansAllUnset) {
  auto r = ExpandWords("a $X ${Y:-d}", VarLookup());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, (V{"a", "d"}));
}

TEST(ExpandHeredoc, ExpandsVariablesOnly) {
  auto r = ExpandHeredoc("echo \"$FOO\" '${ABC}'\nprintf '%s\\n' \\$HOME ${UNSET:-dflt}\n", Vars());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, "echo \"foo\" 'abc'\nprintf '%s\\n' $HOME dflt\n");
}

TEST(ExpandHeredoc, UnbalancedQuotesAreFine) {
  auto r = ExpandHeredoc("it's $FOO\\\n", Vars());
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(*r, "it's foo\\\n");
  r = ExpandHeredoc("trailing\\", Vars());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, "trailing\\");
}

TEST(ExpandHeredoc, Errors) {
  auto r = ExpandHeredoc("${UNSET:?no}\n", Vars());
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("`UNSET`: no"), std::string::npos);
  EXPECT_FALSE(ExpandHeredoc("${FOO\n", Vars()).has_value());
}

}  // namespace
}  // namespace berth::build
