// API.md "Authentication and sessions", rate limits: failed logins per account and per address,
// registrations per address, counted in the database (so every instance sees them), 429
// rate_limited with Retry-After, even for the right password, until the sliding window passes.
// Each test has its own database: the counts are per database and every request comes from
// 127.0.0.1.
#include <cctype>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/concurrency.hpp"
#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::Credentials;
using support::Http;
using support::IsProblem;
using support::IsRateLimited;
using support::IsUnauthorized;
using support::NewCredentials;

// Small limits keep the tests fast; the address limit stays out of the way.
constexpr const char* kSmallLimits =
    "login_account=3/15m,login_address=100/15m,register_address=5/1h";
constexpr long kFifteenMinutes = 15 * 60;

class RateLimitTest : public ::testing::Test {
 protected:
  // A server with the given IKIGAI_RATE_LIMITS (and more settings) on the test's database, which
  // is fresh for each test and shared by every server the test starts.
  support::Server Start(const std::string& limits,
                        std::map<std::string, std::string> settings = {}) {
    if (url_.empty()) url_ = support::FreshDatabaseUrl(dir_);
    settings["IKIGAI_RATE_LIMITS"] = limits;
    return support::StartAccountServer(dir_, url_, settings);
  }
  // A registered account (registration counts against register_address, not against logins).
  static Credentials Registered(const Http& http, std::string_view prefix) {
    auto who = NewCredentials(prefix);
    auto res = support::RegisterUser(http, who);
    EXPECT_EQ(res.status, 201) << res;
    return who;
  }
  support::TempDir dir_;
  std::string url_;
};

TEST_F(RateLimitTest, FailedLoginsOfAnAccountAreLimitedEvenForTheRightPassword) {
  auto server = Start(kSmallLimits);
  Http http(server);
  auto who = Registered(http, "rl_account");
  auto bystander = Registered(http, "rl_bystander");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-Pass-" +
                                                                                  std::to_string(i)),
                               "invalid_credentials"))
        << "failure " << i << " of 3 allowed";
  }
  auto right = support::Login(http, "username", who.username, who.password);
  EXPECT_TRUE(IsRateLimited(right, kFifteenMinutes)) << "the 4th attempt, right password";
  EXPECT_EQ(right.body.find("access_token"), std::string::npos);
  EXPECT_TRUE(IsRateLimited(support::Login(http, "username", who.username, "Wrong-Pass-4"),
                            kFifteenMinutes));
  // The same identifier under another field name and in other case.
  std::string upper = who.username;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(IsRateLimited(support::Login(http, "login", upper, who.password), kFifteenMinutes));
  // API.md's order: JSON syntax (400) before the rate limit (429) before validation (422).
  EXPECT_TRUE(IsProblem(http.Post("/api/v1/auth/login", R"({"username":)"), 400,
                        "malformed_json"));
  EXPECT_TRUE(IsRateLimited(
      http.Post("/api/v1/auth/login", json{{"username", who.username}}.dump()), kFifteenMinutes))
      << "a limited account without a password";
  // Another account from the same address is not affected.
  EXPECT_EQ(support::Login(http, "username", bystander.username, bystander.password).status, 200);
}

TEST_F(RateLimitTest, FailuresCountPerAccountWhicheverIdentifierIsUsed) {
  // "at most 10 failed logins per account": guessing through the email instead of the username
  // must not get a second allowance.
  auto server = Start(kSmallLimits);
  Http http(server);
  auto who = Registered(http, "rl_ident");
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-1"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "email", who.email, "Wrong-2"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "login", who.email, "Wrong-3"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsRateLimited(support::Login(http, "username", who.username, who.password),
                            kFifteenMinutes))
      << "three failures of one account (by username and by email) with a limit of 3";
  EXPECT_TRUE(IsRateLimited(support::Login(http, "email", who.email, who.password),
                            kFifteenMinutes));
}

TEST_F(RateLimitTest, UnknownIdentifierIsLimitedTheSameWay) {
  auto server = Start(kSmallLimits);
  Http http(server);
  const std::string ghost = NewCredentials("rl_ghost").username;
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", ghost, "Any-Password-1"),
                               "invalid_credentials"))
        << "failure " << i;
  }
  EXPECT_TRUE(IsRateLimited(support::Login(http, "username", ghost, "Any-Password-1"),
                            kFifteenMinutes));
  EXPECT_TRUE(IsRateLimited(support::Login(http, "email", ghost, "Any-Password-1"),
                            kFifteenMinutes));
}

