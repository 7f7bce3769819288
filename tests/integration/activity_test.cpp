// API.md "Activity log": GET /me/activity (the caller's events: done by or to the caller) and
// GET /admin/activity (every event, user_id/action/since/until filters), newest first, sealed
// keyset cursors scoped to their filters, 400 for a bad filter; and the retention purge.
#include <set>
#include <string>
#include <vector>

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
using support::DirectDb;
using support::Http;
using support::IsProblem;
using support::Response;

class ActivityApiTest : public support::TaskSuite<ActivityApiTest> {};

Response Get(const Http& http, const ApiUser& user, const std::string& path) {
  return http.Get(path, "", user.auth);
}

// Every event of a list, following next_cursor; fails the test on anything but 200.
std::vector<json> AllEvents(const Http& http, const ApiUser& user, const std::string& base, int limit) {
  std::vector<json> out;
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string path = base + (base.find('?') == std::string::npos ? "?" : "&") + support::Numbered("limit=", limit);
    if (!cursor.empty()) path += "&cursor=" + support::UrlEncode(cursor);
    auto res = Get(http, user, path);
    EXPECT_EQ(res.status, 200) << res;
    if (res.status != 200) break;
    const json body = res.Json();
    EXPECT_LE(body["items"].size(), static_cast<std::size_t>(limit));
    for (const auto& e : body["items"]) out.push_back(e);
    if (body["next_cursor"].is_null()) break;
    cursor = body["next_cursor"].get<std::string>();
  }
  return out;
}

void ExpectNewestFirstAndUnique(const std::vector<json>& events) {
  std::set<std::string> ids;
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_TRUE(ids.insert(events[i]["id"].get<std::string>()).second) << "twice: " << events[i];
    if (i > 0) {
      const auto& a = events[i - 1];
      const auto& b = events[i];
      // Same-second timestamps: UUIDv7 ids order events of one millisecond and of one second.
      EXPECT_TRUE(a["at"].get<std::string>() > b["at"].get<std::string>() ||
                  (a["at"] == b["at"] && a["id"].get<std::string>() > b["id"].get<std::string>()))
          << a << " before " << b;
    }
  }
}

ApiUser NewAdmin(const Http& http, DirectDb& db) {
  auto admin = support::NewApiUser(http, "act_admin");
  db.Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(admin.id));
  return admin;
}

TEST_F(ActivityApiTest, MeListsOnlyEventsDoneByOrToTheCallerNewestFirst) {
  Http http(Server());
  auto alice = support::NewApiUser(http, "act_alice");
  auto bob = support::NewApiUser(http, "act_bob");
  auto admin = NewAdmin(http, Db());
  for (int i = 0; i < 3; ++i) (void)support::CreateTask(http, alice, {{"title", support::Numbered("a", i)}});
  (void)support::CreateTask(http, bob, {{"title", "b"}});
  // Done to alice by someone else: hers to see.
  ASSERT_EQ(http.Patch("/api/v1/admin/users/" + alice.id, R"({"display_name":"Alice A."})", admin.auth).status, 200);

  const auto events = AllEvents(http, alice, "/api/v1/me/activity", 2);
  ExpectNewestFirstAndUnique(events);
  std::multiset<std::string> actions;
  for (const auto& e : events) {
    actions.insert(e["action"].get<std::string>());
    const bool by = e["actor_id"] == alice.id;
    const bool to = e["target_id"] == alice.id;
    EXPECT_TRUE(by || to) << e;
    for (const char* key : {"id", "at", "actor_id", "action", "target_type", "target_id", "ip", "user_agent",
                            "request_id", "data"}) {
      EXPECT_TRUE(e.contains(key)) << key << " missing in " << e;
    }
    EXPECT_TRUE(e["data"].is_object()) << e;
  }
  EXPECT_EQ(actions.count("task.created"), 3u);
  EXPECT_EQ(actions.count("auth.registered"), 1u);  // actor = target = alice: once
  EXPECT_EQ(actions.count("auth.login_succeeded"), 1u);
  EXPECT_EQ(actions.count("admin.user_updated"), 1u);
  EXPECT_EQ(events.front()["action"], "admin.user_updated");

  // Bob sees none of it.
  for (const auto& e : AllEvents(http, bob, "/api/v1/me/activity", 100)) {
    EXPECT_TRUE(e["actor_id"] == bob.id || e["target_id"] == bob.id) << e;
  }
}

