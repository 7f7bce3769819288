// The task_due producer: a periodic job that reminds owners of tasks entering their window
// `due_at - lead <= now < due_at`, once per task and due time, whatever the number of instances
// (each reminder is taken by a conditional UPDATE before it is sent).
#pragma once

#include <string>

#include "core/clock.hpp"
#include "notify/notifier.hpp"
#include "store/database.hpp"

namespace ikigai::notify {

class Reminders {
 public:
  Reminders(store::Database& db, const Notifier& notifier, const core::Clock& clock, std::string public_url)
      : db_(db), notifier_(notifier), clock_(clock), public_url_(std::move(public_url)) {}
  // One pass; returns how many reminders were sent (overdue ones are dropped without a notice).
  int RunOnce();

 private:
  store::Database& db_;
  const Notifier& notifier_;
  const core::Clock& clock_;
  std::string public_url_;
};

}  // namespace ikigai::notify
