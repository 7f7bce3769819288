// Tasks of one user: field rules, completed_at kept by the server, versions with optimistic
// concurrency (If-Match), and activity events in the same transaction as each change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/request_meta.hpp"
#include "store/database.hpp"
#include "store/tasks.hpp"

namespace ikigai::tasks {

// Fields as the client sent them (already type-checked). For due_at, an engaged outer optional
// means "present": nullopt inside is an explicit null.
struct TaskFields {
  std::optional<std::string> title{};
  std::optional<std::string> notes{};
  std::optional<std::string> status{};
  std::optional<std::string> priority{};
  std::optional<std::optional<std::string>> due_at{};
  std::optional<std::vector<std::string>> tags{};
};

// If-Match: nullopt = not sent; kAny = "*"; otherwise the version the client last saw
// (-1 for a value that can never match).
inline constexpr int kAnyVersion = -2;

[[nodiscard]] const char* PriorityName(int priority);

class TaskService {
 public:
  TaskService(store::Database& db, const core::Clock& clock, core::Random& random)
      : db_(db), clock_(clock), random_(random), recorder_(clock, random) {}

  [[nodiscard]] core::Result<store::TaskRow> Create(const std::string& user_id, const TaskFields& fields,
                                                    const core::RequestMeta& meta);
  [[nodiscard]] core::Result<store::TaskRow> Get(const std::string& user_id, const std::string& id);
  [[nodiscard]] core::Result<store::TaskRow> Update(const std::string& user_id, const std::string& id,
                                                    const TaskFields& fields, std::optional<int> if_match,
                                                    const core::RequestMeta& meta);
  [[nodiscard]] core::Result<void> Delete(const std::string& user_id, const std::string& id,
                                          std::optional<int> if_match, const core::RequestMeta& meta);
  [[nodiscard]] core::Result<std::vector<store::TaskRow>> List(const store::TaskQuery& query);

 private:
  store::Database& db_;
  const core::Clock& clock_;
  core::Random& random_;
  activity::Recorder recorder_;
};

}  // namespace ikigai::tasks
