// API.md "Tasks (per-user data)": create/read/update/delete, every validation rule, completed_at,
// versions with If-Match (also under concurrency), isolation between users, list filters and query
// checks, the activity events of tasks, and 401 without a token. Real binary, current back end.
#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/concurrency.hpp"
#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/task_api.hpp"
#include "support/text.hpp"

namespace ikigai {
namespace {

using support::Repeat;

using nlohmann::json;
using support::ApiUser;
using support::DirectDb;
using support::Http;
using support::IsFieldError;
using support::IsProblem;
using support::IsUnauthorized;
using support::IsUtcTimestamp;
using support::Response;
using support::TasksQuery;

constexpr const char* kTasks = "/api/v1/tasks";

std::string TaskPath(const std::string& id) { return std::string(kTasks) + "/" + id; }

std::set<std::string> Keys(const json& object) {
  std::set<std::string> out;
  for (auto it = object.begin(); it != object.end(); ++it) out.insert(it.key());
  return out;
}

std::set<std::string> Strings(const json& array) {
  std::set<std::string> out;
  for (const auto& v : array) out.insert(v.get<std::string>());
  return out;
}

std::vector<std::string> Titles(const json& items) {
  std::vector<std::string> out;
  for (const auto& t : items) out.push_back(t["title"].get<std::string>());
  return out;
}

class TaskTest : public support::TaskSuite<TaskTest> {
 protected:
  void SetUp() override {
    http_ = std::make_unique<Http>(Server());
    user_ = support::NewApiUser(*http_, "tasks");
  }

  const Http& http() const { return *http_; }

  json Create(const json& body) { return support::CreateTask(http(), user_, body); }
  Response Get(const std::string& id) { return support::GetTask(http(), user_, id); }
  Response Patch(const std::string& id, const json& body, std::optional<std::string> if_match = std::nullopt) {
    return support::PatchTask(http(), user_, id, body, std::move(if_match));
  }
  Response Delete(const std::string& id, support::Headers extra = {}) {
    return http().Delete(TaskPath(id), "", user_.With(std::move(extra)));
  }
  Response List(const std::vector<std::pair<std::string, std::string>>& params) {
    return http().Get(TasksQuery(params), "", user_.auth);
  }
  // The titles of one list page (which must be 200).
  std::vector<std::string> ListTitles(const std::vector<std::pair<std::string, std::string>>& params) {
    auto res = List(params);
    EXPECT_EQ(res.status, 200) << res;
    if (res.status != 200) return {};
    return Titles(res.Json()["items"]);
  }
  // One column of a task's row, straight from the database.
  std::optional<std::string> Column(const std::string& id, const std::string& column) {
    return Db().Scalar("SELECT " + column + " FROM tasks WHERE id = " + DirectDb::Quote(id));
  }

  std::unique_ptr<Http> http_;
  ApiUser user_;
};

// ---------------------------------------------------------------------------------------------
// Create and read

TEST_F(TaskTest, CreateAnswers201WithLocationETagAndDefaults) {
  auto res = support::PostTask(http(), user_, {{"title", "Write the essay"}});
  ASSERT_EQ(res.status, 201) << res;
  ASSERT_TRUE(support::IsJsonResponse(res));
  const json task = res.Json();
  EXPECT_EQ(Keys(task), (std::set<std::string>{"id", "title", "notes", "status", "priority", "due_at", "tags",
                                               "created_at", "updated_at", "completed_at", "version"}))
      << task;
  EXPECT_TRUE(support::IsUuidV7(task["id"])) << task;
  EXPECT_EQ(res.Header("location"), "/api/v1/tasks/" + task["id"].get<std::string>());
  EXPECT_EQ(res.Header("etag"), "\"1\"");
  EXPECT_EQ(task["title"], "Write the essay");
  EXPECT_EQ(task["notes"], "");
  EXPECT_EQ(task["status"], "todo");
  EXPECT_EQ(task["priority"], "normal");
  EXPECT_TRUE(task["due_at"].is_null()) << task;
  EXPECT_EQ(task["tags"], json::array());
  EXPECT_TRUE(task["completed_at"].is_null()) << task;
  EXPECT_EQ(task["version"], 1);
  EXPECT_TRUE(IsUtcTimestamp(task["created_at"])) << task;
  EXPECT_EQ(task["updated_at"], task["created_at"]);
}

TEST_F(TaskTest, CreateKeepsEveryGivenField) {
  const json body = {{"title", "Plan the garden"}, {"notes", "Tomatoes,\nbeans\tand herbs"},
                     {"status", "in_progress"},    {"priority", "high"},
                     {"due_at", "2026-12-01T10:00:00Z"}, {"tags", {"home", "Garden", "spring-2027"}}};
  auto task = Create(body);
  EXPECT_EQ(task["title"], body["title"]);
  EXPECT_EQ(task["notes"], body["notes"]);
  EXPECT_EQ(task["status"], "in_progress");
  EXPECT_EQ(task["priority"], "high");
  EXPECT_EQ(task["due_at"], "2026-12-01T10:00:00Z");
  EXPECT_EQ(task["tags"], body["tags"]) << "tags keep their order";
  EXPECT_TRUE(task["completed_at"].is_null());
  EXPECT_EQ(task["version"], 1);
  auto low = Create({{"title", "Low one"}, {"priority", "low"}, {"due_at", nullptr}, {"tags", json::array()}});
  EXPECT_EQ(low["priority"], "low");
  EXPECT_TRUE(low["due_at"].is_null());
}

TEST_F(TaskTest, GetAnswersTheTaskWithItsETag) {
  auto created = Create({{"title", "Read"}, {"tags", {"b", "a"}}, {"due_at", "2027-01-02T03:04:05Z"}});
  auto res = Get(created["id"]);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Header("etag"), "\"1\"");
  EXPECT_EQ(res.Json(), created);
}

TEST_F(TaskTest, CreatingAsDoneSetsCompletedAt) {
  auto task = Create({{"title", "Already finished"}, {"status", "done"}});
  EXPECT_EQ(task["status"], "done");
  ASSERT_TRUE(IsUtcTimestamp(task["completed_at"])) << task;
  EXPECT_GE(task["completed_at"].get<std::string>(), task["created_at"].get<std::string>());
}

TEST_F(TaskTest, DueAtIsNormalisedToUtcToTheSecond) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-12-01T12:30:45+02:00", "2026-12-01T10:30:45Z"},
      {"2026-12-01T04:00:00-05:30", "2026-12-01T09:30:00Z"},
      {"2026-12-31T23:30:00-01:00", "2027-01-01T00:30:00Z"},
      {"2026-12-01T10:00:00.987Z", "2026-12-01T10:00:00Z"},
      {"2026-12-01T10:00:59.999999+00:00", "2026-12-01T10:00:59Z"},
      {"2026-12-01T10:00:00z", "2026-12-01T10:00:00Z"},
  };
  for (const auto& [given, shown] : cases) {
    SCOPED_TRACE(given);
    auto task = Create({{"title", "Due"}, {"due_at", given}});
    EXPECT_EQ(task["due_at"], shown);
    auto read = Get(task["id"]);
    ASSERT_EQ(read.status, 200) << read;
    EXPECT_EQ(read.Json()["due_at"], shown);
  }
  auto task = Create({{"title", "Due later"}});
  auto patched = Patch(task["id"], {{"due_at", "2027-03-04T05:06:07.5+09:00"}});
  ASSERT_EQ(patched.status, 200) << patched;
  EXPECT_EQ(patched.Json()["due_at"], "2027-03-03T20:06:07Z");
}

