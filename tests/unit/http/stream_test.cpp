// The transport's event streams (Reply::stream): an in-process Server on a free port with test
// routes, talked to over raw TCP, so the framing, the counting against the caps, the client going
// away, a client that does not read and the drain are seen as a client sees them.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "support/raw_connection.hpp"

namespace ikigai::http {
namespace {

using namespace std::chrono_literals;
using support::BuildRequest;
using support::RawConnection;
using support::RawResponse;

constexpr const char* kStreamPath = "/api/v1/test/stream";
constexpr const char* kFirstBytes = "retry: 3000\n\n";

// Ids only need to differ; no libsodium in a unit test.
class CountingRandom final : public core::Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(++counter_ * 131u);
  }

 private:
  std::uint64_t counter_ = 0;
};

// Waits (bounded) until `condition` holds; true when it did.
template <class Condition>
bool Eventually(Condition condition, std::chrono::milliseconds limit = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// The sinks handed to on_open, in order.
class Sinks {
 public:
  void Add(std::shared_ptr<EventSink> sink) {
    std::lock_guard lock(mutex_);
    sinks_.push_back(std::move(sink));
    changed_.notify_all();
  }
  // The `n`th sink (1-based), waiting at most 5 s for it; nullptr when it did not come.
  std::shared_ptr<EventSink> Wait(std::size_t n) {
    std::unique_lock lock(mutex_);
    if (!changed_.wait_for(lock, 5s, [&] { return sinks_.size() >= n; })) return nullptr;
    return sinks_[n - 1];
  }
  std::size_t Count() {
    std::lock_guard lock(mutex_);
    return sinks_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::shared_ptr<EventSink>> sinks_;
};

class StreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = spdlog::default_logger()->level();
    spdlog::default_logger()->set_level(spdlog::level::warn);  // no access log lines in the output
  }

  void TearDown() override {
    StopServer();
    spdlog::default_logger()->set_level(saved_level_);
  }

  // Starts the server with these settings on 127.0.0.1, a free port.
  void StartServer(std::map<std::string, std::string> settings = {}) {
    settings.emplace("IKIGAI_LISTEN", "127.0.0.1:0");
    settings.emplace("IKIGAI_WORKERS", "1");
    settings.emplace("IKIGAI_HASH_THREADS", "1");
    auto config = config::FromValues(settings);
    ASSERT_TRUE(config) << config.error().detail;
    config_ = *config;
    auto stream_reply = [this](Request&) {
      Reply reply;
      reply.content_type = "text/event-stream";
      reply.body = kFirstBytes;
      reply.stream = std::make_shared<StreamStart>();
      reply.stream->on_open = [this](std::shared_ptr<EventSink> sink) { sinks_.Add(std::move(sink)); };
      return reply;
    };
    router_.Add({.method = "GET", .path = kStreamPath, .exec = Exec::kInline, .handler = stream_reply});
    // Any Exec may answer with a stream.
    router_.Add({.method = "GET", .path = "/api/v1/test/worker-stream", .exec = Exec::kWorker, .handler = stream_reply});
    router_.Add({.method = "GET", .path = "/healthz", .exec = Exec::kInline, .handler = [](Request&) {
                   return JsonReply(200, {{"status", "ok"}});
                 }});
    server_ = std::make_unique<Server>(config_, router_, clock_, random_);
    port_ = server_->Open();
    runner_ = std::thread([this] { server_->Run(5s, {}); });
  }

  void StopServer() {
    if (!server_) return;
    server_->Stop();
    if (runner_.joinable()) runner_.join();
    server_.reset();
  }

  // A connection that has sent a stream request and read its header; the sink is `sinks_.Wait(n)`.
  RawConnection OpenStream(const std::string& path = kStreamPath) {
    RawConnection conn(port_);
    EXPECT_TRUE(conn.Send(BuildRequest("GET", path)));
    EXPECT_TRUE(conn.ReadUntil("\r\n\r\n", 5s)) << support::EscapeBytes(conn.Unread());
    return conn;
  }

  config::Config config_;
  Router router_;
  core::SystemClock clock_;
  CountingRandom random_;
  Sinks sinks_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread runner_;
  spdlog::level::level_enum saved_level_ = spdlog::level::info;
};

// The head of a response as text lines, for header checks on a response that does not end.
std::string HeadOf(const std::string& bytes) { return bytes.substr(0, bytes.find("\r\n\r\n") + 2); }

