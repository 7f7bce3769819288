// HTTP/1.1 as docs/api.md "HTTP/1.1" decides (issue 11, items 1 and 8), on raw connections: the
// body limit answered from the headers (413, Expect: 100-continue), the connection cap
// (IKIGAI_MAX_CONNECTIONS), HEAD, pipelining, and an answer before the close for every malformed
// request (400, 414, 431, 501, 505), each a problem+json with Connection: close.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <nlohmann/json.hpp>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/raw_connection.hpp"
#include "support/server.hpp"
#include "support/task_api.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using support::BuildRequest;
using support::EscapeBytes;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::RawConnection;
using support::RawResponse;

constexpr std::size_t kBodyLimit = 65536;  // IKIGAI_MAX_BODY_BYTES's default
constexpr const char* kRegister = "/api/v1/auth/register";
constexpr const char* kTasks = "/api/v1/tasks";
constexpr const char* kTaskBody = R"({"title":"Written over a raw connection"})";

// A register body of exactly `size` bytes (a long username: 422, never 413, when size <= limit).
std::string RegisterBodyOfSize(std::size_t size) {
  std::string head = R"({"username":")";
  std::string tail = R"("})";
  return head + std::string(size - head.size() - tail.size(), 'a') + tail;
}

// The answer to a malformed request: the problem, Connection: close, then the close itself.
::testing::AssertionResult IsRejectedThenClosed(RawConnection& conn, const RawResponse& res,
                                                int status, std::string_view code) {
  auto problem = IsProblem(res.ToResponse(), status, code);
  if (!problem) return problem << "\nraw: " << res;
  if (!res.ConnectionClose()) {
    return ::testing::AssertionFailure()
           << "no \"Connection: close\" on the " << status << " answer: " << res;
  }
  if (!conn.WaitForClose()) {
    return ::testing::AssertionFailure()
           << "the server kept the connection open after its " << status << " answer"
           << (conn.Unread().empty() ? "" : "; and sent more: " + EscapeBytes(conn.Unread()));
  }
  if (!conn.Unread().empty()) {
    return ::testing::AssertionFailure()
           << "bytes after the " << status << " answer: " << EscapeBytes(conn.Unread());
  }
  return ::testing::AssertionSuccess();
}

class Http11Test : public support::TaskSuite<Http11Test> {
 protected:
  void SetUp() override { http_ = std::make_unique<Http>(Server()); }

  // One registered user for the whole suite (its token does not expire within a run).
  static const support::ApiUser& User() {
    static const support::ApiUser user = support::NewApiUser(Http(Server()), "http11");
    return user;
  }
  static std::string Authorization() { return User().auth.front().second; }

  RawConnection Connect() { return RawConnection(Server()); }

  // Sends `request` on a fresh connection and checks the rejection and the close.
  ::testing::AssertionResult Rejects(const std::string& request, int status,
                                     std::string_view code) {
    auto conn = Connect();
    conn.Send(request);  // the server may close before it has read everything: that is allowed
    auto res = conn.ReadResponse();
    auto result = IsRejectedThenClosed(conn, res, status, code);
    if (!result) result << "\nrequest: " << EscapeBytes(request, 600);
    return result;
  }

  // The server still answers, on a new connection.
  void ExpectStillServing() {
    EXPECT_EQ(http_->Get("/healthz").status, 200) << "the server stopped serving";
  }

  std::unique_ptr<Http> http_;
};

// ---- item 1: the body limit is applied from the headers --------------------------------------

TEST_F(Http11Test, ContentLengthOverTheLimitIs413BeforeTheBodyThenClose) {
  auto conn = Connect();
  // Only the head: a server that waits for the body before answering never answers.
  ASSERT_TRUE(conn.Send(BuildRequest(
      "POST", kRegister,
      {{"Content-Type", "application/json"}, {"Content-Length", std::to_string(kBodyLimit + 1)}})));
  auto res = conn.ReadResponse();
  EXPECT_TRUE(IsRejectedThenClosed(conn, res, 413, "payload_too_large"));
  ExpectStillServing();
}