TEST_F(TaskTest, LimitsAreInclusiveAndCountCodePoints) {
  std::vector<std::string> twenty;
  for (int i = 0; i < 20; ++i) twenty.push_back(support::Numbered("tag", i));
  const std::vector<json> bodies = {
      {{"title", Repeat("a", 200)}},
      {{"title", Repeat("\xC3\xA9", 200)}},          // é: 2 bytes, 1 code point
      {{"title", Repeat("\xF0\x9F\x8E\xAF", 200)}},  // 🎯: 4 bytes, 1 code point
      {{"title", "x"}, {"notes", Repeat("n", 10000)}},
      {{"title", "x"}, {"notes", Repeat("\xC3\xA9", 10000)}},
      {{"title", "x"}, {"tags", twenty}},
      {{"title", "x"}, {"tags", {Repeat("t", 32), Repeat("\xC3\xA9", 32), "y"}}},
  };
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.dump().substr(0, 80));
    auto res = support::PostTask(http(), user_, body);
    ASSERT_EQ(res.status, 201) << res;
    auto read = Get(res.Json()["id"]);
    ASSERT_EQ(read.status, 200) << read;
    for (auto it = body.begin(); it != body.end(); ++it) EXPECT_EQ(read.Json()[it.key()], it.value()) << it.key();
  }
}

// ---------------------------------------------------------------------------------------------
// Validation: every rule, on POST and on PATCH (where the task must stay as it was)

struct InvalidCase {
  const char* name;
  json body;
  const char* field;
  bool post_only = false;  // a missing title is fine in a PATCH (PatchNeedsNoTitle)
};

