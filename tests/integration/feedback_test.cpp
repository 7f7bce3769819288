// API.md "Feedback": sending (every field rule, unknown and server-owned fields, the feedback_user
// limit of 20 per user per hour), the author's own list, the admin list with its filters and
// sealed cursors, PATCH of status and reply (the reply notifies the author: inbox row, and email
// only to a verified address), stats counted by the database, 403 for non-admins, and feedback
// going with a deleted account. On the back end of IKIGAI_TEST_BACKEND.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/concurrency.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mail_suite.hpp"
#include "support/task_api.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::ApiUser;
using support::DirectDb;
using support::Http;
using support::IsProblem;
using support::Response;

constexpr const char* kFeedback = "/api/v1/feedback";
constexpr const char* kAdminFeedback = "/api/v1/admin/feedback";
constexpr long kHour = 3600;

class FeedbackTest : public support::MailSuite<FeedbackTest> {
 protected:
  static Response Post(const Http& http, const ApiUser& user, const json& body) {
    return http.Post(kFeedback, body.dump(), user.auth);
  }
  static json Create(const Http& http, const ApiUser& user, const json& body) {
    auto res = Post(http, user, body);
    EXPECT_EQ(res.status, 201) << res;
    return res.status == 201 ? res.Json() : json::object();
  }
  static Response Patch(const Http& http, const ApiUser& admin, const std::string& id, const json& body) {
    return http.Patch(std::string(kAdminFeedback) + "/" + id, body.dump(), admin.auth);
  }
  static ApiUser NewAdmin(const Http& http) {
    auto admin = support::NewApiUser(http, "fbadmin");
    Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(admin.id));
    return admin;
  }
  // Every item of a list, following next_cursor.
  static std::vector<json> All(const Http& http, const ApiUser& user, const std::string& base, int limit = 100) {
    std::vector<json> out;
    std::string cursor;
    for (int pages = 0; pages < 1000; ++pages) {
      std::string path = base + (base.find('?') == std::string::npos ? "?" : "&") + support::Numbered("limit=", limit);
      if (!cursor.empty()) path += "&cursor=" + support::UrlEncode(cursor);
      auto res = http.Get(path, "", user.auth);
      EXPECT_EQ(res.status, 200) << res;
      if (res.status != 200) break;
      const json page = res.Json();
      EXPECT_LE(page["items"].size(), static_cast<std::size_t>(limit));
      for (const auto& item : page["items"]) out.push_back(item);
      if (page["next_cursor"].is_null()) break;
      cursor = page["next_cursor"].get<std::string>();
    }
    return out;
  }
  static std::vector<std::string> Ids(const std::vector<json>& items) {
    std::vector<std::string> ids;
    for (const auto& i : items) ids.push_back(i["id"].get<std::string>());
    return ids;
  }
  static std::string Unique(const std::string& prefix) {
    static int n = 0;
    return prefix + support::Numbered("x", ++n) + support::Numbered("p", static_cast<long long>(::getpid()));
  }
};

json Valid() { return {{"category", "idea"}, {"message", "Dark mode, please."}}; }

