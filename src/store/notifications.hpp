// Inbox rows, channel preferences and announcement fan-out state over SOCI. Every query of a
// user's inbox is bounded by user_id; ids are UUIDv7, so ordering by id is ordering by creation.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct NotificationRow {
  std::string id;
  std::string user_id;
  std::string kind;
  std::string title;
  std::string body;
  std::string data = "{}";  // a JSON object as text
  std::optional<long long> read_at;
  long long created_at = 0;
};

// Channel flags by kind, in the order of notify::kKinds (task_due, security, announcement,
// feedback_reply). email[security] is always true.
struct NotificationPrefsRow {
  std::array<bool, 4> email{true, true, true, true};
  std::array<bool, 4> in_app{true, true, true, true};
  std::array<bool, 4> push{true, true, true, true};
  int reminder_lead_minutes = 60;
};

struct NotificationQuery {
  std::string user_id;
  std::optional<bool> unread;
  std::optional<std::string> kind;
  int limit = 20;
  std::optional<std::string> before_id;  // keyset: ids smaller than this (newest first)
};

// A recipient of a fan-out batch: the user's address and preferences in one row.
struct RecipientRow {
  std::string id;
  std::string email;
  bool email_verified = false;
  std::string display_name;
  NotificationPrefsRow prefs;
};

struct BroadcastRow {
  std::string id;
  std::optional<std::string> created_by;
  std::string title;
  std::string body;
  std::optional<std::string> role;
  std::optional<std::string> user_ids;  // JSON array text
  long long recipients = 0;
  std::string next_user_id;
  long long created_at = 0;
};

class NotificationStore {
 public:
  static void Insert(Connection& c, const NotificationRow& row);
  // One multi-row INSERT per call (the fan-out's batches).
  static void InsertMany(Connection& c, const std::vector<NotificationRow>& rows);
  // Up to query.limit + 1 rows, newest first.
  [[nodiscard]] static std::vector<NotificationRow> List(Connection& c, const NotificationQuery& query);
  [[nodiscard]] static long long UnreadCount(Connection& c, const std::string& user_id);
  // False when the user has no notification with that id (already read is true).
  [[nodiscard]] static bool MarkRead(Connection& c, const std::string& user_id, const std::string& id, long long now);
  static void MarkAllRead(Connection& c, const std::string& user_id, long long now);
  [[nodiscard]] static bool Delete(Connection& c, const std::string& user_id, const std::string& id);
  // The newest `limit` of the user's notifications with an id greater than after_id, oldest
  // first (stream resume).
  [[nodiscard]] static std::vector<NotificationRow> After(Connection& c, const std::string& user_id,
                                                          const std::string& after_id, int limit);
  // Rows with id >= min_id, oldest first: of the given users, or of everyone when users is empty.
  [[nodiscard]] static std::vector<NotificationRow> Recent(Connection& c, const std::vector<std::string>& users,
                                                           const std::string& min_id, int limit);
  static long long PurgeBefore(Connection& c, long long before, int limit);

  [[nodiscard]] static NotificationPrefsRow Prefs(Connection& c, const std::string& user_id);
  // The user's preferences for a read-merge-write: the row is made if missing and locked until
  // the transaction ends (MariaDB; SQLite's writer lock already serialises), so two concurrent
  // changes of different flags both apply. REQUIRES: inside a transaction.
  [[nodiscard]] static NotificationPrefsRow PrefsForUpdate(Connection& c, const std::string& user_id, long long now);
  static void SavePrefs(Connection& c, const std::string& user_id, const NotificationPrefsRow& prefs, long long now);
};

class BroadcastStore {
 public:
  static void Insert(Connection& c, const BroadcastRow& row);
  // Enabled users the broadcast goes to (role, chosen ids, or everyone).
  [[nodiscard]] static long long CountRecipients(Connection& c, const std::optional<std::string>& role,
                                                 const std::vector<std::string>& user_ids);
  // Which of these ids name existing users.
  [[nodiscard]] static std::vector<std::string> ExistingUsers(Connection& c, const std::vector<std::string>& ids);
  // Takes an unfinished broadcast whose lease is free or expired (a conditional UPDATE, so two
  // instances, even on Galera, never both hold it); nullopt when there is none.
  [[nodiscard]] static std::optional<BroadcastRow> Claim(Connection& c, const std::string& instance, long long now,
                                                         long long lease_until);
  // The next recipients after `after_id` (id order), with their preferences.
  [[nodiscard]] static std::vector<RecipientRow> NextRecipients(Connection& c, const BroadcastRow& b,
                                                                const std::string& after_id, int limit);
  // Moves the cursor if this instance still holds the lease and the cursor is where it read it.
  [[nodiscard]] static bool Advance(Connection& c, const std::string& id, const std::string& instance,
                                    const std::string& from, const std::string& to, long long lease_until);
  static void Finish(Connection& c, const std::string& id, const std::string& instance, long long now);
};

}  // namespace ikigai::store