std::vector<InvalidCase> InvalidCases() {
  std::vector<std::string> twenty_one;
  for (int i = 0; i < 21; ++i) twenty_one.push_back(support::Numbered("t", i));
  return {
      {"TitleMissing", json::object(), "title", true},
      {"TitleMissingWithOtherFields", {{"notes", "n"}, {"priority", "high"}}, "title", true},
      {"TitleEmpty", {{"title", ""}}, "title"},
      {"Title201Chars", {{"title", Repeat("a", 201)}}, "title"},
      {"Title201CodePoints", {{"title", Repeat("\xC3\xA9", 201)}}, "title"},
      {"TitleNumber", {{"title", 42}}, "title"},
      {"TitleNull", {{"title", nullptr}}, "title"},
      {"TitleArray", {{"title", json::array({"a"})}}, "title"},
      {"TitleObject", {{"title", json::object({{"text", "a"}})}}, "title"},
      {"TitleBoolean", {{"title", true}}, "title"},
      {"Notes10001Chars", {{"notes", Repeat("n", 10001)}}, "notes"},
      {"Notes10001CodePoints", {{"notes", Repeat("\xC3\xA9", 10001)}}, "notes"},
      {"NotesNumber", {{"notes", 5}}, "notes"},
      {"NotesNull", {{"notes", nullptr}}, "notes"},
      {"StatusUnknown", {{"status", "archived"}}, "status"},
      {"StatusWrongCase", {{"status", "Done"}}, "status"},
      {"StatusEmpty", {{"status", ""}}, "status"},
      {"StatusNumber", {{"status", 2}}, "status"},
      {"StatusNull", {{"status", nullptr}}, "status"},
      {"PriorityUnknown", {{"priority", "urgent"}}, "priority"},
      {"PriorityWrongCase", {{"priority", "HIGH"}}, "priority"},
      {"PriorityNumber", {{"priority", 2}}, "priority"},
      {"PriorityNull", {{"priority", nullptr}}, "priority"},
      {"DueAtWithoutZoneOffset", {{"due_at", "2026-12-01T10:00:00"}}, "due_at"},
      {"DueAtFractionWithoutZoneOffset", {{"due_at", "2026-12-01T10:00:00.123"}}, "due_at"},
      {"DueAtDateOnly", {{"due_at", "2026-12-01"}}, "due_at"},
      {"DueAtGarbage", {{"due_at", "next tuesday"}}, "due_at"},
      {"DueAtEmpty", {{"due_at", ""}}, "due_at"},
      {"DueAtImpossibleDate", {{"due_at", "2026-02-30T10:00:00Z"}}, "due_at"},
      {"DueAtImpossibleTime", {{"due_at", "2026-12-01T25:00:00Z"}}, "due_at"},
      {"DueAtBadOffset", {{"due_at", "2026-12-01T10:00:00+2"}}, "due_at"},
      {"DueAtNumber", {{"due_at", 1795424400}}, "due_at"},
      {"DueAtObject", {{"due_at", json::object()}}, "due_at"},
      {"TagsString", {{"tags", "work"}}, "tags"},
      {"TagsObject", {{"tags", json::object({{"a", "b"}})}}, "tags"},
      {"TagsNull", {{"tags", nullptr}}, "tags"},
      {"TagsNumber", {{"tags", 3}}, "tags"},
      {"Tags21", {{"tags", twenty_one}}, "tags"},
      {"TagEmpty", {{"tags", {"ok", ""}}}, "tags"},
      {"Tag33Chars", {{"tags", {Repeat("t", 33)}}}, "tags"},
      {"Tag33CodePoints", {{"tags", {Repeat("\xC3\xA9", 33)}}}, "tags"},
      {"TagNumber", {{"tags", {"ok", 7}}}, "tags"},
      {"TagNull", {{"tags", json::array({nullptr})}}, "tags"},
      {"TagArray", {{"tags", json::array({json::array({"nested"})})}}, "tags"},
      {"TagRepeated", {{"tags", {"a", "b", "a"}}}, "tags"},
      {"UnknownField", {{"colour", "red"}}, "colour"},
      {"UnknownFieldInOtherCase", {{"Title", "x"}}, "Title"},
      {"Version", {{"version", 1}}, "version"},
      {"Id", {{"id", "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}}, "id"},
      {"CompletedAt", {{"completed_at", "2026-12-01T10:00:00Z"}}, "completed_at"},
      {"CompletedAtNull", {{"completed_at", nullptr}}, "completed_at"},
      {"CreatedAt", {{"created_at", "2026-12-01T10:00:00Z"}}, "created_at"},
      {"UpdatedAt", {{"updated_at", "2026-12-01T10:00:00Z"}}, "updated_at"},
      {"UserId", {{"user_id", "someone"}}, "user_id"},
  };
}

std::vector<InvalidCase> InvalidPatchCases() {
  std::vector<InvalidCase> out;
  for (auto& c : InvalidCases()) {
    if (!c.post_only) out.push_back(std::move(c));
  }
  return out;
}

class TaskValidationTest : public TaskTest, public ::testing::WithParamInterface<InvalidCase> {};
class TaskPatchValidationTest : public TaskValidationTest {};

TEST_P(TaskValidationTest, PostIsRefusedWith422AndCreatesNothing) {
  const auto& c = GetParam();
  json body = c.body;
  if (std::string(c.field) != "title" && !body.contains("title")) body["title"] = "A valid title";
  auto res = support::PostTask(http(), user_, body);
  EXPECT_TRUE(IsFieldError(res, c.field)) << "body: " << body.dump().substr(0, 200);
  auto list = List({});
  ASSERT_EQ(list.status, 200) << list;
  EXPECT_EQ(list.Json()["items"], json::array()) << "a refused POST created a task";
}

TEST_P(TaskPatchValidationTest, IsRefusedWith422AndChangesNothing) {
  const auto& c = GetParam();
  auto task = Create({{"title", "Original"}, {"notes", "orig"}, {"tags", {"keep"}}, {"due_at", "2026-12-01T10:00:00Z"}});
  const std::string id = task["id"];
  auto res = Patch(id, c.body);
  EXPECT_TRUE(IsFieldError(res, c.field)) << "body: " << c.body.dump().substr(0, 200);
  // Also with a valid change next to the invalid one, and with the current If-Match.
  json mixed = c.body;
  if (!mixed.contains("title")) mixed["title"] = "Changed";
  auto mixed_res = Patch(id, mixed, "\"1\"");
  EXPECT_TRUE(IsFieldError(mixed_res, c.field)) << "body: " << mixed.dump().substr(0, 200);
  auto read = Get(id);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json(), task) << "a refused PATCH changed the task";
  EXPECT_TRUE(support::ActivityOf(Db(), user_.id, "task.updated").empty());
}

INSTANTIATE_TEST_SUITE_P(TaskRules, TaskValidationTest, ::testing::ValuesIn(InvalidCases()),
                         [](const auto& info) { return std::string(info.param.name); });
INSTANTIATE_TEST_SUITE_P(TaskRules, TaskPatchValidationTest, ::testing::ValuesIn(InvalidPatchCases()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(TaskTest, PatchNeedsNoTitle) {
  auto task = Create({{"title", "Kept title"}});
  auto res = Patch(task["id"], {{"notes", "n"}, {"priority", "high"}});
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Json()["title"], "Kept title");
  EXPECT_EQ(res.Json()["notes"], "n");
}

TEST_F(TaskTest, EveryInvalidValueIsReportedAtOnce) {
  auto res = support::PostTask(http(), user_,
                               {{"title", ""}, {"notes", Repeat("n", 10001)}, {"status", "nope"},
                                {"priority", "nope"}, {"due_at", "soon"}, {"tags", {""}}});
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << res;
  EXPECT_EQ(Keys(res.Json()["errors"]),
            (std::set<std::string>{"title", "notes", "status", "priority", "due_at", "tags"}))
      << res;
  // Wrong types and unknown members together are reported at once too.
  auto types = support::PostTask(http(), user_, {{"title", 1}, {"tags", "x"}, {"version", 3}, {"colour", "red"}});
  ASSERT_TRUE(IsProblem(types, 422, "validation_failed")) << types;
  EXPECT_EQ(Keys(types.Json()["errors"]), (std::set<std::string>{"title", "tags", "version", "colour"})) << types;
}

TEST_F(TaskTest, BodyThatIsNotAnObjectIs422) {
  for (const char* body : {"[]", "\"title\"", "42", "null"}) {
    SCOPED_TRACE(body);
    auto res = http().Post(kTasks, body, user_.auth);
    EXPECT_TRUE(IsFieldError(res, "body"));
  }
  auto malformed = http().Post(kTasks, "{\"title\": ", user_.auth);
  EXPECT_TRUE(IsProblem(malformed, 400, "malformed_json"));
}

// The documented order: validation (422) comes before the resource's own answers (404, 412).
TEST_F(TaskTest, ValidationComesBeforeNotFoundAndPreconditionFailed) {
  auto task = Create({{"title", "Keep me"}});
  const std::string id = task["id"];
  ASSERT_EQ(Patch(id, {{"notes", "v2"}}).status, 200);
  auto stale_and_invalid = Patch(id, {{"title", ""}}, "\"1\"");
  EXPECT_TRUE(IsFieldError(stale_and_invalid, "title")) << "stale If-Match and an empty title";
  auto missing_and_invalid = Patch("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", {{"status", "archived"}});
  EXPECT_TRUE(IsFieldError(missing_and_invalid, "status")) << "unknown id and an unknown status";
  auto read = Get(id);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json()["title"], "Keep me");
  EXPECT_EQ(read.Json()["version"], 2);
}

// ---------------------------------------------------------------------------------------------
// Versions, updated_at and completed_at

TEST_F(TaskTest, VersionGrowsByOnePerChangingPatch) {
  auto task = Create({{"title", "v1"}});
  const std::string id = task["id"];
  const std::vector<json> changes = {
      {{"title", "v2"}},
      {{"notes", "some notes"}},
      {{"status", "in_progress"}},
      {{"priority", "high"}},
      {{"due_at", "2026-12-01T10:00:00Z"}},
      {{"due_at", nullptr}},
      {{"tags", {"x"}}},
      {{"tags", {"x", "y"}}},
      {{"tags", {"y", "x"}}},                                // a new order is a change
      {{"title", "many"}, {"notes", "at"}, {"priority", "low"}},  // several fields: still one step
      {{"tags", json::array()}},
  };
  int version = 1;
  for (const auto& change : changes) {
    SCOPED_TRACE(change.dump());
    auto res = Patch(id, change);
    ASSERT_EQ(res.status, 200) << res;
    ++version;
    EXPECT_EQ(res.Json()["version"], version);
    EXPECT_EQ(res.Header("etag"), support::Numbered("\"", version) + "\"");
    for (auto it = change.begin(); it != change.end(); ++it) EXPECT_EQ(res.Json()[it.key()], it.value());
    auto read = Get(id);
    ASSERT_EQ(read.status, 200) << read;
    EXPECT_EQ(read.Json(), res.Json());
    EXPECT_EQ(read.Header("etag"), support::Numbered("\"", version) + "\"");
  }
}

TEST_F(TaskTest, PatchThatChangesNothingKeepsVersionAndUpdatedAt) {
  auto task = Create({{"title", "Same"}, {"notes", "n"}, {"status", "in_progress"}, {"priority", "low"},
                      {"due_at", "2026-12-01T10:00:00+01:00"}, {"tags", {"a", "b"}}});
  const std::string id = task["id"];
  // An updated_at far in the past shows whether a no-op PATCH writes it.
  Db().Exec("UPDATE tasks SET updated_at = 1000000000000 WHERE id = " + DirectDb::Quote(id));
  const std::vector<json> no_ops = {
      json::object(),
      {{"title", "Same"}},
      {{"title", "Same"}, {"notes", "n"}, {"status", "in_progress"}, {"priority", "low"},
       {"due_at", "2026-12-01T09:00:00Z"}, {"tags", {"a", "b"}}},
      {{"due_at", "2026-12-01T10:00:00.400+01:00"}},  // the same second
  };
  for (const auto& body : no_ops) {
    SCOPED_TRACE(body.dump());
    auto res = Patch(id, body);
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.Json()["version"], 1);
    EXPECT_EQ(res.Header("etag"), "\"1\"");
    EXPECT_EQ(res.Json()["updated_at"], "2001-09-09T01:46:40Z");
  }
  EXPECT_EQ(Column(id, "updated_at"), "1000000000000");
  EXPECT_EQ(Column(id, "version"), "1");
  EXPECT_TRUE(support::ActivityOf(Db(), user_.id, "task.updated").empty()) << "a no-op PATCH was recorded";
}

TEST_F(TaskTest, ChangingPatchMovesUpdatedAtForward) {
  auto task = Create({{"title", "Before"}});
  const std::string id = task["id"];
  Db().Exec("UPDATE tasks SET updated_at = 1000000000000 WHERE id = " + DirectDb::Quote(id));
  auto res = Patch(id, {{"title", "After"}});
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_GE(res.Json()["updated_at"].get<std::string>(), task["created_at"].get<std::string>());
  EXPECT_EQ(res.Json()["created_at"], task["created_at"]);
}

TEST_F(TaskTest, CompletedAtFollowsTheStatus) {
  auto task = Create({{"title", "Finish me"}});
  const std::string id = task["id"];
  EXPECT_TRUE(task["completed_at"].is_null());

  auto progress = Patch(id, {{"status", "in_progress"}});
  ASSERT_EQ(progress.status, 200) << progress;
  EXPECT_TRUE(progress.Json()["completed_at"].is_null()) << progress;

  auto done = Patch(id, {{"status", "done"}});
  ASSERT_EQ(done.status, 200) << done;
  ASSERT_TRUE(IsUtcTimestamp(done.Json()["completed_at"])) << done;
  EXPECT_GE(done.Json()["completed_at"].get<std::string>(), task["created_at"].get<std::string>());
  EXPECT_LE(done.Json()["completed_at"].get<std::string>(), done.Json()["updated_at"].get<std::string>());
  EXPECT_TRUE(IsUtcTimestamp(Get(id).Json()["completed_at"]));

  // Staying done (another field changes, or done again) keeps the moment it was completed.
  Db().Exec("UPDATE tasks SET completed_at = 1000000000000 WHERE id = " + DirectDb::Quote(id));
  auto retitled = Patch(id, {{"title", "Finished"}});
  ASSERT_EQ(retitled.status, 200) << retitled;
  EXPECT_EQ(retitled.Json()["completed_at"], "2001-09-09T01:46:40Z");
  auto again = Patch(id, {{"status", "done"}});
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.Json()["completed_at"], "2001-09-09T01:46:40Z");
  EXPECT_EQ(again.Json()["version"], retitled.Json()["version"]) << "done -> done is no change";

  auto back = Patch(id, {{"status", "todo"}});
  ASSERT_EQ(back.status, 200) << back;
  EXPECT_TRUE(back.Json()["completed_at"].is_null()) << back;
  EXPECT_EQ(Column(id, "completed_at"), std::nullopt);

  auto redone = Patch(id, {{"status", "done"}});
  ASSERT_EQ(redone.status, 200) << redone;
  ASSERT_TRUE(IsUtcTimestamp(redone.Json()["completed_at"])) << redone;
  EXPECT_NE(redone.Json()["completed_at"], "2001-09-09T01:46:40Z") << "a new completion gets a new time";

  auto leave = Patch(id, {{"status", "in_progress"}});
  ASSERT_EQ(leave.status, 200) << leave;
  EXPECT_TRUE(leave.Json()["completed_at"].is_null()) << leave;
  EXPECT_TRUE(Get(id).Json()["completed_at"].is_null());
}