TEST_F(FeedbackTest, CreateAnswersTheWholeFeedbackWithLocation) {
  Http http(Server());
  auto user = support::NewApiUser(http, "fbcreate");
  json body = {{"category", "bug"},
               {"message", "Line one\n\tline two"},
               {"rating", 4},
               {"context", {{"page", "/tasks"}, {"app_version", "1.4.0"}, {"platform", "web"}}}};
  auto res = Post(http, user, body);
  ASSERT_EQ(res.status, 201) << res;
  const json f = res.Json();
  EXPECT_EQ(f.size(), 10U) << f;
  EXPECT_EQ(f["user_id"], user.id);
  EXPECT_EQ(f["category"], "bug");
  EXPECT_EQ(f["message"], "Line one\n\tline two");
  EXPECT_EQ(f["rating"], 4);
  EXPECT_EQ(f["context"], body["context"]);
  EXPECT_EQ(f["status"], "new");
  EXPECT_TRUE(f["reply"].is_null());
  EXPECT_TRUE(f["created_at"].is_string());
  EXPECT_EQ(f["created_at"], f["updated_at"]);
  EXPECT_EQ(res.Header("location"), std::string(kFeedback) + "/" + f["id"].get<std::string>());
  auto again = http.Get(res.Header("location"), "", user.auth);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.Json(), f);

  // The smallest body: rating null, context {}.
  auto minimal = Create(http, user, Valid());
  EXPECT_TRUE(minimal["rating"].is_null());
  EXPECT_EQ(minimal["context"], json::object());
  EXPECT_TRUE(minimal["reply"].is_null());
  EXPECT_EQ(Create(http, user, {{"category", "praise"}, {"message", "ok"}, {"rating", nullptr}})["rating"], nullptr);

  // The event: category and rating, never the message.
  auto rows = Db().Query("SELECT actor_id, data FROM activity WHERE action = 'feedback.created' AND target_id = " +
                         DirectDb::Quote(f["id"].get<std::string>()));
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0][0].value_or(""), user.id);
  const json data = json::parse(rows[0][1].value_or("{}"));
  EXPECT_EQ(data, (json{{"category", "bug"}, {"rating", 4}}));
  EXPECT_EQ(rows[0][1]->find("Line one"), std::string::npos);

  // Someone else's item is not found.
  auto other = support::NewApiUser(http, "fbother");
  EXPECT_TRUE(IsProblem(http.Get(res.Header("location"), "", other.auth), 404, "not_found"));
}

TEST_F(FeedbackTest, EveryFieldRuleIs422) {
  Http http(Server());
  auto user = support::NewApiUser(http, "fbrules");
  auto with = [](const char* name, const json& value) {
    json b = Valid();
    b[name] = value;
    return b;
  };
  json eleven = json::object();
  for (int i = 0; i < 11; ++i) eleven[support::Numbered("k", i)] = "v";
  struct Case {
    json body;
    std::string field;
  };
  const std::vector<Case> cases = {
      {{{"message", "no category"}}, "category"},
      {with("category", "feature"), "category"},
      {with("category", 1), "category"},
      {{{"category", "idea"}}, "message"},
      {with("message", ""), "message"},
      {with("message", " \n\t\u00a0\u200b"), "message"},
      {with("message", support::Repeat("\xc3\xa9", 5001)), "message"},
      {with("message", "bell\u0007"), "message"},
      {with("message", "carriage\rreturn"), "message"},
      {with("message", std::string("nul") + '\0'), "message"},
      {with("message", "c1\u0085"), "message"},
      {with("message", 5), "message"},
      {with("rating", 0), "rating"},
      {with("rating", 6), "rating"},
      {with("rating", 4.5), "rating"},
      {with("rating", "4"), "rating"},
      {with("context", json::array()), "context"},
      {with("context", "page=/tasks"), "context"},
      {with("context", nullptr), "context"},
      {with("context", eleven), "context"},
      {with("context", {{"n", 1}}), "context"},
      {with("context", {{"page", std::string(201, 'p')}}), "context"},
      {with("context", {{"", "empty key"}}), "context"},
      {with("context", {{std::string(65, 'k'), "long key"}}), "context"},
      {with("context", {{"page", "a\u0001b"}}), "context"},
      {with("context", {{"a\nb", "newline in key"}}), "context"},
      {with("colour", "blue"), "colour"},
  };
  for (const auto& c : cases) {
    auto res = Post(http, user, c.body);
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << c.body.dump() << "\n" << res;
    if (res.status == 422) {
      EXPECT_TRUE(res.Json()["errors"].contains(c.field)) << c.body.dump() << "\n" << res;
    }
  }
  for (const char* owned : {"id", "user_id", "status", "reply", "created_at", "updated_at"}) {
    auto res = Post(http, user, with(owned, "x"));
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << owned << "\n" << res;
    if (res.status == 422) {
      EXPECT_TRUE(res.Json()["errors"].contains(owned)) << res;
    }
  }
  // The edges that pass: 5000 characters of 4 bytes each (MariaDB's column takes them), 10
  // context members of 200 characters under 64-character keys, ratings 1 and 5.
  const std::string emoji = support::Repeat("\xf0\x9f\x98\x80", 5000);
  json ten = json::object();
  for (int i = 0; i < 9; ++i) ten[support::Numbered("k", i)] = support::Repeat("\xc3\xa9", 200);
  ten[std::string(64, 'k')] = "";
  auto big = Create(http, user, {{"category", "other"}, {"message", emoji}, {"rating", 1}, {"context", ten}});
  EXPECT_EQ(big["message"], emoji);
  EXPECT_EQ(big["context"], ten);
  EXPECT_EQ(Create(http, user, with("rating", 5))["rating"], 5);
  // Refused bodies did not count: this user made 2 items.
  EXPECT_EQ(All(http, user, kFeedback).size(), 2U);
}

