// Connection pool over SOCI with reconnect-on-failure, transactions, and error classification.
#include "store/database.hpp"

#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <charconv>
#include <random>
#include <thread>

namespace ikigai::store {
namespace {

// "UNIQUE constraint failed: users.email_lower" followed by SOCI's copy of the SQL: keep the
// table.column list only.
std::string SqliteConstraint(const std::string& msg) {
  const std::string marker = "UNIQUE constraint failed: ";
  const auto at = msg.find(marker);
  if (at == std::string::npos) return {};
  std::string rest = msg.substr(at + marker.size());
  const auto end = rest.find_first_of(" \n\t");
  if (end != std::string::npos) rest.resize(end);
  return rest;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      int v = 0;
      std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// SOCI connect strings take name=value pairs; quote values so spaces and quotes survive.
std::string Quote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// Process-wide SQLite settings, applied before the first connection opens (sqlite3_config is
// refused once the library is initialised). Each pooled connection is used by one thread at a
// time, so SQLite's per-connection mutexes (taken on every sqlite3_column_* call) only cost; and
// memory statistics, which nothing reads, put one global mutex around every SQLite allocation,
// which the profile showed contended between the database workers.
void ConfigureSqliteLibrary() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD) != SQLITE_OK ||
        sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK) {
      spdlog::debug("SQLite was initialised before the pool: default threading and memory statistics kept");
    }
  });
}

// The message of a database error without SOCI's context: SOCI appends the statement and its
// bound values ("while executing ... with :h=..."), which may be a password hash, a token hash
// or an address, and none of those may reach the log.
std::string LoggableMessage(const std::exception& e) {
  if (const auto* s = dynamic_cast<const soci::soci_error*>(&e)) {
    std::string message = s->get_error_message();
    if (const auto cut = message.find(" while executing"); cut != std::string::npos) message.resize(cut);
    // MariaDB quotes the offending value in "Duplicate entry '<value>' for key ...".
    if (const auto start = message.find("Duplicate entry '"); start != std::string::npos) {
      const auto end = message.find("' for key", start + 17);
      if (end != std::string::npos) message.replace(start + 17, end - start - 17, "***");
    }
    return message;
  }
  return e.what();
}

// The pause before running a deadlock or certification victim again: random (so two transactions
// that collided do not collide again in step) and growing with the attempt, 1..2 ms at first,
// at most 1..64 ms.
std::chrono::microseconds RetryPause(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  const int ceiling_us = 1000 << std::min(attempt, 6);
  std::uniform_int_distribution<int> pick(1000, 1000 + ceiling_us);
  return std::chrono::microseconds(pick(rng));
}

core::Error Unavailable() {
  return core::Error{core::ErrorCode::kUnavailable, "The database is unavailable. Try again shortly.",
                     {}, 2};
}

}  // namespace

std::string DatabaseUrl::Redacted() const {
  if (dialect == Dialect::kSqlite) return "sqlite://" + path;
  return "mysql://" + user + ":***@" + host + ":" + std::to_string(port) + "/" + database;
}