TEST_F(Http11Test, HugeContentLengthIs413OnAnyRoute) {
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"POST", kRegister}, {"PUT", "/api/v1/ikigai"}, {"POST", kTasks}, {"GET", "/healthz"}}) {
    auto conn = Connect();
    ASSERT_TRUE(conn.Send(
        BuildRequest(method, path,
                     {{"Content-Type", "application/json"}, {"Content-Length", "1000000000000"}})));
    auto res = conn.ReadResponse();
    EXPECT_TRUE(IsRejectedThenClosed(conn, res, 413, "payload_too_large")) << method << " " << path;
  }
  ExpectStillServing();
}

// Beast's own default body limit (1 MiB) once refused these inside the header read, with a
// 413 that skipped the route check and the request id.
TEST_F(Http11Test, ContentLengthOverOneMebibyteOnAnUnknownPathIs404) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("POST", "/api/v1/no-such-thing",
                                     {{"Content-Type", "application/json"},
                                      {"Content-Length", std::to_string(2 * 1024 * 1024)},
                                      {"X-Request-Id", "big-unknown-1"}})));
  auto res = conn.ReadResponse();
  EXPECT_TRUE(IsRejectedThenClosed(conn, res, 404, "not_found"));
  EXPECT_EQ(res.Header("X-Request-Id"), "big-unknown-1") << res;
}

TEST(Http11BodyLimitTest, ABodyOverOneMebibyteIsReadWhenTheLimitAllowsIt) {
  support::TempDir dir;
  auto server = support::StartServerOnFreshDatabase(dir, {{"IKIGAI_MAX_BODY_BYTES", "2097152"}});
  RawConnection conn(server);
  ASSERT_TRUE(conn.Send(BuildRequest("POST", kRegister, {{"Content-Type", "application/json"}},
                                     RegisterBodyOfSize(1536 * 1024))));
  auto res = conn.ReadResponse(false, 30000ms);
  EXPECT_TRUE(IsProblem(res.ToResponse(), 422, "validation_failed")) << res;
}

// Bare LF line endings are refused (RFC 9112 section 2.2 allows it) at once, also when the request
// line is longer than one read of the parser (it then looked only for CRLF CRLF and waited for the
// header deadline), and when the request arrives in pieces.
TEST_F(Http11Test, BareLineFeedsAre400AtOnceWhateverTheLineLength) {
  for (std::size_t length : {0U, 1000U, 5000U, 9000U}) {
    EXPECT_TRUE(Rejects("GET /healthz?" + std::string(length, 'a') + " HTTP/1.1\nHost: 127.0.0.1\n\n", 400,
                        "bad_request"))
        << "query of " << length << " bytes";
  }
  auto conn = Connect();
  ASSERT_TRUE(conn.Send("GET /healthz?" + std::string(2000, 'b')));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the line arrives in two reads
  ASSERT_TRUE(conn.Send(" HTTP/1.1\nHost: 127.0.0.1\n\n"));
  auto res = conn.ReadResponse();
  EXPECT_TRUE(IsRejectedThenClosed(conn, res, 400, "bad_request"));
  ExpectStillServing();
}

TEST_F(Http11Test, MissingOrRepeatedHostIs400) {
  EXPECT_TRUE(Rejects("GET /healthz HTTP/1.1\r\n\r\n", 400, "bad_request"));
  EXPECT_TRUE(Rejects("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "bad_request"));
  ExpectStillServing();
}

TEST_F(Http11Test, ConnectionCloseInAnyConnectionLineCloses) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: foo\r\n"
                        "Connection: close\r\n\r\n"));
  auto res = conn.ReadResponse();
  EXPECT_EQ(res.status, 200) << res;
  EXPECT_TRUE(res.ConnectionClose()) << res;
  EXPECT_TRUE(conn.WaitForClose()) << "the connection stayed open after Connection: close";
}

TEST_F(Http11Test, ExpectContinueToAnUnknownPathGets404AndNo100) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("POST", "/api/v1/no-such-thing",
                                     {{"Content-Type", "application/json"},
                                      {"Content-Length", "2"},
                                      {"Expect", "100-continue"}})));
  auto res = conn.ReadResponse();
  EXPECT_TRUE(IsRejectedThenClosed(conn, res, 404, "not_found"));
}

