// `ikigai user create|list|set-role|disable|enable` (API.md "Roles and administration"): the real
// binary on a fresh database of the current back end, checked through a started server and the
// database itself.
#include <memory>
#include <optional>
#include <regex>
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
#include "support/server.hpp"
#include "support/stdin_command.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using support::CommandResult;
using support::Http;
using support::IsProblem;

constexpr const char* kPassword = "Tsuru-no-ongaeshi-42";

std::string Show(const CommandResult& r) {
  return "exit " + (r.exit_status ? std::to_string(*r.exit_status) : std::string("(timeout)")) +
         "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// An event of the activity table, read directly.
struct ActivityEvent {
  std::string target_id;
  nlohmann::json data;
};

class CliUsersTest : public ::testing::Test {
 protected:
  CliUsersTest() : url_(support::FreshDatabaseUrl(dir_)) {}

  // `ikigai user --database-url URL SUB ARGS...`. The settings belong to `user`, so they go before
  // the nested subcommand (see SettingsAfterTheNestedSubcommandAreAccepted for the other order).
  CommandResult User(const std::string& sub, std::vector<std::string> args) {
    std::vector<std::string> all{"user", "--database-url", url_, sub};
    all.insert(all.end(), args.begin(), args.end());
    return support::RunIkigai(std::move(all));
  }

  // `ikigai user create --username U --email E --role ROLE --password-stdin` with `password\n`
  // on standard input.
  CommandResult Create(const std::string& username, const std::string& email,
                       const std::string& role = "admin", const std::string& password = kPassword) {
    return support::RunIkigaiWithStdin(
        {"user", "--database-url", url_, "create", "--username", username, "--email", email,
         "--role", role, "--password-stdin"},
        password + "\n");
  }

  // Creates a user that must succeed; returns the id it printed ("" after a test failure).
  std::string CreateOk(const std::string& username, const std::string& email,
                       const std::string& role = "admin") {
    auto r = Create(username, email, role);
    EXPECT_EQ(r.exit_status, 0) << Show(r);
    static const std::regex kId(
        R"(\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b)");
    std::smatch m;
    if (!std::regex_search(r.out, m, kId)) {
      ADD_FAILURE() << "user create printed no id: " << Show(r);
      return "";
    }
    return m[1];
  }

  support::Server Serve() {
    support::ServerOptions options;
    options.data_dir = dir_.Path();
    options.database_url = url_;
    return support::StartServer(std::move(options));
  }

  // The user as the database has it now.
  // The test's own connection to the database; migrated, so that "no such user" can be asked
  // before any command has created the schema.
  std::unique_ptr<store::Database> Open() {
    auto url = store::ParseDatabaseUrl(url_);
    if (!url) throw std::runtime_error("bad url " + url_);
    auto db = std::make_unique<store::Database>(*url, store::DatabaseOptions{.pool_size = 1});
    core::SystemClock clock;
    if (auto m = store::Migrate(*db, clock); !m) {
      throw std::runtime_error("cannot migrate " + url->Redacted() + ": " + m.error().detail);
    }
    return db;
  }

  std::optional<store::UserRow> Stored(const std::string& login) {
    auto db = Open();
    auto found = db->Run([&](store::Connection& c) -> core::Result<std::optional<store::UserRow>> {
      return store::UserStore::FindByLogin(c, login);
    });
    if (!found) throw std::runtime_error("cannot read users: " + found.error().detail);
    return *found;
  }

  std::vector<ActivityEvent> Activity(const std::string& action) {
    auto db = Open();
    std::vector<ActivityEvent> events;
    auto read =
        db->Run(
            [&](store::Connection& c) -> core::Result<void> {
              soci::rowset<soci::row> rows =
                  (c.Sql().prepare
                       << "SELECT target_id, data FROM activity WHERE action = :a ORDER BY at, id",
                   soci::use(action));
              for (const auto& row : rows) {
                ActivityEvent e;
                if (row.get_indicator(0) == soci::i_ok) e.target_id = row.get<std::string>(0);
                e.data = nlohmann::json::parse(row.get<std::string>(1), nullptr, false);
                events.push_back(std::move(e));
              }
              return {};
            });
    if (!read) throw std::runtime_error("cannot read activity: " + read.error().detail);
    return events;
  }

  // The admin.user_updated events about `user_id` whose data.fields lists `field`.
  int Updates(const std::string& user_id, const std::string& field) {
    int n = 0;
    for (const auto& e : Activity("admin.user_updated")) {
      if (e.target_id != user_id || !e.data.is_object() || !e.data.contains("fields")) continue;
      for (const auto& f : e.data["fields"]) {
        if (f == field) ++n;
      }
    }
    return n;
  }

  static support::Response Login(const Http& http, const std::string& username,
                                 const std::string& password = kPassword) {
    return http.Post("/api/v1/auth/login",
                     nlohmann::json{{"username", username}, {"password", password}}.dump());
  }

  static support::Response Me(const Http& http, const std::string& access_token) {
    return http.Get("/api/v1/me", "", {{"Authorization", "Bearer " + access_token}});
  }

  support::TempDir dir_;
  std::string url_;
};

TEST_F(CliUsersTest, CreatesTheFirstAdminWhoCanSignIn) {
  auto r = Create("admin1", "a@example.com");
  ASSERT_EQ(r.exit_status, 0) << Show(r);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex(R"(\b([0-9a-f]{8}-[0-9a-f-]{27})\b)")))
      << "no id printed: " << Show(r);
  const std::string id = m[1];
  EXPECT_FALSE(Contains(r.out + r.err, kPassword)) << "the password was echoed: " << Show(r);

  auto server = Serve();
  Http http(server);
  auto login = Login(http, "admin1");
  ASSERT_EQ(login.status, 200) << login;
  const std::string token = login.Json().value("access_token", "");
  ASSERT_FALSE(token.empty()) << login;
  auto me = Me(http, token);
  ASSERT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.Json().value("id", ""), id) << me;
  EXPECT_EQ(me.Json().value("username", ""), "admin1") << me;
  EXPECT_EQ(me.Json().value("email", ""), "a@example.com") << me;
  EXPECT_EQ(me.Json().value("role", ""), "admin") << me;
  EXPECT_EQ(me.Json().value("disabled", true), false) << me;

  auto stored = Stored("admin1");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->password_hash.rfind("$argon2id$", 0), 0u) << "not an Argon2id hash";
}