bool HasLine(const std::string& head, const std::string& line) {
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

TEST_F(StreamTest, HeaderIsChunkedWithCommonHeadersAndTheBodyIsTheFirstChunk) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("GET", kStreamPath, {{"X-Request-Id", "stream-test-1"}})));
  ASSERT_TRUE(conn.ReadUntil("retry: 3000\n\n\r\n", 5s)) << support::EscapeBytes(conn.Unread());
  const std::string bytes = conn.TakeUnread();
  const std::string head = HeadOf(bytes);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
  for (const char* line : {"Transfer-Encoding: chunked", "Content-Type: text/event-stream", "X-Accel-Buffering: no",
                           "Cache-Control: no-store", "X-Request-Id: stream-test-1",
                           "X-Content-Type-Options: nosniff", "Connection: close"}) {
    EXPECT_TRUE(HasLine(head, line)) << "missing \"" << line << "\" in\n" << head;
  }
  EXPECT_NE(head.find("\r\nDate: "), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  // The body is the first chunk, sent before anything else.
  EXPECT_EQ(bytes.substr(head.size() + 2), "d\r\nretry: 3000\n\n\r\n");
  ASSERT_NE(sinks_.Wait(1), nullptr) << "on_open was not called";
  EXPECT_EQ(sinks_.Count(), 1u);
}

TEST_F(StreamTest, SendFromAnotherThreadArrivesAsAChunkAndCloseSendsTheLastChunk) {
  StartServer();
  auto conn = OpenStream();
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->IsOpen());
  // An open stream is not a request in flight (the drain does not wait for it).
  EXPECT_EQ(server_->InFlight(), 0u);
  EXPECT_EQ(server_->OpenStreams(), 1u);
  bool sent = false;
  std::thread poller([&] { sent = sink->Send("event: notification\ndata: {\"n\":1}\n\n"); });
  poller.join();
  EXPECT_TRUE(sent);
  ASSERT_TRUE(conn.ReadUntil("data: {\"n\":1}\n\n\r\n", 5s)) << support::EscapeBytes(conn.Unread());
  EXPECT_NE(conn.Unread().find("\r\n23\r\nevent: notification\ndata: {\"n\":1}\n\n\r\n"), std::string::npos)
      << support::EscapeBytes(conn.Unread());
  EXPECT_TRUE(sink->Send(": keep-alive\n\n"));
  EXPECT_TRUE(sink->Send(""));  // nothing: an empty chunk would end the stream
  std::thread closer([&] { sink->Close(); });
  closer.join();
  sink->Close();  // idempotent
  EXPECT_FALSE(sink->IsOpen());
  EXPECT_FALSE(sink->Send("data: late\n\n"));
  // The whole response: it parses as one chunked response that ends with the last chunk.
  std::string all = conn.TakeUnread();
  ASSERT_TRUE(conn.WaitForClose(5s)) << "the connection stayed open after the last chunk";
  all += conn.Unread();
  EXPECT_GE(all.size(), 5u);
  EXPECT_EQ(all.substr(all.size() - 5), "0\r\n\r\n") << support::EscapeBytes(all);
  EXPECT_NE(all.find("e\r\n: keep-alive\n\n\r\n0\r\n\r\n"), std::string::npos) << support::EscapeBytes(all);
  EXPECT_TRUE(Eventually([&] { return server_->OpenStreams() == 0; }));
}

TEST_F(StreamTest, WholeStreamParsesAsOneChunkedResponse) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/api/v1/test/worker-stream")));
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->Send("data: a\n\n"));
  EXPECT_TRUE(sink->Send("data: b\n\n"));
  sink->Close();
  RawResponse res = conn.ReadResponse();
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(res.body, std::string(kFirstBytes) + "data: a\n\ndata: b\n\n");
  EXPECT_TRUE(conn.WaitForClose(5s));
}

TEST_F(StreamTest, ClientGoingAwayClosesTheSink) {
  StartServer();
  auto conn = OpenStream();
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  conn.Close();
  EXPECT_TRUE(Eventually([&] { return !sink->IsOpen(); })) << "the sink stayed open after the client closed";
  EXPECT_FALSE(sink->Send("data: x\n\n"));
  EXPECT_TRUE(Eventually([&] { return server_->OpenStreams() == 0; }));
}

TEST_F(StreamTest, BytesFromTheClientEndTheStream) {
  StartServer();
  auto conn = OpenStream();
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  // A pipelined request is not served on a stream: the stream ends instead.
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
  EXPECT_TRUE(Eventually([&] { return !sink->IsOpen(); }));
  ASSERT_TRUE(conn.ReadUntil("\r\n0\r\n\r\n", 5s)) << support::EscapeBytes(conn.Unread());
  EXPECT_EQ(conn.Unread().find("HTTP/1.1 200 OK", 10), std::string::npos) << "the pipelined request was answered";
}

TEST_F(StreamTest, StreamDoesNotCountAgainstTheConnectionCap) {
  StartServer({{"IKIGAI_MAX_CONNECTIONS", "1"}});
  auto stream = OpenStream();
  ASSERT_NE(sinks_.Wait(1), nullptr);
  EXPECT_TRUE(Eventually([&] { return server_->OpenConnections() == 0; }));
  // With the stream counted as a connection this one would wait in the backlog.
  RawConnection other(port_);
  ASSERT_TRUE(other.Send(BuildRequest("GET", "/healthz")));
  RawResponse res = other.ReadResponse();
  EXPECT_EQ(res.status, 200) << res;
  EXPECT_EQ(server_->OpenStreams(), 1u);
}

