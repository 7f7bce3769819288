// API.md "Authentication and sessions": access token verification (forgeries, expiry, secret
// rotation), refresh rotation with its grace window and reuse detection, logout, logout-all and
// the session list, on one instance and across two instances sharing a database.
#include <cctype>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/concurrency.hpp"
#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/jwt.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::NewCredentials;
using support::Response;

constexpr const char* kLogout = "/api/v1/auth/logout";
constexpr const char* kLogoutAll = "/api/v1/auth/logout-all";
constexpr const char* kSessions = "/api/v1/me/sessions";

long long NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------------------------
// Access tokens

class AccessTokenTest : public support::AccountSuite<AccessTokenTest> {
 protected:
  // A logged-in user and its token's decoded parts.
  struct Signed {
    support::TokenPair pair;
    support::DecodedJwt jwt;
  };
  static Signed SignIn(std::string_view prefix) {
    Http http(Server());
    Signed out{support::RegisterAndLogin(http, NewCredentials(prefix)), {}};
    auto jwt = support::DecodeJwt(out.pair.access_token);
    if (!jwt) throw std::runtime_error("not a JWT: " + out.pair.access_token);
    out.jwt = *jwt;
    return out;
  }
  static json Hs256Header() { return {{"alg", "HS256"}, {"typ", "JWT"}}; }
  // The signed-in token re-signed with the server's secret, expired 100 s ago.
  static std::string ExpiredToken(const Signed& s) {
    auto expired = s.jwt.payload;
    expired["iat"] = NowSeconds() - 1000;
    expired["exp"] = NowSeconds() - 100;
    return support::SignJwt(Hs256Header(), expired, support::kTestJwtSecret);
  }
};

TEST_F(AccessTokenTest, TokenSignedWithTheServersSecretIsAccepted) {
  // The control for every forgery below: our signing is right, so their 401s mean something.
  auto s = SignIn("tok_control");
  Http http(Server());
  auto token = support::SignJwt(Hs256Header(), s.jwt.payload, support::kTestJwtSecret);
  auto res = support::GetMe(http, token);
  ASSERT_EQ(res.status, 200) << "a token signed by the test with the server's secret: " << res;
  EXPECT_EQ(res.Json()["id"], s.pair.user_id);
  // A later expiry, still signed right, is accepted as well.
  auto payload = s.jwt.payload;
  payload["exp"] = NowSeconds() + 600;
  payload["jti"] = "test-jti-1";
  EXPECT_EQ(support::GetMe(http, support::SignJwt(Hs256Header(), payload,
                                                  support::kTestJwtSecret))
                .status,
            200);
}

TEST_F(AccessTokenTest, ChangedPayloadWithTheOriginalSignatureIs401) {
  auto s = SignIn("tok_payload");
  Http http(Server());
  auto payload = s.jwt.payload;
  payload["role"] = "admin";
  const std::string forged = s.jwt.header_segment + "." + support::Base64UrlEncode(payload.dump()) +
                             "." + s.jwt.signature_segment;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, forged)));
  auto later = s.jwt.payload;
  later["exp"] = later["exp"].get<long long>() + 86400;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, s.jwt.header_segment + "." + support::Base64UrlEncode(later.dump()) + "." +
                s.jwt.signature_segment)));
  // The untouched token still works.
  EXPECT_EQ(support::GetMe(http, s.pair.access_token).status, 200);
}

TEST_F(AccessTokenTest, AlgNoneIs401) {
  auto s = SignIn("tok_none");
  Http http(Server());
  for (const char* alg : {"none", "None", "NONE"}) {
    json header = {{"alg", alg}, {"typ", "JWT"}};
    auto unsigned_token = support::SignJwt(header, s.jwt.payload, "");
    ASSERT_EQ(unsigned_token.back(), '.');
    EXPECT_TRUE(IsUnauthorized(support::GetMe(http, unsigned_token))) << unsigned_token;
    // The same with the original signature left on.
    EXPECT_TRUE(IsUnauthorized(support::GetMe(http, unsigned_token + s.jwt.signature_segment)))
        << alg;
  }
}

TEST_F(AccessTokenTest, Hs512WithTheRightSecretIs401) {
  auto s = SignIn("tok_hs512");
  Http http(Server());
  json header = {{"alg", "HS512"}, {"typ", "JWT"}};
  EXPECT_TRUE(IsUnauthorized(
      support::GetMe(http, support::SignJwt(header, s.jwt.payload, support::kTestJwtSecret))));
  // An HS384 header over an HS256 signature is not accepted either.
  json hs384 = {{"alg", "HS384"}, {"typ", "JWT"}};
  const std::string input = support::Base64UrlEncode(hs384.dump()) + "." + s.jwt.payload_segment;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, input + "." +
                support::Base64UrlEncode(support::HmacSha256(support::kTestJwtSecret, input)))));
}

TEST_F(AccessTokenTest, OtherSecretIs401) {
  auto s = SignIn("tok_secret");
  Http http(Server());
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), s.jwt.payload,
                             "another-secret-of-enough-length-0123456789abcdef"))));
  // A prefix of the right secret is another secret too.
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), s.jwt.payload,
                             support::kTestJwtSecret.substr(0, 32)))));
}

