// The transport's downloads (Reply::download): chunks pulled one at a time from a producer on the
// worker pool, so a client that does not read holds the producer instead of filling memory; the
// end is the last chunk, a failing producer cuts the transfer. An in-process Server on a free port,
// talked to over raw TCP.
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

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

class CountingRandom final : public core::Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = static_cast<std::uint8_t>(++counter_ * 131u);
  }

 private:
  std::uint64_t counter_ = 0;
};

constexpr std::size_t kChunk = 64 * 1024;

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_level_ = spdlog::default_logger()->level();
    spdlog::default_logger()->set_level(spdlog::level::off);
  }
  void TearDown() override {
    if (server_) {
      server_->Stop();
      if (runner_.joinable()) runner_.join();
      server_.reset();
    }
    spdlog::default_logger()->set_level(saved_level_);
  }

  // A route whose download is `chunks` chunks of kChunk bytes (chunk n filled with 'a' + n % 26),
  // then the end; with `fail_at` >= 0 the producer throws instead of producing that chunk.
  void StartServer(int chunks, int fail_at = -1) {
    auto config = config::FromValues({{"IKIGAI_LISTEN", "127.0.0.1:0"}, {"IKIGAI_WORKERS", "2"},
                                      {"IKIGAI_HASH_THREADS", "1"}});
    ASSERT_TRUE(config) << config.error().detail;
    config_ = *config;
    router_.Add({.method = "GET", .path = "/api/v1/test/download", .handler = [this, chunks, fail_at](Request&) {
                   Reply reply;
                   reply.body = "[";
                   auto n = std::make_shared<int>(0);
                   reply.download = std::make_shared<Download>(Download{[this, n, chunks, fail_at]() -> std::optional<std::string> {
                     calls_.fetch_add(1);
                     if (*n == fail_at) throw std::runtime_error("test producer fails");
                     if (*n == chunks) return std::nullopt;
                     const char fill = static_cast<char>('a' + *n % 26);
                     ++*n;
                     return std::string(kChunk, fill);
                   }});
                   return reply.With("Content-Disposition", "attachment; filename=\"x.json\"");
                 }});
    server_ = std::make_unique<Server>(config_, router_, clock_, random_);
    port_ = server_->Open();
    runner_ = std::thread([this] { server_->Run(5s, {}); });
  }

  config::Config config_;
  Router router_;
  core::SystemClock clock_;
  CountingRandom random_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread runner_;
  std::atomic<int> calls_{0};
  spdlog::level::level_enum saved_level_ = spdlog::level::info;
};

TEST_F(DownloadTest, EveryChunkArrivesInOrderThenTheLastChunk) {
  StartServer(40);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/api/v1/test/download")));
  auto res = conn.ReadResponse(false, 10s);
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(res.Header("content-disposition"), "attachment; filename=\"x.json\"");
  EXPECT_EQ(res.Header("content-type"), "application/json");
  EXPECT_FALSE(res.HasHeader("content-length"));
  ASSERT_EQ(res.body.size(), 1 + 40 * kChunk);
  EXPECT_EQ(res.body[0], '[');
  for (int n = 0; n < 40; ++n) {
    EXPECT_EQ(res.body[1 + n * kChunk], static_cast<char>('a' + n % 26)) << n;
    EXPECT_EQ(res.body[n * kChunk + kChunk], static_cast<char>('a' + n % 26)) << n;
  }
  EXPECT_EQ(calls_.load(), 41);  // 40 chunks and the end, each asked once
  EXPECT_TRUE(conn.WaitForClose(5s));
  EXPECT_EQ(server_->OpenStreams(), 0u);
}

// A client that reads nothing: the producer runs only as far as the socket buffers take chunks,
// whatever the wait; then the client reads and gets the whole document.
TEST_F(DownloadTest, AClientThatDoesNotReadHoldsTheProducer) {
  constexpr int kChunks = 480;  // 30 MiB: more than loopback socket buffers hold
  StartServer(kChunks);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/api/v1/test/download")));
  std::this_thread::sleep_for(1s);  // time to run away, if it could; the bound below holds anyway
  const int early = calls_.load();
  EXPECT_LT(early, 320) << "the producer ran ahead of the client";
  std::cout << "chunks produced for a client that did not read: " << early << "\n";
  auto res = conn.ReadResponse(false, 60s);
  ASSERT_TRUE(res.Complete()) << res.outcome;
  EXPECT_EQ(res.body.size(), 1 + kChunks * kChunk);
  EXPECT_EQ(calls_.load(), kChunks + 1);
}

TEST_F(DownloadTest, AProducerThatThrowsCutsTheTransferWithoutTheLastChunk) {
  StartServer(10, 3);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("GET", "/api/v1/test/download")));
  auto res = conn.ReadResponse(false, 10s);
  EXPECT_EQ(res.outcome, support::RawResponse::Outcome::kClosed) << res;
  EXPECT_EQ(res.raw.find("\r\n0\r\n\r\n"), std::string::npos);
  EXPECT_EQ(calls_.load(), 4);
}

TEST_F(DownloadTest, HeadGetsTheHeaderAndNoBody) {
  StartServer(3);
  RawConnection conn(port_);
  ASSERT_TRUE(conn.Send(BuildRequest("HEAD", "/api/v1/test/download")));
  auto res = conn.ReadResponse(true, 5s);
  ASSERT_TRUE(res.Complete()) << res;
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(calls_.load(), 0);
}

}  // namespace
}  // namespace ikigai::http
