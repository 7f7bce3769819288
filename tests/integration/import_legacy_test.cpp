// `ikigai import-legacy-users`: the original backend's users table (express-seed schema.sql) on
// the shared MariaDB copied into our database; bcrypt hashes kept and upgraded at the first login.
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "core/clock.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/users.hpp"
#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mariadb.hpp"
#include "support/server.hpp"
#include "support/stdin_command.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using support::CommandResult;
using support::Http;

constexpr const char* kLegacyPassword = "ikigai-legacy-pass";
// bcryptjs.hash("ikigai-legacy-pass", 10), as the original backend stored them.
constexpr const char* kHash2a = "$2a$10$xV0RWMldUd1U3acWL65nzeqtmNuwUEYNht5nzCA7IOvV7yA./4.pa";
constexpr const char* kHash2b = "$2b$10$DcMzGUX4HEGDmH6kgB1e3.zI.RthQvT7ntMnHxVqUEZiNYJKgey1S";
constexpr const char* kOwnPassword = "Tsuru-no-ongaeshi-42";

// The express-seed users table, used when the peer's schema.sql is not checked out beside us.
constexpr const char* kInlineSchema =
    "CREATE TABLE IF NOT EXISTS users (\n"
    "  id INT AUTO_INCREMENT PRIMARY KEY,\n"
    "  username VARCHAR(50) NOT NULL UNIQUE,\n"
    "  email VARCHAR(100) NOT NULL UNIQUE,\n"
    "  password VARCHAR(255) NOT NULL,\n"
    "  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP\n"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;";

std::string LegacySchema() {
  std::ifstream in(IKIGAI_SOURCE_DIR "/../shared/peers/express-seed/schema.sql");
  if (!in) return kInlineSchema;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Show(const CommandResult& r) {
  return "exit " + (r.exit_status ? std::to_string(*r.exit_status) : std::string("(timeout)")) +
         "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// UTC "YYYY-MM-DD hh:mm:ss" as milliseconds since the epoch.
long long UtcMillis(int year, int month, int day, int hour, int minute, int second) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<long long>(timegm(&tm)) * 1000;
}

struct Summary {
  int read = -1;
  int imported = -1;
  int already = -1;
  int conflicts = -1;
  int invalid = -1;
};

// The counts of the summary line ("... N imported, N already imported, N conflicts ...").
std::optional<Summary> ParseSummary(const std::string& out) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_search(line, m, std::regex(R"((\d+) imported)"))) continue;
    Summary s;
    s.imported = std::stoi(m[1]);
    auto count = [&](const char* pattern) {
      std::smatch n;
      return std::regex_search(line, n, std::regex(pattern)) ? std::stoi(n[1]) : -1;
    };
    s.read = count(R"((\d+) read)");
    s.already = count(R"((\d+) already imported)");
    s.conflicts = count(R"((\d+) conflicts?\b)");
    s.invalid = count(R"((\d+) invalid)");
    return s;
  }
  return std::nullopt;
}

class ImportLegacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!support::UsingMysql())
      GTEST_SKIP() << "the legacy source is a MariaDB database: mysql pass";
    auto& mariadb = support::SharedMariaDb();
    source_ = mariadb.CreateDatabase();
    mariadb.Exec(LegacySchema(), source_.name);
    // TIMESTAMP columns convert from the session's zone: write them in UTC.
    mariadb.Exec(std::string("SET time_zone = '+00:00';"
                             "INSERT INTO users (id, username, email, password, created_at) VALUES "
                             "(1, 'hana', 'hana@example.com', '") +
                     kHash2a +
                     "', '2021-03-04 05:06:07'), (2, 'ALICE', 'alice.legacy@example.com', '" +
                     kHash2a + "', '2021-05-06 07:08:09'), (3, 'kenji.s', 'Kenji@Example.com', '" +
                     kHash2b + "', '2022-01-02 03:04:05'), (4, 'broken', 'not-an-email', '" +
                     kHash2b + "', '2022-02-03 04:05:06')",
                 source_.name);
  }

  // Our database (`target_url`) gets its own user "alice" first, so that the legacy "ALICE"
  // conflicts with it; then the import runs twice and the imported users sign in.
  void ImportInto(const support::TempDir& dir, const std::string& target_url) {
    auto own =
        support::RunIkigaiWithStdin({"user", "--database-url", target_url, "create", "--username",
                                     "alice", "--email", "alice@example.com", "--password-stdin"},
                                    std::string(kOwnPassword) + "\n");
    ASSERT_EQ(own.exit_status, 0) << Show(own);

    auto first = Import(target_url);
    ASSERT_EQ(first.exit_status, 0) << Show(first);
    ExpectNoSecrets(first);
    auto s1 = ParseSummary(first.out);
    ASSERT_TRUE(s1) << "no summary line: " << Show(first);
    EXPECT_EQ(s1->read, 4) << first.out;
    EXPECT_EQ(s1->imported, 2) << first.out;
    EXPECT_EQ(s1->already, 0) << first.out;
    EXPECT_EQ(s1->conflicts, 1) << first.out;
    EXPECT_EQ(s1->invalid, 1) << first.out;
    // The skipped rows are named with their reason.
    std::smatch conflict_line;
    ASSERT_TRUE(
        std::regex_search(first.out, conflict_line, std::regex(R"([^\n]*legacy id 2\b[^\n]*)")))
        << "the conflict of legacy id 2 is not reported: " << first.out;
    EXPECT_TRUE(Contains(conflict_line[0], "username")) << "wrong reason: " << conflict_line[0];
    EXPECT_FALSE(Contains(conflict_line[0], "email address"))
        << "wrong reason: " << conflict_line[0];
    std::smatch invalid_line;
    ASSERT_TRUE(
        std::regex_search(first.out, invalid_line, std::regex(R"([^\n]*legacy id 4\b[^\n]*)")))
        << "the invalid row (legacy id 4) is not reported: " << first.out;
    EXPECT_TRUE(Contains(invalid_line[0], "email")) << "wrong reason: " << invalid_line[0];

    auto db = Open(target_url);
    auto hana = Find(*db, "hana");
    ASSERT_TRUE(hana) << "hana was not imported";
    EXPECT_EQ(hana->legacy_id, 1);
    EXPECT_EQ(hana->email, "hana@example.com");
    EXPECT_EQ(hana->role, "user");
    EXPECT_FALSE(hana->disabled);
    EXPECT_EQ(hana->password_hash, kHash2a) << "the bcrypt hash is kept until the first login";
    EXPECT_EQ(hana->created_at, UtcMillis(2021, 3, 4, 5, 6, 7))
        << "created_at is not the legacy one";
    auto kenji = Find(*db, "kenji@example.com");
    ASSERT_TRUE(kenji) << "kenji.s was not imported";
    EXPECT_EQ(kenji->username, "kenji.s");
    EXPECT_EQ(kenji->email, "Kenji@Example.com") << "stored as given";
    EXPECT_EQ(kenji->legacy_id, 3);
    EXPECT_EQ(kenji->created_at, UtcMillis(2022, 1, 2, 3, 4, 5));
    auto alice = Find(*db, "alice");
    ASSERT_TRUE(alice);
    EXPECT_EQ(alice->email, "alice@example.com") << "the conflicting legacy row replaced our user";
    EXPECT_FALSE(alice->legacy_id);
    EXPECT_FALSE(Find(*db, "alice.legacy@example.com"));
    EXPECT_FALSE(Find(*db, "broken"));

    auto second = Import(target_url);
    ASSERT_EQ(second.exit_status, 0) << Show(second);
    ExpectNoSecrets(second);
    auto s2 = ParseSummary(second.out);
    ASSERT_TRUE(s2) << "no summary line: " << Show(second);
    EXPECT_EQ(s2->imported, 0) << second.out;
    EXPECT_EQ(s2->already, 2) << second.out;
    EXPECT_EQ(s2->conflicts, 1) << second.out;
    EXPECT_EQ(s2->invalid, 1) << second.out;
    EXPECT_EQ(CountUsers(*db), 3) << "the second run added users";

    support::ServerOptions options;
    options.data_dir = dir.Path();
    options.database_url = target_url;
    auto server = support::StartServer(std::move(options));
    Http http(server);
    for (const auto& [login, created] : std::vector<std::pair<std::string, std::string>>{
             {"hana", "2021-03-04T05:06:07Z"}, {"KENJI.S", "2022-01-02T03:04:05Z"}}) {
      auto res = Login(http, login, kLegacyPassword);
      ASSERT_EQ(res.status, 200) << login << ": " << res;
      auto stored = Find(*db, login);
      ASSERT_TRUE(stored);
      EXPECT_EQ(stored->password_hash.rfind("$argon2id$", 0), 0u)
          << login << ": the bcrypt hash was not upgraded at login";
      auto me = http.Get("/api/v1/me", "",
                         {{"Authorization", "Bearer " + res.Json().value("access_token", "")}});
      ASSERT_EQ(me.status, 200) << me;
      EXPECT_EQ(me.Json().value("created_at", ""), created) << me;
      // The upgraded hash verifies too; a wrong password still fails.
      EXPECT_EQ(Login(http, login, kLegacyPassword).status, 200) << login;
      EXPECT_TRUE(support::IsProblem(Login(http, login, "not-the-legacy-pass"), 401,
                                     "invalid_credentials"));
    }
    // A later run after the upgrade still knows them.
    auto third = Import(target_url);
    ASSERT_EQ(third.exit_status, 0) << Show(third);
    auto s3 = ParseSummary(third.out);
    ASSERT_TRUE(s3) << Show(third);
    EXPECT_EQ(s3->imported, 0) << third.out;
    EXPECT_EQ(s3->already, 2) << third.out;
    EXPECT_EQ(Find(*db, "hana")->password_hash.rfind("$argon2id$", 0), 0u)
        << "a rerun put the bcrypt hash back";
  }

  CommandResult Import(const std::string& target_url) {
    return support::RunIkigai(
        {"import-legacy-users", "--from", source_.url, "--database-url", target_url});
  }

  // No hash, no password of the source URL, no user password in anything the command printed.
  void ExpectNoSecrets(const CommandResult& r) {
    const std::string all = r.out + r.err;
    for (const std::string& secret :
         {std::string("$2a$"), std::string("$2b$"), std::string("$argon2"),
          std::string(kLegacyPassword), support::SharedMariaDb().Password()}) {
      EXPECT_FALSE(Contains(all, secret))
          << "the output shows a secret (" << secret.substr(0, 4) << "...): " << Show(r);
    }
  }

  static std::unique_ptr<store::Database> Open(const std::string& url_text) {
    auto url = store::ParseDatabaseUrl(url_text);
    if (!url) throw std::runtime_error("bad url");
    auto db = std::make_unique<store::Database>(*url, store::DatabaseOptions{.pool_size = 1});
    core::SystemClock clock;
    if (auto m = store::Migrate(*db, clock); !m) throw std::runtime_error("cannot migrate");
    return db;
  }

  static std::optional<store::UserRow> Find(store::Database& db, const std::string& login) {
    auto found = db.Run([&](store::Connection& c) -> core::Result<std::optional<store::UserRow>> {
      return store::UserStore::FindByLogin(c, login);
    });
    if (!found) throw std::runtime_error("cannot read users");
    return *found;
  }

  static long long CountUsers(store::Database& db) {
    long long n = -1;
    auto done = db.Run([&](store::Connection& c) -> core::Result<void> {
      c.Sql() << "SELECT COUNT(*) FROM users", soci::into(n);
      return {};
    });
    if (!done) throw std::runtime_error("cannot count users");
    return n;
  }

  static support::Response Login(const Http& http, const std::string& login,
                                 const std::string& password) {
    return http.Post("/api/v1/auth/login",
                     nlohmann::json{{"login", login}, {"password", password}}.dump());
  }

  support::MariaDbDatabase source_;
};