// ---------------------------------------------------------------------------------------------
// If-Match

TEST_F(TaskTest, PatchWithCurrentIfMatchSucceedsAndStaleIs412) {
  auto task = Create({{"title", "Contested"}, {"tags", {"t"}}});
  const std::string id = task["id"];
  auto first = Patch(id, {{"title", "First"}}, "\"1\"");
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.Json()["version"], 2);
  EXPECT_EQ(first.Header("etag"), "\"2\"");
  const json current = first.Json();

  auto stale = Patch(id, {{"title", "Second"}, {"tags", {"u"}}}, "\"1\"");
  EXPECT_TRUE(IsProblem(stale, 412, "precondition_failed"));
  auto read = Get(id);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json(), current) << "a 412 changed the task";
  EXPECT_EQ(Column(id, "version"), "2");
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM task_tags WHERE task_id = " + DirectDb::Quote(id) + " AND tag = 't'"),
            "1");

  for (const char* never : {"\"3\"", "\"0\"", "\"-1\"", "\"two\""}) {
    SCOPED_TRACE(never);
    EXPECT_TRUE(IsProblem(Patch(id, {{"title", "Never"}}, never), 412, "precondition_failed"));
  }
  EXPECT_EQ(Get(id).Json(), current);

  auto second = Patch(id, {{"title", "Second"}}, "\"2\"");
  ASSERT_EQ(second.status, 200) << second;
  EXPECT_EQ(second.Json()["version"], 3);
  auto any = Patch(id, {{"title", "Third"}}, "*");
  ASSERT_EQ(any.status, 200) << any;
  EXPECT_EQ(any.Json()["version"], 4);
  EXPECT_EQ(any.Json()["title"], "Third");

  // Only the changes that passed their precondition were recorded.
  EXPECT_EQ(support::ActivityOf(Db(), user_.id, "task.updated").size(), 3u);
}

