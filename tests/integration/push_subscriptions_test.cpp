// API.md "Web Push": the VAPID public key without authentication, and the caller's push
// subscriptions: register (201, the same endpoint again 200 with its keys replaced, moving to the
// caller when another user had it), list without keys, delete, every validation rule (the p256dh
// point must lie on P-256, not only be 65 bytes), at most 20 per user, activity events, and the
// rows going with the account.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/smtp_sink.hpp"
#include "support/task_api.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::Http;

constexpr const char* kSubscriptions = "/api/v1/me/push-subscriptions";
// A point on P-256 (RFC 8291's user agent key) and a 16-byte secret, base64url.
constexpr const char* kP256dh =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr const char* kAuth = "BTBZMqHH6r4Tts7J_aSIgg";

[[gnu::noinline]] std::string Endpoint(std::string_view name) {
  std::string e = "https://push.example.net/send/";
  e += name;
  return e;
}

json Subscription(const std::string& endpoint, const std::string& p256dh = kP256dh, const std::string& auth = kAuth) {
  return {{"endpoint", endpoint}, {"expirationTime", nullptr}, {"keys", {{"p256dh", p256dh}, {"auth", auth}}}};
}

class PushSubscriptionsTest : public support::TaskSuite<PushSubscriptionsTest> {
 protected:
  static support::Response Subscribe(const Http& http, const support::ApiUser& user, const json& body) {
    return http.Post(kSubscriptions, body.dump(), user.With({{"User-Agent", "Browser/1.0 (push test)"}}));
  }
  static json List(const Http& http, const support::ApiUser& user) {
    auto res = http.Get(kSubscriptions, "", user.auth);
    EXPECT_EQ(res.status, 200) << res;
    return res.status == 200 ? res.Json()["items"] : json::array();
  }
  static long long Count(const std::string& sql) { return std::stoll(Db().Scalar(sql).value_or("-1")); }
};

TEST_F(PushSubscriptionsTest, PublicKeyIsAnUncompressedP256PointForAnyone) {
  Http http(Server());
  auto res = http.Get("/api/v1/push/public-key");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_TRUE(support::IsJsonResponse(res));
  const std::string key = res.Json()["public_key"].get<std::string>();
  EXPECT_EQ(key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), std::string::npos)
      << key;
  const std::string raw = support::DecodeBase64(key);
  ASSERT_EQ(raw.size(), 65u) << key;
  EXPECT_EQ(raw[0], '\x04');
  // The same key on every call (and kept across restarts: see the config tests).
  EXPECT_EQ(http.Get("/api/v1/push/public-key").Json()["public_key"], key);
}

