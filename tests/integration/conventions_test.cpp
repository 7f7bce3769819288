// API.md "Conventions" that every response follows: request ids, Date, no-store, 404 and 405.
#include <string>

#include <gtest/gtest.h>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"

namespace ikigai {
namespace {

using support::Http;
using support::IsProblem;
using support::IsValidRequestId;

class ConventionsTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { suite_server_.Reset(); }
  static support::Server& Server() { return suite_server_.Get(); }
  static inline support::SuiteServer suite_server_;
};

TEST_F(ConventionsTest, EveryResponseGetsARequestId) {
  Http http(Server());
  for (const char* path : {"/healthz", "/nope", "/api/v1/nope", "/metrics"}) {
    auto res = http.Get(path);
    ASSERT_NE(res.status, 0) << res;
    EXPECT_TRUE(IsValidRequestId(res.Header("x-request-id"))) << path << ": " << res;
  }
}

TEST_F(ConventionsTest, GeneratedRequestIdsDiffer) {
  Http http(Server());
  auto first = http.Get("/healthz");
  auto second = http.Get("/healthz");
  EXPECT_NE(first.Header("x-request-id"), second.Header("x-request-id"));
}

TEST_F(ConventionsTest, ValidIncomingRequestIdIsEchoed) {
  Http http(Server());
  auto ok = http.Get("/healthz", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(ok.Header("x-request-id"), "abc-123") << ok;
  auto problem = http.Get("/api/v1/nope", "", {{"X-Request-Id", "abc-123"}});
  EXPECT_EQ(problem.Header("x-request-id"), "abc-123") << problem;
  EXPECT_TRUE(IsProblem(problem, 404, "not_found"));
}

TEST_F(ConventionsTest, InvalidIncomingRequestIdIsReplaced) {
  Http http(Server());
  for (const std::string& bad : {std::string("bad id!"), std::string(200, 'a')}) {
    auto res = http.Get("/healthz", "", {{"X-Request-Id", bad}});
    std::string id = res.Header("x-request-id");
    EXPECT_NE(id, bad) << res;
    EXPECT_TRUE(IsValidRequestId(id)) << res;
  }
}

TEST_F(ConventionsTest, EveryResponseHasADate) {
  Http http(Server());
  for (const char* path : {"/healthz", "/nope", "/api/v1/openapi.json"}) {
    auto res = http.Get(path);
    EXPECT_TRUE(support::IsHttpDate(res.Header("date"))) << path << ": " << res;
  }
}

TEST_F(ConventionsTest, ApiResponsesAreNeverCached) {
  Http http(Server());
  auto doc = http.Get("/api/v1/openapi.json");
  EXPECT_TRUE(support::HeaderListContains(doc.Header("cache-control"), "no-store")) << doc;
  auto missing = http.Get("/api/v1/nope");
  EXPECT_TRUE(support::HeaderListContains(missing.Header("cache-control"), "no-store")) << missing;
  support::Request wrong_type;
  wrong_type.method = "POST";
  wrong_type.path = "/api/v1/auth/register";
  wrong_type.body = "hello";
  wrong_type.content_type = "text/plain";
  auto rejected = http.Send(wrong_type);
  EXPECT_TRUE(support::HeaderListContains(rejected.Header("cache-control"), "no-store"))
      << rejected;
}

TEST_F(ConventionsTest, UnknownPathIsANotFoundProblem) {
  Http http(Server());
  EXPECT_TRUE(IsProblem(http.Get("/nope"), 404, "not_found"));
  EXPECT_TRUE(IsProblem(http.Get("/api/v1/nope"), 404, "not_found"));
  EXPECT_TRUE(IsProblem(http.Post("/api/v1/nope", "{}"), 404, "not_found"));
}

TEST_F(ConventionsTest, WrongMethodIsMethodNotAllowedWithAllow) {
  auto res = Http(Server()).Post("/healthz");
  EXPECT_TRUE(IsProblem(res, 405, "method_not_allowed"));
  EXPECT_TRUE(support::HeaderListContains(res.Header("allow"), "GET")) << res;
}

}  // namespace
}  // namespace ikigai
