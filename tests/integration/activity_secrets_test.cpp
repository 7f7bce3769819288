// API.md "Activity log": `data` never holds a password, token or hash. One journey touches every
// action built so far; then every event the run wrote is read, through GET /admin/activity (all
// pages) and straight from the table, and none may contain a password, an access, refresh, reset
// or verification token, a stream ticket, a password hash or the JWT secret of the run. Every
// action of the journey must be there, with its ip, user_agent and request_id.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/mail_suite.hpp"
#include "support/task_api.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::BearerHeaders;
using support::DirectDb;
using support::Headers;
using support::Http;

class ActivitySecretsTest : public support::MailSuite<ActivitySecretsTest> {};

Headers Meta(const std::string& request_id, Headers extra = {}) {
  extra.emplace_back("X-Request-Id", request_id);
  extra.emplace_back("User-Agent", "secrets-scan/1.0");
  return extra;
}

TEST_F(ActivitySecretsTest, NoEventOfAFullJourneyHoldsASecret) {
  Http http(Server());
  std::vector<std::string> secrets = {std::string(support::kTestJwtSecret), "$argon2", "$2a$", "$2b$", "$2y$"};
  auto keep = [&](const std::string& s) {
    ASSERT_FALSE(s.empty());
    secrets.push_back(s);
  };
  auto who = support::NewCredentials("sec_main");
  keep(who.password);
  auto [user_id, verify_token] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(user_id.empty());
  keep(verify_token);
  ASSERT_EQ(http.Post("/api/v1/auth/email/verify", json{{"token", verify_token}}.dump(), Meta("sec.verify")).status,
            204);
  // Login failed (a near-miss password, itself a secret), then succeeded.
  const std::string wrong = who.password + "x";
  keep(wrong);
  EXPECT_EQ(support::Login(http, "username", who.username, wrong, Meta("sec.login_failed")).status, 401);
  auto pair = support::LoginPair(http, who, Meta("sec.login"));
  keep(pair.access_token);
  keep(pair.refresh_token);
  // Refresh, then the old refresh token again past the grace window: reuse.
  auto refreshed = support::ExpectTokenPair(support::Refresh(http, pair.refresh_token, Meta("sec.refresh")));
  keep(refreshed.access_token);
  keep(refreshed.refresh_token);
  Db().Exec("UPDATE refresh_tokens SET spent_at = spent_at - 60000 WHERE spent_at IS NOT NULL");
  EXPECT_EQ(support::Refresh(http, pair.refresh_token, Meta("sec.reuse")).status, 401);
  // A live session for what follows; logout of another; logout-all from a third.
  auto live = support::LoginPair(http, who, Meta("sec.login2"));
  keep(live.access_token);
  keep(live.refresh_token);
  auto spare = support::LoginPair(http, who);
  keep(spare.access_token);
  keep(spare.refresh_token);
  EXPECT_EQ(http.Post("/api/v1/auth/logout", "", BearerHeaders(spare.access_token, Meta("sec.logout"))).status, 204);
  auto third = support::LoginPair(http, who);
  keep(third.access_token);
  keep(third.refresh_token);
  EXPECT_EQ(http.Post("/api/v1/auth/logout-all", "", BearerHeaders(third.access_token, Meta("sec.logout_all"))).status,
            204);
  // Forgot and reset the password.
  EXPECT_EQ(http.Post("/api/v1/auth/password/forgot", json{{"email", who.email}}.dump(), Meta("sec.forgot")).status,
            202);
  const std::string reset_token = support::AwaitToken(Sink(), who.email, support::kResetPrefix);
  keep(reset_token);
  const std::string reset_password = "Reset-Passphrase-" + who.username + "-91";
  keep(reset_password);
  ASSERT_EQ(http.Post("/api/v1/auth/password/reset", json{{"token", reset_token}, {"password", reset_password}}.dump(),
                      Meta("sec.reset"))
                .status,
            204);
  who.password = reset_password;
  auto me = support::LoginPair(http, who);
  keep(me.access_token);
  keep(me.refresh_token);
  const Headers auth = BearerHeaders(me.access_token);
  auto with = [&](const std::string& rid) { return BearerHeaders(me.access_token, Meta(rid)); };
  // Profile, password change, email change and its verification.
  ASSERT_EQ(http.Patch("/api/v1/me", R"({"display_name":"Secret Keeper"})", with("sec.profile")).status, 200);
  const std::string changed = "Changed-Passphrase-" + who.username + "-73";
  keep(changed);
  ASSERT_EQ(http.Post("/api/v1/me/password", json{{"current_password", who.password}, {"new_password", changed}}.dump(),
                      with("sec.password"))
                .status,
            204);
  who.password = changed;
  me = support::LoginPair(http, who);
  keep(me.access_token);
  keep(me.refresh_token);
  const std::string new_email = "moved_" + who.username + "@example.org";
  ASSERT_EQ(http.Patch("/api/v1/me", json{{"email", new_email}, {"current_password", who.password}}.dump(),
                       BearerHeaders(me.access_token, Meta("sec.email")))
                .status,
            200);
  const std::string email_token = support::AwaitToken(Sink(), new_email, support::kVerifyPrefix);
  keep(email_token);
  ASSERT_EQ(http.Post("/api/v1/auth/email/verify", json{{"token", email_token}}.dump(), Meta("sec.email_verify")).status,
            204);
  // Tasks, the map, a stream ticket.
  const Headers mine = BearerHeaders(me.access_token, Meta("sec.task"));
  auto created = http.Post("/api/v1/tasks", R"({"title":"secret task"})", mine);
  ASSERT_EQ(created.status, 201) << created;
  const std::string task_id = created.Json()["id"].get<std::string>();
  ASSERT_EQ(http.Patch("/api/v1/tasks/" + task_id, R"({"status":"done"})", mine).status, 200);
  ASSERT_EQ(http.Delete("/api/v1/tasks/" + task_id, "", mine).status, 204);
  ASSERT_EQ(http.Put("/api/v1/ikigai", R"({"love":["tea"],"statement":"x"})", mine).status, 200);
  auto ticket = http.Post("/api/v1/notifications/stream-ticket", "", mine);
  ASSERT_EQ(ticket.status, 201) << ticket;
  keep(ticket.Json()["ticket"].get<std::string>());
  // An admin: broadcast, update and delete another account; then an account deletes itself.
  auto boss = support::NewCredentials("sec_admin");
  keep(boss.password);
  auto boss_pair = support::RegisterAndLogin(http, boss);
  Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(boss_pair.user_id));
  boss_pair = support::LoginPair(http, boss);
  keep(boss_pair.access_token);
  keep(boss_pair.refresh_token);
  const Headers admin = BearerHeaders(boss_pair.access_token, Meta("sec.admin"));
  ASSERT_EQ(http.Post("/api/v1/admin/notifications", R"({"title":"News","body":"Hello","role":"user"})", admin).status,
            202);
  auto victim = support::NewCredentials("sec_victim");
  keep(victim.password);
  auto victim_pair = support::RegisterAndLogin(http, victim);
  keep(victim_pair.access_token);
  keep(victim_pair.refresh_token);
  // (Updated: the main account, since deleting an account deletes the events done to it.)
  ASSERT_EQ(http.Patch("/api/v1/admin/users/" + user_id, R"({"display_name":"V"})", admin).status, 200);
  ASSERT_EQ(http.Delete("/api/v1/admin/users/" + victim_pair.user_id, "", admin).status, 204);
  auto gone = support::NewCredentials("sec_gone");
  keep(gone.password);
  auto gone_pair = support::RegisterAndLogin(http, gone);
  keep(gone_pair.access_token);
  keep(gone_pair.refresh_token);
  ASSERT_EQ(http.Delete("/api/v1/me", json{{"password", gone.password}}.dump(),
                        BearerHeaders(gone_pair.access_token, Meta("sec.delete")))
                .status,
            204);

  // Every event, through the API (every page) and from the table.
  std::vector<std::string> texts;
  std::set<std::string> actions;
  std::string cursor;
  for (int page = 0; page < 10000; ++page) {
    std::string path = "/api/v1/admin/activity?limit=100";
    if (!cursor.empty()) path += "&cursor=" + support::UrlEncode(cursor);
    auto res = http.Get(path, "", BearerHeaders(boss_pair.access_token));
    ASSERT_EQ(res.status, 200) << res;
    const json body = res.Json();
    for (const auto& e : body["items"]) {
      texts.push_back(e.dump());
      actions.insert(e["action"].get<std::string>());
      // (user.deleted keeps no address or agent.)
      if (e["request_id"].get<std::string>().rfind("sec.", 0) == 0 && e["action"] != "user.deleted") {
        EXPECT_EQ(e["user_agent"], "secrets-scan/1.0") << e;
        EXPECT_FALSE(e["ip"].get<std::string>().empty()) << e;
      }
    }
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  for (const auto& row : Db().Query("SELECT data, user_agent, ip, request_id, action FROM activity")) {
    std::string text;
    for (const auto& v : row) text += v.value_or("") + "\n";
    texts.push_back(text);
  }
  for (const char* action :
       {"auth.registered", "auth.email_verified", "auth.login_failed", "auth.login_succeeded", "auth.refresh_reused",
        "auth.logout", "auth.password_reset_requested", "auth.password_reset", "user.updated",
        "user.password_changed", "user.email_changed", "task.created", "task.updated", "task.deleted",
        "ikigai.updated", "notification.broadcast", "admin.user_updated", "admin.user_deleted", "user.deleted"}) {
    EXPECT_TRUE(actions.contains(action)) << "no " << action << " event was recorded";
  }
  ASSERT_GT(texts.size(), 40u);
  for (const auto& text : texts) {
    for (const auto& secret : secrets) {
      EXPECT_EQ(text.find(secret), std::string::npos) << "an event holds a secret (" << secret.substr(0, 6)
                                                      << "...): " << text;
    }
  }
}

}  // namespace
}  // namespace ikigai
