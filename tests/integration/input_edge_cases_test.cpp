// Input edge cases of issue 11, item 9, on both back ends: a JSON body with bytes after its value
// or a key twice is 400 malformed_json; a due_at whose UTC form leaves the years 0001..9999 is
// 422 (and never comes back as an impossible timestamp); blank titles, tags and map entries are
// 422; query text that is not UTF-8 is 400, never a database error.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/task_api.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::Http;
using support::IsFieldError;
using support::IsProblem;

class InputEdgeCasesTest : public support::TaskSuite<InputEdgeCasesTest> {
 protected:
  static const support::ApiUser& User() {
    static const support::ApiUser user = support::NewApiUser(Http(Server()), "edges");
    return user;
  }
  static support::Response PostRaw(const std::string& path, const std::string& body) {
    return Http(Server()).Post(path, body, User().auth);
  }
  static long long TaskCount() {
    return std::stoll(Db().Scalar("SELECT COUNT(*) FROM tasks WHERE user_id = " + support::DirectDb::Quote(User().id))
                          .value_or("-1"));
  }
};

// ---------------------------------------------------------------------------------------------
// JSON: nothing after the value, no key twice

TEST_F(InputEdgeCasesTest, BytesAfterTheJsonValueAreMalformed) {
  const long long before = TaskCount();
  for (const std::string& body :
       {std::string("{\"title\":\"a\"}\0", 14), std::string("{\"title\":\"a\"}\0{\"x\":1}", 21),
        std::string("{\"title\":\"a\"} \0 ", 16), std::string("{\"title\":\"a\"}   \n  garbage"),
        std::string("{\"title\":\"a\"}}"), std::string("{\"title\":\"a\"}{\"title\":\"b\"}"),
        std::string("{\"title\":\"a\"} 1")}) {
    SCOPED_TRACE(json(body).dump(-1, ' ', true, json::error_handler_t::replace));
    EXPECT_TRUE(IsProblem(PostRaw("/api/v1/tasks", body), 400, "malformed_json"));
  }
  EXPECT_EQ(TaskCount(), before) << "a malformed body created a task";
  // Routes without body members parse the same way (a user of its own: a 204 would end it).
  Http http(Server());
  auto leaving = support::NewApiUser(http, "edges_out");
  auto out = http.Post("/api/v1/auth/logout", std::string("{}\0", 3), leaving.auth);
  EXPECT_TRUE(IsProblem(out, 400, "malformed_json"));
}

TEST_F(InputEdgeCasesTest, TrailingWhiteSpaceAfterTheValueIsFine) {
  auto res = PostRaw("/api/v1/tasks", "{\"title\":\"Spaced\"} \r\n\t \n");
  EXPECT_EQ(res.status, 201) << res;
}

TEST_F(InputEdgeCasesTest, AKeyTwiceIsMalformedAtAnyDepth) {
  const long long before = TaskCount();
  for (const std::string& body :
       {std::string(R"({"title":"a","title":"b"})"), std::string(R"({"title":"a","notes":"","title":"a"})"),
        std::string(R"({"title":"a","\u0074itle":"b"})"),
        // nested objects are no task member (422 unknown), but syntax comes first
        std::string(R"({"title":"a","x":{"k":1,"k":2}})"), std::string(R"({"title":"a","x":[{"k":1,"k":2}]})")}) {
    SCOPED_TRACE(body);
    EXPECT_TRUE(IsProblem(PostRaw("/api/v1/tasks", body), 400, "malformed_json"));
  }
  EXPECT_EQ(TaskCount(), before);
  // The same on a login: which password would count?
  auto login = Http(Server()).Post("/api/v1/auth/login",
                                   R"({"username":"nobody","password":"first one","password":"second"})");
  EXPECT_TRUE(IsProblem(login, 400, "malformed_json"));
}

// ---------------------------------------------------------------------------------------------
// due_at within the years RFC 3339 can write, in UTC

