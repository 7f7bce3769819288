// API.md's browser sessions: `X-Ikigai-Refresh: cookie` puts the refresh token in an HttpOnly
// `__Host-` cookie instead of the body, /auth/refresh reads that cookie only with the header (the
// CSRF defence), logout clears it; CORS answers allowed origins with credentials, and in
// development http://localhost:* and http://127.0.0.1:* are allowed without configuration.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mail_suite.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::BearerHeaders;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::kCookieMode;
using support::RefreshCookieOf;
using support::Response;

constexpr const char* kConfigured = "https://app.example.com";
constexpr const char* kRefresh = "/api/v1/auth/refresh";

// The refresh lifetime the suite's server runs with (IKIGAI_REFRESH_TTL), and so the Max-Age.
constexpr const char* kRefreshTtl = "3600";

class BrowserSessionTest : public support::AccountSuite<BrowserSessionTest> {
 public:
  static std::map<std::string, std::string> ServerEnv() {
    return {{"IKIGAI_CORS_ORIGINS", kConfigured}, {"IKIGAI_REFRESH_TTL", kRefreshTtl}};
  }

 protected:
  static Headers With(Headers a, const Headers& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  static Headers CookieHeader(const std::string& value) {
    return {{"Cookie", "theme=dark; " + std::string(support::kRefreshCookie) + "=" + value + "; lang=en"}};
  }
  // A 200 token pair of cookie mode: no refresh_token in the body, the cookie with API.md's
  // attributes; its value.
  static std::string ExpectCookiePair(const Response& res) {
    EXPECT_EQ(res.status, 200) << res;
    const json body = res.Json();
    EXPECT_TRUE(body.contains("access_token")) << res;
    EXPECT_FALSE(body.contains("refresh_token")) << "the refresh token must not be readable by scripts: " << res;
    auto cookie = RefreshCookieOf(res);
    if (!cookie) {
      ADD_FAILURE() << "no refresh cookie: " << res;
      return {};
    }
    EXPECT_TRUE(support::IsWellFormedToken(cookie->value)) << cookie->value;
    const auto& a = cookie->attributes;
    EXPECT_TRUE(a.contains("httponly")) << res;
    EXPECT_TRUE(a.contains("secure")) << res;
    EXPECT_EQ(a.count("samesite") ? a.at("samesite") : "", "Strict") << res;
    EXPECT_EQ(a.count("path") ? a.at("path") : "", "/") << res;
    EXPECT_EQ(a.count("max-age") ? a.at("max-age") : "", kRefreshTtl) << res;
    EXPECT_FALSE(a.contains("domain")) << "a __Host- cookie has no Domain: " << res;
    return cookie->value;
  }
  static void ExpectCleared(const Response& res) {
    auto cookie = RefreshCookieOf(res);
    ASSERT_TRUE(cookie) << "the refresh cookie is not cleared: " << res;
    EXPECT_EQ(cookie->value, "") << res;
    EXPECT_EQ(cookie->attributes.count("max-age") ? cookie->attributes.at("max-age") : "", "0") << res;
    EXPECT_EQ(cookie->attributes.count("path") ? cookie->attributes.at("path") : "", "/") << res;
    EXPECT_TRUE(cookie->attributes.contains("secure")) << res;
  }
};

TEST_F(BrowserSessionTest, LoginInCookieModeSetsTheCookieAndKeepsTheTokenOutOfTheBody) {
  Http http(Server());
  auto who = support::NewCredentials("bs_login");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto res = support::Login(http, "username", who.username, who.password, kCookieMode);
  const std::string cookie = ExpectCookiePair(res);
  EXPECT_EQ(support::GetMe(http, res.Json()["access_token"].get<std::string>()).status, 200);
  // The header value is case-insensitive; the compatibility /login behaves as its twin.
  auto compat = support::Login(http, "username", who.username, who.password, {{"X-Ikigai-Refresh", " Cookie "}}, "/login");
  ExpectCookiePair(compat);
  EXPECT_TRUE(compat.Json().contains("token")) << compat;
  // Without the header nothing changes: the token in the body, no cookie.
  auto plain = support::Login(http, "username", who.username, who.password);
  EXPECT_TRUE(plain.Json().contains("refresh_token")) << plain;
  EXPECT_FALSE(plain.HasHeader("set-cookie")) << plain;
}

TEST_F(BrowserSessionTest, RefreshReadsTheCookieOnlyWithTheHeader) {
  Http http(Server());
  auto who = support::NewCredentials("bs_refresh");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  const std::string first = ExpectCookiePair(support::Login(http, "username", who.username, who.password, kCookieMode));
  ASSERT_FALSE(first.empty());

  // The cookie alone (what a cross-site form or fetch without the custom header carries) is not
  // read: the body's refresh_token is then required.
  auto forged = http.Post(kRefresh, "", CookieHeader(first));
  ASSERT_TRUE(IsProblem(forged, 422, "validation_failed")) << forged;
  EXPECT_EQ(forged.Json()["error_codes"]["refresh_token"], "required") << forged;

  auto renewed = http.Post(kRefresh, "", With(kCookieMode, CookieHeader(first)));
  const std::string second = ExpectCookiePair(renewed);
  EXPECT_NE(second, first) << "the refresh token rotates";
  EXPECT_EQ(support::GetMe(http, renewed.Json()["access_token"].get<std::string>()).status, 200);
  // An empty JSON body is the same as none.
  ExpectCookiePair(http.Post(kRefresh, "{}", With(kCookieMode, CookieHeader(second))));

  // A body token in cookie mode is used, and its successor goes to the cookie.
  auto body_pair = support::LoginPair(http, who);
  ExpectCookiePair(http.Post(kRefresh, json{{"refresh_token", body_pair.refresh_token}}.dump(), kCookieMode));
}

TEST_F(BrowserSessionTest, RefusedOrMissingCookieIs401AndClearsIt) {
  Http http(Server());
  auto none = http.Post(kRefresh, "", kCookieMode);
  EXPECT_TRUE(support::IsUnauthorized(none)) << none;
  ExpectCleared(none);
  auto unknown = http.Post(kRefresh, "", With(kCookieMode, CookieHeader(std::string(43, 'A'))));
  EXPECT_TRUE(support::IsUnauthorized(unknown)) << unknown;
  ExpectCleared(unknown);
  // In body mode a 401 says nothing about cookies.
  auto body_mode = support::Refresh(http, std::string(43, 'A'));
  EXPECT_TRUE(support::IsUnauthorized(body_mode)) << body_mode;
  EXPECT_FALSE(body_mode.HasHeader("set-cookie")) << body_mode;
}

TEST_F(BrowserSessionTest, LogoutAndLogoutAllClearTheCookie) {
  Http http(Server());
  auto who = support::NewCredentials("bs_logout");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  for (const char* path : {"/api/v1/auth/logout", "/api/v1/auth/logout-all"}) {
    auto login = support::Login(http, "username", who.username, who.password, kCookieMode);
    const std::string cookie = ExpectCookiePair(login);
    const std::string access = login.Json()["access_token"].get<std::string>();
    auto out = http.Post(path, "", With(BearerHeaders(access), CookieHeader(cookie)));
    EXPECT_EQ(out.status, 204) << path << ": " << out;
    ExpectCleared(out);
    // The session is over: its cookie no longer refreshes.
    auto after = http.Post(kRefresh, "", With(kCookieMode, CookieHeader(cookie)));
    EXPECT_TRUE(support::IsUnauthorized(after)) << path << ": " << after;
  }
}

TEST_F(BrowserSessionTest, PreflightFromALocalOriginAllowsTheModeHeaderWithCredentials) {
  Http http(Server());
  for (const char* origin : {"http://localhost:5173", "http://127.0.0.1:3000", kConfigured}) {
    auto res = http.Options(kRefresh, "",
                            {{"Origin", origin},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "content-type,x-ikigai-refresh"}});
    EXPECT_EQ(res.status, 204) << origin << ": " << res;
    EXPECT_EQ(res.Header("access-control-allow-origin"), origin) << res;
    EXPECT_EQ(res.Header("access-control-allow-credentials"), "true") << res;
    EXPECT_TRUE(support::HeaderListContains(res.Header("access-control-allow-headers"), "X-Ikigai-Refresh")) << res;
    EXPECT_TRUE(support::HeaderListContains(res.Header("access-control-allow-methods"), "POST")) << res;
  }
}

