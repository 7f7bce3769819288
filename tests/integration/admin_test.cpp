// API.md "Roles and administration": 403 for everyone but admins, the user list (q, role,
// disabled filters; newest first; keyset cursors that stay correct while users register), get,
// patch (role, disabled, display_name; disabling ends every session at once), delete, and the
// last enabled admin who can never be demoted, disabled or deleted, also when two admins demote
// each other at the same moment.
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mail_suite.hpp"
#include "support/task_api.hpp"
#include "support/text.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::DirectDb;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::NewCredentials;
using support::Response;
using support::TokenPair;

constexpr const char* kUsers = "/api/v1/admin/users";

std::string UserPath(const std::string& id) { return std::string(kUsers) + "/" + id; }

Response PatchUser(const Http& http, const std::string& token, const std::string& id, const json& body,
                   Headers extra = {}) {
  return http.Patch(UserPath(id), body.dump(), BearerHeaders(token, std::move(extra)));
}

Response DeleteUser(const Http& http, const std::string& token, const std::string& id, Headers extra = {}) {
  return http.Delete(UserPath(id), "", BearerHeaders(token, std::move(extra)));
}

void MakeAdmin(DirectDb& db, const std::string& user_id) {
  db.Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(user_id));
}

long long EnabledAdmins(DirectDb& db) {
  return std::stoll(db.Scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND disabled = 0").value_or("-1"));
}

// Every page of GET /admin/users with `query` (without limit/cursor), following next_cursor.
std::vector<json> AllPages(const Http& http, const std::string& token, const std::string& query, int limit,
                           int* pages = nullptr) {
  std::vector<json> users;
  std::string cursor;
  int n = 0;
  do {
    std::string path = std::string(kUsers) + "?" + query + (query.empty() ? "" : "&") +
                       support::Numbered("limit=", limit);
    if (!cursor.empty()) path += "&cursor=" + support::UrlEncode(cursor);
    auto res = http.Get(path, "", BearerHeaders(token));
    EXPECT_EQ(res.status, 200) << res;
    if (res.status != 200) break;
    const json page = res.Json();
    EXPECT_LE(page["items"].size(), static_cast<std::size_t>(limit));
    for (const auto& u : page["items"]) users.push_back(u);
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    ++n;
  } while (!cursor.empty() && n < 1000);
  if (pages != nullptr) *pages = n;
  return users;
}

std::vector<std::string> Usernames(const std::vector<json>& users) {
  std::vector<std::string> out;
  for (const auto& u : users) out.push_back(u["username"].get<std::string>());
  return out;
}

// ---------------------------------------------------------------------------------------------
// One server per suite; every test makes its own admin and users.

class AdminApiTest : public support::TaskSuite<AdminApiTest> {
 protected:
  // A new user made admin (directly in the database), signed in.
  static TokenPair NewAdmin(const Http& http, std::string_view prefix = "admin") {
    auto pair = support::RegisterAndLogin(http, NewCredentials(prefix));
    MakeAdmin(Db(), pair.user_id);
    return pair;
  }
};

TEST_F(AdminApiTest, EveryAdminRouteIs403ForAUserAnd401WithoutAToken) {
  Http http(Server());
  auto user = support::RegisterAndLogin(http, NewCredentials("adm_plain"));
  auto victim = support::RegisterAndLogin(http, NewCredentials("adm_victim"));
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", kUsers}, {"GET", UserPath(victim.user_id)}, {"PATCH", UserPath(victim.user_id)},
      {"DELETE", UserPath(victim.user_id)}};
  for (const auto& [method, path] : routes) {
    const std::string body = method == "PATCH" ? R"({"role":"admin"})" : "";
    support::Request forbidden;
    forbidden.method = method;
    forbidden.path = path;
    forbidden.body = body;
    forbidden.headers = BearerHeaders(user.access_token);
    EXPECT_TRUE(IsProblem(http.Send(forbidden), 403, "forbidden")) << method << " " << path;
    support::Request anonymous = forbidden;
    anonymous.headers.clear();
    EXPECT_TRUE(IsUnauthorized(http.Send(anonymous))) << method << " " << path;
  }
  // Nothing happened to the victim, and the user did not become an admin.
  EXPECT_EQ(Db().Scalar("SELECT role FROM users WHERE id = " + DirectDb::Quote(victim.user_id)), "user");
  EXPECT_EQ(Db().Scalar("SELECT role FROM users WHERE id = " + DirectDb::Quote(user.user_id)), "user");
  EXPECT_EQ(support::GetMe(http, victim.access_token).status, 200);
}

