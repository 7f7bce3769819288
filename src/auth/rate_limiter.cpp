// Sliding-window checks over the login_attempts event table.
#include "auth/rate_limiter.hpp"

#include <algorithm>

#include "store/rate_events.hpp"

namespace ikigai::auth {

core::Result<void> RateLimiter::Check(store::Connection& c, const std::string& bucket,
                                      const std::string& subject) const {
  if (!enabled_) return {};
  auto it = limits_.find(bucket);
  if (it == limits_.end()) return {};
  const long long now = core::ToMillis(clock_.Now());
  const long long window_ms = static_cast<long long>(it->second.window.count()) * 1000;
  const auto w = store::RateEventStore::Count(c, bucket, subject, now - window_ms + 1);
  if (w.count < it->second.max_events) return {};
  const long long free_at = w.oldest.value_or(now) + window_ms;
  const int retry = static_cast<int>(std::max<long long>(1, (free_at - now + 999) / 1000));
  core::Error e{core::ErrorCode::kRateLimited, "Too many attempts. Try again later.", {}, retry};
  return core::Fail(std::move(e));
}

long long RateLimiter::Hit(store::Connection& c, const std::string& bucket, const std::string& subject) const {
  return store::RateEventStore::Add(c, bucket, subject, core::ToMillis(clock_.Now()));
}

core::Result<long long> RateLimiter::CheckAndHit(store::Connection& c, const std::string& bucket,
                                                 const std::string& subject) const {
  const long long id = Hit(c, bucket, subject);
  if (!enabled_) return id;
  auto it = limits_.find(bucket);
  if (it == limits_.end()) return id;
  const long long now = core::ToMillis(clock_.Now());
  const long long window_ms = static_cast<long long>(it->second.window.count()) * 1000;
  const auto w = store::RateEventStore::Count(c, bucket, subject, now - window_ms + 1);
  if (w.count <= it->second.max_events) return id;
  Undo(c, id);
  const long long free_at = w.oldest.value_or(now) + window_ms;
  const int retry = static_cast<int>(std::max<long long>(1, (free_at - now + 999) / 1000));
  core::Error e{core::ErrorCode::kRateLimited, "Too many attempts. Try again later.", {}, retry};
  return core::Fail(std::move(e));
}

void RateLimiter::Undo(store::Connection& c, long long event_id) { store::RateEventStore::Remove(c, event_id); }

}  // namespace ikigai::auth
