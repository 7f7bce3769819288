// Account and session rules; every change records its activity event in the same transaction.
#include "auth/account_service.hpp"

#include <spdlog/spdlog.h>

#include "auth/validation.hpp"
#include "auth/second_factor.hpp"
#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "store/columns.hpp"
#include "store/mfa.hpp"
#include "store/one_time_tokens.hpp"

namespace ikigai::auth {
namespace {

constexpr long long kRefreshGraceMs = 10'000;
// The first sign-in of an account this young, with no session before it, is not a "new device".
constexpr long long kNewAccountMs = 24LL * 3600 * 1000;
constexpr std::string_view kStreamTicketPurpose = "stream_ticket";
constexpr long long kStreamTicketMs = 60'000;
constexpr std::string_view kMfaTokenPurpose = "mfa_login";
constexpr long long kMfaTokenMs = 5LL * 60 * 1000;
constexpr int kMfaMaxAttempts = 5;  // the fifth wrong code spends the mfa_token
constexpr std::size_t kMaxMfaTokenBytes = 128;

core::Error Invalid() {
  return core::Error{core::ErrorCode::kInvalidCredentials, "The login or password is incorrect.", {}, std::nullopt};
}

core::Error Unauthorized(std::string detail = "The session has ended. Sign in again.") {
  return core::Error{core::ErrorCode::kUnauthorized, std::move(detail), {}, std::nullopt};
}

}  // namespace

AccountService::AccountService(store::Database& db, const config::Config& config, const core::Clock& clock,
                               core::Random& random, const PasswordHasher& hasher, const PasswordPolicy& policy,
                               const AccessTokens& tokens)
    : db_(db),
      config_(config),
      clock_(clock),
      random_(random),
      hasher_(hasher),
      policy_(policy),
      tokens_(tokens),
      limiter_(config, clock),
      recorder_(clock, random) {}

core::Result<void> AccountService::CheckRegisterRate(const core::RequestMeta& meta) {
  auto hit = limiter_.Consume(db_, "register_address", meta.ip);
  if (!hit) return core::Fail(hit.error());
  return {};
}

core::Result<store::UserRow> AccountService::Register(const RegisterInput& in, const core::RequestMeta& meta,
                                                      const std::string& role) {
  core::Error invalid{core::ErrorCode::kValidation, {}, {}, std::nullopt};
  if (auto m = CheckUsername(in.username); m) invalid.fields["username"] = *m;
  if (auto m = CheckEmail(in.email); m) invalid.fields["email"] = *m;
  if (in.display_name) {
    if (auto m = CheckDisplayName(*in.display_name); m) invalid.fields["display_name"] = *m;
  }
  if (auto ok = policy_.Check(in.password, in.username, in.email); !ok) {
    for (auto& [k, v] : ok.error().fields) invalid.fields[k] = v;
  }
  if (!invalid.fields.empty()) return core::Fail(std::move(invalid));

  // Fail fast before spending a hash on a name that is taken; the unique index decides at insert.
  auto taken = db_.Run([&](store::Connection& c) -> core::Result<core::Error> {
    core::Error conflict{core::ErrorCode::kConflict, {}, {}, std::nullopt};
    if (store::UserStore::UsernameTaken(c, in.username)) conflict.fields["username"] = {core::FieldCode::kTaken, "is already taken"};
    if (store::UserStore::EmailTaken(c, in.email)) conflict.fields["email"] = {core::FieldCode::kTaken, "is already taken"};
    return conflict;
  });
  if (!taken) return core::Fail(taken.error());
  if (!taken->fields.empty()) {
    taken->detail = taken->fields.contains("username") ? "That username is already taken."
                                                      : "That email address is already registered.";
    return core::Fail(std::move(*taken));
  }

  store::UserRow user;
  user.id = core::NewId(clock_, random_);
  user.username = in.username;
  user.email = in.email;
  user.display_name = in.display_name.value_or(in.username);
  user.password_hash = hasher_.Hash(in.password);
  user.role = role;
  user.created_at = user.updated_at = core::ToMillis(clock_.Now());
  auto created = db_.Transaction([&](store::Connection& c) -> core::Result<store::UserRow> {
    if (auto inserted = store::UserStore::Insert(c, user); !inserted) return core::Fail(inserted.error());
    recorder_.Record(c, meta, {.actor_id = user.id, .action = "auth.registered", .target_type = "user",
                               .target_id = user.id, .data = {{"role", role}}});
    if (mail_hook_ != nullptr) mail_hook_->OnRegistered(c, user, meta);
    return user;
  });
  if (created && mail_hook_ != nullptr) mail_hook_->AfterCommit();
  return created;
}

// The account a login names: its user id when it exists, else the lowered identifier, so known
// and unknown accounts are limited alike and every identifier of one account counts together.
std::string AccountService::AccountSubject(store::Connection& c, const std::string& login) {
  if (auto user = store::UserStore::FindByLogin(c, login)) return "user:" + user->id;
  return "login:" + store::LowerAscii(login);
}

core::Result<void> AccountService::CheckLoginRate(const std::optional<std::string>& login,
                                                  const core::RequestMeta& meta) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    // An identifier too long to name any account has no account budget; its address has one.
    const bool names_account = login && login->size() <= kMaxIdentifierBytes;
    return CheckLoginLimits(c, meta, names_account ? std::optional<std::string>(AccountSubject(c, *login)) : std::nullopt);
  });
}

