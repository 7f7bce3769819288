// SIGTERM drains requests in flight; /readyz follows a database outage and recovers by itself.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <signal.h>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mariadb.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using support::Http;
using support::MetricSum;
using support::Request;

Request Get(std::string path, std::chrono::milliseconds timeout) {
  Request request;
  request.path = std::move(path);
  request.timeout = timeout;
  return request;
}

// Requests the server has accepted and not answered yet, by its own metrics: the in-flight gauge,
// or else the worker pool's queue plus busy workers. nullopt when /metrics does not answer.
struct Pending {
  std::optional<double> in_flight;
  std::optional<double> queued_or_busy;
};

std::optional<Pending> ReadPending(const Http& http) {
  auto res = http.Send(Get("/metrics", 2s));
  if (res.status != 200) return std::nullopt;
  Pending pending;
  pending.in_flight = MetricSum(res.body, "ikigai_http_requests_in_flight");
  auto depth = MetricSum(res.body, "ikigai_worker_queue_depth");
  auto busy = MetricSum(res.body, "ikigai_worker_busy");
  if (depth || busy) pending.queued_or_busy = depth.value_or(0) + busy.value_or(0);
  return pending;
}

// Joins its threads however the test ends.
class Threads {
 public:
  ~Threads() {
    for (auto& thread : threads_) thread.join();
  }
  template <class F>
  void Start(F&& f) {
    threads_.emplace_back(std::forward<F>(f));
  }
  void JoinAll() {
    for (auto& thread : threads_) thread.join();
    threads_.clear();
  }

 private:
  std::vector<std::thread> threads_;
};

TEST(LifecycleTest, SigtermOnAnIdleServerExitsZero) {
  support::TempDir dir;
  auto server = support::StartServerOnFreshDatabase(dir);
  ASSERT_EQ(Http(server).Get("/healthz").status, 200);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(), 0) << server.StderrLog();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s) << "an idle server took long to stop";
}

TEST(LifecycleTest, SigtermDrainsRequestsInFlight) {
  if (!support::UsingMysql()) GTEST_SKIP() << "needs a database that can hold a query: mysql";
  constexpr int kRequests = 50;
  auto& mariadb = support::SharedMariaDb();
  auto db = mariadb.CreateDatabase();
  support::TempDir dir;
  support::ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = db.url;
  auto server = support::StartServer(options);
  Http http(server);
  ASSERT_EQ(http.Get("/readyz").status, 200);
  auto idle = ReadPending(http);
  ASSERT_TRUE(idle) << "/metrics does not answer";
  ASSERT_TRUE(idle->in_flight || idle->queued_or_busy)
      << "/metrics has neither ikigai_http_requests_in_flight nor ikigai_worker_queue_depth/"
         "ikigai_worker_busy, so the test cannot tell when the requests have arrived";
  // /metrics may count itself as in flight.
  const double baseline = idle->in_flight.value_or(0);

  // /readyz reads schema_migrations; a write lock held elsewhere makes it wait.
  auto lock = mariadb.Connect(db.name);
  lock.Exec("LOCK TABLES schema_migrations WRITE");
  std::atomic<bool> locked{true};
  auto unlock = [&] {
    if (locked.exchange(false)) lock.Exec("UNLOCK TABLES");
  };

  std::vector<support::Response> responses(kRequests);
  Threads threads;
  struct Unlocker {  // declared after `threads`, so it unlocks before they are joined
    decltype(unlock)& f;
    ~Unlocker() {
      try {
        f();
      } catch (...) {
      }
    }
  } unlocker{unlock};
  for (int i = 0; i < kRequests; ++i) {
    threads.Start([&, i] { responses[i] = http.Send(Get("/readyz", 60s)); });
  }

  std::optional<Pending> pending;
  bool all_arrived = support::WaitUntil(
      [&] {
        pending = ReadPending(http);
        return pending && (pending->in_flight.value_or(0) >= kRequests + baseline ||
                           pending->queued_or_busy.value_or(0) >= kRequests);
      },
      20s, 20ms);
  ASSERT_TRUE(all_arrived) << "the server never had " << kRequests
                           << " requests in flight; last in_flight="
                           << (pending && pending->in_flight ? *pending->in_flight : -1)
                           << " queued_or_busy="
                           << (pending && pending->queued_or_busy ? *pending->queued_or_busy : -1);

  ASSERT_TRUE(server.Signal(SIGTERM));
  // A new connection is refused (the listener is closed) or answered, never left hanging. Give the
  // server the time to close its listener, so that the requests drain after it saw SIGTERM.
  bool refused = support::WaitUntil(
      [&] {
        auto probe = http.Send(Get("/healthz", 5s));
        EXPECT_FALSE(probe.TimedOut()) << "a new connection after SIGTERM hung: " << probe;
        return probe.ConnectionRefused() || probe.TimedOut();
      },
      3s, 20ms);
  (void)refused;  // answering during the drain is allowed too
  EXPECT_TRUE(server.Running()) << "the server exited with " << kRequests << " requests in flight";

  unlock();
  threads.JoinAll();
  int ok = 0;
  for (const auto& res : responses) {
    if (res.status == 200 && res.curl_code == 0) {
      ++ok;
    } else {
      ADD_FAILURE() << "a request in flight at SIGTERM was not answered completely: " << res;
      if (kRequests - ok > 3) break;  // a few examples are enough
    }
  }
  EXPECT_EQ(ok, kRequests);

  auto status = server.Wait(15s);
  if (!status) {
    ADD_FAILURE() << "the server did not exit within 15 s of draining; killing it";
    server.Kill9();
  } else {
    EXPECT_EQ(*status, 0) << server.StderrLog();
  }
  EXPECT_TRUE(http.Send(Get("/healthz", 5s)).ConnectionRefused());
}

TEST(LifecycleTest, ReadyzFollowsADatabaseOutageWithoutARestart) {
  if (!support::UsingMysql()) GTEST_SKIP() << "needs a database server to stop: mysql";
  support::MariaDbServer mariadb;  // its own, since it is stopped
  auto db = mariadb.CreateDatabase();
  support::TempDir dir;
  support::ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = db.url;
  auto server = support::StartServer(options);
  Http http(server);
  ASSERT_EQ(http.Get("/readyz").status, 200);

  mariadb.Stop();
  auto asked = std::chrono::steady_clock::now();
  auto down = http.Send(Get("/readyz", 15s));
  auto took = std::chrono::steady_clock::now() - asked;
  EXPECT_TRUE(support::IsProblem(down, 503, "unavailable"));
  EXPECT_LT(took, 5s) << "/readyz took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms to notice the outage";
  EXPECT_EQ(http.Send(Get("/healthz", 5s)).status, 200) << "the process must keep serving";

  mariadb.Start();
  support::Response up;
  bool recovered = support::WaitUntil(
      [&] {
        up = http.Send(Get("/readyz", 2s));
        return up.status == 200;
      },
      5s, 50ms);
  EXPECT_TRUE(recovered) << "/readyz did not recover within 5 s of the database: " << up;
  EXPECT_TRUE(server.Running());
}

}  // namespace
}  // namespace ikigai
