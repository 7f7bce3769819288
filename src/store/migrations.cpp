// Applies the embedded migrations under a cross-process lock.
#include "store/migrations.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

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

  for (const auto& m : migrations) {
    // Each migration re-checks the version under the lock, so concurrent starters apply it once.
    auto step = db.Transaction([&](Connection& c) -> core::Result<bool> {
      if (dialect == Dialect::kMysql) {
        int got = 0;
        c.Sql() << "SELECT GET_LOCK('ikigai_migrations', 60)", soci::into(got);
        if (got != 1) return core::Fail(core::ErrorCode::kUnavailable, "migration lock not obtained");
      }
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
      if (dialect == Dialect::kMysql) c.Sql() << "SELECT RELEASE_LOCK('ikigai_migrations')";
      return applied;
    });
    if (!step) return core::Fail(step.error());
    if (*step) {
      char label[16];
      std::snprintf(label, sizeof label, "%04d_", m.version);
      report.applied.push_back(label + std::string(m.name));
      spdlog::info("applied migration {}{}", label, m.name);
    }
    report.to_version = std::max(report.to_version, m.version);
  }
  return report;
}

}  // namespace ikigai::store
