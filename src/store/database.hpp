// The database: a URL, a bounded pool of SOCI sessions that reconnect by themselves, transactions.
// Repositories take a Connection&; services decide the unit of work with Run or Transaction.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace soci {
class session;
}

namespace ikigai::store {

enum class Dialect { kSqlite, kMysql };

struct DatabaseUrl {
  Dialect dialect = Dialect::kSqlite;
  std::string path;  // sqlite
  std::string host, user, password, database;  // mysql
  std::uint16_t port = 3306;
  // The URL with the password replaced by "***": the only form that may be logged.
  [[nodiscard]] std::string Redacted() const;
};

// sqlite://relative/or/absolute/path, sqlite:///abs/path, sqlite::memory:,
// mysql://user:pass@host:port/db (mariadb:// too; user and password are percent-decoded).
[[nodiscard]] core::Result<DatabaseUrl> ParseDatabaseUrl(const std::string& url);

struct DatabaseOptions {
  std::size_t pool_size = 8;
  std::string sqlite_synchronous = "FULL";
  std::chrono::milliseconds acquire_timeout{5000};
};

// Prepared statements kept per pooled session (SOCI's `session <<` prepares on every call):
// fixed statements under the address of a static tag, statements built at run time (filters,
// sort orders) under their SQL text. The text-keyed side is bounded: its keys come from a
// finite set of query shapes, but a bug there must not grow memory per request.
struct StatementCache {
  static constexpr std::size_t kMaxByText = 64;
  std::map<const void*, std::shared_ptr<void>> by_tag;
  std::unordered_map<std::string, std::shared_ptr<void>> by_text;
  void clear() {
    by_text.clear();
    by_tag.clear();
  }
};

// One pooled session, lent to a unit of work. Not thread safe; never kept past the unit of work.
class Connection {
 public:
  Connection(soci::session& sql, Dialect dialect, StatementCache* cache = nullptr)
      : sql_(sql), dialect_(dialect), cache_(cache) {}
  [[nodiscard]] soci::session& Sql() { return sql_; }
  [[nodiscard]] Dialect GetDialect() const { return dialect_; }

  // The T made once per session by `make(Sql())` for this key (the address of a static tag):
  // T holds a prepared soci::statement and the variables bound to it. Hot paths only.
  template <class T, class Make>
  T& Prepared(const void* key, Make&& make) {
    if (cache_ == nullptr) {
      local_ = std::shared_ptr<T>(make(sql_));
      return *static_cast<T*>(local_.get());
    }
    auto& slot = cache_->by_tag[key];
    if (!slot) slot = std::shared_ptr<T>(make(sql_));
    return *static_cast<T*>(slot.get());
  }

  // The T made once per session by `make(Sql())` for this SQL text, for statements whose text
  // varies with the request (one entry per query shape; values stay bound parameters). When the
  // cache is full an older entry is dropped, so the reference is only good until the next call.
  template <class T, class Make>
  T& PreparedText(const std::string& sql, Make&& make) {
    if (cache_ == nullptr) {
      local_ = std::shared_ptr<T>(make(sql_));
      return *static_cast<T*>(local_.get());
    }
    auto& map = cache_->by_text;
    if (auto it = map.find(sql); it != map.end()) return *static_cast<T*>(it->second.get());
    if (map.size() >= StatementCache::kMaxByText) map.erase(map.begin());
    std::shared_ptr<void> made = std::shared_ptr<T>(make(sql_));
    auto* out = static_cast<T*>(made.get());
    map.emplace(sql, std::move(made));
    return *out;
  }

  // Drops the statement kept for this SQL text: after an exception it may be left mid-result,
  // and an SQLite statement that is not reset keeps its read snapshot.
  void ForgetText(const std::string& sql) {
    if (cache_ != nullptr) cache_->by_text.erase(sql);
  }

 private:
  soci::session& sql_;
  Dialect dialect_;
  StatementCache* cache_;
  std::shared_ptr<void> local_;
};

// What a failed database call means for the client.
enum class DbFailure { kUnavailable, kDuplicate, kRetry, kOther };

// Classifies a SOCI exception; `constraint` receives the unique index name for kDuplicate.
[[nodiscard]] DbFailure ClassifyDbError(const std::exception& e, Dialect dialect, std::string* constraint);

class Database {
 public:
  Database(DatabaseUrl url, DatabaseOptions options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] Dialect GetDialect() const { return url_.dialect; }
  [[nodiscard]] const DatabaseUrl& Url() const { return url_; }

  // Runs fn(Connection&) -> Result<T> outside a transaction (each statement commits alone).
  template <class F>
  auto Run(F&& fn) -> std::invoke_result_t<F, Connection&> {
    return Execute<std::invoke_result_t<F, Connection&>>(std::forward<F>(fn), false);
  }

  // Runs fn(Connection&) -> Result<T> in one transaction: committed when fn returns a value,
  // rolled back when it returns an error or throws. A deadlock victim (or, on Galera, a
  // certification failure, also at COMMIT) runs again after a random pause, up to kMaxAttempts
  // times in all, so fn must not have effects outside the database. SQLite takes the write lock up front
  // (BEGIN IMMEDIATE) so concurrent writers queue instead of failing with SQLITE_BUSY.
  template <class F>
  auto Transaction(F&& fn) -> std::invoke_result_t<F, Connection&> {
    return Execute<std::invoke_result_t<F, Connection&>>(std::forward<F>(fn), true);
  }

  struct PoolStats {
    std::size_t size = 0;
    std::size_t in_use = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t failures = 0;
    std::uint64_t retries = 0;  // deadlock and certification victims run again
  };
  // Runs of one unit of work, the first included, when it keeps losing deadlocks or certification.
  static constexpr int kMaxAttempts = 8;
  // True once a connection found the server to be a Galera node (wsrep_on).
  [[nodiscard]] bool Galera() const { return galera_.load(); }
  [[nodiscard]] PoolStats Stats() const;

  // Closes every idle session (shutdown).
  void Close();

 private:
  struct Slot;
  class Lease;

  // The type-erased core: borrows a session, runs body (which returns whether to commit) and
  // turns database exceptions into kUnavailable/kConflict/kInternal errors.
  core::Result<void> ExecuteErased(const std::function<bool(Connection&)>& body, bool transaction);

  template <class R>
  R Execute(auto&& fn, bool transaction) {
    std::optional<R> result;
    auto status = ExecuteErased(
        [&](Connection& c) {
          result.emplace(fn(c));
          return result->has_value();
        },
        transaction);
    if (!status) return core::Fail(status.error());
    return std::move(*result);
  }

  std::unique_ptr<soci::session> Open();
  Slot* Acquire(core::Error* error);
  void Release(Slot* slot, bool broken);

  DatabaseUrl url_;
  DatabaseOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::size_t in_use_ = 0;
  std::uint64_t generation_ = 0;  // bumped when a connection is found dead: others get pinged
  std::atomic<std::uint64_t> reconnects_{0};
  std::atomic<std::uint64_t> failures_{0};
  std::atomic<std::uint64_t> retries_{0};
  std::atomic<bool> galera_{false};
  std::mutex sqlite_writer_;  // one writer at a time inside this process (SQLite only)
  bool closed_ = false;
};

}  // namespace ikigai::store