core::Result<DatabaseUrl> ParseDatabaseUrl(const std::string& url) {
  auto bad = [](const std::string& why) {
    return core::Fail(core::ErrorCode::kValidation, "IKIGAI_DATABASE_URL: " + why);
  };
  DatabaseUrl out;
  if (url.rfind("sqlite://", 0) == 0) {
    out.dialect = Dialect::kSqlite;
    out.path = url.substr(9);
    if (out.path.empty()) return bad("sqlite:// needs a file path");
    return out;
  }
  if (url == "sqlite::memory:") {
    out.dialect = Dialect::kSqlite;
    out.path = ":memory:";
    return out;
  }
  std::string rest;
  if (url.rfind("mysql://", 0) == 0) rest = url.substr(8);
  else if (url.rfind("mariadb://", 0) == 0) rest = url.substr(10);
  else return bad("must start with sqlite:// or mysql://");
  out.dialect = Dialect::kMysql;
  const auto at = rest.rfind('@');
  if (at == std::string::npos) return bad("mysql URL needs user:password@host");
  const std::string userinfo = rest.substr(0, at);
  std::string hostpart = rest.substr(at + 1);
  const auto colon = userinfo.find(':');
  out.user = PercentDecode(userinfo.substr(0, colon));
  if (colon != std::string::npos) out.password = PercentDecode(userinfo.substr(colon + 1));
  const auto slash = hostpart.find('/');
  if (slash == std::string::npos || slash + 1 >= hostpart.size()) return bad("mysql URL needs /database");
  out.database = hostpart.substr(slash + 1);
  const auto q = out.database.find('?');
  if (q != std::string::npos) out.database.resize(q);
  hostpart.resize(slash);
  const auto pc = hostpart.rfind(':');
  if (pc != std::string::npos && hostpart.find(']') == std::string::npos) {
    unsigned port = 0;
    const auto ps = hostpart.substr(pc + 1);
    auto [p, ec] = std::from_chars(ps.data(), ps.data() + ps.size(), port);
    if (ec != std::errc{} || p != ps.data() + ps.size() || port == 0 || port > 65535) {
      return bad("bad port");
    }
    out.port = static_cast<std::uint16_t>(port);
    hostpart.resize(pc);
  }
  out.host = hostpart;
  if (out.host.empty() || out.user.empty() || out.database.empty()) return bad("mysql URL needs host, user and database");
  for (char c : out.database) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return bad("bad database name");
  }
  return out;
}

DbFailure ClassifyDbError(const std::exception& e, Dialect dialect, std::string* constraint) {
  if (dialect == Dialect::kMysql) {
    if (const auto* m = dynamic_cast<const soci::mysql_soci_error*>(&e)) {
      switch (m->err_num_) {
        case 1062:  // ER_DUP_ENTRY: "Duplicate entry 'x' for key 'name'"
          if (constraint != nullptr) {
            // SOCI appends the failed SQL to the message: keep only the quoted index name.
            const std::string msg = m->what();
            const auto k = msg.find("for key '");
            const auto end = k == std::string::npos ? std::string::npos : msg.find('\'', k + 9);
            *constraint = end == std::string::npos ? std::string{} : msg.substr(k + 9, end - k - 9);
          }
          return DbFailure::kDuplicate;
        case 1213:  // ER_LOCK_DEADLOCK: the transaction was rolled back; running it again is safe.
                    // Galera reports a certification failure or a brute-force abort by a replicated
                    // write ("WSREP detected deadlock/conflict"), at any statement or at COMMIT, the same way.
          return DbFailure::kRetry;
        case 1040:  // too many connections
        case 1047:  // ER_UNKNOWN_COM_ERROR: a Galera node outside the primary component ("WSREP has not
                    // yet prepared node for application use")
        case 1053:  // server shutdown in progress
        case 1180:  // ER_ERROR_DURING_COMMIT: Galera could not replicate the commit (node leaving the
                    // cluster); the transaction was rolled back
        case 1205:  // lock wait timeout
        case 1927:  // connection killed
        case 2002: case 2003: case 2006: case 2013: case 2055:  // CR_* connection errors
        case 4031:  // disconnected for inactivity
          return DbFailure::kUnavailable;
        default:
          return DbFailure::kOther;
      }
    }
    if (const auto* s = dynamic_cast<const soci::soci_error*>(&e)) {
      if (s->get_error_category() == soci::soci_error::connection_error) return DbFailure::kUnavailable;
    }
    return DbFailure::kOther;
  }
  if (const auto* s = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
    const int code = s->result() & 0xff;
    if (code == 19) {  // SQLITE_CONSTRAINT: "UNIQUE constraint failed: table.column"
      const std::string msg = s->what();
      if (msg.find("UNIQUE") == std::string::npos) return DbFailure::kOther;
      if (constraint != nullptr) *constraint = SqliteConstraint(msg);
      return DbFailure::kDuplicate;
    }
    if (code == 5 || code == 6 || code == 14 || code == 13 || code == 10) return DbFailure::kUnavailable;
    return DbFailure::kOther;
  }
  if (const auto* s = dynamic_cast<const soci::soci_error*>(&e)) {
    const std::string msg = s->what();
    if (msg.find("UNIQUE constraint failed") != std::string::npos) {
      if (constraint != nullptr) *constraint = SqliteConstraint(msg);
      return DbFailure::kDuplicate;
    }
    if (msg.find("database is locked") != std::string::npos ||
        msg.find("unable to open database") != std::string::npos) {
      return DbFailure::kUnavailable;
    }
  }
  return DbFailure::kOther;
}

