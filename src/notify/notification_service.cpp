// Inbox, preferences and announcements.
#include "notify/notification_service.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "store/tasks.hpp"

namespace ikigai::notify {
namespace {

core::Error NotFound() { return core::Error{core::ErrorCode::kNotFound, "No such notification.", {}, std::nullopt}; }

using core::FieldCode;

core::Error Invalid(std::map<std::string, core::FieldError> fields) {
  return core::Error{core::ErrorCode::kValidation, {}, std::move(fields), std::nullopt};
}

// A claim outlives a slow batch but not a dead instance by much.
constexpr long long kFanOutLeaseMs = 60'000;

}  // namespace

NotificationService::NotificationService(store::Database& db, const Notifier& notifier, const core::Clock& clock,
                                         core::Random& random)
    : db_(db),
      notifier_(notifier),
      clock_(clock),
      random_(random),
      recorder_(clock, random),
      instance_(core::NewId(clock, random)) {}

core::Result<InboxPage> NotificationService::List(const store::NotificationQuery& query) {
  return db_.Run([&](store::Connection& c) -> core::Result<InboxPage> {
    InboxPage page;
    page.items = store::NotificationStore::List(c, query);
    page.unread = store::NotificationStore::UnreadCount(c, query.user_id);
    return page;
  });
}

core::Result<void> NotificationService::MarkRead(const std::string& user_id, const std::string& id) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    if (!store::NotificationStore::MarkRead(c, user_id, id, core::ToMillis(clock_.Now()))) {
      return core::Fail(NotFound());
    }
    return {};
  });
}

core::Result<void> NotificationService::MarkAllRead(const std::string& user_id) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    store::NotificationStore::MarkAllRead(c, user_id, core::ToMillis(clock_.Now()));
    return {};
  });
}

core::Result<void> NotificationService::Delete(const std::string& user_id, const std::string& id) {
  return db_.Run([&](store::Connection& c) -> core::Result<void> {
    if (!store::NotificationStore::Delete(c, user_id, id)) return core::Fail(NotFound());
    return {};
  });
}

core::Result<std::vector<store::NotificationRow>> NotificationService::Missed(const std::string& user_id,
                                                                              const std::string& after_id,
                                                                              int limit) {
  return db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::NotificationRow>> {
    return store::NotificationStore::After(c, user_id, after_id, limit);
  });
}

long long NotificationService::PurgeOld() {
  constexpr int kBatch = 5000;
  const long long before = core::ToMillis(clock_.Now()) -
                           std::chrono::duration_cast<std::chrono::milliseconds>(kInboxRetention).count();
  long long purged = 0;
  for (int round = 0; round < 200; ++round) {  // at most a million rows a pass, one batch per statement
    auto n = db_.Run([&](store::Connection& c) -> core::Result<long long> {
      return store::NotificationStore::PurgeBefore(c, before, kBatch);
    });
    if (!n) break;
    purged += *n;
    if (*n < kBatch) break;
  }
  if (purged > 0) spdlog::info("purged {} notification(s) older than 90 days", purged);
  return purged;
}

core::Result<store::NotificationPrefsRow> NotificationService::Preferences(const std::string& user_id) {
  return db_.Run([&](store::Connection& c) -> core::Result<store::NotificationPrefsRow> {
    return store::NotificationStore::Prefs(c, user_id);
  });
}

core::Result<store::NotificationPrefsRow> NotificationService::UpdatePreferences(const std::string& user_id,
                                                                                 const PreferencesPatch& patch) {
  std::map<std::string, core::FieldError> errors;
  if (patch.email[Index(Kind::kSecurity)] == false) {
    errors["email.security"] = {FieldCode::kInvalidValue, "security emails cannot be switched off"};
  }
  if (patch.reminder_lead_minutes &&
      (*patch.reminder_lead_minutes < kMinReminderLead || *patch.reminder_lead_minutes > kMaxReminderLead)) {
    errors["reminder_lead_minutes"] = {FieldCode::kOutOfRange, "must be an integer from 5 to 10080"};
  }
  if (!errors.empty()) return core::Fail(Invalid(std::move(errors)));
  return db_.Transaction([&](store::Connection& c) -> core::Result<store::NotificationPrefsRow> {
    auto prefs = store::NotificationStore::PrefsForUpdate(c, user_id, core::ToMillis(clock_.Now()));
    const int old_lead = prefs.reminder_lead_minutes;
    for (std::size_t k = 0; k < 4; ++k) {
      if (patch.email[k]) prefs.email[k] = *patch.email[k];
      if (patch.in_app[k]) prefs.in_app[k] = *patch.in_app[k];
      if (patch.push[k]) prefs.push[k] = *patch.push[k];
    }
    prefs.email[Index(Kind::kSecurity)] = true;
    if (patch.reminder_lead_minutes) prefs.reminder_lead_minutes = *patch.reminder_lead_minutes;
    store::NotificationStore::SavePrefs(c, user_id, prefs, core::ToMillis(clock_.Now()));
    if (prefs.reminder_lead_minutes != old_lead) {
      store::TaskStore::RearmUser(c, user_id, prefs.reminder_lead_minutes);
    }
    return prefs;
  });
}