TEST_F(StreamTest, StreamOverTheCapIsRefusedWith503AndRetryAfter) {
  StartServer({{"IKIGAI_MAX_STREAMS", "1"}});
  EXPECT_EQ(server_->MaxStreams(), 1u);
  auto first = OpenStream();
  ASSERT_NE(sinks_.Wait(1), nullptr);
  RawConnection second(port_);
  ASSERT_TRUE(second.Send(BuildRequest("GET", kStreamPath)));
  RawResponse res = second.ReadResponse();
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.status, 503) << res;
  EXPECT_EQ(res.Header("retry-after"), "5") << res;
  EXPECT_EQ(res.Header("content-type"), "application/problem+json") << res;
  EXPECT_NE(res.body.find("\"unavailable\""), std::string::npos) << res;
  EXPECT_EQ(sinks_.Count(), 1u) << "on_open was called for a refused stream";
  // The refused connection is an ordinary one and goes on serving.
  ASSERT_TRUE(second.Send(BuildRequest("GET", "/healthz")));
  EXPECT_EQ(second.ReadResponse().status, 200);
  EXPECT_EQ(server_->OpenStreams(), 1u);
}

TEST_F(StreamTest, StopEndsAnOpenStreamWithTheLastChunk) {
  StartServer();
  auto conn = OpenStream();
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  server_->Stop();
  ASSERT_TRUE(conn.ReadUntil("\r\n0\r\n\r\n", 5s)) << support::EscapeBytes(conn.Unread());
  EXPECT_TRUE(conn.WaitForClose(5s));
  EXPECT_FALSE(sink->IsOpen());
  runner_.join();  // Run returned: the stream did not hold the drain
}

TEST_F(StreamTest, ClientThatDoesNotReadIsDisconnected) {
  StartServer();
  auto conn = OpenStream();
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  const std::string event = "data: " + std::string(64 * 1024, 'x') + "\n\n";
  std::size_t sent = 0;
  bool refused = false;
  // The socket buffers fill, then the queue passes its bound: Send says no (at most 64 MiB).
  while (sent < std::size_t{64} * 1024 * 1024) {
    if (!sink->Send(event)) {
      refused = true;
      break;
    }
    sent += event.size();
  }
  EXPECT_TRUE(refused) << "64 MiB queued for a client that reads nothing";
  EXPECT_FALSE(sink->IsOpen());
  EXPECT_TRUE(Eventually([&] { return server_->OpenStreams() == 0; }));
  EXPECT_TRUE(conn.WaitForClose(10s)) << "the connection of a client that does not read stayed open";
}

TEST_F(StreamTest, OneLargeSendGoesOutWholeToAClientThatReads) {
  StartServer();
  auto conn = OpenStream();
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  // A resume backlog larger than the queue bound, in one Send: taken, since nothing is queued.
  const std::string backlog = "data: " + std::string(std::size_t{1} << 20, 'y') + "\n\nid: end\n\n";
  EXPECT_TRUE(sink->Send(backlog));
  ASSERT_TRUE(conn.ReadUntil("id: end\n\n\r\n", 10s)) << conn.Unread().size() << " bytes read";
  EXPECT_TRUE(sink->IsOpen());
  EXPECT_TRUE(sink->Send("data: next\n\n"));
  EXPECT_TRUE(conn.ReadUntil("data: next\n\n\r\n", 5s));
}

TEST_F(StreamTest, HeadOfAStreamRouteIsAHeaderWithoutAStream) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("HEAD", kStreamPath)));
  RawResponse res = conn.ReadResponse(true);
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("content-type"), "text/event-stream");
  EXPECT_EQ(res.Header("x-accel-buffering"), "no");
  // The connection goes on: nothing followed the header.
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/healthz")));
  RawResponse next = conn.ReadResponse();
  EXPECT_EQ(next.status, 200) << next;
  EXPECT_EQ(sinks_.Count(), 0u);
  EXPECT_EQ(server_->OpenStreams(), 0u);
}

TEST_F(StreamTest, Http10StreamIsNotChunkedAndEndsWithTheClose) {
  StartServer();
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(std::string("GET ") + kStreamPath + " HTTP/1.0\r\n\r\n"));
  auto sink = sinks_.Wait(1);
  ASSERT_NE(sink, nullptr);
  EXPECT_TRUE(sink->Send("data: a\n\n"));
  sink->Close();
  RawResponse res = conn.ReadResponse();
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.version, "HTTP/1.0");
  EXPECT_EQ(res.status, 200);
  EXPECT_FALSE(res.HasHeader("transfer-encoding")) << res;
  EXPECT_FALSE(res.HasHeader("content-length")) << res;
  EXPECT_EQ(res.body, std::string(kFirstBytes) + "data: a\n\n");
}

}  // namespace
}  // namespace ikigai::http