core::Result<void> AccountService::CheckLoginLimits(store::Connection& c, const core::RequestMeta& meta,
                                                    const std::optional<std::string>& account_subject) const {
  if (auto by_address = limiter_.Check(c, "login_address", meta.ip); !by_address) return by_address;
  if (account_subject) return limiter_.Check(c, "login_account", *account_subject);
  return {};
}

void AccountService::RecordLoginFailure(const std::optional<store::UserRow>& user, const core::RequestMeta& meta) {
  auto recorded = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    activity::Event e{.actor_id = std::nullopt, .action = "auth.login_failed"};
    if (user) {
      e.actor_id = user->id;
      e.target_type = "user";
      e.target_id = user->id;
    }
    recorder_.Record(c, meta, e);
    return {};
  });
  if (!recorded) spdlog::warn("request {}: could not record a failed login", meta.request_id);
}

core::Result<TokenPair> AccountService::Login(const std::string& login, const std::string& password,
                                              const core::RequestMeta& meta) {
  if (login.size() > kMaxIdentifierBytes) return RefuseImpossibleLogin(meta);
  auto found = db_.Run([&](store::Connection& c) -> core::Result<std::optional<store::UserRow>> {
    return store::UserStore::FindByLogin(c, login);
  });
  if (!found) return core::Fail(found.error());
  std::optional<store::UserRow> user = std::move(*found);
  auto reserved = ReserveAttempt(user ? "user:" + user->id : "login:" + store::LowerAscii(login), meta);
  if (!reserved) return core::Fail(reserved.error());
  VerifyResult verified;
  if (user) {
    verified = hasher_.Verify(password, user->password_hash);
  } else {
    hasher_.VerifyDummy(password);  // the same cost as a wrong password
  }
  if (!user || !verified.ok) {
    RecordLoginFailure(user, meta);
    return core::Fail(Invalid());
  }
  if (auto undone = ReleaseAttempt(*reserved); !undone) return core::Fail(undone.error());
  if (user->disabled) return core::Fail(core::ErrorCode::kAccountDisabled, "This account is disabled.");
  if (config_.require_verified_email && !user->email_verified) {
    return core::Fail(core::ErrorCode::kEmailNotVerified, "Verify your email address before signing in.");
  }
  std::string new_hash;
  if (verified.needs_rehash) new_hash = hasher_.Hash(password);  // legacy bcrypt or old parameters
  std::string mfa_token;
  auto pair = db_.Transaction([&](store::Connection& c) -> core::Result<TokenPair> {
    if (!new_hash.empty()) {
      store::UserStore::UpdatePasswordHash(c, user->id, new_hash, core::ToMillis(clock_.Now()));
      user->password_hash = new_hash;
    }
    // Two-factor sign-in on: no session yet, a token for the second step instead.
    if (user->mfa_enabled) {
      mfa_token = IssueMfaToken(c, user->id);
      return TokenPair{};
    }
    return StartSession(c, *user, meta);
  });
  if (!pair || mfa_token.empty()) return pair;
  core::Error second{core::ErrorCode::kMfaRequired,
                     "Two-factor sign-in is on: send a code with this mfa_token to /api/v1/auth/login/mfa.",
                     {}, std::nullopt};
  second.members["mfa_token"] = mfa_token;
  return core::Fail(std::move(second));
}

