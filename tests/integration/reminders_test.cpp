// Issue #12 task_due reminders (NOTIFY-DESIGN.md): with the periodic job every second
// (IKIGAI_JOBS_INTERVAL=1s), a task entering the window due_at - lead <= now < due_at with status
// not done is reminded once per task and due time; moving due_at re-arms it, so does changing
// reminder_lead_minutes for a pending one; a done task, an overdue one and one without due_at are
// never reminded; and two instances on one database remind each task exactly once (row and mail).
//
// "Never" and "exactly once" are checked after a control reminder of the same user has arrived
// (so the job has run over the task) and a few more job runs have passed.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/email_message.hpp"
#include "support/http_client.hpp"
#include "support/mail_suite.hpp"
#include "support/notify_api.hpp"
#include "support/smtp_sink.hpp"
#include "support/task_api.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::AllNotifications;
using support::ApiUser;
using support::Http;

// A few job runs at one per second.
constexpr auto kSomeJobRuns = 3500ms;

class ReminderTest : public support::AccountSuite<ReminderTest> {
 public:
  static std::map<std::string, std::string> ServerEnv() {
    return support::AccountServerEnv({{"IKIGAI_RATE_LIMITS", "off"}, {"IKIGAI_JOBS_INTERVAL", "1s"}});
  }

 protected:
  static json Task(const Http& http, const ApiUser& user, const std::string& title, const json& due_at,
                   const std::string& status = "todo") {
    json body = {{"title", title}, {"status", status}};
    if (!due_at.is_null()) body["due_at"] = due_at;
    return support::CreateTask(http, user, body);
  }
  static std::vector<json> Reminders(const Http& http, const ApiUser& user) {
    auto items = AllNotifications(http, user.auth, "kind=task_due");
    std::reverse(items.begin(), items.end());  // oldest first
    return items;
  }
  static std::vector<json> RemindersOf(const Http& http, const ApiUser& user, const json& task) {
    std::vector<json> out;
    for (const auto& item : Reminders(http, user)) {
      if (item["data"].is_object() && item["data"].value("task_id", "") == task["id"]) out.push_back(item);
    }
    return out;
  }
  // Waits (up to 10 s) until `task` has `count` reminders.
  static bool AwaitReminders(const Http& http, const ApiUser& user, const json& task, std::size_t count) {
    return support::WaitUntil([&] { return RemindersOf(http, user, task).size() >= count; }, 10s, 100ms);
  }
};

TEST_F(ReminderTest, ATaskEnteringTheWindowIsRemindedOnceWithinSeconds) {
  Http http(Server());
  auto user = support::NewApiUser(http, "remind_once");
  support::SetPrefs(http, user.auth, {{"reminder_lead_minutes", 5}});
  const json task = Task(http, user, "Write the essay", support::Rfc3339FromNow(120s));
  ASSERT_TRUE(AwaitReminders(http, user, task, 1)) << "no reminder within 10 s of the job running every second";
  std::this_thread::sleep_for(kSomeJobRuns);
  auto reminders = RemindersOf(http, user, task);
  ASSERT_EQ(reminders.size(), 1u) << "reminded more than once: " << json(reminders).dump();
  const json& r = reminders[0];
  EXPECT_EQ(r["kind"], "task_due");
  EXPECT_EQ(r["title"], "Due soon: Write the essay");
  EXPECT_EQ(r["body"], "\"Write the essay\" is due at " + task["due_at"].get<std::string>() + ".");
  EXPECT_EQ(r["data"]["task_id"], task["id"]);
  EXPECT_EQ(r["data"]["due_at"], task["due_at"]);
  EXPECT_TRUE(r["read_at"].is_null());
  EXPECT_EQ(Reminders(http, user).size(), 1u);
}

