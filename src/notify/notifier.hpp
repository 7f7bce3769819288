// One way to notify: producers call Notifier::Notify inside their own transaction; it writes the
// inbox row (unless the user turned that kind off in the app) and hands the notice to every
// delivery channel (email through the outbox today, Web Push later), each of which decides by the
// user's preferences and queues its work in the same transaction. Nothing is sent from the
// request thread: channels wake their senders after the commit (AfterCommit).
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "store/database.hpp"
#include "store/notifications.hpp"
#include "store/users.hpp"

namespace ikigai::mail {
class Outbox;
}

namespace ikigai::notify {

enum class Kind { kTaskDue = 0, kSecurity = 1, kAnnouncement = 2, kFeedbackReply = 3 };
inline constexpr std::array<Kind, 4> kKinds = {Kind::kTaskDue, Kind::kSecurity, Kind::kAnnouncement,
                                               Kind::kFeedbackReply};

[[nodiscard]] std::string_view KindName(Kind kind);
[[nodiscard]] std::optional<Kind> ParseKind(std::string_view name);
[[nodiscard]] inline std::size_t Index(Kind kind) { return static_cast<std::size_t>(kind); }

// Who a notification goes to, as the channels need it.
struct Recipient {
  std::string id;
  std::string email;
  bool email_verified = false;
  std::string display_name;

  [[nodiscard]] static Recipient Of(const store::UserRow& user) {
    return {user.id, user.email, user.email_verified, user.display_name};
  }
};

struct Notice {
  Kind kind = Kind::kSecurity;
  std::string title{};
  std::string body{};
  nlohmann::json data = nlohmann::json::object();
  std::string link{};  // optional: where the email points (a task, the settings page)
  // The existing security mails keep their own template, values and address (an email change is
  // told to the old address); empty: the generic template of the kind, to the user's address.
  std::string mail_template{};
  std::map<std::string, std::string> mail_values{};
  std::optional<std::string> mail_to{};
};

// A security notice with the generic security email.
[[nodiscard]] inline Notice SecurityNotice(std::string title, std::string body, nlohmann::json data) {
  Notice n;
  n.kind = Kind::kSecurity;
  n.title = std::move(title);
  n.body = std::move(body);
  n.data = std::move(data);
  return n;
}

// A security notice whose email is one of the existing security mails (template `mail_template`
// with its own values) rather than the generic one.
[[nodiscard]] inline Notice SecurityMail(std::string title, std::string body, nlohmann::json data,
                                         std::string mail_template, std::map<std::string, std::string> values) {
  Notice n;
  n.kind = Kind::kSecurity;
  n.title = std::move(title);
  n.body = std::move(body);
  n.data = std::move(data);
  n.mail_template = std::move(mail_template);
  n.mail_values = std::move(values);
  return n;
}

// A way to reach a user beyond the inbox. Deliver runs inside the producer's transaction and only
// queues; AfterCommit wakes whatever sends.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual void Deliver(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs,
                       const Notice& notice, const store::NotificationRow& row) = 0;
  virtual void AfterCommit() {}
};

// Email through the outbox: by `email.<kind>` (security always), and for every kind but security
// only to an address the account has proved, so a stranger's mailbox gets no reminders or
// announcements from an account registered with that address.
class EmailChannel final : public Channel {
 public:
  EmailChannel(const mail::Outbox& outbox, std::string public_url)
      : outbox_(outbox), public_url_(std::move(public_url)) {}
  void Deliver(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs,
               const Notice& notice, const store::NotificationRow& row) override;
  void AfterCommit() override;

 private:
  const mail::Outbox& outbox_;
  std::string public_url_;
  std::atomic<bool> queued_{false};  // wake the sender only when something was queued
};

struct Counters {
  std::array<std::atomic<std::uint64_t>, 4> created{};  // inbox rows written, by kind
};

class Notifier {
 public:
  Notifier(const core::Clock& clock, core::Random& random) : clock_(clock), random_(random) {}
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // REQUIRES: before the server serves.
  void AddChannel(Channel* channel) { channels_.push_back(channel); }

  // Inside the producer's transaction. Returns the inbox row (also when in_app is off, with an
  // empty id: channels still get the id-less row for its fields).
  store::NotificationRow Notify(store::Connection& c, const Recipient& to, const Notice& notice) const;
  // The same with the preferences already read (fan-out batches); the inbox row is appended to
  // `rows` instead of inserted, for one multi-row INSERT by the caller.
  void Plan(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs, const Notice& notice,
            std::vector<store::NotificationRow>& rows) const;
  // After the producer's transaction committed.
  void AfterCommit() const;

  [[nodiscard]] const Counters& Stats() const { return counters_; }

 private:
  store::NotificationRow MakeRow(const Recipient& to, const Notice& notice) const;

  const core::Clock& clock_;
  core::Random& random_;
  std::vector<Channel*> channels_;
  mutable Counters counters_;
};

}  // namespace ikigai::notify
