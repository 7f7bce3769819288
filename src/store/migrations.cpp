// Applies the embedded migrations under a cross-process (and, on Galera, cluster-wide) lock.
#include "store/migrations.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>
#include <thread>

namespace ikigai::store {
namespace {

const char* DialectName(Dialect d) { return d == Dialect::kSqlite ? "sqlite" : "mysql"; }

void EnsureTable(Connection& c) {
  if (c.GetDialect() == Dialect::kSqlite) {
    c.Sql() << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
               "name TEXT NOT NULL, applied_at INTEGER NOT NULL)";
  } else {
    c.Sql() << "CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, "
               "name VARCHAR(200) NOT NULL, applied_at BIGINT NOT NULL) ENGINE=InnoDB "
               "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
  }
}

// The migration lock on MariaDB: a lease in a one-row table, taken by a conditional UPDATE.
// GET_LOCK is per server and refused on a Galera node (MDEV-30473), while DDL there runs on every
// node in total order: two instances starting on two nodes would both see version N and both run
// migration N+1. A row write is certified cluster-wide, so only one of them holds the lease; a
// holder that dies loses it when the lease runs out.
constexpr auto kLease = std::chrono::seconds(60);
constexpr auto kLockWait = std::chrono::seconds(90);

void EnsureLockTable(Connection& c) {
  c.Sql() << "CREATE TABLE IF NOT EXISTS schema_migrations_lock (id TINYINT NOT NULL PRIMARY KEY, "
             "holder VARCHAR(64) NULL, held_until BIGINT NOT NULL) ENGINE=InnoDB "
             "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";
  c.Sql() << "INSERT IGNORE INTO schema_migrations_lock (id, holder, held_until) VALUES (1, NULL, 0)";
}

std::string LockHolder() {
  std::random_device rd;
  char out[40];
  std::snprintf(out, sizeof out, "%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return out;
}

// Takes (or extends) the lease for `holder`; true when this holder has it now.
bool TakeLease(Connection& c, const std::string& holder, const core::Clock& clock) {
  const long long now = core::ToMillis(clock.Now());
  const long long until = now + std::chrono::duration_cast<std::chrono::milliseconds>(kLease).count();
  soci::statement st = (c.Sql().prepare << "UPDATE schema_migrations_lock SET holder = :me, held_until = :until "
                                           "WHERE id = 1 AND (holder IS NULL OR holder = :me2 OR held_until < :now)",
                        soci::use(holder), soci::use(until), soci::use(holder), soci::use(now));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

int ReadVersion(Connection& c) {
  int version = 0;
  soci::indicator ind = soci::i_null;
  c.Sql() << "SELECT MAX(version) FROM schema_migrations", soci::into(version, ind);
  return ind == soci::i_ok ? version : 0;
}

core::Error Newer(int found, int known) {
  return core::Error{core::ErrorCode::kConflict,
                     "the database schema is at version " + std::to_string(found) +
                         ", newer than this binary knows (" + std::to_string(known) +
                         "): upgrade ikigai before serving this database",
                     {}, std::nullopt};
}

}  // namespace

std::vector<EmbeddedMigration> MigrationsFor(Dialect dialect) {
  std::vector<EmbeddedMigration> out;
  for (const auto& m : EmbeddedMigrations()) {
    if (std::string_view(m.dialect) == DialectName(dialect)) out.push_back(m);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

int LatestVersion(Dialect dialect) {
  const auto all = MigrationsFor(dialect);
  return all.empty() ? 0 : all.back().version;
}

std::vector<std::string> SplitStatements(const std::string& sql) {
  std::vector<std::string> out;
  std::istringstream in(sql);
  std::string line;
  std::string current;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line.compare(first, 2, "--") == 0) continue;
    const auto last = line.find_last_not_of(" \t\r");
    current += line.substr(0, last + 1);
    if (line[last] == ';') {
      current.pop_back();
      out.push_back(current);
      current.clear();
    } else {
      current += '\n';
    }
  }
  if (current.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(current);
  return out;
}

core::Result<int> CurrentVersion(Database& db) {
  return db.Run([](Connection& c) -> core::Result<int> {
    EnsureTable(c);
    return ReadVersion(c);
  });
}

core::Result<MigrationReport> Migrate(Database& db, const core::Clock& clock) {
  const Dialect dialect = db.GetDialect();
  const auto migrations = MigrationsFor(dialect);
  const int latest = LatestVersion(dialect);
  MigrationReport report;

  auto setup = db.Run([&](Connection& c) -> core::Result<int> {
    EnsureTable(c);
    return ReadVersion(c);
  });
  if (!setup) return core::Fail(setup.error());
  report.from_version = *setup;
  report.to_version = *setup;
  if (*setup > latest) return core::Fail(Newer(*setup, latest));
  if (*setup == latest) return report;

  const std::string holder = LockHolder();
  auto lease = [&]() -> core::Result<void> {
    const auto give_up = std::chrono::steady_clock::now() + kLockWait;
    for (;;) {
      auto taken = db.Run([&](Connection& c) -> core::Result<bool> { return TakeLease(c, holder, clock); });
      if (!taken) return core::Fail(taken.error());
      if (*taken) return {};
      if (std::chrono::steady_clock::now() > give_up) {
        return core::Fail(core::ErrorCode::kUnavailable, "migration lock not obtained (another instance migrates)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  };
  if (dialect == Dialect::kMysql) {
    auto made = db.Run([](Connection& c) -> core::Result<void> {
      EnsureLockTable(c);
      return {};
    });
    if (!made) return core::Fail(made.error());
  }
  auto release = [&] {
    if (dialect != Dialect::kMysql) return;
    (void)db.Run([&](Connection& c) -> core::Result<void> {
      c.Sql() << "UPDATE schema_migrations_lock SET holder = NULL, held_until = 0 WHERE id = 1 AND holder = :me",
          soci::use(holder);
      return {};
    });
  };

  for (const auto& m : migrations) {
    // The lease is taken (or renewed) before each migration, and each migration re-checks the
    // version under it, so concurrent starters apply it once. SQLite's BEGIN IMMEDIATE is the lock
    // there (its DDL is transactional).
    if (dialect == Dialect::kMysql) {
      if (auto ok = lease(); !ok) {
        release();
        return core::Fail(ok.error());
      }
    }
    auto step = db.Transaction([&](Connection& c) -> core::Result<bool> {
      const int current = ReadVersion(c);
      bool applied = false;
      if (current > latest) return core::Fail(Newer(current, latest));
      if (current < m.version) {
        for (const auto& statement : SplitStatements(m.sql)) c.Sql() << statement;
        const std::string name = m.name;
        const long long applied_at = core::ToMillis(clock.Now());
        c.Sql() << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :a)",
            soci::use(m.version), soci::use(name), soci::use(applied_at);
        applied = true;
      }
      return applied;
    });
    if (!step) {
      release();
      return core::Fail(step.error());
    }
    if (*step) {
      char label[16];
      std::snprintf(label, sizeof label, "%04d_", m.version);
      report.applied.push_back(label + std::string(m.name));
      spdlog::info("applied migration {}{}", label, m.name);
    }
    report.to_version = std::max(report.to_version, m.version);
  }
  release();
  return report;
}

}  // namespace ikigai::store
