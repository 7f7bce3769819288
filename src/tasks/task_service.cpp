// Task rules and their transactions.
#include "tasks/task_service.hpp"

#include <algorithm>
#include <set>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time_format.hpp"

namespace ikigai::tasks {
namespace {

std::optional<int> PriorityValue(const std::string& name) {
  if (name == "low") return 0;
  if (name == "normal") return 1;
  if (name == "high") return 2;
  return std::nullopt;
}

bool ValidStatus(const std::string& s) { return s == "todo" || s == "in_progress" || s == "done"; }

// Checks present fields and applies them to `task`; returns the names of the fields that changed.
core::Result<std::vector<std::string>> Apply(const TaskFields& f, store::TaskRow& task, long long now) {
  core::Error invalid{core::ErrorCode::kValidation, {}, {}, std::nullopt};
  std::vector<std::string> changed;
  if (f.title) {
    const long n = core::CountCodePoints(*f.title);
    if (n < 1 || n > 200) invalid.fields["title"] = {n < 1 ? core::FieldCode::kRequired : core::FieldCode::kTooLong, "must be 1 to 200 characters"};
    else if (core::HasControl(*f.title, false)) invalid.fields["title"] = {core::FieldCode::kInvalidFormat, "must not contain control characters"};
    else if (core::IsBlank(*f.title)) invalid.fields["title"] = {core::FieldCode::kRequired, "must not be blank"};
    else if (*f.title != task.title) { task.title = *f.title; changed.emplace_back("title"); }
  }
  if (f.notes) {
    if (core::CountCodePoints(*f.notes) > 10000) invalid.fields["notes"] = {core::FieldCode::kTooLong, "must be at most 10000 characters"};
    else if (*f.notes != task.notes) { task.notes = *f.notes; changed.emplace_back("notes"); }
  }
  if (f.status) {
    if (!ValidStatus(*f.status)) invalid.fields["status"] = {core::FieldCode::kInvalidValue, "must be one of todo, in_progress, done"};
    else if (*f.status != task.status) { task.status = *f.status; changed.emplace_back("status"); }
  }
  if (f.priority) {
    auto p = PriorityValue(*f.priority);
    if (!p) invalid.fields["priority"] = {core::FieldCode::kInvalidValue, "must be one of low, normal, high"};
    else if (*p != task.priority) { task.priority = *p; changed.emplace_back("priority"); }
  }
  if (f.due_at) {
    std::optional<long long> due;
    if (*f.due_at) {
      auto t = core::ParseRfc3339(**f.due_at);
      if (!t) invalid.fields["due_at"] = {core::FieldCode::kInvalidFormat, "must be an RFC 3339 date-time with a zone offset, or null"};
      // Stored to the second, as it is shown.
      else due = core::ToMillis(*t) / 1000 * 1000;
    }
    if (!invalid.fields.contains("due_at") && due != task.due_at) { task.due_at = due; changed.emplace_back("due_at"); }
  }
  if (f.tags) {
    std::set<std::string> seen;
    if (f.tags->size() > 20) invalid.fields["tags"] = {core::FieldCode::kTooMany, "must hold at most 20 tags"};
    for (const auto& tag : *f.tags) {
      const long n = core::CountCodePoints(tag);
      if (n < 1 || n > 32) invalid.fields["tags"] = {n < 1 ? core::FieldCode::kTooShort : core::FieldCode::kTooLong, "each tag must be 1 to 32 characters"};
      else if (core::HasControl(tag, false)) invalid.fields["tags"] = {core::FieldCode::kInvalidFormat, "tags must not contain control characters"};
      else if (core::IsBlank(tag)) invalid.fields["tags"] = {core::FieldCode::kTooShort, "tags must not be blank"};
      else if (!seen.insert(tag).second) invalid.fields["tags"] = {core::FieldCode::kInvalidValue, "must not repeat a tag"};
    }
    if (!invalid.fields.contains("tags") && *f.tags != task.tags) { task.tags = *f.tags; changed.emplace_back("tags"); }
  }
  if (!invalid.fields.empty()) return core::Fail(std::move(invalid));
  // completed_at belongs to the server: set on entering done, cleared on leaving it.
  if (task.status == "done" && !task.completed_at) task.completed_at = now;
  if (task.status != "done") task.completed_at.reset();
  return changed;
}

core::Error NotFound() { return core::Error{core::ErrorCode::kNotFound, "No such task.", {}, std::nullopt}; }
core::Error Stale() {
  return core::Error{core::ErrorCode::kPreconditionFailed, "The task has changed since you read it.", {}, std::nullopt};
}
bool Matches(std::optional<int> if_match, int version) {
  return !if_match || *if_match == kAnyVersion || *if_match == version;
}

}  // namespace

const char* PriorityName(int priority) {
  switch (priority) {
    case 0: return "low";
    case 2: return "high";
    default: return "normal";
  }
}

core::Result<store::TaskRow> TaskService::Create(const std::string& user_id, const TaskFields& fields,
                                                 const core::RequestMeta& meta) {
  if (!fields.title) return core::FailField("title", core::FieldCode::kRequired, "is required");
  store::TaskRow task;
  const long long now = core::ToMillis(clock_.Now());
  task.user_id = user_id;
  task.title.clear();
  auto applied = Apply(fields, task, now);
  if (!applied) return core::Fail(applied.error());
  task.id = core::NewId(clock_, random_);
  task.created_at = task.updated_at = now;
  task.version = 1;
  return db_.Transaction([&](store::Connection& c) -> core::Result<store::TaskRow> {
    store::TaskStore::Insert(c, task);
    if (task.due_at) store::TaskStore::Rearm(c, task.id);
    recorder_.Record(c, meta, {.actor_id = user_id, .action = "task.created", .target_type = "task",
                               .target_id = task.id});
    return task;
  });
}

core::Result<store::TaskRow> TaskService::Get(const std::string& user_id, const std::string& id) {
  return db_.Run([&](store::Connection& c) -> core::Result<store::TaskRow> {
    auto task = store::TaskStore::Get(c, user_id, id);
    if (!task) return core::Fail(NotFound());
    return *task;
  });
}

core::Result<store::TaskRow> TaskService::Update(const std::string& user_id, const std::string& id,
                                                 const TaskFields& fields, std::optional<int> if_match,
                                                 const core::RequestMeta& meta) {
  // Values are checked before the task is looked up: 422 comes before 404 and 412 (API.md).
  store::TaskRow scratch;
  if (auto valid = Apply(fields, scratch, 0); !valid) return core::Fail(valid.error());
  return db_.Transaction([&](store::Connection& c) -> core::Result<store::TaskRow> {
    auto task = store::TaskStore::Get(c, user_id, id, true);
    if (!task) return core::Fail(NotFound());
    if (!Matches(if_match, task->version)) return core::Fail(Stale());
    const int seen = task->version;
    const long long now = core::ToMillis(clock_.Now());
    auto changed = Apply(fields, *task, now);
    if (!changed) return core::Fail(changed.error());
    if (changed->empty()) return *task;  // nothing changed: same version, no event
    task->version = seen + 1;
    task->updated_at = now;
    // The version in the WHERE clause makes check and write one step, whatever the isolation.
    if (!store::TaskStore::Update(c, *task, seen)) return core::Fail(Stale());
    if (std::find(changed->begin(), changed->end(), "due_at") != changed->end() ||
        std::find(changed->begin(), changed->end(), "status") != changed->end()) {
      store::TaskStore::Rearm(c, task->id);
    }
    recorder_.Record(c, meta, {.actor_id = user_id, .action = "task.updated", .target_type = "task",
                               .target_id = task->id, .data = {{"fields", *changed}}});
    return *task;
  });
}

core::Result<void> TaskService::Delete(const std::string& user_id, const std::string& id,
                                       std::optional<int> if_match, const core::RequestMeta& meta) {
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    auto task = store::TaskStore::Get(c, user_id, id, true);
    if (!task) return core::Fail(NotFound());
    if (!Matches(if_match, task->version)) return core::Fail(Stale());
    if (!store::TaskStore::Delete(c, user_id, id)) return core::Fail(NotFound());
    recorder_.Record(c, meta, {.actor_id = user_id, .action = "task.deleted", .target_type = "task",
                               .target_id = id});
    return {};
  });
}

core::Result<std::vector<store::TaskRow>> TaskService::List(const store::TaskQuery& query) {
  return db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::TaskRow>> {
    return store::TaskStore::List(c, query);
  });
}

}  // namespace ikigai::tasks
