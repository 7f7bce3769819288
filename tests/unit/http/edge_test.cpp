// Request ids, client addresses behind proxies, media types, CORS origins, problem bodies.
#include "http/edge.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "http/problem.hpp"
#include "http/request.hpp"

namespace ikigai::http {
namespace {

using core::FieldCode;

TEST(EdgeTest, RequestIdShape) {
  EXPECT_TRUE(IsValidRequestId("abc-123"));
  EXPECT_TRUE(IsValidRequestId("a.b_c:d-e"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("bad id!"));
  EXPECT_FALSE(IsValidRequestId(std::string(129, 'a')));
  EXPECT_TRUE(IsValidRequestId(std::string(128, 'a')));
}

TEST(EdgeTest, ClientAddressIgnoresForwardedForFromUntrustedPeers) {
  EXPECT_EQ(ClientAddress("203.0.113.7", std::string("1.2.3.4"), {}), "203.0.113.7");
  auto cfg = config::FromValues({{"IKIGAI_TRUSTED_PROXIES", "10.0.0.0/8"}});
  ASSERT_TRUE(cfg);
  EXPECT_EQ(ClientAddress("203.0.113.7", std::string("1.2.3.4"), cfg->trusted_proxies), "203.0.113.7");
}

TEST(EdgeTest, ClientAddressTakesRightmostUntrusted) {
  auto cfg = config::FromValues({{"IKIGAI_TRUSTED_PROXIES", "10.0.0.0/8"}});
  ASSERT_TRUE(cfg);
  const auto& t = cfg->trusted_proxies;
  EXPECT_EQ(ClientAddress("10.0.0.1", std::string("198.51.100.9, 203.0.113.7, 10.0.0.2"), t), "203.0.113.7");
  EXPECT_EQ(ClientAddress("10.0.0.1", std::string("10.0.0.3"), t), "10.0.0.3");
  EXPECT_EQ(ClientAddress("10.0.0.1", std::string("garbage, 10.0.0.2"), t), "10.0.0.2");
  EXPECT_EQ(ClientAddress("::ffff:10.0.0.1", std::string("203.0.113.7"), t), "203.0.113.7");
  EXPECT_EQ(ClientAddress("10.0.0.1", std::nullopt, t), "10.0.0.1");
}

Request WithHeaders(std::vector<std::pair<std::string, std::string>> headers) {
  Request r;
  r.headers = std::move(headers);
  return r;
}

TEST(EdgeTest, RepeatedFieldLinesAreCombinedInOrder) {
  auto r = WithHeaders({{"x-forwarded-for", "198.51.100.1"}, {"user-agent", "ua"},
                        {"x-forwarded-for", "203.0.113.7, 10.0.0.2"}, {"x-forwarded-for", "10.0.0.3"}});
  EXPECT_EQ(r.Header("x-forwarded-for"), "198.51.100.1, 203.0.113.7, 10.0.0.2, 10.0.0.3");
  EXPECT_EQ(r.Header("user-agent"), "ua");
  EXPECT_EQ(r.Header("origin"), std::nullopt);
  EXPECT_EQ(WithHeaders({{"x-a", ""}, {"x-a", "b"}}).Header("x-a"), ", b");
  EXPECT_EQ(WithHeaders({{"cookie", "a=1"}, {"cookie", "b=2"}}).Header("cookie"), "a=1; b=2");
}

// A proxy that appends its own X-Forwarded-For line (HAProxy's option forwardfor) after the
// client's: the proxy's line is the one to believe.
TEST(EdgeTest, ClientAddressReadsEveryForwardedForLine) {
  auto cfg = config::FromValues({{"IKIGAI_TRUSTED_PROXIES", "10.0.0.0/8"}});
  ASSERT_TRUE(cfg);
  const auto& t = cfg->trusted_proxies;
  auto r = WithHeaders({{"x-forwarded-for", "1.2.3.4"}, {"x-forwarded-for", "203.0.113.7"}});
  EXPECT_EQ(ClientAddress("10.0.0.1", r.Header("x-forwarded-for"), t), "203.0.113.7");
  auto chained = WithHeaders({{"x-forwarded-for", "1.2.3.4"}, {"x-forwarded-for", "203.0.113.7, 10.0.0.9"}});
  EXPECT_EQ(ClientAddress("10.0.0.1", chained.Header("x-forwarded-for"), t), "203.0.113.7");
  // A forged client line with garbage cannot hide the proxy's line either.
  auto garbage = WithHeaders({{"x-forwarded-for", "nonsense"}, {"x-forwarded-for", "203.0.113.7"}});
  EXPECT_EQ(ClientAddress("10.0.0.1", garbage.Header("x-forwarded-for"), t), "203.0.113.7");
}

// A singleton field sent twice combines into a value its parser refuses.
TEST(EdgeTest, RepeatedSingletonFieldsDoNotParse) {
  auto request_id = WithHeaders({{"x-request-id", "abc"}, {"x-request-id", "def"}});
  EXPECT_FALSE(IsValidRequestId(*request_id.Header("x-request-id")));
  auto type = WithHeaders({{"content-type", "application/json"}, {"content-type", "application/json"}});
  EXPECT_FALSE(IsJsonMediaType(*type.Header("content-type")));
  const std::vector<std::string> allowed{"https://app.example.com"};
  auto origin = WithHeaders({{"origin", "https://app.example.com"}, {"origin", "https://app.example.com"}});
  EXPECT_FALSE(AllowedOrigin(origin.Header("origin"), allowed));
}

TEST(EdgeTest, JsonMediaType) {
  EXPECT_TRUE(IsJsonMediaType("application/json"));
  EXPECT_TRUE(IsJsonMediaType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonMediaType("Application/JSON"));
  EXPECT_FALSE(IsJsonMediaType("text/plain"));
  EXPECT_FALSE(IsJsonMediaType("application/jsonp"));
  EXPECT_FALSE(IsJsonMediaType(""));
}

TEST(EdgeTest, CorsOriginsAreExact) {
  const std::vector<std::string> allowed{"https://app.example.com"};
  EXPECT_EQ(AllowedOrigin(std::string("https://app.example.com"), allowed), "https://app.example.com");
  EXPECT_FALSE(AllowedOrigin(std::string("https://app.example.com.evil.test"), allowed));
  EXPECT_FALSE(AllowedOrigin(std::string("http://app.example.com"), allowed));
  EXPECT_FALSE(AllowedOrigin(std::nullopt, allowed));
  // Outside development nothing but the list: not even a local address.
  EXPECT_FALSE(AllowedOrigin(std::string("http://localhost:5173"), allowed));
}

// In development a frontend on this machine works without configuration, on any port.
TEST(EdgeTest, DevelopmentAllowsLocalOrigins) {
  const std::vector<std::string> none;
  for (const char* ok : {"http://localhost:5173", "http://127.0.0.1:3000", "http://localhost", "http://127.0.0.1:65535"}) {
    EXPECT_EQ(AllowedOrigin(std::string(ok), none, true), ok) << ok;
  }
  for (const char* bad : {"http://localhost.evil.test", "http://localhost:", "http://localhost:5173/", "http://localhost:abc",
                          "https://localhost:5173", "http://127.0.0.1:123456", "http://127.0.0.10:80", "http://localhost:80@evil.test",
                          "null", ""}) {
    EXPECT_FALSE(AllowedOrigin(std::string(bad), none, true)) << bad;
  }
  EXPECT_FALSE(AllowedOrigin(std::string("http://localhost:5173"), none, false));
}

TEST(ProblemTest, BodyHasTheContractMembers) {
  core::Error e{core::ErrorCode::kValidation, {}, {{"email", {core::FieldCode::kInvalidFormat, "must be a valid email address"}}}, std::nullopt};
  auto body = nlohmann::json::parse(ProblemBody(e, "req-1"));
  EXPECT_EQ(body["type"], "urn:ikigai:problem:validation_failed");
  EXPECT_EQ(body["title"], "Validation failed");
  EXPECT_EQ(body["status"], 422);
  EXPECT_EQ(body["code"], "validation_failed");
  EXPECT_EQ(body["errors"]["email"], "must be a valid email address");
  EXPECT_EQ(body["error_codes"]["email"], "invalid_format");
  EXPECT_EQ(body["request_id"], "req-1");
  EXPECT_FALSE(body["detail"].get<std::string>().empty());
}

TEST(ProblemTest, ValidationCarriesErrorCodesWithTheSameKeysAsErrors) {
  core::Error e{core::ErrorCode::kValidation};
  e.fields["title"] = {FieldCode::kTooLong, "must be 1 to 200 characters"};
  e.fields["keys.auth"] = {FieldCode::kInvalidFormat, "must be base64url of 16 bytes"};
  const auto body = nlohmann::json::parse(ProblemBody(e, "rid"));
  EXPECT_EQ(body["status"], 422);
  EXPECT_EQ(body["errors"]["title"], "must be 1 to 200 characters");
  EXPECT_EQ(body["error_codes"], (nlohmann::json{{"title", "too_long"}, {"keys.auth", "invalid_format"}}));
  std::set<std::string> a, b;
  for (const auto& [k, v] : body["errors"].items()) a.insert(k);
  for (const auto& [k, v] : body["error_codes"].items()) b.insert(k);
  EXPECT_EQ(a, b);
}

TEST(ProblemTest, NoFieldsNoErrorMembers) {
  const auto body = nlohmann::json::parse(ProblemBody({core::ErrorCode::kNotFound}, "rid"));
  EXPECT_FALSE(body.contains("errors"));
  EXPECT_FALSE(body.contains("error_codes"));
}

TEST(ProblemTest, EveryFieldCodeHasItsContractName) {
  const std::pair<FieldCode, const char*> names[] = {
      {FieldCode::kRequired, "required"},           {FieldCode::kUnknownField, "unknown_field"},
      {FieldCode::kReadOnly, "read_only"},          {FieldCode::kInvalidType, "invalid_type"},
      {FieldCode::kTooShort, "too_short"},          {FieldCode::kTooLong, "too_long"},
      {FieldCode::kOutOfRange, "out_of_range"},     {FieldCode::kInvalidFormat, "invalid_format"},
      {FieldCode::kInvalidValue, "invalid_value"},  {FieldCode::kTaken, "taken"},
      {FieldCode::kTooCommon, "too_common"},        {FieldCode::kSameAsIdentity, "same_as_identity"},
      {FieldCode::kIncorrect, "incorrect"},         {FieldCode::kSameAsCurrent, "same_as_current"},
      {FieldCode::kTooMany, "too_many"},
  };
  for (const auto& [code, name] : names) EXPECT_STREQ(core::FieldCodeName(code), name);
}

TEST(ProblemTest, InternalErrorsHideTheirDetail) {
  core::Error e{core::ErrorCode::kInternal, "SELECT * FROM users failed at /src/x.cpp", {}, std::nullopt};
  const std::string body = ProblemBody(e, "r");
  EXPECT_EQ(body.find("SELECT"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(body)["status"], 500);
}

TEST(ProblemTest, EveryCodeHasAStatus) {
  EXPECT_EQ(StatusFor(core::ErrorCode::kInvalidToken), 400);
  EXPECT_EQ(StatusFor(core::ErrorCode::kInvalidCredentials), 401);
  EXPECT_EQ(StatusFor(core::ErrorCode::kAccountDisabled), 403);
  EXPECT_EQ(StatusFor(core::ErrorCode::kPreconditionFailed), 412);
  EXPECT_EQ(StatusFor(core::ErrorCode::kRateLimited), 429);
  EXPECT_EQ(StatusFor(core::ErrorCode::kUnavailable), 503);
  EXPECT_STREQ(CodeName(core::ErrorCode::kUnsupportedMediaType), "unsupported_media_type");
}

}  // namespace
}  // namespace ikigai::http
