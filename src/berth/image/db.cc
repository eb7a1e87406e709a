#include "berth/image/db.h"

#include <sqlite3.h>

#include <utility>

#include "berth/base/defer.h"
#include "berth/base/log.h"
#include "berth/base/strings.h"

namespace berth::image {

namespace {

// SQL is quoted in messages; long statements are cut so errors stay readable.
std::string ShortSql(std::string_view sql) {
  std::string s(Trim(sql));
  for (char& c : s)
    if (c == '\n' || c == '\t') c = ' ';
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

ErrorCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return ErrorCode::kTimeout;
    case SQLITE_CONSTRAINT:
      return ErrorCode::kAlreadyExists;
    case SQLITE_PERM:
    case SQLITE_AUTH:
    case SQLITE_READONLY:
      return ErrorCode::kPermissionDenied;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_FULL:
      return ErrorCode::kSystem;
    default:
      return ErrorCode::kInternal;
  }
}

unexpected<Error> SqlError(sqlite3* db, int rc, std::string_view sql) {
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Fail(CodeFor(rc), StrCat("sqlite: ", Quote(ShortSql(sql)), ": ", msg));
}

struct StmtCloser {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtCloser>;

Status Bind(sqlite3* db, sqlite3_stmt* s, const std::vector<DbValue>& args, std::string_view sql) {
  if (static_cast<int>(args.size()) != sqlite3_bind_parameter_count(s))
    return Fail(ErrorCode::kInternal,
                StrCat("sqlite: ", Quote(ShortSql(sql)), ": ", args.size(), " arguments for ",
                       sqlite3_bind_parameter_count(s), " parameters"));
  for (size_t i = 0; i < args.size(); ++i) {
    int idx = static_cast<int>(i) + 1;
    int rc = SQLITE_OK;
    if (std::holds_alternative<std::nullptr_t>(args[i])) {
      rc = sqlite3_bind_null(s, idx);
    } else if (auto* n = std::get_if<int64_t>(&args[i])) {
      rc = sqlite3_bind_int64(s, idx, *n);
    } else {
      const auto& t = std::get<std::string>(args[i]);
      // SQLITE_TRANSIENT: sqlite copies, so the argument vector may die before step.
      rc = sqlite3_bind_text(s, idx, t.data(), static_cast<int>(t.size()), SQLITE_TRANSIENT);
    }
    if (rc != SQLITE_OK) return SqlError(db, rc, sql);
  }
  return Ok();
}

// Prepares the first statement of `sql`; `tail` receives the rest.
Result<Stmt> Prepare(sqlite3* db, std::string_view sql, std::string_view* tail) {
  sqlite3_stmt* raw = nullptr;
  const char* end = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &end);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(raw);
    return SqlError(db, rc, sql);
  }
  if (tail) *tail = sql.substr(static_cast<size_t>(end - sql.data()));
  return Stmt(raw);
}

}  // namespace