TEST_F(TaskTest, TwentyConcurrentPatchesWithTheSameIfMatchLetExactlyOneThrough) {
  auto task = Create({{"title", "Race"}});
  const std::string id = task["id"];
  constexpr int kClients = 20;
  auto results =
      support::AllAtOnce(kClients, [&](int i) { return Patch(id, {{"title", support::Numbered("Winner ", i)}}, "\"1\""); });
  const auto race = support::TallyIfMatchRace(results);
  EXPECT_EQ(race.ok, 1);
  EXPECT_EQ(race.precondition_failed, kClients - 1);
  EXPECT_EQ(race.winner["version"], 2);
  auto read = Get(id);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json()["version"], 2);
  EXPECT_EQ(read.Json()["title"], race.winner["title"]);
  EXPECT_EQ(support::ActivityOf(Db(), user_.id, "task.updated").size(), 1u);
}

TEST_F(TaskTest, ConcurrentPatchesWithoutIfMatchLoseNoVersion) {
  auto task = Create({{"title", "Busy"}});
  const std::string id = task["id"];
  constexpr int kClients = 20;
  auto results = support::AllAtOnce(kClients, [&](int i) { return Patch(id, {{"title", support::Numbered("Writer ", i)}}); });
  std::set<int> versions;
  for (const auto& r : results) {
    ASSERT_EQ(r.status, 200) << r;
    versions.insert(r.Json()["version"].get<int>());
  }
  EXPECT_EQ(versions.size(), static_cast<std::size_t>(kClients)) << "two writers got the same version";
  EXPECT_EQ(*versions.begin(), 2);
  EXPECT_EQ(*versions.rbegin(), kClients + 1);
  auto read = Get(id);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json()["version"], kClients + 1);
  EXPECT_EQ(support::ActivityOf(Db(), user_.id, "task.updated").size(), static_cast<std::size_t>(kClients));
}

// ---------------------------------------------------------------------------------------------
// Delete

TEST_F(TaskTest, DeleteAnswers204AndTheTaskIsGone) {
  auto task = Create({{"title", "Delete me"}, {"tags", {"gone"}}});
  const std::string id = task["id"];
  auto res = Delete(id);
  EXPECT_EQ(res.status, 204) << res;
  EXPECT_TRUE(res.body.empty()) << res;
  EXPECT_TRUE(IsProblem(Get(id), 404, "not_found"));
  EXPECT_TRUE(IsProblem(Patch(id, {{"title", "Back"}}), 404, "not_found"));
  EXPECT_TRUE(IsProblem(Delete(id), 404, "not_found"));
  EXPECT_EQ(List({}).Json()["items"], json::array());
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM task_tags WHERE task_id = " + DirectDb::Quote(id)), "0");
}

TEST_F(TaskTest, DeleteHonoursIfMatch) {
  auto task = Create({{"title", "Guarded"}});
  const std::string id = task["id"];
  ASSERT_EQ(Patch(id, {{"title", "Guarded v2"}}).status, 200);
  auto stale = Delete(id, {{"If-Match", "\"1\""}});
  EXPECT_TRUE(IsProblem(stale, 412, "precondition_failed"));
  auto still = Get(id);
  ASSERT_EQ(still.status, 200) << "a 412 DELETE removed the task: " << still;
  EXPECT_EQ(still.Json()["title"], "Guarded v2");
  EXPECT_TRUE(support::ActivityOf(Db(), user_.id, "task.deleted").empty());

  EXPECT_EQ(Delete(id, {{"If-Match", "\"2\""}}).status, 204);
  EXPECT_TRUE(IsProblem(Get(id), 404, "not_found"));

  auto other = Create({{"title", "Any version"}});
  EXPECT_EQ(Delete(other["id"], {{"If-Match", "*"}}).status, 204);
  EXPECT_TRUE(IsProblem(Get(other["id"]), 404, "not_found"));
}

// ---------------------------------------------------------------------------------------------
// Isolation between users

TEST_F(TaskTest, SomeoneElsesTaskIsNotFound) {
  auto task = Create({{"title", "Mine"}, {"tags", {"private"}}});
  const std::string id = task["id"];
  auto other = support::NewApiUser(http(), "intruder");
  EXPECT_TRUE(IsProblem(support::GetTask(http(), other, id), 404, "not_found"));
  EXPECT_TRUE(IsProblem(support::PatchTask(http(), other, id, {{"title", "Theirs"}}), 404, "not_found"));
  EXPECT_TRUE(IsProblem(support::PatchTask(http(), other, id, {{"title", "Theirs"}}, "\"1\""), 404, "not_found"));
  EXPECT_TRUE(IsProblem(support::PatchTask(http(), other, id, {{"title", "Theirs"}}, "*"), 404, "not_found"));
  EXPECT_TRUE(IsProblem(support::PatchTask(http(), other, id, json::object()), 404, "not_found"));
  EXPECT_TRUE(IsProblem(http().Delete(TaskPath(id), "", other.auth), 404, "not_found"));
  EXPECT_TRUE(IsProblem(http().Delete(TaskPath(id), "", other.With({{"If-Match", "\"1\""}})), 404, "not_found"));

  auto theirs = http().Get(TasksQuery({}), "", other.auth);
  ASSERT_EQ(theirs.status, 200) << theirs;
  EXPECT_EQ(theirs.Json()["items"], json::array());
  for (const auto& params : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"tag", "private"}}, {{"sort", "due_at"}}, {{"sort", "priority"}}, {{"status", "todo"}}}) {
    auto filtered = http().Get(TasksQuery(params), "", other.auth);
    ASSERT_EQ(filtered.status, 200) << filtered;
    EXPECT_EQ(filtered.Json()["items"], json::array()) << filtered;
  }

  auto read = Get(id);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json(), task);
  EXPECT_TRUE(support::ActivityOf(Db(), other.id, "task.").empty());
}