// Counted as a failed login before the secret is checked, so that concurrent attempts can never
// pass the limit together; a success takes the events back (ReleaseAttempt).
core::Result<AccountService::Reservation> AccountService::ReserveAttempt(const std::string& account_subject,
                                                                          const core::RequestMeta& meta) {
  Reservation r;
  auto address = limiter_.Consume(db_, "login_address", meta.ip);
  if (!address) return core::Fail(address.error());
  r.address_event = *address;
  auto account = limiter_.Consume(db_, "login_account", account_subject);
  if (!account) {
    (void)db_.Run([&](store::Connection& c) -> core::Result<void> {
      RateLimiter::Undo(c, r.address_event);
      return {};
    });
    return core::Fail(account.error());
  }
  r.account_event = *account;
  return r;
}

core::Result<void> AccountService::ReleaseAttempt(const Reservation& r) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    RateLimiter::Undo(c, r.account_event);
    RateLimiter::Undo(c, r.address_event);
    return {};
  });
}

std::string AccountService::IssueMfaToken(store::Connection& c, const std::string& user_id) {
  const std::string token = core::RandomToken(random_, 32);
  const long long now = core::ToMillis(clock_.Now());
  store::OneTimeTokenRow row;
  row.id = core::NewId(clock_, random_);
  row.user_id = user_id;
  row.purpose = std::string(kMfaTokenPurpose);
  row.token_hash = HashToken(token);
  row.created_at = now;
  row.expires_at = now + kMfaTokenMs;
  store::OneTimeTokenStore::Insert(c, row);
  return token;
}

// The mfa_token's row while it can still be used; nullopt for an unknown, spent or expired one.
std::optional<store::OneTimeTokenRow> AccountService::LiveMfaToken(store::Connection& c, const std::string& hash) const {
  auto row = store::OneTimeTokenStore::FindForUpdate(c, hash);
  if (!row || row->purpose != kMfaTokenPurpose || row->used_at || row->expires_at <= core::ToMillis(clock_.Now())) {
    return std::nullopt;
  }
  return row;
}

core::Result<void> AccountService::CheckMfaLoginRate(const std::string& mfa_token, const core::RequestMeta& meta) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    std::optional<std::string> subject;
    if (!mfa_token.empty() && mfa_token.size() <= kMaxMfaTokenBytes) {
      if (auto row = LiveMfaToken(c, HashToken(mfa_token))) subject = "user:" + row->user_id;
    }
    return CheckLoginLimits(c, meta, subject);
  });
}