TEST_F(RateLimitTest, TheCountIsSharedByInstancesOnOneDatabase) {
  auto a = Start(kSmallLimits);
  auto b = Start(kSmallLimits);
  Http on_a(a);
  Http on_b(b);
  auto who = Registered(on_a, "rl_shared");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(IsUnauthorized(support::Login(on_a, "email", who.email, "Wrong-Pass"),
                               "invalid_credentials"));
  }
  EXPECT_TRUE(IsRateLimited(support::Login(on_b, "email", who.email, who.password),
                            kFifteenMinutes))
      << "instance B did not see A's failures";
  EXPECT_TRUE(IsRateLimited(support::Login(on_a, "email", who.email, who.password),
                            kFifteenMinutes));
}

TEST_F(RateLimitTest, ASuccessDoesNotResetTheCount) {
  auto server = Start(kSmallLimits);
  Http http(server);
  auto who = Registered(http, "rl_success");
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-1"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-2"),
                             "invalid_credentials"));
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200)
      << "successes are not counted";
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-3"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsRateLimited(support::Login(http, "username", who.username, who.password),
                            kFifteenMinutes));
}

TEST_F(RateLimitTest, TheLimitEndsWhenTheWindowHasPassed) {
  auto server = Start("login_account=2/2s,login_address=100/15m,register_address=5/1h");
  Http http(server);
  auto who = Registered(http, "rl_window");
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong"),
                               "invalid_credentials"));
  }
  auto limited = support::Login(http, "username", who.username, who.password);
  ASSERT_TRUE(IsRateLimited(limited, 2));
  support::Response last;
  EXPECT_TRUE(support::WaitUntil(
      [&] {
        last = support::Login(http, "username", who.username, who.password);
        return last.status != 429;
      },
      10s, 100ms))
      << "still limited 10 s into a 2 s window";
  EXPECT_EQ(last.status, 200) << last;
}

TEST_F(RateLimitTest, FailedLoginsOfAnAddressAreLimited) {
  auto server = Start("login_account=100/15m,login_address=4/15m,register_address=5/1h");
  Http http(server);
  auto who = Registered(http, "rl_address");
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(IsUnauthorized(
        support::Login(http, "username", NewCredentials("rl_addr_ghost").username, "Wrong"),
        "invalid_credentials"));
  }
  // Every account is refused from this address now, even with the right password.
  EXPECT_TRUE(IsRateLimited(support::Login(http, "username", who.username, who.password),
                            kFifteenMinutes));
}

TEST_F(RateLimitTest, SpoofedForwardedForDoesNotEscapeTheAddressLimit) {
  // No trusted proxies (the default): X-Forwarded-For from the client is not believed.
  auto server = Start("login_account=100/15m,login_address=3/15m,register_address=5/1h");
  Http http(server);
  auto who = Registered(http, "rl_spoof");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_TRUE(IsUnauthorized(
        support::Login(http, "username", NewCredentials("rl_spoof_ghost").username, "Wrong",
                       {{"X-Forwarded-For", "203.0.113." + std::to_string(i)}}),
        "invalid_credentials"));
  }
  EXPECT_TRUE(IsRateLimited(support::Login(http, "username", who.username, who.password,
                                           {{"X-Forwarded-For", "203.0.113.99"}}),
                            kFifteenMinutes));
}

TEST_F(RateLimitTest, BehindATrustedProxyTheForwardedClientIsLimited) {
  auto server = Start("login_account=100/15m,login_address=2/15m,register_address=5/1h",
                      {{"IKIGAI_TRUSTED_PROXIES", "127.0.0.1/32"}});
  Http http(server);
  auto who = Registered(http, "rl_proxy");
  auto from = [](const std::string& xff) { return support::Headers{{"X-Forwarded-For", xff}}; };
  // The rightmost address that is not a trusted proxy is the client: 203.0.113.1 each time.
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", "rl_proxy_ghost1", "Wrong",
                                            from("198.51.100.9, 203.0.113.1")),
                             "invalid_credentials"));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", "rl_proxy_ghost2", "Wrong",
                                            from("203.0.113.1, 127.0.0.1")),
                             "invalid_credentials"));
  EXPECT_TRUE(IsRateLimited(
      support::Login(http, "username", who.username, who.password, from("203.0.113.1")),
      kFifteenMinutes));
  // Another client behind the same proxy is not limited, and its session records its address.
  auto other = support::Login(http, "username", who.username, who.password, from("203.0.113.2"));
  ASSERT_EQ(other.status, 200) << other;
  auto pair = support::ExpectTokenPair(other);
  auto sessions = http.Get("/api/v1/me/sessions", "", support::BearerHeaders(pair.access_token));
  ASSERT_EQ(sessions.status, 200) << sessions;
  bool found = false;
  const json body = sessions.Json();
  for (const auto& item : body["items"]) {
    if (item["id"] == pair.session_id) {
      found = true;
      EXPECT_EQ(item["ip"], "203.0.113.2") << item;
    }
  }
  EXPECT_TRUE(found) << sessions;
}

