#include "berth/image/db.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/base/file.h"

namespace berth::image {
namespace {

constexpr std::string_view kSchema = R"(
CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v INTEGER, t TEXT);
CREATE TABLE IF NOT EXISTS child (k TEXT REFERENCES kv(k) ON DELETE CASCADE);
)";

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-db-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(RemoveAll(dir_).has_value()); }
  Database Open() {
    auto d = Database::Open(dir_ + "/t.db", kSchema);
    EXPECT_TRUE(d.has_value()) << d.error().message();
    return std::move(*d);
  }
  std::string dir_;
};

TEST_F(DbTest, ExecQueryRoundTrip) {
  Database db = Open();
  ASSERT_TRUE(db.Exec("INSERT INTO kv VALUES (?, ?, ?)", {"a", int64_t{7}, nullptr}).has_value());
  ASSERT_TRUE(db.Exec("INSERT INTO kv VALUES (?, ?, ?)", {"b", int64_t{-1}, "x"}).has_value());
  EXPECT_EQ(db.Changes(), 1);
  std::vector<std::string> seen;
  ASSERT_TRUE(db.Query("SELECT k, v, t FROM kv ORDER BY k", {}, [&](const Row& r) {
                  seen.push_back(r.Text(0) + ":" + std::to_string(r.Int(1)) + ":" +
                                 (r.IsNull(2) ? "null" : r.Text(2)));
                  return true;
                }).has_value());
  EXPECT_EQ(seen, (std::vector<std::string>{"a:7:null", "b:-1:x"}));
}

TEST_F(DbTest, QueryStopsEarly) {
  Database db = Open();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(db.Exec("INSERT INTO kv (k, v) VALUES (?, ?)", {std::to_string(i), int64_t{i}})
                    .has_value());
  int n = 0;
  ASSERT_TRUE(db.Query("SELECT k FROM kv", {}, [&](const Row&) { return ++n < 2; }).has_value());
  EXPECT_EQ(n, 2);
}

TEST_F(DbTest, ErrorsNameTheSql) {
  Database db = Open();
  auto st = db.Exec("INSERT INTO nosuch VALUES (1)");
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("`INSERT INTO nosuch VALUES (1)`"), std::string::npos)
      << st.error().message();
  ASSERT_TRUE(db.Exec("INSERT INTO kv (k) VALUES ('a')").has_value());
  auto dup = db.Exec("INSERT INTO kv (k) VALUES ('a')");
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code(), ErrorCode::kAlreadyExists);
  auto bad = db.Exec("INSERT INTO kv (k) VALUES (?)", {});
  ASSERT_FALSE(bad.has_value());
}

TEST_F(DbTest, TransactionRollsBackOnError) {
  Database db = Open();
  auto st = db.Transaction([&]() -> Status {
    BERTH_TRY(db.Exec("INSERT INTO kv (k) VALUES ('x')"));
    return Fail(ErrorCode::kInternal, "boom");
  });
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().message(), "boom");
  int n = 0;
  ASSERT_TRUE(db.Query("SELECT count(*) FROM kv", {}, [&](const Row& r) {
                  n = static_cast<int>(r.Int(0));
                  return true;
                }).has_value());
  EXPECT_EQ(n, 0);
  // Nested transactions join the outer one.
  ASSERT_TRUE(db.Transaction([&]() -> Status {
                  BERTH_TRY(db.Exec("INSERT INTO kv (k) VALUES ('y')"));
                  return db.Transaction([&] { return db.Exec("INSERT INTO kv (k) VALUES ('z')"); });
                }).has_value());
  ASSERT_TRUE(db.Query("SELECT count(*) FROM kv", {}, [&](const Row& r) {
                  n = static_cast<int>(r.Int(0));
                  return true;
                }).has_value());
  EXPECT_EQ(n, 2);
}

TEST_F(DbTest, ForeignKeysCascade) {
  Database db = Open();
  ASSERT_TRUE(db.Exec("INSERT INTO kv (k) VALUES ('p')").has_value());
  ASSERT_TRUE(db.Exec("INSERT INTO child (k) VALUES ('p')").has_value());
  EXPECT_FALSE(db.Exec("INSERT INTO child (k) VALUES ('missing')").has_value());
  ASSERT_TRUE(db.Exec("DELETE FROM kv WHERE k = 'p'").has_value());
  int n = -1;
  ASSERT_TRUE(db.Query("SELECT count(*) FROM child", {}, [&](const Row& r) {
                  n = static_cast<int>(r.Int(0));
                  return true;
                }).has_value());
  EXPECT_EQ(n, 0);
}

TEST_F(DbTest, ReopenKeepsDataAndWal) {
  {
    Database db = Open();
    ASSERT_TRUE(db.Exec("INSERT INTO kv (k) VALUES ('keep')").has_value());
  }
  Database db = Open();
  std::string mode;
  ASSERT_TRUE(db.Query("PRAGMA journal_mode", {}, [&](const Row& r) {
                  mode = r.Text(0);
                  return false;
                }).has_value());
  EXPECT_EQ(mode, "wal");
  int n = 0;
  ASSERT_TRUE(db.Query("SELECT count(*) FROM kv WHERE k = 'keep'", {}, [&](const Row& r) {
                  n = static_cast<int>(r.Int(0));
                  return true;
                }).has_value());
  EXPECT_EQ(n, 1);
}

TEST_F(DbTest, ConcurrentWritersFromTwoProcesses) {
  Database db = Open();  // schema exists before the fork
  constexpr int kPerProcess = 200;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  const char* who = pid == 0 ? "c" : "p";
  {
    auto mine = Database::Open(dir_ + "/t.db", kSchema);
    bool ok = mine.has_value();
    for (int i = 0; ok && i < kPerProcess; ++i) {
      ok = mine->Transaction([&]() -> Status {
                 return mine->Exec("INSERT INTO kv (k, v) VALUES (?, ?)",
                                   {std::string(who) + std::to_string(i), int64_t{i}});
               })
               .has_value();
    }
    if (pid == 0) ::_exit(ok ? 0 : 1);
    EXPECT_TRUE(ok);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  int n = 0;
  ASSERT_TRUE(db.Query("SELECT count(*) FROM kv", {}, [&](const Row& r) {
                  n = static_cast<int>(r.Int(0));
                  return true;
                }).has_value());
  EXPECT_EQ(n, 2 * kPerProcess);
}

TEST_F(DbTest, OpenFailsWithPath) {
  auto d = Database::Open(dir_ + "/missing/dir/t.db", kSchema);
  ASSERT_FALSE(d.has_value());
  EXPECT_NE(d.error().message().find("/missing/dir/t.db`"), std::string::npos);
}

}  // namespace
}  // namespace berth::image