TEST_F(ReminderTest, MovingDueAtReArmsButOtherChangesDoNot) {
  Http http(Server());
  auto user = support::NewApiUser(http, "remind_move");
  support::SetPrefs(http, user.auth, {{"reminder_lead_minutes", 5}});
  const json task = Task(http, user, "Moving target", support::Rfc3339FromNow(120s));
  ASSERT_TRUE(AwaitReminders(http, user, task, 1));
  // A change that keeps due_at (title, priority, the same due_at again) owes nothing new.
  auto res = support::PatchTask(http, user, task["id"], {{"title", "Moving target, renamed"}, {"priority", "high"}});
  ASSERT_EQ(res.status, 200) << res;
  res = support::PatchTask(http, user, task["id"], {{"due_at", task["due_at"]}});
  ASSERT_EQ(res.status, 200) << res;
  std::this_thread::sleep_for(kSomeJobRuns);
  ASSERT_EQ(RemindersOf(http, user, task).size(), 1u) << "a change that kept due_at re-armed the reminder";
  // A new due time: a second reminder, for it.
  const std::string moved = support::Rfc3339FromNow(180s);
  res = support::PatchTask(http, user, task["id"], {{"due_at", moved}});
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(AwaitReminders(http, user, task, 2)) << "moving due_at did not re-arm the reminder";
  std::this_thread::sleep_for(kSomeJobRuns);
  auto reminders = RemindersOf(http, user, task);
  ASSERT_EQ(reminders.size(), 2u) << json(reminders).dump();
  EXPECT_EQ(reminders[0]["data"]["due_at"], task["due_at"]);
  EXPECT_EQ(reminders[1]["data"]["due_at"], res.Json()["due_at"]);
  EXPECT_EQ(reminders[1]["title"], "Due soon: Moving target, renamed");
}

TEST_F(ReminderTest, ADoneTaskIsNotRemindedNorOneDoneWhileItWaits) {
  Http http(Server());
  auto user = support::NewApiUser(http, "remind_done");
  support::SetPrefs(http, user.auth, {{"reminder_lead_minutes", 5}});
  // Done already when it enters the window.
  const json done = Task(http, user, "Already done", support::Rfc3339FromNow(120s), "done");
  // Due in ten minutes: outside a lead of five, so nothing is owed yet.
  const json waiting = Task(http, user, "Done while waiting", support::Rfc3339FromNow(600s));
  const json control_later = Task(http, user, "Control later", support::Rfc3339FromNow(600s));
  const json control = Task(http, user, "Control now", support::Rfc3339FromNow(120s));
  ASSERT_TRUE(AwaitReminders(http, user, control, 1));
  std::this_thread::sleep_for(kSomeJobRuns);
  EXPECT_TRUE(RemindersOf(http, user, done).empty()) << "a done task was reminded";
  EXPECT_TRUE(RemindersOf(http, user, waiting).empty()) << "reminded outside the window";
  EXPECT_TRUE(RemindersOf(http, user, control_later).empty()) << "reminded outside the window";
  // `waiting` is done meanwhile; then a longer lead brings both into the window.
  auto res = support::PatchTask(http, user, waiting["id"], {{"status", "done"}});
  ASSERT_EQ(res.status, 200) << res;
  support::SetPrefs(http, user.auth, {{"reminder_lead_minutes", 15}});
  ASSERT_TRUE(AwaitReminders(http, user, control_later, 1)) << "a longer lead did not re-arm a pending reminder";
  std::this_thread::sleep_for(kSomeJobRuns);
  EXPECT_TRUE(RemindersOf(http, user, waiting).empty()) << "a task done while it waited was reminded";
  EXPECT_TRUE(RemindersOf(http, user, done).empty());
  EXPECT_EQ(RemindersOf(http, user, control).size(), 1u) << "a longer lead reminded an already reminded task again";
  EXPECT_EQ(Reminders(http, user).size(), 2u);
}