core::Result<long long> NotificationService::Broadcast(const std::string& admin_id, const BroadcastInput& in,
                                                       const core::RequestMeta& meta) {
  std::map<std::string, core::FieldError> errors;
  const long title_len = core::CountCodePoints(in.title);
  if (title_len < 1 || title_len > 200) {
    errors["title"] = {title_len < 1 ? FieldCode::kRequired : FieldCode::kTooLong, "must be 1 to 200 characters"};
  } else if (core::HasControl(in.title, false)) {
    errors["title"] = {FieldCode::kInvalidFormat, "must not contain control characters"};
  } else if (core::IsBlank(in.title)) {
    errors["title"] = {FieldCode::kRequired, "must not be blank"};
  }
  const long body_len = core::CountCodePoints(in.body);
  if (body_len < 1 || body_len > 5000) {
    errors["body"] = {body_len < 1 ? FieldCode::kRequired : FieldCode::kTooLong, "must be 1 to 5000 characters"};
  } else if (core::HasControl(in.body, true)) {
    errors["body"] = {FieldCode::kInvalidFormat, "must not contain control characters other than line breaks and tabs"};
  } else if (core::IsBlank(in.body)) {
    errors["body"] = {FieldCode::kRequired, "must not be blank"};
  }
  if (in.role && *in.role != "user" && *in.role != "admin") errors["role"] = {FieldCode::kInvalidValue, "must be user or admin"};
  if (in.role && in.user_ids) errors["user_ids"] = {FieldCode::kInvalidValue, "cannot be combined with role"};
  std::vector<std::string> ids;
  if (in.user_ids) {
    if (in.user_ids->empty() || in.user_ids->size() > kMaxBroadcastUsers) {
      errors["user_ids"] = {in.user_ids->empty() ? FieldCode::kRequired : FieldCode::kTooMany, "must hold 1 to 1000 user ids"};
    } else {
      for (const auto& id : *in.user_ids) {
        if (!core::IsIdText(id)) {
          errors["user_ids"] = {FieldCode::kInvalidValue, "holds an id that names no user"};
          break;
        }
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
      }
    }
  }
  if (!errors.empty()) return core::Fail(Invalid(std::move(errors)));
  auto recipients = db_.Transaction([&](store::Connection& c) -> core::Result<long long> {
    if (!ids.empty() && store::BroadcastStore::ExistingUsers(c, ids).size() != ids.size()) {
      return core::Fail(Invalid({{"user_ids", {FieldCode::kInvalidValue, "holds an id that names no user"}}}));
    }
    store::BroadcastRow row;
    row.id = core::NewId(clock_, random_);
    row.created_by = admin_id;
    row.title = in.title;
    row.body = in.body;
    row.role = in.role;
    if (in.user_ids) row.user_ids = nlohmann::json(ids).dump();
    row.recipients = store::BroadcastStore::CountRecipients(c, in.role, ids);
    row.created_at = core::ToMillis(clock_.Now());
    store::BroadcastStore::Insert(c, row);
    nlohmann::json data = {{"broadcast_id", row.id}, {"recipients", row.recipients}};
    if (in.role) data["role"] = *in.role;
    if (in.user_ids) data["user_ids"] = ids.size();
    recorder_.Record(c, meta, {.actor_id = admin_id, .action = "notification.broadcast",
                               .target_type = "broadcast", .target_id = row.id, .data = std::move(data)});
    return row.recipients;
  });
  if (recipients && wake_) wake_();
  return recipients;
}

long long NotificationService::FanOut() {
  long long written = 0;
  for (;;) {
    const long long now = core::ToMillis(clock_.Now());
    auto claimed = db_.Transaction([&](store::Connection& c) -> core::Result<std::optional<store::BroadcastRow>> {
      return store::BroadcastStore::Claim(c, instance_, now, now + kFanOutLeaseMs);
    });
    if (!claimed || !*claimed) return written;
    store::BroadcastRow b = std::move(**claimed);
    Notice notice{.kind = Kind::kAnnouncement, .title = b.title, .body = b.body,
                  .data = {{"broadcast_id", b.id}}};
    struct Step {
      long long written = 0;
      std::string next_user_id;  // empty: finished
    };
    for (;;) {
      auto step = db_.Transaction([&](store::Connection& c) -> core::Result<Step> {
        const auto recipients = store::BroadcastStore::NextRecipients(c, b, b.next_user_id, kFanOutBatch);
        if (recipients.empty()) {
          store::BroadcastStore::Finish(c, b.id, instance_, core::ToMillis(clock_.Now()));
          return Step{};
        }
        std::vector<store::NotificationRow> rows;
        rows.reserve(recipients.size());
        for (const auto& r : recipients) {
          notifier_.Plan(c, {r.id, r.email, r.email_verified, r.display_name}, r.prefs, notice, rows);
        }
        store::NotificationStore::InsertMany(c, rows);
        const long long lease = core::ToMillis(clock_.Now()) + kFanOutLeaseMs;
        if (!store::BroadcastStore::Advance(c, b.id, instance_, b.next_user_id, recipients.back().id, lease)) {
          // Another instance took the broadcast over (our lease expired): its work, not ours.
          return core::Fail(core::ErrorCode::kConflict, "lease lost");
        }
        return Step{static_cast<long long>(rows.size()), recipients.back().id};
      });
      if (!step) {
        spdlog::warn("announcement {}: fan-out stopped ({}); it resumes when its lease expires", b.id,
                     step.error().detail);
        return written;
      }
      written += step->written;
      notifier_.AfterCommit();
      if (step->next_user_id.empty()) break;
      b.next_user_id = step->next_user_id;
    }
    spdlog::info("announcement {} delivered to {} recipient(s)", b.id, b.recipients);
  }
}

}  // namespace ikigai::notify