TEST_F(CliUsersTest, DefaultRoleIsUser) {
  auto r =
      support::RunIkigaiWithStdin({"user", "--database-url", url_, "create", "--username", "plain",
                                   "--email", "plain@example.com", "--password-stdin"},
                                  std::string(kPassword) + "\n");
  ASSERT_EQ(r.exit_status, 0) << Show(r);
  auto stored = Stored("plain");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->role, "user");
}

TEST_F(CliUsersTest, WithoutPasswordStdinIsAUsageError) {
  auto r = support::RunIkigai({"user", "--database-url", url_, "create", "--username", "admin1",
                               "--email", "a@example.com", "--role", "admin"});
  EXPECT_EQ(r.exit_status, 2) << Show(r);
  EXPECT_TRUE(Contains(r.err, "--password-stdin")) << "the reason is not named: " << Show(r);
  EXPECT_FALSE(Stored("admin1")) << "a user was created without a password";
}

TEST_F(CliUsersTest, WeakPasswordIsRefused) {
  auto r = Create("admin1", "a@example.com", "admin", "password1");
  EXPECT_EQ(r.exit_status, 1) << Show(r);
  EXPECT_TRUE(Contains(r.err, "password")) << Show(r);
  EXPECT_FALSE(Contains(r.out + r.err, "password1")) << "the password was echoed: " << Show(r);
  EXPECT_FALSE(Stored("admin1"));

  auto short_one = Create("admin1", "a@example.com", "admin", "Ab1-x");
  EXPECT_EQ(short_one.exit_status, 1) << Show(short_one);
  EXPECT_TRUE(Contains(short_one.err, "password")) << Show(short_one);
  EXPECT_FALSE(Stored("admin1"));
}

