// Deletes expired rows in small statements so a purge never holds locks for long.
#include "jobs/purge.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "store/activity.hpp"
#include "store/one_time_tokens.hpp"
#include "store/outbox.hpp"
#include "store/rate_events.hpp"
#include "store/sessions.hpp"

namespace ikigai::jobs {
namespace {

// Rows per DELETE, and batches per pass (at most a million rows a pass; the next pass goes on).
constexpr int kActivityBatch = 5000;
constexpr int kMaxActivityBatches = 200;

}  // namespace

PurgeCounts PurgeExpired(store::Database& db, const config::Config& config, const core::Clock& clock) {
  PurgeCounts counts;
  const long long now = core::ToMillis(clock.Now());
  constexpr long long kDayMs = 24LL * 3600 * 1000;
  long long longest_window_ms = 3600LL * 1000;
  for (const auto& [name, limit] : config.rate_limits) {
    longest_window_ms = std::max<long long>(longest_window_ms, limit.window.count() * 1000LL);
  }
  const long long activity_before = now - static_cast<long long>(config.activity_retention.count()) * kDayMs;
  auto done = db.Run([&](store::Connection& c) -> core::Result<void> {
    counts.sessions = store::SessionStore::PurgeEnded(c, now - kDayMs);
    counts.rate_events = store::RateEventStore::PurgeBefore(c, now - longest_window_ms);
    counts.tokens = store::OneTimeTokenStore::PurgeExpired(c, now);
    counts.mail = store::OutboxStore::PurgeSent(c, now - 7 * kDayMs);
    return {};
  });
  // Activity can hold millions of rows past the retention (a first run, a shortened retention):
  // one statement per batch, each committed on its own, so no delete holds the table for long.
  if (done) {
    for (int round = 0; round < kMaxActivityBatches; ++round) {
      auto n = db.Run([&](store::Connection& c) -> core::Result<long long> {
        return store::ActivityStore::PurgeBefore(c, activity_before, kActivityBatch);
      });
      if (!n) {
        done = core::Fail(n.error());
        break;
      }
      counts.activity += *n;
      if (*n < kActivityBatch) break;
    }
  }
  if (!done) {
    spdlog::warn("purge job: database unavailable, will retry");
  } else if (counts.sessions + counts.rate_events + counts.activity + counts.tokens + counts.mail > 0) {
    spdlog::info("purged {} ended session(s), {} rate-limit event(s), {} activity event(s), {} one-time token(s), "
                 "{} sent email(s)", counts.sessions, counts.rate_events, counts.activity, counts.tokens, counts.mail);
  }
  return counts;
}

}  // namespace ikigai::jobs
