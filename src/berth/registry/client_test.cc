// Unit tests of the registry client's parsing: URLs, challenges, auth.json, base64.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "berth/base/file.h"
#include "berth/registry/auth.h"
#include "berth/registry/http_client.h"
#include "berth/registry/registries_conf.h"

namespace berth::registry {
namespace {

TEST(UrlTest, ParsesSchemeHostPortAndTarget) {
  auto u = Url::Parse("https://reg.example:5000/v2/a/b?x=1");
  ASSERT_TRUE(u.has_value()) << u.error().message();
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "reg.example");
  EXPECT_EQ(u->port, "5000");
  EXPECT_EQ(u->target, "/v2/a/b?x=1");
  auto d = Url::Parse("http://h");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->port, "80");
  EXPECT_EQ(d->target, "/");
  auto v6 = Url::Parse("https://[::1]:8443/v2/");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->Origin(), "https://[::1]:8443");
}

TEST(UrlTest, RejectsWhatItCannotSpeakOrTrust) {
  EXPECT_FALSE(Url::Parse("ftp://h/").has_value());
  EXPECT_FALSE(Url::Parse("reg:5000/v2/").has_value());
  EXPECT_FALSE(Url::Parse("http://user:pw@h/").has_value());
  EXPECT_FALSE(Url::Parse("http://h:99999/").has_value());
  EXPECT_FALSE(Url::Parse("http://h:x/").has_value());
  EXPECT_FALSE(Url::Parse("http:///path").has_value());
  EXPECT_FALSE(Url::Parse("http://h/a b").has_value());
  EXPECT_FALSE(Url::Parse("http://h/a\r\nX: y").has_value());
}

TEST(UrlTest, ResolvesLocations) {
  auto base = Url::Parse("http://reg:5000/v2/r/blobs/uploads/");
  ASSERT_TRUE(base.has_value());
  EXPECT_EQ(base->Resolve("/v2/r/blobs/uploads/abc?_state=x")->String(),
            "http://reg:5000/v2/r/blobs/uploads/abc?_state=x");
  EXPECT_EQ(base->Resolve("abc")->String(), "http://reg:5000/v2/r/blobs/uploads/abc");
  EXPECT_EQ(base->Resolve("https://cdn.example/blob")->String(), "https://cdn.example:443/blob");
  EXPECT_EQ(base->Resolve("//other:1/x")->String(), "http://other:1/x");
  EXPECT_FALSE(base->Resolve("/a\nb").has_value());
}

TEST(ChallengeTest, ParsesBearerAndBasic) {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.example/token");
  EXPECT_EQ(c[0].params["service"], "registry.example");
  EXPECT_EQ(c[0].params["scope"], "repository:a/b:pull,push");
  auto two = ParseWwwAuthenticate(R"(Basic realm="x y", Bearer realm=tok,service=s)");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[0].scheme, "basic");
  EXPECT_EQ(two[0].params["realm"], "x y");
  EXPECT_EQ(two[1].scheme, "bearer");
  EXPECT_EQ(two[1].params["realm"], "tok");
  EXPECT_EQ(two[1].params["service"], "s");
  EXPECT_TRUE(ParseWwwAuthenticate("").empty());
  auto escaped = ParseWwwAuthenticate(R"(Basic realm="a\"b")");
  ASSERT_EQ(escaped.size(), 1u);
  EXPECT_EQ(escaped[0].params["realm"], "a\"b");
}

TEST(Base64Test, RoundTrips) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "user:p@ss:word",
                                                      std::string("\0\xff\x10", 3)}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("alice:s3cret"), "YWxpY2U6czNjcmV0");
  EXPECT_EQ(*Base64Decode("YWxpY2U6czNjcmV0"), "alice:s3cret");
  EXPECT_EQ(*Base64Decode("YQ"), "a");  // padding may be missing
  EXPECT_FALSE(Base64Decode("!!!!").has_value());
}

class AuthFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("berth-auth-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
    file_ = (dir_ / "sub" / "auth.json").string();
    ::setenv("HOME", dir_.c_str(), 1);  // no docker config of the user's
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string file_;
};

TEST_F(AuthFileTest, StoresLooksUpAndRemoves) {
  auto none = LookupCredentials(file_, "reg:5000", "a/b");
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(StoreCredentials(file_, "reg:5000", {"alice", "pw:with:colons"}).has_value());
  struct stat st;
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto found = LookupCredentials(file_, "reg:5000", "a/b");
  ASSERT_TRUE(found.has_value() && found->has_value());
  EXPECT_EQ((*found)->username, "alice");
  EXPECT_EQ((*found)->password, "pw:with:colons");
  // A repository-specific entry wins over the registry's.
  ASSERT_TRUE(StoreCredentials(file_, "reg:5000/a", {"bob", "x"}).has_value());
  EXPECT_EQ((*LookupCredentials(file_, "reg:5000", "a/b"))->username, "bob");
  EXPECT_EQ((*LookupCredentials(file_, "reg:5000", "c/d"))->username, "alice");
  EXPECT_FALSE(LookupCredentials(file_, "other", "a/b")->has_value());
  EXPECT_TRUE(*RemoveCredentials(file_, "reg:5000/a"));
  EXPECT_FALSE(*RemoveCredentials(file_, "reg:5000/a"));
  EXPECT_EQ((*LookupCredentials(file_, "reg:5000", "a/b"))->username, "alice");
  ASSERT_TRUE(RemoveAllCredentials(file_).has_value());
  EXPECT_FALSE(LookupCredentials(file_, "reg:5000", "a/b")->has_value());
}