TEST_F(FeedbackTest, TheTwentyFirstWithinAnHourIs429AndOtherUsersAreNotAffected) {
  Http http(Server());
  auto user = support::NewApiUser(http, "fblimit");
  auto bystander = support::NewApiUser(http, "fblimitb");
  for (int i = 1; i <= 20; ++i) {
    ASSERT_EQ(Post(http, user, {{"category", "idea"}, {"message", support::Numbered("idea ", i)}}).status, 201)
        << "item " << i << " of 20";
  }
  auto over = Post(http, user, Valid());
  EXPECT_TRUE(support::IsRateLimited(over, kHour)) << over;
  // API.md's order: JSON syntax (400) first, then the limit (429) before validation (422).
  EXPECT_TRUE(IsProblem(http.Post(kFeedback, R"({"category":)", user.auth), 400, "malformed_json"));
  EXPECT_TRUE(support::IsRateLimited(Post(http, user, {{"category", "nope"}}), kHour));
  EXPECT_TRUE(support::IsRateLimited(http.Post(kFeedback, "[]", user.auth), kHour)) << "a body that is not an object";
  EXPECT_EQ(All(http, user, kFeedback).size(), 20U);
  EXPECT_EQ(Post(http, bystander, Valid()).status, 201);
  // Before the limit, a body that is not an object is 422 and does not count.
  EXPECT_TRUE(IsProblem(http.Post(kFeedback, "[]", bystander.auth), 422, "validation_failed"));
}

TEST_F(FeedbackTest, ConcurrentRequestsPassTheLimitExactlyTwentyTimes) {
  Http http(Server());
  auto user = support::NewApiUser(http, "fbrace");
  auto answers = support::AllAtOnce(26, [&](int i) {
    return Post(http, user, {{"category", "bug"}, {"message", support::Numbered("race ", i)}});
  });
  int created = 0, limited = 0;
  for (const auto& res : answers) {
    if (res.status == 201) ++created;
    else if (support::IsRateLimited(res, kHour)) ++limited;
    else ADD_FAILURE() << res;
  }
  EXPECT_EQ(created, 20);
  EXPECT_EQ(limited, 6);
  EXPECT_EQ(All(http, user, kFeedback).size(), 20U);
}

TEST(FeedbackLimitTest, IkigaiRateLimitsOverridesFeedbackUser) {
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_RATE_LIMITS", "register_address=1000/1h,feedback_user=2/10m"}});
  Http http(server);
  auto user = support::NewApiUser(http, "fboverride");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(http.Post(kFeedback, Valid().dump(), user.auth).status, 201);
  EXPECT_TRUE(support::IsRateLimited(http.Post(kFeedback, Valid().dump(), user.auth), 600));
}

