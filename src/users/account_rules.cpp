// Last-admin locking and account erasure.
#include "users/account_rules.hpp"

#include "store/activity.hpp"
#include "store/rate_events.hpp"

namespace ikigai::users {

std::optional<LockedUser> LockForChange(store::Connection& c, const std::string& user_id) {
  const long long admins = store::UserStore::CountAdmins(c);
  auto user = store::UserStore::FindById(c, user_id, /*for_update=*/true);
  if (!user) return std::nullopt;
  return LockedUser{std::move(*user), admins};
}

core::Result<void> KeepAnAdmin(store::Connection& c, const LockedUser& locked, bool stays_enabled_admin) {
  const bool is_enabled_admin = locked.user.role == "admin" && !locked.user.disabled;
  if (!is_enabled_admin || stays_enabled_admin) return {};
  if (locked.enabled_admins <= 1) {
    return core::Fail(core::ErrorCode::kConflict, "This is the last admin: make another user an admin first.");
  }
  // An admin goes: write the one row every such change writes, so two of them on different
  // Galera nodes conflict at certification instead of both committing (see 0008_admin_guard).
  store::UserStore::TouchAdminGuard(c);
  return {};
}

void EraseAccount(store::Connection& c, const store::UserRow& user) {
  store::ActivityStore::DeleteAbout(c, user.id);
  // Rate-limit subjects that name this account: its id, and the identifiers it was looked up by.
  const std::string username = store::LowerAscii(user.username);
  const std::string email = store::LowerAscii(user.email);
  for (const std::string& subject : {"user:" + user.id, "login:" + username, "login:" + email, email}) {
    store::RateEventStore::RemoveSubject(c, subject);
  }
  if (user.pending_email) store::RateEventStore::RemoveSubject(c, store::LowerAscii(*user.pending_email));
  store::UserStore::Delete(c, user.id);
}

}  // namespace ikigai::users
