// A database migrated by a newer binary: this one must refuse to serve rather than guess.
#include <chrono>
#include <string>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "support/backend.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

constexpr const char* kFutureMigration =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from_the_future', ";

std::string NowMillis() {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count());
}

// Runs one statement on an SQLite file; "" on success, else the error.
std::string SqliteExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string error = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return error;
  }
  sqlite3_busy_timeout(db, 5000);
  char* message = nullptr;
  std::string error;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    error = message != nullptr ? message : "unknown error";
  }
  sqlite3_free(message);
  sqlite3_close(db);
  return error;
}

// Migrates a fresh database of the current back end, then records a migration this binary does not
// know, as a newer release would have. Returns the database URL.
std::string MigrateThenAddAFutureMigration(const support::TempDir& dir) {
  std::string sql = std::string(kFutureMigration) + NowMillis() + ")";
  if (support::UsingMysql()) {
    auto db = support::SharedMariaDb().CreateDatabase();
    auto migrate = support::RunIkigai({"migrate", "--database-url", db.url});
    EXPECT_EQ(migrate.exit_status, 0) << migrate.out << migrate.err;
    support::SharedMariaDb().Exec(sql, db.name);
    return db.url;
  }
  std::string file = dir.File("ikigai.db");
  std::string url = "sqlite://" + file;
  auto migrate = support::RunIkigai({"migrate", "--database-url", url});
  EXPECT_EQ(migrate.exit_status, 0) << migrate.out << migrate.err;
  EXPECT_EQ(SqliteExec(file, sql), "");
  return url;
}

TEST(SchemaTest, NewerSchemaRefusesToServe) {
  support::TempDir dir;
  std::string url = MigrateThenAddAFutureMigration(dir);
  if (HasFailure()) return;
  auto serve = support::RunIkigai(
      {"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.Path(), "--database-url", url}, {},
      std::chrono::seconds{30});
  ASSERT_TRUE(serve.exit_status.has_value()) << "it served a schema newer than itself; stdout:\n"
                                             << serve.out << "\nstderr:\n"
                                             << serve.err;
  EXPECT_NE(*serve.exit_status, 0);
  EXPECT_NE((serve.err + serve.out).find("newer"), std::string::npos) << serve.err;
}

TEST(SchemaTest, NewerSchemaRefusesToMigrate) {
  support::TempDir dir;
  std::string url = MigrateThenAddAFutureMigration(dir);
  if (HasFailure()) return;
  auto migrate = support::RunIkigai({"migrate", "--database-url", url});
  ASSERT_TRUE(migrate.exit_status.has_value());
  EXPECT_NE(*migrate.exit_status, 0) << "migrate accepted a schema newer than itself";
  EXPECT_NE((migrate.err + migrate.out).find("newer"), std::string::npos) << migrate.err;
}

}  // namespace
}  // namespace ikigai
