// Sliding-window checks over the login_attempts event table.
#include "auth/rate_limiter.hpp"

#include <algorithm>

#include <soci/soci.h>
#include <sodium.h>

#include "store/rate_events.hpp"

namespace ikigai::auth {
namespace {

std::string HashText(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace

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

core::Result<long long> RateLimiter::Consume(store::Database& db, const std::string& bucket,
                                             const std::string& subject) const {
  auto step = [&](store::Connection& c) -> core::Result<long long> {
    if (auto ok = Check(c, bucket, subject); !ok) return core::Fail(ok.error());
    return Hit(c, bucket, subject);
  };
  if (db.GetDialect() == store::Dialect::kSqlite) return db.Transaction(step);
  return db.Run([&](store::Connection& c) -> core::Result<long long> {
    // MySQL lock names are at most 64 characters: name the subject by its hash.
    const std::string name = "ikigai_rl_" + HashText(bucket + "\n" + subject).substr(0, 40);
    int got = 0;
    soci::indicator ind = soci::i_null;
    c.Sql() << "SELECT GET_LOCK(:n, 10)", soci::use(name), soci::into(got, ind);
    if (ind != soci::i_ok || got != 1) {
      return core::Fail(core::Error{core::ErrorCode::kUnavailable, "Busy. Try again shortly.", {}, 1});
    }
    core::Result<long long> result = core::Fail(core::ErrorCode::kInternal);
    try {
      result = step(c);
    } catch (...) {
      c.Sql() << "DO RELEASE_LOCK(:n)", soci::use(name);
      throw;
    }
    c.Sql() << "DO RELEASE_LOCK(:n)", soci::use(name);
    return result;
  });
}

void RateLimiter::Undo(store::Connection& c, long long event_id) { store::RateEventStore::Remove(c, event_id); }

}  // namespace ikigai::auth
