// Account recovery and email verification: forgot/reset password and verify/resend, with
// one-time tokens (>= 256 bits, stored as SHA-256, single use, newer voids older) and their
// emails queued in the same transaction.
#pragma once

#include <functional>
#include <string>

#include "activity/recorder.hpp"
#include "auth/account_service.hpp"
#include "auth/rate_limiter.hpp"
#include "config/config.hpp"
#include "mail/outbox.hpp"
#include "notify/notifier.hpp"

namespace ikigai::auth {

class RecoveryService final : public AccountMailHook {
 public:
  RecoveryService(store::Database& db, const config::Config& config, const core::Clock& clock, core::Random& random,
                  const PasswordHasher& hasher, const PasswordPolicy& policy, const mail::Outbox& outbox,
                  const notify::Notifier& notifier);

  // Where Forgot's look-up and mail run after the answer: `run_later(task)` queues the task and
  // says false when it cannot (then it runs at once). Unset: at once (tests, the command line).
  void SetBackground(std::function<bool(std::function<void()>)> run_later) { run_later_ = std::move(run_later); }

  // Always succeeds for the client (202): unknown, disabled or over-limit accounts get no mail.
  // Before answering it does the same work for every address (counts the forgot_account event),
  // so the answer's timing does not tell whether an account exists; the look-up, the token and
  // the mail follow in the background (SetBackground).
  [[nodiscard]] core::Result<void> Forgot(const std::string& email, const core::RequestMeta& meta);
  // 400 invalid_token, 422 for a weak password (the token stays usable). Hashes: hash pool.
  [[nodiscard]] core::Result<void> Reset(const std::string& token, const std::string& password,
                                         const core::RequestMeta& meta);
  // 400 invalid_token; 409 when the address was taken by another account meanwhile.
  [[nodiscard]] core::Result<void> Verify(const std::string& token, const core::RequestMeta& meta);
  // Mails a new verification link (older ones voided); nothing when already verified. 429 with
  // Retry-After beyond verify_account (default 3 resends per account per hour).
  [[nodiscard]] core::Result<void> Resend(const AuthContext& who, const core::RequestMeta& meta);

  // Queues a verification mail for `address` (registration, and an email change later).
  void QueueVerification(store::Connection& c, const store::UserRow& user, const std::string& address);
  void OnRegistered(store::Connection& c, const store::UserRow& user, const core::RequestMeta& meta) override;
  void AfterCommit() override { outbox_.Wake(); }

 private:
  // Forgot's part after the answer: a reset link for an enabled account of exactly this address.
  void QueueReset(const std::string& email, const core::RequestMeta& meta);
  std::string NewToken(store::Connection& c, const std::string& user_id, const std::string& purpose,
                       std::chrono::seconds ttl, const std::optional<std::string>& data);

  store::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  core::Random& random_;
  const PasswordHasher& hasher_;
  const PasswordPolicy& policy_;
  const mail::Outbox& outbox_;
  const notify::Notifier& notifier_;
  RateLimiter limiter_;
  activity::Recorder recorder_;
  std::function<bool(std::function<void()>)> run_later_;
};

}  // namespace ikigai::auth