TEST_F(Http11Test, BodyOfExactlyTheLimitIsReadAndTheConnectionKept) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("POST", kRegister, {{"Content-Type", "application/json"}},
                                     RegisterBodyOfSize(kBodyLimit))));
  auto res = conn.ReadResponse();
  EXPECT_TRUE(IsProblem(res.ToResponse(), 422, "validation_failed")) << res;
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
  auto next = conn.ReadResponse();
  EXPECT_EQ(next.status, 200) << "the connection did not stay usable: " << next;
}

TEST_F(Http11Test, ChunkedBodyGrowingOverTheLimitIs413AsSoonAsItExceedsIt) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send("POST " + std::string(kRegister) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"));
  // 16 KiB chunks, and never the last chunk: the answer must come once the limit is passed.
  const std::string chunk = "4000\r\n" + std::string(16384, ' ') + "\r\n";
  std::size_t sent = 0;
  while (sent <= kBodyLimit + chunk.size() && !conn.Readable(0ms)) {
    if (!conn.Send(chunk)) break;
    sent += 16384;
  }
  auto res = conn.ReadResponse();
  EXPECT_TRUE(IsRejectedThenClosed(conn, res, 413, "payload_too_large"))
      << "after " << sent << " body bytes in chunks";
  ExpectStillServing();
}

TEST_F(Http11Test, ExpectContinueWithAnAcceptableLengthGets100ThenTheAnswer) {
  auto conn = Connect();
  std::string body = kTaskBody;
  ASSERT_TRUE(conn.Send(BuildRequest("POST", kTasks,
                                     {{"Authorization", Authorization()},
                                      {"Content-Type", "application/json"},
                                      {"Expect", "100-continue"},
                                      {"Content-Length", std::to_string(body.size())}})));
  auto interim = conn.ReadResponse();
  ASSERT_EQ(interim.status, 100) << "no 100 Continue before the body was sent: " << interim;
  EXPECT_EQ(interim.raw.substr(0, 12), "HTTP/1.1 100") << interim;
  ASSERT_TRUE(conn.Send(body));
  auto res = conn.ReadResponse();
  EXPECT_EQ(res.status, 201) << res;
  EXPECT_EQ(res.ToResponse().Json().value("title", ""), "Written over a raw connection") << res;
}

TEST_F(Http11Test, ExpectContinueWithATooLargeLengthGets413AndNo100) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("POST", kRegister,
                                     {{"Content-Type", "application/json"},
                                      {"Expect", "100-continue"},
                                      {"Content-Length", std::to_string(4 * 1024 * 1024)}})));
  auto res = conn.ReadResponse();
  ASSERT_NE(res.status, 100) << "100 Continue invites a body the server will refuse";
  EXPECT_TRUE(IsRejectedThenClosed(conn, res, 413, "payload_too_large"));
}

// ---- item 8: HEAD ----------------------------------------------------------------------------

TEST_F(Http11Test, HeadIsAnsweredLikeGetWithoutABody) {
  auto conn = Connect();
  for (const char* path : {"/healthz", "/readyz", "/api/v1/openapi.json", "/api/v1/me",
                           "/api/v1/tasks", "/api/v1/ikigai"}) {
    SCOPED_TRACE(path);
    Headers auth = {{"Authorization", Authorization()}};
    ASSERT_TRUE(conn.Send(BuildRequest("GET", path, auth)));
    auto get = conn.ReadResponse();
    ASSERT_TRUE(get.Complete()) << get;
    ASSERT_TRUE(conn.Send(BuildRequest("HEAD", path, auth)));
    auto head = conn.ReadResponse(/*head_request=*/true);
    ASSERT_TRUE(head.Complete()) << head;
    EXPECT_EQ(head.status, get.status) << head;
    EXPECT_EQ(head.Header("content-length"), std::to_string(get.body.size())) << head;
    for (const auto& [name, value] : get.headers) {
      if (name == "date" || name == "x-request-id") continue;
      EXPECT_EQ(head.Headers(name), get.Headers(name)) << "header " << name << "; HEAD: " << head;
    }
    EXPECT_TRUE(head.HasHeader("x-request-id")) << head;
  }
  // Had a HEAD answer carried a body, this answer would start inside it.
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
  auto after = conn.ReadResponse();
  EXPECT_EQ(after.status, 200) << after;
  EXPECT_EQ(after.body, R"({"status":"ok"})") << after;
}

