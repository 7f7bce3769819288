// Request body checks in API.md's order (413, 415, 400, 422), always as JSON problems.
#include <string>

#include <gtest/gtest.h>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"

namespace ikigai {
namespace {

using support::Http;
using support::IsJsonResponse;
using support::IsProblem;
using support::Request;

constexpr const char* kRegister = "/api/v1/auth/register";

// 1 MiB of JSON, far over the default IKIGAI_MAX_BODY_BYTES of 64 KiB.
std::string HugeJson() { return R"({"username":")" + std::string(1 << 20, 'a') + R"("})"; }

Request PostRegister(std::string body, std::optional<std::string> content_type = std::nullopt) {
  Request request;
  request.method = "POST";
  request.path = kRegister;
  request.body = std::move(body);
  request.content_type = std::move(content_type);
  return request;
}

class BodyRulesTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { suite_server_.Reset(); }
  static support::Server& Server() { return suite_server_.Get(); }
  static inline support::SuiteServer suite_server_;
};

TEST_F(BodyRulesTest, OversizedBodyIsAnsweredWith413) {
  Http http(Server());
  auto res = http.Send(PostRegister(HugeJson()));
  EXPECT_TRUE(IsProblem(res, 413, "payload_too_large"));
  EXPECT_EQ(http.Get("/healthz").status, 200) << "the server stopped serving";
}

TEST_F(BodyRulesTest, OversizedChunkedBodyIsAnsweredWith413) {
  Http http(Server());
  auto request = PostRegister(HugeJson());
  request.chunked = true;
  auto res = http.Send(request);
  EXPECT_TRUE(IsProblem(res, 413, "payload_too_large"));
  EXPECT_EQ(http.Get("/healthz").status, 200) << "the server stopped serving";
}

TEST_F(BodyRulesTest, SizeIsCheckedBeforeMediaType) {
  auto res = Http(Server()).Send(PostRegister(std::string(1 << 20, 'x'), "text/plain"));
  EXPECT_TRUE(IsProblem(res, 413, "payload_too_large"));
}

TEST_F(BodyRulesTest, NonJsonMediaTypeIs415) {
  auto res = Http(Server()).Send(PostRegister(R"({"username":"alice"})", "text/plain"));
  EXPECT_TRUE(IsProblem(res, 415, "unsupported_media_type"));
}

TEST_F(BodyRulesTest, BodyWithoutContentTypeIs415) {
  auto res = Http(Server()).Send(PostRegister(R"({"username":"alice"})", ""));
  EXPECT_TRUE(IsProblem(res, 415, "unsupported_media_type"));
}

TEST_F(BodyRulesTest, MediaTypeIsCheckedBeforeJsonSyntax) {
  auto res = Http(Server()).Send(PostRegister(R"({"username":)", "text/plain"));
  EXPECT_TRUE(IsProblem(res, 415, "unsupported_media_type"));
}

TEST_F(BodyRulesTest, CharsetParameterIsAccepted) {
  // An empty object passes the media type and syntax checks and fails validation.
  auto res = Http(Server()).Send(PostRegister("{}", "application/json; charset=utf-8"));
  EXPECT_NE(res.status, 415) << res;
  EXPECT_TRUE(IsProblem(res, 422, "validation_failed"));
}

TEST_F(BodyRulesTest, MalformedJsonIs400) {
  auto res = Http(Server()).Send(PostRegister(R"({"username":)"));
  EXPECT_TRUE(IsProblem(res, 400, "malformed_json"));
}

TEST_F(BodyRulesTest, DeeplyNestedJsonIsRejectedCleanly) {
  std::string nested = R"({"username":)" + std::string(1000, '[') + std::string(1000, ']') + "}";
  auto res = Http(Server()).Send(PostRegister(nested));
  ASSERT_NE(res.status, 0) << "no response: " << res;
  EXPECT_TRUE(res.status == 400 || res.status == 422) << res;
  EXPECT_TRUE(IsProblem(res, 400, "malformed_json") || IsProblem(res, 422, "validation_failed"))
      << res;
}

TEST_F(BodyRulesTest, ArrayBodyIs422ForTheBody) {
  auto res = Http(Server()).Send(PostRegister("[]"));
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed"));
  auto errors = res.Json().value("errors", nlohmann::json::object());
  EXPECT_TRUE(errors.contains("body")) << res;
}

TEST_F(BodyRulesTest, ScalarBodyIs422ForTheBody) {
  auto res = Http(Server()).Send(PostRegister("42"));
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed"));
  auto errors = res.Json().value("errors", nlohmann::json::object());
  EXPECT_TRUE(errors.contains("body")) << res;
}

TEST_F(BodyRulesTest, UnknownFieldIs422ForThatField) {
  auto res = Http(Server()).Send(PostRegister(
      R"({"username":"alice","email":"alice@example.com","password":"correct horse battery",)"
      R"("bogus":1})"));
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed"));
  auto errors = res.Json().value("errors", nlohmann::json::object());
  EXPECT_TRUE(errors.contains("bogus")) << res;
}

TEST_F(BodyRulesTest, RejectionsAreNeverHtml) {
  Http http(Server());
  auto chunked = PostRegister(HugeJson());
  chunked.chunked = true;
  for (const auto& request :
       {PostRegister(HugeJson()), chunked, PostRegister("x", "text/plain"),
        PostRegister(R"({"username":)"), PostRegister("[]"), PostRegister(R"({"bogus":1})")}) {
    auto res = http.Send(request);
    EXPECT_TRUE(IsJsonResponse(res))
        << request.method << " " << request.path << " " << request.body.substr(0, 40);
  }
}

}  // namespace
}  // namespace ikigai
