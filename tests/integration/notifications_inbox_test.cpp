// API.md "Notifications", the inbox (issue #12, NOTIFY-DESIGN.md "HTTP behaviour"): the list
// (newest first, unread and kind filters, X-Unread-Count over everything, sealed keyset cursors,
// 400 for bad query values), read (idempotent, read_at of the first read kept), read-all, delete,
// someone else's or a malformed id 404, and an unread count that stays equal to the unread rows
// listed when 20 read-all/delete/read calls race.
//
// Notifications are made on demand by the real producers: a sign-in from a new user agent is a
// `security` notification made inside the login request; an announcement to one user comes from
// the admin broadcast (fanned out in the background, so its rows are waited for).
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/concurrency.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/notify_api.hpp"
#include "support/task_api.hpp"
#include "support/text.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::AllNotifications;
using support::ApiUser;
using support::BearerHeaders;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::ListNotifications;
using support::NotificationPath;
using support::Response;
using support::UnreadCount;

class InboxTest : public support::AccountSuite<InboxTest> {
 public:
  static std::map<std::string, std::string> ServerEnv() {
    return support::AccountServerEnv({{"IKIGAI_RATE_LIMITS", "off"}, {"IKIGAI_JOBS_INTERVAL", "1s"}});
  }

 protected:
  // Signs `user` in from user agent `ua`; a new agent makes one security notification at once.
  static void SignInFrom(const Http& http, const ApiUser& user, const std::string& ua) {
    (void)support::LoginPair(http, user.who, {{"User-Agent", ua}});
  }
  // n sign-ins from new agents "<prefix>-1".."<prefix>-n", one after the other.
  static void NewDevices(const Http& http, const ApiUser& user, int n, const std::string& prefix = "device") {
    for (int i = 1; i <= n; ++i) SignInFrom(http, user, support::Numbered(prefix + "-", i));
  }
  static ApiUser NewAdmin(const Http& http) {
    auto admin = support::NewApiUser(http, "inbox_admin");
    support::MakeAdminInDb(Db(), admin.id);
    return admin;
  }
  // An announcement to `user` only; waits until its row is listed.
  static void Announce(const Http& http, const ApiUser& admin, const ApiUser& user, const std::string& title) {
    auto res = support::Broadcast(http, admin.auth, {{"title", title}, {"body", "Body of " + title}, {"user_ids", {user.id}}});
    ASSERT_EQ(res.status, 202) << res;
    ASSERT_TRUE(support::WaitUntil(
        [&] {
          for (const auto& item : AllNotifications(http, user.auth, "kind=announcement")) {
            if (item["title"] == title) return true;
          }
          return false;
        },
        10s, 100ms))
        << "the announcement \"" << title << "\" never reached the inbox";
  }
  static std::vector<std::string> Ids(const std::vector<json>& items) {
    std::vector<std::string> ids;
    for (const auto& item : items) ids.push_back(item["id"].get<std::string>());
    return ids;
  }
  static std::vector<std::string> Agents(const std::vector<json>& items) {
    std::vector<std::string> agents;
    for (const auto& item : items) agents.push_back(item["data"].value("user_agent", ""));
    return agents;
  }
  static long long UnreadListed(const std::vector<json>& items) {
    return std::count_if(items.begin(), items.end(), [](const json& item) { return item["read_at"].is_null(); });
  }
};

// ---------------------------------------------------------------------------------------------
// Listing

TEST_F(InboxTest, ListsNewestFirstWithTheNotificationShape) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_list");
  // The first sign-in of a fresh account (made by NewApiUser) notifies nobody.
  auto empty = ListNotifications(http, user.auth);
  ASSERT_EQ(empty.status, 200) << empty;
  EXPECT_EQ(empty.Json(), json({{"items", json::array()}, {"next_cursor", nullptr}}));
  EXPECT_EQ(empty.Header("x-unread-count"), "0");
  EXPECT_EQ(empty.Header("cache-control"), "no-store");

  NewDevices(http, user, 3);
  auto res = ListNotifications(http, user.auth);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Header("x-unread-count"), "3");
  const json body = res.Json();
  ASSERT_EQ(body["items"].size(), 3u) << body.dump();
  EXPECT_TRUE(body["next_cursor"].is_null());
  std::vector<json> items(body["items"].begin(), body["items"].end());
  EXPECT_EQ(Agents(items), (std::vector<std::string>{"device-3", "device-2", "device-1"})) << "not newest first";
  auto ids = Ids(items);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend())) << "ids not descending";
  for (const auto& item : items) {
    SCOPED_TRACE(item.dump());
    std::set<std::string> keys;
    for (const auto& [key, value] : item.items()) keys.insert(key);
    EXPECT_EQ(keys, (std::set<std::string>{"id", "kind", "title", "body", "data", "read_at", "created_at"}));
    EXPECT_TRUE(support::IsUuidV7(item["id"]));
    EXPECT_EQ(item["kind"], "security");
    EXPECT_EQ(item["title"], support::kNewSignInTitle);
    EXPECT_TRUE(item["body"].is_string());
    EXPECT_TRUE(item["read_at"].is_null());
    EXPECT_TRUE(support::IsUtcTimestamp(item["created_at"]));
    ASSERT_TRUE(item["data"].is_object());
    EXPECT_EQ(item["data"]["event"], "new_sign_in");
    EXPECT_EQ(item["data"]["ip"], "127.0.0.1");
  }
}