TEST_F(TaskTest, UnknownIdsAreNotFound) {
  for (const char* id : {"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "not-a-uuid", "1"}) {
    SCOPED_TRACE(id);
    EXPECT_TRUE(IsProblem(Get(id), 404, "not_found"));
    EXPECT_TRUE(IsProblem(Patch(id, {{"title", "x"}}), 404, "not_found"));
    EXPECT_TRUE(IsProblem(Delete(id), 404, "not_found"));
  }
}

TEST_F(TaskTest, WrongMethodsAre405WithAllow) {
  auto task = Create({{"title", "Methods"}});
  struct Case {
    const char* method;
    std::string path;
    std::vector<const char*> allowed;
  };
  const std::vector<Case> cases = {
      {"PUT", TaskPath(task["id"]), {"GET", "PATCH", "DELETE"}},
      {"POST", TaskPath(task["id"]), {"GET", "PATCH", "DELETE"}},
      {"DELETE", kTasks, {"GET", "POST"}},
      {"PATCH", kTasks, {"GET", "POST"}},
      {"POST", "/api/v1/ikigai", {"GET", "PUT"}},
      {"DELETE", "/api/v1/ikigai", {"GET", "PUT"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.method) + " " + c.path);
    support::Request req;
    req.method = c.method;
    req.path = c.path;
    req.body = "{}";
    req.headers = user_.auth;
    auto res = http().Send(req);
    EXPECT_TRUE(IsProblem(res, 405, "method_not_allowed"));
    for (const char* m : c.allowed) EXPECT_TRUE(support::HeaderListContains(res.Header("allow"), m)) << res;
  }
  EXPECT_EQ(Get(task["id"]).Json(), task);
}

// ---------------------------------------------------------------------------------------------
// Authentication

TEST_F(TaskTest, EveryTaskAndMapRouteNeedsAToken) {
  auto task = Create({{"title", "Locked"}});
  const std::string path = TaskPath(task["id"]);
  struct Call {
    const char* method;
    std::string path;
    std::string body;
  };
  const std::vector<Call> calls = {
      {"GET", kTasks, ""},
      {"GET", std::string(kTasks) + "?sort=due_at&limit=5", ""},
      {"POST", kTasks, R"({"title": "Sneaky"})"},
      {"GET", path, ""},
      {"PATCH", path, R"({"title": "Sneaky"})"},
      {"DELETE", path, ""},
      {"GET", "/api/v1/ikigai", ""},
      {"PUT", "/api/v1/ikigai", R"({"love": ["x"]})"},
  };
  const std::vector<support::Headers> bad_auth = {
      {}, {{"Authorization", "Bearer not-a-jwt"}}, {{"Authorization", "Basic dXNlcjpwYXNz"}},
      {{"Authorization", "Bearer"}}};
  for (const auto& call : calls) {
    for (const auto& headers : bad_auth) {
      SCOPED_TRACE(std::string(call.method) + " " + call.path + " with " +
                   (headers.empty() ? std::string("no Authorization") : headers.front().second));
      support::Request req;
      req.method = call.method;
      req.path = call.path;
      req.body = call.body;
      req.headers = headers;
      EXPECT_TRUE(IsUnauthorized(http().Send(req)));
    }
  }
  auto read = Get(task["id"]);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.Json(), task);
  EXPECT_EQ(List({}).Json()["items"].size(), 1u);
}

// ---------------------------------------------------------------------------------------------
// Activity

TEST_F(TaskTest, TaskEventsAreRecordedWithTheChangedFields) {
  auto created = http().Post(kTasks, json{{"title", "Logged"}, {"notes", "secret plans"}}.dump(),
                             user_.With({{"X-Request-Id", "task-create-1"}}));
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = created.Json()["id"];

  auto patch = [&](const json& body, const std::string& request_id) {
    auto res = http().Patch(TaskPath(id), body.dump(), user_.With({{"X-Request-Id", request_id}}));
    EXPECT_EQ(res.status, 200) << res;
  };
  patch({{"status", "done"}}, "task-patch-1");
  patch({{"title", "Logged again"}, {"notes", "other plans"}, {"priority", "normal"}}, "task-patch-2");
  patch({{"title", "Logged again"}}, "task-patch-noop");  // nothing changes: no event
  patch({{"due_at", "2026-12-01T10:00:00Z"}, {"tags", {"a"}}, {"priority", "high"}, {"status", "done"}},
        "task-patch-3");
  ASSERT_EQ(Delete(id, {{"X-Request-Id", "task-delete-1"}}).status, 204);

  auto events = support::ActivityOf(Db(), user_.id, "task.");
  std::map<std::string, support::ActivityRow> by_request;
  for (const auto& e : events) {
    EXPECT_EQ(e.actor_id, user_.id);
    EXPECT_EQ(e.target_id, id) << e.action;
    EXPECT_EQ(e.target_type, "task") << e.action;
    by_request.emplace(e.request_id, e);
  }
  ASSERT_EQ(events.size(), 5u) << "expected created, 3 x updated and deleted";
  ASSERT_TRUE(by_request.contains("task-create-1"));
  EXPECT_EQ(by_request["task-create-1"].action, "task.created");
  const std::map<std::string, std::set<std::string>> fields = {
      {"task-patch-1", {"status"}},
      {"task-patch-2", {"title", "notes"}},
      {"task-patch-3", {"due_at", "tags", "priority"}},
  };
  for (const auto& [request_id, expected] : fields) {
    SCOPED_TRACE(request_id);
    ASSERT_TRUE(by_request.contains(request_id));
    const auto& e = by_request[request_id];
    EXPECT_EQ(e.action, "task.updated");
    ASSERT_TRUE(e.data.is_object() && e.data.contains("fields") && e.data["fields"].is_array()) << e.data;
    EXPECT_EQ(Strings(e.data["fields"]), expected) << e.data;
    EXPECT_EQ(e.data["fields"].size(), expected.size()) << "a field named twice: " << e.data;
  }
  EXPECT_FALSE(by_request.contains("task-patch-noop"));
  ASSERT_TRUE(by_request.contains("task-delete-1"));
  EXPECT_EQ(by_request["task-delete-1"].action, "task.deleted");
}