core::Result<TokenPair> AccountService::LoginSecondStep(const std::string& mfa_token, const std::string& code,
                                                        const core::RequestMeta& meta) {
  const core::Error bad_token{core::ErrorCode::kInvalidToken,
                              "The mfa_token is unknown, used or expired: sign in with the password again.",
                              {}, std::nullopt};
  if (mfa_token.empty() || mfa_token.size() > kMaxMfaTokenBytes) return core::Fail(bad_token);
  const std::string hash = HashToken(mfa_token);
  auto found = db_.Run([&](store::Connection& c) -> core::Result<std::optional<store::OneTimeTokenRow>> {
    return LiveMfaToken(c, hash);
  });
  if (!found) return core::Fail(found.error());
  if (!*found) return core::Fail(bad_token);
  const store::OneTimeTokenRow token = std::move(**found);
  auto reserved = ReserveAttempt("user:" + token.user_id, meta);
  if (!reserved) return core::Fail(reserved.error());

  bool wrong_code = false;
  bool recovery_used = false;
  std::optional<store::UserRow> user;
  auto pair = db_.Transaction([&](store::Connection& c) -> core::Result<TokenPair> {
    wrong_code = recovery_used = false;
    const long long now = core::ToMillis(clock_.Now());
    user = store::UserStore::FindById(c, token.user_id, /*for_update=*/true);
    // Spent meanwhile (the fifth wrong code, a concurrent success), or two-factor sign-in was
    // turned off since the password step: start again.
    if (!user || !user->mfa_enabled || !LiveMfaToken(c, hash)) return core::Fail(bad_token);
    const SecondFactor factor = SpendSecondFactor(c, user->id, code, now);
    if (factor == SecondFactor::kNone) {
      wrong_code = true;
      return core::Fail(Invalid());
    }
    // Rolled back with the code's use: a disabled account spends nothing.
    if (user->disabled) return core::Fail(core::ErrorCode::kAccountDisabled, "This account is disabled.");
    if (!store::OneTimeTokenStore::Use(c, token.id, now)) return core::Fail(bad_token);
    if (factor == SecondFactor::kRecoveryCode) {
      recovery_used = true;
      const long long left = store::MfaStore::CountRecoveryCodes(c, user->id);
      NotifySecurity(c, *user, "A recovery code was used to sign in",
                     "One of your recovery codes was used to sign in at " + core::FormatRfc3339(core::FromMillis(now)) +
                         "; " + std::to_string(left) +
                         " unused codes are left. If this was not you, change your password and turn two-factor "
                         "sign-in off and on again.",
                     {{"event", "recovery_code_used"}, {"recovery_codes_left", left}});
    }
    return StartSession(c, *user, meta);
  });
  if (wrong_code) {
    auto counted = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
      (void)store::MfaStore::CountTokenAttempt(c, token.id, kMfaMaxAttempts, core::ToMillis(clock_.Now()));
      recorder_.Record(c, meta, {.actor_id = token.user_id, .action = "auth.mfa_failed", .target_type = "user",
                                 .target_id = token.user_id, .data = {{"step", "login"}}});
      return {};
    });
    if (!counted) return core::Fail(counted.error());
    return pair;  // the attempt stays counted as a failed login
  }
  if (auto undone = ReleaseAttempt(*reserved); !undone) return core::Fail(undone.error());
  if (pair) AfterNotify();
  return pair;
}

void AccountService::CountSecondFactorFailure(const store::UserRow& user, const std::string& step,
                                              const core::RequestMeta& meta) {
  auto counted = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    limiter_.Hit(c, "login_account", "user:" + user.id);
    limiter_.Hit(c, "login_address", meta.ip);
    recorder_.Record(c, meta, {.actor_id = user.id, .action = "auth.mfa_failed", .target_type = "user",
                               .target_id = user.id, .data = {{"step", step}}});
    return {};
  });
  if (!counted) spdlog::warn("request {}: could not record a wrong second factor", meta.request_id);
}

