// CORS for the browser frontend: only origins listed in IKIGAI_CORS_ORIGINS get CORS headers.
#include <string>

#include <gtest/gtest.h>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"

namespace ikigai {
namespace {

using support::HeaderListContains;
using support::Http;

constexpr const char* kAllowed = "https://app.example.com";
constexpr const char* kOther = "https://evil.example.com";

class CorsTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { suite_server_.Reset(); }
  static support::Server& Server() { return suite_server_.Get(); }

  // OPTIONS /api/v1/auth/register as a browser sends it before a cross-origin POST.
  static support::Response Preflight(const std::string& origin, support::Headers extra = {}) {
    support::Headers headers = {{"Origin", origin}, {"Access-Control-Request-Method", "POST"}};
    headers.insert(headers.end(), extra.begin(), extra.end());
    return Http(Server()).Options("/api/v1/auth/register", "", headers);
  }

  static inline support::SuiteServer suite_server_{{{"IKIGAI_CORS_ORIGINS", kAllowed}}};
};

TEST_F(CorsTest, PreflightFromAnAllowedOriginIsAnswered) {
  auto res = Preflight(kAllowed);
  EXPECT_EQ(res.status, 204) << res;
  EXPECT_EQ(res.Header("access-control-allow-origin"), kAllowed) << res;
  EXPECT_TRUE(HeaderListContains(res.Header("access-control-allow-methods"), "POST")) << res;
}

TEST_F(CorsTest, PreflightAllowsTheJsonAndBearerHeaders) {
  // What the frontend sends: a JSON body and, on most calls, a bearer token.
  auto res =
      Preflight(kAllowed, {{"Access-Control-Request-Headers", "content-type,authorization"}});
  EXPECT_EQ(res.status, 204) << res;
  std::string allowed = res.Header("access-control-allow-headers");
  EXPECT_TRUE(HeaderListContains(allowed, "content-type")) << res;
  EXPECT_TRUE(HeaderListContains(allowed, "authorization")) << res;
}

TEST_F(CorsTest, PreflightFromAnotherOriginGetsNoAllowOrigin) {
  auto res = Preflight(kOther);
  ASSERT_NE(res.status, 0) << res;
  EXPECT_FALSE(res.HasHeader("access-control-allow-origin")) << res;
}

TEST_F(CorsTest, RequestFromAnAllowedOriginGetsAllowOriginAndVary) {
  auto res = Http(Server()).Get("/healthz", "", {{"Origin", kAllowed}});
  EXPECT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Header("access-control-allow-origin"), kAllowed) << res;
  bool varies = false;
  for (const auto& vary : res.Headers("vary"))
    varies = varies || HeaderListContains(vary, "Origin");
  EXPECT_TRUE(varies) << res;
}

TEST_F(CorsTest, RequestFromAnotherOriginGetsNoAllowOrigin) {
  auto res = Http(Server()).Get("/healthz", "", {{"Origin", kOther}});
  EXPECT_EQ(res.status, 200) << res;
  EXPECT_FALSE(res.HasHeader("access-control-allow-origin")) << res;
}

}  // namespace
}  // namespace ikigai