TEST_F(FeedbackTest, TheOwnListHoldsOnlyTheCallersItemsNewestFirst) {
  Http http(Server());
  auto alice = support::NewApiUser(http, "fbalice");
  auto bob = support::NewApiUser(http, "fbbob");
  std::vector<std::string> mine;
  for (int i = 0; i < 5; ++i) mine.push_back(Create(http, alice, Valid())["id"].get<std::string>());
  const std::string bobs = Create(http, bob, Valid())["id"].get<std::string>();
  std::sort(mine.rbegin(), mine.rend());  // UUIDv7: newest first is id order, descending
  EXPECT_EQ(Ids(All(http, alice, kFeedback, 2)), mine);
  EXPECT_EQ(Ids(All(http, bob, kFeedback)), std::vector<std::string>{bobs});

  auto first = http.Get(std::string(kFeedback) + "?limit=2", "", alice.auth);
  ASSERT_EQ(first.status, 200) << first;
  const std::string cursor = first.Json()["next_cursor"].get<std::string>();
  // Alice's cursor is hers: Bob gets 400, not a page of Alice's.
  EXPECT_TRUE(IsProblem(http.Get(std::string(kFeedback) + "?cursor=" + support::UrlEncode(cursor), "", bob.auth), 400,
                        "bad_request"));
  std::string tampered = cursor;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(IsProblem(http.Get(std::string(kFeedback) + "?cursor=" + support::UrlEncode(tampered), "", alice.auth),
                        400, "bad_request"));
  for (const char* limit : {"0", "101", "x"}) {
    EXPECT_TRUE(IsProblem(http.Get(std::string(kFeedback) + "?limit=" + limit, "", alice.auth), 400, "bad_request"));
  }
}

TEST_F(FeedbackTest, AdminListFiltersAndSearchesWithLiteralWildcards) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto user = support::NewApiUser(http, "fbfilter");
  const std::string tag = Unique("fbq");
  auto make = [&](const char* category, const std::string& message) {
    return Create(http, user, {{"category", category}, {"message", message}})["id"].get<std::string>();
  };
  const std::string percent = make("bug", tag + " 100% sure");
  const std::string thousand = make("bug", tag + " 1000 sure");
  const std::string underscore = make("idea", tag + " snake_case");
  const std::string letter = make("praise", tag + " snakeXcase");
  const std::string mixed = make("other", tag + " MiXeD Case");
  auto search = [&](const std::string& q, const std::string& more = "") {
    auto ids = Ids(All(http, admin, std::string(kAdminFeedback) + "?q=" + support::UrlEncode(q) + more, 2));
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_EQ(search(tag + " 100%"), std::vector<std::string>{percent});
  EXPECT_EQ(search(tag + " snake_c"), std::vector<std::string>{underscore});
  EXPECT_EQ(search(support::UpperAscii(tag) + " MIXED case"), std::vector<std::string>{mixed});
  EXPECT_EQ(search(tag, "&category=bug").size(), 2U);
  auto all = search(tag);
  EXPECT_EQ(all.size(), 5U);
  (void)thousand;
  (void)letter;

  // Status: PATCH two to triaged; the filter returns only triaged items, ours among them.
  ASSERT_EQ(Patch(http, admin, percent, {{"status", "triaged"}}).status, 200);
  ASSERT_EQ(Patch(http, admin, mixed, {{"status", "triaged"}}).status, 200);
  auto triaged = All(http, admin, std::string(kAdminFeedback) + "?status=triaged", 1);
  for (const auto& f : triaged) EXPECT_EQ(f["status"], "triaged");
  auto ids = Ids(triaged);
  EXPECT_NE(std::find(ids.begin(), ids.end(), percent), ids.end());
  EXPECT_NE(std::find(ids.begin(), ids.end(), mixed), ids.end());
  EXPECT_EQ(search(tag, "&status=triaged&category=other"), std::vector<std::string>{mixed});
  for (const auto& f : All(http, admin, std::string(kAdminFeedback) + "?category=praise")) {
    EXPECT_EQ(f["category"], "praise");
  }
  // Newest first across everyone.
  auto everyone = Ids(All(http, admin, kAdminFeedback, 3));
  EXPECT_TRUE(std::is_sorted(everyone.rbegin(), everyone.rend()));

  // Bad parameters are 400.
  for (const char* bad : {"?status=open", "?category=feature", "?limit=0", "?limit=101", "?cursor=garbage"}) {
    EXPECT_TRUE(IsProblem(http.Get(std::string(kAdminFeedback) + bad, "", admin.auth), 400, "bad_request")) << bad;
  }
  // A cursor is bound to its filters, and a tampered one is refused.
  auto page = http.Get(std::string(kAdminFeedback) + "?limit=1&q=" + support::UrlEncode(tag), "", admin.auth);
  ASSERT_EQ(page.status, 200) << page;
  const std::string cursor = page.Json()["next_cursor"].get<std::string>();
  EXPECT_EQ(http.Get(std::string(kAdminFeedback) + "?limit=1&q=" + support::UrlEncode(tag) + "&cursor=" +
                         support::UrlEncode(cursor), "", admin.auth).status,
            200);
  EXPECT_TRUE(IsProblem(http.Get(std::string(kAdminFeedback) + "?limit=1&q=other&cursor=" + support::UrlEncode(cursor),
                                 "", admin.auth),
                        400, "bad_request"));
  std::string tampered = cursor;
  tampered[2] = tampered[2] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(IsProblem(http.Get(std::string(kAdminFeedback) + "?limit=1&q=" + support::UrlEncode(tag) + "&cursor=" +
                                     support::UrlEncode(tampered), "", admin.auth),
                        400, "bad_request"));
}

