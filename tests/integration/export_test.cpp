// API.md "Your data": GET /api/v1/me/export is one JSON document (Content-Disposition:
// attachment; filename="ikigai-export-<username>-<YYYY-MM-DD>.json") with every section, all of the
// caller's tasks and nothing of another user, never a hash, token or secret; at most 3 an hour.
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/task_api.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::ApiUser;
using support::Http;

class ExportTest : public support::TaskSuite<ExportTest> {};

TEST_F(ExportTest, HoldsEverySectionAndAllOfTheCallersTasksAndNothingElse) {
  Http http(Server());
  auto user = support::NewApiUser(http, "exp_user");
  auto other = support::NewApiUser(http, "exp_other");
  std::set<std::string> task_ids;
  for (int i = 0; i < 150; ++i) {
    task_ids.insert(
        support::CreateTask(http, user, {{"title", support::Numbered("mine ", i)}, {"notes", "n"}})["id"].get<std::string>());
  }
  (void)support::CreateTask(http, other, {{"title", "not yours"}});
  ASSERT_EQ(http.Put("/api/v1/ikigai", R"({"love":["tea"],"statement":"To help"})", user.auth).status, 200);
  // A notification of the user's (an admin announcement) and one of the other's.
  auto admin = support::NewApiUser(http, "exp_admin");
  Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + support::DirectDb::Quote(admin.id));
  auto admin_pair = support::LoginPair(http, admin.who);
  ASSERT_EQ(http.Post("/api/v1/admin/notifications",
                      json{{"title", "Hello"}, {"body", "News"}, {"user_ids", {user.id, other.id}}}.dump(),
                      support::BearerHeaders(admin_pair.access_token))
                .status,
            202);
  ASSERT_TRUE(support::WaitUntil([&] {
    return Db().Scalar("SELECT COUNT(*) FROM notifications WHERE user_id = " + support::DirectDb::Quote(user.id)) ==
           "1";
  })) << "the announcement did not arrive";

  auto res = http.Get("/api/v1/me/export", "", user.auth);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Header("content-type").rfind("application/json", 0), 0u) << res.Header("content-type");
  const std::string disposition = res.Header("content-disposition");
  const std::string prefix = "attachment; filename=\"ikigai-export-" + user.who.username + "-";
  ASSERT_EQ(disposition.rfind(prefix, 0), 0u) << disposition;
  const json doc = res.Json();
  const std::string date = doc["exported_at"].get<std::string>().substr(0, 10);
  EXPECT_EQ(disposition, prefix + date + ".json\"");
  for (const char* key : {"user", "tasks", "ikigai_map", "notifications", "notification_preferences",
                          "push_subscriptions", "feedback", "sessions", "activity", "exported_at"}) {
    EXPECT_TRUE(doc.contains(key)) << key;
  }
  EXPECT_EQ(doc["user"]["id"], user.id);
  std::set<std::string> exported;
  for (const auto& t : doc["tasks"]) exported.insert(t["id"].get<std::string>());
  EXPECT_EQ(doc["tasks"].size(), 150u);
  EXPECT_EQ(exported, task_ids);
  EXPECT_EQ(doc["ikigai_map"]["love"], json({"tea"}));
  ASSERT_EQ(doc["notifications"].size(), 1u);
  EXPECT_EQ(doc["notifications"][0]["title"], "Hello");
  EXPECT_TRUE(doc["notification_preferences"].contains("email"));
  EXPECT_EQ(doc["push_subscriptions"], json::array());
  EXPECT_EQ(doc["feedback"], json::array());
  ASSERT_GE(doc["sessions"].size(), 1u);
  std::size_t created = 0;
  for (const auto& e : doc["activity"]) {
    EXPECT_TRUE(e["actor_id"] == user.id || e["target_id"] == user.id) << e;
    if (e["action"] == "task.created") ++created;
  }
  EXPECT_EQ(created, 150u);
  // Nothing of the other user, no hash, no token, no secret.
  const std::string text = res.body;
  const std::string token = user.auth.front().second.substr(7);
  for (const std::string& bad : {other.id, std::string("not yours"), std::string("$argon2"), std::string("password_hash"),
                                 user.who.password, token, std::string(support::kTestJwtSecret),
                                 std::string("refresh_token"), std::string("token_hash")}) {
    EXPECT_EQ(text.find(bad), std::string::npos) << "the export holds " << bad.substr(0, 12);
  }
}