TEST_F(Http11Test, HeadToNotFoundMethodNotAllowedAndUnauthorizedHasNoBody) {
  auto conn = Connect();
  struct Case {
    const char* path;
    int status;
  };
  for (const Case& c :
       {Case{"/nope", 404}, Case{"/api/v1/nope", 404}, Case{"/api/v1/auth/login", 405},
        Case{"/api/v1/auth/logout", 405}, Case{"/api/v1/me", 401}}) {
    SCOPED_TRACE(c.path);
    ASSERT_TRUE(conn.Send(BuildRequest("HEAD", c.path)));
    auto head = conn.ReadResponse(/*head_request=*/true);
    ASSERT_TRUE(head.Complete()) << head;
    EXPECT_EQ(head.status, c.status) << head;
    EXPECT_TRUE(support::IsJsonContentType(head.Header("content-type"))) << head;
    // The next answer on this connection must start right where the HEAD answer ended.
    ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
    auto next = conn.ReadResponse();
    ASSERT_TRUE(next.Complete()) << "the HEAD answer carried a body: " << next;
    EXPECT_EQ(next.status, 200) << next;
    EXPECT_EQ(next.body, R"({"status":"ok"})") << next;
  }
}

TEST_F(Http11Test, HeadToAPostOnlyRouteListsNoHeadInAllow) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("HEAD", "/api/v1/auth/login")));
  auto res = conn.ReadResponse(/*head_request=*/true);
  EXPECT_EQ(res.status, 405) << res;
  EXPECT_TRUE(support::HeaderListContains(res.Header("allow"), "POST")) << res;
  EXPECT_FALSE(support::HeaderListContains(res.Header("allow"), "HEAD")) << res;
}

TEST_F(Http11Test, AllowListsHeadWhereverGetIsAllowed) {
  struct Case {
    const char* method;
    const char* path;
    std::vector<const char*> allow;
  };
  for (const Case& c : {Case{"POST", "/healthz", {"GET", "HEAD"}},
                        Case{"DELETE", "/api/v1/tasks", {"GET", "HEAD", "POST"}},
                        Case{"PUT", "/api/v1/me", {"GET", "HEAD", "PATCH", "DELETE"}},
                        Case{"POST", "/api/v1/ikigai", {"GET", "HEAD", "PUT"}},
                        Case{"POST", "/api/v1/openapi.json", {"GET", "HEAD"}}}) {
    support::Request request;
    request.method = c.method;
    request.path = c.path;
    auto res = http_->Send(request);
    EXPECT_TRUE(IsProblem(res, 405, "method_not_allowed")) << c.method << " " << c.path;
    for (const char* method : c.allow) {
      EXPECT_TRUE(support::HeaderListContains(res.Header("allow"), method))
          << c.method << " " << c.path << ": Allow lacks " << method << ": " << res;
    }
  }
}

// ---- item 8: pipelining ----------------------------------------------------------------------

// Five requests of every kind (inline, 404, 405, a worker read, a body) written in one send.
std::string FivePipelinedRequests(const std::string& authorization) {
  return BuildRequest("GET", "/healthz", {{"X-Request-Id", "pipe-1"}}) +
         BuildRequest("GET", "/nope", {{"X-Request-Id", "pipe-2"}}) +
         BuildRequest("DELETE", "/healthz", {{"X-Request-Id", "pipe-3"}}) +
         BuildRequest("GET", "/api/v1/me",
                      {{"X-Request-Id", "pipe-4"}, {"Authorization", authorization}}) +
         BuildRequest("POST", kTasks,
                      {{"X-Request-Id", "pipe-5"},
                       {"Authorization", authorization},
                       {"Content-Type", "application/json"}},
                      kTaskBody);
}

