// Profile rules; every change records its event in the same transaction as the change.
#include "users/profile_service.hpp"

#include "auth/validation.hpp"
#include "core/time_format.hpp"
#include "mail/templates.hpp"
#include "store/sessions.hpp"
#include "users/account_rules.hpp"

namespace ikigai::users {
namespace {

core::Error SessionEnded() {
  return core::Error{core::ErrorCode::kUnauthorized, "The session has ended. Sign in again.", {}, std::nullopt};
}

// The account the request was authenticated for, its row locked for the change; gone or
// disabled since: 401. Only a deletion needs the admins' locks (LockForChange): the other
// changes cannot remove an admin, so they do not queue behind each other on those rows.
core::Result<LockedUser> LockCaller(store::Connection& c, const auth::AuthContext& who, bool with_admins = false) {
  std::optional<LockedUser> locked;
  if (with_admins) {
    locked = LockForChange(c, who.user.id);
  } else if (auto user = store::UserStore::FindById(c, who.user.id, /*for_update=*/true)) {
    locked = LockedUser{std::move(*user), 0};
  }
  if (!locked || locked->user.disabled) return core::Fail(SessionEnded());
  return std::move(*locked);
}

}  // namespace

ProfileService::ProfileService(store::Database& db, const config::Config& config, const core::Clock& clock,
                               core::Random& random, auth::AccountService& accounts, auth::RecoveryService& recovery,
                               const mail::Outbox& outbox, const notify::Notifier& notifier)
    : db_(db),
      config_(config),
      clock_(clock),
      accounts_(accounts),
      recovery_(recovery),
      outbox_(outbox),
      notifier_(notifier),
      limiter_(config, clock),
      recorder_(clock, random) {}

core::Result<void> ProfileService::CheckConfirmationRate(const auth::AuthContext& who, const core::RequestMeta& meta) {
  return accounts_.CheckConfirmRate(who.user, meta);
}

core::Result<void> ProfileService::CheckEmailChangeRate(const auth::AuthContext& who, const std::string& email) {
  if (store::LowerAscii(email) == store::LowerAscii(who.user.email)) return {};
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    return limiter_.Check(c, "email_change_account", "user:" + who.user.id);
  });
}

core::Result<store::UserRow> ProfileService::Update(const auth::AuthContext& who, const ProfileChanges& in,
                                                    const core::RequestMeta& meta) {
  core::Error invalid{core::ErrorCode::kValidation, {}, {}, std::nullopt};
  if (in.username) {
    if (auto m = auth::CheckUsername(*in.username); m) invalid.fields["username"] = *m;
  }
  if (in.display_name) {
    if (auto m = auth::CheckDisplayName(*in.display_name); m) invalid.fields["display_name"] = *m;
  }
  if (in.email) {
    if (auto m = auth::CheckEmail(*in.email); m) invalid.fields["email"] = *m;
  }
  // The same address in another case is the same mailbox under our uniqueness rule: no change.
  const bool new_email = in.email && store::LowerAscii(*in.email) != store::LowerAscii(who.user.email);
  const bool has_password = in.current_password.has_value();
  if (has_password && in.current_password->empty()) {
    invalid.fields["current_password"] = {core::FieldCode::kRequired, "must not be empty"};
  } else if (new_email && !has_password) {
    invalid.fields["current_password"] = {core::FieldCode::kRequired, "is required to change the email address"};
  }
  if (!invalid.fields.empty()) return core::Fail(std::move(invalid));
  if (has_password) {
    if (auto ok = accounts_.ConfirmPassword(who.user, *in.current_password, "current_password", meta); !ok) {
      return core::Fail(ok.error());
    }
  }

  // A new address is counted before anything changes (so concurrent changes cannot pass the limit
  // together) and taken back if it was not queued after all (409, a session gone).
  std::optional<long long> reserved;
  if (new_email) {
    auto counted = limiter_.Consume(db_, "email_change_account", "user:" + who.user.id);
    if (!counted) return core::Fail(counted.error());
    reserved = *counted;
  }

  bool mail_queued = false;
  auto updated = db_.Transaction([&](store::Connection& c) -> core::Result<store::UserRow> {
    auto locked = LockCaller(c, who);
    if (!locked) return core::Fail(locked.error());
    const store::UserRow& user = locked->user;
    auto next = store::ProfileUpdate::Of(user);
    nlohmann::json fields = nlohmann::json::array();
    SetIfChanged(in.username, next.username, "username", fields);
    SetIfChanged(in.display_name, next.display_name, "display_name", fields);
    if (new_email) {
      if (store::UserStore::EmailTaken(c, *in.email)) {
        core::Error taken{core::ErrorCode::kConflict, "That email address is already registered.", {}, std::nullopt};
        taken.fields["email"] = {core::FieldCode::kTaken, "is already taken"};
        return core::Fail(std::move(taken));
      }
      next.pending_email = *in.email;
      fields.push_back("email");
    }
    if (fields.empty()) return user;
    const auto now = clock_.Now();
    if (auto ok = store::UserStore::Update(c, user.id, next, core::ToMillis(now)); !ok) return core::Fail(ok.error());
    auto after = store::UserStore::FindById(c, user.id);
    if (!after) return core::Fail(SessionEnded());
    nlohmann::json data = {{"fields", fields}};
    if (new_email) {
      // The new address proves itself with the link; the old one hears of it at once, so that a
      // stolen session cannot move the account away quietly.
      recovery_.QueueVerification(c, *after, *in.email);
      std::map<std::string, std::string> values = {{"old_email", user.email},
                                                   {"when", core::FormatRfc3339(now)},
                                                   {"reset_link", config_.public_url + "/forgot-password"}};
      mail::SetIfProved(values, user.email_verified, "display_name", after->display_name);
      mail::SetIfProved(values, user.email_verified, "new_email", *in.email);
      (void)notifier_.Notify(c, notify::Recipient::Of(user),
                             notify::SecurityMail("Your email address is being changed",
                                                  "A change of your account's email address was requested on " +
                                                      core::FormatRfc3339(now) +
                                                      ". It takes effect once the new address is confirmed. If this "
                                                      "was not you, change your password at once.",
                                                  {{"event", "email_changed"}}, "email_changed", std::move(values)));
      mail_queued = true;
      data["email_pending"] = true;
    }
    recorder_.Record(c, meta, {.actor_id = user.id, .action = "user.updated", .target_type = "user",
                               .target_id = user.id, .data = data});
    return *after;
  });
  if (updated && mail_queued) outbox_.Wake();
  if (reserved && !(updated && mail_queued)) {
    (void)db_.Run([&](store::Connection& c) -> core::Result<void> {
      auth::RateLimiter::Undo(c, *reserved);
      return {};
    });
  }
  return updated;
}