TEST_F(FeedbackTest, NonAdminsGet403) {
  Http http(Server());
  auto user = support::NewApiUser(http, "fbnonadmin");
  const std::string id = Create(http, user, Valid())["id"].get<std::string>();
  EXPECT_TRUE(IsProblem(http.Get(kAdminFeedback, "", user.auth), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(http.Get(std::string(kAdminFeedback) + "/stats", "", user.auth), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(Patch(http, user, id, {{"status", "done"}}), 403, "forbidden"));
  EXPECT_TRUE(IsProblem(http.Get(kAdminFeedback), 401, "unauthorized"));
}

TEST_F(FeedbackTest, PatchSetsStatusAndReplyAndRecordsTheChangedFields) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto user = support::NewApiUser(http, "fbpatch");
  const std::string id = Create(http, user, Valid())["id"].get<std::string>();
  auto updated_at = [&] { return Db().Scalar("SELECT updated_at FROM feedback WHERE id = " + DirectDb::Quote(id)); };

  auto res = Patch(http, admin, id, {{"status", "planned"}});
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Json()["status"], "planned");
  EXPECT_TRUE(res.Json()["reply"].is_null());
  res = Patch(http, admin, id, {{"reply", "Thanks, it is on the list."}, {"status", "planned"}});
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Json()["reply"], "Thanks, it is on the list.");
  // Nothing changes: updated_at (in milliseconds) stays, and no event is written.
  const auto before = updated_at();
  const auto events = Db().Scalar("SELECT COUNT(*) FROM activity WHERE action = 'feedback.updated' AND target_id = " +
                                  DirectDb::Quote(id));
  ASSERT_EQ(Patch(http, admin, id, {{"reply", "Thanks, it is on the list."}, {"status", "planned"}}).status, 200);
  ASSERT_EQ(Patch(http, admin, id, json::object()).status, 200);
  EXPECT_EQ(updated_at(), before);
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM activity WHERE action = 'feedback.updated' AND target_id = " +
                        DirectDb::Quote(id)),
            events);
  res = Patch(http, admin, id, {{"reply", nullptr}});
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_TRUE(res.Json()["reply"].is_null());
  EXPECT_EQ(res.Json()["message"], Valid()["message"]);

  // Events in any order (ids within one millisecond are not ordered): status once, reply twice.
  auto rows = Db().Query("SELECT actor_id, data FROM activity WHERE action = 'feedback.updated' AND target_id = " +
                         DirectDb::Quote(id));
  ASSERT_EQ(rows.size(), 3U);
  std::multiset<std::string> fields;
  for (const auto& row : rows) {
    EXPECT_EQ(row[0].value_or(""), admin.id);
    EXPECT_EQ(row[1]->find("on the list"), std::string::npos) << "the reply text is not logged";
    fields.insert(json::parse(row[1].value_or("{}"))["fields"].dump());
  }
  EXPECT_EQ(fields, (std::multiset<std::string>{R"(["reply"])", R"(["reply"])", R"(["status"])"}));

  // 422 (before 404) for bad values, unknown and read-only fields; 404 for an unknown id.
  const std::string unknown = "01890000-0000-7000-8000-000000000000";
  for (const json& bad : {json{{"status", "open"}}, json{{"reply", ""}}, json{{"reply", "   "}},
                          json{{"reply", std::string(5001, 'r')}}, json{{"reply", 1}}, json{{"message", "x"}},
                          json{{"category", "bug"}}, json{{"user_id", user.id}}, json{{"colour", "x"}}}) {
    EXPECT_TRUE(IsProblem(Patch(http, admin, id, bad), 422, "validation_failed")) << bad.dump();
    EXPECT_TRUE(IsProblem(Patch(http, admin, unknown, bad), 422, "validation_failed")) << bad.dump();
  }
  EXPECT_TRUE(IsProblem(Patch(http, admin, unknown, {{"status", "done"}}), 404, "not_found"));
  EXPECT_TRUE(IsProblem(Patch(http, admin, "not-an-id", {{"status", "done"}}), 404, "not_found"));
}

