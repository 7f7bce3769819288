// Two-factor changes; each records its event and queues its security notice in the same
// transaction as the change.
#include "users/mfa_service.hpp"

#include "auth/access_tokens.hpp"
#include "core/time_format.hpp"
#include "mfa/totp.hpp"
#include "store/mfa.hpp"

namespace ikigai::users {
namespace {

core::Error SessionEnded() {
  return core::Error{core::ErrorCode::kUnauthorized, "The session has ended. Sign in again.", {}, std::nullopt};
}

core::Error Conflict(std::string detail) {
  return core::Error{core::ErrorCode::kConflict, std::move(detail), {}, std::nullopt};
}

// The caller's row, locked for the change (MariaDB); gone or disabled since: 401.
core::Result<store::UserRow> LockCaller(store::Connection& c, const auth::AuthContext& who) {
  auto user = store::UserStore::FindById(c, who.user.id, /*for_update=*/true);
  if (!user || user->disabled) return core::Fail(SessionEnded());
  return std::move(*user);
}

}  // namespace

core::Result<Enrolment> MfaService::Enrol(const auth::AuthContext& who, const std::string& current_password,
                                          const core::RequestMeta& meta) {
  if (auto ok = accounts_.ConfirmPassword(who.user, current_password, "current_password", meta); !ok) {
    return core::Fail(ok.error());
  }
  return db_.Transaction([&](store::Connection& c) -> core::Result<Enrolment> {
    auto user = LockCaller(c, who);
    if (!user) return core::Fail(user.error());
    if (user->mfa_enabled) return core::Fail(Conflict("Two-factor sign-in is on already."));
    Enrolment e;
    e.secret = mfa::NewSecret(random_);
    if (!store::MfaStore::SetPending(c, user->id, e.secret, core::ToMillis(clock_.Now()))) {
      return core::Fail(Conflict("Two-factor sign-in is on already."));
    }
    e.otpauth_url = mfa::OtpauthUrl(user->username, e.secret);
    return e;
  });
}

core::Result<std::vector<std::string>> MfaService::Confirm(const auth::AuthContext& who, const std::string& code,
                                                           const core::RequestMeta& meta) {
  const auto digits = mfa::NormaliseTotpCode(code);
  if (!digits) return core::FailField("code", core::FieldCode::kInvalidFormat, "must be the 6-digit code of your authenticator app");
  auto codes = db_.Transaction([&](store::Connection& c) -> core::Result<std::vector<std::string>> {
    auto user = LockCaller(c, who);
    if (!user) return core::Fail(user.error());
    auto state = store::MfaStore::Read(c, user->id);
    if (!state || state->enabled) return core::Fail(Conflict("Two-factor sign-in is on already."));
    if (!state->pending_secret) {
      return core::Fail(Conflict("No enrolment is pending: start with POST /api/v1/me/mfa/totp."));
    }
    const long long now = core::ToMillis(clock_.Now());
    auto step = mfa::MatchStep(*state->pending_secret, *digits, now / 1000);
    if (!step) return core::FailField("code", core::FieldCode::kIncorrect, "is incorrect");
    if (!store::MfaStore::Enable(c, user->id, *state->pending_secret, *step, now)) {
      return core::Fail(Conflict("The enrolment changed meanwhile: start again."));
    }
    auto fresh = NewRecoveryCodes(c, user->id, now);
    NotifySecurity(c, *user, "Two-factor sign-in is on",
                   "Two-factor sign-in was turned on for your account. Signing in now asks for a code of your "
                   "authenticator app. Keep your recovery codes somewhere safe.",
                   "mfa_enabled");
    recorder_.Record(c, meta, {.actor_id = user->id, .action = "user.mfa_enabled", .target_type = "user",
                               .target_id = user->id});
    return fresh;
  });
  if (codes) notifier_.AfterCommit();
  return codes;
}

template <class Change>
auto MfaService::WithBothFactors(const auth::AuthContext& who, const std::string& current_password,
                                 const std::string& code, const core::RequestMeta& meta, Change&& change)
    -> core::Result<std::invoke_result_t<Change, store::Connection&, const store::UserRow&, auth::SecondFactor>> {
  using T = std::invoke_result_t<Change, store::Connection&, const store::UserRow&, auth::SecondFactor>;
  if (auto ok = accounts_.ConfirmPassword(who.user, current_password, "current_password", meta); !ok) {
    return core::Fail(ok.error());
  }
  bool wrong_code = false;
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<T> {
    wrong_code = false;
    auto user = LockCaller(c, who);
    if (!user) return core::Fail(user.error());
    if (!user->mfa_enabled) return core::Fail(Conflict("Two-factor sign-in is off."));
    const auth::SecondFactor factor = auth::SpendSecondFactor(c, user->id, code, core::ToMillis(clock_.Now()));
    if (factor == auth::SecondFactor::kNone) {
      wrong_code = true;
      return core::FailField("code", core::FieldCode::kIncorrect, "is incorrect");
    }
    return change(c, *user, factor);
  });
  if (wrong_code) accounts_.CountSecondFactorFailure(who.user, "confirmation", meta);
  if (done) notifier_.AfterCommit();
  return done;
}