static bool IsGaleraNode(soci::session& sql) {
  // @@wsrep_on exists on every MariaDB server (OFF without a provider); MySQL has no such variable.
  try {
    int on = 0;
    sql << "SELECT @@wsrep_on", soci::into(on);
    return on == 1;
  } catch (const std::exception&) {
    return false;
  }
}

struct Database::Slot {
  std::unique_ptr<soci::session> session;
  StatementCache statements;  // declared after the session, so destroyed before it
  bool in_use = false;
  std::uint64_t generation = 0;
};

Database::Database(DatabaseUrl url, DatabaseOptions options)
    : url_(std::move(url)), options_(std::move(options)) {
  if (options_.pool_size == 0) options_.pool_size = 1;
  if (url_.dialect == Dialect::kSqlite) ConfigureSqliteLibrary();
  for (std::size_t i = 0; i < options_.pool_size; ++i) slots_.push_back(std::make_unique<Slot>());
}

Database::~Database() { Close(); }

std::unique_ptr<soci::session> Database::Open() {
  auto sql = std::make_unique<soci::session>();
  if (url_.dialect == Dialect::kSqlite) {
    sql->open(*soci::factory_sqlite3(), "db=\"" + url_.path + "\" timeout=10");
    *sql << "PRAGMA journal_mode=WAL";
    *sql << "PRAGMA foreign_keys=ON";
    *sql << "PRAGMA busy_timeout=10000";
    *sql << ("PRAGMA synchronous=" + options_.sqlite_synchronous);
    // 1 MiB of page cache per connection (SQLite's default is 2 MiB): a dozen pooled connections
    // would otherwise hold more memory than the whole rest of the server.
    *sql << "PRAGMA cache_size=-1024";
  } else {
    sql->open(*soci::factory_mysql(),
              "host=" + Quote(url_.host) + " port=" + std::to_string(url_.port) + " user=" +
                  Quote(url_.user) + " password=" + Quote(url_.password) + " db=" +
                  Quote(url_.database) +
                  " charset=utf8mb4 connect_timeout=3 read_timeout=30 write_timeout=30");
    *sql << "SET SESSION sql_mode='STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";
    *sql << "SET SESSION time_zone='+00:00'";
    *sql << "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED";
    // The tasks list joins a task's tags with GROUP_CONCAT; MySQL's default cap (1024 bytes)
    // would cut 20 tags of 32 four-byte characters.
    *sql << "SET SESSION group_concat_max_len = 65536";
    if (IsGaleraNode(*sql)) {
      // Read-your-writes across the cluster: a read (and START TRANSACTION) on this node first
      // waits until the node has applied every write the cluster committed before it, so a
      // session revoked or a task created through another node is seen by the next request here.
      *sql << "SET SESSION wsrep_sync_wait = 1";
      if (!galera_.exchange(true)) spdlog::info("database is a Galera node: reads wait for causality (wsrep_sync_wait=1)");
    }
  }
  return sql;
}

Database::Slot* Database::Acquire(core::Error* error) {
  std::unique_lock lock(mutex_);
  const bool ok = available_.wait_for(lock, options_.acquire_timeout, [&] {
    return closed_ || in_use_ < slots_.size();
  });
  if (closed_ || !ok) {
    *error = Unavailable();
    return nullptr;
  }
  Slot* slot = nullptr;
  // Prefer a slot with a live session, so a small load keeps using warm connections.
  for (auto& s : slots_) {
    if (!s->in_use && s->session) {
      slot = s.get();
      break;
    }
  }
  if (slot == nullptr) {
    for (auto& s : slots_) {
      if (!s->in_use) {
        slot = s.get();
        break;
      }
    }
  }
  slot->in_use = true;
  ++in_use_;
  const std::uint64_t generation = generation_;
  lock.unlock();

  try {
    // A connection older than the last failure seen may be dead too: ping before use.
    if (slot->session && slot->generation != generation && !slot->session->is_connected()) {
      slot->statements.clear();
      slot->session.reset();
    }
    if (!slot->session) {
      slot->session = Open();
      reconnects_.fetch_add(1, std::memory_order_relaxed);
    }
    slot->generation = generation;
    return slot;
  } catch (const std::exception& e) {
    spdlog::warn("database connection to {} failed: {}", url_.Redacted(), LoggableMessage(e));
    failures_.fetch_add(1, std::memory_order_relaxed);
    slot->statements.clear();
    slot->session.reset();
    Release(slot, true);
    *error = Unavailable();
    return nullptr;
  }
}

