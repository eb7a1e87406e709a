#include "berth/oci/reference.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::oci {
namespace {

const std::string kHex = std::string(64, 'a');
const std::string kDigest = "sha256:" + kHex;

struct Normalized {
  std::string in;
  std::string domain, path, tag, digest;
  std::string familiar;
};

TEST(ReferenceTest, Normalizes) {
  const Normalized cases[] = {
      {"busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
      {"busybox:1.36", "docker.io", "library/busybox", "1.36", "", "busybox:1.36"},
      {"library/busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
      {"docker.io/busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
      {"index.docker.io/busybox", "docker.io", "library/busybox", "latest", "", "busybox:latest"},
      {"index.docker.io/foo/bar", "docker.io", "foo/bar", "latest", "", "foo/bar:latest"},
      {"docker.io/library/a/b", "docker.io", "library/a/b", "latest", "", "library/a/b:latest"},
      {"foo/bar", "docker.io", "foo/bar", "latest", "", "foo/bar:latest"},
      {"localhost/busybox", "localhost", "busybox", "latest", "", "localhost/busybox:latest"},
      {"localhost:5000/a/b:1", "localhost:5000", "a/b", "1", "", "localhost:5000/a/b:1"},
      {"reg:5000/a/b@" + kDigest, "reg:5000", "a/b", "", kDigest, "reg:5000/a/b@" + kDigest},
      {"quay.io/x/y:v1@" + kDigest, "quay.io", "x/y", "v1", kDigest, "quay.io/x/y:v1@" + kDigest},
      {"busybox@" + kDigest, "docker.io", "library/busybox", "", kDigest, "busybox@" + kDigest},
      {"[::1]:5000/img", "[::1]:5000", "img", "latest", "", "[::1]:5000/img:latest"},
      {"My-Registry.example.com/a", "My-Registry.example.com", "a", "latest", "",
       "My-Registry.example.com/a:latest"},
      {"a-b.c-d/g", "a-b.c-d", "g", "latest", "", "a-b.c-d/g:latest"},
      {"x/a_b.c__d-e---f", "docker.io", "x/a_b.c__d-e---f", "latest", "",
       "x/a_b.c__d-e---f:latest"},
      {"localhost", "docker.io", "library/localhost", "latest", "", "localhost:latest"},
      {"localhost:5000", "docker.io", "library/localhost", "5000", "", "localhost:5000"},
      {"ubuntu:Jammy_2.x-1", "docker.io", "library/ubuntu", "Jammy_2.x-1", "",
       "ubuntu:Jammy_2.x-1"},
  };
  for (const auto& c : cases) {
    auto r = ParseReference(c.in);
    ASSERT_TRUE(r.has_value()) << c.in << ": " << r.error().message();
    EXPECT_EQ(r->domain, c.domain) << c.in;
    EXPECT_EQ(r->path, c.path) << c.in;
    EXPECT_EQ(r->tag, c.tag) << c.in;
    EXPECT_EQ(r->digest, c.digest) << c.in;
    EXPECT_EQ(r->Familiar(), c.familiar) << c.in;
    EXPECT_EQ(r->Name(), c.domain + "/" + c.path);
    // The canonical form parses back to the same reference.
    auto again = ParseReference(r->String());
    ASSERT_TRUE(again.has_value()) << r->String();
    EXPECT_EQ(*again, *r) << r->String();
    // So does the familiar one.
    auto fam = ParseReference(r->Familiar());
    ASSERT_TRUE(fam.has_value()) << r->Familiar();
    EXPECT_EQ(*fam, *r) << r->Familiar();
  }
}

TEST(ReferenceTest, StringForms) {
  auto r = ParseReference("busybox");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->String(), "docker.io/library/busybox:latest");
  r = ParseReference("reg:5000/a/b:t@" + kDigest);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->String(), "reg:5000/a/b:t@" + kDigest);
}

TEST(ReferenceTest, FamiliarKeepsDomainWhenNeeded) {
  Reference r{"docker.io", "localhost/foo", "1", ""};
  EXPECT_EQ(r.Familiar(), "docker.io/localhost/foo:1");
  Reference r2{"docker.io", "a.b/foo", "1", ""};
  EXPECT_EQ(r2.Familiar(), "docker.io/a.b/foo:1");
  auto back = ParseReference(r.Familiar());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, r);
}

TEST(ReferenceTest, Rejects) {
  struct Bad {
    std::string in;
    std::string why;
  };
  const Bad cases[] = {
      {"", "empty"},
      {"Busybox", "must be lowercase"},
      {"foo/Bar", "must be lowercase"},
      {"Foo/bar", "must be lowercase"},
      {"reg.io/Foo", "must be lowercase"},
      {"busybox:", "invalid tag"},
      {"busybox:-x", "invalid tag"},
      {"busybox:.x", "invalid tag"},
      {"busybox:a+b", "invalid tag"},
      {"busybox:" + std::string(129, 'a'), "invalid tag"},
      {"busybox@sha256:abc", "invalid digest"},
      {"busybox@sha256:" + std::string(64, 'A'), "invalid digest"},
      {"busybox@md5:" + std::string(32, 'a'), "invalid digest"},
      {"busybox@", "invalid digest"},
      {"a..b", "invalid repository name"},
      {"a._b", "invalid repository name"},
      {"a___b", "invalid repository name"},
      {"-a", "invalid repository name"},
      {"a-", "invalid repository name"},
      {"a//b", "invalid repository name"},
      {"/a", "invalid repository name"},
      {"a/", "invalid repository name"},
      {"reg.io/", "invalid repository name"},
      {"foo:bar:baz", "invalid repository name"},
      {"a b", "invalid repository name"},
      {":tag", "missing repository name"},
      {"@" + kDigest, "missing repository name"},
      {"-reg.io/a", "invalid registry"},
      {"reg.io:/a", "invalid registry"},
      {"reg.io:5x/a", "invalid registry"},
      {"reg..io/a", "invalid registry"},
      {"[zz]:5000/a", "invalid registry"},
      {"[]:5/a", "invalid registry"},
      {"[]/a", "invalid repository name"},
      {"a.b_c/g", "invalid registry"},
      {"[::1]x/a", "invalid registry"},
      {kHex, "image id"},
      {"a/" + std::string(260, 'b'), "longer than 255"},
  };
  for (const auto& c : cases) {
    auto r = ParseReference(c.in);
    ASSERT_FALSE(r.has_value()) << c.in << " parsed as " << r->String();
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message().find(c.why), std::string::npos)
        << c.in << ": " << r.error().message();
    EXPECT_TRUE(r.error().message().starts_with("invalid reference `" + c.in + "`"))
        << r.error().message();
  }
}

TEST(ReferenceTest, LooksLikeIdPrefix) {
  EXPECT_TRUE(LooksLikeIdPrefix("abc"));
  EXPECT_TRUE(LooksLikeIdPrefix("0123456789ab"));
  EXPECT_TRUE(LooksLikeIdPrefix(kHex));
  EXPECT_TRUE(LooksLikeIdPrefix(kDigest));
  EXPECT_TRUE(LooksLikeIdPrefix("sha256:abc"));
  EXPECT_FALSE(LooksLikeIdPrefix("ab"));
  EXPECT_FALSE(LooksLikeIdPrefix("busybox"));
  EXPECT_FALSE(LooksLikeIdPrefix("ABC"));
  EXPECT_FALSE(LooksLikeIdPrefix("abc:latest"));
  EXPECT_FALSE(LooksLikeIdPrefix(kHex + "a"));
  EXPECT_FALSE(LooksLikeIdPrefix(""));
}

}  // namespace
}  // namespace berth::oci