TEST_F(ActivityApiTest, FiltersByActionAndTimeWindow) {
  Http http(Server());
  auto user = support::NewApiUser(http, "act_filter");
  for (int i = 0; i < 5; ++i) (void)support::CreateTask(http, user, {{"title", support::Numbered("t", i)}});
  auto created = AllEvents(http, user, "/api/v1/me/activity?action=task.created", 2);
  ASSERT_EQ(created.size(), 5u);
  for (const auto& e : created) EXPECT_EQ(e["action"], "task.created");
  ExpectNewestFirstAndUnique(created);

  auto window = [&](const std::string& query) { return AllEvents(http, user, "/api/v1/me/activity?" + query, 100); };
  using support::UrlEncode;
  EXPECT_TRUE(window("since=" + UrlEncode("2999-01-01T00:00:00Z")).empty());
  EXPECT_TRUE(window("until=" + UrlEncode("2000-01-01T00:00:00+02:00")).empty());
  EXPECT_EQ(window("since=" + UrlEncode("2000-01-01T00:00:00-05:00") + "&until=" + UrlEncode("2999-01-01T00:00:00Z") +
                   "&action=task.created")
                .size(),
            5u);
  // since is inclusive and until exclusive, to the event's second.
  const std::string at = created.back()["at"].get<std::string>();
  auto from = window("action=task.created&since=" + support::UrlEncode(at));
  EXPECT_EQ(from.size(), 5u);
  auto before = window("action=task.created&until=" + support::UrlEncode(at));
  EXPECT_TRUE(before.empty()) << before.size();
}

TEST_F(ActivityApiTest, BadFiltersAre400) {
  Http http(Server());
  auto user = support::NewApiUser(http, "act_bad");
  auto admin = NewAdmin(http, Db());
  for (const std::string& query : std::vector<std::string>{
           "since=yesterday", "since=2026-11-24T11:00:00", "until=2026-13-01T00:00:00Z", "action=", "action=Task.Created",
        "action=task-created", "action=" + std::string(65, 'a'), "limit=0", "limit=101", "cursor=abc"}) {
    auto res = Get(http, user, "/api/v1/me/activity?" + query);
    EXPECT_TRUE(IsProblem(res, 400, "bad_request")) << query << " " << res;
    res = Get(http, admin, "/api/v1/admin/activity?" + query);
    EXPECT_TRUE(IsProblem(res, 400, "bad_request")) << query << " " << res;
  }
  EXPECT_TRUE(IsProblem(Get(http, admin, "/api/v1/admin/activity?user_id=1%27%20OR%201%3D1"), 400, "bad_request"));
  EXPECT_TRUE(IsProblem(Get(http, admin, "/api/v1/admin/activity?user_id=alice"), 400, "bad_request"));
  EXPECT_EQ(Get(http, user, "/api/v1/me/activity?action=" + std::string(64, 'a')).status, 200);
}

