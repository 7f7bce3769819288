// The inbox, the channel preferences and announcements: what the notification endpoints call.
// Announcements answer at once and are fanned out by a background job in batches of
// kFanOutBatch users, claimed with a lease so any instance can take over one that another
// instance started and did not finish.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "activity/recorder.hpp"
#include "core/error.hpp"
#include "core/request_meta.hpp"
#include "notify/notifier.hpp"
#include "store/database.hpp"
#include "store/notifications.hpp"

namespace ikigai::notify {

inline constexpr int kMinReminderLead = 5;
inline constexpr int kMaxReminderLead = 10080;
inline constexpr int kFanOutBatch = 1000;
inline constexpr std::size_t kMaxBroadcastUsers = 1000;
inline constexpr std::chrono::hours kInboxRetention{24 * 90};

// A PATCH of the preferences: only what is set changes.
struct PreferencesPatch {
  std::array<std::optional<bool>, 4> email{};
  std::array<std::optional<bool>, 4> in_app{};
  std::array<std::optional<bool>, 4> push{};
  std::optional<int> reminder_lead_minutes;
};

struct BroadcastInput {
  std::string title{};
  std::string body{};
  std::optional<std::string> role{};
  std::optional<std::vector<std::string>> user_ids{};
};

struct InboxPage {
  std::vector<store::NotificationRow> items;  // up to limit + 1
  long long unread = 0;
};

class NotificationService {
 public:
  NotificationService(store::Database& db, const Notifier& notifier, const core::Clock& clock, core::Random& random);

  [[nodiscard]] core::Result<InboxPage> List(const store::NotificationQuery& query);
  // 404 for an unknown or someone else's notification.
  [[nodiscard]] core::Result<void> MarkRead(const std::string& user_id, const std::string& id);
  [[nodiscard]] core::Result<void> MarkAllRead(const std::string& user_id);
  [[nodiscard]] core::Result<void> Delete(const std::string& user_id, const std::string& id);

  // What a resuming stream missed: the newest `limit` after `after_id`, oldest first.
  [[nodiscard]] core::Result<std::vector<store::NotificationRow>> Missed(const std::string& user_id,
                                                                         const std::string& after_id, int limit);

  [[nodiscard]] core::Result<store::NotificationPrefsRow> Preferences(const std::string& user_id);
  // 422 for email.security false or a lead out of range. A new lead re-arms pending reminders.
  [[nodiscard]] core::Result<store::NotificationPrefsRow> UpdatePreferences(const std::string& user_id,
                                                                            const PreferencesPatch& patch);

  // 422 for field rules and unknown user ids; returns the number of recipients. The fan-out
  // starts when `wake` (the job runner) runs FanOut.
  [[nodiscard]] core::Result<long long> Broadcast(const std::string& admin_id, const BroadcastInput& input,
                                                  const core::RequestMeta& meta);
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  // The job: fans out unfinished announcements; returns the inbox rows written.
  long long FanOut();
  // The job: deletes inbox rows older than kInboxRetention in bounded batches.
  long long PurgeOld();

 private:
  store::Database& db_;
  const Notifier& notifier_;
  const core::Clock& clock_;
  core::Random& random_;
  activity::Recorder recorder_;
  std::string instance_;
  std::function<void()> wake_;
};

}  // namespace ikigai::notify