TEST_F(AdminApiTest, GetsAUserByIdAnd404ForAnUnknownOne) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto who = NewCredentials("adm_get");
  auto pair = support::RegisterAndLogin(http, who);
  auto res = http.Get(UserPath(pair.user_id), "", BearerHeaders(admin.access_token));
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Json(), support::GetMe(http, pair.access_token).Json());
  EXPECT_FALSE(res.Json().contains("password_hash"));
  for (const std::string& id : {std::string("0193aaaa-0000-7000-8000-000000000000"), std::string("nope")}) {
    EXPECT_TRUE(IsProblem(http.Get(UserPath(id), "", BearerHeaders(admin.access_token)), 404, "not_found"));
    EXPECT_TRUE(IsProblem(PatchUser(http, admin.access_token, id, {{"role", "user"}}), 404, "not_found"));
    EXPECT_TRUE(IsProblem(DeleteUser(http, admin.access_token, id), 404, "not_found"));
  }
}

TEST_F(AdminApiTest, ListsNewestFirstWithFiltersAndKeysetPages) {
  Http http(Server());
  auto admin = NewAdmin(http);
  // 23 users of one prefix: every 4th an admin, every 5th disabled, every 3rd with a display name.
  const std::string prefix = support::Numbered("lst", ::getpid() % 100000);
  std::vector<std::string> names;
  for (int i = 0; i < 23; ++i) {
    Credentials who = NewCredentials(prefix);
    std::optional<std::string> display;
    if (i % 3 == 0) display = support::Numbered("Tëam Mëmber ", i);
    auto res = http.Post("/api/v1/auth/register", support::RegisterBody(who, display));
    ASSERT_EQ(res.status, 201) << res;
    const std::string id = res.Json()["user"]["id"].get<std::string>();
    if (i % 4 == 0) MakeAdmin(Db(), id);
    if (i % 5 == 0) Db().Exec("UPDATE users SET disabled = 1 WHERE id = " + DirectDb::Quote(id));
    names.push_back(who.username);
  }
  std::vector<std::string> newest_first(names.rbegin(), names.rend());

  int pages = 0;
  auto all = AllPages(http, admin.access_token, "q=" + prefix, 10, &pages);
  EXPECT_EQ(Usernames(all), newest_first);
  EXPECT_EQ(pages, 3);
  // Case-insensitive, and matching the email and the display name too.
  const std::string upper = support::UpperAscii(prefix);
  EXPECT_EQ(Usernames(AllPages(http, admin.access_token, "q=" + upper, 100)), newest_first);
  EXPECT_EQ(AllPages(http, admin.access_token, "q=" + support::UrlEncode(names[7] + "@EXAMPLE.com"), 100).size(), 1u);
  EXPECT_EQ(AllPages(http, admin.access_token, "q=" + support::UrlEncode("Tëam Mëmber 21"), 100).size(), 1u);
  // A LIKE wildcard is a literal character.
  EXPECT_TRUE(AllPages(http, admin.access_token, "q=" + support::UrlEncode(prefix + "%"), 100).empty());

  auto admins = AllPages(http, admin.access_token, "q=" + prefix + "&role=admin", 2);
  EXPECT_EQ(admins.size(), 6u);
  for (const auto& u : admins) EXPECT_EQ(u["role"], "admin");
  auto disabled = AllPages(http, admin.access_token, "q=" + prefix + "&disabled=true", 3);
  EXPECT_EQ(disabled.size(), 5u);
  for (const auto& u : disabled) EXPECT_EQ(u["disabled"], true);
  EXPECT_EQ(AllPages(http, admin.access_token, "q=" + prefix + "&disabled=false&role=user", 100).size(), 23u - 5 - 6 + 2);
  // Without filters the list holds everyone, the admin included.
  auto everyone = Usernames(AllPages(http, admin.access_token, "", 100));
  EXPECT_NE(std::find(everyone.begin(), everyone.end(), names[0]), everyone.end());
}