TEST_F(ActivityApiTest, AdminOnlyAndUserIdFilterMatchesTheUsersOwnList) {
  Http http(Server());
  auto user = support::NewApiUser(http, "act_target");
  auto other = support::NewApiUser(http, "act_other");
  auto admin = NewAdmin(http, Db());
  (void)support::CreateTask(http, user, {{"title", "one"}});
  (void)support::CreateTask(http, other, {{"title", "two"}});
  ASSERT_EQ(http.Patch("/api/v1/admin/users/" + user.id, R"({"display_name":"Renamed"})", admin.auth).status, 200);
  EXPECT_TRUE(IsProblem(Get(http, user, "/api/v1/admin/activity"), 403, "forbidden"));
  EXPECT_EQ(http.Get("/api/v1/me/activity").status, 401);

  const auto mine = AllEvents(http, user, "/api/v1/me/activity", 100);
  const auto seen = AllEvents(http, admin, "/api/v1/admin/activity?user_id=" + user.id, 3);
  ASSERT_EQ(mine.size(), seen.size());
  for (std::size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(mine[i], seen[i]);

  // Unfiltered: everyone's, newest first; by action across users.
  const auto all = AllEvents(http, admin, "/api/v1/admin/activity?action=task.created", 100);
  std::set<std::string> actors;
  for (const auto& e : all) actors.insert(e["actor_id"].get<std::string>());
  EXPECT_TRUE(actors.contains(user.id) && actors.contains(other.id));
  ExpectNewestFirstAndUnique(all);
}

TEST_F(ActivityApiTest, CursorsBelongToTheirListAndFilters) {
  Http http(Server());
  auto user = support::NewApiUser(http, "act_cursor");
  auto other = support::NewApiUser(http, "act_cursor2");
  auto admin = NewAdmin(http, Db());
  for (int i = 0; i < 4; ++i) (void)support::CreateTask(http, user, {{"title", support::Numbered("c", i)}});
  auto first = Get(http, user, "/api/v1/me/activity?limit=2&action=task.created");
  ASSERT_EQ(first.status, 200) << first;
  const std::string cursor = support::UrlEncode(first.Json()["next_cursor"].get<std::string>());
  EXPECT_EQ(Get(http, user, "/api/v1/me/activity?limit=2&action=task.created&cursor=" + cursor).status, 200);
  // Another filter, another user, the admin list: not this cursor's list.
  for (const auto& [who, path] : std::vector<std::pair<const ApiUser*, std::string>>{
           {&user, "/api/v1/me/activity?limit=2&cursor=" + cursor},
           {&user, "/api/v1/me/activity?limit=2&action=task.updated&cursor=" + cursor},
           {&user, "/api/v1/me/activity?limit=2&action=task.created&since=2000-01-01T00:00:00Z&cursor=" + cursor},
           {&other, "/api/v1/me/activity?limit=2&action=task.created&cursor=" + cursor},
           {&admin, "/api/v1/admin/activity?limit=2&action=task.created&user_id=" + user.id + "&cursor=" + cursor}}) {
    EXPECT_TRUE(IsProblem(Get(http, *who, path), 400, "bad_request")) << path;
  }
  // A tampered cursor.
  std::string tampered = first.Json()["next_cursor"].get<std::string>();
  tampered[3] = tampered[3] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(IsProblem(Get(http, user, "/api/v1/me/activity?limit=2&action=task.created&cursor=" +
                                            support::UrlEncode(tampered)),
                        400, "bad_request"));
}

class ActivityRetentionTest : public support::AccountSuite<ActivityRetentionTest> {
 public:
  static std::map<std::string, std::string> ServerEnv() {
    return {{"IKIGAI_ACTIVITY_RETENTION_DAYS", "1"}, {"IKIGAI_JOBS_INTERVAL", "1s"},
            {"IKIGAI_RATE_LIMITS", "off"}};
  }
};

// The periodic purge deletes events past the retention (in batches of 5,000: 12,000 old rows
// take three statements) and keeps younger ones.
TEST_F(ActivityRetentionTest, PurgeJobDeletesEventsOlderThanTheRetention) {
  Http http(Server());
  auto user = support::NewApiUser(http, "act_ret");
  auto& db = Db();
  const long long old_at = 1000LL * 3600 * 24 * 365 * 30;  // 2000: far past the retention
  // 12,000 old events, planted in a few multi-row statements.
  for (int chunk = 0; chunk < 12; ++chunk) {
    std::string sql = "INSERT INTO activity (id, at, actor_id, action, ip, user_agent, request_id, data) VALUES ";
    for (int i = 0; i < 1000; ++i) {
      char id[40];
      std::snprintf(id, sizeof id, "00000000-0000-7000-8000-%012d", chunk * 1000 + i);
      if (i > 0) sql += ',';
      sql += "('" + std::string(id) + "', " + std::to_string(old_at + i) + ", " + DirectDb::Quote(user.id) +
             ", 'task.created', '', '', '', '{}')";
    }
    db.Exec(sql);
  }
  const std::string young = "SELECT COUNT(*) FROM activity WHERE actor_id = " + DirectDb::Quote(user.id) +
                            " AND at > " + std::to_string(old_at + 100000);
  const auto young_before = db.Scalar(young);
  ASSERT_NE(young_before.value_or("0"), "0");
  ASSERT_TRUE(support::WaitUntil([&] {
    return db.Scalar("SELECT COUNT(*) FROM activity WHERE at < " + std::to_string(old_at + 100000)) == "0";
  }, std::chrono::seconds(30))) << "old events were not purged";
  EXPECT_EQ(db.Scalar(young), young_before);
}

}  // namespace
}  // namespace ikigai
