// Route matching: templates, parameters, 404 versus 405 with Allow.
#include "http/router.hpp"

#include <gtest/gtest.h>

namespace ikigai::http {
namespace {

Route MakeRoute(std::string method, std::string path) {
  return Route{.method = std::move(method), .path = std::move(path), .handler = [](Request&) { return NoContent(); }};
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add(MakeRoute("GET", "/api/v1/tasks"));
    router_.Add(MakeRoute("POST", "/api/v1/tasks"));
    router_.Add(MakeRoute("GET", "/api/v1/tasks/{id}"));
    router_.Add(MakeRoute("PATCH", "/api/v1/tasks/{id}"));
    router_.Add(MakeRoute("GET", "/api/v1/me/{thing}"));
    router_.Add(MakeRoute("GET", "/api/v1/me/sessions"));
    router_.Add(MakeRoute("DELETE", "/api/v1/me/sessions/{id}"));
  }
  Router router_;
};

TEST_F(RouterTest, FindsLiteralRoute) {
  auto m = router_.Find("POST", "/api/v1/tasks");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->method, "POST");
  EXPECT_EQ(m.route->path, "/api/v1/tasks");
}

TEST_F(RouterTest, ExtractsParameters) {
  auto m = router_.Find("PATCH", "/api/v1/tasks/abc-123");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.params.at("id"), "abc-123");
}

TEST_F(RouterTest, LiteralSegmentBeatsParameter) {
  auto m = router_.Find("GET", "/api/v1/me/sessions");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->path, "/api/v1/me/sessions");
  auto other = router_.Find("GET", "/api/v1/me/export");
  ASSERT_EQ(other.kind, Match::Kind::kFound);
  EXPECT_EQ(other.route->path, "/api/v1/me/{thing}");
}

TEST_F(RouterTest, WrongMethodListsAllowed) {
  auto m = router_.Find("DELETE", "/api/v1/tasks");
  ASSERT_EQ(m.kind, Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "GET, HEAD, OPTIONS, POST");
}

TEST_F(RouterTest, HeadIsRoutedAsGet) {
  auto m = router_.Find("HEAD", "/api/v1/tasks/abc-123");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->method, "GET");
  EXPECT_EQ(m.params.at("id"), "abc-123");
}

TEST_F(RouterTest, HeadWithoutGetIsNotAllowed) {
  auto m = router_.Find("HEAD", "/api/v1/me/sessions/abc");
  ASSERT_EQ(m.kind, Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "DELETE, OPTIONS");
}

TEST_F(RouterTest, UnknownPathsAreNotFound) {
  EXPECT_EQ(router_.Find("GET", "/api/v1/nope").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router_.Find("GET", "/api/v1/tasks/").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router_.Find("GET", "/api/v1/tasks/a/b").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router_.Find("GET", "").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router_.Find("GET", "api").kind, Match::Kind::kNotFound);
}

TEST_F(RouterTest, DuplicateRouteIsRefused) {
  EXPECT_THROW(router_.Add(MakeRoute("GET", "/api/v1/tasks")), std::invalid_argument);
}

}  // namespace
}  // namespace ikigai::http