TEST_F(AdminApiTest, PagesStayCorrectWhileUsersRegister) {
  Http http(Server());
  auto admin = NewAdmin(http);
  const std::string prefix = support::Numbered("stb", ::getpid() % 100000);
  std::set<std::string> before;
  for (int i = 0; i < 12; ++i) {
    auto who = NewCredentials(prefix);
    ASSERT_EQ(support::RegisterUser(http, who).status, 201);
    before.insert(who.username);
  }
  auto first = http.Get(std::string(kUsers) + "?q=" + prefix + "&limit=5", "", BearerHeaders(admin.access_token));
  ASSERT_EQ(first.status, 200) << first;
  std::vector<std::string> seen = Usernames(first.Json()["items"].get<std::vector<json>>());
  std::string cursor = first.Json()["next_cursor"].get<std::string>();
  // New users arrive between the pages: they are newer than the first page, so no page shifts.
  for (int i = 0; i < 4; ++i) ASSERT_EQ(support::RegisterUser(http, NewCredentials(prefix)).status, 201);
  while (!cursor.empty()) {
    auto page = http.Get(std::string(kUsers) + "?q=" + prefix + "&limit=5&cursor=" + support::UrlEncode(cursor), "",
                         BearerHeaders(admin.access_token));
    ASSERT_EQ(page.status, 200) << page;
    for (auto& n : Usernames(page.Json()["items"].get<std::vector<json>>())) seen.push_back(n);
    cursor = page.Json()["next_cursor"].is_null() ? "" : page.Json()["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), before);
  EXPECT_EQ(seen.size(), before.size()) << "a user appeared twice";
}

TEST_F(AdminApiTest, BadListParametersAre400) {
  Http http(Server());
  auto admin = NewAdmin(http);
  const std::string prefix = support::Numbered("bad", ::getpid() % 100000);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(support::RegisterUser(http, NewCredentials(prefix)).status, 201);
  auto first = http.Get(std::string(kUsers) + "?q=" + prefix + "&limit=1", "", BearerHeaders(admin.access_token));
  ASSERT_EQ(first.status, 200) << first;
  std::string cursor = first.Json()["next_cursor"].get<std::string>();
  std::string tampered = cursor;
  tampered[tampered.size() / 3] = tampered[tampered.size() / 3] == 'A' ? 'B' : 'A';

  for (const std::string& query :
       {std::string("limit=0"), std::string("limit=101"), std::string("limit=x"), std::string("role=root"),
        std::string("disabled=yes"), "q=" + prefix + "&cursor=" + support::UrlEncode(tampered),
        // A cursor of another filter set, or of another list.
        "q=" + prefix + "&role=user&cursor=" + support::UrlEncode(cursor), "cursor=" + support::UrlEncode(cursor),
        std::string("cursor=garbage")}) {
    auto res = http.Get(std::string(kUsers) + "?" + query, "", BearerHeaders(admin.access_token));
    EXPECT_TRUE(IsProblem(res, 400, "bad_request")) << query << " -> " << res;
  }
}

TEST_F(AdminApiTest, PromotesAndDemotesWithEffectOnTheNextRequest) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto who = support::RegisterAndLogin(http, NewCredentials("adm_promo"));
  ASSERT_TRUE(IsProblem(http.Get(kUsers, "", BearerHeaders(who.access_token)), 403, "forbidden"));

  auto up = PatchUser(http, admin.access_token, who.user_id, {{"role", "admin"}}, {{"X-Request-Id", "adm-promo"}});
  ASSERT_EQ(up.status, 200) << up;
  EXPECT_EQ(up.Json()["role"], "admin");
  // The same access token (its role claim still says "user") now reaches the admin API.
  EXPECT_EQ(http.Get(kUsers, "", BearerHeaders(who.access_token)).status, 200);
  auto event = Db().Query("SELECT actor_id, target_id, data FROM activity WHERE action = 'admin.user_updated' AND "
                          "request_id = 'adm-promo'");
  ASSERT_EQ(event.size(), 1u);
  EXPECT_EQ(event[0][0], admin.user_id);
  EXPECT_EQ(event[0][1], who.user_id);
  EXPECT_EQ(json::parse(event[0][2].value_or("{}"))["fields"], json({"role"}));

  auto down = PatchUser(http, admin.access_token, who.user_id, {{"role", "user"}, {"display_name", "Demoted"}});
  ASSERT_EQ(down.status, 200) << down;
  EXPECT_EQ(down.Json()["role"], "user");
  EXPECT_EQ(down.Json()["display_name"], "Demoted");
  EXPECT_TRUE(IsProblem(http.Get(kUsers, "", BearerHeaders(who.access_token)), 403, "forbidden"));
  // An unchanged value is a 200 that records nothing.
  auto same = PatchUser(http, admin.access_token, who.user_id, {{"role", "user"}}, {{"X-Request-Id", "adm-same"}});
  EXPECT_EQ(same.status, 200) << same;
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM activity WHERE request_id = 'adm-same'"), "0");
}

TEST_F(AdminApiTest, DisablingEndsEverySessionAtOnce) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto who = NewCredentials("adm_off");
  auto one = support::RegisterAndLogin(http, who);
  auto two = support::LoginPair(http, who);

  auto off = PatchUser(http, admin.access_token, one.user_id, {{"disabled", true}});
  ASSERT_EQ(off.status, 200) << off;
  EXPECT_EQ(off.Json()["disabled"], true);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, one.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, two.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, two.refresh_token)));
  EXPECT_TRUE(IsProblem(support::Login(http, "username", who.username, who.password), 403, "account_disabled"));

  auto on = PatchUser(http, admin.access_token, one.user_id, {{"disabled", false}});
  ASSERT_EQ(on.status, 200) << on;
  // Enabling does not bring the old sessions back; signing in works again.
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, one.access_token)));
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
}