core::Result<void> MfaService::Disable(const auth::AuthContext& who, const std::string& current_password,
                                       const std::string& code, const core::RequestMeta& meta) {
  auto done = WithBothFactors(who, current_password, code, meta,
                              [&](store::Connection& c, const store::UserRow& user, auth::SecondFactor factor) {
                                (void)store::MfaStore::Disable(c, user.id, core::ToMillis(clock_.Now()));
                                NotifySecurity(c, user, "Two-factor sign-in is off",
                                               "Two-factor sign-in was turned off for your account: signing in "
                                               "asks only for the password now. If this was not you, change your "
                                               "password at once.",
                                               "mfa_disabled");
                                recorder_.Record(c, meta,
                                                 {.actor_id = user.id, .action = "user.mfa_disabled",
                                                  .target_type = "user", .target_id = user.id,
                                                  .data = {{"with", auth::SecondFactorName(factor)}}});
                                return 0;
                              });
  if (!done) return core::Fail(done.error());
  return {};
}

core::Result<std::vector<std::string>> MfaService::RegenerateRecoveryCodes(const auth::AuthContext& who,
                                                                           const std::string& current_password,
                                                                           const std::string& code,
                                                                           const core::RequestMeta& meta) {
  return WithBothFactors(who, current_password, code, meta,
                         [&](store::Connection& c, const store::UserRow& user, auth::SecondFactor factor) {
                           auto fresh = NewRecoveryCodes(c, user.id, core::ToMillis(clock_.Now()));
                           NotifySecurity(c, user, "New recovery codes",
                                          "A new set of recovery codes was made for your account; the old codes no "
                                          "longer work. If this was not you, change your password at once.",
                                          "recovery_codes_regenerated");
                           recorder_.Record(c, meta,
                                            {.actor_id = user.id, .action = "user.recovery_codes_regenerated",
                                             .target_type = "user", .target_id = user.id,
                                             .data = {{"with", auth::SecondFactorName(factor)}}});
                           return fresh;
                         });
}

std::vector<std::string> MfaService::NewRecoveryCodes(store::Connection& c, const std::string& user_id, long long now) {
  std::vector<std::string> codes;
  std::vector<std::string> hashes;
  for (int i = 0; i < mfa::kRecoveryCodes; ++i) {
    codes.push_back(mfa::NewRecoveryCode(random_));
    hashes.push_back(auth::HashToken(*mfa::NormaliseRecoveryCode(codes.back())));
  }
  store::MfaStore::ReplaceRecoveryCodes(c, user_id, hashes, now);
  return codes;
}

void MfaService::NotifySecurity(store::Connection& c, const store::UserRow& user, std::string title, std::string body,
                                const char* event) const {
  (void)notifier_.Notify(c, notify::Recipient::Of(user),
                         notify::SecurityNotice(std::move(title), std::move(body), {{"event", event}}));
}

}  // namespace ikigai::users