TEST_F(AccessTokenTest, WrongIssuerOrAudienceIs401) {
  auto s = SignIn("tok_iss");
  Http http(Server());
  for (const char* claim : {"iss", "aud"}) {
    for (const json& value : {json("evil"), json(""), json("IKIGAI"), json::array({"ikigai"})}) {
      auto payload = s.jwt.payload;
      payload[claim] = value;
      EXPECT_TRUE(IsUnauthorized(support::GetMe(
          http, support::SignJwt(Hs256Header(), payload, support::kTestJwtSecret))))
          << claim << " = " << value;
    }
    auto payload = s.jwt.payload;
    payload.erase(claim);
    EXPECT_TRUE(IsUnauthorized(support::GetMe(
        http, support::SignJwt(Hs256Header(), payload, support::kTestJwtSecret))))
        << "without " << claim;
  }
}

TEST_F(AccessTokenTest, ExpiredOrExpiryLessTokenIs401) {
  auto s = SignIn("tok_exp");
  Http http(Server());
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, ExpiredToken(s))));
  auto just_expired = s.jwt.payload;
  just_expired["exp"] = NowSeconds() - 2;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), just_expired, support::kTestJwtSecret))));
  auto no_exp = s.jwt.payload;
  no_exp.erase("exp");
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), no_exp, support::kTestJwtSecret))));
  auto text_exp = s.jwt.payload;
  text_exp["exp"] = std::to_string(NowSeconds() + 600);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), text_exp, support::kTestJwtSecret))));
}

// API.md: a 401 for a bad access token says why in `reason` and in an RFC 6750 challenge, so a
// client refreshes once on "expired" and sends the user to sign in otherwise.
TEST_F(AccessTokenTest, RefusedTokensSayWhyInReasonAndTheChallenge) {
  auto s = SignIn("tok_reason");
  Http http(Server());
  auto expect_reason = [&](const support::Response& res, const std::string& reason) {
    EXPECT_TRUE(IsUnauthorized(res)) << res;
    EXPECT_EQ(res.Json().value("reason", ""), reason) << res;
    const std::string challenge = res.Header("www-authenticate");
    if (reason == "missing") {
      EXPECT_EQ(challenge, "Bearer") << res;
    } else {
      EXPECT_EQ(challenge.rfind("Bearer error=\"invalid_token\", error_description=\"", 0), 0u) << res;
    }
  };
  expect_reason(http.Get("/api/v1/me"), "missing");
  expect_reason(http.Get("/api/v1/me", "", {{"Authorization", "Basic dXNlcjpwdw=="}}), "malformed");
  expect_reason(support::GetMe(http, "not-a-jwt"), "malformed");
  expect_reason(support::GetMe(http, support::SignJwt(Hs256Header(), s.jwt.payload, "another secret of at least 32 bytes!")),
                "malformed");
  expect_reason(support::GetMe(http, ExpiredToken(s)), "expired");
  ASSERT_EQ(http.Post("/api/v1/auth/logout", "", BearerHeaders(s.pair.access_token)).status, 204);
  expect_reason(support::GetMe(http, s.pair.access_token), "revoked");
  // Other 401s carry no reason: a failed login, an unknown refresh token.
  auto login = support::Login(http, "username", "tok_reason_nobody", "Wrong password 1");
  EXPECT_TRUE(IsUnauthorized(login, "invalid_credentials")) << login;
  EXPECT_FALSE(login.Json().contains("reason")) << login;
}

// Every route the served OpenAPI document marks as needing a bearer token answers each refused
// token the same way: 401 unauthorized with its `reason`, an RFC 6750 challenge (bare `Bearer`
// without credentials, `error="invalid_token"` otherwise). The stream's other credential, the
// ticket, is refused with `revoked` too.
TEST_F(AccessTokenTest, EveryAuthenticatedRouteSaysWhyATokenWasRefused) {
  auto s = SignIn("tok_routes");
  Http http(Server());
  const std::string expired = ExpiredToken(s);
  ASSERT_EQ(http.Post("/api/v1/auth/logout", "", BearerHeaders(s.pair.access_token)).status, 204);
  const std::vector<std::pair<std::string, std::optional<std::string>>> tokens = {
      {"missing", std::nullopt},
      {"malformed", "Bearer not-a-jwt"},
      {"malformed", "Token abc"},
      {"expired", "Bearer " + expired},
      {"revoked", "Bearer " + s.pair.access_token},
  };
  const json doc = http.Get("/api/v1/openapi.json").Json();
  int routes = 0;
  for (const auto& [path, operations] : doc["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      if (!operation.is_object() || !operation.contains("security")) continue;
      bool bearer = false;
      for (const auto& requirement : operation["security"]) bearer = bearer || requirement.contains("bearer");
      if (!bearer) continue;
      ++routes;
      std::string target = path;
      if (auto brace = target.find("{id}"); brace != std::string::npos) {
        target.replace(brace, 4, "01937a2b-0000-7000-8000-000000000000");
      }
      for (const auto& [reason, authorization] : tokens) {
        support::Request request;
        request.method.clear();
        for (char c : method) request.method += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        request.path = target;
        if (authorization) request.headers.emplace_back("Authorization", *authorization);
        auto res = http.Send(request);
        ASSERT_TRUE(IsUnauthorized(res)) << request.method << " " << path << " (" << reason << ")";
        EXPECT_EQ(res.Json().value("reason", ""), reason) << request.method << " " << path << ": " << res;
        const std::string challenge = res.Header("www-authenticate");
        if (reason == "missing") {
          EXPECT_EQ(challenge, "Bearer") << request.method << " " << path;
        } else {
          EXPECT_EQ(challenge.rfind("Bearer error=\"invalid_token\", error_description=\"", 0), 0u)
              << request.method << " " << path << ": " << challenge;
        }
      }
    }
  }
  EXPECT_GE(routes, 40) << "the document lists the authenticated routes";
  // The stream's ticket: unknown is revoked (it may have been spent or expired).
  auto ticket = http.Get("/api/v1/notifications/stream?ticket=" + std::string(43, 'T'));
  EXPECT_TRUE(IsUnauthorized(ticket)) << ticket;
  EXPECT_EQ(ticket.Json().value("reason", ""), "revoked") << ticket;
  EXPECT_EQ(ticket.Header("www-authenticate").rfind("Bearer error=\"invalid_token\"", 0), 0u) << ticket;
}

