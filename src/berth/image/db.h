// berth/image: a small RAII layer over SQLite for berth.db (WAL, synchronous=NORMAL,
// busy timeout so concurrent berth processes wait instead of failing, foreign keys on).
// Statements bind by position; every error names the SQL that failed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/base/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace berth::image {

using DbValue = std::variant<std::nullptr_t, int64_t, std::string>;

class Row {
 public:
  explicit Row(sqlite3_stmt* s) : stmt_(s) {}
  int64_t Int(int col) const;
  std::string Text(int col) const;
  bool IsNull(int col) const;

 private:
  sqlite3_stmt* stmt_;
};

class Database {
 public:
  // Opens (creating) the file and runs `schema` (idempotent CREATE ... IF NOT EXISTS).
  static Result<Database> Open(const std::string& path, std::string_view schema);
  Database(Database&&) noexcept;
  Database& operator=(Database&&) noexcept;
  ~Database();

  Status Exec(std::string_view sql, const std::vector<DbValue>& args = {});
  // Calls `row` for each result row; stop early by returning false.
  Status Query(std::string_view sql, const std::vector<DbValue>& args,
               const std::function<bool(const Row&)>& row) const;
  // Rows changed by the last Exec.
  int64_t Changes() const;
  // When the WAL has grown past a few dozen pages: copies it into the database without
  // waiting for anyone (a passive checkpoint), so the next writer starts the WAL afresh and
  // the next process has little to recover. For moments when this process would idle.
  Status CheckpointIfLong();
  // BEGIN IMMEDIATE ... COMMIT; rolls back when `body` fails.
  Status Transaction(const std::function<Status()>& body);

 private:
  Database() = default;
  sqlite3* db_ = nullptr;
  // Pages in the WAL after our last commit (the WAL hook's count); on the heap so the hook's
  // pointer survives moves of this object.
  std::unique_ptr<int> wal_pages_ = std::make_unique<int>(0);
  // Transaction() inside a Transaction() body joins the outer one.
  int tx_depth_ = 0;
  // One connection may be used by several threads (a pull's layer workers): every call holds
  // this, a transaction for its whole body (recursive: its body calls Exec and Query).
  std::unique_ptr<std::recursive_mutex> mu_ = std::make_unique<std::recursive_mutex>();
};

}  // namespace berth::image