TEST_F(InboxTest, FiltersByUnreadAndKindWhileTheUnreadCountCountsEverything) {
  Http http(Server());
  auto admin = NewAdmin(http);
  auto user = support::NewApiUser(http, "inbox_filter");
  NewDevices(http, user, 2);
  Announce(http, admin, user, "Filter news 1");
  Announce(http, admin, user, "Filter news 2");
  auto security = AllNotifications(http, user.auth, "kind=security");
  ASSERT_EQ(security.size(), 2u);
  const std::string read_id = security[0]["id"];
  ASSERT_EQ(http.Post(NotificationPath(read_id, "/read"), "", user.auth).status, 204);

  struct Case {
    std::string query;
    std::size_t items;
  };
  for (const Case& c : std::vector<Case>{{"", 4},
                                         {"unread=true", 3},
                                         {"unread=false", 1},
                                         {"kind=security", 2},
                                         {"kind=announcement", 2},
                                         {"kind=task_due", 0},
                                         {"kind=feedback_reply", 0},
                                         {"kind=security&unread=true", 1},
                                         {"kind=announcement&unread=true", 2}}) {
    SCOPED_TRACE(c.query);
    auto res = ListNotifications(http, user.auth, c.query);
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.Header("x-unread-count"), "3") << "X-Unread-Count must ignore the filters";
    const auto items = res.Json()["items"];
    EXPECT_EQ(items.size(), c.items) << items.dump();
    for (const auto& item : items) {
      if (c.query.find("kind=security") != std::string::npos) {
        EXPECT_EQ(item["kind"], "security");
      }
      if (c.query.find("kind=announcement") != std::string::npos) {
        EXPECT_EQ(item["kind"], "announcement");
      }
      if (c.query.find("unread=true") != std::string::npos) {
        EXPECT_TRUE(item["read_at"].is_null());
      }
      if (c.query.find("unread=false") != std::string::npos) {
        EXPECT_FALSE(item["read_at"].is_null());
      }
    }
  }
  // unread=false lists the read ones only (docs/api.md).
  auto res = ListNotifications(http, user.auth, "unread=false");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Header("x-unread-count"), "3");
  const json read_page = res.Json();
  auto ids = Ids(std::vector<json>(read_page["items"].begin(), read_page["items"].end()));
  EXPECT_EQ(ids, std::vector<std::string>{read_id});
  res = ListNotifications(http, user.auth, "unread=false&kind=announcement");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_TRUE(res.Json()["items"].empty()) << res;
}

TEST_F(InboxTest, BadQueryValuesAre400) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_badq");
  NewDevices(http, user, 1);
  for (const char* query :
       {"unread=yes", "unread=1", "unread=TRUE", "unread=truee", "kind=nope", "kind=Security", "kind=security,task_due",
        "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=1.5", "cursor=garbage", "cursor=not.a.cursor"}) {
    SCOPED_TRACE(query);
    EXPECT_TRUE(IsProblem(ListNotifications(http, user.auth, query), 400, "bad_request"));
  }
  for (const char* query : {"limit=1", "limit=100", "unread=true", "unread=false", "kind=security", "other=ignored"}) {
    SCOPED_TRACE(query);
    EXPECT_EQ(ListNotifications(http, user.auth, query).status, 200);
  }
}

