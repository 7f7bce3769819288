// Schema migrations: SQL files per dialect compiled into the binary, applied in order, recorded in
// schema_migrations. A database migrated by a newer binary is refused.
#pragma once

#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/database.hpp"

namespace ikigai::store {

struct EmbeddedMigration {
  const char* dialect;  // "sqlite" or "mysql"
  int version;
  const char* name;
  const char* sql;
};

// Every migrations/<dialect>/NNNN_name.sql, sorted by dialect then version (generated file).
const std::vector<EmbeddedMigration>& EmbeddedMigrations();

// The migrations of one dialect, in version order.
[[nodiscard]] std::vector<EmbeddedMigration> MigrationsFor(Dialect dialect);

// The highest version this binary knows for the dialect.
[[nodiscard]] int LatestVersion(Dialect dialect);

// Splits a migration file into statements: each ends with ';' at the end of a line; `--` comment
// lines are dropped.
[[nodiscard]] std::vector<std::string> SplitStatements(const std::string& sql);

struct MigrationReport {
  int from_version = 0;
  int to_version = 0;
  std::vector<std::string> applied;  // "0001_init", ...
};

// Applies pending migrations, each in its own transaction (MySQL commits DDL implicitly, so there a
// failed migration can leave part of itself; its row is written last so a rerun retries it).
// Safe to run from several processes at once. kUnavailable if the database cannot be reached;
// kConflict if the database schema is newer than this binary.
[[nodiscard]] core::Result<MigrationReport> Migrate(Database& db, const core::Clock& clock);

// The schema version recorded in the database (0 when none).
[[nodiscard]] core::Result<int> CurrentVersion(Database& db);

}  // namespace ikigai::store