TEST_F(PushSubscriptionsTest, RegisterListReRegisterAndDelete) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_crud");
  auto res = Subscribe(http, user, Subscription(Endpoint("crud-1")));
  ASSERT_EQ(res.status, 201) << res;
  const json created = res.Json();
  EXPECT_EQ(created["endpoint"], Endpoint("crud-1"));
  EXPECT_EQ(created["user_agent"], "Browser/1.0 (push test)");
  EXPECT_TRUE(created["last_success_at"].is_null());
  EXPECT_FALSE(created.contains("keys"));
  EXPECT_FALSE(created.contains("p256dh"));
  const std::string id = created["id"];

  // The same endpoint again: 200, the same row, its keys replaced.
  const std::string new_auth = "AAAAAAAAAAAAAAAAAAAAAA";
  res = Subscribe(http, user, Subscription(Endpoint("crud-1"), kP256dh, new_auth));
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Json()["id"], id);
  EXPECT_EQ(Db().Scalar("SELECT auth FROM push_subscriptions WHERE id = " + support::DirectDb::Quote(id)), new_auth);

  auto items = List(http, user);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0], (json{{"id", id}, {"endpoint", Endpoint("crud-1")}, {"user_agent", "Browser/1.0 (push test)"},
                            {"created_at", created["created_at"]}, {"last_success_at", nullptr}}));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM activity WHERE action = 'push.subscribed' AND target_id = " +
                  support::DirectDb::Quote(id)),
            2);

  // Someone else cannot see or delete it.
  auto other = support::NewApiUser(http, "push_other");
  EXPECT_TRUE(List(http, other).empty());
  EXPECT_TRUE(support::IsProblem(http.Delete(std::string(kSubscriptions) + "/" + id, "", other.auth), 404,
                                 "not_found"));
  EXPECT_TRUE(support::IsProblem(http.Delete(std::string(kSubscriptions) + "/not-an-id", "", user.auth), 404,
                                 "not_found"));
  res = http.Delete(std::string(kSubscriptions) + "/" + id, "", user.auth);
  EXPECT_EQ(res.status, 204) << res;
  EXPECT_TRUE(List(http, user).empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM activity WHERE action = 'push.unsubscribed' AND target_id = " +
                  support::DirectDb::Quote(id)),
            1);
  EXPECT_TRUE(support::IsProblem(http.Delete(std::string(kSubscriptions) + "/" + id, "", user.auth), 404,
                                 "not_found"));
  EXPECT_TRUE(support::IsUnauthorized(http.Get(kSubscriptions)));
  EXPECT_TRUE(support::IsUnauthorized(http.Post(kSubscriptions, Subscription(Endpoint("x")).dump(),
                                                {{"Content-Type", "application/json"}})));
}

