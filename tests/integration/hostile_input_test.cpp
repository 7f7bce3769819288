// Client-supplied text that no field rule checks (the User-Agent, login identifiers, path ids,
// X-Forwarded-For) on both back ends (issue 11, items 2 and 3): a raw non-UTF-8 or over-long
// User-Agent is stored repaired and cut, never a 500 on MariaDB; an identifier longer than any
// account's is a plain failed login; an {id} that cannot be one of ours is 404 (after 401/403);
// and X-Forwarded-For sent as several lines is read as one list.
#include <cctype>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/raw_connection.hpp"
#include "support/wait.hpp"
#include "support/task_api.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::BearerHeaders;
using support::DirectDb;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::NewCredentials;
using support::Response;

// A User-Agent with a raw 0xFF byte (never UTF-8), and what the server keeps of it.
const std::string kBadAgent = "probe/1.0 \xff (raw byte)";
const std::string kBadAgentStored = "probe/1.0 \xef\xbf\xbd (raw byte)";

Headers Agent(const std::string& agent, const std::string& request_id = "") {
  Headers h{{"User-Agent", agent}};
  if (!request_id.empty()) h.emplace_back("X-Request-Id", request_id);
  return h;
}

// The user_agent column of the activity rows a request wrote, by action.
std::vector<std::string> AgentsOf(DirectDb& db, const std::string& request_id, const std::string& action) {
  std::vector<std::string> out;
  for (auto& row : db.Query("SELECT user_agent FROM activity WHERE request_id = " + DirectDb::Quote(request_id) +
                            " AND action = " + DirectDb::Quote(action))) {
    out.push_back(row[0].value_or(""));
  }
  return out;
}

// The session list's entry for the session of `pair` (the one its access token calls current).
json SessionOf(const Http& http, const support::TokenPair& pair) {
  auto res = http.Get("/api/v1/me/sessions", "", BearerHeaders(pair.access_token));
  EXPECT_EQ(res.status, 200) << res;
  if (res.status != 200) return {};
  const json body = res.Json();  // (a temporary's member in the range-for would dangle)
  for (const auto& item : body["items"]) {
    if (item["current"] == true) return item;
  }
  ADD_FAILURE() << "no such session in " << res;
  return {};
}

class HostileInputTest : public support::TaskSuite<HostileInputTest> {};

// ---------------------------------------------------------------------------------------------
// A User-Agent that is not UTF-8: every write that records it behaves as with a clean one.

TEST_F(HostileInputTest, RawByteUserAgentOnRegisterAndLogin) {
  Http http(Server());
  auto who = NewCredentials("ua_reg");
  auto reg = support::RegisterUser(http, who, Agent(kBadAgent, "ua-reg-1"));
  ASSERT_EQ(reg.status, 201) << reg;
  EXPECT_EQ(AgentsOf(Db(), "ua-reg-1", "auth.registered"), std::vector<std::string>{kBadAgentStored});

  auto login = support::Login(http, "username", who.username, who.password, Agent(kBadAgent, "ua-login-1"));
  ASSERT_EQ(login.status, 200) << login;
  auto pair = support::ExpectTokenPair(login);
  EXPECT_EQ(SessionOf(http, pair)["user_agent"], kBadAgentStored);
  EXPECT_EQ(AgentsOf(Db(), "ua-login-1", "auth.login_succeeded"), std::vector<std::string>{kBadAgentStored});
}

TEST_F(HostileInputTest, RawByteUserAgentOnAFailedLoginIsStillRecorded) {
  Http http(Server());
  auto who = NewCredentials("ua_fail");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto wrong = support::Login(http, "username", who.username, "Wrong password 1", Agent(kBadAgent, "ua-fail-1"));
  EXPECT_TRUE(IsUnauthorized(wrong, "invalid_credentials")) << wrong;
  EXPECT_EQ(AgentsOf(Db(), "ua-fail-1", "auth.login_failed"), std::vector<std::string>{kBadAgentStored});
  auto unknown = support::Login(http, "username", "ua_nobody_here", "Wrong password 1", Agent(kBadAgent, "ua-fail-2"));
  EXPECT_TRUE(IsUnauthorized(unknown, "invalid_credentials")) << unknown;
  EXPECT_EQ(AgentsOf(Db(), "ua-fail-2", "auth.login_failed"), std::vector<std::string>{kBadAgentStored});
}