TEST_F(FeedbackTest, AReplyNotifiesTheAuthorAndMailsOnlyAVerifiedAddress) {
  Http http(Server());
  auto admin = NewAdmin(http);
  // A verified author: registered, the link of the verification mail followed.
  auto who = support::NewCredentials("fbverified");
  auto [verified_id, token] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(http.Post("/api/v1/auth/email/verify", json{{"token", token}}.dump()).status, 204);
  auto pair = support::LoginPair(http, who);
  ApiUser verified{verified_id, support::BearerHeaders(pair.access_token), who};
  auto unverified = support::NewApiUser(http, "fbunverified");

  const std::string v_id = Create(http, verified, Valid())["id"].get<std::string>();
  const std::string u_id = Create(http, unverified, Valid())["id"].get<std::string>();
  const std::string reply = "Shipped in 1.5 \xe2\x80\x94 thank you!";
  ASSERT_EQ(Patch(http, admin, u_id, {{"reply", reply}}).status, 200);
  ASSERT_EQ(Patch(http, admin, v_id, {{"reply", reply}}).status, 200);

  auto inbox = [&](const ApiUser& u) {
    auto res = http.Get("/api/v1/notifications?kind=feedback_reply", "", u.auth);
    EXPECT_EQ(res.status, 200) << res;
    return res.status == 200 ? res.Json()["items"] : json::array();
  };
  for (const auto& [u, id] : {std::pair{&verified, v_id}, std::pair{&unverified, u_id}}) {
    const json items = inbox(*u);
    ASSERT_EQ(items.size(), 1U) << items;
    EXPECT_EQ(items[0]["kind"], "feedback_reply");
    EXPECT_EQ(items[0]["title"], "Reply to your feedback");
    EXPECT_EQ(items[0]["body"], reply);
    EXPECT_EQ(items[0]["data"], (json{{"feedback_id", id}}));
  }
  // The verified address gets the mail with the reply and the link to the item.
  const std::string link = support::kPublicUrl + "/feedback/" + v_id;
  auto mails = support::WaitForMailTo(Sink(), verified.who.email, 1, link);
  ASSERT_EQ(mails.size(), 1U);
  EXPECT_EQ(mails[0].DecodedHeader("Subject"), "Reply to your feedback");
  EXPECT_NE(mails[0].Text().find("Shipped in 1.5"), std::string::npos) << mails[0].Text();
  // The unverified one gets none: nothing was queued for it (queued in the PATCH's transaction).
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM mail_outbox WHERE to_address = " +
                        DirectDb::Quote(unverified.who.email) + " AND kind = 'notify_feedback_reply'"),
            "0");
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM mail_outbox WHERE to_address = " + DirectDb::Quote(verified.who.email) +
                        " AND kind = 'notify_feedback_reply'"),
            "1");

  // The same reply again, or a status change, notifies nobody; a changed reply does; clearing does not.
  ASSERT_EQ(Patch(http, admin, v_id, {{"reply", reply}, {"status", "done"}}).status, 200);
  EXPECT_EQ(inbox(verified).size(), 1U);
  ASSERT_EQ(Patch(http, admin, v_id, {{"reply", "Edited reply"}}).status, 200);
  EXPECT_EQ(inbox(verified).size(), 2U);
  ASSERT_EQ(Patch(http, admin, v_id, {{"reply", nullptr}}).status, 200);
  EXPECT_EQ(inbox(verified).size(), 2U);
}

