// The notification core on a real SQLite database with a fake clock: who gets an inbox row and
// an email by preference, reminders once per task and due time, the announcement fan-out, and the
// stream hub's delivery, dedupe, per-user cap and revocation.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>

#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "mail/outbox.hpp"
#include "notify/notification_service.hpp"
#include "notify/notifier.hpp"
#include "notify/reminders.hpp"
#include "notify/stream_hub.hpp"
#include "store/migrations.hpp"
#include "store/sessions.hpp"
#include "store/users.hpp"
#include "support/fake_clock.hpp"
#include "tasks/task_service.hpp"

namespace ikigai::notify {
namespace {

using std::chrono::minutes;

class RecordingOutput final : public StreamOutput {
 public:
  bool Send(std::string bytes) override {
    if (!open) return false;
    sent += bytes;
    return true;
  }
  void Close() override { open = false; }
  [[nodiscard]] bool IsOpen() const override { return open; }
  std::string sent;
  bool open = true;
};

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto i = text.find(what); i != std::string::npos; i = text.find(what, i + what.size())) ++n;
  return n;
}

class NotifyTest : public ::testing::Test {
 protected:
  NotifyTest() : db_(*store::ParseDatabaseUrl("sqlite::memory:"), store::DatabaseOptions{.pool_size = 1}) {
    EXPECT_TRUE(store::Migrate(db_, clock_));
    notifier_.AddChannel(&email_);
  }

  // Not inlined: inlined into a loop, GCC 12 reports a -Wrestrict false positive in the string appends.
  [[gnu::noinline]] store::UserRow AddUser(const std::string& name, bool verified = true, bool disabled = false) {
    store::UserRow u;
    u.id = core::NewId(clock_, random_);
    u.username = name;
    u.email = name;
    u.email.append("@example.com");
    u.display_name = name;
    u.password_hash = "x";
    u.email_verified = verified;
    u.disabled = disabled;
    u.created_at = u.updated_at = core::ToMillis(clock_.Now());
    EXPECT_TRUE(db_.Run([&](store::Connection& c) { return store::UserStore::Insert(c, u); }));
    return u;
  }

  std::string AddSession(const store::UserRow& u) {
    store::SessionRow s;
    s.id = core::NewId(clock_, random_);
    s.user_id = u.id;
    s.created_at = s.last_used_at = core::ToMillis(clock_.Now());
    s.expires_at = s.created_at + 3600'000;
    EXPECT_TRUE(db_.Run([&](store::Connection& c) -> core::Result<void> {
      store::SessionStore::Insert(c, s);
      return {};
    }));
    return s.id;
  }

  long long Scalar(const std::string& sql) {
    long long n = -1;
    EXPECT_TRUE(db_.Run([&](store::Connection& c) -> core::Result<void> {
      c.Sql() << sql, soci::into(n);
      return {};
    }));
    return n;
  }

  store::NotificationRow Send(const store::UserRow& u, Notice n) {
    auto row = db_.Transaction([&](store::Connection& c) -> core::Result<store::NotificationRow> {
      return notifier_.Notify(c, Recipient::Of(u), n);
    });
    EXPECT_TRUE(row);
    return *row;
  }

  support::FakeClock clock_;
  core::SodiumRandom random_;
  store::Database db_;
  mail::Outbox outbox_{clock_, random_};
  EmailChannel email_{outbox_, "https://app.example"};
  Notifier notifier_{clock_, random_};
  NotificationService service_{db_, notifier_, clock_, random_};
};

TEST_F(NotifyTest, InboxAndEmailFollowThePreferences) {
  const auto u = AddUser("ann");
  Send(u, {.kind = Kind::kAnnouncement, .title = "Hello", .body = "Text"});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM notifications"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'notify_announcement'"), 1);

  PreferencesPatch patch;
  patch.in_app[Index(Kind::kAnnouncement)] = false;
  patch.email[Index(Kind::kAnnouncement)] = false;
  ASSERT_TRUE(service_.UpdatePreferences(u.id, patch));
  const auto row = Send(u, {.kind = Kind::kAnnouncement, .title = "Hello again", .body = "Text"});
  EXPECT_TRUE(row.id.empty());
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM notifications"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox"), 1);

  // Security email cannot be switched off, and the in-app flag still decides the inbox row.
  PreferencesPatch off;
  off.email[Index(Kind::kSecurity)] = false;
  EXPECT_FALSE(service_.UpdatePreferences(u.id, off));
  Send(u, {.kind = Kind::kSecurity, .title = "New sign-in", .body = "From a browser"});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'notify_security'"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'security'"), 1);
}