TEST_F(AccessTokenTest, SessionOfAnotherUserIs401) {
  auto alice = SignIn("tok_alice");
  auto bob = SignIn("tok_bob");
  Http http(Server());
  // Alice's subject with Bob's session, correctly signed: the session decides, and it is Bob's.
  auto payload = alice.jwt.payload;
  payload["sid"] = bob.pair.session_id;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), payload, support::kTestJwtSecret))));
  auto unknown = alice.jwt.payload;
  unknown["sid"] = "01900000-0000-7000-8000-000000000000";
  EXPECT_TRUE(IsUnauthorized(support::GetMe(
      http, support::SignJwt(Hs256Header(), unknown, support::kTestJwtSecret))));
}

TEST(AccessTokenExpiryTest, TokenIsRefusedOnceItsTtlHasPassed) {
  support::TempDir dir;
  // Two seconds: the token is valid for at least one whole second after it was issued (claims
  // are whole seconds), long enough for the first request to succeed.
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_ACCESS_TTL", "2"}});
  Http http(server);
  auto pair = support::RegisterAndLogin(http, NewCredentials("ttl"));
  EXPECT_EQ(pair.body["expires_in"], 2);
  auto jwt = support::DecodeJwt(pair.access_token);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->payload["exp"].get<long long>(), jwt->payload["iat"].get<long long>() + 2);
  auto first = support::GetMe(http, pair.access_token);
  EXPECT_EQ(first.status, 200) << first;
  Response last;
  ASSERT_TRUE(support::WaitUntil(
      [&] {
        last = support::GetMe(http, pair.access_token);
        return last.status != 200;
      },
      10s, 100ms))
      << "the access token was still accepted 10 s after it was issued";
  EXPECT_TRUE(IsUnauthorized(last));
  // Only the access token expired: the session goes on with a refresh.
  auto refreshed = support::ExpectTokenPair(support::Refresh(http, pair.refresh_token));
  EXPECT_EQ(refreshed.session_id, pair.session_id);
  EXPECT_EQ(support::GetMe(http, refreshed.access_token).status, 200);
}

TEST(SecretRotationTest, EverySecretVerifiesAndOnlyTheFirstSigns) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  const std::string a = "rotation-secret-A-0123456789-0123456789";
  const std::string b = "rotation-secret-B-0123456789-0123456789";
  const std::string c = "rotation-secret-C-0123456789-0123456789";
  auto old_server = support::StartAccountServer(dir, url, {{"IKIGAI_JWT_SECRET", b}});
  auto new_server = support::StartAccountServer(dir, url, {{"IKIGAI_JWT_SECRET", a + "," + b}});
  Http old_http(old_server);
  Http new_http(new_server);

  auto who = NewCredentials("rotation");
  auto old_pair = support::RegisterAndLogin(old_http, who);
  auto old_jwt = support::DecodeJwt(old_pair.access_token);
  ASSERT_TRUE(old_jwt);
  // Issued with B, accepted by the server that also knows A.
  EXPECT_EQ(support::GetMe(new_http, old_pair.access_token).status, 200);
  // The new server signs with A: the old one (B only) refuses that.
  auto new_pair = support::LoginPair(new_http, who);
  EXPECT_EQ(support::GetMe(new_http, new_pair.access_token).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(old_http, new_pair.access_token)));
  auto new_jwt = support::DecodeJwt(new_pair.access_token);
  ASSERT_TRUE(new_jwt);
  const std::string input = new_jwt->header_segment + "." + new_jwt->payload_segment;
  EXPECT_EQ(new_jwt->signature_segment, support::Base64UrlEncode(support::HmacSha256(a, input)))
      << "the first secret of the list signs";
  // A secret neither server knows.
  json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  EXPECT_TRUE(IsUnauthorized(support::GetMe(new_http, support::SignJwt(header, old_jwt->payload, c))));
  EXPECT_TRUE(IsUnauthorized(support::GetMe(old_http, support::SignJwt(header, old_jwt->payload, c))));
  // A token signed with A is refused by a server with C,B (A retired).
  auto retired = support::StartAccountServer(dir, url, {{"IKIGAI_JWT_SECRET", c + "," + b}});
  Http retired_http(retired);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(retired_http, new_pair.access_token)));
  EXPECT_EQ(support::GetMe(retired_http, old_pair.access_token).status, 200);
}

