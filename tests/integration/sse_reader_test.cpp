// Checks the test support's SSE client (support/sse_reader) against a scripted server on a
// loopback socket, so that a stream test failing means the server, not the reader.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/sse_reader.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;

// Accepts one connection, reads the request head, then writes each piece with a pause; closes
// the socket at the end unless `keep_open`.
class ScriptedServer {
 public:
  ScriptedServer(std::vector<std::string> pieces, bool keep_open = false) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 1) != 0) {
      throw std::runtime_error("bind/listen");
    }
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::jthread([this, pieces = std::move(pieces), keep_open] {
      int fd = ::accept(listener_, nullptr, nullptr);
      if (fd < 0) return;
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      request_ = request;
      for (const auto& piece : pieces) {
        (void)::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL);
        std::this_thread::sleep_for(20ms);
      }
      if (keep_open) std::this_thread::sleep_for(1500ms);
      ::close(fd);
    });
  }
  ~ScriptedServer() {
    thread_ = {};
    ::close(listener_);
  }
  [[nodiscard]] int Port() const { return port_; }
  [[nodiscard]] const std::string& RequestText() const { return request_; }

 private:
  int listener_ = -1;
  int port_ = 0;
  std::string request_;
  std::jthread thread_;
};

std::string Chunk(const std::string& data) {
  char size[16];
  std::snprintf(size, sizeof size, "%zx", data.size());
  return std::string(size) + "\r\n" + data + "\r\n";
}

const std::string kHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";

TEST(SseReaderTest, ParsesEventsSplitAcrossChunksAndSeesTheFinalChunk) {
  ScriptedServer server({kHead + Chunk("retry: 3000\n\n"), Chunk("id: 1\nevent: notifi"),
                         Chunk("cation\ndata: {\"a\":1}\n\n: keep-alive\n\n"), Chunk("id: 2\nevent: notification\ndata: x\ndata: y\n\n"),
                         "0\r\n\r\n"},
                        /*keep_open=*/true);
  support::SseStream stream(server.Port(), "/stream", {{"Authorization", "Bearer t"}});
  ASSERT_EQ(stream.Status(), 200) << stream;
  EXPECT_TRUE(stream.Chunked());
  EXPECT_EQ(stream.Header("content-type"), "text/event-stream");
  auto retry = stream.Next(2s);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(retry->retry, 3000);
  auto first = stream.Next(2s);
  ASSERT_TRUE(first.has_value()) << stream;
  EXPECT_EQ(first->id, "1");
  EXPECT_EQ(first->event, "notification");
  EXPECT_EQ(first->Json(), nlohmann::json({{"a", 1}}));
  auto second = stream.Next(2s);
  ASSERT_TRUE(second.has_value()) << stream;
  EXPECT_EQ(second->data, "x\ny");
  EXPECT_EQ(stream.Comments(), 1u);
  EXPECT_TRUE(stream.WaitForComments(1, 1s));
  EXPECT_FALSE(stream.WaitForComments(2, 2s)) << "the stream ended with one comment";
  EXPECT_FALSE(stream.Next(2s).has_value());
  EXPECT_TRUE(stream.FinalChunk());
  EXPECT_FALSE(stream.Closed()) << "the connection is kept open by the server";
  EXPECT_EQ(stream.Body().rfind("retry: 3000\n\n", 0), 0u);
  EXPECT_NE(server.RequestText().find("GET /stream HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(server.RequestText().find("Authorization: Bearer t\r\n"), std::string::npos);
}

TEST(SseReaderTest, TimesOutWithoutEventsAndSeesAClose) {
  ScriptedServer server({kHead + Chunk("retry: 3000\n\n")}, /*keep_open=*/true);
  support::SseStream stream(server.Port(), "/stream");
  ASSERT_EQ(stream.Status(), 200);
  ASSERT_TRUE(stream.Next(2s).has_value());
  EXPECT_FALSE(stream.Next(300ms).has_value());
  EXPECT_FALSE(stream.Ended());
  EXPECT_TRUE(stream.WaitForEnd(5s));
  EXPECT_TRUE(stream.Closed());
  EXPECT_FALSE(stream.FinalChunk());
}

TEST(SseReaderTest, ReadsAnErrorAnswerCompletely) {
  const std::string body = R"({"status":401,"code":"unauthorized"})";
  ScriptedServer server({"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/problem+json\r\n"
                         "WWW-Authenticate: Bearer\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10),
                         body.substr(10)},
                        /*keep_open=*/true);
  support::SseStream stream(server.Port(), "/stream");
  EXPECT_EQ(stream.Status(), 401);
  auto res = stream.ToResponse();
  EXPECT_EQ(res.body, body);
  EXPECT_EQ(res.Header("www-authenticate"), "Bearer");
}

}  // namespace
}  // namespace ikigai