// An identifier longer than any username or email: no account can match, so neither the
// database nor a hash is asked. It is still a failed sign-in from this address: counted on the
// address (the same 429 as any failure over the limit), recorded as auth.login_failed, and
// answered with the same 401 as an unknown account. Its length is all it tells, and the client
// knows that already.
core::Result<TokenPair> AccountService::RefuseImpossibleLogin(const core::RequestMeta& meta) {
  auto counted = limiter_.Consume(db_, "login_address", meta.ip);
  if (!counted) return core::Fail(counted.error());
  RecordLoginFailure(std::nullopt, meta);
  return core::Fail(Invalid());
}

core::Result<TokenPair> AccountService::StartSession(store::Connection& c, const store::UserRow& user,
                                                     const core::RequestMeta& meta) {
  const long long now = core::ToMillis(clock_.Now());
  store::SessionRow s;
  s.id = core::NewId(clock_, random_);
  s.user_id = user.id;
  s.created_at = s.last_used_at = now;
  s.expires_at = now + static_cast<long long>(config_.refresh_ttl.count()) * 1000;
  s.ip = meta.ip;
  s.user_agent = meta.user_agent;
  // A sign-in from a user agent and address that no session of the account has (live, or ended
  // within the purge delay) is told to the owner; the first sign-in of a new account is not.
  // The user row is locked first (MariaDB), so that sign-ins from one new device at the same
  // moment see each other's session and the owner gets one notice, not one per sign-in.
  if (c.GetDialect() == store::Dialect::kMysql) (void)store::UserStore::FindById(c, user.id, /*for_update=*/true);
  const auto [sessions, same_device] = store::SessionStore::CountDevice(c, user.id, meta.user_agent, meta.ip);
  const bool brand_new = sessions == 0 && now - user.created_at < kNewAccountMs;
  if (same_device == 0 && !brand_new) {
    // As much of the user agent as a session row keeps: a header can be 64 KiB, a notification
    // body and data are TEXT on MariaDB.
    const std::string agent = store::FitColumn(meta.user_agent, store::kUserAgentColumn);
    const std::string device = agent.empty() ? std::string("an unknown device") : agent;
    const std::string address = store::FitColumn(meta.ip, store::kIpColumn);
    NotifySecurity(c, user, "New sign-in to your account",
                   "Someone signed in to your account from " + device + " (address " + address + ") at " +
                       core::FormatRfc3339(core::FromMillis(now)) +
                       ". If this was not you, change your password and sign out all sessions.",
                   {{"event", "new_sign_in"}, {"ip", address}, {"user_agent", agent}});
  }
  store::SessionStore::Insert(c, s);
  TokenPair pair;
  pair.refresh_token = core::RandomToken(random_, 32);
  store::SessionStore::InsertRefreshToken(c, HashToken(pair.refresh_token), s.id, now);
  pair.access_token = tokens_.Issue(user.id, s.id, user.role);
  pair.expires_in = tokens_.Ttl().count();
  pair.user = user;
  recorder_.Record(c, meta, {.actor_id = user.id, .action = "auth.login_succeeded", .target_type = "session",
                             .target_id = s.id});
  return pair;
}