void ExpectFivePipelinedAnswers(RawConnection& conn) {
  const std::vector<int> statuses = {200, 404, 405, 200, 201};
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    auto res = conn.ReadResponse();
    ASSERT_TRUE(res.Complete()) << "answer " << i + 1 << " of 5: " << res;
    EXPECT_EQ(res.status, statuses[i]) << "answer " << i + 1 << ": " << res;
    EXPECT_EQ(res.Header("x-request-id"), support::Numbered("pipe-", static_cast<long long>(i + 1)))
        << "answers out of order: " << res;
    EXPECT_FALSE(res.ConnectionClose()) << res;
  }
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
  EXPECT_EQ(conn.ReadResponse().status, 200) << "the connection did not stay usable";
}

TEST_F(Http11Test, PipelinedRequestsAreAllAnsweredInOrder) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(FivePipelinedRequests(Authorization())));
  ExpectFivePipelinedAnswers(conn);
}

TEST_F(Http11Test, PipelinedRequestsSplitAcrossSmallPiecesAreAllAnswered) {
  auto conn = Connect();
  ASSERT_TRUE(conn.SendInPieces(FivePipelinedRequests(Authorization()), 7));
  ExpectFivePipelinedAnswers(conn);
}

TEST_F(Http11Test, PipelinedHeadRequestsKeepTheStreamIntact) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz") + BuildRequest("HEAD", "/healthz") +
                        BuildRequest("HEAD", "/nope") + BuildRequest("GET", "/nope") +
                        BuildRequest("HEAD", "/api/v1/auth/login") +
                        BuildRequest("GET", "/healthz")));
  struct Expected {
    bool head;
    int status;
  };
  for (const Expected& e : {Expected{false, 200}, Expected{true, 200}, Expected{true, 404},
                            Expected{false, 404}, Expected{true, 405}, Expected{false, 200}}) {
    auto res = conn.ReadResponse(e.head);
    ASSERT_TRUE(res.Complete()) << res;
    EXPECT_EQ(res.status, e.status) << res;
  }
}

TEST_F(Http11Test, ManyPipelinedRequestsAreAllAnswered) {
  auto conn = Connect();
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch +=
        BuildRequest(i % 3 == 0 ? "GET" : "HEAD", i % 2 == 0 ? "/healthz" : "/api/v1/me",
                     {{"Authorization", Authorization()},
                      {"X-Request-Id", support::Numbered("many-", static_cast<long long>(i))}});
  }
  ASSERT_TRUE(conn.Send(batch));
  for (int i = 0; i < 50; ++i) {
    auto res = conn.ReadResponse(i % 3 != 0);
    ASSERT_TRUE(res.Complete()) << "answer " << i << ": " << res;
    EXPECT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.Header("x-request-id"), support::Numbered("many-", static_cast<long long>(i)))
        << res;
  }
}

// ---- item 8: malformed requests get an answer before the close -------------------------------

TEST_F(Http11Test, ContentLengthAndTransferEncodingTogetherIs400) {
  EXPECT_TRUE(
      Rejects("POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Content-Type: application/json\r\nContent-Length: 5\r\n"
              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
              400, "bad_request"));
  EXPECT_TRUE(
      Rejects("POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
              "Content-Type: application/json\r\n\r\n0\r\n\r\n",
              400, "bad_request"));
  ExpectStillServing();
}

TEST_F(Http11Test, TwoContentLengthFieldsAre400) {
  EXPECT_TRUE(
      Rejects("POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Content-Type: application/json\r\nContent-Length: 2\r\n"
              "Content-Length: 3\r\n\r\n{} ",
              400, "bad_request"));
  EXPECT_TRUE(
      Rejects("POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              "Content-Type: application/json\r\nContent-Length: 2\r\n"
              "Content-Length: 2\r\n\r\n{}",
              400, "bad_request"));
}

TEST_F(Http11Test, MoreThan100HeaderFieldsIs431) {
  Headers many;
  for (int i = 0; i < 100; ++i)
    many.emplace_back(support::Numbered("X-Field-", static_cast<long long>(i)), "v");
  // Host + 100 fields = 101.
  EXPECT_TRUE(Rejects(BuildRequest("GET", "/healthz", many), 431, "headers_too_large"));
  ExpectStillServing();
}