TEST_F(InputEdgeCasesTest, DueAtOutsideYears1To9999InUtcIs422) {
  Http http(Server());
  const long long before = TaskCount();
  for (const char* due : {"9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59-00:01", "0001-01-01T00:00:00+01:00",
                          "0001-01-01T00:59:59+01:00"}) {
    SCOPED_TRACE(due);
    EXPECT_TRUE(IsFieldError(support::PostTask(http, User(), {{"title", "Far"}, {"due_at", due}}), "due_at"));
  }
  EXPECT_EQ(TaskCount(), before);
  auto task = support::CreateTask(http, User(), {{"title", "Edge"}});
  auto patched = support::PatchTask(http, User(), task["id"], {{"due_at", "9999-12-31T23:59:59-23:59"}});
  EXPECT_TRUE(IsFieldError(patched, "due_at"));
  // As a filter the same text is a bad query parameter.
  auto listed = http.Get(support::TasksQuery({{"due_before", "9999-12-31T23:59:59-23:59"}}), "", User().auth);
  EXPECT_TRUE(IsProblem(listed, 400, "bad_request")) << listed;
}

TEST_F(InputEdgeCasesTest, DueAtAtTheEdgesOfTheYearsIsKept) {
  Http http(Server());
  auto last = support::CreateTask(http, User(), {{"title", "Last"}, {"due_at", "9999-12-31T23:59:59+00:00"}});
  EXPECT_EQ(last["due_at"], "9999-12-31T23:59:59Z");
  auto first = support::CreateTask(http, User(), {{"title", "First"}, {"due_at", "0001-01-01T01:00:00+01:00"}});
  EXPECT_EQ(first["due_at"], "0001-01-01T00:00:00Z");
  auto read = support::GetTask(http, User(), first["id"]);
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_TRUE(support::IsUtcTimestamp(read.Json()["due_at"])) << read;
}

// ---------------------------------------------------------------------------------------------
// Blank text where text is required

TEST_F(InputEdgeCasesTest, BlankTitlesTagsAndMapEntriesAre422) {
  Http http(Server());
  const long long before = TaskCount();
  for (const char* title : {" ", "     ", "\xc2\xa0", "\xe3\x80\x80", " \xe2\x80\x8b "}) {
    SCOPED_TRACE(json(title).dump());
    auto res = support::PostTask(http, User(), {{"title", title}});
    EXPECT_TRUE(IsFieldError(res, "title"));
    if (res.status == 422) {
      EXPECT_EQ(res.Json()["errors"]["title"], "must not be blank");
    }
  }
  EXPECT_EQ(TaskCount(), before);
  auto task = support::CreateTask(http, User(), {{"title", "  padded but fine  "}});
  EXPECT_EQ(task["title"], "  padded but fine  ");
  EXPECT_TRUE(IsFieldError(support::PatchTask(http, User(), task["id"], {{"title", "  "}}), "title"));
  EXPECT_TRUE(IsFieldError(support::PostTask(http, User(), {{"title", "Tagged"}, {"tags", json::array({"ok", "  "})}}), "tags"));
  auto map = http.Put("/api/v1/ikigai", json{{"love", json::array({"music", " "})}}.dump(), User().auth);
  EXPECT_TRUE(IsFieldError(map, "love")) << map;
}

// ---------------------------------------------------------------------------------------------
// Query text that is not UTF-8

TEST_F(InputEdgeCasesTest, QueryTextThatIsNotUtf8Is400) {
  Http http(Server());
  for (const char* name : {"q", "tag"}) {
    for (const char* value : {"%FF", "caf%C3", "%C0%AF", "%ED%A0%80"}) {
      SCOPED_TRACE(std::string(name) + "=" + value);
      auto res = http.Get(std::string("/api/v1/tasks?") + name + "=" + value, "", User().auth);
      EXPECT_TRUE(IsProblem(res, 400, "bad_request")) << res;
    }
  }
  auto fine = http.Get("/api/v1/tasks?q=caf%C3%A9&tag=%E2%82%AC", "", User().auth);
  EXPECT_EQ(fine.status, 200) << fine;
}

TEST_F(InputEdgeCasesTest, AdminQueryTextThatIsNotUtf8Is400) {
  Http http(Server());
  auto admin = support::NewApiUser(http, "edges_admin");
  Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + support::DirectDb::Quote(admin.id));
  auto res = http.Get("/api/v1/admin/users?q=%FF%FE", "", admin.auth);
  EXPECT_TRUE(IsProblem(res, 400, "bad_request")) << res;
  EXPECT_EQ(http.Get("/api/v1/admin/users?q=%C3%A9", "", admin.auth).status, 200);
}

}  // namespace
}  // namespace ikigai