TEST(AccessTokenConfigTest, IssuerAndAudienceComeFromTheConfiguration) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto custom = support::StartAccountServer(
      dir, url, {{"IKIGAI_JWT_ISSUER", "ikigai-staging"}, {"IKIGAI_JWT_AUDIENCE", "ikigai-web"}});
  auto standard = support::StartAccountServer(dir, url);
  Http custom_http(custom);
  Http standard_http(standard);
  auto who = NewCredentials("iss_config");
  auto pair = support::RegisterAndLogin(custom_http, who);
  auto jwt = support::DecodeJwt(pair.access_token);
  ASSERT_TRUE(jwt);
  EXPECT_EQ(jwt->payload.value("iss", ""), "ikigai-staging");
  EXPECT_EQ(jwt->payload.value("aud", ""), "ikigai-web");
  EXPECT_EQ(support::GetMe(custom_http, pair.access_token).status, 200);
  // Same secret and database, other issuer and audience: refused both ways.
  EXPECT_TRUE(IsUnauthorized(support::GetMe(standard_http, pair.access_token)));
  auto standard_pair = support::LoginPair(standard_http, who);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(custom_http, standard_pair.access_token)));
}

TEST(SessionLifetimeTest, SessionEndsWhenTheRefreshTtlHasPassed) {
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_REFRESH_TTL", "2s"}});
  Http http(server);
  auto pair = support::RegisterAndLogin(http, NewCredentials("refresh_ttl"));
  ASSERT_EQ(support::GetMe(http, pair.access_token).status, 200);
  // The access token itself is good for 15 minutes, but its session ends with the refresh TTL.
  Response last;
  ASSERT_TRUE(support::WaitUntil(
      [&] {
        last = support::GetMe(http, pair.access_token);
        return last.status != 200;
      },
      10s, 100ms))
      << "the session outlived a 2 s refresh TTL by 8 s";
  EXPECT_TRUE(IsUnauthorized(last));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, pair.refresh_token)));
}

// ---------------------------------------------------------------------------------------------
// Refresh

class RefreshTest : public support::AccountSuite<RefreshTest> {
 protected:
  // Moves the moment `refresh_token` was spent `ms` into the past, as if the grace window had
  // passed (the server keeps spent_at in milliseconds, API.md's window is 10 s).
  static void AgeSpentToken(const std::string& refresh_token, long long ms) {
    Db().Exec("UPDATE refresh_tokens SET spent_at = spent_at - " + std::to_string(ms) +
              " WHERE token_hash = " + support::DirectDb::Quote(support::Sha256Hex(refresh_token)) +
              " AND spent_at IS NOT NULL");
    ASSERT_EQ(Db().Scalar("SELECT COUNT(*) FROM refresh_tokens WHERE spent_at IS NOT NULL AND "
                          "token_hash = " +
                          support::DirectDb::Quote(support::Sha256Hex(refresh_token))),
              "1")
        << "the refresh token is not stored (as SHA-256 hex) or not spent";
  }
};

TEST_F(RefreshTest, RotatesTheRefreshTokenAndKeepsTheSession) {
  Http http(Server());
  auto who = NewCredentials("refresh_rotate");
  auto login = support::RegisterAndLogin(http, who);
  auto res = support::Refresh(http, login.refresh_token);
  ASSERT_EQ(res.status, 200) << res;
  auto body = res.Json();
  std::set<std::string> keys;
  for (const auto& [key, value] : body.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"access_token", "token_type", "expires_in",
                                         "refresh_token", "user"}))
      << res;
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 900);
  EXPECT_EQ(body["user"], login.body["user"]);
  auto pair = support::ExpectTokenPair(res);
  EXPECT_NE(pair.refresh_token, login.refresh_token);
  EXPECT_NE(pair.access_token, login.access_token);
  EXPECT_GE(pair.refresh_token.size(), 43u);
  EXPECT_EQ(pair.session_id, login.session_id);
  EXPECT_EQ(pair.user_id, login.user_id);
  EXPECT_EQ(support::GetMe(http, pair.access_token).status, 200);
  // The old access token stays valid until it expires; the session is the same.
  EXPECT_EQ(support::GetMe(http, login.access_token).status, 200);
  // Only the hash is stored.
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = " +
                        support::DirectDb::Quote(pair.refresh_token)),
            "0");
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM refresh_tokens WHERE token_hash = " +
                        support::DirectDb::Quote(support::Sha256Hex(pair.refresh_token))),
            "1");
  // A chain of refreshes keeps working.
  auto next = support::ExpectTokenPair(support::Refresh(http, pair.refresh_token));
  EXPECT_EQ(next.session_id, login.session_id);
  EXPECT_EQ(support::GetMe(http, next.access_token).status, 200);
}