// Was an account-enumeration oracle on MariaDB: 500 for a known address, 202 for an unknown one.
TEST_F(HostileInputTest, RawByteUserAgentOnForgotAnswers202ForKnownAndUnknownAlike) {
  Http http(Server());
  auto who = NewCredentials("ua_forgot");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  for (const auto& [email, request_id] : std::vector<std::pair<std::string, std::string>>{
           {who.email, "ua-forgot-known"}, {"ua_forgot_nobody@example.com", "ua-forgot-unknown"}}) {
    auto res = http.Post("/api/v1/auth/password/forgot", json{{"email", email}}.dump(), Agent(kBadAgent, request_id));
    EXPECT_EQ(res.status, 202) << email << ": " << res;
    EXPECT_EQ(res.Json(), (json{{"status", "accepted"}})) << res;
  }
  // The known address's token, mail and event are made after the 202 (same work before it for
  // both addresses), so the event is waited for.
  EXPECT_TRUE(support::WaitUntil([&] { return !AgentsOf(Db(), "ua-forgot-known", "auth.password_reset_requested").empty(); }))
      << "no auth.password_reset_requested event";
  EXPECT_EQ(AgentsOf(Db(), "ua-forgot-known", "auth.password_reset_requested"),
            std::vector<std::string>{kBadAgentStored});
}

TEST_F(HostileInputTest, RawByteUserAgentOnLogoutRevokesTheSession) {
  Http http(Server());
  auto who = NewCredentials("ua_logout");
  auto pair = support::RegisterAndLogin(http, who);
  auto out = http.Post("/api/v1/auth/logout", "", BearerHeaders(pair.access_token, Agent(kBadAgent, "ua-logout-1")));
  EXPECT_EQ(out.status, 204) << out;
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token))) << "the session outlived its logout";
  EXPECT_EQ(AgentsOf(Db(), "ua-logout-1", "auth.logout"), std::vector<std::string>{kBadAgentStored});
}

TEST_F(HostileInputTest, RawByteUserAgentOnTaskCreate) {
  Http http(Server());
  auto user = support::NewApiUser(http, "ua_task");
  auto res = http.Post("/api/v1/tasks", json{{"title", "Agent test"}}.dump(), user.With(Agent(kBadAgent, "ua-task-1")));
  EXPECT_EQ(res.status, 201) << res;
  EXPECT_EQ(AgentsOf(Db(), "ua-task-1", "task.created"), std::vector<std::string>{kBadAgentStored});
}

// 511 ASCII bytes and an "é" are 513 bytes: cut to 512 bytes it would end in half a character.
TEST_F(HostileInputTest, LongUserAgentIsCutBetweenCharacters) {
  Http http(Server());
  auto who = NewCredentials("ua_long");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  const std::string agent = std::string(511, 'a') + "\xc3\xa9";
  auto login = support::Login(http, "username", who.username, who.password, Agent(agent, "ua-long-1"));
  ASSERT_EQ(login.status, 200) << login;
  auto pair = support::ExpectTokenPair(login);
  EXPECT_EQ(SessionOf(http, pair)["user_agent"], std::string(511, 'a'));
  EXPECT_EQ(AgentsOf(Db(), "ua-long-1", "auth.login_succeeded"), std::vector<std::string>{std::string(511, 'a')});

  // 600 two-byte characters: kept up to 512 bytes, 256 characters.
  std::string accents;
  for (int i = 0; i < 600; ++i) accents += "\xc3\xa9";
  auto again = support::Login(http, "username", who.username, who.password, Agent(accents));
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(SessionOf(http, support::ExpectTokenPair(again))["user_agent"], accents.substr(0, 512));
}

// ---------------------------------------------------------------------------------------------
// Login identifiers longer than any username (32) or email address (254)

TEST_F(HostileInputTest, AnIdentifierLongerThanAnyAccountsIsAFailedLogin) {
  Http http(Server());
  std::string accents;
  for (int i = 0; i < 300; ++i) accents += "\xc3\xa9";
  int n = 0;
  for (const std::string& identifier : {std::string(300, 'x'), std::string(255, 'y'), std::string(5000, 'z'),
                                        std::string(250, 'w') + "@example.com", accents}) {
    for (const char* field : {"login", "email", "username"}) {
      SCOPED_TRACE(std::string(field) + " of " + std::to_string(identifier.size()) + " bytes");
      const std::string request_id = support::Numbered("long-id-", ++n);
      auto res = support::Login(http, field, identifier, "Some password 1", {{"X-Request-Id", request_id}});
      EXPECT_TRUE(IsUnauthorized(res, "invalid_credentials")) << res;
      EXPECT_EQ(res.Json()["detail"], "The login or password is incorrect.");
      EXPECT_EQ(AgentsOf(Db(), request_id, "auth.login_failed").size(), 1u) << "the attempt was not recorded";
    }
  }
  // At the limit the identifier is looked up as usual: still the same 401.
  auto at_limit = support::Login(http, "email", std::string(242, 'v') + "@example.com", "Some password 1");
  EXPECT_TRUE(IsUnauthorized(at_limit, "invalid_credentials")) << at_limit;
}

