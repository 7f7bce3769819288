// Sending email means writing an outbox row in the caller's transaction; the sender (in every
// `ikigai serve`) claims due rows, delivers them through the Mailer, and retries failures with
// exponential backoff (retry_min doubling to 1 h) until 24 h have passed, then marks them failed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "mail/mailer.hpp"
#include "mail/message.hpp"
#include "store/database.hpp"

namespace ikigai::mail {

class Outbox {
 public:
  Outbox(const core::Clock& clock, core::Random& random) : clock_(clock), random_(random) {}
  // Renders the template and queues the message inside the caller's transaction.
  void Enqueue(store::Connection& c, const std::optional<std::string>& user_id, const std::string& kind,
               const std::string& to, const std::map<std::string, std::string>& values) const;
  // Called after the queuing transaction committed, to deliver without waiting for the next tick.
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  void Wake() const {
    if (wake_) wake_();
  }

 private:
  const core::Clock& clock_;
  core::Random& random_;
  std::function<void()> wake_;
};

struct SenderSettings {
  std::string from;  // IKIGAI_MAIL_FROM
  std::chrono::seconds retry_min{60};
  std::chrono::seconds retry_max{3600};
  std::chrono::hours give_up_after{24};
  std::chrono::seconds claim_timeout{300};  // a claim its instance died holding is taken over after this
};

class OutboxSender {
 public:
  OutboxSender(store::Database& db, Mailer& mailer, SenderSettings settings, const core::Clock& clock,
               core::Random& random);
  // Delivers what is due; returns how many messages were sent.
  int RunOnce();

  [[nodiscard]] std::uint64_t Sent() const { return sent_.load(); }
  [[nodiscard]] std::uint64_t Retried() const { return retried_.load(); }
  [[nodiscard]] std::uint64_t Failed() const { return failed_.load(); }
  [[nodiscard]] long long Depth() const { return depth_.load(); }

 private:
  store::Database& db_;
  Mailer& mailer_;
  SenderSettings settings_;
  const core::Clock& clock_;
  core::Random& random_;
  std::atomic<std::uint64_t> sent_{0}, retried_{0}, failed_{0};
  std::atomic<long long> depth_{0};
};

}  // namespace ikigai::mail
