// Issue #12 announcements, POST /api/v1/admin/notifications (NOTIFY-DESIGN.md): 202 with the
// number of recipients at once, for every user, a role, or a list of ids; the background fan-out
// then makes one inbox row for exactly the recipients (disabled users are none; in_app false makes
// no row); validation 422 (both role and user_ids, unknown or malformed ids, lengths); 403 for a
// non-admin; activity notification.broadcast.
//
// Who got a row is read directly ("SELECT user_id FROM notifications") once the broadcasts table
// says the fan-out is done, so "nobody else" is checked after the fan-out, not after a guess.
#include <chrono>
#include <map>
#include <optional>
#include <ostream>
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
#include "support/notify_api.hpp"
#include "support/task_api.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::ApiUser;
using support::Broadcast;
using support::DirectDb;
using support::Http;
using support::IsProblem;

std::map<std::string, std::string> BroadcastEnv() {
  return support::AccountServerEnv({{"IKIGAI_RATE_LIMITS", "off"}, {"IKIGAI_JOBS_INTERVAL", "1s"}});
}

// The users that have an announcement titled `title`.
std::set<std::string> RecipientsWithRow(DirectDb& db, const std::string& title) {
  std::set<std::string> out;
  for (const auto& row : db.Query("SELECT user_id FROM notifications WHERE kind = 'announcement' AND title = " +
                                  DirectDb::Quote(title))) {
    out.insert(row[0].value_or(""));
  }
  return out;
}

// Waits until every broadcast's fan-out is done (broadcasts.done_at set).
bool AwaitFanOut(DirectDb& db) {
  return support::WaitUntil(
      [&] { return db.Scalar("SELECT COUNT(*) FROM broadcasts WHERE done_at IS NULL") == "0"; }, 15s, 100ms);
}

ApiUser NewAdmin(const Http& http, DirectDb& db, std::string_view prefix = "bc_admin") {
  auto admin = support::NewApiUser(http, prefix);
  support::MakeAdminInDb(db, admin.id);
  return admin;
}

void Disable(const Http& http, const ApiUser& admin, const ApiUser& user) {
  auto res = http.Patch("/api/v1/admin/users/" + user.id, json{{"disabled", true}}.dump(), admin.auth);
  ASSERT_EQ(res.status, 200) << res;
}

// ---------------------------------------------------------------------------------------------
// One server for the suite: targeted broadcasts.

class BroadcastTest : public support::AccountSuite<BroadcastTest> {
 public:
  static std::map<std::string, std::string> ServerEnv() { return BroadcastEnv(); }
};

TEST_F(BroadcastTest, ToUserIdsReachesExactlyThoseUsers) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  auto u1 = support::NewApiUser(http, "bc_ids1");
  auto u2 = support::NewApiUser(http, "bc_ids2");
  auto outsider = support::NewApiUser(http, "bc_ids_out");
  const std::string title = "Targeted " + u1.who.username;
  auto res = Broadcast(http, admin.auth,
                       {{"title", title}, {"body", "Only for two."}, {"user_ids", {u1.id, u2.id}}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json(), json({{"recipients", 2}}));
  for (const auto* user : {&u1, &u2}) {
    auto items = support::WaitForNotifications(http, user->auth, 1, "kind=announcement");
    ASSERT_EQ(items.size(), 1u) << user->who.username;
    EXPECT_EQ(items[0]["title"], title);
    EXPECT_EQ(items[0]["body"], "Only for two.");
    EXPECT_TRUE(items[0]["data"].is_object());
  }
  ASSERT_TRUE(AwaitFanOut(Db()));
  EXPECT_EQ(RecipientsWithRow(Db(), title), (std::set<std::string>{u1.id, u2.id}));
  EXPECT_TRUE(support::AllNotifications(http, outsider.auth).empty());
  // Activity: who sent it and to how many (the admin is the actor).
  auto events = support::ActivityOf(Db(), admin.id, "notification.broadcast");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["recipients"], 2) << events[0].data.dump();
}

TEST_F(BroadcastTest, AnIdGivenTwiceCountsOnceAndADisabledOneIsNoRecipient) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  auto user = support::NewApiUser(http, "bc_twice");
  auto disabled = support::NewApiUser(http, "bc_ids_off");
  Disable(http, admin, disabled);
  const std::string title = "Twice " + user.who.username;
  auto res = Broadcast(http, admin.auth, {{"title", title}, {"body", "b"}, {"user_ids", {user.id, user.id, disabled.id}}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json(), json({{"recipients", 1}}));
  ASSERT_TRUE(AwaitFanOut(Db()));
  EXPECT_EQ(RecipientsWithRow(Db(), title), std::set<std::string>{user.id});
  EXPECT_EQ(support::AllNotifications(http, user.auth, "kind=announcement").size(), 1u) << "one row per user";
}

