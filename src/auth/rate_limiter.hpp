// Sliding-window limits counted in the database (API.md: login_account, login_address,
// register_address, forgot_account, feedback_user, verify_account, email_change_account), so that
// every instance sees every attempt.
#pragma once

#include <map>
#include <string>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/database.hpp"

namespace ikigai::auth {

class RateLimiter {
 public:
  RateLimiter(const config::Config& config, const core::Clock& clock)
      : enabled_(config.rate_limits_enabled), limits_(config.rate_limits), clock_(clock) {}

  // kRateLimited with Retry-After (seconds until the oldest counted event leaves the window)
  // when `subject` already has the bucket's maximum of events in the window.
  [[nodiscard]] core::Result<void> Check(store::Connection& c, const std::string& bucket,
                                         const std::string& subject) const;
  // Counts one event (always recorded, also when limits are off, so turning them on is honest).
  long long Hit(store::Connection& c, const std::string& bucket, const std::string& subject) const;
  // Checks and counts one event as one step for this subject across every instance: a named
  // lock on MariaDB (the count and the insert each commit before it is released), the write
  // lock of a transaction on SQLite. So N concurrent requests against a limit of L get exactly
  // min(N, L) passes. Returns the event id (for Undo), or 429.
  [[nodiscard]] core::Result<long long> Consume(store::Database& db, const std::string& bucket,
                                                const std::string& subject) const;
  static void Undo(store::Connection& c, long long event_id);

 private:
  bool enabled_;
  std::map<std::string, config::RateLimit> limits_;
  const core::Clock& clock_;
};

}  // namespace ikigai::auth