void Database::Release(Slot* slot, bool broken) {
  std::lock_guard lock(mutex_);
  if (broken) {
    slot->statements.clear();  // prepared statements die before their session
    slot->session.reset();
    ++generation_;
  }
  slot->in_use = false;
  --in_use_;
  available_.notify_one();
}

core::Result<void> Database::ExecuteErased(const std::function<bool(Connection&)>& body,
                                           bool transaction) {
  core::Error error;
  Slot* slot = Acquire(&error);
  if (slot == nullptr) return core::Fail(error);
  std::unique_lock<std::mutex> writer;
  if (transaction && url_.dialect == Dialect::kSqlite) writer = std::unique_lock(sqlite_writer_);
  soci::session& sql = *slot->session;
  Connection conn(sql, url_.dialect, &slot->statements);
  bool open_tx = false;
  for (int attempt = 1;; ++attempt) {
    try {
      if (transaction) {
        sql << (url_.dialect == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "START TRANSACTION");
        open_tx = true;
      }
      const bool commit = body(conn);
      if (transaction) {
        open_tx = false;
        sql << (commit ? "COMMIT" : "ROLLBACK");
      }
      Release(slot, false);
      return {};
    } catch (const std::exception& e) {
      const DbFailure kind = ClassifyDbError(e, url_.dialect, nullptr);
      bool broken = kind == DbFailure::kUnavailable && url_.dialect == Dialect::kMysql;
      if (open_tx) {
        open_tx = false;
        try {
          sql << "ROLLBACK";
        } catch (const std::exception&) {
          broken = true;
        }
      }
      // InnoDB picked this transaction as a deadlock victim, or Galera aborted it at certification
      // (a write of another node to the same rows committed first): nothing of it remains, so it
      // runs again, after a random pause, and its reads see the winner's writes.
      if (kind == DbFailure::kRetry && !broken && attempt < kMaxAttempts) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        spdlog::debug("database deadlock or certification conflict, retrying (attempt {})", attempt + 1);
        std::this_thread::sleep_for(RetryPause(attempt));
        continue;
      }
      Release(slot, broken);
      if (kind == DbFailure::kUnavailable || kind == DbFailure::kRetry) {
        failures_.fetch_add(1, std::memory_order_relaxed);
        spdlog::warn("database unavailable: {}", LoggableMessage(e));
        return core::Fail(Unavailable());
      }
      // Anything else is a bug or an unexpected state: log the details, tell the client nothing.
      spdlog::error("database error: {}", LoggableMessage(e));
      return core::Fail(core::ErrorCode::kInternal);
    } catch (...) {
      // Whatever was thrown, the transaction ends and the connection goes back to the pool.
      bool broken = false;
      if (open_tx) {
        try {
          sql << "ROLLBACK";
        } catch (...) {
          broken = true;
        }
      }
      Release(slot, broken);
      spdlog::error("database unit of work threw a non-standard exception");
      return core::Fail(core::ErrorCode::kInternal);
    }
  }
}

Database::PoolStats Database::Stats() const {
  std::lock_guard lock(mutex_);
  return PoolStats{slots_.size(), in_use_, reconnects_.load(), failures_.load(), retries_.load()};
}

void Database::Close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  for (auto& s : slots_) {
    if (!s->in_use) {
      s->statements.clear();
      s->session.reset();
    }
  }
  available_.notify_all();
}

}  // namespace ikigai::store