TEST_F(BroadcastTest, UnknownOrMalformedIdsAre422AndSendNothing) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  auto user = support::NewApiUser(http, "bc_unknown");
  const std::string title = "Never sent " + user.who.username;
  for (const json& ids : {json{user.id, "0193aaaa-0000-7000-8000-000000000000"}, json{user.id, "nope"},
                          json{user.id, 42}, json{nullptr}}) {
    SCOPED_TRACE(ids.dump());
    auto res = Broadcast(http, admin.auth, {{"title", title}, {"body", "x"}, {"user_ids", ids}});
    EXPECT_TRUE(support::IsFieldError(res, "user_ids")) << res;
  }
  // A deleted user's id is unknown too.
  auto gone = support::NewApiUser(http, "bc_gone");
  ASSERT_EQ(http.Delete("/api/v1/admin/users/" + gone.id, "", admin.auth).status, 204);
  EXPECT_TRUE(support::IsFieldError(
      Broadcast(http, admin.auth, {{"title", title}, {"body", "x"}, {"user_ids", {user.id, gone.id}}}), "user_ids"));
  // A valid one after them is the only thing the user gets.
  ASSERT_EQ(Broadcast(http, admin.auth, {{"title", "Valid " + title}, {"body", "x"}, {"user_ids", {user.id}}}).status, 202);
  ASSERT_EQ(support::WaitForNotifications(http, user.auth, 1).size(), 1u);
  ASSERT_TRUE(AwaitFanOut(Db()));
  EXPECT_TRUE(RecipientsWithRow(Db(), title).empty());
  EXPECT_EQ(support::AllNotifications(http, user.auth).size(), 1u);
}

struct InvalidBroadcast {
  std::string name;
  json body;
  std::string field;
};

void PrintTo(const InvalidBroadcast& p, std::ostream* out) { *out << p.name << " " << p.body.dump().substr(0, 200); }

class BroadcastValidationTest : public BroadcastTest, public ::testing::WithParamInterface<InvalidBroadcast> {};

TEST_P(BroadcastValidationTest, Is422) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  json body = GetParam().body;
  // Targeted at the admin alone unless the target is what is wrong, so that a wrongly accepted
  // body does not reach the users of the other tests.
  if (!body.contains("user_ids") && !body.contains("role")) body["user_ids"] = {"$ME"};
  // "$ME" stands for a real user id.
  if (body.contains("user_ids") && body["user_ids"].is_array()) {
    for (auto& id : body["user_ids"]) {
      if (id == "$ME") id = admin.id;
    }
  }
  auto res = Broadcast(http, admin.auth, body);
  EXPECT_TRUE(support::IsFieldError(res, GetParam().field)) << body.dump().substr(0, 300) << " -> " << res;
}

json ManyIds(int n, const std::string& id) {
  json ids = json::array();
  for (int i = 0; i < n; ++i) ids.push_back(id);
  return ids;
}

INSTANTIATE_TEST_SUITE_P(
    EveryCase, BroadcastValidationTest,
    ::testing::Values(
        InvalidBroadcast{"MissingTitle", {{"body", "b"}}, "title"},
        InvalidBroadcast{"EmptyTitle", {{"title", ""}, {"body", "b"}}, "title"},
        InvalidBroadcast{"TitleTooLong", {{"title", std::string(201, 'x')}, {"body", "b"}}, "title"},
        InvalidBroadcast{"TitleNotAString", {{"title", 5}, {"body", "b"}}, "title"},
        InvalidBroadcast{"MissingBody", {{"title", "t"}}, "body"},
        InvalidBroadcast{"EmptyBody", {{"title", "t"}, {"body", ""}}, "body"},
        InvalidBroadcast{"BodyTooLong", {{"title", "t"}, {"body", std::string(5001, 'x')}}, "body"},
        InvalidBroadcast{"UnknownRole", {{"title", "t"}, {"body", "b"}, {"role", "superuser"}}, "role"},
        InvalidBroadcast{"EmptyUserIds", {{"title", "t"}, {"body", "b"}, {"user_ids", json::array()}}, "user_ids"},
        InvalidBroadcast{"UserIdsNotAnArray", {{"title", "t"}, {"body", "b"}, {"user_ids", "$ME"}}, "user_ids"},
        InvalidBroadcast{"MoreThan1000UserIds", {{"title", "t"}, {"body", "b"}, {"user_ids", ManyIds(1001, "$ME")}},
                         "user_ids"},
        InvalidBroadcast{"UnknownField", {{"title", "t"}, {"body", "b"}, {"urgent", true}}, "urgent"}),
    [](const ::testing::TestParamInfo<InvalidBroadcast>& info) { return info.param.name; });

TEST_F(BroadcastTest, BothRoleAndUserIdsIs422) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  const std::string title = "Both " + admin.who.username;
  auto res = Broadcast(http, admin.auth, {{"title", title}, {"body", "b"}, {"role", "admin"}, {"user_ids", {admin.id}}});
  EXPECT_EQ(res.status, 422) << res;
  EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << res;
  ASSERT_TRUE(AwaitFanOut(Db()));
  EXPECT_TRUE(RecipientsWithRow(Db(), title).empty());
}

