// API.md Conventions: every 422 carries `error_codes`, the same keys as `errors`, each a stable
// machine-readable code. A table of 422s across every resource (tasks, the map, profile,
// password, accounts, admin, notification preferences, announcements, feedback, push
// subscriptions, two-factor, bodyless routes) checks the exact codes; IsProblem checks the shape
// of every other 422 the suites see, and the hostile-request sweep of every route does too.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/notify_api.hpp"
#include "support/task_api.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::Http;
using support::IsProblem;

enum class Who { kNobody, kUser, kAdmin };

struct Case {
  const char* name;
  const char* method;
  std::string path;
  std::string body;
  Who who;
  json codes;  // the whole error_codes object expected
};

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::string ListOf(int n, const std::string& item) {
  json list = json::array();
  for (int i = 0; i < n; ++i) list.push_back(item + std::to_string(i));
  return list.dump();
}

class ErrorCodesTest : public support::TaskSuite<ErrorCodesTest> {};

TEST_F(ErrorCodesTest, EveryResourceNamesWhyAFieldWasRefused) {
  Http http(Server());
  const auto user = support::NewApiUser(http, "codes_user");
  const auto admin = support::NewApiUser(http, "codes_admin");
  support::MakeAdminInDb(Db(), admin.id);
  const std::string task_id = support::CreateTask(http, user, {{"title", "A task"}})["id"].get<std::string>();
  auto feedback = http.Post("/api/v1/feedback", R"({"category":"idea","message":"More colours"})", user.auth);
  ASSERT_EQ(feedback.status, 201) << feedback;
  const std::string feedback_id = feedback.Json()["id"].get<std::string>();
  const std::string& pw = user.who.password;
  const std::string long_title = Repeat("x", 201);

  const std::vector<Case> cases = {
      // Tasks
      {"task without title", "POST", "/api/v1/tasks", "{}", Who::kUser, {{"title", "required"}}},
      {"task blank title", "POST", "/api/v1/tasks", R"({"title":"   "})", Who::kUser, {{"title", "required"}}},
      {"task title type", "POST", "/api/v1/tasks", R"({"title":5})", Who::kUser, {{"title", "invalid_type"}}},
      {"task title length", "POST", "/api/v1/tasks", json{{"title", long_title}}.dump(), Who::kUser, {{"title", "too_long"}}},
      {"task enums and date", "POST", "/api/v1/tasks",
       R"({"title":"t","status":"later","priority":"urgent","due_at":"tomorrow"})", Who::kUser,
       {{"status", "invalid_value"}, {"priority", "invalid_value"}, {"due_at", "invalid_format"}}},
      {"task tags", "POST", "/api/v1/tasks", R"({"title":"t","tags":)" + ListOf(21, "tag") + "}", Who::kUser,
       {{"tags", "too_many"}}},
      {"task tag length", "POST", "/api/v1/tasks", json{{"title", "t"}, {"tags", {Repeat("y", 33)}}}.dump(), Who::kUser,
       {{"tags", "too_long"}}},
      {"task server-owned and unknown", "PATCH", "/api/v1/tasks/" + task_id, R"({"version":7,"id":"x","colour":"red"})",
       Who::kUser, {{"version", "read_only"}, {"id", "read_only"}, {"colour", "unknown_field"}}},
      {"task notes", "PATCH", "/api/v1/tasks/" + task_id, json{{"notes", Repeat("n", 10001)}}.dump(), Who::kUser,
       {{"notes", "too_long"}}},
      {"body not an object", "POST", "/api/v1/tasks", "[1]", Who::kUser, {{"body", "invalid_type"}}},
      {"bodyless route", "POST", "/api/v1/notifications/read-all", R"({"all":true})", Who::kUser, {{"all", "unknown_field"}}},
      // The ikigai map
      {"map circles", "PUT", "/api/v1/ikigai",
       R"({"love":)" + ListOf(51, "l") + R"(,"good_at":[""],"statement":")" + Repeat("s", 1001) + R"("})",
       Who::kUser, {{"love", "too_many"}, {"good_at", "too_short"}, {"statement", "too_long"}}},
      // Server-owned and unknown members are named before any value rule is applied.
      {"map server-owned", "PUT", "/api/v1/ikigai", R"({"love":[],"version":2,"paid_four":[]})", Who::kUser,
       {{"version", "read_only"}, {"paid_four", "unknown_field"}}},
      // Profile and password
      {"profile rules", "PATCH", "/api/v1/me",
       json{{"username", "ab"}, {"display_name", Repeat("d", 65)}}.dump(), Who::kUser,
       {{"username", "too_short"}, {"display_name", "too_long"}}},
      {"profile server-owned", "PATCH", "/api/v1/me", R"({"role":"admin","email_verified":true,"password":"x"})",
       Who::kUser, {{"role", "read_only"}, {"email_verified", "read_only"}, {"password", "read_only"}}},
      {"profile email", "PATCH", "/api/v1/me", R"({"email":"not-an-address","current_password":"x"})", Who::kUser,
       {{"email", "invalid_format"}}},
      {"profile empty password", "PATCH", "/api/v1/me", R"({"display_name":"D","current_password":""})", Who::kUser,
       {{"current_password", "required"}}},
      {"email change without password", "PATCH", "/api/v1/me", R"({"email":"new-address@example.com"})", Who::kUser,
       {{"current_password", "required"}}},
      {"username characters", "PATCH", "/api/v1/me", R"({"username":"a b c"})", Who::kUser, {{"username", "invalid_format"}}},
      {"wrong current password", "POST", "/api/v1/me/password",
       json{{"current_password", "Not the password 1"}, {"new_password", "A fresh passphrase 1"}}.dump(), Who::kUser,
       {{"current_password", "incorrect"}}},
      {"same password", "POST", "/api/v1/me/password", json{{"current_password", pw}, {"new_password", pw}}.dump(),
       Who::kUser, {{"new_password", "same_as_current"}}},
      {"common password", "POST", "/api/v1/me/password",
       json{{"current_password", pw}, {"new_password", "password"}}.dump(), Who::kUser, {{"new_password", "too_common"}}},
      {"password is the email", "POST", "/api/v1/me/password",
       json{{"current_password", pw}, {"new_password", user.who.email}}.dump(), Who::kUser,
       {{"new_password", "same_as_identity"}}},
      {"short password", "POST", "/api/v1/me/password", json{{"current_password", pw}, {"new_password", "short"}}.dump(),
       Who::kUser, {{"new_password", "too_short"}}},
      {"password missing", "DELETE", "/api/v1/me", "{}", Who::kUser, {{"password", "required"}}},
      // Accounts
      {"register rules", "POST", "/api/v1/auth/register",
       json{{"username", "a b"}, {"email", "x@"}, {"password", Repeat("p", 257)}}.dump(), Who::kNobody,
       {{"username", "invalid_format"}, {"email", "invalid_format"}, {"password", "too_long"}}},
      {"login without identifier", "POST", "/api/v1/auth/login", R"({"password":"x"})", Who::kNobody,
       {{"login", "required"}}},
      {"login with two identifiers", "POST", "/api/v1/auth/login", R"({"email":"a@b.cd","username":"ab","password":"x"})",
       Who::kNobody, {{"login", "invalid_value"}}},
      {"refresh without token", "POST", "/api/v1/auth/refresh", "{}", Who::kNobody, {{"refresh_token", "required"}}},
      {"forgot without address", "POST", "/api/v1/auth/password/forgot", R"({"email":""})", Who::kNobody,
       {{"email", "invalid_format"}}},
      // Notification preferences and announcements
      {"preferences", "PATCH", "/api/v1/me/notification-preferences",
       R"({"email":{"security":false,"gossip":true},"in_app":{"task_due":"yes"},"reminder_lead_minutes":1})", Who::kUser,
       {{"email.security", "invalid_value"}, {"email.gossip", "unknown_field"}, {"in_app.task_due", "invalid_type"},
        {"reminder_lead_minutes", "out_of_range"}}},
      {"preferences channel type", "PATCH", "/api/v1/me/notification-preferences", R"({"push":true})", Who::kUser,
       {{"push", "invalid_type"}}},
      {"announcement", "POST", "/api/v1/admin/notifications", R"({"role":"root","user_ids":"all"})", Who::kAdmin,
       {{"title", "required"}, {"body", "required"}, {"user_ids", "invalid_type"}}},
      {"announcement role", "POST", "/api/v1/admin/notifications", R"({"title":"t","body":"b","role":"root"})",
       Who::kAdmin, {{"role", "invalid_value"}}},
      // Feedback
      {"feedback rules", "POST", "/api/v1/feedback",
       R"({"category":"rant","message":"","rating":9,"status":"done"})", Who::kUser,
       {{"status", "read_only"}}},
      {"feedback values", "POST", "/api/v1/feedback", R"({"category":"rant","message":"","rating":9})", Who::kUser,
       {{"category", "invalid_value"}, {"message", "required"}, {"rating", "out_of_range"}}},
      {"feedback context", "POST", "/api/v1/feedback",
       R"({"category":"bug","message":"m","context":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}})",
       Who::kUser, {{"context", "too_many"}}},
      {"admin feedback", "PATCH", "/api/v1/admin/feedback/" + feedback_id, R"({"status":"someday"})", Who::kAdmin,
       {{"status", "invalid_value"}}},
      {"admin feedback author fields", "PATCH", "/api/v1/admin/feedback/" + feedback_id, R"({"rating":3,"reply":7})",
       Who::kAdmin, {{"rating", "read_only"}, {"reply", "invalid_type"}}},
      // Administration
      {"admin user", "PATCH", "/api/v1/admin/users/" + user.id, R"({"role":"root","mfa_enabled":true})", Who::kAdmin,
       {{"role", "invalid_value"}, {"mfa_enabled", "invalid_value"}}},
      {"admin user owner fields", "PATCH", "/api/v1/admin/users/" + user.id, R"({"email":"a@b.cd","disabled":"no"})",
       Who::kAdmin, {{"email", "read_only"}, {"disabled", "invalid_type"}}},
      // Push subscriptions
      {"push subscription", "POST", "/api/v1/me/push-subscriptions",
       R"({"endpoint":"ftp://push.example.com/x","keys":{"p256dh":"AAAA","auth":"!!","extra":1}})", Who::kUser,
       {{"endpoint", "invalid_format"}, {"keys.p256dh", "invalid_format"}, {"keys.auth", "invalid_format"},
        {"keys.extra", "unknown_field"}}},
      {"push subscription shape", "POST", "/api/v1/me/push-subscriptions", R"({"keys":[]})", Who::kUser,
       {{"endpoint", "required"}, {"keys", "invalid_type"}}},
      // Two-factor sign-in
      {"mfa password", "POST", "/api/v1/me/mfa/totp", R"({"current_password":"Not the password 1"})", Who::kUser,
       {{"current_password", "incorrect"}}},
      {"mfa code format", "POST", "/api/v1/me/mfa/totp/confirm", R"({"code":"12ab"})", Who::kUser,
       {{"code", "invalid_format"}}},
      {"mfa second step", "POST", "/api/v1/auth/login/mfa", R"({"mfa_token":""})", Who::kNobody,
       {{"mfa_token", "required"}, {"code", "required"}}},
  };

  for (const auto& c : cases) {
    support::Headers headers = c.who == Who::kUser ? user.auth : c.who == Who::kAdmin ? admin.auth : support::Headers{};
    support::Request request;
    request.method = c.method;
    request.path = c.path;
    request.body = c.body;
    request.headers = headers;
    auto res = http.Send(request);
    ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << c.name;
    EXPECT_EQ(res.Json()["error_codes"], c.codes) << c.name << ": " << res;
  }
}

// 409 and the task-list 400s carry error_codes beside errors too (`taken`, `invalid_value`, ...).
TEST_F(ErrorCodesTest, ConflictsAndQueryErrorsNameTheirCodes) {
  Http http(Server());
  const auto user = support::NewApiUser(http, "codes_taken");
  auto again = support::RegisterUser(http, user.who);
  ASSERT_TRUE(IsProblem(again, 409, "conflict")) << again;
  EXPECT_EQ(again.Json()["error_codes"], (json{{"username", "taken"}, {"email", "taken"}})) << again;
  auto query = http.Get("/api/v1/tasks?limit=0", "", user.auth);
  ASSERT_TRUE(IsProblem(query, 400, "bad_request")) << query;
  EXPECT_EQ(query.Json()["error_codes"], (json{{"limit", "out_of_range"}})) << query;
  auto sort = http.Get("/api/v1/tasks?sort=size", "", user.auth);
  EXPECT_EQ(sort.Json()["error_codes"], (json{{"sort", "invalid_value"}})) << sort;
}

}  // namespace
}  // namespace ikigai
