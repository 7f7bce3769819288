// The HTTP server: Boost.Beast I/O threads parse and route; work runs inline, on the database worker
// pool or on the hashing pool; every response gets the common headers; SIGTERM drains.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "http/router.hpp"
#include "http/worker_pool.hpp"

namespace ikigai::http {

// Authenticates a request for routes that require it (the accounts capability provides it).
// Runs on a worker thread; may use the database.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  [[nodiscard]] virtual core::Result<auth::AuthContext> Authenticate(const Request& request) = 0;
};

class Server {
 public:
  Server(const config::Config& config, Router& router, const core::Clock& clock, core::Random& random);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void SetAuthenticator(Authenticator* authenticator) { authenticator_ = authenticator; }

  // Binds the listening socket; returns the bound port (useful with port 0). Throws on failure.
  std::uint16_t Open();
  // Serves until SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish (at most
  // `drain_timeout`) and returns. `on_stop` runs once the signal arrived, before the drain.
  void Run(std::chrono::seconds drain_timeout, const std::function<void()>& on_stop);
  // What SIGTERM does: makes Run stop and drain (any thread; for tests and embedding).
  void Stop();

  [[nodiscard]] WorkerPool& Workers() { return *workers_; }
  [[nodiscard]] WorkerPool& Hashers() { return *hashers_; }
  [[nodiscard]] std::size_t InFlight() const { return in_flight_.load(std::memory_order_relaxed); }
  // Open connections, event streams excepted (IKIGAI_MAX_CONNECTIONS caps them).
  [[nodiscard]] std::size_t OpenConnections() const;
  // Open event streams (Reply::stream); at MaxStreams() (IKIGAI_MAX_STREAMS) the transport
  // answers 503 instead of starting another.
  [[nodiscard]] std::size_t OpenStreams() const;
  [[nodiscard]] std::size_t MaxStreams() const { return config_.max_streams; }
  [[nodiscard]] const Router& GetRouter() const { return router_; }
  [[nodiscard]] const config::Config& Config() const { return config_; }
  [[nodiscard]] const core::Clock& Clock() const { return clock_; }
  [[nodiscard]] RouteMetrics& Unmatched() { return unmatched_; }

  // The transport's state (connections, acceptor, I/O threads); defined in server.cpp.
  struct Impl;

 private:
  friend struct Impl;

  const config::Config& config_;
  Router& router_;
  const core::Clock& clock_;
  core::Random& random_;
  Authenticator* authenticator_ = nullptr;
  std::unique_ptr<WorkerPool> workers_;
  std::unique_ptr<WorkerPool> hashers_;
  std::atomic<std::size_t> in_flight_{0};
  std::atomic<bool> draining_{false};
  RouteMetrics unmatched_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ikigai::http