// ---------------------------------------------------------------------------------------------
// List filters and query checks

TEST_F(TaskTest, ListFiltersByStatus) {
  Create({{"title", "T1"}});
  Create({{"title", "P1"}, {"status", "in_progress"}});
  Create({{"title", "D1"}, {"status", "done"}});
  Create({{"title", "T2"}, {"status", "todo"}});
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ListTitles({{"status", "todo"}})), (std::vector<std::string>{"T1", "T2"}));
  EXPECT_EQ(sorted(ListTitles({{"status", "in_progress"}})), (std::vector<std::string>{"P1"}));
  EXPECT_EQ(sorted(ListTitles({{"status", "done"}})), (std::vector<std::string>{"D1"}));
  EXPECT_EQ(ListTitles({}).size(), 4u);
}

TEST_F(TaskTest, ListFiltersByExactCaseSensitiveTag) {
  Create({{"title", "lower"}, {"tags", {"work"}}});
  Create({{"title", "upper"}, {"tags", {"Work"}}});
  Create({{"title", "longer"}, {"tags", {"workshop", "homework"}}});
  Create({{"title", "both"}, {"tags", {"home", "work"}}});
  Create({{"title", "none"}});
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ListTitles({{"tag", "work"}})), (std::vector<std::string>{"both", "lower"}));
  EXPECT_EQ(sorted(ListTitles({{"tag", "Work"}})), (std::vector<std::string>{"upper"}));
  EXPECT_EQ(sorted(ListTitles({{"tag", "WORK"}})), std::vector<std::string>{});
  EXPECT_EQ(sorted(ListTitles({{"tag", "wor"}})), std::vector<std::string>{});
  EXPECT_EQ(sorted(ListTitles({{"tag", "home"}})), (std::vector<std::string>{"both"}));
  EXPECT_EQ(sorted(ListTitles({{"tag", "work%"}})), std::vector<std::string>{});
  // A listed task carries all its tags, not only the one filtered on.
  auto res = List({{"tag", "home"}});
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_EQ(res.Json()["items"].size(), 1u);
  EXPECT_EQ(res.Json()["items"][0]["tags"], (json{"home", "work"}));
  EXPECT_EQ(sorted(ListTitles({{"tag", "work"}, {"status", "todo"}})), (std::vector<std::string>{"both", "lower"}));
  EXPECT_EQ(sorted(ListTitles({{"tag", "work"}, {"status", "done"}})), std::vector<std::string>{});
}

// The list reads tags and writes JSON its own way (one statement per page, JSON text): every
// listed task must equal its own GET, in every sort order, with tags in the client's order.
TEST_F(TaskTest, ListedTasksEqualTheirGetInEverySortOrder) {
  Create({{"title", "Quotes \"and\" back\\slash"}, {"notes", "Line\nbreak\tand tab"}, {"priority", "high"},
          {"tags", {"zeta", "alpha", "mid", "a,b", "x|y", "q\"t", "caf\xC3\xA9", "\xE2\x9C\x93 done"}}});
  Create({{"title", "Caf\xC3\xA9 \xF0\x9F\x98\x80"}, {"due_at", "2026-12-01T10:00:00Z"}, {"tags", {"b", "a"}}});
  Create({{"title", "Plain"}, {"status", "done"}, {"priority", "low"}, {"due_at", "2026-11-01T10:00:00Z"}});
  for (const char* sort : {"created_at", "-created_at", "due_at", "-due_at", "priority", "-priority"}) {
    auto res = List({{"sort", sort}});
    ASSERT_EQ(res.status, 200) << res;
    const auto items = res.Json()["items"];
    ASSERT_EQ(items.size(), 3u) << sort;
    for (const auto& item : items) {
      auto one = Get(item["id"].get<std::string>());
      ASSERT_EQ(one.status, 200) << one;
      EXPECT_EQ(item, one.Json()) << sort;
      if (item["priority"] == "high") {
        EXPECT_EQ(item["tags"], (json{"zeta", "alpha", "mid", "a,b", "x|y", "q\"t", "caf\xC3\xA9", "\xE2\x9C\x93 done"}));
      }
    }
  }
}

TEST_F(TaskTest, ListSearchesTitleAndNotesCaseInsensitively) {
  Create({{"title", "Write the Essay"}});
  Create({{"title", "Groceries"}, {"notes", "milk, ESSAYS about cheese"}});
  Create({{"title", "Call mum"}, {"notes", "about the essay? no"}});
  Create({{"title", "Unrelated"}, {"notes", "nothing"}});
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<std::string> all_three = {"Call mum", "Groceries", "Write the Essay"};
  EXPECT_EQ(sorted(ListTitles({{"q", "essay"}})), all_three);
  EXPECT_EQ(sorted(ListTitles({{"q", "ESSAY"}})), all_three);
  EXPECT_EQ(sorted(ListTitles({{"q", "eSsAy"}})), all_three);
  EXPECT_EQ(sorted(ListTitles({{"q", "the essay"}})), (std::vector<std::string>{"Call mum", "Write the Essay"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "groc"}})), (std::vector<std::string>{"Groceries"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "CHEESE"}})), (std::vector<std::string>{"Groceries"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "essay?"}})), (std::vector<std::string>{"Call mum"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "zebra"}})), std::vector<std::string>{});
  EXPECT_EQ(sorted(ListTitles({{"q", "essay"}, {"status", "done"}})), std::vector<std::string>{});
  // Another user's search does not reach these tasks.
  auto other = support::NewApiUser(http(), "searcher");
  auto theirs = http().Get(TasksQuery({{"q", "essay"}}), "", other.auth);
  ASSERT_EQ(theirs.status, 200) << theirs;
  EXPECT_EQ(theirs.Json()["items"], json::array());
}