TEST_F(RefreshTest, SpentTokenWithinTheGraceWindowGivesAPairOfTheSameSession) {
  Http http(Server());
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_grace"));
  auto first = support::ExpectTokenPair(support::Refresh(http, login.refresh_token));
  // A second tab shows the same (now spent) token at once.
  auto second_res = support::Refresh(http, login.refresh_token);
  ASSERT_EQ(second_res.status, 200) << "a spent token within 10 s must give a pair: "
                                    << second_res;
  auto second = support::ExpectTokenPair(second_res);
  EXPECT_EQ(second.session_id, login.session_id);
  EXPECT_NE(second.refresh_token, first.refresh_token);
  EXPECT_NE(second.refresh_token, login.refresh_token);
  // Both pairs stay valid: the first tab is not logged out.
  EXPECT_EQ(support::GetMe(http, first.access_token).status, 200);
  EXPECT_EQ(support::GetMe(http, second.access_token).status, 200);
  auto from_first = support::Refresh(http, first.refresh_token);
  ASSERT_EQ(from_first.status, 200) << "the first refresh's token was spent by the second tab: "
                                    << from_first;
  EXPECT_EQ(support::ExpectTokenPair(from_first).session_id, login.session_id);
  auto from_second = support::Refresh(http, second.refresh_token);
  ASSERT_EQ(from_second.status, 200) << from_second;
  EXPECT_EQ(support::ExpectTokenPair(from_second).session_id, login.session_id);
  // Still one session.
  auto sessions = http.Get(kSessions, "", BearerHeaders(first.access_token));
  ASSERT_EQ(sessions.status, 200) << sessions;
  EXPECT_EQ(sessions.Json()["items"].size(), 1u) << sessions;
}

TEST_F(RefreshTest, ConcurrentRefreshesOfOneTokenAllGetAPairOfTheSameSession) {
  // Several tabs refreshing at once must not log the user out (API.md "Concurrent refresh").
  constexpr int kTabs = 6;
  Http http(Server());
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_tabs"));
  auto responses = support::AllAtOnce(kTabs, [&](int) { return support::Refresh(http, login.refresh_token); });
  std::set<std::string> refresh_tokens;
  for (const auto& res : responses) {
    ASSERT_EQ(res.status, 200) << res;
    auto pair = support::ExpectTokenPair(res);
    EXPECT_EQ(pair.session_id, login.session_id);
    refresh_tokens.insert(pair.refresh_token);
    EXPECT_EQ(support::GetMe(http, pair.access_token).status, 200);
  }
  EXPECT_EQ(refresh_tokens.size(), static_cast<std::size_t>(kTabs)) << "pairs share a token";
  for (const auto& token : refresh_tokens) {
    EXPECT_EQ(support::Refresh(http, token).status, 200);
  }
}

TEST_F(RefreshTest, SpentTokenAfterTheGraceWindowRevokesTheWholeSession) {
  Http http(Server());
  auto who = NewCredentials("refresh_reuse");
  auto login = support::RegisterAndLogin(http, who);
  auto other_session = support::LoginPair(http, who);
  auto first = support::ExpectTokenPair(support::Refresh(http, login.refresh_token));
  auto grace = support::ExpectTokenPair(support::Refresh(http, login.refresh_token));
  AgeSpentToken(login.refresh_token, 10'001);
  if (HasFatalFailure()) return;

  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, login.refresh_token)));
  // Every token of that session is dead now: access tokens and unspent refresh tokens alike.
  for (const auto& token : {login.access_token, first.access_token, grace.access_token}) {
    EXPECT_TRUE(IsUnauthorized(support::GetMe(http, token)));
  }
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, first.refresh_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, grace.refresh_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, login.refresh_token)));
  // The user's other session is not touched.
  EXPECT_EQ(support::GetMe(http, other_session.access_token).status, 200);
  EXPECT_EQ(support::Refresh(http, other_session.refresh_token).status, 200);
}

TEST_F(RefreshTest, SpentTokenJustInsideTheGraceWindowStillGivesAPair) {
  Http http(Server());
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_edge"));
  auto first = support::ExpectTokenPair(support::Refresh(http, login.refresh_token));
  // Spent 8 s ago: within the 10 s window (two seconds of slack for a slow machine).
  AgeSpentToken(login.refresh_token, 8'000);
  if (HasFatalFailure()) return;
  auto res = support::Refresh(http, login.refresh_token);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(support::ExpectTokenPair(res).session_id, login.session_id);
  EXPECT_EQ(support::GetMe(http, first.access_token).status, 200);
}

TEST_F(RefreshTest, GraceWindowEndsAfterTenSecondsInRealTime) {
  // The one test that lets real time pass instead of ageing the row, so that the window is checked
  // against the server's own clock. It polls the spent token until the server calls it reuse: every
  // answer before that must be a pair of the same session, and the first 401 must come no earlier
  // than 10 s after the token was spent (the poll itself never spends the grace: a pair issued in
  // the window is legitimate).
  Http http(Server());
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_realtime"));
  const auto before_spend = std::chrono::steady_clock::now();
  auto first = support::ExpectTokenPair(support::Refresh(http, login.refresh_token));
  Response last;
  int pairs = 0;
  bool ended = support::WaitUntil(
      [&] {
        last = support::Refresh(http, login.refresh_token);
        if (last.status == 200) {
          ++pairs;
          EXPECT_EQ(support::ExpectTokenPair(last).session_id, login.session_id);
          return false;
        }
        return true;
      },
      20s, 500ms);
  const auto elapsed = std::chrono::steady_clock::now() - before_spend;
  ASSERT_TRUE(ended) << "a token spent 20 s ago still gives pairs";
  EXPECT_TRUE(IsUnauthorized(last));
  EXPECT_GE(elapsed, 10s) << "reuse was declared "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                          << " ms after the spend, inside the 10 s window";
  EXPECT_GE(pairs, 1) << "no pair at all within the window";
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, first.access_token)));
}

