// Migrations on an in-memory SQLite database: order, idempotence, refusal of a newer schema.
#include "store/migrations.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "support/fake_clock.hpp"

namespace ikigai::store {
namespace {

Database MemoryDatabase() {
  auto url = ParseDatabaseUrl("sqlite::memory:");
  EXPECT_TRUE(url);
  return Database(*url, DatabaseOptions{.pool_size = 1});
}

TEST(MigrationsTest, SplitsStatementsAndDropsComments) {
  auto s = SplitStatements("-- header\nCREATE TABLE a (\n  x INT\n);\n\nCREATE INDEX i ON a (x);\n");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0], "CREATE TABLE a (\n  x INT\n)");
  EXPECT_EQ(s[1], "CREATE INDEX i ON a (x)");
}

TEST(MigrationsTest, BothDialectsHaveTheSameVersions) {
  const auto sqlite = MigrationsFor(Dialect::kSqlite);
  const auto mysql = MigrationsFor(Dialect::kMysql);
  ASSERT_EQ(sqlite.size(), mysql.size());
  for (std::size_t i = 0; i < sqlite.size(); ++i) {
    EXPECT_EQ(sqlite[i].version, static_cast<int>(i + 1));
    EXPECT_EQ(sqlite[i].version, mysql[i].version);
    EXPECT_STREQ(sqlite[i].name, mysql[i].name);
  }
}

TEST(MigrationsTest, AppliesOnceAndRecords) {
  support::FakeClock clock;
  Database db = MemoryDatabase();
  auto first = Migrate(db, clock);
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(first->from_version, 0);
  EXPECT_EQ(first->to_version, LatestVersion(Dialect::kSqlite));
  EXPECT_FALSE(first->applied.empty());
  auto second = Migrate(db, clock);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(*CurrentVersion(db), LatestVersion(Dialect::kSqlite));
}

TEST(MigrationsTest, RefusesANewerSchema) {
  support::FakeClock clock;
  Database db = MemoryDatabase();
  ASSERT_TRUE(Migrate(db, clock));
  auto inserted = db.Run([](Connection& c) -> core::Result<void> {
    c.Sql() << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)";
    return {};
  });
  ASSERT_TRUE(inserted);
  auto again = Migrate(db, clock);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().detail.find("newer"), std::string::npos);
}

TEST(MigrationsTest, UsernamesAreUniqueCaseInsensitivelyByIndex) {
  support::FakeClock clock;
  Database db = MemoryDatabase();
  ASSERT_TRUE(Migrate(db, clock));
  auto insert = [&](const std::string& id, const std::string& name) {
    return db.Run([&](Connection& c) -> core::Result<void> {
      std::string lower = name;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      // Bound values must outlive the statement, which runs when the full expression ends.
      const std::string email = id + "@example.com";
      try {
        c.Sql() << "INSERT INTO users (id, username, username_lower, email, email_lower, display_name, "
                   "password_hash, created_at, updated_at) VALUES (:id, :u, :ul, :e, :el, :d, 'x', 0, 0)",
            soci::use(id), soci::use(name), soci::use(lower), soci::use(email), soci::use(email),
            soci::use(name);
      } catch (const std::exception& e) {
        std::string constraint;
        if (ClassifyDbError(e, c.GetDialect(), &constraint) == DbFailure::kDuplicate) {
          return core::Fail(core::ErrorCode::kConflict, constraint);
        }
        throw;
      }
      return {};
    });
  };
  ASSERT_TRUE(insert("u1", "Alice"));
  auto dup = insert("u2", "aLICE");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict);
  EXPECT_NE(dup.error().detail.find("username_lower"), std::string::npos);
}

}  // namespace
}  // namespace ikigai::store
