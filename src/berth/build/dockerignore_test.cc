#include "berth/build/dockerignore.h"

#include <gtest/gtest.h>

#include <chrono>

namespace berth::build {
namespace {

IgnoreMatcher Parse(std::string_view text) {
  auto m = IgnoreMatcher::Parse(text);
  EXPECT_TRUE(m.has_value()) << m.error().message();
  return m.has_value() ? std::move(*m) : IgnoreMatcher();
}

bool M(std::string_view pattern, std::string_view path) {
  auto r = IgnoreMatcher::Match(pattern, path);
  EXPECT_TRUE(r.has_value()) << pattern << ": " << r.error().message();
  return r.has_value() && *r;
}

TEST(IgnoreMatch, GoFilepathMatch) {
  EXPECT_TRUE(M("abc", "abc"));
  EXPECT_FALSE(M("abc", "abcd"));
  EXPECT_TRUE(M("*", "abc"));
  EXPECT_TRUE(M("*", ""));
  EXPECT_FALSE(M("*", "a/b"));
  EXPECT_TRUE(M("*c", "abc"));
  EXPECT_TRUE(M("a*", "a"));
  EXPECT_TRUE(M("a*/b", "abc/b"));
  EXPECT_FALSE(M("a*/b", "a/c/b"));
  EXPECT_TRUE(M("a*b*c*d*e*/f", "axbxcxdxe/f"));
  EXPECT_FALSE(M("a*b*c*d*e*/f", "axbxcxdxe/xxx/f"));
  EXPECT_TRUE(M("a?c", "abc"));
  EXPECT_FALSE(M("a?c", "a/c"));
  EXPECT_FALSE(M("a?c", "ac"));
  EXPECT_TRUE(M("a[b-d]e", "ace"));
  EXPECT_FALSE(M("a[b-d]e", "aee"));
  EXPECT_TRUE(M("a[^b-d]e", "aee"));
  EXPECT_FALSE(M("a[^b-d]e", "ace"));
  EXPECT_TRUE(M("[abc]", "b"));
  EXPECT_TRUE(M("[\\]]", "]"));
  EXPECT_TRUE(M("[\\-]", "-"));
  EXPECT_TRUE(M("[x\\-]", "x"));
  EXPECT_TRUE(M("a\\*b", "a*b"));
  EXPECT_FALSE(M("a\\*b", "axb"));
  EXPECT_TRUE(M("a\\?", "a?"));
}

TEST(IgnoreMatch, Unicode) {
  EXPECT_TRUE(M("?", "é"));
  EXPECT_TRUE(M("h?llo", "hällo"));
  EXPECT_TRUE(M("[α-ω]", "λ"));
  EXPECT_TRUE(M("*.txt", "日本.txt"));
}

TEST(IgnoreMatch, DoubleStar) {
  EXPECT_TRUE(M("**/*.go", "a.go"));
  EXPECT_TRUE(M("**/*.go", "x/a.go"));
  EXPECT_TRUE(M("**/*.go", "x/y/z/a.go"));
  EXPECT_FALSE(M("**/*.go", "x/a.goo"));
  EXPECT_TRUE(M("a/**/b", "a/b"));
  EXPECT_TRUE(M("a/**/b", "a/x/b"));
  EXPECT_TRUE(M("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(M("a/**/b", "a/xb"));
  EXPECT_TRUE(M("a/**", "a/x"));
  EXPECT_TRUE(M("a/**", "a/x/y"));
  EXPECT_FALSE(M("a/**", "a"));
  EXPECT_TRUE(M("**", "anything/at/all"));
  EXPECT_TRUE(M("**/foo", "foo"));
  EXPECT_TRUE(M("**/foo", "a/b/foo"));
  EXPECT_FALSE(M("**/foo", "a/bfoo"));
}

TEST(IgnoreMatch, BadPatterns) {
  for (std::string_view p : {"[", "[]", "[a", "[a-", "[a-]", "[^]", "a\\", "[\\"}) {
    auto r = IgnoreMatcher::Match(p, "a");
    EXPECT_FALSE(r.has_value()) << p;
    if (!r.has_value()) {
      EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(IgnoreMatch, PathologicalPatternsAreFast) {
  // Backtracking matchers take exponential time on these; the NFA is linear in each.
  std::string many_stars, many_double, path(200, 'a');
  for (int i = 0; i < 40; ++i) many_stars += "*a";
  many_stars += "b";
  for (int i = 0; i < 40; ++i) many_double += "**/a";
  many_double += "/b";
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "a/";
  deep += "c";
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(M(many_stars, path));
  EXPECT_FALSE(M(many_double, deep));
  EXPECT_FALSE(M(std::string(1000, '*') + "b", path));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(IgnoreMatcher, EmptyIgnoresNothing) {
  IgnoreMatcher m;
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.Excluded("a"));
  EXPECT_FALSE(m.MayReincludeBelow("a"));
  IgnoreMatcher c = Parse("# only a comment\n\n   \n");
  EXPECT_TRUE(c.empty());
}

TEST(IgnoreMatcher, DocsExamples) {
  // The example .dockerignore of the build context documentation.
  IgnoreMatcher m = Parse("# comment\n*/temp*\n*/*/temp*\ntemp?\n");
  EXPECT_TRUE(m.Excluded("somedir/temporary.txt"));
  EXPECT_TRUE(m.Excluded("somedir/temp"));
  EXPECT_FALSE(m.Excluded("temporary.txt"));
  EXPECT_TRUE(m.Excluded("somedir/subdir/temporary.txt"));
  EXPECT_FALSE(m.Excluded("a/b/c/temporary.txt"));
  EXPECT_TRUE(m.Excluded("tempa"));
  EXPECT_TRUE(m.Excluded("tempb"));
  EXPECT_FALSE(m.Excluded("temp"));
  EXPECT_FALSE(m.Excluded("tempab"));
  EXPECT_FALSE(m.Excluded("comment"));
}

TEST(IgnoreMatcher, GoFilesAnywhere) {
  IgnoreMatcher m = Parse("**/*.go\n");
  EXPECT_TRUE(m.Excluded("main.go"));
  EXPECT_TRUE(m.Excluded("cmd/tool/main.go"));
  EXPECT_FALSE(m.Excluded("cmd/tool/main.c"));
}

TEST(IgnoreMatcher, ExceptionsLastMatchWins) {
  IgnoreMatcher m = Parse("*.md\n!README.md\n");
  EXPECT_TRUE(m.Excluded("CHANGELOG.md"));
  EXPECT_FALSE(m.Excluded("README.md"));
  EXPECT_FALSE(m.Excluded("main.c"));

  IgnoreMatcher m2 = Parse("*.md\n!README*.md\nREADME-secret.md\n");
  EXPECT_TRUE(m2.Excluded("CHANGELOG.md"));
  EXPECT_FALSE(m2.Excluded("README.md"));
  EXPECT_FALSE(m2.Excluded("README-public.md"));
  EXPECT_TRUE(m2.Excluded("README-secret.md"));

  // The order matters: the exception first is overridden by the later exclusion.
  IgnoreMatcher m3 = Parse("!README.md\n*.md\n");
  EXPECT_TRUE(m3.Excluded("README.md"));
}

TEST(IgnoreMatcher, ParentDirectoryExcludesEverythingBelow) {
  IgnoreMatcher m = Parse("a\nbuild/\n");
  EXPECT_TRUE(m.Excluded("a"));
  EXPECT_TRUE(m.Excluded("a/b"));
  EXPECT_TRUE(m.Excluded("a/b/c"));
  EXPECT_FALSE(m.Excluded("ab"));
  EXPECT_FALSE(m.Excluded("b/a"));
  EXPECT_TRUE(m.Excluded("build/out/x.o"));

  IgnoreMatcher re = Parse("a\n!a/b/keep\n");
  EXPECT_TRUE(re.Excluded("a/b/c"));
  EXPECT_FALSE(re.Excluded("a/b/keep"));
  EXPECT_FALSE(re.Excluded("a/b/keep/inner"));
  EXPECT_TRUE(re.MayReincludeBelow("a"));
  EXPECT_TRUE(re.MayReincludeBelow("a/b"));
  EXPECT_FALSE(re.MayReincludeBelow("a/c"));
  EXPECT_FALSE(re.MayReincludeBelow("x"));
}

TEST(IgnoreMatcher, MayReincludeBelowWithWildcards) {
  IgnoreMatcher m = Parse("vendor\n!vendor/*/LICENSE\n!**/keep.txt\n");
  EXPECT_TRUE(m.MayReincludeBelow("vendor"));
  EXPECT_TRUE(m.MayReincludeBelow("vendor/x"));
  EXPECT_TRUE(m.MayReincludeBelow("anything/deep"));  // `**/keep.txt` may be anywhere

  IgnoreMatcher m2 = Parse("vendor\n!vendor/*/LICENSE\n");
  EXPECT_TRUE(m2.MayReincludeBelow("vendor/lib"));
  EXPECT_FALSE(m2.MayReincludeBelow("vendor/lib/sub"));  // LICENSE is one level down only
  EXPECT_FALSE(m2.MayReincludeBelow("other"));
  EXPECT_FALSE(m2.Excluded("vendor/lib/LICENSE"));
  EXPECT_TRUE(m2.Excluded("vendor/lib/README"));

  IgnoreMatcher none = Parse("vendor\n");
  EXPECT_FALSE(none.MayReincludeBelow("vendor"));
}

TEST(IgnoreMatcher, PatternsAreCleaned) {
  IgnoreMatcher m = Parse("/foo\n./bar\nfoo2/../baz\n  spaced  \nqux//quux/\n../up\n");
  EXPECT_TRUE(m.Excluded("foo"));
  EXPECT_TRUE(m.Excluded("foo/x"));
  EXPECT_TRUE(m.Excluded("bar"));
  EXPECT_TRUE(m.Excluded("baz"));
  EXPECT_FALSE(m.Excluded("foo2"));
  EXPECT_TRUE(m.Excluded("spaced"));
  EXPECT_TRUE(m.Excluded("qux/quux"));
  // `..` cannot climb out of the context: it is dropped at the root.
  EXPECT_TRUE(m.Excluded("up"));
  EXPECT_FALSE(m.Excluded("x/foo"));  // patterns are anchored at the root
}

TEST(IgnoreMatcher, ExcludedCleansItsArgument) {
  IgnoreMatcher m = Parse("foo\n");
  EXPECT_TRUE(m.Excluded("./foo"));
  EXPECT_TRUE(m.Excluded("foo/"));
  EXPECT_FALSE(m.Excluded(""));
  EXPECT_FALSE(m.Excluded("."));
}

TEST(IgnoreMatcher, CommentsOnlyInFirstColumn) {
  IgnoreMatcher m = Parse("#foo\n #bar\n!#baz\n");
  EXPECT_FALSE(m.Excluded("foo"));
  EXPECT_FALSE(m.Excluded("#foo"));
  EXPECT_TRUE(m.Excluded("#bar"));  // Docker's rule: only column one starts a comment
}

TEST(IgnoreMatcher, CrlfAndBom) {
  IgnoreMatcher m = Parse(
      "\xEF\xBB\xBF"
      "foo\r\nbar\r\n");
  EXPECT_TRUE(m.Excluded("foo"));
  EXPECT_TRUE(m.Excluded("bar"));
}

TEST(IgnoreMatcher, RootPatternsMatchNothingInside) {
  IgnoreMatcher m = Parse("/\n.\n");
  EXPECT_FALSE(m.Excluded("a"));
}

TEST(IgnoreMatcher, ErrorsNameTheLine) {
  auto m = IgnoreMatcher::Parse("ok\n\nbad[\n", ".dockerignore");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(m.error().message(), ".dockerignore:3: bad pattern `bad[`");

  auto bang = IgnoreMatcher::Parse("a\n ! \n", "ctx/.dockerignore");
  ASSERT_FALSE(bang.has_value());
  EXPECT_EQ(bang.error().message(), "ctx/.dockerignore:2: bad pattern `!`");
}

}  // namespace
}  // namespace berth::build