int64_t Row::Int(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Row::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (!p) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

bool Row::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

// WAL lengths (pages) for CheckpointIfLong() and for the checkpoint after any commit. Each
// restart of the WAL costs one fdatasync (~0.9 ms), recovering a page ~20 us.
constexpr int kWalLongPages = 48;
constexpr int kWalBackstopPages = 256;

// A positive 31-bit FNV-1a hash of the schema text (user_version is a signed 32-bit field).
static int64_t SchemaVersion(std::string_view schema) {
  uint32_t h = 2166136261u;
  for (unsigned char c : schema) h = (h ^ c) * 16777619u;
  return static_cast<int64_t>(h & 0x7fffffffu) | 1;
}

Result<Database> Database::Open(const std::string& path, std::string_view schema) {
  Database d;
  // berth serializes the calls on a connection itself (mu_): no need for sqlite's mutexes.
  int rc = sqlite3_open_v2(
      path.c_str(), &d.db_,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
      nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = d.db_ ? sqlite3_errmsg(d.db_) : sqlite3_errstr(rc);
    return Fail(CodeFor(rc), StrCat("open database ", Quote(path), ": ", msg));
  }
  // Other berth processes hold the write lock briefly: wait for them rather than fail.
  // Generous: 50 berth processes starting at once on 2 slow (sanitized) cores queue here.
  sqlite3_busy_timeout(d.db_, 120000);
  // Every berth command opens and closes the database: a checkpoint (two fsyncs) at each
  // close would cost more than the command's own work. The WAL is checkpointed as it grows.
  sqlite3_db_config(d.db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  auto wrap = [&](Status st) -> Status {
    if (!st) return Unexpected(std::move(st).error().Wrap(StrCat("open database ", Quote(path))));
    return Ok();
  };
  log::Trace("db: opened");
  BERTH_TRY(wrap(d.Exec("PRAGMA journal_mode=WAL")));
  log::Trace("db: wal");
  BERTH_TRY(wrap(d.Exec("PRAGMA synchronous=NORMAL")));
  BERTH_TRY(wrap(d.Exec("PRAGMA foreign_keys=ON")));
  // The first connection of each process rebuilds its WAL index by reading every frame
  // since the last checkpoint (~20 us a page here): a short WAL keeps that cheap. This hook
  // replaces SQLite's automatic checkpoint at 1000 pages, which let every command read up
  // to 4 MB; CheckpointIfLong() does the usual work off the critical path.
  sqlite3_wal_hook(
      d.db_,
      [](void* cell, sqlite3* db, const char*, int pages) -> int {
        *static_cast<int*>(cell) = pages;
        if (pages >= kWalBackstopPages) {
          sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
        }
        return SQLITE_OK;
      },
      d.wal_pages_.get());
  if (!Trim(schema).empty()) {
    // user_version records which schema text was applied, so the usual open is a read.
    // Applied once by whichever process gets there first (idempotent CREATE ... IF NOT EXISTS).
    const int64_t version = SchemaVersion(schema);
    int64_t current = 0;
    BERTH_TRY(wrap(d.Query("PRAGMA user_version", {}, [&](const Row& r) {
      current = r.Int(0);
      return false;
    })));
    if (current != version) {
      BERTH_TRY(wrap(d.Transaction([&]() -> Status {
        BERTH_TRY(d.Exec(schema));
        return d.Exec(StrCat("PRAGMA user_version=", version));
      })));
    }
  }
  log::Trace("db: schema checked");
  return d;
}

Database::Database(Database&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)),
      wal_pages_(std::move(o.wal_pages_)),
      tx_depth_(std::exchange(o.tx_depth_, 0)),
      mu_(std::move(o.mu_)) {}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    wal_pages_ = std::move(o.wal_pages_);
    tx_depth_ = std::exchange(o.tx_depth_, 0);
    mu_ = std::move(o.mu_);
  }
  return *this;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Status Database::Exec(std::string_view sql, const std::vector<DbValue>& args) {
  std::lock_guard lock(*mu_);
  std::string_view rest = sql;
  bool first = true;
  while (!Trim(rest).empty()) {
    std::string_view tail;
    BERTH_ASSIGN_OR_RETURN(Stmt st, Prepare(db_, rest, &tail));
    if (!st) break;  // only comments or whitespace left
    // Arguments belong to the first statement; later ones (a schema script) take none.
    static const std::vector<DbValue> kNone;
    BERTH_TRY(Bind(db_, st.get(), first ? args : kNone, rest));
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqlError(db_, rc, rest.substr(0, rest.size() - tail.size()));
    first = false;
    rest = tail;
  }
  return Ok();
}

Status Database::Query(std::string_view sql, const std::vector<DbValue>& args,
                       const std::function<bool(const Row&)>& row) const {
  std::lock_guard lock(*mu_);
  BERTH_ASSIGN_OR_RETURN(Stmt st, Prepare(db_, sql, nullptr));
  if (!st) return Fail(ErrorCode::kInternal, StrCat("sqlite: empty query ", Quote(sql)));
  BERTH_TRY(Bind(db_, st.get(), args, sql));
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    if (!row(Row(st.get()))) return Ok();
  }
  if (rc != SQLITE_DONE) return SqlError(db_, rc, sql);
  return Ok();
}

int64_t Database::Changes() const {
  std::lock_guard lock(*mu_);
  return sqlite3_changes64(db_);
}

Status Database::CheckpointIfLong() {
  std::lock_guard lock(*mu_);
  if (*wal_pages_ < kWalLongPages) return Ok();
  int log_pages = 0, copied = 0;
  int rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_pages, &copied);
  if (rc == SQLITE_BUSY) return Ok();
  if (rc != SQLITE_OK) return Fail(CodeFor(rc), StrCat("checkpoint: ", sqlite3_errmsg(db_)));
  if (log_pages > 0 && copied == log_pages) {
    // All copied: the next commit restarts the WAL, which syncs its new header. Make that
    // commit now (rewriting the schema version), while nobody waits for us.
    int64_t version = 0;
    BERTH_TRY(Query("PRAGMA user_version", {}, [&](const Row& r) {
      version = r.Int(0);
      return false;
    }));
    BERTH_TRY(Exec(StrCat("PRAGMA user_version=", version)));
  }
  return Ok();
}

Status Database::Transaction(const std::function<Status()>& body) {
  std::lock_guard lock(*mu_);
  if (tx_depth_ > 0) {
    ++tx_depth_;
    Defer dec([&] { --tx_depth_; });
    return body();
  }
  // IMMEDIATE takes the write lock up front (waiting through the busy timeout), so two
  // writers never deadlock upgrading from a read lock.
  BERTH_TRY_CTX(Exec("BEGIN IMMEDIATE"), "begin transaction");
  tx_depth_ = 1;
  Status st = body();
  tx_depth_ = 0;
  if (!st) {
    (void)Exec("ROLLBACK");
    return st;
  }
  if (Status c = Exec("COMMIT"); !c) {
    (void)Exec("ROLLBACK");
    return Unexpected(std::move(c).error().Wrap("commit transaction"));
  }
  return Ok();
}

}  // namespace berth::image