TEST_F(NotifyTest, OnlySecurityMailGoesToAnUnprovedAddressAndWithoutOthersText) {
  const auto u = AddUser("bob", /*verified=*/false);
  Send(u, {.kind = Kind::kTaskDue, .title = "Due soon: x", .body = "x"});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox"), 0);
  Send(u, {.kind = Kind::kSecurity, .title = "New sign-in to your account", .body = "from EvilAgent/1.0"});
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'notify_security'"), 1);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox WHERE text_body LIKE '%EvilAgent%'"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM notifications"), 2);  // the inbox has both
}

TEST_F(NotifyTest, ReminderOncePerTaskAndDueTimeAndNeverOverdueOrDone) {
  const auto u = AddUser("cat");
  tasks::TaskService tasks(db_, clock_, random_);
  Reminders reminders(db_, notifier_, clock_, "https://app.example");
  const auto in = [&](minutes m) { return core::FormatRfc3339(clock_.Now() + m); };
  auto soon = tasks.Create(u.id, {.title = "Soon", .due_at = std::optional<std::string>(in(minutes(30)))}, {});
  ASSERT_TRUE(soon);
  auto later = tasks.Create(u.id, {.title = "Later", .due_at = std::optional<std::string>(in(minutes(90)))}, {});
  ASSERT_TRUE(later);
  auto done = tasks.Create(u.id, {.title = "Done", .status = std::string("done"),
                                  .due_at = std::optional<std::string>(in(minutes(10)))}, {});
  ASSERT_TRUE(done);
  EXPECT_EQ(reminders.RunOnce(), 1);  // only "Soon" is inside its 60-minute window
  EXPECT_EQ(reminders.RunOnce(), 0);  // once
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'task_due'"), 1);

  // Moving the due time re-arms; an unrelated change does not.
  ASSERT_TRUE(tasks.Update(u.id, soon->id, {.notes = std::string("more")}, std::nullopt, {}));
  EXPECT_EQ(reminders.RunOnce(), 0);
  ASSERT_TRUE(tasks.Update(u.id, soon->id, {.due_at = std::optional<std::string>(in(minutes(40)))}, std::nullopt, {}));
  EXPECT_EQ(reminders.RunOnce(), 1);

  // "Later" enters its window after 30 minutes, but the job did not run until it was overdue.
  clock_.Advance(minutes(120));
  EXPECT_EQ(reminders.RunOnce(), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM tasks WHERE remind_at IS NOT NULL"), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'task_due'"), 2);
}

TEST_F(NotifyTest, ALongerLeadReArmsPendingReminders) {
  const auto u = AddUser("dan");
  tasks::TaskService tasks(db_, clock_, random_);
  Reminders reminders(db_, notifier_, clock_, "https://app.example");
  ASSERT_TRUE(tasks.Create(u.id, {.title = "T", .due_at = std::optional<std::string>(
                                                   core::FormatRfc3339(clock_.Now() + minutes(120)))}, {}));
  EXPECT_EQ(reminders.RunOnce(), 0);
  PreferencesPatch patch;
  patch.reminder_lead_minutes = 180;
  ASSERT_TRUE(service_.UpdatePreferences(u.id, patch));
  EXPECT_EQ(reminders.RunOnce(), 1);
}

TEST_F(NotifyTest, FanOutReachesEveryEnabledRecipientOnceInBatches) {
  const auto admin = AddUser("admin");
  std::vector<store::UserRow> users;
  for (int i = 0; i < kFanOutBatch + 300; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "u%d", i);  // (not "u" + to_string: GCC 12 -Wrestrict false positive)
    users.push_back(AddUser(name, false));
  }
  AddUser("off", true, /*disabled=*/true);
  PreferencesPatch quiet;
  quiet.in_app[Index(Kind::kAnnouncement)] = false;
  ASSERT_TRUE(service_.UpdatePreferences(users[7].id, quiet));
  auto n = service_.Broadcast(admin.id, {.title = "Hi", .body = "All"}, {});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, kFanOutBatch + 301);  // admin + users; not the disabled one
  EXPECT_EQ(service_.FanOut(), kFanOutBatch + 300);  // all but the one who turned the inbox off
  EXPECT_EQ(service_.FanOut(), 0);
  EXPECT_EQ(Scalar("SELECT COUNT(DISTINCT user_id) FROM notifications"), kFanOutBatch + 300);
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM broadcasts WHERE done_at IS NOT NULL"), 1);
  // Only the verified admin gets the email.
  EXPECT_EQ(Scalar("SELECT COUNT(*) FROM mail_outbox WHERE kind = 'notify_announcement'"), 1);
}

