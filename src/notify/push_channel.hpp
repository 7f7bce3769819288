// Web Push as a notification channel: inside the producer's transaction, one push_outbox row per
// subscription of the recipient (unless push.<kind> is false), sent later by PushSender. Nothing
// is sent, encrypted or signed on the request thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "notify/notifier.hpp"

namespace ikigai::notify {

// The push payload: the Notification JSON with `body` shortened (at a character boundary, with
// an ellipsis) so that the encrypted message stays within 4096 bytes.
[[nodiscard]] std::string PushPayload(store::NotificationRow row);
// "high" for security and task_due, "normal" otherwise (RFC 8030 section 5.3).
[[nodiscard]] const char* PushUrgency(Kind kind);

class PushChannel final : public Channel {
 public:
  PushChannel(const core::Clock& clock, core::Random& random) : clock_(clock), random_(random) {}
  void Deliver(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs,
               const Notice& notice, const store::NotificationRow& row) override;
  void AfterCommit() override;
  // REQUIRES: before the server serves. Called after a commit that queued pushes.
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }

 private:
  const core::Clock& clock_;
  core::Random& random_;
  std::function<void()> wake_;
  std::atomic<bool> queued_{false};
};

}  // namespace ikigai::notify
