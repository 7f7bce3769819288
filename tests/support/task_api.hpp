// Helpers for the tests of API.md "Tasks" and "Ikigai map": a server with cheap hashing and no
// rate limits, users signed in with a bearer header, task calls, query encoding, and the activity
// table read directly.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"

namespace ikigai::support {

// AccountServerEnv with IKIGAI_RATE_LIMITS=off (these suites register many users from one address).
[[nodiscard]] std::map<std::string, std::string> TaskServerEnv();

// AccountSuite with TaskServerEnv().
template <class Suite>
class TaskSuite : public AccountSuite<Suite> {
 public:
  static std::map<std::string, std::string> ServerEnv() { return TaskServerEnv(); }
};

// A registered, signed-in user: its id and the "Authorization: Bearer ..." header.
struct ApiUser {
  std::string id;
  Headers auth;
  Credentials who;

  // auth plus `extra`.
  [[nodiscard]] Headers With(Headers extra) const;
};

// Registers a new user (NewCredentials(prefix)) and logs in. Throws std::runtime_error on failure.
[[nodiscard]] ApiUser NewApiUser(const Http& http, std::string_view prefix = "tasks");

// prefix followed by n in decimal ("Task 7"); built by appending, which GCC 12's -Wrestrict
// does not misreport as "literal" + std::to_string(n) sometimes is.
[[nodiscard]] std::string Numbered(std::string_view prefix, long long n);

// Percent-encodes everything but [A-Za-z0-9-._~], for query values.
[[nodiscard]] std::string UrlEncode(std::string_view value);

// "/api/v1/tasks?name=value&..." with every value encoded (params in the given order).
[[nodiscard]] std::string TasksQuery(const std::vector<std::pair<std::string, std::string>>& params);

// POST /api/v1/tasks with `body`.
Response PostTask(const Http& http, const ApiUser& user, const nlohmann::json& body);
// POST /api/v1/tasks that must answer 201; the Task. Throws std::runtime_error otherwise.
nlohmann::json CreateTask(const Http& http, const ApiUser& user, const nlohmann::json& body);
// GET /api/v1/tasks/{id}.
Response GetTask(const Http& http, const ApiUser& user, const std::string& id);
// PATCH /api/v1/tasks/{id} with `body` (and If-Match when given).
Response PatchTask(const Http& http, const ApiUser& user, const std::string& id, const nlohmann::json& body,
                   std::optional<std::string> if_match = std::nullopt);

// "2026-11-24T11:00:00Z": RFC 3339 UTC, to the second.
[[nodiscard]] bool IsUtcTimestamp(const nlohmann::json& value);
// A UUIDv7 in lowercase text form.
[[nodiscard]] bool IsUuidV7(const nlohmann::json& value);

// The answers of racing PATCHes with one If-Match: how many were 200 (the last one's body is
// `winner`) and how many 412 precondition_failed; any other answer fails the current test.
struct IfMatchRace {
  int ok = 0;
  int precondition_failed = 0;
  nlohmann::json winner;
};
[[nodiscard]] IfMatchRace TallyIfMatchRace(const std::vector<Response>& results);

// A 422 validation_failed problem whose "errors" names `field` (with a non-empty string message).
[[nodiscard]] ::testing::AssertionResult IsFieldError(const Response& response, std::string_view field);

// One row of the activity table.
struct ActivityRow {
  std::optional<std::string> actor_id;
  std::string action;
  std::optional<std::string> target_type;
  std::optional<std::string> target_id;
  std::string request_id;
  nlohmann::json data;
};

// The events of `actor_id` whose action starts with `action_prefix`, oldest first.
[[nodiscard]] std::vector<ActivityRow> ActivityOf(DirectDb& db, const std::string& actor_id,
                                                  const std::string& action_prefix = "");

}  // namespace ikigai::support
