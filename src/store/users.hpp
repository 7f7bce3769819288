// Users: rows, lookups by id and by login (username or email, case-insensitively), inserts that
// report which unique index refused them.
#pragma once

#include <optional>
#include <string>

#include "core/error.hpp"
#include "store/database.hpp"

namespace ikigai::store {

struct UserRow {
  std::string id;
  std::string username;
  std::string email;
  std::string display_name;
  std::string password_hash;
  std::string role = "user";
  bool email_verified = false;
  bool disabled = false;
  bool mfa_enabled = false;  // two-factor sign-in on (the secret itself stays in store/mfa)
  std::optional<std::string> pending_email;
  std::optional<long long> legacy_id;
  long long created_at = 0;  // ms
  long long updated_at = 0;  // ms
};

// ASCII lowercase: what the *_lower unique columns hold.
[[nodiscard]] std::string LowerAscii(std::string_view s);

// A session and its user, as authentication needs them.
struct SessionUser {
  UserRow user;
  std::optional<long long> session_revoked_at;
  long long session_expires_at = 0;
};

// The administration list: newest first, keyset-paginated on (created_at, id).
struct UserQuery {
  std::optional<std::string> q;  // substring of username, email or display name, case-insensitive
  std::optional<std::string> role;
  std::optional<bool> disabled;
  int limit = 20;
  std::optional<long long> after_created_at;  // the last row of the previous page
  std::string after_id;
};

// The writable profile columns of one user, as they should be after an update.
struct ProfileUpdate {
  std::string username;
  std::string display_name;
  std::optional<std::string> pending_email;
  std::string role;
  bool disabled = false;

  // The columns as they are now: the start of a change.
  static ProfileUpdate Of(const UserRow& u) { return {u.username, u.display_name, u.pending_email, u.role, u.disabled}; }
};

class UserStore {
 public:
  // One prepared query per request: the session by id joined with its user.
  [[nodiscard]] static std::optional<SessionUser> FindBySession(Connection& c, const std::string& session_id);
  // kConflict with errors.username or errors.email ("is already taken") on a duplicate.
  [[nodiscard]] static core::Result<void> Insert(Connection& c, const UserRow& user);
  // for_update locks the row on MariaDB (SQLite transactions hold the write lock already).
  [[nodiscard]] static std::optional<UserRow> FindById(Connection& c, const std::string& id, bool for_update = false);
  // Matches the lowered text against both username and email.
  [[nodiscard]] static std::optional<UserRow> FindByLogin(Connection& c, const std::string& login);
  [[nodiscard]] static bool LegacyImported(Connection& c, long long legacy_id);
  [[nodiscard]] static bool UsernameTaken(Connection& c, const std::string& username);
  [[nodiscard]] static bool EmailTaken(Connection& c, const std::string& email);
  static void UpdatePasswordHash(Connection& c, const std::string& id, const std::string& hash, long long now);
  // Returns false when no such user.
  static bool SetRole(Connection& c, const std::string& id, const std::string& role, long long now);
  static bool SetDisabled(Connection& c, const std::string& id, bool disabled, long long now);
  [[nodiscard]] static long long CountAdmins(Connection& c);
  // Updates the one admin_guard row (migration 0008): every change that removes an enabled admin
  // does, so two of them are a write-write conflict on any back end, Galera included.
  static void TouchAdminGuard(Connection& c);
  static void SetEmailVerified(Connection& c, const std::string& id, long long now);
  // Cancels a pending change of address (its verification link stops working).
  static void ClearPendingEmail(Connection& c, const std::string& id, long long now);
  // Makes `email` the verified address (clears the pending one); kConflict when another account
  // has it.
  [[nodiscard]] static core::Result<void> ChangeEmail(Connection& c, const std::string& id, const std::string& email,
                                                      long long now);
  // Writes username, display name, pending email, role and disabled; kConflict with
  // errors.username when the username belongs to another account.
  [[nodiscard]] static core::Result<void> Update(Connection& c, const std::string& id, const ProfileUpdate& update,
                                                 long long now);
  // Deletes the row; the foreign keys cascade to everything the user owns. False when no such user.
  static bool Delete(Connection& c, const std::string& id);
  // Up to query.limit + 1 users (the extra one tells the caller another page exists).
  [[nodiscard]] static std::vector<UserRow> List(Connection& c, const UserQuery& query);
  // All users ordered by creation, for the CLI.
  [[nodiscard]] static std::vector<UserRow> ListAll(Connection& c, int limit);
};

}  // namespace ikigai::store
