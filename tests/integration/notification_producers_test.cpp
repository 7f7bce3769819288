// Issue #12 "Done means": each producer creates exactly the inbox rows and emails that the
// preferences allow, through the real SMTP sink (NOTIFY-DESIGN.md "Producers"). Security events
// (new-device sign-in, password changed and reset, email change, logout-all, an admin disabling
// the user, refresh-token reuse) always mail the account's address, verified or not, and make an
// inbox row unless in_app.security is false; task_due and announcement make a row unless
// in_app.<kind> is false and mail only a verified address unless email.<kind> is false.
//
// "Exactly" is checked after the outbox rows to the address are all sent (so the sink holds every
// mail queued for it), comparing the subjects that arrived after the action with the expected ones.
#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/email_message.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/jwt.hpp"
#include "support/mail_suite.hpp"
#include "support/notify_api.hpp"
#include "support/task_api.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::DirectDb;
using support::Headers;
using support::Http;
using support::NewCredentials;
using support::NotificationRows;
using support::TokenPair;

const std::string kPrefsPage = support::kPublicUrl + "/settings/notifications";

// A signed-in account of these tests.
struct Actor {
  Credentials who;
  TokenPair pair;
  Headers auth;
  std::string id;
};

class NotificationProducerTest : public support::MailSuite<NotificationProducerTest> {
 public:
  static std::map<std::string, std::string> ExtraEnv() {
    return {{"IKIGAI_JOBS_INTERVAL", "1s"}, {"IKIGAI_RATE_LIMITS", "off"}};
  }

 protected:
  // Registers (unverified address) and signs in once from kTestUserAgent.
  static Actor NewActor(const Http& http, std::string_view prefix) {
    Actor actor;
    actor.who = NewCredentials(prefix);
    actor.pair = support::RegisterAndLogin(http, actor.who);
    actor.auth = BearerHeaders(actor.pair.access_token);
    actor.id = actor.pair.user_id;
    return actor;
  }
  // Registers, proves the address through the mailed link, and signs in.
  static Actor NewVerifiedActor(const Http& http, std::string_view prefix) {
    Actor actor;
    actor.who = NewCredentials(prefix);
    auto [id, token] = RegisterAndAwaitVerification(http, actor.who);
    EXPECT_FALSE(token.empty());
    auto verified = http.Post("/api/v1/auth/email/verify", json{{"token", token}}.dump());
    EXPECT_EQ(verified.status, 204) << verified;
    actor.pair = support::LoginPair(http, actor.who);
    actor.auth = BearerHeaders(actor.pair.access_token);
    actor.id = actor.pair.user_id;
    return actor;
  }
  static Actor NewAdmin(const Http& http) {
    Actor admin = NewActor(http, "prod_admin");
    support::MakeAdminInDb(Db(), admin.id);
    return admin;
  }
  // Every subject mailed to `address` so far, once everything queued for it is sent.
  static std::vector<std::string> DrainedSubjects(const std::string& address) {
    EXPECT_TRUE(support::WaitForOutboxDrained(Db(), address)) << "the outbox to " << address << " did not drain";
    return support::SubjectsTo(Sink(), address);
  }
  static std::vector<std::string> After(const std::vector<std::string>& all, std::size_t baseline) {
    return {all.begin() + static_cast<std::ptrdiff_t>(std::min(baseline, all.size())), all.end()};
  }
  static std::size_t Count(const std::vector<std::string>& subjects, const std::string& subject) {
    return static_cast<std::size_t>(std::count(subjects.begin(), subjects.end(), subject));
  }
};

// ---------------------------------------------------------------------------------------------
// Security producers

struct SecurityCase {
  std::string name;
  std::string event;
  std::string by;  // "" when data has no "by"
  std::string title;
  // The subjects the account's address receives because of the action, in order.
  std::vector<std::string> subjects;
  std::function<void(NotificationProducerTest&, const Http&, Actor&)> act;
};

struct SecurityParam {
  SecurityCase c;
  bool in_app;
};

void PrintTo(const SecurityParam& p, std::ostream* out) {
  *out << p.c.name << (p.in_app ? " with in_app.security on" : " with in_app.security off");
}

class SecurityProducerTest : public NotificationProducerTest,
                             public ::testing::WithParamInterface<SecurityParam> {
 public:
  static std::map<std::string, std::string> ExtraEnv() { return NotificationProducerTest::ExtraEnv(); }
  // Exposed to the cases.
  using NotificationProducerTest::Db;
  using NotificationProducerTest::NewAdmin;
  using NotificationProducerTest::Sink;
};

