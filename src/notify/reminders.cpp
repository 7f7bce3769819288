// The reminder pass.
#include "notify/reminders.hpp"

#include <spdlog/spdlog.h>

#include "core/time_format.hpp"
#include "store/tasks.hpp"
#include "store/users.hpp"

namespace ikigai::notify {

int Reminders::RunOnce() {
  constexpr int kBatch = 200;
  int sent = 0;
  for (int round = 0; round < 50; ++round) {
    const long long now = core::ToMillis(clock_.Now());
    auto owed = db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::ReminderRow>> {
      return store::TaskStore::OwedReminders(c, now, kBatch);
    });
    if (!owed) {
      spdlog::warn("reminders: database unavailable, will retry");
      return sent;
    }
    for (const auto& r : *owed) {
      auto done = db_.Transaction([&](store::Connection& c) -> core::Result<bool> {
        if (!store::TaskStore::TakeReminder(c, r)) return false;  // another instance, or the task changed
        if (now >= r.due_at) return false;                       // overdue: never reminded
        auto user = store::UserStore::FindById(c, r.user_id);
        if (!user || user->disabled) return false;
        Notice notice;
        notice.kind = Kind::kTaskDue;
        notice.title = "Due soon: " + r.title;
        notice.body = "\"" + r.title + "\" is due at " + core::FormatRfc3339(core::FromMillis(r.due_at)) + ".";
        notice.data = {{"task_id", r.id}, {"due_at", core::FormatRfc3339(core::FromMillis(r.due_at))}};
        notice.link = public_url_ + "/tasks/" + r.id;
        (void)notifier_.Notify(c, Recipient::Of(*user), notice);
        return true;
      });
      if (done && *done) ++sent;
    }
    if (static_cast<int>(owed->size()) < kBatch) break;
  }
  if (sent > 0) notifier_.AfterCommit();
  return sent;
}

}  // namespace ikigai::notify
