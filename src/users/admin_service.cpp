// Administration rules; every change records its event in the same transaction as the change.
#include "users/admin_service.hpp"

#include "auth/validation.hpp"
#include "store/mfa.hpp"
#include "store/sessions.hpp"
#include "users/account_rules.hpp"

namespace ikigai::users {
namespace {

core::Error NoSuchUser() { return core::Error{core::ErrorCode::kNotFound, "No such user.", {}, std::nullopt}; }

// Inside the transaction, after LockForChange: the caller must still be an enabled admin (it may
// have been demoted by a change that committed while this request waited for the lock).
core::Result<void> StillAdmin(store::Connection& c, const std::optional<std::string>& actor_id) {
  if (!actor_id) return {};
  auto actor = store::UserStore::FindById(c, *actor_id);
  if (actor && actor->role == "admin" && !actor->disabled) return {};
  return core::Fail(core::ErrorCode::kForbidden, "This needs the admin role.");
}

// Events of the command line say so; they have no actor.
nlohmann::json EventData(const std::optional<std::string>& actor_id, nlohmann::json data) {
  if (!actor_id) data["via"] = "cli";
  return data;
}

}  // namespace

core::Result<std::vector<store::UserRow>> AdminService::List(const store::UserQuery& query) {
  return db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::UserRow>> {
    return store::UserStore::List(c, query);
  });
}

core::Result<store::UserRow> AdminService::Get(const std::string& id) {
  return db_.Run([&](store::Connection& c) -> core::Result<store::UserRow> {
    auto user = store::UserStore::FindById(c, id);
    if (!user) return core::Fail(NoSuchUser());
    return std::move(*user);
  });
}

core::Result<store::UserRow> AdminService::Update(const std::optional<std::string>& actor_id, const std::string& id,
                                                  const AdminChanges& in, const core::RequestMeta& meta) {
  core::Error invalid{core::ErrorCode::kValidation, {}, {}, std::nullopt};
  if (in.role && *in.role != "user" && *in.role != "admin") invalid.fields["role"] = {core::FieldCode::kInvalidValue, "must be user or admin"};
  if (in.display_name) {
    if (auto m = auth::CheckDisplayName(*in.display_name); m) invalid.fields["display_name"] = *m;
  }
  if (in.mfa_enabled && *in.mfa_enabled) {
    invalid.fields["mfa_enabled"] = {core::FieldCode::kInvalidValue, "can only be turned on by the account's owner"};
  }
  if (!invalid.fields.empty()) return core::Fail(std::move(invalid));
  bool notified = false;
  auto updated = db_.Transaction([&](store::Connection& c) -> core::Result<store::UserRow> {
    notified = false;
    auto locked = LockForChange(c, id);
    if (auto ok = StillAdmin(c, actor_id); !ok) return core::Fail(ok.error());
    if (!locked) return core::Fail(NoSuchUser());
    const store::UserRow& user = locked->user;
    auto next = store::ProfileUpdate::Of(user);
    nlohmann::json fields = nlohmann::json::array();
    SetIfChanged(in.role, next.role, "role", fields);
    SetIfChanged(in.disabled, next.disabled, "disabled", fields);
    SetIfChanged(in.display_name, next.display_name, "display_name", fields);
    const bool mfa_reset = in.mfa_enabled && user.mfa_enabled;
    if (mfa_reset) fields.push_back("mfa_enabled");
    if (fields.empty()) return user;
    if (auto ok = KeepAnAdmin(c, *locked, next.role == "admin" && !next.disabled); !ok) return core::Fail(ok.error());
    const long long now = core::ToMillis(clock_.Now());
    if (auto ok = store::UserStore::Update(c, id, next, now); !ok) return core::Fail(ok.error());
    nlohmann::json data = {{"fields", fields}};
    if (mfa_reset) {
      (void)store::MfaStore::Disable(c, id, now);
      Notify(c, user, "Two-factor sign-in was turned off by an administrator",
             "An administrator turned two-factor sign-in off for your account, as asked when a device is lost. "
             "Signing in asks only for the password now; turn it on again in your settings. If you did not ask "
             "for this, contact the administrators and change your password.",
             {{"event", "mfa_disabled"}, {"by", "admin"}});
      notified = notifier_ != nullptr;
    }
    if (next.disabled && !user.disabled) {
      // Signed out everywhere at once: the next request of any of its tokens is 401.
      data["sessions_revoked"] = store::SessionStore::RevokeAll(c, id, now);
      Notify(c, user, "All your sessions were signed out",
             "An administrator disabled your account and signed out every session. Contact the administrators if "
             "you think this is a mistake.",
             {{"event", "sessions_revoked"}, {"by", "admin"}});
      notified = notifier_ != nullptr;
    }
    recorder_.Record(c, meta, {.actor_id = actor_id, .action = "admin.user_updated", .target_type = "user",
                               .target_id = id, .data = EventData(actor_id, std::move(data))});
    auto after = store::UserStore::FindById(c, id);
    if (!after) return core::Fail(NoSuchUser());
    return std::move(*after);
  });
  if (updated && notified) notifier_->AfterCommit();
  return updated;
}

void AdminService::Notify(store::Connection& c, const store::UserRow& user, std::string title, std::string body,
                          nlohmann::json data) const {
  if (notifier_ == nullptr) return;
  (void)notifier_->Notify(c, notify::Recipient::Of(user),
                          notify::SecurityNotice(std::move(title), std::move(body), std::move(data)));
}

core::Result<void> AdminService::Delete(const std::optional<std::string>& actor_id, const std::string& id,
                                        const core::RequestMeta& meta) {
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    auto locked = LockForChange(c, id);
    if (auto ok = StillAdmin(c, actor_id); !ok) return ok;
    if (!locked) return core::Fail(NoSuchUser());
    if (auto ok = KeepAnAdmin(c, *locked, false); !ok) return ok;
    EraseAccount(c, locked->user);
    // Erasing removed the events about the user; this one records who deleted the account.
    recorder_.Record(c, meta, {.actor_id = actor_id, .action = "admin.user_deleted",
                               .target_type = "user", .target_id = id,
                               .data = EventData(actor_id, nlohmann::json::object())});
    return {};
  });
}

}  // namespace ikigai::users