TEST_F(AdminApiTest, PatchRulesAre422AndNothingChanges) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto who = support::RegisterAndLogin(http, NewCredentials("adm_rules"));
  const json before = support::GetMe(http, who.access_token).Json();
  for (const json& body :
       {json{{"role", "root"}}, json{{"role", nullptr}}, json{{"disabled", "yes"}}, json{{"disabled", 1}},
        json{{"display_name", std::string(65, 'x')}}, json{{"username", "renamed"}}, json{{"email", "x@example.com"}},
        json{{"password", "Another-pass-123"}}, json{{"email_verified", true}}, json{{"id", "x"}},
        json{{"created_at", "2020-01-01T00:00:00Z"}}, json{{"nickname", "x"}}}) {
    // Alongside a valid change, so that a half-applied request would show.
    json with_valid = body;
    if (!with_valid.contains("display_name")) with_valid["display_name"] = "Valid";
    auto res = PatchUser(http, admin.access_token, who.user_id, with_valid);
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << with_valid.dump() << " -> " << res;
    EXPECT_TRUE(res.Json()["errors"].contains(body.begin().key())) << res;
  }
  auto array = http.Patch(UserPath(who.user_id), "[]", BearerHeaders(admin.access_token));
  EXPECT_TRUE(IsProblem(array, 422, "validation_failed")) << array;
  auto broken = http.Patch(UserPath(who.user_id), "{\"role\":", BearerHeaders(admin.access_token));
  EXPECT_TRUE(IsProblem(broken, 400, "malformed_json")) << broken;
  EXPECT_EQ(support::GetMe(http, who.access_token).Json(), before);
}

