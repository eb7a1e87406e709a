#include "berth/registry/htpasswd.h"

#include <gtest/gtest.h>

namespace berth::registry {
namespace {

// Cost 5 keeps the test fast; the salt is 22 characters of bcrypt's alphabet.
constexpr std::string_view kSalt = "$2b$05$abcdefghijklmnopqrstuu";

TEST(Htpasswd, VerifiesBcrypt) {
  auto hash = BcryptHash("s3cret", kSalt);
  ASSERT_TRUE(hash.has_value()) << hash.error().message();
  ASSERT_EQ(hash->size(), 60u);
  auto h = Htpasswd::Parse("\nalice:" + *hash + "\n\n# comment\nbob:" + *hash + "\n", "users");
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_EQ(h->size(), 2u);
  EXPECT_TRUE(h->Verify("alice", "s3cret"));
  EXPECT_TRUE(h->Verify("bob", "s3cret"));
  EXPECT_FALSE(h->Verify("alice", "s3cret "));
  EXPECT_FALSE(h->Verify("alice", ""));
  EXPECT_FALSE(h->Verify("carol", "s3cret"));
}

TEST(Htpasswd, AcceptsApacheY) {
  // htpasswd -B writes $2y$, which libcrypt treats like $2b$.
  auto hash = BcryptHash("pw", "$2y$05$abcdefghijklmnopqrstuu");
  ASSERT_TRUE(hash.has_value()) << hash.error().message();
  auto h = Htpasswd::Parse("u:" + *hash, "users");
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_TRUE(h->Verify("u", "pw"));
  EXPECT_FALSE(h->Verify("u", "PW"));
}

TEST(Htpasswd, RejectsOtherHashesNamingTheLine) {
  auto h = Htpasswd::Parse("ok:$2y$05$abcdefghijklmnopqrstuu5zPC1P9dVcNl2ZhvGE2MQ7v/YvLh1zG\n"
                           "md5:$apr1$xyz$abcdefghijklmnopqrstuv\n",
                           "htpasswd `f`");
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("htpasswd `f`: line 2: user `md5`"), std::string::npos)
      << h.error().message();
  EXPECT_NE(h.error().message().find("bcrypt"), std::string::npos);

  h = Htpasswd::Parse("sha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "f");
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("SHA-1"), std::string::npos) << h.error().message();

  h = Htpasswd::Parse("no-colon-here\n", "f");
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("line 1"), std::string::npos);
}

TEST(Htpasswd, RejectsDuplicateUsers) {
  std::string line = "a:$2y$05$abcdefghijklmnopqrstuu5zPC1P9dVcNl2ZhvGE2MQ7v/YvLh1zG\n";
  auto h = Htpasswd::Parse(line + line, "f");
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("twice"), std::string::npos);
}

TEST(Htpasswd, LoadNamesMissingFile) {
  auto h = Htpasswd::Load("/nonexistent/berth-htpasswd");
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().message().find("/nonexistent/berth-htpasswd"), std::string::npos);
}

}  // namespace
}  // namespace berth::registry
