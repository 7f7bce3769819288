// API.md's Profile section for the signed-in user: edit the profile (a new email address waits
// for its verification), change the password, delete the account with everything it owns.
#pragma once

#include <optional>
#include <string>

#include "activity/recorder.hpp"
#include "auth/account_service.hpp"
#include "auth/rate_limiter.hpp"
#include "auth/recovery_service.hpp"
#include "config/config.hpp"
#include "mail/outbox.hpp"
#include "notify/notifier.hpp"

namespace ikigai::users {

// The fields of PATCH /me; absent ones stay as they are.
struct ProfileChanges {
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::optional<std::string> email;
  std::optional<std::string> current_password;
};

class ProfileService {
 public:
  ProfileService(store::Database& db, const config::Config& config, const core::Clock& clock, core::Random& random,
                 auth::AccountService& accounts, auth::RecoveryService& recovery, const mail::Outbox& outbox,
                 const notify::Notifier& notifier);

  // 429 when the account is over its failed-login limit: password confirmations count as logins,
  // so a stolen access token cannot be used to guess the password faster than the login form.
  [[nodiscard]] core::Result<void> CheckConfirmationRate(const auth::AuthContext& who, const core::RequestMeta& meta);
  // 429 with Retry-After when `email` would change the address (it differs from the current one
  // in more than case) and the account is at its email_change_account limit (default 3 per hour):
  // every change mails a link to an address nobody has proved yet.
  [[nodiscard]] core::Result<void> CheckEmailChangeRate(const auth::AuthContext& who, const std::string& email);

  // 422 for field rules or a missing/wrong current_password (required to change the email), 409
  // for a username or email that belongs to another account, 429 for a new email beyond
  // email_change_account (nothing of the request is applied). A new email becomes pending: a link
  // goes to it and a notice to the old address. Verifies a password: call on the hash pool.
  [[nodiscard]] core::Result<store::UserRow> Update(const auth::AuthContext& who, const ProfileChanges& changes,
                                                    const core::RequestMeta& meta);
  // 422 for a wrong current password or a new password the policy refuses; revokes every other
  // session and mails a notice. Hashes: call on the hash pool.
  [[nodiscard]] core::Result<void> ChangePassword(const auth::AuthContext& who, const std::string& current_password,
                                                  const std::string& new_password, const core::RequestMeta& meta);
  // 422 for a wrong password, 409 for the last admin. Leaves one `user.deleted` event that holds
  // no personal data. Verifies a password: call on the hash pool.
  [[nodiscard]] core::Result<void> Delete(const auth::AuthContext& who, const std::string& password,
                                          const core::RequestMeta& meta);

 private:
  store::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  auth::AccountService& accounts_;
  auth::RecoveryService& recovery_;
  const mail::Outbox& outbox_;
  const notify::Notifier& notifier_;
  auth::RateLimiter limiter_;
  activity::Recorder recorder_;
};

}  // namespace ikigai::users
