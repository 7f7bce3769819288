// Rules every change of an account shares, whoever makes it (the user, an admin, the command
// line): the lock order that keeps one enabled admin, and what deleting an account removes.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "store/database.hpp"
#include "store/users.hpp"

namespace ikigai::users {

// A user row read for a change, with the number of enabled admins at that moment.
struct LockedUser {
  store::UserRow user;
  long long enabled_admins = 0;
};

// REQUIRES: inside a transaction. Locks the rows of the enabled admins first, then the user's
// row (MariaDB; a SQLite transaction holds the single write lock). Every change that could remove
// an admin takes the locks in this order, so two of them wait for each other instead of both
// seeing "two admins" or deadlocking. nullopt when no such user.
[[nodiscard]] std::optional<LockedUser> LockForChange(store::Connection& c, const std::string& user_id);

// Sets `column` to `wanted` when a value was asked for and differs, and names the field in
// `fields` (the activity event's list of what changed).
template <class T>
void SetIfChanged(const std::optional<T>& wanted, T& column, const char* name, nlohmann::json& fields) {
  if (!wanted || *wanted == column) return;
  column = *wanted;
  fields.push_back(name);
}

// REQUIRES: inside a transaction, after LockForChange. 409 when `locked` is an enabled admin, the
// only one, and would stop being an enabled admin. When another admin remains, updates the admin
// guard row: on a multi-primary cluster, where row locks are per node, two changes that each
// remove a different admin then write one common row, and certification lets only one commit.
[[nodiscard]] core::Result<void> KeepAnAdmin(store::Connection& c, const LockedUser& locked, bool stays_enabled_admin);

// REQUIRES: inside a transaction. Deletes the account and everything that belongs to it: the
// user row (the foreign keys cascade to sessions, tokens, tasks, the map, queued mail and every
// later table that declares ON DELETE CASCADE), the activity events it did or that were done to
// it, and the rate-limit events counted against it. The caller records the one deletion event
// afterwards.
void EraseAccount(store::Connection& c, const store::UserRow& user);

}  // namespace ikigai::users