TEST_F(ImportLegacyTest, ImportsIntoOurMariaDbOnceAndUpgradesHashesAtLogin) {
  support::TempDir dir;
  ImportInto(dir, support::FreshDatabaseUrl(dir));  // the mysql pass: a database on the MariaDB
}

TEST_F(ImportLegacyTest, ImportsIntoOurSqliteOnceAndUpgradesHashesAtLogin) {
  support::TempDir dir;
  ImportInto(dir, "sqlite://" + dir.File("ikigai.db"));
}

TEST_F(ImportLegacyTest, RecordsEachImportAsARegistration) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto r = Import(url);
  ASSERT_EQ(r.exit_status, 0) << Show(r);
  auto db = Open(url);
  std::vector<std::string> data;
  auto read = db->Run([&](store::Connection& c) -> core::Result<void> {
    soci::rowset<std::string> rows =
        (c.Sql().prepare
         << "SELECT data FROM activity WHERE action = 'auth.registered' ORDER BY at, id");
    for (const auto& d : rows) data.push_back(d);
    return {};
  });
  ASSERT_TRUE(read);
  ASSERT_EQ(data.size(), 3u) << "hana, ALICE and kenji.s (nothing conflicts in an empty database)";
  for (const auto& d : data) {
    auto json = nlohmann::json::parse(d, nullptr, false);
    EXPECT_EQ(json.value("imported", false), true) << d;
    EXPECT_FALSE(Contains(d, "$2")) << "a hash in the activity data: " << d;
  }
}

// These need no source database: they fail before connecting, or cannot connect at all.
TEST(ImportLegacyUsageTest, RefusesANonMysqlSourceOrAStrangeTableName) {
  support::TempDir dir;
  const std::string target = "sqlite://" + dir.File("ikigai.db");
  auto sqlite_source =
      support::RunIkigai({"import-legacy-users", "--from", "sqlite://" + dir.File("old.db"),
                          "--database-url", target});
  EXPECT_EQ(sqlite_source.exit_status, 2) << Show(sqlite_source);
  auto table = support::RunIkigai({"import-legacy-users", "--from", "mysql://u:p@127.0.0.1:1/x",
                                   "--table", "users; DROP TABLE users", "--database-url", target});
  EXPECT_EQ(table.exit_status, 2) << Show(table);
}

TEST(ImportLegacyUsageTest, AnUnreachableSourceFailsWithoutShowingItsPassword) {
  support::TempDir dir;
  const int port = support::FreeLoopbackPort();  // nothing listens there
  auto r = support::RunIkigai(
      {"import-legacy-users", "--from",
       "mysql://olduser:Sup3r-S3cret-Pw@127.0.0.1:" + std::to_string(port) + "/ikigai_seed",
       "--database-url", "sqlite://" + dir.File("ikigai.db")});
  EXPECT_EQ(r.exit_status, 1) << Show(r);
  EXPECT_FALSE(Contains(r.out + r.err, "Sup3r-S3cret-Pw"))
      << "the source password leaked: " << Show(r);
  EXPECT_TRUE(Contains(r.err, "olduser")) << "the source is not named (redacted): " << Show(r);
}

}  // namespace
}  // namespace ikigai