TEST_F(ReminderTest, ReopeningADoneTaskBeforeItIsDueReArmsIt) {
  Http http(Server());
  auto user = support::NewApiUser(http, "remind_reopen");
  const json task = Task(http, user, "Reopened", support::Rfc3339FromNow(120s), "done");
  const json control = Task(http, user, "Reopen control", support::Rfc3339FromNow(120s));
  ASSERT_TRUE(AwaitReminders(http, user, control, 1));
  std::this_thread::sleep_for(kSomeJobRuns);
  ASSERT_TRUE(RemindersOf(http, user, task).empty()) << "a done task was reminded";
  auto res = support::PatchTask(http, user, task["id"], {{"status", "todo"}});
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(AwaitReminders(http, user, task, 1)) << "reopening a done task before its due time did not re-arm it";
  std::this_thread::sleep_for(kSomeJobRuns);
  EXPECT_EQ(RemindersOf(http, user, task).size(), 1u);
}

TEST_F(ReminderTest, ADisabledUserGetsNoReminder) {
  Http http(Server());
  auto admin = support::NewApiUser(http, "remind_admin");
  support::MakeAdminInDb(Db(), admin.id);
  auto user = support::NewApiUser(http, "remind_disabled");
  for (const auto* who : {&admin, &user}) support::SetPrefs(http, who->auth, {{"reminder_lead_minutes", 5}});
  // Both windows open about ten seconds from now; the user is disabled before that.
  const auto due = support::Rfc3339FromNow(310s);
  const json task = Task(http, user, "Disabled owner", due);
  const json control = Task(http, admin, "Admin control", due);
  ASSERT_EQ(http.Patch("/api/v1/admin/users/" + user.id, json{{"disabled", true}}.dump(), admin.auth).status, 200);
  ASSERT_TRUE(support::WaitUntil([&] { return !RemindersOf(http, admin, control).empty(); }, 30s, 200ms))
      << "the control reminder never came";
  std::this_thread::sleep_for(kSomeJobRuns);
  EXPECT_TRUE(support::OfKind(support::NotificationRows(Db(), user.id), "task_due").empty())
      << "a disabled user was reminded";
}

TEST_F(ReminderTest, AnOverdueTaskOrOneWithoutDueAtIsNeverReminded) {
  Http http(Server());
  auto user = support::NewApiUser(http, "remind_overdue");
  const json overdue = Task(http, user, "Overdue", support::Rfc3339FromNow(-30s));
  const json long_overdue = Task(http, user, "Long overdue", support::Rfc3339FromNow(-86400s));
  const json undated = Task(http, user, "Someday", nullptr);
  // Moved into the past after creation.
  const json moved = Task(http, user, "Moved back", support::Rfc3339FromNow(86400s));
  auto res = support::PatchTask(http, user, moved["id"], {{"due_at", support::Rfc3339FromNow(-60s)}});
  ASSERT_EQ(res.status, 200) << res;
  // A lead change re-arms pending reminders: still none for these.
  support::SetPrefs(http, user.auth, {{"reminder_lead_minutes", 10080}});
  const json control = Task(http, user, "Control", support::Rfc3339FromNow(120s));
  ASSERT_TRUE(AwaitReminders(http, user, control, 1));
  std::this_thread::sleep_for(kSomeJobRuns);
  for (const json* task : {&overdue, &long_overdue, &undated, &moved}) {
    EXPECT_TRUE(RemindersOf(http, user, *task).empty()) << (*task)["title"] << " was reminded";
  }
  EXPECT_EQ(Reminders(http, user).size(), 1u);
}

TEST_F(ReminderTest, RemindersArePerUserAndFollowTheOwnersLead) {
  Http http(Server());
  auto short_lead = support::NewApiUser(http, "remind_short");
  auto long_lead = support::NewApiUser(http, "remind_long");
  support::SetPrefs(http, short_lead.auth, {{"reminder_lead_minutes", 5}});
  // Due in 20 minutes: inside the default hour of long_lead, outside five minutes.
  const json a = Task(http, short_lead, "Short lead", support::Rfc3339FromNow(1200s));
  const json b = Task(http, long_lead, "Long lead", support::Rfc3339FromNow(1200s));
  ASSERT_TRUE(AwaitReminders(http, long_lead, b, 1));
  std::this_thread::sleep_for(kSomeJobRuns);
  EXPECT_TRUE(RemindersOf(http, short_lead, a).empty()) << "reminded before due_at - lead";
  EXPECT_TRUE(AllNotifications(http, short_lead.auth, "kind=task_due").size() == 0u);
  EXPECT_EQ(AllNotifications(http, long_lead.auth, "kind=task_due").size(), 1u);
}