TEST_F(PushSubscriptionsTest, EveryValidationRuleIs422AndChangesNothing) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_rules");
  std::string off_curve = support::DecodeBase64(kP256dh);
  off_curve.back() = static_cast<char>(off_curve.back() ^ 1);
  // base64url of the changed point (the last 2 bits of the final character carry no data, so
  // change a character inside instead: flip the low bit of y's last byte and re-encode).
  auto b64url = [](const std::string& raw) {
    static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < raw.size(); i += 3) {
      const unsigned v = (static_cast<unsigned char>(raw[i]) << 16) | (static_cast<unsigned char>(raw[i + 1]) << 8) |
                         static_cast<unsigned char>(raw[i + 2]);
      for (int s = 18; s >= 0; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
    }
    if (raw.size() - i == 2) {
      const unsigned v = (static_cast<unsigned char>(raw[i]) << 16) | (static_cast<unsigned char>(raw[i + 1]) << 8);
      for (int s = 18; s >= 6; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
    } else if (raw.size() - i == 1) {
      const unsigned v = static_cast<unsigned char>(raw[i]) << 16;
      for (int s = 18; s >= 12; s -= 6) out.push_back(alphabet[(v >> s) & 63]);
    }
    return out;
  };
  ASSERT_EQ(b64url(support::DecodeBase64(kP256dh)), kP256dh);
  const std::string long_endpoint = Endpoint(std::string(2049 - Endpoint("").size(), 'a'));
  ASSERT_EQ(long_endpoint.size(), 2049u);
  const std::string max_endpoint = long_endpoint.substr(0, 2048);

  struct Case {
    const char* name;
    json body;
    const char* field;
  };
  const std::vector<Case> cases = {
      {"http endpoint", Subscription("http://push.example.net/x"), "endpoint"},
      {"not a URL", Subscription("push.example.net/x"), "endpoint"},
      {"ftp", Subscription("ftp://push.example.net/x"), "endpoint"},
      {"space", Subscription("https://push.example.net/a b"), "endpoint"},
      {"non-ASCII", Subscription("https://push.example.net/\xc3\xa9"), "endpoint"},
      {"2049 bytes", Subscription(long_endpoint), "endpoint"},
      {"empty endpoint", Subscription(""), "endpoint"},
      {"endpoint a number", json{{"endpoint", 5}, {"keys", {{"p256dh", kP256dh}, {"auth", kAuth}}}}, "endpoint"},
      {"no endpoint", json{{"keys", {{"p256dh", kP256dh}, {"auth", kAuth}}}}, "endpoint"},
      {"off-curve p256dh", Subscription(Endpoint("r"), b64url(off_curve)), "keys.p256dh"},
      {"short p256dh", Subscription(Endpoint("r"), b64url(support::DecodeBase64(kP256dh).substr(0, 64))),
       "keys.p256dh"},
      {"compressed p256dh", Subscription(Endpoint("r"), b64url(std::string(1, '\x02') +
                                                               support::DecodeBase64(kP256dh).substr(1, 32))),
       "keys.p256dh"},
      {"standard base64 p256dh", Subscription(Endpoint("r"), "+/" + std::string(kP256dh).substr(2)), "keys.p256dh"},
      {"15-byte auth", Subscription(Endpoint("r"), kP256dh, b64url(std::string(15, 'a'))), "keys.auth"},
      {"17-byte auth", Subscription(Endpoint("r"), kP256dh, b64url(std::string(17, 'a'))), "keys.auth"},
      {"no keys", json{{"endpoint", Endpoint("r")}}, "keys"},
      {"keys not an object", json{{"endpoint", Endpoint("r")}, {"keys", "x"}}, "keys"},
      {"no auth", json{{"endpoint", Endpoint("r")}, {"keys", {{"p256dh", kP256dh}}}}, "keys.auth"},
      {"unknown key member", json{{"endpoint", Endpoint("r")}, {"keys", {{"p256dh", kP256dh}, {"auth", kAuth},
                                                                         {"extra", 1}}}},
       "keys.extra"},
      {"unknown member", json{{"endpoint", Endpoint("r")}, {"keys", {{"p256dh", kP256dh}, {"auth", kAuth}}},
                              {"user_id", user.id}},
       "user_id"},
      {"expirationTime a string", json{{"endpoint", Endpoint("r")}, {"expirationTime", "soon"},
                                       {"keys", {{"p256dh", kP256dh}, {"auth", kAuth}}}},
       "expirationTime"},
  };
  for (const auto& c : cases) {
    auto res = Subscribe(http, user, c.body);
    EXPECT_TRUE(support::IsFieldError(res, c.field)) << c.name << ": " << res;
  }
  EXPECT_TRUE(List(http, user).empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = " + support::DirectDb::Quote(user.id)), 0);
  // The boundaries themselves are fine: 2048 bytes, padded base64url, a numeric expirationTime.
  json padded = Subscription(max_endpoint, std::string(kP256dh) + "=", std::string(kAuth) + "==");
  padded["expirationTime"] = 1893456000000.5;
  auto res = Subscribe(http, user, padded);
  EXPECT_EQ(res.status, 201) << res;
  EXPECT_EQ(Db().Scalar("SELECT p256dh FROM push_subscriptions WHERE user_id = " + support::DirectDb::Quote(user.id)),
            kP256dh);
  // Syntax before validation; the media type before both.
  EXPECT_TRUE(support::IsProblem(http.Post(kSubscriptions, "{", user.With({{"Content-Type", "application/json"}})),
                                 400, "malformed_json"));
  EXPECT_EQ(http.Post(kSubscriptions, Subscription(Endpoint("t")).dump(), user.With({{"Content-Type", "text/plain"}}))
                .status,
            415);
}

TEST_F(PushSubscriptionsTest, TheTwentyFirstReplacesTheLeastRecentlyRegistered) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_limit");
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) {
    auto res = Subscribe(http, user, Subscription(Endpoint(support::Numbered("limit-", i))));
    ASSERT_EQ(res.status, 201) << res;
    ids.push_back(res.Json()["id"]);
  }
  // Re-registering the first makes the second the least recently registered.
  ASSERT_EQ(Subscribe(http, user, Subscription(Endpoint("limit-0"))).status, 200);
  auto res = Subscribe(http, user, Subscription(Endpoint("limit-20")));
  ASSERT_EQ(res.status, 201) << res;
  auto page = http.Get(std::string(kSubscriptions) + "?limit=100", "", user.auth).Json();
  ASSERT_EQ(page["items"].size(), 20u);
  std::set<std::string> endpoints;
  for (const auto& item : page["items"]) endpoints.insert(item["endpoint"].get<std::string>());
  EXPECT_TRUE(endpoints.contains(Endpoint("limit-0")));
  EXPECT_FALSE(endpoints.contains(Endpoint("limit-1")));
  EXPECT_TRUE(endpoints.contains(Endpoint("limit-20")));
  // Pages: 7 + 7 + 6, newest first, no repeats.
  std::set<std::string> seen;
  std::string next = std::string(kSubscriptions) + "?limit=7";
  int pages = 0;
  while (!next.empty()) {
    auto p = http.Get(next, "", user.auth);
    ASSERT_EQ(p.status, 200) << p;
    const json body = p.Json();
    for (const auto& item : body["items"]) EXPECT_TRUE(seen.insert(item["id"].get<std::string>()).second);
    ++pages;
    next = body["next_cursor"].is_null()
               ? ""
               : std::string(kSubscriptions) + "?limit=7&cursor=" + support::UrlEncode(body["next_cursor"].get<std::string>());
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(http.Get(std::string(kSubscriptions) + "?limit=0", "", user.auth).status, 400);
  EXPECT_EQ(http.Get(std::string(kSubscriptions) + "?cursor=forged", "", user.auth).status, 400);
}