TEST_F(BroadcastTest, TheLongestTitleAndBodyAreAccepted) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  const std::string title = support::Repeat("é", 200);
  const std::string body = support::Repeat("ü", 5000);
  auto res = Broadcast(http, admin.auth, {{"title", title}, {"body", body}, {"user_ids", {admin.id}}});
  ASSERT_EQ(res.status, 202) << res;
  auto items = support::WaitForNotifications(http, admin.auth, 1, "kind=announcement");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["title"], title);
  EXPECT_EQ(items[0]["body"], body);
}

TEST_F(BroadcastTest, ANonAdminGets403AndNoTokenGets401) {
  Http http(Server());
  auto user = support::NewApiUser(http, "bc_plain");
  const std::string title = "Forbidden " + user.who.username;
  EXPECT_TRUE(IsProblem(Broadcast(http, user.auth, {{"title", title}, {"body", "b"}}), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(Broadcast(http, user.auth, {{"title", title}, {"body", "b"}, {"user_ids", {user.id}}}), 403,
                        "forbidden"));
  EXPECT_TRUE(support::IsUnauthorized(http.Post(support::kBroadcast, json{{"title", title}, {"body", "b"}}.dump())));
  ASSERT_TRUE(AwaitFanOut(Db()));
  EXPECT_TRUE(RecipientsWithRow(Db(), title).empty());
}

TEST_F(BroadcastTest, InAppAnnouncementOffMakesNoRowButCountsAsARecipient) {
  Http http(Server());
  auto admin = NewAdmin(http, Db());
  auto quiet = support::NewApiUser(http, "bc_quiet");
  auto loud = support::NewApiUser(http, "bc_loud");
  support::SetPrefs(http, quiet.auth, {{"in_app", {{"announcement", false}}}});
  const std::string title = "Muted " + quiet.who.username;
  auto res = Broadcast(http, admin.auth, {{"title", title}, {"body", "b"}, {"user_ids", {quiet.id, loud.id}}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json()["recipients"], 2);
  ASSERT_EQ(support::WaitForNotifications(http, loud.auth, 1).size(), 1u);
  ASSERT_TRUE(AwaitFanOut(Db()));
  EXPECT_EQ(RecipientsWithRow(Db(), title), std::set<std::string>{loud.id});
}

// ---------------------------------------------------------------------------------------------
// A fresh database per test: broadcasts to everyone and to a role, where every user counts.

class BroadcastEveryoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = support::FreshDatabaseUrl(dir_);
    server_.emplace(support::StartAccountServer(dir_, url_, BroadcastEnv()));
    db_.emplace(url_);
  }
  void TearDown() override {
    db_.reset();
    server_.reset();
  }
  support::TempDir dir_;
  std::string url_;
  std::optional<support::Server> server_;
  std::optional<DirectDb> db_;
};

TEST_F(BroadcastEveryoneTest, ToEveryoneButDisabledUsers) {
  Http http(*server_);
  auto admin = NewAdmin(http, *db_);
  auto u1 = support::NewApiUser(http, "bc_all1");
  auto u2 = support::NewApiUser(http, "bc_all2");
  auto disabled = support::NewApiUser(http, "bc_all_off");
  auto muted = support::NewApiUser(http, "bc_all_muted");
  support::SetPrefs(http, muted.auth, {{"in_app", {{"announcement", false}}}});
  Disable(http, admin, disabled);
  auto res = Broadcast(http, admin.auth, {{"title", "Hello everyone"}, {"body", "Welcome."}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json(), json({{"recipients", 4}})) << "admin, u1, u2 and muted; not the disabled user";
  ASSERT_TRUE(AwaitFanOut(*db_)) << "the fan-out did not finish";
  EXPECT_EQ(RecipientsWithRow(*db_, "Hello everyone"), (std::set<std::string>{admin.id, u1.id, u2.id}));
  EXPECT_EQ(support::AllNotifications(http, u1.auth, "kind=announcement").size(), 1u);
}

TEST_F(BroadcastEveryoneTest, ToARole) {
  Http http(*server_);
  auto admin = NewAdmin(http, *db_);
  auto admin2 = NewAdmin(http, *db_, "bc_admin2");
  auto disabled_admin = NewAdmin(http, *db_, "bc_admin_off");
  auto u1 = support::NewApiUser(http, "bc_role1");
  auto u2 = support::NewApiUser(http, "bc_role2");
  Disable(http, admin, disabled_admin);

  auto res = Broadcast(http, admin.auth, {{"title", "Admins only"}, {"body", "b"}, {"role", "admin"}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json(), json({{"recipients", 2}}));
  res = Broadcast(http, admin.auth, {{"title", "Users only"}, {"body", "b"}, {"role", "user"}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json(), json({{"recipients", 2}}));
  ASSERT_TRUE(AwaitFanOut(*db_));
  EXPECT_EQ(RecipientsWithRow(*db_, "Admins only"), (std::set<std::string>{admin.id, admin2.id}));
  EXPECT_EQ(RecipientsWithRow(*db_, "Users only"), (std::set<std::string>{u1.id, u2.id}));
}

}  // namespace
}  // namespace ikigai