// Two instances on one database, both running the job every second. Besides a few tasks made
// through either instance, a burst of 400 reminders becomes owed by one lead change, so that both
// instances' jobs find the same owed rows at once and must not both send one.
TEST(ReminderTwoInstancesTest, EachReminderFiresExactlyOnceAcrossInstances) {
  support::SmtpSink sink;
  support::ServerPair pair;
  support::StartServerPair(pair, support::MailEnv(sink, {{"IKIGAI_RATE_LIMITS", "off"}, {"IKIGAI_JOBS_INTERVAL", "1s"}}));
  Http a(*pair.a);
  Http b(*pair.b);
  auto user = support::NewApiUser(a, "remind_two");
  support::MarkVerifiedInDb(*pair.db, user.id);
  support::SetPrefs(a, user.auth, {{"reminder_lead_minutes", 5}});
  ASSERT_TRUE(support::WaitForOutboxDrained(*pair.db, user.who.email));
  const std::size_t baseline = support::MailTo(sink, user.who.email).size();
  std::set<std::string> ids;
  std::multiset<std::string> subjects;
  constexpr int kFew = 8;
  constexpr int kBurst = 400;
  for (int i = 0; i < kFew + kBurst; ++i) {
    const Http& via = i % 2 == 0 ? a : b;
    const std::string title = support::Numbered("Shared task ", i);
    // The few are due in two minutes (owed at once); the burst in half an hour (not yet).
    const auto due = support::Rfc3339FromNow(i < kFew ? 120s : 1800s);
    auto task = support::CreateTask(via, user, {{"title", title}, {"due_at", due}});
    ids.insert(task["id"].get<std::string>());
    subjects.insert("Due soon: " + title);
  }
  ASSERT_TRUE(support::WaitUntil([&] { return AllNotifications(b, user.auth, "kind=task_due").size() >= kFew; }, 15s, 100ms))
      << "not every task was reminded";
  // One lead change makes the whole burst owed at the same moment, for both instances.
  support::SetPrefs(b, user.auth, {{"reminder_lead_minutes", 60}});
  ASSERT_TRUE(support::WaitUntil(
      [&] { return AllNotifications(a, user.auth, "kind=task_due").size() >= static_cast<std::size_t>(kFew + kBurst); },
      30s, 200ms))
      << "not every task of the burst was reminded";
  std::this_thread::sleep_for(kSomeJobRuns);
  auto items = AllNotifications(a, user.auth, "kind=task_due");
  EXPECT_EQ(items.size(), static_cast<std::size_t>(kFew + kBurst)) << "a reminder fired more than once";
  std::multiset<std::string> reminded;
  for (const auto& item : items) reminded.insert(item["data"]["task_id"].get<std::string>());
  EXPECT_EQ(std::set<std::string>(reminded.begin(), reminded.end()), ids);
  for (const auto& id : ids) EXPECT_EQ(reminded.count(id), 1u) << "task " << id;
  // And one mail each.
  ASSERT_TRUE(support::WaitForOutboxDrained(*pair.db, user.who.email, 60s));
  std::multiset<std::string> mailed;
  const auto mails = support::MailTo(sink, user.who.email);
  for (std::size_t i = baseline; i < mails.size(); ++i) mailed.insert(mails[i].DecodedHeader("Subject"));
  EXPECT_EQ(mailed, subjects);
}

}  // namespace
}  // namespace ikigai