TEST_F(Http11Test, ExactlyOneHundredHeaderFieldsAreAccepted) {
  Headers many;
  for (int i = 0; i < 99; ++i)
    many.emplace_back(support::Numbered("X-Field-", static_cast<long long>(i)), "v");
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz", many)));  // Host + 99 = 100
  EXPECT_EQ(conn.ReadResponse().status, 200);
}

TEST_F(Http11Test, AHeaderLineOf17KiBIs431) {
  EXPECT_TRUE(Rejects(BuildRequest("GET", "/healthz", {{"X-Big", std::string(17 * 1024, 'a')}}),
                      431, "headers_too_large"));
  ExpectStillServing();
}

TEST_F(Http11Test, ARequestTargetOver8KiBIs414) {
  std::string target = "/healthz?pad=";
  target += std::string(8193 - target.size(), 'a');
  ASSERT_EQ(target.size(), 8193u);
  EXPECT_TRUE(Rejects(BuildRequest("GET", target), 414, "uri_too_long"));
  EXPECT_TRUE(Rejects(BuildRequest("GET", "/" + std::string(9000, 'x')), 414, "uri_too_long"));
  ExpectStillServing();
}

TEST_F(Http11Test, ARequestTargetOfExactly8KiBIsServed) {
  std::string target = "/healthz?pad=";
  target += std::string(8192 - target.size(), 'a');
  auto conn = Connect();
  ASSERT_TRUE(conn.Send(BuildRequest("GET", target)));
  auto res = conn.ReadResponse();
  EXPECT_EQ(res.status, 200) << res;
}

TEST_F(Http11Test, ControlBytesInAHeaderValueAre400) {
  for (const std::string& value : {std::string("a\x01"
                                               "b"),
                                   std::string("a\rb"),
                                   std::string("a\x00"
                                               "b",
                                               3),
                                   std::string("a\x1f"
                                               "b")}) {
    EXPECT_TRUE(Rejects(BuildRequest("GET", "/healthz", {{"X-Test", value}}), 400, "bad_request"))
        << EscapeBytes(value);
  }
  ExpectStillServing();
}

TEST_F(Http11Test, ControlBytesInTheRequestLineAre400) {
  for (const std::string& line :
       {std::string("GET /hea\x01lthz HTTP/1.1"), std::string("GET /hea\rlthz HTTP/1.1"),
        std::string("GET /healthz\x01 HTTP/1.1"), std::string("GET /hea\x00lthz HTTP/1.1", 22)}) {
    EXPECT_TRUE(Rejects(line + "\r\nHost: 127.0.0.1\r\n\r\n", 400, "bad_request"))
        << EscapeBytes(line);
  }
  ExpectStillServing();
}

TEST_F(Http11Test, BadChunkSizeLinesAre400) {
  for (const std::string size_line : {"zz", "-1", "0x10", "", "1 2", "g"}) {
    std::string request =
        "POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
        size_line + "\r\n{}\r\n0\r\n\r\n";
    EXPECT_TRUE(Rejects(request, 400, "bad_request")) << "chunk size line " << size_line;
  }
  ExpectStillServing();
}

TEST_F(Http11Test, UnsupportedHttpVersionsAre505) {
  for (const char* version : {"HTTP/9.9", "HTTP/2.0"}) {
    EXPECT_TRUE(Rejects(std::string("GET /healthz ") + version + "\r\nHost: 127.0.0.1\r\n\r\n", 505,
                        "http_version_not_supported"))
        << version;
  }
  ExpectStillServing();
}

TEST_F(Http11Test, TransferCodingsOtherThanChunkedAre501) {
  for (const char* coding : {"gzip", "deflate", "gzip, chunked"}) {
    std::string request = std::string(
                              "POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              "Content-Type: application/json\r\nTransfer-Encoding: ") +
                          coding + "\r\n\r\n2\r\n{}\r\n0\r\n\r\n";
    EXPECT_TRUE(Rejects(request, 501, "not_implemented")) << coding;
  }
  ExpectStillServing();
}

TEST_F(Http11Test, Http10RequestIsAnsweredThenClosed) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.0\r\n\r\n"));
  auto res = conn.ReadResponse();
  EXPECT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.body, R"({"status":"ok"})") << res;
  EXPECT_TRUE(conn.WaitForClose()) << "an HTTP/1.0 connection without keep-alive stayed open";
}

