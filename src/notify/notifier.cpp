// The notifier and the email channel.
#include "notify/notifier.hpp"

#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "mail/outbox.hpp"
#include "mail/templates.hpp"

namespace ikigai::notify {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kTaskDue:
      return "task_due";
    case Kind::kSecurity:
      return "security";
    case Kind::kAnnouncement:
      return "announcement";
    case Kind::kFeedbackReply:
      return "feedback_reply";
  }
  return "security";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (Kind k : kKinds) {
    if (KindName(k) == name) return k;
  }
  return std::nullopt;
}

void EmailChannel::Deliver(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs,
                           const Notice& notice, const store::NotificationRow& /*row*/) {
  const bool security = notice.kind == Kind::kSecurity;
  if (!security && (!prefs.email[Index(notice.kind)] || !to.email_verified)) return;
  std::map<std::string, std::string> values = notice.mail_values;
  std::string kind = notice.mail_template;
  if (kind.empty()) {
    kind = "notify_" + std::string(KindName(notice.kind));
    values["title"] = notice.title;
    // A security notice can carry text someone else typed (the user agent of a sign-in): to an
    // address the account never proved it says only that something happened.
    if (security) {
      mail::SetIfProved(values, to.email_verified, "body", notice.body);
    } else {
      values["body"] = notice.body;
    }
    values["settings_url"] = public_url_ + "/settings/notifications";
    if (!notice.link.empty()) values["link"] = notice.link;
    if (security) values["reset_link"] = public_url_ + "/forgot-password";
    mail::SetIfProved(values, to.email_verified, "display_name", to.display_name);
  }
  outbox_.Enqueue(c, to.id, kind, notice.mail_to.value_or(to.email), values);
  queued_.store(true, std::memory_order_relaxed);
}

void EmailChannel::AfterCommit() {
  if (queued_.exchange(false, std::memory_order_relaxed)) outbox_.Wake();
}

store::NotificationRow Notifier::MakeRow(const Recipient& to, const Notice& notice) const {
  store::NotificationRow row;
  row.user_id = to.id;
  row.kind = std::string(KindName(notice.kind));
  row.title = notice.title;
  row.body = notice.body;
  row.data = notice.data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  row.created_at = core::ToMillis(clock_.Now());
  return row;
}

store::NotificationRow Notifier::Notify(store::Connection& c, const Recipient& to, const Notice& notice) const {
  const auto prefs = store::NotificationStore::Prefs(c, to.id);
  std::vector<store::NotificationRow> rows;
  Plan(c, to, prefs, notice, rows);
  if (rows.empty()) return MakeRow(to, notice);
  store::NotificationStore::Insert(c, rows.front());
  return rows.front();
}

void Notifier::Plan(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs,
                    const Notice& notice, std::vector<store::NotificationRow>& rows) const {
  store::NotificationRow row = MakeRow(to, notice);
  if (prefs.in_app[Index(notice.kind)]) {
    row.id = core::NewId(clock_, random_);
    counters_.created[Index(notice.kind)].fetch_add(1, std::memory_order_relaxed);
  }
  for (Channel* channel : channels_) channel->Deliver(c, to, prefs, notice, row);
  if (!row.id.empty()) rows.push_back(std::move(row));
}

void Notifier::AfterCommit() const {
  for (Channel* channel : channels_) channel->AfterCommit();
}

}  // namespace ikigai::notify
