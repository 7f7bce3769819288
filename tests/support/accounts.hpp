// Accounts for integration tests: servers with a known JWT secret and cheap hashing, unique
// credentials, register/login/refresh calls, and checks for 401/429 problems.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/secrets.hpp"  // kTestJwtSecret: the HS256 secret of every server of AccountServerEnv()
#include "support/server.hpp"
#include "support/temp_dir.hpp"

namespace ikigai::support {

inline constexpr std::string_view kTestUserAgent = "ikigai-integration-tests/1.0 (accounts)";

// Server environment for account tests: IKIGAI_JWT_SECRET = kTestJwtSecret, Argon2id at 8 MiB and
// one pass (tests that are not about hashing need not pay for it), and rate limits far above what
// a suite does from 127.0.0.1. `overrides` replace or add entries.
[[nodiscard]] std::map<std::string, std::string> AccountServerEnv(
    const std::map<std::string, std::string>& overrides = {});

// StartServer with data_dir = dir, the given database URL, and AccountServerEnv(overrides).
// Several servers may share one URL (and one dir).
[[nodiscard]] Server StartAccountServer(const TempDir& dir, const std::string& database_url,
                                        const std::map<std::string, std::string>& overrides = {});

// A server on a fresh database shared by the tests of one suite, with direct access to that
// database. Started by the first test that asks; Reset() from TearDownTestSuite.
class SharedAccountServer {
 public:
  SharedAccountServer() = default;
  explicit SharedAccountServer(std::map<std::string, std::string> overrides)
      : overrides_(std::move(overrides)) {}
  Server& Get();
  [[nodiscard]] const std::string& DatabaseUrl();
  DirectDb& Db();
  void Reset();

 private:
  std::map<std::string, std::string> overrides_;
  std::unique_ptr<TempDir> dir_;
  std::string url_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<DirectDb> db_;
};

// The fixture base of a suite whose tests share one server on a fresh database (each Suite
// type its own): started by the first test that asks, stopped after the suite. A suite that
// needs more settings defines `static std::map<std::string, std::string> ServerEnv()`.
template <class Suite, class Base = ::testing::Test>
class AccountSuite : public Base {
 public:
  static std::map<std::string, std::string> ServerEnv() { return {}; }

 protected:
  static void TearDownTestSuite() { Shared().Reset(); }
  static ::ikigai::support::Server& Server() { return Shared().Get(); }
  static DirectDb& Db() { return Shared().Db(); }
  static SharedAccountServer& Shared() {
    static SharedAccountServer shared{Suite::ServerEnv()};
    return shared;
  }
};

struct Credentials {
  std::string username;
  std::string email;
  std::string password;
};

// Credentials nobody has used in this process: username "<prefix>_<pid>_<n>" (prefix cut so that
// it stays within 32 characters), email "<username>@example.com", a password that passes the
// policy and contains the username nowhere.
[[nodiscard]] Credentials NewCredentials(std::string_view prefix = "user");

// {"Authorization": "Bearer <token>"} plus `extra`.
[[nodiscard]] Headers BearerHeaders(std::string_view access_token, Headers extra = {});

// {"username", "email", "password"} (and "display_name" when given) as JSON text.
[[nodiscard]] std::string RegisterBody(const Credentials& who,
                                       std::optional<std::string> display_name = std::nullopt);

// POST /api/v1/auth/register (or `path`) with RegisterBody(who).
Response RegisterUser(const Http& http, const Credentials& who, Headers extra = {},
                      std::string_view path = "/api/v1/auth/register");

// POST /api/v1/auth/login (or `path`) with {field: identifier, "password": password}.
Response Login(const Http& http, std::string_view field, std::string_view identifier,
               std::string_view password, Headers extra = {},
               std::string_view path = "/api/v1/auth/login");

// POST /api/v1/auth/refresh with {"refresh_token": token}.
Response Refresh(const Http& http, std::string_view refresh_token, Headers extra = {});

// GET /api/v1/me with the token.
Response GetMe(const Http& http, std::string_view access_token);

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  // The access token's "sid" and "sub" claims.
  std::string session_id;
  std::string user_id;
  nlohmann::json body;
};

// The pair of a 200 login or refresh answer; throws std::runtime_error (failing the test, with
// the response) for anything else.
[[nodiscard]] TokenPair ExpectTokenPair(const Response& response);

// Registers `who` (must be 201) and logs in by username (must be 200) with User-Agent
// kTestUserAgent. Throws std::runtime_error otherwise.
TokenPair RegisterAndLogin(const Http& http, const Credentials& who);
// Logs in by username (must be 200). Throws otherwise.
TokenPair LoginPair(const Http& http, const Credentials& who, Headers extra = {});

// IsProblem(response, 401, code) and a "WWW-Authenticate: Bearer" header.
[[nodiscard]] ::testing::AssertionResult IsUnauthorized(const Response& response,
                                                        std::string_view code = "unauthorized");

// IsProblem(response, 429, "rate_limited") and a Retry-After of whole seconds in 1..max_seconds.
[[nodiscard]] ::testing::AssertionResult IsRateLimited(const Response& response,
                                                       long max_seconds);

}  // namespace ikigai::support
