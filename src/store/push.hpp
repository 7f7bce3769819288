// Web Push subscriptions and the push outbox. The outbox is claimed by a conditional UPDATE that
// writes a fresh claim token and a lease expiry on due, unclaimed rows; completion and retry are
// conditional on that token. No row lock is relied upon, so this also holds on a Galera cluster
// (row locks are per node there; the cluster certifies the conflicting UPDATEs and aborts one).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

inline constexpr std::size_t kPushUserAgentColumn = 512;  // push_subscriptions.user_agent

struct PushSubscriptionRow {
  std::string id;
  std::string user_id;
  std::string endpoint;
  std::string p256dh;  // base64url, no padding
  std::string auth;    // base64url, no padding
  std::optional<std::string> user_agent;
  std::optional<long long> expiration_time;
  long long created_at = 0;
  long long registered_at = 0;
  std::optional<long long> last_success_at;
};

// One queued push as the sender needs it: the message and where it goes.
struct PushJob {
  std::string notification_id;
  std::string subscription_id;
  std::string payload;
  std::string urgency;
  int attempts = 0;  // including the one just claimed
  long long created_at = 0;
  std::string endpoint;
  std::string p256dh;
  std::string auth;
};

struct PushQueueStats {
  long long depth = 0;
  std::optional<long long> oldest_created_at;
};

class PushStore {
 public:
  [[nodiscard]] static std::optional<PushSubscriptionRow> FindByEndpoint(Connection& c, const std::string& endpoint);
  static void Insert(Connection& c, const PushSubscriptionRow& row);
  // New keys (and user agent, expiration) for the same endpoint and owner; registered_at = now.
  static void Reregister(Connection& c, const PushSubscriptionRow& row);
  // Deletes the subscription (and by cascade its queued pushes). False when there was none.
  static bool Delete(Connection& c, const std::string& id);
  [[nodiscard]] static std::optional<PushSubscriptionRow> FindForUser(Connection& c, const std::string& user_id,
                                                                      const std::string& id);
  // The user's subscriptions, least recently registered first.
  [[nodiscard]] static std::vector<PushSubscriptionRow> ForUserByRegistration(Connection& c,
                                                                              const std::string& user_id);
  // A page, newest first (by id), after `before_id` when set; up to `limit` rows.
  [[nodiscard]] static std::vector<PushSubscriptionRow> Page(Connection& c, const std::string& user_id,
                                                             const std::optional<std::string>& before_id, int limit);

  // Whether the user has any subscription (an index probe; most recipients of an announcement have
  // none, and their push payload need not be made).
  static bool HasSubscriptions(Connection& c, const std::string& user_id);
  // One queued push per subscription of `user_id`; returns how many were queued.
  static long long Enqueue(Connection& c, const std::string& notification_id, const std::string& user_id,
                           const std::string& payload, const std::string& urgency, long long now);
  // Claims up to `limit` due rows that no live lease holds, for `token` until `lease_until`, and
  // counts an attempt. Returns what was claimed, joined with its subscription.
  [[nodiscard]] static std::vector<PushJob> Claim(Connection& c, const std::string& token, long long now,
                                                  long long lease_until, int limit);
  // Every row still claimed under `token` was delivered: they go, and their subscriptions'
  // last_success_at is set. Called once per batch, after the other outcomes were recorded (a retry
  // releases its row, a drop or a gone subscription deletes it).
  static void DeliveredAll(Connection& c, const std::string& token, long long now);
  // Try again at `next_attempt_at`; `status` is the last HTTP status (0: no response).
  static void Reschedule(Connection& c, const PushJob& job, const std::string& token, long long next_attempt_at,
                         int status);
  // Given up (a 4xx other than 404/410, or retried for 24 h).
  static void Drop(Connection& c, const PushJob& job, const std::string& token);
  [[nodiscard]] static PushQueueStats QueueStats(Connection& c);
};

}  // namespace ikigai::store