TEST_F(AdminApiTest, DeletesAUserWithEverythingItOwns) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto who = NewCredentials("adm_del");
  auto pair = support::RegisterAndLogin(http, who);
  ASSERT_EQ(http.Post("/api/v1/tasks", R"({"title":"doomed","tags":["x"]})", BearerHeaders(pair.access_token)).status,
            201);

  auto res = DeleteUser(http, admin.access_token, pair.user_id, {{"X-Request-Id", "adm-del"}});
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token)));
  EXPECT_TRUE(IsProblem(http.Get(UserPath(pair.user_id), "", BearerHeaders(admin.access_token)), 404, "not_found"));
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM tasks WHERE user_id = " + DirectDb::Quote(pair.user_id)), "0");
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM sessions WHERE user_id = " + DirectDb::Quote(pair.user_id)), "0");
  // The user's own events are gone; the admin's record of the deletion stays.
  auto events = Db().Query("SELECT action, actor_id FROM activity WHERE target_id = " + DirectDb::Quote(pair.user_id) +
                           " OR actor_id = " + DirectDb::Quote(pair.user_id));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0][0], "admin.user_deleted");
  EXPECT_EQ(events[0][1], admin.user_id);
  EXPECT_TRUE(IsProblem(DeleteUser(http, admin.access_token, pair.user_id), 404, "not_found"));
  // A body on DELETE is refused like any unknown field.
  auto other = support::RegisterAndLogin(http, NewCredentials("adm_delbody"));
  auto with_body = http.Delete(UserPath(other.user_id), R"({"force":true})", BearerHeaders(admin.access_token));
  EXPECT_TRUE(IsProblem(with_body, 422, "validation_failed")) << with_body;
  EXPECT_EQ(support::GetMe(http, other.access_token).status, 200);
}

TEST_F(AdminApiTest, DeletingAnAdminKeepsWhatTheyDidToOthersWithoutNamingThem) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto gone = NewAdmin(http, "adm_gone");
  auto other = support::RegisterAndLogin(http, NewCredentials("adm_other"));
  ASSERT_EQ(PatchUser(http, gone.access_token, other.user_id, {{"display_name", "Renamed"}},
                      {{"X-Request-Id", "adm-gone-did"}})
                .status,
            200);
  ASSERT_EQ(DeleteUser(http, admin.access_token, gone.user_id).status, 204);
  auto kept = Db().Query("SELECT actor_id, target_id, ip, user_agent FROM activity WHERE request_id = 'adm-gone-did'");
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0][0], std::nullopt);
  EXPECT_EQ(kept[0][1], other.user_id);
  EXPECT_EQ(kept[0][2].value_or(""), "");
  EXPECT_EQ(kept[0][3].value_or(""), "");
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM activity WHERE actor_id = " + DirectDb::Quote(gone.user_id)), "0");
}

// ---------------------------------------------------------------------------------------------
// The last admin: a fresh database per test, so that the number of admins is known.

// Two admins removed each other at once: exactly one request won (`success`) and one enabled
// admin is left. The loser found the other to be the last admin (409), had lost its own role by
// then (403), or its account or session was gone (401).
void ExpectOneWinner(const std::vector<Response>& answers, int success, DirectDb& db, int round) {
  int won = 0;
  for (const auto& res : answers) {
    if (res.status == success) {
      ++won;
    } else {
      EXPECT_TRUE(res.status == 409 || res.status == 403 || res.status == 401) << res;
    }
  }
  EXPECT_EQ(won, 1) << "round " << round;
  EXPECT_EQ(EnabledAdmins(db), 1) << "round " << round;
}

class LastAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = support::FreshDatabaseUrl(dir_);
    server_ = std::make_unique<support::Server>(support::StartAccountServer(dir_, url_, support::TaskServerEnv()));
    db_ = std::make_unique<DirectDb>(url_);
  }

  TokenPair NewAdmin(const Http& http, std::string_view prefix) {
    auto pair = support::RegisterAndLogin(http, NewCredentials(prefix));
    MakeAdmin(*db_, pair.user_id);
    return pair;
  }

  support::TempDir dir_;
  std::string url_;
  std::unique_ptr<support::Server> server_;
  std::unique_ptr<DirectDb> db_;
};

