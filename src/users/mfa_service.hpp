// API.md's "Two-factor sign-in (TOTP)" for the signed-in user: enrol (a pending secret, after the
// password), confirm (the first right code turns it on and gives the recovery codes), turn off
// and new recovery codes (both ask for the password and a code). The second login step is
// AccountService::LoginSecondStep; an admin's reset is AdminService::Update.
#pragma once

#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "auth/account_service.hpp"
#include "auth/second_factor.hpp"
#include "notify/notifier.hpp"

namespace ikigai::users {

struct Enrolment {
  std::string secret;       // base32; shown this once
  std::string otpauth_url;  // for a QR code
};

class MfaService {
 public:
  MfaService(store::Database& db, const core::Clock& clock, core::Random& random, auth::AccountService& accounts,
             const notify::Notifier& notifier)
      : db_(db), clock_(clock), random_(random), accounts_(accounts), notifier_(notifier), recorder_(clock, random) {}

  // 422 for a wrong password (counted as a failed login), 409 when two-factor sign-in is on
  // already. A new call replaces a pending secret. Verifies a password: call on the hash pool.
  [[nodiscard]] core::Result<Enrolment> Enrol(const auth::AuthContext& who, const std::string& current_password,
                                              const core::RequestMeta& meta);
  // 422 errors.code for a code that is not the pending secret's; 409 when nothing is pending or
  // it is on already. Returns the ten recovery codes (shown this once).
  [[nodiscard]] core::Result<std::vector<std::string>> Confirm(const auth::AuthContext& who, const std::string& code,
                                                               const core::RequestMeta& meta);
  // 422 for a wrong password or code (both count as failed logins), 409 when it is off.
  [[nodiscard]] core::Result<void> Disable(const auth::AuthContext& who, const std::string& current_password,
                                           const std::string& code, const core::RequestMeta& meta);
  // As Disable; returns a new set of ten codes, the old set void.
  [[nodiscard]] core::Result<std::vector<std::string>> RegenerateRecoveryCodes(const auth::AuthContext& who,
                                                                               const std::string& current_password,
                                                                               const std::string& code,
                                                                               const core::RequestMeta& meta);

 private:
  // The password, then inside one transaction the second factor (spent) and `change`; a wrong
  // code changes nothing and is counted as a failed login.
  template <class Change>
  auto WithBothFactors(const auth::AuthContext& who, const std::string& current_password, const std::string& code,
                       const core::RequestMeta& meta, Change&& change)
      -> core::Result<std::invoke_result_t<Change, store::Connection&, const store::UserRow&, auth::SecondFactor>>;
  // New codes for the user, replacing the old ones; returns them as shown to the user.
  std::vector<std::string> NewRecoveryCodes(store::Connection& c, const std::string& user_id, long long now);
  void NotifySecurity(store::Connection& c, const store::UserRow& user, std::string title, std::string body,
                      const char* event) const;

  store::Database& db_;
  const core::Clock& clock_;
  core::Random& random_;
  auth::AccountService& accounts_;
  const notify::Notifier& notifier_;
  activity::Recorder recorder_;
};

}  // namespace ikigai::users