TEST_F(InboxTest, KeysetCursorPagesAreStableWhileNewOnesArrive) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_pages");
  NewDevices(http, user, 7, "page");
  const auto all = AllNotifications(http, user.auth);
  ASSERT_EQ(all.size(), 7u);

  auto first = ListNotifications(http, user.auth, "limit=3");
  ASSERT_EQ(first.status, 200) << first;
  ASSERT_EQ(first.Json()["items"].size(), 3u);
  ASSERT_TRUE(first.Json()["next_cursor"].is_string());
  // A newer notification arrives between pages: keyset paging neither repeats nor skips.
  SignInFrom(http, user, "page-new");
  const json first_page = first.Json();
  std::vector<json> seen(first_page["items"].begin(), first_page["items"].end());
  std::string cursor = first.Json()["next_cursor"];
  int pages = 1;
  while (!cursor.empty() && pages < 10) {
    auto res = ListNotifications(http, user.auth, "limit=3&cursor=" + support::UrlEncode(cursor));
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.Header("x-unread-count"), "8");
    const json body = res.Json();
    for (const auto& item : body["items"]) seen.push_back(item);
    cursor = body["next_cursor"].is_null() ? "" : body["next_cursor"].get<std::string>();
    ++pages;
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(Ids(seen), Ids(all)) << "pages of 3 do not add up to the listing taken before";
  // The newest is on a fresh first page.
  auto fresh = ListNotifications(http, user.auth, "limit=3");
  EXPECT_EQ(fresh.Json()["items"][0]["data"]["user_agent"], "page-new");
}

TEST_F(InboxTest, CursorsAreSealedAndScopedToUserAndFilters) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_cursor");
  auto other = support::NewApiUser(http, "inbox_cursor_other");
  NewDevices(http, user, 5);
  NewDevices(http, other, 5);
  auto page = ListNotifications(http, user.auth, "kind=security&limit=2");
  ASSERT_EQ(page.status, 200) << page;
  ASSERT_TRUE(page.Json()["next_cursor"].is_string()) << page;
  const std::string cursor = page.Json()["next_cursor"];
  auto with = [&](const ApiUser& who, const std::string& query, const std::string& c) {
    return ListNotifications(http, who.auth, query + "&limit=2&cursor=" + support::UrlEncode(c));
  };
  ASSERT_EQ(with(user, "kind=security", cursor).status, 200);
  // Tampered anywhere.
  for (std::size_t pos : {std::size_t{0}, cursor.size() / 2, cursor.size() - 2}) {
    std::string tampered = cursor;
    tampered[pos] = tampered[pos] == 'A' ? 'B' : 'A';
    SCOPED_TRACE(tampered);
    EXPECT_TRUE(IsProblem(with(user, "kind=security", tampered), 400, "bad_request"));
  }
  EXPECT_TRUE(IsProblem(with(user, "kind=security", cursor.substr(0, cursor.size() - 1)), 400, "bad_request"));
  // Another filter, or another user.
  EXPECT_TRUE(IsProblem(with(user, "kind=announcement", cursor), 400, "bad_request"));
  EXPECT_TRUE(IsProblem(with(user, "kind=security&unread=true", cursor), 400, "bad_request"));
  EXPECT_TRUE(IsProblem(with(user, "unread=true", cursor), 400, "bad_request"));
  EXPECT_TRUE(IsProblem(with(other, "kind=security", cursor), 400, "bad_request"));
}

// ---------------------------------------------------------------------------------------------
// Read, read-all, delete

TEST_F(InboxTest, ReadIsIdempotentAndKeepsTheFirstReadAt) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_read");
  NewDevices(http, user, 2);
  auto items = AllNotifications(http, user.auth);
  ASSERT_EQ(items.size(), 2u);
  const std::string id = items[1]["id"];
  auto read = http.Post(NotificationPath(id, "/read"), "", user.auth);
  ASSERT_EQ(read.status, 204) << read;
  EXPECT_TRUE(read.body.empty());
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
  items = AllNotifications(http, user.auth);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_TRUE(items[0]["read_at"].is_null()) << "reading one marked another";
  ASSERT_TRUE(support::IsUtcTimestamp(items[1]["read_at"])) << items[1].dump();
  const json first_read_at = items[1]["read_at"];
  // Timestamps are to the second: a second read a second later must keep the first read_at.
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(http.Post(NotificationPath(id, "/read"), "", user.auth).status, 204);
  EXPECT_EQ(http.Post(NotificationPath(id, "/read"), "{}", user.auth).status, 204);
  EXPECT_EQ(AllNotifications(http, user.auth)[1]["read_at"], first_read_at);
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
  // No body is expected: a JSON field is refused.
  auto with_field = http.Post(NotificationPath(items[0]["id"].get<std::string>(), "/read"), R"({"read":true})", user.auth);
  EXPECT_TRUE(IsProblem(with_field, 422, "validation_failed")) << with_field;
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
}