void SignInFromANewDevice(NotificationProducerTest&, const Http& http, Actor& actor) {
  (void)support::LoginPair(http, actor.who, {{"User-Agent", "Another Browser/2.0 (new device)"}});
}

void ChangePassword(NotificationProducerTest&, const Http& http, Actor& actor) {
  const std::string next = actor.who.password + "-next";
  auto res = http.Post("/api/v1/me/password",
                       json{{"current_password", actor.who.password}, {"new_password", next}}.dump(), actor.auth);
  ASSERT_EQ(res.status, 204) << res;
  actor.who.password = next;
}

void ResetPassword(NotificationProducerTest&, const Http& http, Actor& actor) {
  ASSERT_EQ(http.Post("/api/v1/auth/password/forgot", json{{"email", actor.who.email}}.dump()).status, 202);
  auto& sink = SecurityProducerTest::Sink();
  const std::string token = support::AwaitToken(sink, actor.who.email, support::kResetPrefix);
  ASSERT_FALSE(token.empty());
  const std::string next = actor.who.password + "-reset";
  auto res = http.Post("/api/v1/auth/password/reset", json{{"token", token}, {"password", next}}.dump());
  ASSERT_EQ(res.status, 204) << res;
  actor.who.password = next;
}

void ChangeEmail(NotificationProducerTest&, const Http& http, Actor& actor) {
  auto res = http.Patch("/api/v1/me",
                        json{{"email", "moved_" + actor.who.email}, {"current_password", actor.who.password}}.dump(),
                        actor.auth);
  ASSERT_EQ(res.status, 200) << res;
}

void LogoutAll(NotificationProducerTest&, const Http& http, Actor& actor) {
  auto res = http.Post("/api/v1/auth/logout-all", "", actor.auth);
  ASSERT_EQ(res.status, 204) << res;
}

void AdminDisables(NotificationProducerTest&, const Http& http, Actor& actor) {
  Actor admin = SecurityProducerTest::NewAdmin(http);
  auto res = http.Patch("/api/v1/admin/users/" + actor.id, json{{"disabled", true}}.dump(), admin.auth);
  ASSERT_EQ(res.status, 200) << res;
}

void ReuseARefreshToken(NotificationProducerTest&, const Http& http, Actor& actor) {
  auto fresh = support::Refresh(http, actor.pair.refresh_token);
  ASSERT_EQ(fresh.status, 200) << fresh;
  // Past the 10 s grace of concurrent refreshes: showing it again is reuse.
  SecurityProducerTest::Db().Exec("UPDATE refresh_tokens SET spent_at = spent_at - 60000 WHERE token_hash = " +
                                  DirectDb::Quote(support::Sha256Hex(actor.pair.refresh_token)));
  auto reuse = support::Refresh(http, actor.pair.refresh_token);
  ASSERT_TRUE(support::IsUnauthorized(reuse)) << reuse;
}

std::vector<SecurityCase> SecurityCases() {
  return {
      {"NewDeviceSignIn", "new_sign_in", "", support::kNewSignInTitle, {support::kNewSignInTitle}, SignInFromANewDevice},
      {"PasswordChanged", "password_changed", "", support::kPasswordChangedTitle, {support::kPasswordChangedSubject},
       ChangePassword},
      {"PasswordReset", "password_reset", "", support::kPasswordChangedTitle,
       {"Reset your Ikigai password", support::kPasswordChangedSubject}, ResetPassword},
      {"EmailChange", "email_changed", "", support::kEmailChangedTitle, {support::kEmailChangedSubject}, ChangeEmail},
      {"LogoutAll", "sessions_revoked", "user", support::kSessionsRevokedTitle, {support::kSessionsRevokedTitle},
       LogoutAll},
      {"AdminDisablesTheUser", "sessions_revoked", "admin", support::kSessionsRevokedTitle,
       {support::kSessionsRevokedTitle}, AdminDisables},
      {"RefreshTokenReuse", "refresh_reused", "", support::kRefreshReusedTitle, {support::kRefreshReusedTitle},
       ReuseARefreshToken},
  };
}

std::vector<SecurityParam> SecurityParams() {
  std::vector<SecurityParam> out;
  for (const auto& c : SecurityCases()) {
    out.push_back({c, true});
    out.push_back({c, false});
  }
  return out;
}