core::Result<TokenPair> AccountService::Refresh(const std::string& refresh_token, const core::RequestMeta& meta) {
  if (refresh_token.empty() || refresh_token.size() > 512) return core::Fail(Unauthorized("The refresh token is invalid."));
  const std::string hash = HashToken(refresh_token);
  bool reused = false;
  auto result = db_.Transaction([&](store::Connection& c) -> core::Result<TokenPair> {
    const long long now = core::ToMillis(clock_.Now());
    auto found = store::SessionStore::FindRefreshToken(c, hash);
    if (!found) return core::Fail(Unauthorized("The refresh token is invalid."));
    if (found->session_revoked_at || found->session_expires_at <= now) return core::Fail(Unauthorized());
    auto user = store::UserStore::FindById(c, found->user_id);
    if (!user || user->disabled) return core::Fail(Unauthorized());
    const bool spent_now = !found->spent_at && store::SessionStore::SpendRefreshToken(c, hash, now);
    if (!spent_now) {
      // Spent already. Within the grace window a second tab refreshing at once gets a pair of
      // the same session; after it, this is reuse of a stolen token: end the session.
      auto again = store::SessionStore::FindRefreshToken(c, hash);
      const long long spent_at = again && again->spent_at ? *again->spent_at : now;
      if (now - spent_at >= kRefreshGraceMs) {
        store::SessionStore::Revoke(c, found->session_id, found->user_id, now);
        recorder_.Record(c, meta, {.actor_id = user->id, .action = "auth.refresh_reused", .target_type = "session",
                                   .target_id = found->session_id});
        NotifySecurity(c, *user, "A session was ended to protect your account",
                       "A refresh token of one of your sessions was used twice, which happens when it was copied. "
                       "That session was signed out. If you did not expect this, change your password.",
                       {{"event", "refresh_reused"}});
        reused = true;
        return TokenPair{};  // committed; the caller answers 401
      }
    }
    TokenPair pair;
    pair.refresh_token = core::RandomToken(random_, 32);
    store::SessionStore::InsertRefreshToken(c, HashToken(pair.refresh_token), found->session_id, now);
    store::SessionStore::Touch(c, found->session_id, now);
    pair.access_token = tokens_.Issue(user->id, found->session_id, user->role);
    pair.expires_in = tokens_.Ttl().count();
    pair.user = *user;
    return pair;
  });
  if (!result) return result;
  if (reused) {
    AfterNotify();
    return core::Fail(Unauthorized("The refresh token was already used; the session is revoked."));
  }
  return result;
}

core::Result<AuthContext> AccountService::Authenticate(const std::string& access_token) {
  auto claims = tokens_.Verify(access_token);
  if (!claims) return core::Fail(claims.error());
  return db_.Run([&](store::Connection& c) -> core::Result<AuthContext> {
    const long long now = core::ToMillis(clock_.Now());
    auto found = store::UserStore::FindBySession(c, claims->session_id);
    if (!found || found->user.id != claims->user_id || found->session_revoked_at ||
        found->session_expires_at <= now || found->user.disabled) {
      core::Error ended = Unauthorized();
      ended.reason = "revoked";
      return core::Fail(std::move(ended));
    }
    return AuthContext{std::move(found->user), claims->session_id};
  });
}

core::Result<void> AccountService::Logout(const AuthContext& who, const core::RequestMeta& meta) {
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    store::SessionStore::Revoke(c, who.session_id, who.user.id, core::ToMillis(clock_.Now()));
    recorder_.Record(c, meta, {.actor_id = who.user.id, .action = "auth.logout", .target_type = "session",
                               .target_id = who.session_id});
    return {};
  });
}

core::Result<void> AccountService::LogoutAll(const AuthContext& who, const core::RequestMeta& meta) {
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    const long long n = store::SessionStore::RevokeAll(c, who.user.id, core::ToMillis(clock_.Now()));
    recorder_.Record(c, meta, {.actor_id = who.user.id, .action = "auth.logout", .target_type = "user",
                               .target_id = who.user.id, .data = {{"all_sessions", true}, {"sessions", n}}});
    NotifySecurity(c, who.user, "All your sessions were signed out",
                   "Every session of your account was signed out at your request. Sign in again on the devices "
                   "you use.",
                   {{"event", "sessions_revoked"}, {"by", "user"}});
    return {};
  });
  if (done) AfterNotify();
  return done;
}

core::Result<std::vector<store::SessionRow>> AccountService::Sessions(const AuthContext& who) {
  return db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::SessionRow>> {
    return store::SessionStore::ListLive(c, who.user.id, core::ToMillis(clock_.Now()));
  });
}

core::Result<void> AccountService::RevokeSession(const AuthContext& who, const std::string& session_id,
                                                 const core::RequestMeta& meta) {
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    if (!store::SessionStore::Revoke(c, session_id, who.user.id, core::ToMillis(clock_.Now()))) {
      return core::Fail(core::ErrorCode::kNotFound, "No such session.");
    }
    recorder_.Record(c, meta, {.actor_id = who.user.id, .action = "auth.logout", .target_type = "session",
                               .target_id = session_id});
    return {};
  });
}

