// API.md "Web Push" delivery, end to end with a local push service (push_sink.py) that verifies
// VAPID and decrypts with keys it made as a browser would: a notification of every kind arrives
// decrypted as the exact Notification JSON with TTL, Urgency, Topic and Content-Encoding; push.<kind>
// false sends nothing; 410 deletes the subscription; 429 (Retry-After) and 500 are retried and then
// delivered once; a server killed with a queued push sends it after restart; two instances on one
// database deliver each push exactly once.
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/notify_api.hpp"
#include "support/push_sink.hpp"
#include "support/task_api.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::Http;
using namespace std::chrono_literals;

constexpr const char* kSubscriptions = "/api/v1/me/push-subscriptions";

std::map<std::string, std::string> PushEnv() {
  auto env = support::TaskServerEnv();
  env["IKIGAI_PUSH_ALLOW_HTTP"] = "true";
  env["IKIGAI_JOBS_INTERVAL"] = "1";
  env["IKIGAI_PUSH_RETRY_MIN"] = "1";
  env["IKIGAI_PUSH_TIMEOUT"] = "5";
  env["IKIGAI_MAIL_FROM"] = "Ikigai <push-tests@example.org>";
  return env;
}

support::PushSink& Sink() {
  static support::PushSink sink;
  return sink;
}

// Registers a fresh sink subscription for `user`; returns the sink's id of it.
std::string Subscribe(const Http& http, const support::ApiUser& user) {
  const json sub = Sink().NewSubscription();
  auto res = http.Post(kSubscriptions,
                       json{{"endpoint", sub["endpoint"]}, {"expirationTime", nullptr}, {"keys", sub["keys"]}}.dump(),
                       user.auth);
  EXPECT_EQ(res.status, 201) << res;
  return sub["id"];
}

// A security notification: a sign-in from a device the account has not used.
void NewSignIn(const Http& http, const support::ApiUser& user, const std::string& device) {
  (void)support::LoginPair(http, user.who, {{"User-Agent", "Device " + device + "/1.0"}});
}

std::vector<json> PushesFor(const json& all, const std::string& id) {
  std::vector<json> out;
  for (const auto& p : all) {
    if (p["subscription"] == id) out.push_back(p);
  }
  return out;
}

class PushDeliveryTest : public support::AccountSuite<PushDeliveryTest> {
 public:
  static std::map<std::string, std::string> ServerEnv() { return PushEnv(); }

 protected:
  void SetUp() override {
    Http http(Server());
    Sink().SetVapidKey(http.Get("/api/v1/push/public-key").Json()["public_key"]);
  }
};

TEST_F(PushDeliveryTest, ASecurityNotificationArrivesDecryptedWithItsHeaders) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_sec");
  const std::string id = Subscribe(http, user);
  NewSignIn(http, user, "sec");
  const json all = Sink().WaitForPushes(1, id);
  const auto mine = PushesFor(all, id);
  ASSERT_EQ(mine.size(), 1u) << all.dump(2);
  const json& push = mine[0];
  EXPECT_TRUE(push["vapid_ok"].get<bool>()) << push["vapid_error"];
  EXPECT_EQ(push["claims"]["aud"], Sink().Url());
  EXPECT_EQ(push["claims"]["sub"], "mailto:push-tests@example.org");
  ASSERT_TRUE(push["plaintext"].is_string()) << push["decrypt_error"];
  EXPECT_LE(push["size"].get<int>(), 4096);

  // Exactly the Notification JSON of the inbox.
  auto inbox = http.Get("/api/v1/notifications?kind=security", "", user.auth);
  ASSERT_EQ(inbox.status, 200) << inbox;
  const json first = inbox.Json()["items"][0];
  EXPECT_EQ(json::parse(push["plaintext"].get<std::string>()), first);
  std::string topic = first["id"];
  std::erase(topic, '-');
  EXPECT_EQ(push["headers"]["ttl"], "86400");
  EXPECT_EQ(push["headers"]["urgency"], "high");
  EXPECT_EQ(push["headers"]["topic"], topic);
  EXPECT_EQ(push["headers"]["content-encoding"], "aes128gcm");

  // The subscription shows the success; /metrics counts it.
  ASSERT_TRUE(support::WaitUntil([&] {
    return !http.Get(kSubscriptions, "", user.auth).Json()["items"][0]["last_success_at"].is_null();
  }, 5s));
  const std::string metrics = http.Get("/metrics").body;
  EXPECT_NE(metrics.find("ikigai_push_sent_total "), std::string::npos);
  EXPECT_NE(metrics.find("ikigai_push_queue_depth "), std::string::npos);
  EXPECT_NE(metrics.find("ikigai_push_failed_total{class=\"5xx\"}"), std::string::npos);
}

