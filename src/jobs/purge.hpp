// Housekeeping: ended sessions, old rate-limit events, activity past its retention.
#pragma once

#include "config/config.hpp"
#include "core/clock.hpp"
#include "store/database.hpp"

namespace ikigai::jobs {

struct PurgeCounts {
  long long sessions = 0;
  long long rate_events = 0;
  long long activity = 0;
  long long tokens = 0;
  long long mail = 0;
};

// Deletes sessions that expired or were revoked more than a day ago (their refresh tokens go with
// them), rate-limit events older than the longest window, activity older than the retention,
// expired one-time tokens, and sent emails older than 7 days.
[[nodiscard]] PurgeCounts PurgeExpired(store::Database& db, const config::Config& config, const core::Clock& clock);

}  // namespace ikigai::jobs
