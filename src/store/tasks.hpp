// Tasks and their tags; keyset pagination over the sort orders of API.md, always within one user.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"

namespace ikigai::store {

struct TaskRow {
  std::string id;
  std::string user_id;
  std::string title;
  std::string notes;
  std::string status = "todo";  // todo | in_progress | done
  int priority = 1;             // 0 low, 1 normal, 2 high
  std::optional<long long> due_at;
  long long created_at = 0;
  long long updated_at = 0;
  std::optional<long long> completed_at;
  int version = 1;
  std::vector<std::string> tags;
};

enum class TaskSort { kCreatedAsc, kCreatedDesc, kDueAsc, kDueDesc, kPriorityAsc, kPriorityDesc };

// The sort key of the last task of a page: where the next page starts.
struct TaskKey {
  std::optional<long long> due_at;
  int priority = 1;
  long long created_at = 0;
  std::string id;
};

struct TaskQuery {
  std::string user_id;
  std::optional<std::string> status;
  std::optional<std::string> tag;
  std::optional<std::string> q;
  std::optional<long long> due_before;  // strict; tasks without due_at left out
  std::optional<long long> due_after;   // strict; tasks without due_at left out
  TaskSort sort = TaskSort::kCreatedDesc;
  int limit = 20;
  std::optional<TaskKey> after;
};

// A task whose reminder is owed (remind_at <= now).
struct ReminderRow {
  std::string id;
  std::string user_id;
  std::string title;
  long long due_at = 0;
  long long remind_at = 0;
};

class TaskStore {
 public:
  // Recomputes when the task's reminder is owed after its due_at or status changed: due_at minus
  // the owner's lead while it has a due time, is not done and was not reminded for that due time.
  static void Rearm(Connection& c, const std::string& id);
  // After the owner's lead changed: every pending reminder of the user moves to the new lead.
  static void RearmUser(Connection& c, const std::string& user_id, int lead_minutes);
  // Reminders owed at `now`, oldest first; by the remind_at index, so a pass with nothing due
  // reads nothing.
  [[nodiscard]] static std::vector<ReminderRow> OwedReminders(Connection& c, long long now, int limit);
  // Takes the reminder if it is still owed as read (a conditional UPDATE: of two instances one
  // wins); records the due time as reminded either way.
  [[nodiscard]] static bool TakeReminder(Connection& c, const ReminderRow& r);
  static void Insert(Connection& c, const TaskRow& task);
  // REQUIRES: inside a transaction when for_update (locks the row on MySQL).
  [[nodiscard]] static std::optional<TaskRow> Get(Connection& c, const std::string& user_id, const std::string& id,
                                                  bool for_update = false);
  // Writes every field and tags when the stored version is still `expected_version`.
  [[nodiscard]] static bool Update(Connection& c, const TaskRow& task, int expected_version);
  [[nodiscard]] static bool Delete(Connection& c, const std::string& user_id, const std::string& id);
  // Up to query.limit + 1 tasks (the extra one tells the caller another page exists).
  [[nodiscard]] static std::vector<TaskRow> List(Connection& c, const TaskQuery& query);
};

}  // namespace ikigai::store