core::Result<void> ProfileService::ChangePassword(const auth::AuthContext& who, const std::string& current_password,
                                                  const std::string& new_password, const core::RequestMeta& meta) {
  // The current password first: a wrong one is always reported and counted, whatever else the
  // request holds.
  if (auto ok = accounts_.ConfirmPassword(who.user, current_password, "current_password", meta); !ok) return ok;
  if (auto ok = accounts_.Policy().Check(new_password, who.user.username, who.user.email); !ok) {
    core::Error e = ok.error();
    if (auto it = e.fields.find("password"); it != e.fields.end()) {
      e.fields["new_password"] = it->second;
      e.fields.erase(it);
    }
    return core::Fail(std::move(e));
  }
  if (new_password == current_password) {
    return core::FailField("new_password", core::FieldCode::kSameAsCurrent, "must be different from the current password");
  }
  const std::string hash = accounts_.Hasher().Hash(new_password);
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    auto locked = LockCaller(c, who);
    if (!locked) return core::Fail(locked.error());
    const auto now = clock_.Now();
    const long long now_ms = core::ToMillis(now);
    store::UserStore::UpdatePasswordHash(c, who.user.id, hash, now_ms);
    // A pending address change ends with it: a password change is how an owner answers an
    // "email changed" notice they did not expect.
    store::UserStore::ClearPendingEmail(c, who.user.id, now_ms);
    // The session that changed the password stays; every other one ends now.
    const long long revoked = store::SessionStore::RevokeAll(c, who.user.id, now_ms, who.session_id);
    std::map<std::string, std::string> values = {{"when", core::FormatRfc3339(now)},
                                                 {"reset_link", config_.public_url + "/forgot-password"}};
    mail::SetIfProved(values, locked->user.email_verified, "display_name", locked->user.display_name);
    (void)notifier_.Notify(c, notify::Recipient::Of(locked->user),
                           notify::SecurityMail("Your password was changed",
                                                "The password of your account was changed on " +
                                                    core::FormatRfc3339(now) +
                                                    " and every other session was signed out. If this was not you, "
                                                    "reset your password at once.",
                                                {{"event", "password_changed"}}, "password_changed",
                                                std::move(values)));
    recorder_.Record(c, meta, {.actor_id = who.user.id, .action = "user.password_changed", .target_type = "user",
                               .target_id = who.user.id, .data = {{"sessions_revoked", revoked}}});
    return {};
  });
  if (done) notifier_.AfterCommit();
  return done;
}

core::Result<void> ProfileService::Delete(const auth::AuthContext& who, const std::string& password,
                                          const core::RequestMeta& meta) {
  if (auto ok = accounts_.ConfirmPassword(who.user, password, "password", meta); !ok) return ok;
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    auto locked = LockCaller(c, who, /*with_admins=*/true);
    if (!locked) return core::Fail(locked.error());
    if (auto ok = KeepAnAdmin(c, *locked, false); !ok) return ok;
    EraseAccount(c, locked->user);
    // The one event that stays: no address, agent or data that would tell who the person was.
    recorder_.Record(c, core::RequestMeta{"", "", meta.request_id},
                     {.actor_id = who.user.id, .action = "user.deleted", .target_type = "user",
                      .target_id = who.user.id});
    return {};
  });
}

}  // namespace ikigai::users
