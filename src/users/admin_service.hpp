// API.md's "Roles and administration": the user list with filters and keyset pages, and an
// admin's changes to other accounts (role, disabled, display name, deletion). The last enabled
// admin can never be demoted, disabled or deleted. The command line uses the same rules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "core/request_meta.hpp"
#include "notify/notifier.hpp"
#include "store/database.hpp"
#include "store/users.hpp"

namespace ikigai::users {

// The fields of PATCH /admin/users/{id}; absent ones stay as they are.
struct AdminChanges {
  std::optional<std::string> role;
  std::optional<bool> disabled;
  std::optional<std::string> display_name;
  // Only false: turns two-factor sign-in off for a user who lost the device (true is 422).
  std::optional<bool> mfa_enabled;
};

class AdminService {
 public:
  AdminService(store::Database& db, const core::Clock& clock, core::Random& random)
      : db_(db), clock_(clock), recorder_(clock, random) {}
  // Disabling a user tells them (a security notice); unset: no notice.
  void SetNotifier(const notify::Notifier* notifier) { notifier_ = notifier; }

  // Up to query.limit + 1 users, newest first.
  [[nodiscard]] core::Result<std::vector<store::UserRow>> List(const store::UserQuery& query);
  // 404 for an unknown id.
  [[nodiscard]] core::Result<store::UserRow> Get(const std::string& id);
  // `actor_id`: the admin making the change, checked again inside the transaction (403 when no
  // longer an enabled admin); nullopt for the command line. 422 for field rules, 404, 409 for the
  // last admin. Disabling revokes every session of the user in the same transaction.
  [[nodiscard]] core::Result<store::UserRow> Update(const std::optional<std::string>& actor_id, const std::string& id,
                                                    const AdminChanges& changes, const core::RequestMeta& meta);
  // Deletes the account and all it owns (see EraseAccount); 404, 409 for the last admin.
  [[nodiscard]] core::Result<void> Delete(const std::optional<std::string>& actor_id, const std::string& id,
                                          const core::RequestMeta& meta);

 private:
  // Inside the change's transaction: a security notice to the user (none without a notifier).
  void Notify(store::Connection& c, const store::UserRow& user, std::string title, std::string body,
              nlohmann::json data) const;

  store::Database& db_;
  const core::Clock& clock_;
  activity::Recorder recorder_;
  const notify::Notifier* notifier_ = nullptr;
};

}  // namespace ikigai::users