TEST_F(InboxTest, ReadAllMarksEveryUnreadOneAndNotTheNextOnes) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_readall");
  NewDevices(http, user, 3);
  ASSERT_EQ(http.Post(NotificationPath(AllNotifications(http, user.auth)[2]["id"].get<std::string>(), "/read"), "",
                      user.auth)
                .status,
            204);
  const json earlier_read_at = AllNotifications(http, user.auth)[2]["read_at"];
  auto res = http.Post(support::kReadAll, "", user.auth);
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_EQ(UnreadCount(http, user.auth), 0);
  auto items = AllNotifications(http, user.auth);
  ASSERT_EQ(items.size(), 3u);
  for (const auto& item : items) EXPECT_TRUE(support::IsUtcTimestamp(item["read_at"])) << item.dump();
  EXPECT_EQ(items[2]["read_at"], earlier_read_at) << "read-all rewrote an earlier read_at";
  EXPECT_TRUE(AllNotifications(http, user.auth, "unread=true").empty());
  // Idempotent, and a later notification is unread.
  EXPECT_EQ(http.Post(support::kReadAll, "", user.auth).status, 204);
  SignInFrom(http, user, "after-read-all");
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
  EXPECT_TRUE(IsProblem(http.Post(support::kReadAll, R"({"x":1})", user.auth), 422, "validation_failed"));
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
}

TEST_F(InboxTest, DeleteRemovesItAndASecondDeleteIs404) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_delete");
  NewDevices(http, user, 3);
  auto items = AllNotifications(http, user.auth);
  ASSERT_EQ(items.size(), 3u);
  const std::string id = items[1]["id"];
  auto res = http.Delete(NotificationPath(id), "", user.auth);
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_EQ(UnreadCount(http, user.auth), 2) << "a deleted unread notification still counts";
  auto after = AllNotifications(http, user.auth);
  EXPECT_EQ(Ids(after), (std::vector<std::string>{items[0]["id"], items[2]["id"]}));
  EXPECT_TRUE(IsProblem(http.Delete(NotificationPath(id), "", user.auth), 404, "not_found"));
  EXPECT_TRUE(IsProblem(http.Post(NotificationPath(id, "/read"), "", user.auth), 404, "not_found"));
}

TEST_F(InboxTest, SomeoneElsesOrAMalformedIdIs404AndChangesNothing) {
  Http http(Server());
  auto owner = support::NewApiUser(http, "inbox_owner");
  auto thief = support::NewApiUser(http, "inbox_thief");
  NewDevices(http, owner, 1);
  NewDevices(http, thief, 1);
  const std::string id = AllNotifications(http, owner.auth).at(0)["id"];
  EXPECT_TRUE(IsProblem(http.Post(NotificationPath(id, "/read"), "", thief.auth), 404, "not_found"));
  EXPECT_TRUE(IsProblem(http.Delete(NotificationPath(id), "", thief.auth), 404, "not_found"));
  ASSERT_EQ(http.Post(support::kReadAll, "", thief.auth).status, 204);
  auto owners = AllNotifications(http, owner.auth);
  ASSERT_EQ(owners.size(), 1u);
  EXPECT_TRUE(owners[0]["read_at"].is_null()) << "someone else's read/read-all touched it";
  EXPECT_EQ(UnreadCount(http, owner.auth), 1);
  for (const std::string& bad : {std::string("nope"), std::string("12345"), std::string("0193aaaa-0000-7000-8000-000000000000"),
                                 id.substr(0, id.size() - 1), id + "0", support::UpperAscii(id)}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(IsProblem(http.Post(NotificationPath(support::UrlEncode(bad), "/read"), "", thief.auth), 404, "not_found"));
    EXPECT_TRUE(IsProblem(http.Delete(NotificationPath(support::UrlEncode(bad)), "", thief.auth), 404, "not_found"));
  }
}

TEST_F(InboxTest, EveryInboxRouteNeedsAValidAccessToken) {
  Http http(Server());
  const std::string id = "0193aaaa-0000-7000-8000-000000000000";
  EXPECT_TRUE(IsUnauthorized(http.Get(support::kNotifications)));
  EXPECT_TRUE(IsUnauthorized(http.Post(NotificationPath(id, "/read"))));
  EXPECT_TRUE(IsUnauthorized(http.Post(support::kReadAll)));
  EXPECT_TRUE(IsUnauthorized(http.Delete(NotificationPath(id))));
  EXPECT_TRUE(IsUnauthorized(http.Get(support::kNotifications, "", BearerHeaders("not-a-jwt"))));
}