TEST_F(RefreshTest, SpentTokenOfAnEndedSessionIs401EvenWithinTheGraceWindow) {
  Http http(Server());
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_ended"));
  auto first = support::ExpectTokenPair(support::Refresh(http, login.refresh_token));
  ASSERT_EQ(http.Post(kLogout, "", BearerHeaders(first.access_token)).status, 204);
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, login.refresh_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, first.refresh_token)));
}

TEST_F(RefreshTest, UnknownTokenIs401) {
  Http http(Server());
  for (const std::string& token :
       {std::string("definitely-not-a-refresh-token-0123456789abcdefgh"), std::string("x"),
        std::string(600, 'a'), std::string("")}) {
    EXPECT_TRUE(IsUnauthorized(support::Refresh(http, token))) << token.size() << " chars";
  }
  // An access token is not a refresh token.
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_unknown"));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, login.access_token)));
}

TEST_F(RefreshTest, MissingOrMistypedFieldIs422) {
  Http http(Server());
  for (const std::string& body :
       {std::string("{}"), std::string(""), std::string(R"({"refresh_token":42})"),
        std::string(R"({"refresh_token":null})"), std::string(R"({"refresh_token":["a"]})"),
        std::string(R"({"token":"abc"})")}) {
    auto res = http.Post("/api/v1/auth/refresh", body);
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << body;
  }
  auto login = support::RegisterAndLogin(http, NewCredentials("refresh_fields"));
  auto extra = http.Post("/api/v1/auth/refresh",
                         json{{"refresh_token", login.refresh_token}, {"bogus", 1}}.dump());
  EXPECT_TRUE(IsProblem(extra, 422, "validation_failed"));
  // The rejected request did not spend the token.
  EXPECT_EQ(support::Refresh(http, login.refresh_token).status, 200);
  EXPECT_TRUE(IsProblem(http.Post("/api/v1/auth/refresh", R"({"refresh_token":)"), 400,
                        "malformed_json"));
}

// ---------------------------------------------------------------------------------------------
// Logout and logout-all

class LogoutTest : public support::AccountSuite<LogoutTest> {};

TEST_F(LogoutTest, LogoutEndsThisSessionOnly) {
  Http http(Server());
  auto who = NewCredentials("logout");
  auto pair = support::RegisterAndLogin(http, who);
  auto other = support::LoginPair(http, who);
  auto res = http.Post(kLogout, "", BearerHeaders(pair.access_token));
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_TRUE(res.body.empty()) << res;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, pair.refresh_token)));
  EXPECT_TRUE(IsUnauthorized(http.Post(kLogout, "", BearerHeaders(pair.access_token))))
      << "a second logout with the same token";
  EXPECT_EQ(support::GetMe(http, other.access_token).status, 200);
  EXPECT_EQ(support::Refresh(http, other.refresh_token).status, 200);
}

TEST_F(LogoutTest, LogoutNeedsAToken) {
  Http http(Server());
  EXPECT_TRUE(IsUnauthorized(http.Post(kLogout)));
  EXPECT_TRUE(IsUnauthorized(http.Post(kLogoutAll)));
  EXPECT_TRUE(IsUnauthorized(http.Post(kLogout, "", {{"Authorization", "Bearer nope"}})));
  auto pair = support::RegisterAndLogin(http, NewCredentials("logout_body"));
  EXPECT_TRUE(IsProblem(http.Post(kLogout, R"({"everywhere":true})", BearerHeaders(pair.access_token)),
                        422, "validation_failed"))
      << "an unknown field is refused";
  EXPECT_EQ(support::GetMe(http, pair.access_token).status, 200) << "the refused logout logged out";
}

TEST_F(LogoutTest, LogoutAllEndsEverySessionOfTheUser) {
  Http http(Server());
  auto who = NewCredentials("logout_all");
  auto first = support::RegisterAndLogin(http, who);
  auto second = support::LoginPair(http, who);
  auto refreshed = support::ExpectTokenPair(support::Refresh(http, second.refresh_token));
  auto bystander = support::RegisterAndLogin(http, NewCredentials("bystander"));
  auto res = http.Post(kLogoutAll, "", BearerHeaders(first.access_token));
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_TRUE(res.body.empty());
  for (const auto& token : {first.access_token, second.access_token, refreshed.access_token}) {
    EXPECT_TRUE(IsUnauthorized(support::GetMe(http, token)));
  }
  for (const auto& token : {first.refresh_token, refreshed.refresh_token}) {
    EXPECT_TRUE(IsUnauthorized(support::Refresh(http, token)));
  }
  EXPECT_EQ(support::GetMe(http, bystander.access_token).status, 200);
  // Signing in again works.
  auto again = support::LoginPair(http, who);
  EXPECT_EQ(support::GetMe(http, again.access_token).status, 200);
}