TEST_F(CliUsersTest, DuplicateUsernameOrEmailIsRefused) {
  CreateOk("admin1", "a@example.com");
  if (HasFailure()) return;
  for (const auto& [username, email] : std::vector<std::pair<std::string, std::string>>{
           {"admin1", "other@example.com"},  // same username
           {"ADMIN1", "other@example.com"},  // differing only in case
           {"someone", "A@Example.COM"}}) {  // same email, differing in case
    auto r = Create(username, email);
    EXPECT_EQ(r.exit_status, 1) << username << " <" << email << ">: " << Show(r);
    EXPECT_TRUE(Contains(r.err, "taken")) << username << " <" << email << ">: " << Show(r);
  }
  EXPECT_FALSE(Stored("someone"));
  EXPECT_FALSE(Stored("other@example.com"));
}

TEST_F(CliUsersTest, UnknownRoleIsAUsageError) {
  auto r = Create("admin1", "a@example.com", "root");
  EXPECT_EQ(r.exit_status, 2) << Show(r);
  EXPECT_TRUE(Contains(r.err, "role")) << "the reason is not named: " << Show(r);
  EXPECT_FALSE(Stored("admin1"));

  CreateOk("admin1", "a@example.com");
  auto set = User("set-role", {"admin1", "root"});
  EXPECT_EQ(set.exit_status, 2) << Show(set);
  auto stored = Stored("admin1");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->role, "admin");
}

TEST_F(CliUsersTest, ListShowsTheUsers) {
  const std::string admin = CreateOk("admin1", "a@example.com");
  const std::string bob = CreateOk("bob", "bob@example.com", "user");
  if (HasFailure()) return;
  auto r = User("list", {});
  ASSERT_EQ(r.exit_status, 0) << Show(r);
  bool admin_line = false;
  bool bob_line = false;
  std::size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    if (end == std::string::npos) end = r.out.size();
    const std::string line = r.out.substr(start, end - start);
    if (Contains(line, admin)) {
      admin_line = Contains(line, "admin1") && Contains(line, "a@example.com") &&
                   std::regex_search(line, std::regex(R"(\badmin\b)"));
    }
    if (Contains(line, bob)) {
      bob_line =
          Contains(line, "bob@example.com") && std::regex_search(line, std::regex(R"(\buser\b)"));
    }
    start = end + 1;
  }
  EXPECT_TRUE(admin_line) << "no line with admin1's id, name, email and role admin:\n" << r.out;
  EXPECT_TRUE(bob_line) << "no line with bob's id, email and role user:\n" << r.out;
  EXPECT_FALSE(Contains(r.out, "$argon2")) << "the list shows a password hash:\n" << r.out;
}

TEST_F(CliUsersTest, TheLastAdminCannotBeDemoted) {
  const std::string admin1 = CreateOk("admin1", "a@example.com");
  if (HasFailure()) return;
  auto refused = User("set-role", {"admin1", "user"});
  EXPECT_EQ(refused.exit_status, 1) << Show(refused);
  EXPECT_TRUE(Contains(refused.err, "last admin")) << Show(refused);
  ASSERT_TRUE(Stored("admin1"));
  EXPECT_EQ(Stored("admin1")->role, "admin");
  EXPECT_EQ(Updates(admin1, "role"), 0) << "a refused change was recorded";

  CreateOk("admin2", "b@example.com");
  auto done = User("set-role", {admin1, "user"});  // by id this time
  EXPECT_EQ(done.exit_status, 0) << Show(done);
  ASSERT_TRUE(Stored("admin1"));
  EXPECT_EQ(Stored("admin1")->role, "user");
  EXPECT_EQ(Updates(admin1, "role"), 1) << "no admin.user_updated event with fields [role]";

  // admin2 is now the only admin again.
  auto again = User("set-role", {"b@example.com", "user"});
  EXPECT_EQ(again.exit_status, 1) << Show(again);
  EXPECT_TRUE(Contains(again.err, "last admin")) << Show(again);
  EXPECT_EQ(Stored("admin2")->role, "admin");
}

