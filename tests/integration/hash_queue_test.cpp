// Issue 11, item 5: the password-hashing queue is bounded by time, not by IKIGAI_QUEUE_LIMIT
// alone: it holds about 2 s of hashing per hashing thread (from one hash measured at start-up),
// so in a login flood the overflow gets 503 with Retry-After at once while what was queued is
// answered. Slow hashes (64 MiB, 3 passes) on one hashing thread make the bound small.
#include <algorithm>
#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/concurrency.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The value of `ikigai_worker_queue_capacity{pool="hash"}` on /metrics; -1 when absent.
long HashQueueCapacity(const support::Http& http) {
  auto res = http.Get("/metrics");
  static const std::regex kLine(R"(ikigai_worker_queue_capacity\{pool="hash"\} (\d+))");
  std::smatch m;
  if (res.status != 200 || !std::regex_search(res.body, m, kLine)) return -1;
  return std::stol(m[1]);
}

TEST(HashQueueTest, ALoginFloodBeyondTwoSecondsOfHashingGetsAQuick503) {
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_HASH_THREADS", "1"},
                                             {"IKIGAI_ARGON2_MEMORY_KIB", "65536"},
                                             {"IKIGAI_ARGON2_OPS", "3"},
                                             {"IKIGAI_RATE_LIMITS", "off"}});
  support::Http http(server);
  // Start-up measured a hash and says what queue it derived, in the log and in /metrics.
  const long capacity = HashQueueCapacity(http);
  ASSERT_GE(capacity, 1) << http.Get("/metrics").body;
  EXPECT_LT(capacity, 1024) << "the hash queue is still bounded by IKIGAI_QUEUE_LIMIT only";
  EXPECT_NE(server.StderrLog().find("hash queue limited to " + std::to_string(capacity)), std::string::npos)
      << server.StderrLog();

  // More logins at once than the queue holds: unknown identifiers, each costing one (dummy) hash.
  const int requests = static_cast<int>(capacity) + 40;
  std::vector<std::chrono::steady_clock::duration> took(static_cast<std::size_t>(requests));
  auto answers = support::AllAtOnce(requests, [&](int i) {
    const auto started = std::chrono::steady_clock::now();
    support::Request req;
    req.method = "POST";
    req.path = "/api/v1/auth/login";
    req.body = json{{"login", "flood_" + std::to_string(i)}, {"password", "Not-The-Password-1"}}.dump();
    req.timeout = 120s;  // what was accepted is answered, however slow the machine
    auto res = http.Send(req);
    took[static_cast<std::size_t>(i)] = std::chrono::steady_clock::now() - started;
    return res;
  });
  int busy = 0;
  int answered = 0;
  for (std::size_t i = 0; i < answers.size(); ++i) {
    const auto& a = answers[i];
    if (a.status == 503) {
      ++busy;
      // At once, not after the queue: a generous bound for a loaded 2-core machine.
      EXPECT_LT(took[i], 15s) << a;
      EXPECT_TRUE(support::IsProblem(a, 503, "unavailable")) << a;
      const std::string retry = a.Header("Retry-After");
      ASSERT_FALSE(retry.empty()) << a;
      EXPECT_GE(std::stol(retry), 1) << a;
    } else {
      ++answered;
      EXPECT_TRUE(support::IsUnauthorized(a, "invalid_credentials")) << a;
    }
  }
  EXPECT_GE(busy, 1) << "no login of " << requests << " was refused with a queue of " << capacity;
  EXPECT_GE(answered, 1);
  // Each accepted login waited behind at most the queue (plus the running hash and those that
  // finished while the flood arrived), never behind the whole flood.
  EXPECT_LE(answered, requests - 1);
  EXPECT_EQ(server.Running(), true);
  EXPECT_EQ(http.Get("/healthz").status, 200);
}

}  // namespace
}  // namespace ikigai