TEST_F(FeedbackTest, StatsEqualTheCountsOfTheList) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto user = support::NewApiUser(http, "fbstats");
  const std::vector<std::pair<const char*, int>> made = {{"bug", 5}, {"bug", 2}, {"idea", 0}, {"praise", 4}};
  std::vector<std::string> ids;
  for (const auto& [category, rating] : made) {
    json body = {{"category", category}, {"message", "stats"}};
    if (rating > 0) body["rating"] = rating;
    ids.push_back(Create(http, user, body)["id"].get<std::string>());
  }
  ASSERT_EQ(Patch(http, admin, ids[0], {{"status", "dismissed"}}).status, 200);
  ASSERT_EQ(Patch(http, admin, ids[1], {{"status", "done"}}).status, 200);

  // The test's own count, over every item the admin list holds.
  const auto all = All(http, admin, kAdminFeedback);
  std::map<std::string, long long> by_status = {{"new", 0}, {"triaged", 0}, {"planned", 0}, {"done", 0}, {"dismissed", 0}};
  std::map<std::string, long long> by_category = {{"bug", 0}, {"idea", 0}, {"praise", 0}, {"other", 0}};
  long long rated = 0, sum = 0;
  for (const auto& f : all) {
    ++by_status[f["status"].get<std::string>()];
    ++by_category[f["category"].get<std::string>()];
    if (!f["rating"].is_null()) {
      ++rated;
      sum += f["rating"].get<long long>();
    }
  }
  auto res = http.Get(std::string(kAdminFeedback) + "/stats", "", admin.auth);
  ASSERT_EQ(res.status, 200) << res;
  const json stats = res.Json();
  EXPECT_EQ(stats["total"], static_cast<long long>(all.size()));
  EXPECT_EQ(stats["by_status"], json(by_status));
  EXPECT_EQ(stats["by_category"], json(by_category));
  ASSERT_GT(rated, 0);
  EXPECT_NEAR(stats["average_rating"].get<double>(), static_cast<double>(sum) / static_cast<double>(rated), 0.005);
  const double hundredths = stats["average_rating"].get<double>() * 100;
  EXPECT_NEAR(hundredths, std::round(hundredths), 1e-6) << "rounded to 2 decimals";
  // The literal path wins over /admin/feedback/{id}.
  EXPECT_EQ(Patch(http, admin, "stats", {{"status", "done"}}).status, 405);
}

TEST_F(FeedbackTest, DeletingTheAccountDeletesItsFeedback) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto user = support::NewApiUser(http, "fbdelete");
  const std::string a = Create(http, user, Valid())["id"].get<std::string>();
  const std::string b = Create(http, user, Valid())["id"].get<std::string>();
  auto res = http.Delete("/api/v1/me", json{{"password", user.who.password}}.dump(), user.auth);
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM feedback WHERE user_id = " + DirectDb::Quote(user.id)), "0");
  auto ids = Ids(All(http, admin, kAdminFeedback));
  EXPECT_EQ(std::find(ids.begin(), ids.end(), a), ids.end());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), b), ids.end());
  EXPECT_TRUE(IsProblem(Patch(http, admin, a, {{"status", "done"}}), 404, "not_found"));
}

}  // namespace
}  // namespace ikigai
