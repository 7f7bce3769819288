// Accounts and sessions: registration, login (Argon2id, legacy bcrypt upgraded), refresh-token
// rotation with a 10-second grace and reuse detection, logout, and per-request authentication
// that sees revocations on every instance at once (the session row is read on every request).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "auth/access_tokens.hpp"
#include "auth/password_hasher.hpp"
#include "auth/password_policy.hpp"
#include "auth/rate_limiter.hpp"
#include "config/config.hpp"
#include "notify/notifier.hpp"
#include "core/request_meta.hpp"
#include "store/database.hpp"
#include "store/one_time_tokens.hpp"
#include "store/sessions.hpp"
#include "store/users.hpp"

namespace ikigai::auth {

struct RegisterInput {
  std::string username;
  std::string email;
  std::string password;
  std::optional<std::string> display_name;
};

struct TokenPair {
  std::string access_token;
  long long expires_in = 0;  // seconds
  std::string refresh_token;
  store::UserRow user;
};

// The caller of an authenticated request: the current user row and the session.
struct AuthContext {
  store::UserRow user;
  std::string session_id;
};

// A place where mail gets queued when an account is created (the email capability fills it in).
class AccountMailHook {
 public:
  virtual ~AccountMailHook() = default;
  // Runs inside the registration transaction.
  virtual void OnRegistered(store::Connection& c, const store::UserRow& user, const core::RequestMeta& meta) = 0;
  // Runs after the registration committed (to deliver queued mail without waiting).
  virtual void AfterCommit() = 0;
};

class AccountService {
 public:
  AccountService(store::Database& db, const config::Config& config, const core::Clock& clock,
                 core::Random& random, const PasswordHasher& hasher, const PasswordPolicy& policy,
                 const AccessTokens& tokens);
  AccountService(const AccountService&) = delete;
  AccountService& operator=(const AccountService&) = delete;

  void SetMailHook(AccountMailHook* hook) { mail_hook_ = hook; }
  // Security notices (new device, sessions revoked, refresh-token reuse); unset: none.
  void SetNotifier(const notify::Notifier* notifier) { notifier_ = notifier; }

  // 429 when the address registered too often (every attempt counts).
  [[nodiscard]] core::Result<void> CheckRegisterRate(const core::RequestMeta& meta);
  // 422 (field rules, password policy), 409 (username or email taken). Hashes: call on the hash pool.
  [[nodiscard]] core::Result<store::UserRow> Register(const RegisterInput& input, const core::RequestMeta& meta,
                                                      const std::string& role = "user");

  // 429 when the account (by the lowered identifier, known or not) or the address failed too often.
  [[nodiscard]] core::Result<void> CheckLoginRate(const std::optional<std::string>& login,
                                                  const core::RequestMeta& meta);
  // 401 invalid_credentials, 403 account_disabled / email_not_verified (after a correct password).
  [[nodiscard]] core::Result<TokenPair> Login(const std::string& login, const std::string& password,
                                              const core::RequestMeta& meta);
  // The second step with two-factor sign-in on (the first answered 403 mfa_required with an
  // mfa_token): 400 invalid_token for an unknown, spent or expired token (or two-factor sign-in
  // turned off since); 401 invalid_credentials for a wrong or replayed code, which counts as a
  // failed login of the account (the fifth spends the token); 403 account_disabled.
  [[nodiscard]] core::Result<TokenPair> LoginSecondStep(const std::string& mfa_token, const std::string& code,
                                                        const core::RequestMeta& meta);
  // 429 when the address, or the account the token was issued for, failed to sign in too often.
  [[nodiscard]] core::Result<void> CheckMfaLoginRate(const std::string& mfa_token, const core::RequestMeta& meta);
  // A wrong second factor of a signed-in user (turning two-factor sign-in off, new recovery
  // codes): counted as a failed login of the account and the address, recorded as auth.mfa_failed.
  void CountSecondFactorFailure(const store::UserRow& user, const std::string& step, const core::RequestMeta& meta);
  [[nodiscard]] core::Result<TokenPair> Refresh(const std::string& refresh_token, const core::RequestMeta& meta);