// The other three kinds, each through its real producer: an announcement to one user, a task
// falling due (the reminder job runs every second), an admin's reply to feedback. Each push is its
// inbox item's exact JSON, with the urgency of its kind.
TEST_F(PushDeliveryTest, EveryOtherKindArrivesAsItsNotificationJson) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_kinds");
  auto boss = support::NewApiUser(http, "push_boss");
  Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + support::DirectDb::Quote(boss.id));
  boss.auth = support::BearerHeaders(support::LoginPair(http, boss.who).access_token);
  const std::string id = Subscribe(http, user);

  auto res = http.Post("/api/v1/admin/notifications",
                       json{{"title", "Push kinds"}, {"body", "To one user"}, {"user_ids", {user.id}}}.dump(), boss.auth);
  ASSERT_EQ(res.status, 202) << res;
  // Due in 30 minutes: inside the default 60-minute lead, so the next job pass reminds.
  res = http.Post("/api/v1/tasks", json{{"title", "Push reminder"}, {"due_at", support::Rfc3339FromNow(30min)}}.dump(),
                  user.auth);
  ASSERT_EQ(res.status, 201) << res;
  res = http.Post("/api/v1/feedback", json{{"category", "idea"}, {"message", "Push me a reply"}}.dump(), user.auth);
  ASSERT_EQ(res.status, 201) << res;
  const std::string feedback_id = res.Json()["id"];
  res = http.Patch("/api/v1/admin/feedback/" + feedback_id, json{{"reply", "Thank you"}}.dump(), boss.auth);
  ASSERT_EQ(res.status, 200) << res;

  const json all = Sink().WaitForPushes(3, id);
  const auto mine = PushesFor(all, id);
  ASSERT_EQ(mine.size(), 3u) << all.dump(2);
  auto inbox = http.Get("/api/v1/notifications", "", user.auth);
  ASSERT_EQ(inbox.status, 200) << inbox;
  const json items = inbox.Json()["items"];  // a copy: the range of a for must outlive the loop
  std::map<std::string, json> by_kind;
  for (const auto& item : items) by_kind[item["kind"].get<std::string>()] = item;
  std::set<std::string> seen;
  for (const auto& push : mine) {
    EXPECT_TRUE(push["vapid_ok"].get<bool>()) << push["vapid_error"];
    ASSERT_TRUE(push["plaintext"].is_string()) << push["decrypt_error"];
    const json sent = json::parse(push["plaintext"].get<std::string>());
    const std::string kind = sent["kind"];
    seen.insert(kind);
    ASSERT_EQ(by_kind.count(kind), 1u) << kind << " is not in the inbox: " << inbox.body;
    EXPECT_EQ(sent, by_kind[kind]);
    EXPECT_EQ(push["headers"]["urgency"], kind == "task_due" ? "high" : "normal") << kind;
    EXPECT_EQ(push["headers"]["ttl"], "86400");
    EXPECT_EQ(push["headers"]["content-encoding"], "aes128gcm");
  }
  EXPECT_EQ(seen, (std::set<std::string>{"announcement", "task_due", "feedback_reply"}));
}

TEST_F(PushDeliveryTest, PushKindFalseSendsNothing) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_off");
  const std::string id = Subscribe(http, user);
  auto res = http.Patch("/api/v1/me/notification-preferences", json{{"push", {{"security", false}}}}.dump(), user.auth);
  ASSERT_EQ(res.status, 200) << res;
  NewSignIn(http, user, "off-1");
  // Nothing was queued in the sign-in's transaction (the inbox row was written).
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM push_outbox o JOIN push_subscriptions s ON s.id = o.subscription_id "
                        "WHERE s.user_id = " + support::DirectDb::Quote(user.id)),
            "0");
  ASSERT_EQ(http.Get("/api/v1/notifications?kind=security", "", user.auth).Json()["items"].size(), 1u);
  // Switched on again, the next one arrives, and it is the only one this browser ever got.
  res = http.Patch("/api/v1/me/notification-preferences", json{{"push", {{"security", true}}}}.dump(), user.auth);
  ASSERT_EQ(res.status, 200) << res;
  NewSignIn(http, user, "off-2");
  const json all = Sink().WaitForPushes(1, id);
  EXPECT_EQ(PushesFor(all, id).size(), 1u);
}

TEST_F(PushDeliveryTest, A410DeletesTheSubscription) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_gone");
  const std::string id = Subscribe(http, user);
  Sink().Answer(id, {410});
  NewSignIn(http, user, "gone");
  (void)Sink().WaitForPushes(1, id, 410);
  EXPECT_TRUE(support::WaitUntil([&] { return http.Get(kSubscriptions, "", user.auth).Json()["items"].empty(); }, 5s));
  EXPECT_TRUE(support::WaitUntil([&] {
    return http.Get("/metrics").body.find("ikigai_push_subscriptions_removed_total 0") == std::string::npos;
  }, 5s));
}

