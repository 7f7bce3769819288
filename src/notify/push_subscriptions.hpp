// The Web Push subscriptions of API.md: what the /me/push-subscriptions endpoints call. One row
// per endpoint; at most kMaxPushSubscriptions per user, a new one replacing the least recently
// registered; activity push.subscribed / push.unsubscribed in the same transaction.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"
#include "core/request_meta.hpp"
#include "store/database.hpp"
#include "store/push.hpp"

namespace ikigai::notify {

inline constexpr std::size_t kMaxPushSubscriptions = 20;
inline constexpr std::size_t kMaxEndpointBytes = 2048;

// A browser's PushSubscription.toJSON(), as decoded from the request.
struct SubscriptionInput {
  std::string endpoint{};
  std::string p256dh{};
  std::string auth{};
  std::optional<long long> expiration_time{};
};

// Field errors ("endpoint", "keys.p256dh", "keys.auth") of an input, empty when it is valid.
// `allow_http`: IKIGAI_PUSH_ALLOW_HTTP.
[[nodiscard]] std::map<std::string, core::FieldError> SubscriptionErrors(const SubscriptionInput& in, bool allow_http);

struct Subscribed {
  store::PushSubscriptionRow row;
  bool created = false;  // false: the endpoint was known (keys replaced, or moved to this user)
};

class PushSubscriptionService {
 public:
  PushSubscriptionService(store::Database& db, const core::Clock& clock, core::Random& random, bool allow_http)
      : db_(db), clock_(clock), random_(random), recorder_(clock, random), allow_http_(allow_http) {}

  [[nodiscard]] bool AllowsHttp() const { return allow_http_; }
  // 422 for field errors.
  [[nodiscard]] core::Result<Subscribed> Subscribe(const std::string& user_id, const SubscriptionInput& input,
                                                   const core::RequestMeta& meta);
  // Newest first; up to limit + 1 rows (the extra one says there is a next page).
  [[nodiscard]] core::Result<std::vector<store::PushSubscriptionRow>> List(const std::string& user_id,
                                                                          const std::optional<std::string>& before_id,
                                                                          int limit);
  // 404 for an unknown id or someone else's.
  [[nodiscard]] core::Result<void> Unsubscribe(const std::string& user_id, const std::string& id,
                                               const core::RequestMeta& meta);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  core::Random& random_;
  activity::Recorder recorder_;
  bool allow_http_;
};

}  // namespace ikigai::notify