TEST_F(TaskTest, ListSearchTakesPercentAndUnderscoreLiterally) {
  Create({{"title", "100% done"}});
  Create({{"title", "100 done"}});
  Create({{"title", "snake_case name"}});
  Create({{"title", "snakeXcase name"}});
  Create({{"title", "back\\slash"}});
  Create({{"title", "plain"}, {"notes", "50%_off"}});
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ListTitles({{"q", "100%"}})), (std::vector<std::string>{"100% done"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "%"}})), (std::vector<std::string>{"100% done", "plain"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "e_c"}})), (std::vector<std::string>{"snake_case name"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "_"}})), (std::vector<std::string>{"plain", "snake_case name"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "%_"}})), (std::vector<std::string>{"plain"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "k\\s"}})), (std::vector<std::string>{"back\\slash"}));
  EXPECT_EQ(sorted(ListTitles({{"q", "\\"}})), (std::vector<std::string>{"back\\slash"}));
}

TEST_F(TaskTest, ListDueBeforeAndAfterAreStrictAndSkipTasksWithoutDueAt) {
  Create({{"title", "early"}, {"due_at", "2026-12-01T09:59:59Z"}});
  Create({{"title", "exact"}, {"due_at", "2026-12-01T10:00:00Z"}});
  Create({{"title", "late"}, {"due_at", "2026-12-01T10:00:01Z"}});
  Create({{"title", "much later"}, {"due_at", "2027-06-01T00:00:00Z"}});
  Create({{"title", "undated"}});
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(sorted(ListTitles({{"due_before", "2026-12-01T10:00:00Z"}})), (std::vector<std::string>{"early"}));
  EXPECT_EQ(sorted(ListTitles({{"due_after", "2026-12-01T10:00:00Z"}})),
            (std::vector<std::string>{"late", "much later"}));
  // The same instant with a zone offset.
  EXPECT_EQ(sorted(ListTitles({{"due_before", "2026-12-01T11:00:00+01:00"}})), (std::vector<std::string>{"early"}));
  EXPECT_EQ(sorted(ListTitles({{"due_after", "2026-12-01T05:00:00-05:00"}})),
            (std::vector<std::string>{"late", "much later"}));
  EXPECT_EQ(sorted(ListTitles({{"due_after", "2026-12-01T09:59:59Z"}, {"due_before", "2026-12-01T10:00:01Z"}})),
            (std::vector<std::string>{"exact"}));
  EXPECT_EQ(sorted(ListTitles({{"due_before", "2100-01-01T00:00:00Z"}})),
            (std::vector<std::string>{"early", "exact", "late", "much later"}));
  EXPECT_EQ(sorted(ListTitles({{"due_after", "2000-01-01T00:00:00Z"}})),
            (std::vector<std::string>{"early", "exact", "late", "much later"}));
  EXPECT_EQ(sorted(ListTitles({{"due_after", "2027-06-01T00:00:00Z"}})), std::vector<std::string>{});
}

TEST_F(TaskTest, BadQueryValuesAre400) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"limit", "0"},
      {"limit", "101"},
      {"limit", "abc"},
      {"limit", "-1"},
      {"limit", "1.5"},
      {"limit", "10abc"},
      {"limit", "99999999999999999999"},
      {"sort", "title"},
      {"sort", "created"},
      {"sort", "+created_at"},
      {"sort", "CREATED_AT"},
      {"status", "archived"},
      {"status", "DONE"},
      {"due_before", "2026-12-01"},
      {"due_before", "2026-12-01T10:00:00"},
      {"due_before", "yesterday"},
      {"due_after", "2026-13-01T10:00:00Z"},
      {"due_after", "1795424400"},
  };
  for (const auto& [name, value] : bad) {
    SCOPED_TRACE(name + "=" + value);
    auto res = List({{name, value}});
    EXPECT_TRUE(IsProblem(res, 400, "bad_request"));
  }
}

TEST_F(TaskTest, UnknownQueryParametersAreIgnored) {
  Create({{"title", "Visible"}});
  auto res = http().Get(std::string(kTasks) + "?colour=red&page=2&sort_by=title&limit=5&utm_source=x", "",
                        user_.auth);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(Titles(res.Json()["items"]), (std::vector<std::string>{"Visible"}));
}

TEST_F(TaskTest, ListAnswersAPageWithTheDefaultLimitOf20) {
  auto empty = List({});
  ASSERT_EQ(empty.status, 200) << empty;
  EXPECT_EQ(Keys(empty.Json()), (std::set<std::string>{"items", "next_cursor"}));
  EXPECT_EQ(empty.Json()["items"], json::array());
  EXPECT_TRUE(empty.Json()["next_cursor"].is_null());

  for (int i = 0; i < 25; ++i) Create({{"title", support::Numbered("Task ", i)}});
  auto first = List({});
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.Json()["items"].size(), 20u);
  ASSERT_TRUE(first.Json()["next_cursor"].is_string()) << first;
  auto second = List({{"cursor", first.Json()["next_cursor"]}});
  ASSERT_EQ(second.status, 200) << second;
  EXPECT_EQ(second.Json()["items"].size(), 5u);
  EXPECT_TRUE(second.Json()["next_cursor"].is_null()) << "the last page has no next_cursor";

  // A page that ends exactly at the last task is the last page.
  auto exact = List({{"limit", "25"}});
  ASSERT_EQ(exact.status, 200) << exact;
  EXPECT_EQ(exact.Json()["items"].size(), 25u);
  EXPECT_TRUE(exact.Json()["next_cursor"].is_null()) << exact;
  auto five = List({{"limit", "5"}});
  EXPECT_EQ(five.Json()["items"].size(), 5u);
  EXPECT_TRUE(five.Json()["next_cursor"].is_string());
  auto hundred = List({{"limit", "100"}});
  EXPECT_EQ(hundred.Json()["items"].size(), 25u);
  EXPECT_TRUE(hundred.Json()["next_cursor"].is_null());
  auto one = List({{"limit", "1"}});
  EXPECT_EQ(one.Json()["items"].size(), 1u);
  // Listed tasks are whole Task objects, as GET shows them.
  const auto all = hundred.Json();  // a named copy: the loop must not run over a dead temporary
  for (const auto& item : all["items"]) {
    auto read = Get(item["id"]);
    ASSERT_EQ(read.status, 200) << read;
    EXPECT_EQ(read.Json(), item);
  }
}

}  // namespace
}  // namespace ikigai