TEST_F(Http11Test, Http10KeepAliveRequestKeepsTheConnection) {
  auto conn = Connect();
  ASSERT_TRUE(conn.Send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto first = conn.ReadResponse();
  EXPECT_EQ(first.status, 200) << first;
  ASSERT_TRUE(conn.Send("GET /api/v1/me HTTP/1.0\r\nConnection: keep-alive\r\nAuthorization: " +
                        Authorization() + "\r\n\r\n"));
  auto second = conn.ReadResponse();
  EXPECT_EQ(second.status, 200) << second;
}

// ---- item 1: the connection cap --------------------------------------------------------------

TEST(Http11ConnectionsTest, ConnectionsOverTheCapWaitUntilOneCloses) {
  support::TempDir dir;
  auto server = support::StartServerOnFreshDatabase(dir, {{"IKIGAI_MAX_CONNECTIONS", "4"}});
  std::vector<RawConnection> open;
  for (int i = 0; i < 4; ++i) {
    open.emplace_back(server);
    ASSERT_TRUE(open.back().Send(BuildRequest("GET", "/healthz")));
    auto res = open.back().ReadResponse();
    ASSERT_EQ(res.status, 200) << "connection " << i + 1 << " of 4: " << res;
  }
  // The kernel completes the handshake (the backlog), but the server does not take it.
  RawConnection fifth(server);
  ASSERT_TRUE(fifth.Send(BuildRequest("GET", "/healthz")));
  auto early = fifth.ReadResponse(false, 1000ms);
  EXPECT_EQ(early.outcome, RawResponse::Outcome::kTimeout)
      << "a fifth connection was served (or closed) while four were open: " << early;
  open.front().Close();
  auto late = fifth.ReadResponse(false, 10000ms);
  EXPECT_EQ(late.status, 200) << "the waiting connection was not served once one closed: " << late;
  // The other three are still served.
  for (std::size_t i = 1; i < open.size(); ++i) {
    ASSERT_TRUE(open[i].Send(BuildRequest("GET", "/healthz")));
    EXPECT_EQ(open[i].ReadResponse().status, 200) << "connection " << i + 1;
  }
}

// `ikigai serve` that must refuse to start (it would otherwise serve until the timeout).
support::CommandResult ServeExpectingExit(const support::TempDir& dir,
                                          std::map<std::string, std::string> env) {
  return support::RunIkigai({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.Path(),
                             "--database-url", support::FreshDatabaseUrl(dir)},
                            std::move(env), std::chrono::seconds{10});
}

TEST(Http11ConnectionsTest, BadMaxConnectionsStopsStartupNamingTheVariable) {
  for (const char* value : {"0", "abc", "1000001", "-4"}) {
    support::TempDir dir;
    auto res = ServeExpectingExit(dir, {{"IKIGAI_MAX_CONNECTIONS", value}});
    ASSERT_TRUE(res.exit_status.has_value())
        << "IKIGAI_MAX_CONNECTIONS=" << value << ": it served instead of exiting; stderr:\n"
        << res.err;
    EXPECT_EQ(*res.exit_status, 2) << value << ": " << res.err;
    EXPECT_NE(res.err.find("IKIGAI_MAX_CONNECTIONS"), std::string::npos)
        << value << ": " << res.err;
  }
}

TEST(Http11ConnectionsTest, BadMaxStreamsStopsStartupNamingTheVariable) {
  for (const char* value : {"0", "abc", "1000001"}) {
    support::TempDir dir;
    auto res = ServeExpectingExit(dir, {{"IKIGAI_MAX_STREAMS", value}});
    ASSERT_TRUE(res.exit_status.has_value())
        << "IKIGAI_MAX_STREAMS=" << value << ": it served instead of exiting; stderr:\n"
        << res.err;
    EXPECT_EQ(*res.exit_status, 2) << value << ": " << res.err;
    EXPECT_NE(res.err.find("IKIGAI_MAX_STREAMS"), std::string::npos) << value << ": " << res.err;
  }
}

}  // namespace
}  // namespace ikigai