TEST_F(NotifyTest, BroadcastRefusesUnknownIdsAndRoleWithIds) {
  const auto admin = AddUser("admin");
  EXPECT_FALSE(service_.Broadcast(admin.id, {.title = "Hi", .body = "x",
                                             .user_ids = std::vector<std::string>{core::NewId(clock_, random_)}}, {}));
  EXPECT_FALSE(service_.Broadcast(admin.id, {.title = "Hi", .body = "x", .role = std::string("user"),
                                             .user_ids = std::vector<std::string>{admin.id}}, {}));
  EXPECT_FALSE(service_.Broadcast(admin.id, {.title = "Hi\nthere", .body = "x"}, {}));
  auto one = service_.Broadcast(admin.id, {.title = "Hi", .body = "x", .user_ids = std::vector<std::string>{admin.id}}, {});
  ASSERT_TRUE(one);
  EXPECT_EQ(*one, 1);
}

TEST_F(NotifyTest, SmallestIdAtOrdersWithIdsOfThatMillisecond) {
  const auto id = core::NewId(clock_, random_);
  const long long now = core::ToMillis(clock_.Now());
  EXPECT_LE(SmallestIdAt(now), id);
  EXPECT_GT(SmallestIdAt(now + 1), id);
  EXPECT_TRUE(core::IsUuidText(SmallestIdAt(now)));
}

TEST_F(NotifyTest, HubDeliversEachNewNotificationOnceToTheRightStreams) {
  const auto ann = AddUser("ann");
  const auto bob = AddUser("bob");
  StreamHub hub(db_, clock_);
  auto a1 = std::make_shared<RecordingOutput>();
  auto b1 = std::make_shared<RecordingOutput>();
  const auto old = Send(ann, {.kind = Kind::kAnnouncement, .title = "Before", .body = "x"});
  clock_.Advance(std::chrono::milliseconds(5));
  hub.Add(a1, ann.id, AddSession(ann), "", {});
  hub.Add(b1, bob.id, AddSession(bob), "", {});
  const auto fresh = Send(ann, {.kind = Kind::kAnnouncement, .title = "After", .body = "x"});
  hub.PollOnce();
  hub.PollOnce();  // the overlap reads it again: still sent once
  std::string line = fresh.id;
  line.insert(0, "id: ");
  line += '\n';
  EXPECT_EQ(Count(a1->sent, line), 1U);
  EXPECT_EQ(Count(a1->sent, old.id), 0U);  // made before the stream opened
  EXPECT_EQ(Count(a1->sent, "event: notification\n"), 1U);
  EXPECT_TRUE(b1->sent.empty());
  EXPECT_EQ(hub.Open(), 2U);
}

TEST_F(NotifyTest, HubResumesAfterAnIdAndKeepsWhatWasReplayedOnce) {
  const auto ann = AddUser("ann");
  StreamHub hub(db_, clock_);
  const auto first = Send(ann, {.kind = Kind::kAnnouncement, .title = "1", .body = "x"});
  const auto second = Send(ann, {.kind = Kind::kAnnouncement, .title = "2", .body = "x"});
  auto out = std::make_shared<RecordingOutput>();
  hub.Add(out, ann.id, AddSession(ann), first.id, {second.id});  // second was replayed by the handler
  hub.PollOnce();
  EXPECT_EQ(Count(out->sent, second.id), 0U);
  EXPECT_EQ(Count(out->sent, first.id), 0U);
}

TEST_F(NotifyTest, HubClosesTheOldestBeyondFivePerUserAndEndsRevokedSessions) {
  const auto ann = AddUser("ann");
  StreamHub hub(db_, clock_);
  const auto session = AddSession(ann);
  std::vector<std::shared_ptr<RecordingOutput>> outs;
  for (int i = 0; i < 6; ++i) {
    outs.push_back(std::make_shared<RecordingOutput>());
    hub.Add(outs.back(), ann.id, session, "", {});
  }
  EXPECT_FALSE(outs[0]->open);
  EXPECT_TRUE(outs[1]->open);
  EXPECT_EQ(hub.Open(), 5U);
  ASSERT_TRUE(db_.Run([&](store::Connection& c) -> core::Result<void> {
    store::SessionStore::Revoke(c, session, ann.id, core::ToMillis(clock_.Now()));
    return {};
  }));
  hub.PollOnce();
  EXPECT_EQ(hub.Open(), 0U);
  for (const auto& o : outs) EXPECT_FALSE(o->open);
}

TEST_F(NotifyTest, HubSendsKeepAliveOnlyToIdleStreams) {
  const auto ann = AddUser("ann");
  StreamHub hub(db_, clock_, {.keep_alive = std::chrono::seconds(0)});
  auto out = std::make_shared<RecordingOutput>();
  hub.Add(out, ann.id, AddSession(ann), "", {});
  hub.PollOnce();
  EXPECT_EQ(out->sent, ": keep-alive\n\n");
}

}  // namespace
}  // namespace ikigai::notify