core::Result<void> AccountService::CheckConfirmRate(const store::UserRow& user, const core::RequestMeta& meta) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    return CheckLoginLimits(c, meta, "user:" + user.id);
  });
}

core::Result<void> AccountService::ConfirmPassword(const store::UserRow& user, const std::string& password,
                                                   const std::string& field, const core::RequestMeta& meta) {
  // Counted before the check and taken back on success, as a login is, so that concurrent
  // confirmations cannot pass the account's limit together.
  auto reserved = limiter_.Consume(db_, "login_account", "user:" + user.id);
  if (!reserved) return core::Fail(reserved.error());
  if (hasher_.Verify(password, user.password_hash).ok) {
    auto undone = db_.Run([&](store::Connection& c) -> core::Result<void> {
      RateLimiter::Undo(c, *reserved);
      return {};
    });
    if (!undone) return core::Fail(undone.error());
    return {};
  }
  auto counted = db_.Run([&](store::Connection& c) -> core::Result<void> {
    limiter_.Hit(c, "login_address", meta.ip);
    return {};
  });
  if (!counted) return core::Fail(counted.error());
  RecordLoginFailure(user, meta);
  return core::FailField(field, core::FieldCode::kIncorrect, "is incorrect");
}

void AccountService::NotifySecurity(store::Connection& c, const store::UserRow& user, std::string title,
                                    std::string body, nlohmann::json data) const {
  if (notifier_ == nullptr) return;
  (void)notifier_->Notify(c, notify::Recipient::Of(user),
                          notify::SecurityNotice(std::move(title), std::move(body), std::move(data)));
}

void AccountService::AfterNotify() const {
  if (notifier_ != nullptr) notifier_->AfterCommit();
}

core::Result<std::string> AccountService::IssueStreamTicket(const AuthContext& who) {
  const std::string ticket = core::RandomToken(random_, 32);
  auto done = db_.Run([&](store::Connection& c) -> core::Result<void> {
    const long long now = core::ToMillis(clock_.Now());
    store::OneTimeTokenRow row;
    row.id = core::NewId(clock_, random_);
    row.user_id = who.user.id;
    row.purpose = std::string(kStreamTicketPurpose);
    row.token_hash = HashToken(ticket);
    row.data = who.session_id;
    row.created_at = now;
    row.expires_at = now + kStreamTicketMs;
    store::OneTimeTokenStore::Insert(c, row);
    return {};
  });
  if (!done) return core::Fail(done.error());
  return ticket;
}

core::Result<AuthContext> AccountService::RedeemStreamTicket(const std::string& ticket) {
  core::Error refused = Unauthorized("The stream ticket is unknown, used or expired.");
  refused.reason = "revoked";
  if (ticket.empty() || ticket.size() > 128) return core::Fail(refused);
  const std::string hash = HashToken(ticket);
  return db_.Transaction([&](store::Connection& c) -> core::Result<AuthContext> {
    const long long now = core::ToMillis(clock_.Now());
    auto row = store::OneTimeTokenStore::FindForUpdate(c, hash);
    if (!row || row->purpose != kStreamTicketPurpose || row->used_at || row->expires_at <= now || !row->data) {
      return core::Fail(refused);
    }
    if (!store::OneTimeTokenStore::Use(c, row->id, now)) return core::Fail(refused);
    auto found = store::UserStore::FindBySession(c, *row->data);
    if (!found || found->user.id != row->user_id || found->session_revoked_at || found->session_expires_at <= now ||
        found->user.disabled) {
      return core::Fail(refused);
    }
    return AuthContext{std::move(found->user), *row->data};
  });
}

}  // namespace ikigai::auth