TEST_F(RateLimitTest, ConcurrentFailedLoginsNeverExceedTheLimit) {
  // "at most N failed logins per account": attempts racing each other must not each see a count
  // under the limit and all get a password check.
  constexpr int kAttempts = 16;
  auto server = Start(kSmallLimits, {{"IKIGAI_HASH_THREADS", "8"}});
  Http http(server);
  auto who = Registered(http, "rl_race");
  auto responses = support::AllAtOnce(kAttempts, [&](int i) {
    return support::Login(http, "username", who.username, "Wrong-" + std::to_string(i));
  });
  int checked = 0;
  int limited = 0;
  for (const auto& res : responses) {
    if (IsUnauthorized(res, "invalid_credentials")) {
      ++checked;
    } else if (IsRateLimited(res, kFifteenMinutes)) {
      ++limited;
    } else {
      ADD_FAILURE() << "neither 401 nor 429: " << res;
    }
  }
  EXPECT_LE(checked, 3) << checked << " of " << kAttempts
                        << " concurrent guesses had their password checked; the limit is 3";
  EXPECT_EQ(checked + limited, kAttempts);
}

TEST_F(RateLimitTest, ConcurrentRegistrationsNeverExceedTheLimit) {
  constexpr int kAttempts = 16;
  auto server = Start(kSmallLimits, {{"IKIGAI_HASH_THREADS", "8"}});
  Http http(server);
  std::vector<Credentials> whos;
  for (int i = 0; i < kAttempts; ++i) whos.push_back(NewCredentials("rl_reg_race"));
  auto responses = support::AllAtOnce(
      kAttempts, [&](int i) { return support::RegisterUser(http, whos[static_cast<std::size_t>(i)]); });
  int admitted = 0;
  for (const auto& res : responses) {
    if (res.status == 201) {
      ++admitted;
    } else if (!IsRateLimited(res, 3600)) {
      ADD_FAILURE() << "neither 201 nor 429: " << res;
    }
  }
  EXPECT_LE(admitted, 5) << admitted << " of " << kAttempts
                         << " concurrent registrations were admitted; the limit is 5 per hour";
}

TEST_F(RateLimitTest, RegistrationsOfAnAddressAreLimitedCountingEveryAttempt) {
  auto server = Start(kSmallLimits);
  Http http(server);
  auto first = NewCredentials("rl_reg1");
  ASSERT_EQ(support::RegisterUser(http, first).status, 201);                       // 1
  ASSERT_EQ(support::RegisterUser(http, NewCredentials("rl_reg2")).status, 201);   // 2
  auto weak = NewCredentials("rl_reg3");
  weak.password = "password1";
  ASSERT_EQ(support::RegisterUser(http, weak).status, 422);                         // 3
  auto duplicate = NewCredentials("rl_reg4");
  duplicate.username = first.username;
  ASSERT_EQ(support::RegisterUser(http, duplicate).status, 409);                    // 4
  ASSERT_EQ(http.Post("/api/v1/auth/register", R"({"username":"x"})").status, 422);  // 5
  auto sixth = NewCredentials("rl_reg6");
  auto res = support::RegisterUser(http, sixth);
  EXPECT_TRUE(IsRateLimited(res, 3600)) << "the 6th registration within the hour";
  // Nothing was created by the refused attempt.
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", sixth.username, sixth.password),
                             "invalid_credentials"));
  // The compatibility path shares the limit.
  EXPECT_TRUE(IsRateLimited(support::RegisterUser(http, NewCredentials("rl_reg7"), {}, "/register"),
                            3600));
  // Logins are another limit.
  EXPECT_EQ(support::Login(http, "username", first.username, first.password).status, 200);
}

TEST_F(RateLimitTest, DefaultLimits) {
  // No IKIGAI_RATE_LIMITS: 10 failed logins per account in 15 minutes, 20 registrations per
  // address in an hour.
  auto server = Start("");
  Http http(server);
  auto who = Registered(http, "rl_default");  // registration 1
  for (int i = 1; i <= 10; ++i) {
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username,
                                              "Wrong-Guess-" + std::to_string(i)),
                               "invalid_credentials"))
        << "failure " << i << " of 10 allowed";
  }
  auto eleventh = support::Login(http, "username", who.username, who.password);
  EXPECT_TRUE(IsRateLimited(eleventh, kFifteenMinutes)) << "the 11th attempt, right password";

  // Registrations 2..20 (invalid ones count too, and cost no hashing), then the 21st is refused.
  for (int i = 2; i <= 20; ++i) {
    auto res = http.Post("/api/v1/auth/register", json{{"username", "x"}}.dump());
    ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << "registration " << i;
  }
  EXPECT_TRUE(IsRateLimited(support::RegisterUser(http, NewCredentials("rl_default_21")), 3600));
}

}  // namespace
}  // namespace ikigai
