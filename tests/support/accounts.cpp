// Accounts for integration tests.
#include "support/accounts.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <stdexcept>
#include <utility>

#include <unistd.h>

#include "support/backend.hpp"
#include "support/http_expectations.hpp"
#include "support/jwt.hpp"
#include "support/secrets.hpp"

namespace ikigai::support {

std::map<std::string, std::string> AccountServerEnv(
    const std::map<std::string, std::string>& overrides) {
  std::map<std::string, std::string> env = {
      {"IKIGAI_JWT_SECRET", std::string(kTestJwtSecret)},
      {"IKIGAI_ARGON2_MEMORY_KIB", "8192"},
      {"IKIGAI_ARGON2_OPS", "1"},
      {"IKIGAI_RATE_LIMITS",
       "login_account=100000/15m,login_address=100000/15m,register_address=100000/1h"},
  };
  for (const auto& [name, value] : overrides) env[name] = value;
  return env;
}

Server StartAccountServer(const TempDir& dir, const std::string& database_url,
                          const std::map<std::string, std::string>& overrides) {
  ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = database_url;
  options.env = AccountServerEnv(overrides);
  return StartServer(std::move(options));
}

Server& SharedAccountServer::Get() {
  if (server_ && !server_->Running()) {
    ADD_FAILURE() << "the suite's server died (status " << server_->Stop()
                  << "); starting another. Its log:\n"
                  << server_->StderrLog();
    Reset();
  }
  if (!server_) {
    auto dir = std::make_unique<TempDir>();
    std::string url = FreshDatabaseUrl(*dir);
    auto server = std::make_unique<Server>(StartAccountServer(*dir, url, overrides_));
    dir_ = std::move(dir);
    url_ = std::move(url);
    server_ = std::move(server);
  }
  return *server_;
}

const std::string& SharedAccountServer::DatabaseUrl() {
  (void)Get();
  return url_;
}

DirectDb& SharedAccountServer::Db() {
  (void)Get();  // the server migrates the database
  if (!db_) db_ = std::make_unique<DirectDb>(url_);
  return *db_;
}

void SharedAccountServer::Reset() {
  // The server outlives the test that failed; its log is only useful if it is shown.
  const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
  if (server_ && server_->Running()) {
    if (!db_) db_ = std::make_unique<DirectDb>(url_);
    ExpectNoSecretsInActivity(suite != nullptr ? suite->name() : "?", *db_);
  }
  if (server_ && suite != nullptr && suite->failed_test_count() > 0) {
    std::string log = server_->StderrLog();
    constexpr std::size_t kMax = 32 * 1024;
    if (log.size() > kMax) log = "[...]\n" + log.substr(log.size() - kMax);
    std::cerr << "---- " << suite->name() << ": shared ikigai serve (port " << server_->Port()
              << ") stderr ----\n"
              << log << "---- end of shared ikigai serve stderr ----\n";
  }
  db_.reset();
  server_.reset();
  dir_.reset();
  url_.clear();
}

Credentials NewCredentials(std::string_view prefix) {
  static std::atomic<int> counter{0};
  const int n = counter.fetch_add(1) + 1;
  std::string suffix = "_";
  suffix.append(std::to_string(::getpid())).append("_").append(std::to_string(n));
  Credentials who;
  who.username.assign(prefix.substr(0, 32 - std::min<std::size_t>(32, suffix.size())));
  who.username.append(suffix);
  who.email.assign(who.username).append("@example.com");
  who.password.assign("Correct-Horse-Battery-").append(std::to_string(n)).append("-Staple");
  return who;
}

Headers BearerHeaders(std::string_view access_token, Headers extra) {
  Headers headers{{"Authorization", "Bearer " + std::string(access_token)}};
  headers.insert(headers.end(), extra.begin(), extra.end());
  return headers;
}

std::string RegisterBody(const Credentials& who, std::optional<std::string> display_name) {
  nlohmann::json body = {
      {"username", who.username}, {"email", who.email}, {"password", who.password}};
  if (display_name) body["display_name"] = *display_name;
  return body.dump();
}

Response RegisterUser(const Http& http, const Credentials& who, Headers extra,
                      std::string_view path) {
  return http.Post(std::string(path), RegisterBody(who), std::move(extra));
}

Response Login(const Http& http, std::string_view field, std::string_view identifier,
               std::string_view password, Headers extra, std::string_view path) {
  nlohmann::json body = {{std::string(field), identifier}, {"password", password}};
  return http.Post(std::string(path), body.dump(), std::move(extra));
}

Response Refresh(const Http& http, std::string_view refresh_token, Headers extra) {
  nlohmann::json body = {{"refresh_token", refresh_token}};
  return http.Post("/api/v1/auth/refresh", body.dump(), std::move(extra));
}

Response GetMe(const Http& http, std::string_view access_token) {
  return http.Get("/api/v1/me", "", BearerHeaders(access_token));
}

TokenPair ExpectTokenPair(const Response& response) {
  auto fail = [&](std::string_view why) {
    throw std::runtime_error("expected a 200 token pair (" + std::string(why) + "); got " +
                             response.Describe());
  };
  if (response.status != 200) fail("status");
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object() || !body.contains("access_token") || !body["access_token"].is_string() ||
      !body.contains("refresh_token") || !body["refresh_token"].is_string()) {
    fail("no access_token/refresh_token strings");
  }
  TokenPair pair;
  pair.access_token = body["access_token"].get<std::string>();
  pair.refresh_token = body["refresh_token"].get<std::string>();
  auto jwt = DecodeJwt(pair.access_token);
  if (!jwt) fail("the access token is not a JWT");
  pair.session_id = jwt->payload.value("sid", "");
  pair.user_id = jwt->payload.value("sub", "");
  pair.body = std::move(body);
  return pair;
}

TokenPair LoginPair(const Http& http, const Credentials& who, Headers extra) {
  if (extra.empty()) extra = {{"User-Agent", std::string(kTestUserAgent)}};
  return ExpectTokenPair(Login(http, "username", who.username, who.password, std::move(extra)));
}

TokenPair RegisterAndLogin(const Http& http, const Credentials& who) {
  auto registered = RegisterUser(http, who);
  if (registered.status != 201) {
    throw std::runtime_error("registering " + who.username + " failed: " + registered.Describe());
  }
  return LoginPair(http, who);
}

::testing::AssertionResult IsUnauthorized(const Response& response, std::string_view code) {
  auto problem = IsProblem(response, 401, code);
  if (!problem) return problem;
  if (response.Header("www-authenticate").rfind("Bearer", 0) != 0) {
    return ::testing::AssertionFailure()
           << "a 401 without \"WWW-Authenticate: Bearer\": " << response;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult IsRateLimited(const Response& response, long max_seconds) {
  auto problem = IsProblem(response, 429, "rate_limited");
  if (!problem) return problem;
  const std::string retry = response.Header("retry-after");
  if (retry.empty() || retry.size() > 9 ||
      retry.find_first_not_of("0123456789") != std::string::npos) {
    return ::testing::AssertionFailure()
           << "Retry-After is not a number of seconds: \"" << retry << "\" in " << response;
  }
  const long seconds = std::stol(retry);
  if (seconds < 1 || seconds > max_seconds) {
    return ::testing::AssertionFailure() << "Retry-After " << seconds << " is not within 1.."
                                         << max_seconds << ": " << response;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace ikigai::support