// Two instances on one database: what one revokes, the other refuses on the very next request.
class TwoInstancesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = support::FreshDatabaseUrl(dir_);
    a_.emplace(support::StartAccountServer(dir_, url_));
    b_.emplace(support::StartAccountServer(dir_, url_));
  }
  void TearDown() override {
    b_.reset();
    a_.reset();
  }
  support::TempDir dir_;
  std::string url_;
  std::optional<support::Server> a_;
  std::optional<support::Server> b_;
};

TEST_F(TwoInstancesTest, LogoutOnOneIsRefusedByTheOther) {
  Http a(*a_);
  Http b(*b_);
  auto who = NewCredentials("two_logout");
  auto pair = support::RegisterAndLogin(a, who);
  ASSERT_EQ(support::GetMe(b, pair.access_token).status, 200);
  ASSERT_EQ(a.Post(kLogout, "", BearerHeaders(pair.access_token)).status, 204);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(b, pair.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(b, pair.refresh_token)));
}

TEST_F(TwoInstancesTest, LogoutAllOnOneIsRefusedByTheOther) {
  Http a(*a_);
  Http b(*b_);
  auto who = NewCredentials("two_logout_all");
  auto on_a = support::RegisterAndLogin(a, who);
  auto on_b = support::LoginPair(b, who);
  ASSERT_EQ(support::GetMe(b, on_b.access_token).status, 200);
  ASSERT_EQ(support::GetMe(b, on_a.access_token).status, 200);
  ASSERT_EQ(a.Post(kLogoutAll, "", BearerHeaders(on_a.access_token)).status, 204);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(b, on_a.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::GetMe(b, on_b.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(b, on_b.refresh_token)));
}

TEST_F(TwoInstancesTest, DeletedSessionOnOneIsRefusedByTheOther) {
  Http a(*a_);
  Http b(*b_);
  auto who = NewCredentials("two_delete");
  auto keeper = support::RegisterAndLogin(a, who);
  auto victim = support::LoginPair(b, who);
  ASSERT_EQ(support::GetMe(b, victim.access_token).status, 200);
  auto del = a.Delete(std::string(kSessions) + "/" + victim.session_id, "",
                      BearerHeaders(keeper.access_token));
  ASSERT_EQ(del.status, 204) << del;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(b, victim.access_token)));
  EXPECT_EQ(support::GetMe(b, keeper.access_token).status, 200);
}

TEST_F(TwoInstancesTest, RefreshGraceAndReuseAreSharedByInstances) {
  Http a(*a_);
  Http b(*b_);
  auto who = NewCredentials("two_refresh");
  auto login = support::RegisterAndLogin(a, who);
  auto on_a = support::ExpectTokenPair(support::Refresh(a, login.refresh_token));
  // The second tab's request lands on the other instance, within the window.
  auto on_b = support::Refresh(b, login.refresh_token);
  ASSERT_EQ(on_b.status, 200) << on_b;
  EXPECT_EQ(support::ExpectTokenPair(on_b).session_id, login.session_id);
  EXPECT_EQ(support::GetMe(b, on_a.access_token).status, 200);
  // A token refreshed on A is spent for B too.
  auto again = support::ExpectTokenPair(support::Refresh(a, on_a.refresh_token));
  support::DirectDb db(url_);
  db.Exec("UPDATE refresh_tokens SET spent_at = spent_at - 60000 WHERE token_hash = " +
          support::DirectDb::Quote(support::Sha256Hex(on_a.refresh_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(b, on_a.refresh_token)));
  EXPECT_TRUE(IsUnauthorized(support::GetMe(a, again.access_token)));
}

// ---------------------------------------------------------------------------------------------
// Sessions

class SessionsTest : public support::AccountSuite<SessionsTest> {};

// The items of GET /me/sessions; fails the test unless it is a 200 page.
std::vector<json> ListSessions(const Http& http, const std::string& token) {
  auto res = http.Get(kSessions, "", BearerHeaders(token));
  EXPECT_EQ(res.status, 200) << res;
  if (res.status != 200) return {};
  auto body = res.Json();
  std::set<std::string> keys;
  for (const auto& [key, value] : body.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"items", "next_cursor"})) << res;
  EXPECT_TRUE(body["next_cursor"].is_null()) << res;
  EXPECT_TRUE(body["items"].is_array()) << res;
  return body["items"].get<std::vector<json>>();
}