TEST_F(BrowserSessionTest, CredentialedCorsOnlyForAllowedOrigins) {
  Http http(Server());
  auto who = support::NewCredentials("bs_cors");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto allowed = support::Login(http, "username", who.username, who.password,
                                With(kCookieMode, {{"Origin", "http://localhost:8081"}}));
  ExpectCookiePair(allowed);
  EXPECT_EQ(allowed.Header("access-control-allow-origin"), "http://localhost:8081") << allowed;
  EXPECT_EQ(allowed.Header("access-control-allow-credentials"), "true") << allowed;
  EXPECT_TRUE(support::HeaderListContains(allowed.Header("vary"), "Origin")) << allowed;
  for (const char* other : {"https://evil.example.com", "http://localhost.evil.example.com", "https://localhost:5173", "null"}) {
    auto res = http.Get("/healthz", "", {{"Origin", other}});
    EXPECT_EQ(res.status, 200) << res;
    EXPECT_FALSE(res.HasHeader("access-control-allow-origin")) << other << ": " << res;
    EXPECT_FALSE(res.HasHeader("access-control-allow-credentials")) << other << ": " << res;
  }
}

// Production: only IKIGAI_CORS_ORIGINS, never a local origin.
TEST(BrowserSessionProductionTest, OnlyConfiguredOriginsInProduction) {
  support::TempDir dir;
  auto server = support::StartAccountServer(
      dir, support::FreshDatabaseUrl(dir),
      {{"IKIGAI_ENV", "production"},
       {"IKIGAI_CORS_ORIGINS", kConfigured},
       {"IKIGAI_SMTP_URL", "smtp://127.0.0.1:1"},
       {"IKIGAI_PUBLIC_URL", "https://app.example.com"},
       {"IKIGAI_VAPID_PRIVATE_KEY", "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"}});
  Http http(server);
  auto local = http.Get("/healthz", "", {{"Origin", "http://localhost:5173"}});
  EXPECT_EQ(local.status, 200) << local;
  EXPECT_FALSE(local.HasHeader("access-control-allow-origin")) << local;
  auto configured = http.Get("/healthz", "", {{"Origin", kConfigured}});
  EXPECT_EQ(configured.Header("access-control-allow-origin"), kConfigured) << configured;
  EXPECT_EQ(configured.Header("access-control-allow-credentials"), "true") << configured;
}

}  // namespace
}  // namespace ikigai