TEST_F(CliUsersTest, DisableEndsLiveSessionsAndEnableRestoresSignIn) {
  CreateOk("admin1", "a@example.com");
  const std::string bob = CreateOk("bob", "bob@example.com", "user");
  if (HasFailure()) return;
  auto server = Serve();
  Http http(server);
  auto login = Login(http, "bob");
  ASSERT_EQ(login.status, 200) << login;
  const std::string token = login.Json().value("access_token", "");
  ASSERT_EQ(Me(http, token).status, 200);

  auto disable = User("disable", {"bob"});
  ASSERT_EQ(disable.exit_status, 0) << Show(disable);
  EXPECT_TRUE(IsProblem(Me(http, token), 401, "unauthorized"))
      << "the access token of a disabled user still works";
  EXPECT_TRUE(IsProblem(Login(http, "bob"), 403, "account_disabled"));
  ASSERT_TRUE(Stored("bob"));
  EXPECT_TRUE(Stored("bob")->disabled);
  EXPECT_EQ(Updates(bob, "disabled"), 1) << "no admin.user_updated event with fields [disabled]";

  auto enable = User("enable", {"bob@example.com"});  // by email this time
  ASSERT_EQ(enable.exit_status, 0) << Show(enable);
  EXPECT_FALSE(Stored("bob")->disabled);
  auto again = Login(http, "bob");
  ASSERT_EQ(again.status, 200) << again;
  auto me = Me(http, again.Json().value("access_token", ""));
  EXPECT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.Json().value("disabled", true), false) << me;
  EXPECT_TRUE(IsProblem(Me(http, token), 401, "unauthorized"))
      << "enabling the user brought its revoked session back";
  EXPECT_EQ(Updates(bob, "disabled"), 2) << "enable recorded no admin.user_updated event";
}

TEST_F(CliUsersTest, TheLastAdminCannotBeDisabled) {
  const std::string admin1 = CreateOk("admin1", "a@example.com");
  if (HasFailure()) return;
  auto refused = User("disable", {"admin1"});
  EXPECT_EQ(refused.exit_status, 1) << Show(refused);
  EXPECT_TRUE(Contains(refused.err, "last admin")) << Show(refused);
  ASSERT_TRUE(Stored("admin1"));
  EXPECT_FALSE(Stored("admin1")->disabled);
  EXPECT_EQ(Updates(admin1, "disabled"), 0) << "a refused change was recorded";

  CreateOk("admin2", "b@example.com");
  auto done = User("disable", {"admin1"});
  EXPECT_EQ(done.exit_status, 0) << Show(done);
  EXPECT_TRUE(Stored("admin1")->disabled);
}

TEST_F(CliUsersTest, UnknownUserFails) {
  CreateOk("admin1", "a@example.com");
  if (HasFailure()) return;
  for (const auto& [sub, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"set-role", {"nobody", "admin"}},
           {"disable", {"nobody"}},
           {"enable", {"nobody@example.com"}},
           {"disable", {"01234567-89ab-7def-8123-456789abcdef"}}}) {
    auto r = User(sub, args);
    EXPECT_EQ(r.exit_status, 1) << sub << " " << args[0] << ": " << Show(r);
    EXPECT_TRUE(Contains(r.err, args[0])) << "the unknown user is not named: " << Show(r);
  }
  EXPECT_TRUE(Activity("admin.user_updated").empty());
}

// Every other command takes its settings after the command name (`ikigai migrate --database-url
// X`, `ikigai import-legacy-users --database-url X`); an operator types `ikigai user list
// --database-url X` the same way.
TEST_F(CliUsersTest, SettingsAfterTheNestedSubcommandAreAccepted) {
  auto create = support::RunIkigaiWithStdin(
      {"user", "create", "--username", "admin1", "--email", "a@example.com", "--role", "admin",
       "--password-stdin", "--database-url", url_},
      std::string(kPassword) + "\n");
  EXPECT_EQ(create.exit_status, 0) << Show(create);
  auto list = support::RunIkigai({"user", "list", "--database-url", url_});
  EXPECT_EQ(list.exit_status, 0) << Show(list);
  EXPECT_TRUE(Contains(list.out, "admin1")) << Show(list);
}

}  // namespace
}  // namespace ikigai