TEST_F(SessionsTest, ListsLiveSessionsAndMarksTheCurrentOne) {
  Http http(Server());
  auto who = NewCredentials("sessions");
  auto desktop = support::RegisterAndLogin(http, who);
  auto phone = support::LoginPair(http, who, {{"User-Agent", "PhoneBrowser/7.1 (test)"}});
  auto ended = support::LoginPair(http, who, {{"User-Agent", "Ended/1.0"}});
  ASSERT_EQ(http.Post(kLogout, "", BearerHeaders(ended.access_token)).status, 204);
  auto stranger = support::RegisterAndLogin(http, NewCredentials("sessions_stranger"));

  auto items = ListSessions(http, desktop.access_token);
  ASSERT_EQ(items.size(), 2u) << "two live sessions (the ended one and others' are not listed)";
  int current = 0;
  std::set<std::string> ids;
  for (const auto& item : items) {
    std::set<std::string> keys;
    for (const auto& [key, value] : item.items()) keys.insert(key);
    EXPECT_EQ(keys, (std::set<std::string>{"id", "created_at", "last_used_at", "ip",
                                           "user_agent", "current"}))
        << item;
    ids.insert(item.value("id", ""));
    EXPECT_EQ(item["ip"], "127.0.0.1") << item;
    EXPECT_TRUE(item["current"].is_boolean()) << item;
    if (item["current"] == true) {
      ++current;
      EXPECT_EQ(item["id"], desktop.session_id);
      EXPECT_EQ(item["user_agent"], std::string(support::kTestUserAgent));
    } else {
      EXPECT_EQ(item["id"], phone.session_id);
      EXPECT_EQ(item["user_agent"], "PhoneBrowser/7.1 (test)");
    }
    for (const char* ts : {"created_at", "last_used_at"}) {
      EXPECT_TRUE(item[ts].is_string() && item[ts].get<std::string>().size() == 20 &&
                  item[ts].get<std::string>().back() == 'Z')
          << item;
    }
  }
  EXPECT_EQ(current, 1);
  EXPECT_EQ(ids, (std::set<std::string>{desktop.session_id, phone.session_id}));
  EXPECT_EQ(ids.count(stranger.session_id), 0u);

  // From the phone, the phone is current.
  auto from_phone = ListSessions(http, phone.access_token);
  ASSERT_EQ(from_phone.size(), 2u);
  for (const auto& item : from_phone) {
    EXPECT_EQ(item["current"], item["id"] == phone.session_id) << item;
  }
  EXPECT_TRUE(IsUnauthorized(http.Get(kSessions)));
}

TEST_F(SessionsTest, DeletingAnotherOfMySessionsEndsIt) {
  Http http(Server());
  auto who = NewCredentials("sessions_del");
  auto mine = support::RegisterAndLogin(http, who);
  auto other = support::LoginPair(http, who);
  auto res = http.Delete(std::string(kSessions) + "/" + other.session_id, "",
                         BearerHeaders(mine.access_token));
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_TRUE(res.body.empty());
  auto items = ListSessions(http, mine.access_token);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["id"], mine.session_id);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, other.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, other.refresh_token)));
  // Deleting it again: it no longer exists as a live session.
  EXPECT_TRUE(IsProblem(http.Delete(std::string(kSessions) + "/" + other.session_id, "",
                                    BearerHeaders(mine.access_token)),
                        404, "not_found"));
  EXPECT_EQ(support::GetMe(http, mine.access_token).status, 200);
}

TEST_F(SessionsTest, DeleteWithAnUnknownBodyFieldIs422) {
  // API.md Conventions: unknown JSON fields are rejected (422), as logout and logout-all do.
  Http http(Server());
  auto who = NewCredentials("sessions_field");
  auto mine = support::RegisterAndLogin(http, who);
  auto other = support::LoginPair(http, who);
  auto res = http.Delete(std::string(kSessions) + "/" + other.session_id,
                         R"({"everywhere":true})", BearerHeaders(mine.access_token));
  EXPECT_TRUE(IsProblem(res, 422, "validation_failed"));
  EXPECT_EQ(support::GetMe(http, other.access_token).status, 200)
      << "a refused request ended the session";
}

TEST_F(SessionsTest, DeletingTheCurrentSessionIsAllowed) {
  Http http(Server());
  auto pair = support::RegisterAndLogin(http, NewCredentials("sessions_self"));
  auto res = http.Delete(std::string(kSessions) + "/" + pair.session_id, "",
                         BearerHeaders(pair.access_token));
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, pair.refresh_token)));
}

TEST_F(SessionsTest, SomeoneElsesOrAnUnknownSessionIs404) {
  Http http(Server());
  auto me = support::RegisterAndLogin(http, NewCredentials("sessions_me"));
  auto them = support::RegisterAndLogin(http, NewCredentials("sessions_them"));
  auto res = http.Delete(std::string(kSessions) + "/" + them.session_id, "",
                         BearerHeaders(me.access_token));
  EXPECT_TRUE(IsProblem(res, 404, "not_found"));
  EXPECT_EQ(support::GetMe(http, them.access_token).status, 200) << "their session was ended";
  for (const std::string& id : {std::string("01900000-0000-7000-8000-000000000000"),
                                std::string("not-a-session"), std::string("1")}) {
    EXPECT_TRUE(IsProblem(
        http.Delete(std::string(kSessions) + "/" + id, "", BearerHeaders(me.access_token)), 404,
        "not_found"))
        << id;
  }
  EXPECT_TRUE(IsUnauthorized(http.Delete(std::string(kSessions) + "/" + me.session_id)));
  EXPECT_EQ(support::GetMe(http, me.access_token).status, 200);
}

}  // namespace
}  // namespace ikigai