// Such an attempt is a failed login from its address: it counts toward login_address.
TEST(HostileInputLimitTest, OverlongIdentifiersCountOnTheAddress) {
  support::TempDir dir;
  auto server = support::StartAccountServer(
      dir, support::FreshDatabaseUrl(dir),
      {{"IKIGAI_RATE_LIMITS", "login_account=100/15m,login_address=2/15m,register_address=5/1h"}});
  Http http(server);
  auto who = NewCredentials("long_limit");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  for (int i = 0; i < 2; ++i) {
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "login", std::string(300, 'x'), "Some password 1"),
                               "invalid_credentials"));
  }
  EXPECT_TRUE(support::IsRateLimited(support::Login(http, "login", std::string(300, 'x'), "Some password 1"), 900));
  EXPECT_TRUE(support::IsRateLimited(support::Login(http, "username", who.username, who.password), 900));
}

// ---------------------------------------------------------------------------------------------
// Path ids that cannot be ids

struct RawAnswer {
  int status = 0;
  json body;
};

// Sends one request line and headers as raw bytes; parses the status and the JSON body.
RawAnswer RawRequest(const support::Server& server, const std::string& method, const std::string& target,
                     const std::string& token, const std::string& body = "") {
  std::string bytes = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!token.empty()) bytes += "Authorization: Bearer " + token + "\r\n";
  if (!body.empty()) {
    bytes += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  bytes += "\r\n" + body;
  support::RawConnection connection(server, std::chrono::seconds(10));
  connection.Send(bytes);
  const auto answer = connection.ReadResponse();
  RawAnswer out;
  out.status = answer.status;
  out.body = json::parse(answer.body, nullptr, false);
  return out;
}

// Raw bytes that are not ASCII (and not UTF-8) in the id segment.
const std::string kRawId = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4\xc3\xa9\xff";

TEST_F(HostileInputTest, RawNonAsciiBytesInAnIdAreNotFound) {
  Http http(Server());
  auto user = support::NewApiUser(http, "raw_id");
  const std::string token = user.auth[0].second.substr(7);
  for (const auto& [method, path, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/api/v1/tasks/", ""},
           {"PATCH", "/api/v1/tasks/", R"({"title":"x"})"},
           {"DELETE", "/api/v1/tasks/", ""},
           {"DELETE", "/api/v1/me/sessions/", ""}}) {
    SCOPED_TRACE(method + " " + path);
    auto answer = RawRequest(Server(), method, path + kRawId, token, body);
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(answer.body.value("code", ""), "not_found") << answer.body;
    // Authentication still comes first.
    EXPECT_EQ(RawRequest(Server(), method, path + kRawId, "", body).status, 401);
  }
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM activity WHERE actor_id = " + DirectDb::Quote(user.id) +
                        " AND action = 'auth.logout'"),
            "0");
}

TEST_F(HostileInputTest, AdminIdsThatCannotBeIdsAreNotFoundAfterTheRoleCheck) {
  Http http(Server());
  auto admin = support::NewApiUser(http, "raw_admin");
  auto plain = support::NewApiUser(http, "raw_plain");
  Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(admin.id));
  const std::string admin_token = admin.auth[0].second.substr(7);
  const std::string plain_token = plain.auth[0].second.substr(7);
  for (const auto& [method, body] : std::vector<std::pair<std::string, std::string>>{
           {"GET", ""}, {"PATCH", R"({"display_name":"x"})"}, {"DELETE", ""}}) {
    SCOPED_TRACE(method);
    auto answer = RawRequest(Server(), method, "/api/v1/admin/users/" + kRawId, admin_token, body);
    EXPECT_EQ(answer.status, 404);
    EXPECT_EQ(answer.body.value("code", ""), "not_found") << answer.body;
    EXPECT_EQ(RawRequest(Server(), method, "/api/v1/admin/users/" + kRawId, plain_token, body).status, 403);
    EXPECT_EQ(RawRequest(Server(), method, "/api/v1/admin/users/" + kRawId, "", body).status, 401);
  }
}