TEST_F(ExportTest, NeedsASignedInUser) {
  Http http(Server());
  EXPECT_TRUE(support::IsUnauthorized(http.Get("/api/v1/me/export")));
}

class ExportFeedbackTest : public support::TaskSuite<ExportFeedbackTest> {};

// The feedback section reads the table of migration 0004_feedback (built on another branch): made
// here when this schema lacks it, with the columns the export reads.
TEST_F(ExportFeedbackTest, HoldsTheCallersFeedbackOnly) {
  Http http(Server());
  auto user = support::NewApiUser(http, "exp_fb");
  auto other = support::NewApiUser(http, "exp_fb2");
  Db().Exec("CREATE TABLE IF NOT EXISTS feedback (id VARCHAR(36) PRIMARY KEY, user_id VARCHAR(36) NOT NULL, "
            "category VARCHAR(16) NOT NULL, message TEXT NOT NULL, rating INTEGER NULL, context TEXT NOT NULL, "
            "status VARCHAR(16) NOT NULL, reply TEXT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)");
  auto insert = [&](const std::string& id, const std::string& owner, const std::string& message,
                    const std::string& rating, const std::string& reply) {
    Db().Exec("INSERT INTO feedback (id, user_id, category, message, rating, context, status, reply, created_at, "
              "updated_at) VALUES (" + support::DirectDb::Quote(id) + ", " + support::DirectDb::Quote(owner) +
              ", 'idea', " + support::DirectDb::Quote(message) + ", " + rating +
              ", '{\"page\":\"/tasks\"}', 'new', " + reply + ", 1764000000000, 1764000001000)");
  };
  insert("00000000-0000-7000-8000-000000000001", user.id, "first idea", "4", "NULL");
  insert("00000000-0000-7000-8000-000000000002", user.id, "second", "NULL", "'thanks'");
  insert("00000000-0000-7000-8000-000000000003", other.id, "not yours", "5", "NULL");
  auto res = http.Get("/api/v1/me/export", "", user.auth);
  ASSERT_EQ(res.status, 200) << res;
  const json feedback = res.Json()["feedback"];
  ASSERT_EQ(feedback.size(), 2u) << feedback;
  EXPECT_EQ(feedback[0]["message"], "first idea");
  EXPECT_EQ(feedback[0]["rating"], 4);
  EXPECT_EQ(feedback[0]["reply"], nullptr);
  EXPECT_EQ(feedback[0]["context"], json({{"page", "/tasks"}}));
  EXPECT_EQ(feedback[0]["user_id"], user.id);
  EXPECT_EQ(feedback[1]["rating"], nullptr);
  EXPECT_EQ(feedback[1]["reply"], "thanks");
  EXPECT_EQ(res.body.find("not yours"), std::string::npos);
}

class ExportLimitTest : public support::AccountSuite<ExportLimitTest> {};

// export_user: 3 per user per hour (the default); the fourth is 429 with Retry-After, another user
// is unaffected.
TEST_F(ExportLimitTest, FourthExportInAnHourIs429AndOtherUsersAreUnaffected) {
  Http http(Server());
  auto user = support::NewApiUser(http, "exp_lim");
  auto other = support::NewApiUser(http, "exp_lim2");
  // HEAD reads nothing and is not counted.
  for (int i = 0; i < 4; ++i) {
    support::Request request;
    request.method = "HEAD";
    request.path = "/api/v1/me/export";
    request.headers = user.auth;
    auto head = http.Send(request);
    ASSERT_EQ(head.status, 200) << head;
    EXPECT_TRUE(head.body.empty());
    EXPECT_EQ(head.Header("content-disposition").rfind("attachment; filename=\"ikigai-export-", 0), 0u);
  }
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http.Get("/api/v1/me/export", "", user.auth).status, 200) << i;
  EXPECT_TRUE(support::IsRateLimited(http.Get("/api/v1/me/export", "", user.auth), 3600));
  EXPECT_EQ(http.Get("/api/v1/me/export", "", other.auth).status, 200);
}

}  // namespace
}  // namespace ikigai