TEST_F(PushDeliveryTest, A429WithRetryAfterAndA500AreRetriedThenDeliveredOnce) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_retry");
  const std::string id = Subscribe(http, user);
  Sink().Answer(id, {429, 500}, 1);
  NewSignIn(http, user, "retry");
  json all = Sink().WaitForPushes(1, id, 201, 30s);
  auto mine = PushesFor(all, id);
  ASSERT_EQ(mine.size(), 3u) << all.dump(2);
  EXPECT_EQ(mine[0]["answered"], 429);
  EXPECT_EQ(mine[1]["answered"], 500);
  EXPECT_EQ(mine[2]["answered"], 201);
  // Retry-After: 1 was honoured (not retried at once), and each attempt was a fresh encryption of
  // the same notification.
  EXPECT_GE(mine[1]["at"].get<double>() - mine[0]["at"].get<double>(), 0.9);
  for (const auto& p : mine) EXPECT_EQ(p["plaintext"], mine[0]["plaintext"]);
  std::this_thread::sleep_for(1500ms);  // nothing more comes
  EXPECT_EQ(PushesFor(Sink().Pushes(), id).size(), 3u);
}

TEST(PushRestartTest, AServerKilledWithAQueuedPushSendsItAfterRestart) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto env = PushEnv();
  // The development key lives in the data folder: the restarted server signs with the same one.
  auto server = std::make_unique<support::Server>(support::StartAccountServer(dir, url, env));
  Http http(*server);
  Sink().SetVapidKey(http.Get("/api/v1/push/public-key").Json()["public_key"]);
  auto user = support::NewApiUser(http, "push_kill");
  const std::string id = Subscribe(http, user);
  // The first attempt is told to come back in 3 s; the server dies before that.
  Sink().Answer(id, {429}, 3);
  NewSignIn(http, user, "kill");
  (void)Sink().WaitForPushes(1, id, 429);
  // The sink records a push before it answers: wait until the server has committed the 429's
  // reschedule (its counter moves after the commit). Killed before that, the row would still be
  // leased to the dead server and wait out the lease (minutes), a different case.
  ASSERT_TRUE(support::WaitUntil(
      [&] {
        return support::MetricSum(http.Get("/metrics").body, "ikigai_push_failed_total", {R"(class="4xx")"})
                   .value_or(0) >= 1;
      },
      10s))
      << "the 429 was never recorded";
  EXPECT_EQ(server->Kill9(), 137);
  server.reset();
  EXPECT_EQ(PushesFor(Sink().Pushes(), id).size(), 1u);
  auto again = support::StartAccountServer(dir, url, env);
  const json all = Sink().WaitForPushes(1, id, 201, 30s);
  const auto mine = PushesFor(all, id);
  ASSERT_EQ(mine.size(), 2u) << all.dump(2);
  EXPECT_EQ(mine[1]["answered"], 201);
  EXPECT_TRUE(mine[1]["vapid_ok"].get<bool>());
}

TEST(PushTwoInstancesTest, EachPushIsDeliveredExactlyOnce) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto env = PushEnv();
  // One key for both instances (they share the data folder's key file only if started in turn).
  env["IKIGAI_VAPID_PRIVATE_KEY"] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
  auto a = support::StartAccountServer(dir, url, env);
  auto b = support::StartAccountServer(dir, url, env);
  Http ha(a);
  Http hb(b);
  Sink().SetVapidKey(ha.Get("/api/v1/push/public-key").Json()["public_key"]);
  constexpr int kUsers = 12;
  std::vector<support::ApiUser> users;
  std::vector<std::string> ids;
  for (int i = 0; i < kUsers; ++i) {
    users.push_back(support::NewApiUser(i % 2 == 0 ? ha : hb, "push_two"));
    // Two browsers each: 24 pushes per round.
    ids.push_back(Subscribe(ha, users.back()));
    ids.push_back(Subscribe(hb, users.back()));
  }
  // Both instances produce, so both senders are woken and race for the same rows.
  constexpr int kRounds = 2;
  std::vector<std::thread> threads;
  for (int i = 0; i < kUsers; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < kRounds; ++r) NewSignIn((i + r) % 2 == 0 ? ha : hb, users[i], support::Numbered("two-", r));
    });
  }
  for (auto& t : threads) t.join();
  const std::size_t expected = static_cast<std::size_t>(kUsers) * 2 * kRounds;
  json all = Sink().WaitForPushes(expected, "", 201, 30s);
  std::this_thread::sleep_for(2s);  // time for a duplicate, were there one
  all = Sink().Pushes();
  std::map<std::pair<std::string, std::string>, int> per_message;
  std::size_t count = 0;
  const std::set<std::string> mine(ids.begin(), ids.end());
  for (const auto& p : all) {
    if (!mine.contains(p["subscription"].get<std::string>())) continue;
    ++count;
    ++per_message[{p["subscription"], p["headers"]["topic"]}];
    EXPECT_TRUE(p["vapid_ok"].get<bool>());
  }
  EXPECT_EQ(count, expected);
  EXPECT_EQ(per_message.size(), expected);
  for (const auto& [key, n] : per_message) EXPECT_EQ(n, 1) << key.first << " " << key.second;
}

}  // namespace
}  // namespace ikigai