TEST_F(AuthFileTest, KeepsOtherFieldsAndReadsDockersFile) {
  std::filesystem::create_directories(dir_ / "sub");
  ASSERT_TRUE(WriteFile(file_, R"({"auths":{"x":{"auth":"eDp5"}},"credHelpers":{"y":"z"}})").has_value());
  ASSERT_TRUE(StoreCredentials(file_, "reg", {"u", "p"}).has_value());
  auto text = ReadFile(file_);
  ASSERT_TRUE(text.has_value());
  EXPECT_NE(text->find("credHelpers"), std::string::npos);
  EXPECT_EQ((*LookupCredentials(file_, "x", "r"))->password, "y");
  // docker's ~/.docker/config.json is a fallback, with its index.docker.io key
  std::filesystem::create_directories(dir_ / ".docker");
  ASSERT_TRUE(WriteFile((dir_ / ".docker" / "config.json").string(),
                        R"({"auths":{"https://index.docker.io/v1/":{"auth":"ZDpo"}}})")
                  .has_value());
  EXPECT_EQ((*LookupCredentials(file_, "docker.io", "library/busybox"))->username, "d");
}

TEST_F(AuthFileTest, BrokenFilesAreErrorsThatNameTheFile) {
  std::filesystem::create_directories(dir_ / "sub");
  ASSERT_TRUE(WriteFile(file_, "{not json").has_value());
  auto r = LookupCredentials(file_, "reg", "a");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find(file_), std::string::npos) << r.error().message();
  ASSERT_TRUE(WriteFile(file_, R"({"auths":{"reg":{"auth":"bm9jb2xvbg=="}}})").has_value());
  auto r2 = LookupCredentials(file_, "reg", "a");
  ASSERT_FALSE(r2.has_value());
  EXPECT_NE(r2.error().message().find("user:password"), std::string::npos) << r2.error().message();
}

}  // namespace
}  // namespace berth::registry

namespace berth::registry {
namespace {

TEST(RegistriesConfTest, SearchMirrorsAndBlocks) {
  auto conf = RegistriesConf::Parse(R"(
unqualified-search-registries = ["reg.internal:5000", "docker.io"]
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "mirror.internal/hub"
insecure = true
[[registry]]
location = "bad.example"
blocked = true
[[registry]]
prefix = "old.example/team"
location = "new.example/people"
insecure = true
)",
                                    "test.conf");
  ASSERT_TRUE(conf.has_value()) << conf.error().message();
  auto short_name = PullSources(*conf, "busybox");
  ASSERT_TRUE(short_name.has_value()) << short_name.error().message();
  ASSERT_EQ(short_name->size(), 3u);
  EXPECT_EQ((*short_name)[0].reference.String(), "reg.internal:5000/busybox:latest");
  EXPECT_EQ((*short_name)[1].reference.String(), "mirror.internal/hub/library/busybox:latest");
  EXPECT_TRUE((*short_name)[1].mirror);
  EXPECT_TRUE((*short_name)[1].insecure);
  EXPECT_EQ((*short_name)[1].name.String(), "docker.io/library/busybox:latest");
  EXPECT_EQ((*short_name)[2].reference.String(), "docker.io/library/busybox:latest");

  auto rewritten = PullSources(*conf, "old.example/team/app@sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(rewritten.has_value());
  ASSERT_EQ(rewritten->size(), 1u);
  EXPECT_EQ((*rewritten)[0].reference.Name(), "new.example/people/app");
  EXPECT_EQ((*rewritten)[0].name.Name(), "old.example/team/app");
  // "old.example/teamwork" is not under the prefix "old.example/team"
  EXPECT_EQ((*PullSources(*conf, "old.example/teamwork/x"))[0].reference.Name(),
            "old.example/teamwork/x");

  auto blocked = PullSources(*conf, "bad.example/x");
  ASSERT_FALSE(blocked.has_value());
  EXPECT_NE(blocked.error().message().find("blocked"), std::string::npos);
  auto push = PushTarget(*conf, *oci::ParseReference("docker.io/library/busybox:1"));
  ASSERT_TRUE(push.has_value());
  EXPECT_EQ(push->reference.String(), "docker.io/library/busybox:1");  // no mirror for push
}

TEST(RegistriesConfTest, ErrorsNameTheFileAndField) {
  auto broken = RegistriesConf::Parse("unqualified-search-registries = [\n", "x.conf");
  ASSERT_FALSE(broken.has_value());
  EXPECT_NE(broken.error().message().find("x.conf"), std::string::npos);
  auto wrong = RegistriesConf::Parse("[[registry]]\nlocation = 5\n", "y.conf");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_NE(wrong.error().message().find("registry[0].location"), std::string::npos)
      << wrong.error().message();
  auto v1 = RegistriesConf::Parse("[registries.search]\nregistries = ['a.io']\n", "v1.conf");
  ASSERT_TRUE(v1.has_value()) << v1.error().message();
  EXPECT_EQ(v1->search, std::vector<std::string>{"a.io"});
  EXPECT_TRUE(RegistriesConf::LoadFile("/nonexistent/registries.conf").has_value());
}

TEST(RegistriesConfTest, QualifiedNames) {
  EXPECT_TRUE(IsFullyQualified("reg:5000/a"));
  EXPECT_TRUE(IsFullyQualified("localhost/a"));
  EXPECT_TRUE(IsFullyQualified("docker.io/busybox"));
  EXPECT_FALSE(IsFullyQualified("busybox"));
  EXPECT_FALSE(IsFullyQualified("library/busybox:1"));
}

}  // namespace
}  // namespace berth::registry
