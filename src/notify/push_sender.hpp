// Sends the push outbox (RFC 8030): claims due rows with a claim token and a lease (a conditional
// UPDATE, safe on Galera), encrypts each message for its subscription (RFC 8291), signs a VAPID
// JWT per push service origin (RFC 8292), and posts up to `parallel` at once over one libcurl
// multi handle that keeps its connections between runs. 2xx: delivered; 404/410: the
// subscription is deleted; 429 (Retry-After honoured), 5xx and network errors: retried with
// exponential backoff and jitter for up to 24 h; any other status: the message is dropped and
// logged. Runs on its own job thread, never on a request thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "push/crypto.hpp"
#include "store/database.hpp"
#include "store/push.hpp"

namespace ikigai::notify {

inline constexpr std::chrono::hours kPushGiveUpAfter{24};
inline constexpr std::chrono::hours kPushMaxBackoff{1};

struct PushSenderOptions {
  std::string subject;                      // the VAPID sub claim
  std::chrono::seconds retry_min{30};       // first retry delay
  std::chrono::seconds timeout{10};         // one request
  unsigned parallel = 8;                    // requests in flight
};

// What happened to one push, from the push service's answer.
enum class PushOutcome { kDelivered, kGone, kRetry, kDrop };
// `status` 0 means no HTTP answer (a network error or timeout).
[[nodiscard]] PushOutcome ClassifyPushStatus(long status);
// The delay before attempt `attempts + 1`: retry_min * 2^(attempts-1), capped at 1 h, then a
// uniformly random point in its upper half (jitter: instances that failed together do not retry
// together). A Retry-After, when given, is used instead (at least 1 s).
[[nodiscard]] std::chrono::milliseconds PushBackoff(int attempts, std::chrono::seconds retry_min,
                                                    std::optional<std::chrono::seconds> retry_after,
                                                    std::uint32_t random_bits);
// Retry-After as delay-seconds or an HTTP-date relative to `now`; nullopt when absent or bad.
[[nodiscard]] std::optional<std::chrono::seconds> ParseRetryAfter(const std::string& value,
                                                                  core::TimePoint now);

class PushSender {
 public:
  PushSender(store::Database& db, const push::EcKey& vapid, PushSenderOptions options, const core::Clock& clock,
             core::Random& random);
  ~PushSender();
  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;

  // Sends everything due, batch by batch; returns how many pushes were attempted.
  long long RunOnce();

  // For /metrics.
  [[nodiscard]] std::uint64_t Sent() const { return sent_.load(); }
  [[nodiscard]] std::uint64_t Failed(const char* status_class) const;  // "4xx", "5xx", "network"
  [[nodiscard]] std::uint64_t SubscriptionsRemoved() const { return removed_.load(); }
  [[nodiscard]] std::uint64_t Dropped() const { return dropped_.load(); }
  [[nodiscard]] long long QueueDepth() const { return depth_.load(); }
  // Seconds since the oldest queued push was queued (as of the last run); 0 when none.
  [[nodiscard]] double OldestAgeSeconds() const;

  struct Transfer;  // one push in flight

 private:
  struct Curl;

  // Encrypts, signs and posts a batch; fills each transfer's status and Retry-After.
  void SendBatch(std::vector<Transfer>& batch);
  // Encrypts one push and sets up `easy` (a CURL*) to post it; false when its subscription's keys
  // or endpoint cannot be used.
  bool Prepare(Transfer& t, void* easy);
  void Record(const std::vector<Transfer>& batch, const std::string& token);
  const std::string& Authorization(const std::string& audience);

  store::Database& db_;
  const push::EcKey& vapid_;
  PushSenderOptions options_;
  const core::Clock& clock_;
  core::Random& random_;
  std::unique_ptr<Curl> curl_;
  std::mutex run_mutex_;  // one run at a time (the job thread; tests may call RunOnce too)
  // VAPID headers per audience, reused until an hour before their JWT expires.
  std::map<std::string, std::pair<std::string, core::TimePoint>> authorizations_;

  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> failed_4xx_{0};
  std::atomic<std::uint64_t> failed_5xx_{0};
  std::atomic<std::uint64_t> failed_network_{0};
  std::atomic<std::uint64_t> removed_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<long long> depth_{0};
  std::atomic<long long> oldest_created_at_{0};
};

}  // namespace ikigai::notify