TEST_F(HostileInputTest, EncodedAndOtherImpossibleIdsAreNotFound) {
  Http http(Server());
  auto user = support::NewApiUser(http, "enc_id");
  auto task = support::CreateTask(http, user, {{"title", "Mine"}});
  std::string upper = task["id"].get<std::string>();
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const std::string& id : {std::string("%C3%A9%FF"), std::string("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4%C3%A9"),
                                upper, std::string(5000, 'a'), std::string("'%20OR%20'1'='1")}) {
    SCOPED_TRACE(id.substr(0, 60));
    EXPECT_TRUE(IsProblem(http.Get("/api/v1/tasks/" + id, "", user.auth), 404, "not_found"));
    EXPECT_TRUE(IsProblem(http.Delete("/api/v1/me/sessions/" + id, "", user.auth), 404, "not_found"));
    EXPECT_TRUE(IsUnauthorized(http.Get("/api/v1/tasks/" + id)));
  }
  EXPECT_EQ(support::GetTask(http, user, task["id"]).status, 200) << "the task itself is still there";
}

// ---------------------------------------------------------------------------------------------
// X-Forwarded-For over several field lines (item 3)

// HAProxy's "option forwardfor" appends its own line after whatever the client sent: the
// combined list's rightmost untrusted address is the client the proxy saw.
TEST(ForwardedForTest, EveryLineIsReadAndTheProxysLineWins) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto server = support::StartAccountServer(dir, url, {{"IKIGAI_TRUSTED_PROXIES", "127.0.0.1"}});
  Http http(server);
  DirectDb db(url);
  auto who = NewCredentials("xff_lines");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  const Headers lines{{"X-Forwarded-For", "198.51.100.66"},  // sent by the client: a forgery
                      {"X-Forwarded-For", "203.0.113.9"},    // appended by the proxy
                      {"X-Request-Id", "xff-lines-1"}};
  auto login = support::Login(http, "username", who.username, who.password, lines);
  ASSERT_EQ(login.status, 200) << login;
  EXPECT_EQ(SessionOf(http, support::ExpectTokenPair(login))["ip"], "203.0.113.9");
  EXPECT_EQ(db.Scalar("SELECT ip FROM activity WHERE request_id = 'xff-lines-1'"), "203.0.113.9");

  // A proxy chain over three lines: the rightmost address that is not a trusted proxy.
  const Headers chain{{"X-Forwarded-For", "198.51.100.66, 198.51.100.67"},
                      {"X-Forwarded-For", "203.0.113.10"},
                      {"X-Forwarded-For", "127.0.0.1"}};
  auto chained = support::Login(http, "username", who.username, who.password, chain);
  ASSERT_EQ(chained.status, 200) << chained;
  EXPECT_EQ(SessionOf(http, support::ExpectTokenPair(chained))["ip"], "203.0.113.10");
}

// A singleton field sent twice is read as one value that does not parse (docs/api.md).
TEST(RepeatedHeaderTest, SingletonFieldsSentTwiceAreNotBelieved) {
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir));
  Http http(server);
  auto who = NewCredentials("dup_fields");
  auto pair = support::RegisterAndLogin(http, who);
  // Two X-Request-Id lines: neither is echoed, one is made.
  auto ids = http.Get("/healthz", "", {{"X-Request-Id", "first-id"}, {"X-Request-Id", "second-id"}});
  EXPECT_EQ(ids.status, 200);
  EXPECT_NE(ids.Header("x-request-id"), "first-id");
  EXPECT_NE(ids.Header("x-request-id"), "second-id");
  // Two Authorization lines, even the same token twice: 401.
  auto twice = http.Get("/api/v1/me", "", {{"Authorization", "Bearer " + pair.access_token},
                                           {"Authorization", "Bearer " + pair.access_token}});
  EXPECT_TRUE(IsUnauthorized(twice)) << twice;
  // Two Content-Type lines: 415.
  support::Request typed;
  typed.method = "POST";
  typed.path = "/api/v1/tasks";
  typed.body = R"({"title":"x"})";
  typed.content_type = "";
  typed.headers = BearerHeaders(pair.access_token,
                                {{"Content-Type", "application/json"}, {"Content-Type", "application/json"}});
  EXPECT_TRUE(IsProblem(http.Send(typed), 415, "unsupported_media_type"));
  // If-Match is a list: two lines are two entity tags, and a list never matches (412).
  auto task = http.Post("/api/v1/tasks", R"({"title":"x"})", BearerHeaders(pair.access_token));
  ASSERT_EQ(task.status, 201) << task;
  const std::string id = task.Json()["id"];
  auto listed = http.Patch("/api/v1/tasks/" + id, R"({"title":"y"})",
                           BearerHeaders(pair.access_token, {{"If-Match", "\"1\""}, {"If-Match", "\"1\""}}));
  EXPECT_TRUE(IsProblem(listed, 412, "precondition_failed")) << listed;
}

}  // namespace
}  // namespace ikigai