TEST_F(LastAdminTest, CannotBeDemotedDisabledOrDeleted) {
  Http http(*server_);
  auto only = NewAdmin(http, "last_only");
  // A disabled admin does not count.
  auto off = NewAdmin(http, "last_off");
  ASSERT_EQ(PatchUser(http, only.access_token, off.user_id, {{"disabled", true}}).status, 200);

  for (const json& body : {json{{"role", "user"}}, json{{"disabled", true}}, json{{"role", "user"}, {"disabled", true}}}) {
    auto res = PatchUser(http, only.access_token, only.user_id, body);
    EXPECT_TRUE(IsProblem(res, 409, "conflict")) << body.dump() << " -> " << res;
  }
  EXPECT_TRUE(IsProblem(DeleteUser(http, only.access_token, only.user_id), 409, "conflict"));
  EXPECT_EQ(EnabledAdmins(*db_), 1);
  // Other changes of the last admin are fine.
  EXPECT_EQ(PatchUser(http, only.access_token, only.user_id, {{"display_name", "Keeper"}}).status, 200);

  // With a second enabled admin, either may step down.
  auto second = NewAdmin(http, "last_second");
  ASSERT_EQ(PatchUser(http, second.access_token, only.user_id, {{"role", "user"}}).status, 200);
  EXPECT_EQ(EnabledAdmins(*db_), 1);
  EXPECT_TRUE(IsProblem(PatchUser(http, second.access_token, second.user_id, {{"role", "user"}}), 409, "conflict"));
}

TEST_F(LastAdminTest, TheLastAdminCannotDeleteTheirOwnAccount) {
  Http http(*server_);
  auto who = NewCredentials("last_self");
  auto pair = support::RegisterAndLogin(http, who);
  MakeAdmin(*db_, pair.user_id);
  auto res = http.Delete("/api/v1/me", json{{"password", who.password}}.dump(), BearerHeaders(pair.access_token));
  EXPECT_TRUE(IsProblem(res, 409, "conflict")) << res;
  EXPECT_EQ(support::GetMe(http, pair.access_token).status, 200);
}

TEST_F(LastAdminTest, TwoAdminsDemotingEachOtherAtOnceLeaveOneAdmin) {
  Http http(*server_);
  const auto a_who = NewCredentials("last_a");
  const auto b_who = NewCredentials("last_b");
  ASSERT_EQ(support::RegisterUser(http, a_who).status, 201);
  ASSERT_EQ(support::RegisterUser(http, b_who).status, 201);
  for (int round = 0; round < 8; ++round) {
    // Both admins again (this database holds only them), signed in afresh.
    db_->Exec("UPDATE users SET role = 'admin', disabled = 0");
    const auto a = support::LoginPair(http, a_who);
    const auto b = support::LoginPair(http, b_who);
    ASSERT_EQ(EnabledAdmins(*db_), 2);
    // Demote or disable, alternating, so both ways of removing an admin race.
    const json change = round % 2 == 0 ? json{{"role", "user"}} : json{{"disabled", true}};
    auto answers = support::AllAtOnce(2, [&](int i) {
      const auto& actor = i == 0 ? a : b;
      const auto& target = i == 0 ? b : a;
      return PatchUser(http, actor.access_token, target.user_id, change);
    });
    ExpectOneWinner(answers, 200, *db_, round);
  }
}

TEST_F(LastAdminTest, TwoAdminsDeletingEachOtherAtOnceLeaveOneAdmin) {
  Http http(*server_);
  for (int round = 0; round < 4; ++round) {
    auto a = NewAdmin(http, "last_del_a");
    auto b = NewAdmin(http, "last_del_b");
    // Only these two are admins: demote any survivor of an earlier round.
    db_->Exec("UPDATE users SET role = 'user' WHERE id NOT IN (" + DirectDb::Quote(a.user_id) + ", " +
              DirectDb::Quote(b.user_id) + ")");
    ASSERT_EQ(EnabledAdmins(*db_), 2);
    auto answers = support::AllAtOnce(2, [&](int i) {
      const auto& actor = i == 0 ? a : b;
      const auto& target = i == 0 ? b : a;
      return DeleteUser(http, actor.access_token, target.user_id);
    });
    ExpectOneWinner(answers, 204, *db_, round);
  }
}

}  // namespace
}  // namespace ikigai
