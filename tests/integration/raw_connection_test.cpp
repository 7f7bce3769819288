// support::RawConnection against canned answers from a local socket, so that the HTTP/1.1 and
// hostile-request tests fail only for what the server does, never for how the client reads.
#include "support/raw_connection.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using support::RawConnection;
using support::RawResponse;

// Accepts one connection on a free loopback port, reads the first request head, writes `answer`
// and then closes (or keeps the connection open until the test ends, when `close` is false).
class CannedServer {
 public:
  CannedServer(std::string answer, bool close) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("CannedServer: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, answer = std::move(answer), close] {
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        request.append(buf, static_cast<std::size_t>(n));
      }
      (void)!::send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
      if (close) {
        ::close(conn);
      } else {
        conn_ = conn;
      }
    });
  }
  ~CannedServer() {
    if (thread_.joinable()) thread_.join();
    if (conn_ >= 0) ::close(conn_);
    ::close(fd_);
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;

  [[nodiscard]] int Port() const { return port_; }

 private:
  int fd_ = -1;
  int conn_ = -1;
  int port_ = 0;
  std::thread thread_;
};

RawConnection Asked(const CannedServer& server) {
  RawConnection conn(server.Port(), 2s);
  EXPECT_TRUE(conn.Send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  return conn;
}

TEST(RawConnectionTest, ReadsPipelinedResponsesOneAtATime) {
  CannedServer server(
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n\r\nok"
      "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
      false);
  auto conn = Asked(server);
  auto first = conn.ReadResponse();
  ASSERT_TRUE(first.Complete()) << first;
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "ok");
  EXPECT_EQ(first.Header("X-A"), "1");
  auto second = conn.ReadResponse();
  ASSERT_TRUE(second.Complete()) << second;
  EXPECT_EQ(second.status, 404);
  EXPECT_EQ(second.body, "");
  auto none = conn.ReadResponse(false, 200ms);
  EXPECT_EQ(none.outcome, RawResponse::Outcome::kTimeout) << none;
}

TEST(RawConnectionTest, DechunksABodyWithExtensionsAndTrailers) {
  CannedServer server(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n",
      true);
  auto conn = Asked(server);
  auto res = conn.ReadResponse();
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.body, "abc0123456789");
  EXPECT_TRUE(conn.WaitForClose());
}

TEST(RawConnectionTest, InterimResponsesAreReturnedThenTheFinalOne) {
  CannedServer server(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}", false);
  auto conn = Asked(server);
  auto interim = conn.ReadResponse();
  EXPECT_TRUE(interim.Interim()) << interim;
  auto final_response = conn.ReadResponse();
  EXPECT_EQ(final_response.status, 201) << final_response;
  CannedServer again(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}", false);
  auto conn2 = Asked(again);
  EXPECT_EQ(conn2.ReadFinalResponse().status, 201);
}

TEST(RawConnectionTest, AHeadAnswerHasNoBodyWhateverItsContentLength) {
  CannedServer server(
      "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\n{\"status\":\"ok\"}",
      false);
  auto conn = Asked(server);
  auto head = conn.ReadResponse(/*head_request=*/true);
  ASSERT_TRUE(head.Complete()) << head;
  EXPECT_EQ(head.body, "");
  auto get = conn.ReadResponse();
  EXPECT_EQ(get.body, R"({"status":"ok"})") << get;
}

TEST(RawConnectionTest, ABodyAfterAHeadAnswerIsSeenAsMalformed) {
  CannedServer server("HTTP/1.1 405 No\r\nContent-Length: 4\r\n\r\nbody", false);
  auto conn = Asked(server);
  ASSERT_TRUE(conn.ReadResponse(true).Complete());
  auto next = conn.ReadResponse(false, 500ms);
  EXPECT_EQ(next.outcome, RawResponse::Outcome::kMalformed) << next;
}

TEST(RawConnectionTest, ABodyWithoutLengthEndsWithTheClose) {
  CannedServer server("HTTP/1.0 200 OK\r\n\r\nuntil the end", true);
  auto conn = Asked(server);
  auto res = conn.ReadResponse();
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.body, "until the end");
}

TEST(RawConnectionTest, ACloseBeforeAnAnswerIsReportedAsSuch) {
  CannedServer silent("", true);
  auto conn = Asked(silent);
  auto res = conn.ReadResponse();
  EXPECT_EQ(res.outcome, RawResponse::Outcome::kClosed) << res;
  EXPECT_TRUE(res.raw.empty());
  EXPECT_TRUE(conn.WaitForClose(100ms));

  CannedServer cut("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
  auto conn2 = Asked(cut);
  auto partial = conn2.ReadResponse();
  EXPECT_EQ(partial.outcome, RawResponse::Outcome::kClosed) << partial;
  EXPECT_FALSE(partial.raw.empty());
}

TEST(RawConnectionTest, ConnectionCloseIsRecognised) {
  CannedServer server(
      "HTTP/1.1 400 Bad Request\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n",
      true);
  auto conn = Asked(server);
  auto res = conn.ReadResponse();
  EXPECT_TRUE(res.ConnectionClose()) << res;
  EXPECT_TRUE(conn.WaitForClose());
  EXPECT_EQ(res.ToResponse().status, 400);
}

}  // namespace
}  // namespace ikigai