TEST_F(PushSubscriptionsTest, AnEndpointRegisteredByAnotherUserMovesToTheCaller) {
  Http http(Server());
  auto first = support::NewApiUser(http, "push_first");
  auto second = support::NewApiUser(http, "push_second");
  auto res = Subscribe(http, first, Subscription(Endpoint("shared-browser")));
  ASSERT_EQ(res.status, 201) << res;
  res = Subscribe(http, second, Subscription(Endpoint("shared-browser")));
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_TRUE(List(http, first).empty());
  ASSERT_EQ(List(http, second).size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM push_subscriptions WHERE endpoint = " +
                  support::DirectDb::Quote(Endpoint("shared-browser"))),
            1);
}

TEST_F(PushSubscriptionsTest, TheExportHasEndpointsAndDatesButNoKeys) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_export");
  ASSERT_EQ(Subscribe(http, user, Subscription(Endpoint("export-1"))).status, 201);
  auto res = http.Get("/api/v1/me/export", "", user.auth);
  ASSERT_EQ(res.status, 200) << res;
  const json subs = res.Json()["push_subscriptions"];
  ASSERT_EQ(subs.size(), 1u);
  EXPECT_EQ(subs[0]["endpoint"], Endpoint("export-1"));
  EXPECT_TRUE(subs[0]["created_at"].is_string());
  EXPECT_TRUE(subs[0]["last_success_at"].is_null());
  EXPECT_EQ(subs[0].size(), 3u) << subs[0];
  EXPECT_EQ(res.body.find(kAuth), std::string::npos);
  EXPECT_EQ(res.body.find(std::string(kP256dh).substr(0, 40)), std::string::npos);
}

TEST_F(PushSubscriptionsTest, DeletingTheAccountDeletesItsSubscriptions) {
  Http http(Server());
  auto user = support::NewApiUser(http, "push_gone");
  ASSERT_EQ(Subscribe(http, user, Subscription(Endpoint("gone-1"))).status, 201);
  ASSERT_EQ(Subscribe(http, user, Subscription(Endpoint("gone-2"))).status, 201);
  auto res = http.Delete("/api/v1/me", json{{"password", user.who.password}}.dump(), user.auth);
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = " + support::DirectDb::Quote(user.id)), 0);
}

}  // namespace
}  // namespace ikigai