TEST_P(SecurityProducerTest, MakesTheRowThePreferencesAllowAndAlwaysTheMail) {
  const auto& [c, in_app] = GetParam();
  Http http(Server());
  Actor actor = NewActor(http, "prod_sec");
  if (!in_app) {
    support::SetPrefs(http, actor.auth, {{"in_app", {{"security", false}}}});
  } else {
    // Other kinds' switches do not matter to security.
    support::SetPrefs(http, actor.auth,
                      {{"email", {{"task_due", false}, {"announcement", false}}},
                       {"in_app", {{"task_due", false}, {"announcement", false}}}});
  }
  const std::string address = actor.who.email;
  const auto baseline = DrainedSubjects(address).size();
  ASSERT_TRUE(NotificationRows(Db(), actor.id).empty()) << "the first sign-in of a fresh account notified";

  c.act(*this, http, actor);
  if (HasFatalFailure()) return;

  // Mail: always, to the (unverified) address, exactly the expected ones.
  ASSERT_TRUE(support::WaitUntil([&] { return support::SubjectsTo(Sink(), address).size() >= baseline + c.subjects.size(); },
                                 20s, 50ms))
      << "expected " << c.subjects.size() << " new mail(s) to " << address;
  EXPECT_EQ(After(DrainedSubjects(address), baseline), c.subjects);
  for (const auto& mail : support::MailTo(Sink(), address)) {
    EXPECT_EQ(mail.Text().find(kPrefsPage), std::string::npos) << "a security mail offers to unsubscribe: " << mail.Text();
  }
  // Inbox: one row unless in_app.security is off.
  auto rows = NotificationRows(Db(), actor.id);
  if (!in_app) {
    EXPECT_TRUE(rows.empty()) << json(rows).dump();
    return;
  }
  ASSERT_EQ(rows.size(), 1u) << json(rows).dump();
  const json& row = rows[0];
  EXPECT_EQ(row["kind"], "security");
  EXPECT_EQ(row["title"], c.title);
  ASSERT_TRUE(row["data"].is_object()) << row.dump();
  EXPECT_EQ(row["data"]["event"], c.event) << row.dump();
  if (!c.by.empty()) {
    EXPECT_EQ(row["data"]["by"], c.by) << row.dump();
  }
  if (c.event == "new_sign_in") {
    EXPECT_EQ(row["data"]["ip"], "127.0.0.1") << row.dump();
    EXPECT_EQ(row["data"]["user_agent"], "Another Browser/2.0 (new device)") << row.dump();
  }
  EXPECT_FALSE(row["read"].get<bool>());
  // No secret in the row.
  EXPECT_EQ(row.dump().find(actor.pair.refresh_token), std::string::npos);
  EXPECT_EQ(row.dump().find(actor.who.password), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(EveryProducer, SecurityProducerTest, ::testing::ValuesIn(SecurityParams()),
                         [](const ::testing::TestParamInfo<SecurityParam>& info) {
                           return info.param.c.name + (info.param.in_app ? "_InAppOn" : "_InAppOff");
                         });

// ---------------------------------------------------------------------------------------------
// Which sign-in is from a new device

TEST_F(NotificationProducerTest, OnlyASignInFromANewUserAgentNotifies) {
  Http http(Server());
  Actor actor = NewActor(http, "prod_devices");  // first sign-in: nothing
  const std::string address = actor.who.email;
  const auto baseline = DrainedSubjects(address).size();
  EXPECT_TRUE(NotificationRows(Db(), actor.id).empty()) << "the first sign-in of a fresh account notified";
  // The same agent and address again: nothing.
  (void)support::LoginPair(http, actor.who);
  EXPECT_TRUE(NotificationRows(Db(), actor.id).empty()) << "a second sign-in from the same device notified";
  // A new agent: one notification; again from it, or from the first one: nothing more.
  (void)support::LoginPair(http, actor.who, {{"User-Agent", "Phone Browser/9"}});
  (void)support::LoginPair(http, actor.who, {{"User-Agent", "Phone Browser/9"}});
  (void)support::LoginPair(http, actor.who);
  auto rows = NotificationRows(Db(), actor.id);
  ASSERT_EQ(rows.size(), 1u) << json(rows).dump();
  EXPECT_EQ(rows[0]["data"]["user_agent"], "Phone Browser/9");
  EXPECT_EQ(After(DrainedSubjects(address), baseline), std::vector<std::string>{support::kNewSignInTitle});
  // A third agent: one more.
  (void)support::LoginPair(http, actor.who, {{"User-Agent", "Tablet Browser/3"}});
  EXPECT_EQ(NotificationRows(Db(), actor.id).size(), 2u);
}

// A user agent of 8,000 bytes signs in like any other: the notice keeps
// what a session row keeps of it, so MariaDB's TEXT columns never refuse the row (a 500).
TEST_F(NotificationProducerTest, AHugeUserAgentSignsInAndIsCutInTheNotice) {
  Http http(Server());
  Actor actor = NewActor(http, "prod_huge_agent");
  const std::string agent(8000, 'A');
  (void)support::LoginPair(http, actor.who, {{"User-Agent", agent}});
  auto rows = NotificationRows(Db(), actor.id);
  ASSERT_EQ(rows.size(), 1u) << "the sign-in from a new (huge) agent did not notify";
  EXPECT_EQ(rows[0]["data"]["user_agent"], std::string(512, 'A'));
}

TEST_F(NotificationProducerTest, TheFirstSignInOfAnAccountOlderThanADayNotifies) {
  Http http(Server());
  auto who = NewCredentials("prod_old");
  auto reg = support::RegisterUser(http, who);
  ASSERT_EQ(reg.status, 201) << reg;
  const std::string id = reg.Json()["user"]["id"];
  // Created 25 hours ago (e.g. imported), never signed in.
  Db().Exec("UPDATE users SET created_at = created_at - 90000000 WHERE id = " + DirectDb::Quote(id));
  (void)support::LoginPair(http, who);
  auto rows = NotificationRows(Db(), id);
  ASSERT_EQ(rows.size(), 1u) << json(rows).dump();
  EXPECT_EQ(rows[0]["data"]["event"], "new_sign_in");
}

// ---------------------------------------------------------------------------------------------
// task_due and announcement: the four combinations of preferences and verification

struct Audience {
  Actor on;            // verified, everything on
  Actor no_email;      // verified, email.<kind> false
  Actor no_in_app;     // verified, in_app.<kind> false
  Actor unverified;    // everything on, address not proved
};

Audience NewAudience(const Http& http, const std::string& kind,
                     const std::function<Actor(const Http&, std::string_view)>& verified,
                     const std::function<Actor(const Http&, std::string_view)>& unverified) {
  Audience a{verified(http, "prod_on"), verified(http, "prod_noemail"), verified(http, "prod_noinapp"),
             unverified(http, "prod_unverified")};
  support::SetPrefs(http, a.no_email.auth, {{"email", {{kind, false}}}});
  support::SetPrefs(http, a.no_in_app.auth, {{"in_app", {{kind, false}}}});
  return a;
}

TEST_F(NotificationProducerTest, AnAnnouncementReachesExactlyWhatThePreferencesAllow) {
  Http http(Server());
  Actor admin = NewAdmin(http);
  auto audience = NewAudience(http, "announcement", NewVerifiedActor, NewActor);
  const std::vector<Actor*> all = {&audience.on, &audience.no_email, &audience.no_in_app, &audience.unverified};
  std::map<std::string, std::size_t> baseline;
  for (auto* actor : all) baseline[actor->who.email] = DrainedSubjects(actor->who.email).size();

  const std::string title = "Maintenance tonight " + audience.on.who.username;
  const std::string body = "The service pauses at 22:00 UTC <for> 5 minutes & comes back.";
  json ids = json::array();
  for (auto* actor : all) ids.push_back(actor->id);
  auto res = support::Broadcast(http, admin.auth, {{"title", title}, {"body", body}, {"user_ids", ids}});
  ASSERT_EQ(res.status, 202) << res;
  EXPECT_EQ(res.Json(), json({{"recipients", 4}}));

  // Rows for on, no_email and unverified.
  for (auto* actor : {&audience.on, &audience.no_email, &audience.unverified}) {
    auto items = support::WaitForNotifications(http, actor->auth, 1, "kind=announcement");
    ASSERT_EQ(items.size(), 1u) << actor->who.username;
    EXPECT_EQ(items[0]["title"], title);
    EXPECT_EQ(items[0]["body"], body);
    EXPECT_TRUE(items[0]["data"].is_object());
    EXPECT_TRUE(items[0]["read_at"].is_null());
  }
  // Mail for on and no_in_app (verified, email on).
  for (auto* actor : {&audience.on, &audience.no_in_app}) {
    auto mails = support::WaitForMailTo(Sink(), actor->who.email, 1, body.substr(0, 20));
    ASSERT_EQ(mails.size(), 1u) << "no announcement mail to " << actor->who.email;
    EXPECT_EQ(mails[0].DecodedHeader("Subject"), title);
    EXPECT_NE(mails[0].Text().find(body), std::string::npos) << mails[0].Text();
    EXPECT_NE(mails[0].Text().find(kPrefsPage), std::string::npos) << "no unsubscribe hint: " << mails[0].Text();
    EXPECT_NE(mails[0].Html().find(kPrefsPage), std::string::npos) << "no unsubscribe hint: " << mails[0].Html();
    EXPECT_NE(mails[0].Html().find("&lt;for&gt;"), std::string::npos) << "the body is not escaped in HTML";
  }
  // Exactly: after everything queued is sent.
  for (auto* actor : all) {
    const auto subjects = After(DrainedSubjects(actor->who.email), baseline[actor->who.email]);
    const std::size_t expected = (actor == &audience.on || actor == &audience.no_in_app) ? 1 : 0;
    EXPECT_EQ(Count(subjects, title), expected) << actor->who.username;
    EXPECT_EQ(subjects.size(), expected) << actor->who.username;
  }
  EXPECT_TRUE(support::OfKind(NotificationRows(Db(), audience.no_in_app.id), "announcement").empty())
      << "in_app.announcement false still made a row";
  for (auto* actor : {&audience.on, &audience.no_email, &audience.unverified}) {
    EXPECT_EQ(support::OfKind(NotificationRows(Db(), actor->id), "announcement").size(), 1u) << actor->who.username;
  }
}

TEST_F(NotificationProducerTest, ATaskDueReminderReachesExactlyWhatThePreferencesAllow) {
  Http http(Server());
  auto audience = NewAudience(http, "task_due", NewVerifiedActor, NewActor);
  const std::vector<Actor*> all = {&audience.on, &audience.no_email, &audience.no_in_app, &audience.unverified};
  std::map<std::string, std::size_t> baseline;
  for (auto* actor : all) baseline[actor->who.email] = DrainedSubjects(actor->who.email).size();

  // Each owns a task due in two minutes: within the default lead of an hour, so the next job run
  // (every second) reminds it.
  std::map<std::string, json> tasks;
  for (auto* actor : all) {
    auto res = http.Post("/api/v1/tasks",
                         json{{"title", "Essay of " + actor->who.username}, {"due_at", support::Rfc3339FromNow(120s)}}.dump(),
                         actor->auth);
    ASSERT_EQ(res.status, 201) << res;
    tasks[actor->id] = res.Json();
  }
  auto expect_row = [&](const Actor& actor, const json& item) {
    const json& task = tasks[actor.id];
    const std::string task_title = task["title"];
    EXPECT_EQ(item["kind"], "task_due");
    EXPECT_EQ(item["title"], "Due soon: " + task_title);
    EXPECT_EQ(item["body"], "\"" + task_title + "\" is due at " + task["due_at"].get<std::string>() + ".");
    EXPECT_EQ(item["data"]["task_id"], task["id"]) << item.dump();
    EXPECT_EQ(item["data"]["due_at"], task["due_at"]) << item.dump();
  };
  for (auto* actor : {&audience.on, &audience.no_email, &audience.unverified}) {
    auto items = support::WaitForNotifications(http, actor->auth, 1, "kind=task_due");
    ASSERT_EQ(items.size(), 1u) << "no reminder in the inbox of " << actor->who.username;
    expect_row(*actor, items[0]);
  }
  for (auto* actor : {&audience.on, &audience.no_in_app}) {
    const std::string subject = "Due soon: " + tasks[actor->id]["title"].get<std::string>();
    ASSERT_TRUE(support::WaitUntil(
        [&] {
          auto s = support::SubjectsTo(Sink(), actor->who.email);
          return std::find(s.begin(), s.end(), subject) != s.end();
        },
        20s, 50ms))
        << "no reminder mail to " << actor->who.email;
    auto mails = support::MailTo(Sink(), actor->who.email, kPrefsPage);
    ASSERT_FALSE(mails.empty()) << "the reminder mail has no unsubscribe hint";
    EXPECT_NE(mails.back().Text().find(tasks[actor->id]["title"].get<std::string>()), std::string::npos);
  }
  // A few more job runs: still exactly one of each.
  std::this_thread::sleep_for(3s);
  for (auto* actor : all) {
    const std::string subject = "Due soon: " + tasks[actor->id]["title"].get<std::string>();
    const auto subjects = After(DrainedSubjects(actor->who.email), baseline[actor->who.email]);
    const std::size_t expected = (actor == &audience.on || actor == &audience.no_in_app) ? 1 : 0;
    EXPECT_EQ(Count(subjects, subject), expected) << actor->who.username;
    EXPECT_EQ(subjects.size(), expected) << actor->who.username;
    const auto rows = support::OfKind(NotificationRows(Db(), actor->id), "task_due");
    EXPECT_EQ(rows.size(), actor == &audience.no_in_app ? 0u : 1u) << actor->who.username << ": " << json(rows).dump();
  }
}

}  // namespace
}  // namespace ikigai
