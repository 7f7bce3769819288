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

// What the handler of a matched route answers for `path` (the route's own handler, as the server
// would call it after authentication).
struct Called {
  int status = 0;
  int handler_calls = 0;
};

Called Invoke(std::string_view method, const std::string& path, const std::string& template_path) {
  Router router;
  Called called;
  router.Add(Route{.method = std::string(method), .path = template_path, .handler = [&called](Request&) {
                     ++called.handler_calls;
                     return NoContent();
                   }});
  auto m = router.Find(method, path);
  if (m.kind != Match::Kind::kFound) return called;
  Request r;
  r.params = m.params;
  called.status = m.route->handler(r).status;
  return called;
}

TEST(RouterIdTest, AnIdThatCannotBeOursIs404WithoutTheHandler) {
  for (const std::string& id : {std::string("abc-123"), std::string("1"), std::string("%ff"),
                                std::string("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5\xff"),
                                std::string("\xc3\xa9\xff"),
                                std::string("0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B")}) {
    auto called = Invoke("GET", "/api/v1/tasks/" + id, "/api/v1/tasks/{id}");
    EXPECT_EQ(called.status, 404) << id;
    EXPECT_EQ(called.handler_calls, 0) << id;
  }
}

TEST(RouterIdTest, OurIdsReachTheHandler) {
  auto called = Invoke("DELETE", "/api/v1/me/sessions/0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
                       "/api/v1/me/sessions/{id}");
  EXPECT_EQ(called.status, 204);
  EXPECT_EQ(called.handler_calls, 1);
}

TEST(RouterIdTest, OtherParametersAreNotIds) {
  auto called = Invoke("GET", "/api/v1/me/export", "/api/v1/me/{thing}");
  EXPECT_EQ(called.status, 204);
  auto user_id = Invoke("GET", "/api/v1/users/nope/tasks", "/api/v1/users/{user_id}/tasks");
  EXPECT_EQ(user_id.status, 404);
  EXPECT_EQ(user_id.handler_calls, 0);
}

}  // namespace
}  // namespace ikigai::http