  // From an access token to the live user and session; 401 for anything revoked or gone.
  [[nodiscard]] core::Result<AuthContext> Authenticate(const std::string& access_token);

  [[nodiscard]] core::Result<void> Logout(const AuthContext& who, const core::RequestMeta& meta);
  [[nodiscard]] core::Result<void> LogoutAll(const AuthContext& who, const core::RequestMeta& meta);
  [[nodiscard]] core::Result<std::vector<store::SessionRow>> Sessions(const AuthContext& who);
  // 404 for an unknown, ended or someone else's session.
  [[nodiscard]] core::Result<void> RevokeSession(const AuthContext& who, const std::string& session_id,
                                                 const core::RequestMeta& meta);

  // 429 when the user's account or address is over its failed-login limit (a confirmation counts
  // as a login attempt).
  [[nodiscard]] core::Result<void> CheckConfirmRate(const store::UserRow& user, const core::RequestMeta& meta);
  // Verifies a password for an account-changing confirmation; 429 over the account's limit; a
  // wrong one counts as a failed login of the account and gives 422 errors.<field> "is incorrect".
  [[nodiscard]] core::Result<void> ConfirmPassword(const store::UserRow& user, const std::string& password,
                                                   const std::string& field, const core::RequestMeta& meta);

  // A single-use ticket (60 s) that opens the caller's notification stream from a browser's
  // EventSource, which cannot send an Authorization header. Stored hashed, bound to the session.
  [[nodiscard]] core::Result<std::string> IssueStreamTicket(const AuthContext& who);
  // Spends a ticket; 401 (reason revoked) for an unknown, spent or expired one, or when its
  // session or user has ended since.
  [[nodiscard]] core::Result<AuthContext> RedeemStreamTicket(const std::string& ticket);

  [[nodiscard]] const PasswordHasher& Hasher() const { return hasher_; }
  [[nodiscard]] const PasswordPolicy& Policy() const { return policy_; }

 private:
  struct Reservation {
    long long account_event = 0;
    long long address_event = 0;
  };
  core::Result<Reservation> ReserveAttempt(const std::string& account_subject, const core::RequestMeta& meta);
  core::Result<void> ReleaseAttempt(const Reservation& reservation);
  std::string IssueMfaToken(store::Connection& c, const std::string& user_id);
  std::optional<store::OneTimeTokenRow> LiveMfaToken(store::Connection& c, const std::string& hash) const;
  core::Result<TokenPair> StartSession(store::Connection& c, const store::UserRow& user,
                                       const core::RequestMeta& meta);
  void RecordLoginFailure(const std::optional<store::UserRow>& user, const core::RequestMeta& meta);
  core::Result<TokenPair> RefuseImpossibleLogin(const core::RequestMeta& meta);
  static std::string AccountSubject(store::Connection& c, const std::string& login);
  // 429 when the address, or the account subject when given, is at its failed-login limit.
  [[nodiscard]] core::Result<void> CheckLoginLimits(store::Connection& c, const core::RequestMeta& meta,
                                                    const std::optional<std::string>& account_subject) const;

  // Inside the caller's transaction: a security notice to `user`.
  void NotifySecurity(store::Connection& c, const store::UserRow& user, std::string title, std::string body,
                      nlohmann::json data) const;
  void AfterNotify() const;

  store::Database& db_;
  const config::Config& config_;
  const core::Clock& clock_;
  core::Random& random_;
  const PasswordHasher& hasher_;
  const PasswordPolicy& policy_;
  const AccessTokens& tokens_;
  RateLimiter limiter_;
  activity::Recorder recorder_;
  AccountMailHook* mail_hook_ = nullptr;
  const notify::Notifier* notifier_ = nullptr;
};

}  // namespace ikigai::auth