TEST_F(InboxTest, NotificationsOlderThanNinetyDaysArePurgedByTheJob) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_purge");
  NewDevices(http, user, 3);
  auto items = AllNotifications(http, user.auth);
  ASSERT_EQ(items.size(), 3u);
  constexpr long long kDayMs = 86400LL * 1000;
  auto age = [&](const json& item, long long days) {
    Db().Exec("UPDATE notifications SET created_at = created_at - " + std::to_string(days * kDayMs) +
              " WHERE id = " + support::DirectDb::Quote(item["id"].get<std::string>()));
  };
  age(items[0], 91);  // read or not, it goes
  age(items[1], 89);  // stays
  ASSERT_EQ(http.Post(NotificationPath(items[0]["id"].get<std::string>(), "/read"), "", user.auth).status, 204);
  age(items[2], 120);
  ASSERT_TRUE(support::WaitUntil([&] { return AllNotifications(http, user.auth).size() == 1; }, 10s, 200ms))
      << "notifications older than 90 days were not purged by the job running every second";
  EXPECT_EQ(AllNotifications(http, user.auth)[0]["id"], items[1]["id"]);
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
}

// ---------------------------------------------------------------------------------------------
// Races

TEST_F(InboxTest, TwentyConcurrentReadAllDeleteAndReadCallsLeaveAConsistentUnreadCount) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_race");
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(support::Numbered("round ", round));
    NewDevices(http, user, 20, support::Numbered("race", round));
    auto items = AllNotifications(http, user.auth, "unread=true");
    ASSERT_GE(items.size(), 20u);
    // 20 calls at once: read-all, deletes and reads of distinct notifications, and sign-ins from
    // new devices making new unread ones meanwhile.
    const auto responses = support::AllAtOnce(20, [&](int i) -> Response {
      const std::string id = items[static_cast<std::size_t>(i)]["id"];
      switch (i % 5) {
        case 0:
          return http.Post(support::kReadAll, "", user.auth);
        case 1:
        case 2:
          return http.Delete(NotificationPath(id), "", user.auth);
        case 3:
          return http.Post(NotificationPath(id, "/read"), "", user.auth);
        default:
          return support::Login(http, "username", user.who.username, user.who.password,
                                {{"User-Agent", support::Numbered(support::Numbered("race-new-", round) + "-", i)}});
      }
    });
    for (int i = 0; i < 20; ++i) {
      const int expected = i % 5 == 4 ? 200 : 204;
      const auto& res = responses[static_cast<std::size_t>(i)];
      EXPECT_EQ(res.status, expected) << "call " << i << ": " << res;
    }
    auto listed = AllNotifications(http, user.auth);
    auto res = ListNotifications(http, user.auth, "limit=1");
    ASSERT_EQ(res.status, 200);
    EXPECT_EQ(res.Header("x-unread-count"), std::to_string(UnreadListed(listed)))
        << "X-Unread-Count disagrees with the unread rows listed";
    EXPECT_EQ(AllNotifications(http, user.auth, "unread=true").size(), static_cast<std::size_t>(UnreadListed(listed)));
    // Every deleted one is gone.
    EXPECT_EQ(UnreadCount(http, user.auth), UnreadListed(listed));
    std::set<std::string> ids;
    for (const auto& item : listed) ids.insert(item["id"].get<std::string>());
    for (int i = 0; i < 20; ++i) {
      if (i % 5 == 1 || i % 5 == 2) {
        EXPECT_EQ(ids.count(items[static_cast<std::size_t>(i)]["id"]), 0u);
      }
    }
    // Then read-all leaves nothing unread.
    ASSERT_EQ(http.Post(support::kReadAll, "", user.auth).status, 204);
    EXPECT_EQ(UnreadCount(http, user.auth), 0);
  }
}

TEST_F(InboxTest, TwentyConcurrentDeletesOfOneNotificationSucceedOnce) {
  Http http(Server());
  auto user = support::NewApiUser(http, "inbox_del_race");
  NewDevices(http, user, 2);
  const auto items = AllNotifications(http, user.auth);
  ASSERT_EQ(items.size(), 2u);
  const std::string id = items[0]["id"];
  const auto responses = support::AllAtOnce(20, [&](int) { return http.Delete(NotificationPath(id), "", user.auth); });
  int ok = 0;
  for (const auto& res : responses) {
    if (res.status == 204) {
      ++ok;
    } else {
      EXPECT_TRUE(IsProblem(res, 404, "not_found")) << res;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(UnreadCount(http, user.auth), 1);
  EXPECT_EQ(AllNotifications(http, user.auth).size(), 1u);
}

}  // namespace
}  // namespace ikigai
