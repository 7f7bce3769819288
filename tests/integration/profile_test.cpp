// API.md "Profile": PATCH /me (username, display name, an email change that waits for the link
// mailed to the new address while the old one is told at once), POST /me/password (other sessions
// end, a notice is mailed), DELETE /me (nothing of the account is left in any table, except one
// user.deleted event without personal data). Password confirmations count as failed logins.
// Every mail goes through the real SMTP sink.
#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mail_suite.hpp"
#include "support/task_api.hpp"
#include "support/text.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::DirectDb;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::NewCredentials;
using support::Response;
using support::kPublicUrl;

constexpr const char* kMe = "/api/v1/me";
constexpr const char* kPassword = "/api/v1/me/password";

Response PatchMe(const Http& http, const std::string& token, const json& body, Headers extra = {}) {
  return http.Patch(kMe, body.dump(), BearerHeaders(token, std::move(extra)));
}

Response ChangePassword(const Http& http, const std::string& token, const std::string& current,
                        const std::string& next, Headers extra = {}) {
  return http.Post(kPassword, json{{"current_password", current}, {"new_password", next}}.dump(),
                   BearerHeaders(token, std::move(extra)));
}

Response DeleteMe(const Http& http, const std::string& token, const json& body, Headers extra = {}) {
  return http.Delete(kMe, body.dump(), BearerHeaders(token, std::move(extra)));
}

Response CreateTask(const Http& http, const std::string& token, const json& task) {
  return http.Post("/api/v1/tasks", task.dump(), BearerHeaders(token));
}

long long Count(DirectDb& db, const std::string& sql) { return std::stoll(db.Scalar(sql).value_or("-1")); }

// The stored user row as the API shows it (GET /me is what a client would see).
json Me(const Http& http, const std::string& token) {
  auto res = support::GetMe(http, token);
  EXPECT_EQ(res.status, 200) << res;
  return res.status == 200 ? res.Json() : json{};
}

// The activity rows of one request: (action, data), oldest first.
std::vector<std::pair<std::string, json>> EventsOf(DirectDb& db, const std::string& request_id) {
  std::vector<std::pair<std::string, json>> out;
  for (auto& row : db.Query("SELECT action, data FROM activity WHERE request_id = " + DirectDb::Quote(request_id) +
                            " ORDER BY at, id")) {
    out.emplace_back(row[0].value_or(""), json::parse(row[1].value_or("{}")));
  }
  return out;
}

// The one event of `action` made by request `request_id`; fails the test when there is not one.
json EventData(DirectDb& db, const std::string& request_id, const std::string& action) {
  json found;
  int n = 0;
  for (auto& [a, data] : EventsOf(db, request_id)) {
    if (a == action) {
      found = data;
      ++n;
    }
  }
  EXPECT_EQ(n, 1) << "expected one " << action << " event for request " << request_id;
  return found;
}

bool HasPendingEmail(DirectDb& db, const std::string& user_id) {
  return Count(db, "SELECT COUNT(*) FROM users WHERE pending_email IS NOT NULL AND id = " + DirectDb::Quote(user_id)) > 0;
}

Headers RequestId(const std::string& id) { return {{"X-Request-Id", id}}; }

class ProfileTest : public support::MailSuite<ProfileTest> {};

// ---------------------------------------------------------------------------------------------
// PATCH /me

TEST_F(ProfileTest, ChangesUsernameAndDisplayName) {
  Http http(Server());
  auto who = NewCredentials("prof_names");
  auto pair = support::RegisterAndLogin(http, who);
  const json before = Me(http, pair.access_token);
  const std::string new_name = who.username + "x";

  auto res = PatchMe(http, pair.access_token, {{"username", new_name}, {"display_name", "Zoë 🌸 Q"}},
                     RequestId("prof-names"));
  ASSERT_EQ(res.status, 200) << res;
  const json user = res.Json();
  EXPECT_EQ(user["username"], new_name);
  EXPECT_EQ(user["display_name"], "Zoë 🌸 Q");
  EXPECT_EQ(user["email"], who.email);
  EXPECT_EQ(user["id"], before["id"]);
  EXPECT_EQ(user["created_at"], before["created_at"]);
  EXPECT_FALSE(user.contains("password_hash"));
  EXPECT_EQ(Me(http, pair.access_token), user);

  const json data = EventData(Db(), "prof-names", "user.updated");
  EXPECT_EQ(data["fields"], json({"username", "display_name"}));
  // The new username signs in; the old one is nobody's.
  EXPECT_EQ(support::Login(http, "username", new_name, who.password).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, who.password), "invalid_credentials"));
}

TEST_F(ProfileTest, OwnUsernameInAnotherCaseIsAllowed) {
  Http http(Server());
  auto who = NewCredentials("prof_case");
  auto pair = support::RegisterAndLogin(http, who);
  const std::string upper = support::UpperAscii(who.username);
  auto res = PatchMe(http, pair.access_token, {{"username", upper}});
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.Json()["username"], upper);
}

TEST_F(ProfileTest, AnotherAccountsUsernameIs409AndNothingChanges) {
  Http http(Server());
  auto who = NewCredentials("prof_taken");
  auto other = NewCredentials("prof_owner");
  auto pair = support::RegisterAndLogin(http, who);
  ASSERT_EQ(support::RegisterUser(http, other).status, 201);
  const std::string upper = support::UpperAscii(other.username);
  const json before = Me(http, pair.access_token);

  auto res = PatchMe(http, pair.access_token, {{"username", upper}, {"display_name", "Changed"}});
  EXPECT_TRUE(IsProblem(res, 409, "conflict")) << res;
  EXPECT_EQ(res.Json()["errors"]["username"], "is already taken") << res;
  EXPECT_EQ(Me(http, pair.access_token), before);
}

TEST_F(ProfileTest, FieldRulesAre422WithEveryFieldAndNothingChanges) {
  Http http(Server());
  auto who = NewCredentials("prof_rules");
  auto pair = support::RegisterAndLogin(http, who);
  const json before = Me(http, pair.access_token);

  auto res = PatchMe(http, pair.access_token,
                     {{"username", "a b"}, {"display_name", std::string(65, 'x')}, {"email", "not-an-address"}});
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << res;
  const json errors = res.Json()["errors"];
  EXPECT_TRUE(errors.contains("username")) << res;
  EXPECT_TRUE(errors.contains("display_name")) << res;
  EXPECT_TRUE(errors.contains("email")) << res;

  for (const json& body : {json{{"username", "ab"}}, json{{"username", std::string(33, 'a')}},
                           json{{"display_name", "tab\there"}}, json{{"display_name", 42}},
                           json{{"username", nullptr}}, json{{"email", json::array()}}}) {
    auto r = PatchMe(http, pair.access_token, body);
    EXPECT_TRUE(IsProblem(r, 422, "validation_failed")) << body.dump() << " -> " << r;
    EXPECT_TRUE(r.Json()["errors"].contains(body.begin().key())) << r;
  }
  EXPECT_EQ(Me(http, pair.access_token), before);
}

TEST_F(ProfileTest, ServerOwnedAndUnknownFieldsAre422AndNothingChanges) {
  Http http(Server());
  auto who = NewCredentials("prof_owned");
  auto pair = support::RegisterAndLogin(http, who);
  const json before = Me(http, pair.access_token);

  const std::vector<std::pair<std::string, json>> refused = {
      {"role", "admin"},        {"id", "0193aaaa-0000-7000-8000-000000000000"},
      {"email_verified", true}, {"disabled", false},
      {"created_at", "2020-01-01T00:00:00Z"}, {"updated_at", "2020-01-01T00:00:00Z"},
      {"password", "Another-pass-123"},       {"is_admin", true}};
  for (const auto& [field, value] : refused) {
    // Alongside a valid change, so that a half-applied request would show.
    auto res = PatchMe(http, pair.access_token, {{"display_name", "Sneaky"}, {field, value}});
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << field << " -> " << res;
    EXPECT_TRUE(res.Json()["errors"].contains(field)) << res;
  }
  EXPECT_EQ(Me(http, pair.access_token), before);
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM users WHERE role = 'admin' AND id = " +
                            DirectDb::Quote(pair.user_id)),
            0);
}

TEST_F(ProfileTest, EmptyOrUnchangedPatchChangesNothing) {
  Http http(Server());
  auto who = NewCredentials("prof_same");
  auto pair = support::RegisterAndLogin(http, who);
  const json before = Me(http, pair.access_token);
  for (const json& body : {json::object(), json{{"username", who.username}, {"display_name", before["display_name"]}}}) {
    auto res = PatchMe(http, pair.access_token, body, RequestId("prof-same"));
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.Json(), before);
  }
  EXPECT_TRUE(EventsOf(Db(), "prof-same").empty());
  // An empty body counts as {}.
  auto empty = http.Patch(kMe, "", BearerHeaders(pair.access_token, {{"Content-Type", "application/json"}}));
  EXPECT_EQ(empty.status, 200) << empty;
}

TEST_F(ProfileTest, NeedsAValidAccessToken) {
  Http http(Server());
  EXPECT_TRUE(IsUnauthorized(http.Patch(kMe, R"({"display_name":"x"})")));
  EXPECT_TRUE(IsUnauthorized(http.Post(kPassword, R"({"current_password":"a","new_password":"b"})")));
  EXPECT_TRUE(IsUnauthorized(http.Delete(kMe, R"({"password":"a"})")));
}

// ---------------------------------------------------------------------------------------------
// Changing the email address

TEST_F(ProfileTest, EmailChangeRoundTripThroughRealMail) {
  Http http(Server());
  auto who = NewCredentials("prof_mail");
  auto [user_id, first_verify] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(first_verify.empty());
  // A proved old address: its notice names the new one (an unproved one would not be told it).
  ASSERT_EQ(http.Post("/api/v1/auth/email/verify", json{{"token", first_verify}}.dump()).status, 204);
  auto pair = support::LoginPair(http, who);
  const std::string new_email = "moved_" + who.username + "@example.org";

  auto res = PatchMe(http, pair.access_token, {{"email", new_email}, {"current_password", who.password}},
                     RequestId("prof-mail.patch"));
  ASSERT_EQ(res.status, 200) << res;
  // Pending: the account keeps its address until the new one is proven.
  EXPECT_EQ(res.Json()["email"], who.email);
  EXPECT_EQ(Me(http, pair.access_token)["email"], who.email);
  const json data = EventData(Db(), "prof-mail.patch", "user.updated");
  EXPECT_EQ(data["fields"], json({"email"}));
  EXPECT_EQ(data["email_pending"], true);
  EXPECT_EQ(data.dump().find(new_email), std::string::npos) << data;
  EXPECT_EQ(data.dump().find(who.password), std::string::npos) << data;

  // The old address hears of it at once, naming the new one.
  auto notices = support::WaitForMailTo(Sink(), who.email, 1, kPublicUrl + "/forgot-password");
  ASSERT_EQ(notices.size(), 1u) << "no change notice reached the old address";
  EXPECT_NE(notices[0].Text().find(new_email), std::string::npos) << notices[0].Text();
  EXPECT_NE(notices[0].DecodedHeader("Subject").find("email address"), std::string::npos)
      << notices[0].DecodedHeader("Subject");
  // The new address gets the link; the new address cannot sign in before it is used.
  const std::string token = support::AwaitToken(Sink(), new_email, support::kVerifyPrefix);
  ASSERT_FALSE(token.empty());
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "email", new_email, who.password), "invalid_credentials"));

  auto verify = http.Post("/api/v1/auth/email/verify", json{{"token", token}}.dump(), RequestId("prof-mail.verify"));
  ASSERT_EQ(verify.status, 204) << verify;
  const json after = Me(http, pair.access_token);
  EXPECT_EQ(after["email"], new_email);
  EXPECT_EQ(after["email_verified"], true);
  EXPECT_EQ(EventData(Db(), "prof-mail.verify", "user.email_changed")["fields"], json({"email"}));
  EXPECT_EQ(support::Login(http, "email", new_email, who.password).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "email", who.email, who.password), "invalid_credentials"));
  // The link is spent, and the old registration link no longer verifies anything.
  EXPECT_TRUE(IsProblem(http.Post("/api/v1/auth/email/verify", json{{"token", token}}.dump()), 400, "invalid_token"));
  EXPECT_TRUE(
      IsProblem(http.Post("/api/v1/auth/email/verify", json{{"token", first_verify}}.dump()), 400, "invalid_token"));
}

TEST_F(ProfileTest, FourthEmailChangeWithinAnHourIs429AndChangesNothing) {
  // email_change_account (default 3 per hour): every change mails a link to an address nobody has
  // proved, so a signed-in account cannot aim them at a mailbox again and again.
  Http http(Server());
  auto who = NewCredentials("prof_bomb");
  auto barrier = NewCredentials("prof_bomb_barrier");
  auto [user_id, first_verify] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(first_verify.empty());
  auto pair = support::LoginPair(http, who);
  const std::string victim = "victim_" + who.username + "@example.org";
  for (int i = 1; i <= 3; ++i) {
    auto res = PatchMe(http, pair.access_token, {{"email", victim}, {"current_password", who.password}});
    EXPECT_EQ(res.status, 200) << "change " << i << " of 3 allowed: " << res;
  }
  ASSERT_EQ(support::AwaitTokens(Sink(), victim, support::kVerifyPrefix, 3).size(), 3u);
  // The 4th: 429 before anything else, the display name in the same request not applied.
  auto fourth = PatchMe(http, pair.access_token,
                        {{"email", victim}, {"current_password", who.password}, {"display_name", "Changed"}});
  EXPECT_TRUE(support::IsRateLimited(fourth, 3600)) << fourth;
  EXPECT_NE(Me(http, pair.access_token)["display_name"], "Changed");
  // Also to another address, and before field errors (API.md's order: 429, then 422).
  auto other = PatchMe(http, pair.access_token,
                       {{"email", "other_" + victim}, {"current_password", who.password}, {"username", "x"}});
  EXPECT_TRUE(support::IsRateLimited(other, 3600)) << other;
  // What does not send a link to a new address is not limited.
  EXPECT_EQ(PatchMe(http, pair.access_token, {{"display_name", "Still Fine"}}).status, 200);
  EXPECT_EQ(PatchMe(http, pair.access_token, {{"email", who.email}}).status, 200);
  // Barrier: a later mail to another account has arrived, so a 4th link to `victim` would have too.
  (void)RegisterAndAwaitVerification(http, barrier);
  EXPECT_EQ(support::MailTo(Sink(), victim, support::kVerifyPrefix).size(), 3u) << "the 4th change sent a mail";
  EXPECT_TRUE(support::MailTo(Sink(), "other_" + victim, support::kVerifyPrefix).empty());
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'email_changed' AND to_address = " +
                            DirectDb::Quote(who.email)),
            3)
      << "one notice to the old address per accepted change";
}

TEST_F(ProfileTest, EmailChangeNeedsTheCurrentPassword) {
  Http http(Server());
  auto who = NewCredentials("prof_mailpw");
  auto pair = support::RegisterAndLogin(http, who);
  const std::string new_email = "x_" + who.email;

  auto missing = PatchMe(http, pair.access_token, {{"email", new_email}});
  ASSERT_TRUE(IsProblem(missing, 422, "validation_failed")) << missing;
  EXPECT_TRUE(missing.Json()["errors"].contains("current_password")) << missing;

  auto wrong = PatchMe(http, pair.access_token, {{"email", new_email}, {"current_password", "Wrong-password-1"}},
                       RequestId("prof-mailpw.wrong"));
  ASSERT_TRUE(IsProblem(wrong, 422, "validation_failed")) << wrong;
  EXPECT_EQ(wrong.Json()["errors"]["current_password"], "is incorrect") << wrong;
  // It counts as a failed login of the account.
  EXPECT_EQ(EventsOf(Db(), "prof-mailpw.wrong").size(), 1u);
  EXPECT_EQ(EventsOf(Db(), "prof-mailpw.wrong").at(0).first, "auth.login_failed");
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM login_attempts WHERE bucket = 'login_account' AND subject = " +
                            DirectDb::Quote("user:" + pair.user_id)),
            1);
  EXPECT_FALSE(HasPendingEmail(Db(), pair.user_id));
  EXPECT_TRUE(support::MailTo(Sink(), new_email).empty());
  // A wrong password also blocks the other changes of the same request.
  auto names = PatchMe(http, pair.access_token, {{"display_name", "New"}, {"current_password", "Wrong-password-1"}});
  EXPECT_TRUE(IsProblem(names, 422, "validation_failed")) << names;
  EXPECT_EQ(Me(http, pair.access_token)["display_name"], who.username);
}

TEST_F(ProfileTest, CurrentAddressInAnyCaseChangesNothing) {
  Http http(Server());
  auto who = NewCredentials("prof_mailsame");
  auto pair = support::RegisterAndLogin(http, who);
  const std::string upper = support::UpperAscii(who.email);
  for (const std::string& email : {who.email, upper}) {
    auto res = PatchMe(http, pair.access_token, {{"email", email}}, RequestId("prof-mailsame"));
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.Json()["email"], who.email);
  }
  EXPECT_TRUE(EventsOf(Db(), "prof-mailsame").empty());
  EXPECT_FALSE(HasPendingEmail(Db(), pair.user_id));
}

TEST_F(ProfileTest, AnAddressOfAnotherAccountIs409) {
  Http http(Server());
  auto who = NewCredentials("prof_mailtaken");
  auto other = NewCredentials("prof_mailowner");
  auto pair = support::RegisterAndLogin(http, who);
  ASSERT_EQ(support::RegisterUser(http, other).status, 201);
  const std::string upper = support::UpperAscii(other.email);
  auto res = PatchMe(http, pair.access_token, {{"email", upper}, {"current_password", who.password}});
  EXPECT_TRUE(IsProblem(res, 409, "conflict")) << res;
  EXPECT_EQ(res.Json()["errors"]["email"], "is already taken") << res;
  EXPECT_FALSE(HasPendingEmail(Db(), pair.user_id));
}

TEST_F(ProfileTest, APendingAddressTakenMeanwhileLosesAtVerification) {
  Http http(Server());
  auto who = NewCredentials("prof_race");
  auto pair = support::RegisterAndLogin(http, who);
  Credentials rival = NewCredentials("prof_rival");
  rival.email = "contested_" + who.username + "@example.org";

  auto res = PatchMe(http, pair.access_token, {{"email", rival.email}, {"current_password", who.password}});
  ASSERT_EQ(res.status, 200) << res;
  const std::string token = support::AwaitToken(Sink(), rival.email, support::kVerifyPrefix);
  ASSERT_FALSE(token.empty());
  // Someone registers the address before the link is used.
  ASSERT_EQ(support::RegisterUser(http, rival).status, 201);

  auto verify = http.Post("/api/v1/auth/email/verify", json{{"token", token}}.dump());
  EXPECT_TRUE(IsProblem(verify, 409, "conflict")) << verify;
  EXPECT_EQ(Me(http, pair.access_token)["email"], who.email);
  EXPECT_EQ(support::Login(http, "email", rival.email, rival.password).status, 200);
}

// The owner's answer to an unexpected "email changed" notice: a password change or reset. Either
// cancels the pending address, and its link no longer moves the account.
TEST_F(ProfileTest, APasswordChangeOrResetCancelsAPendingAddress) {
  Http http(Server());
  for (const bool by_reset : {false, true}) {
    auto who = NewCredentials(by_reset ? "prof_cancel_r" : "prof_cancel_c");
    auto pair = support::RegisterAndLogin(http, who);
    const std::string attacker = "attacker_" + who.username + "@example.org";
    ASSERT_EQ(PatchMe(http, pair.access_token, {{"email", attacker}, {"current_password", who.password}}).status, 200);
    const std::string link = support::AwaitToken(Sink(), attacker, support::kVerifyPrefix);
    ASSERT_FALSE(link.empty());
    const std::string fresh = "Fresh-pass-" + who.username;
    if (by_reset) {
      ASSERT_EQ(http.Post("/api/v1/auth/password/forgot", json{{"email", who.email}}.dump()).status, 202);
      const std::string reset = support::AwaitToken(Sink(), who.email, support::kResetPrefix);
      ASSERT_FALSE(reset.empty());
      auto done = http.Post("/api/v1/auth/password/reset", json{{"token", reset}, {"password", fresh}}.dump());
      ASSERT_EQ(done.status, 204) << done;
    } else {
      ASSERT_EQ(ChangePassword(http, pair.access_token, who.password, fresh).status, 204);
    }
    EXPECT_FALSE(HasPendingEmail(Db(), pair.user_id));
    auto verify = http.Post("/api/v1/auth/email/verify", json{{"token", link}}.dump());
    EXPECT_TRUE(IsProblem(verify, 400, "invalid_token")) << verify;
    EXPECT_EQ(support::Login(http, "email", who.email, fresh).status, 200) << (by_reset ? "reset" : "change");
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "email", attacker, fresh), "invalid_credentials"));
  }
}

TEST_F(ProfileTest, ANewerAddressReplacesThePendingOne) {
  Http http(Server());
  auto who = NewCredentials("prof_twice");
  auto pair = support::RegisterAndLogin(http, who);
  const std::string first = "first_" + who.username + "@example.org";
  const std::string second = "second_" + who.username + "@example.org";
  ASSERT_EQ(PatchMe(http, pair.access_token, {{"email", first}, {"current_password", who.password}}).status, 200);
  const std::string first_link = support::AwaitToken(Sink(), first, support::kVerifyPrefix);
  ASSERT_EQ(PatchMe(http, pair.access_token, {{"email", second}, {"current_password", who.password}}).status, 200);
  const std::string second_link = support::AwaitToken(Sink(), second, support::kVerifyPrefix);
  EXPECT_TRUE(IsProblem(http.Post("/api/v1/auth/email/verify", json{{"token", first_link}}.dump()), 400,
                        "invalid_token"));
  ASSERT_EQ(http.Post("/api/v1/auth/email/verify", json{{"token", second_link}}.dump()).status, 204);
  EXPECT_EQ(Me(http, pair.access_token)["email"], second);
}

TEST_F(ProfileTest, AnEmptyCurrentPasswordIs422) {
  Http http(Server());
  auto who = NewCredentials("prof_emptypw");
  auto pair = support::RegisterAndLogin(http, who);
  auto res = PatchMe(http, pair.access_token, {{"display_name", "X"}, {"current_password", ""}});
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << res;
  EXPECT_EQ(res.Json()["errors"]["current_password"], "must not be empty");
  EXPECT_EQ(Me(http, pair.access_token)["display_name"], who.username);
}

// ---------------------------------------------------------------------------------------------
// POST /me/password

TEST_F(ProfileTest, PasswordChangeEndsEveryOtherSessionAndMailsANotice) {
  Http http(Server());
  auto who = NewCredentials("prof_pw");
  auto current = support::RegisterAndLogin(http, who);
  auto other = support::LoginPair(http, who);
  const std::string next = "Fresh-pass-" + who.username;

  auto res = ChangePassword(http, current.access_token, who.password, next, RequestId("prof-pw"));
  ASSERT_EQ(res.status, 204) << res;
  EXPECT_TRUE(res.body.empty());
  // This session goes on; the other one ends at once, refresh token included.
  EXPECT_EQ(support::GetMe(http, current.access_token).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, other.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, other.refresh_token)));
  EXPECT_EQ(support::Refresh(http, current.refresh_token).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, who.password), "invalid_credentials"));
  EXPECT_EQ(support::Login(http, "username", who.username, next).status, 200);

  const json data = EventData(Db(), "prof-pw", "user.password_changed");
  EXPECT_EQ(data["sessions_revoked"], 1);
  EXPECT_EQ(data.dump().find(next), std::string::npos);
  EXPECT_EQ(data.dump().find(who.password), std::string::npos);
  auto mails = support::WaitForMailTo(Sink(), who.email, 1, kPublicUrl + "/forgot-password");
  ASSERT_EQ(mails.size(), 1u) << "no password-changed notice";
  EXPECT_NE(mails[0].DecodedHeader("Subject").find("password"), std::string::npos);
  EXPECT_EQ(mails[0].raw.find(next), std::string::npos) << "the new password was mailed";
}

TEST_F(ProfileTest, WrongCurrentPasswordIs422AndCountsAsAFailedLogin) {
  Http http(Server());
  auto who = NewCredentials("prof_pwwrong");
  auto pair = support::RegisterAndLogin(http, who);
  auto other = support::LoginPair(http, who);

  auto res = ChangePassword(http, pair.access_token, "Not-the-password-9", "Fresh-pass-123456",
                            RequestId("prof-pwwrong"));
  ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << res;
  EXPECT_EQ(res.Json()["errors"]["current_password"], "is incorrect");
  EXPECT_EQ(EventData(Db(), "prof-pwwrong", "auth.login_failed")["fields"], nullptr);
  // A wrong current password is reported (and counted) even when the new one is weak too.
  auto both = ChangePassword(http, pair.access_token, "Not-the-password-9", "short");
  ASSERT_TRUE(IsProblem(both, 422, "validation_failed")) << both;
  EXPECT_EQ(both.Json()["errors"]["current_password"], "is incorrect");
  // Nothing changed: the old password signs in, the other session lives.
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
  EXPECT_EQ(support::GetMe(http, other.access_token).status, 200);
}

TEST_F(ProfileTest, NewPasswordFollowsThePolicy) {
  Http http(Server());
  auto who = NewCredentials("prof_pwpolicy");
  auto pair = support::RegisterAndLogin(http, who);
  for (const std::string& weak : {std::string("short1"), std::string("qwertyuiop"), who.username, who.email,
                                  std::string(257, 'x'), who.password}) {
    auto res = ChangePassword(http, pair.access_token, who.password, weak);
    ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << weak << " -> " << res;
    EXPECT_TRUE(res.Json()["errors"].contains("new_password")) << res;
  }
  auto missing = http.Post(kPassword, "{}", BearerHeaders(pair.access_token));
  ASSERT_TRUE(IsProblem(missing, 422, "validation_failed")) << missing;
  EXPECT_TRUE(missing.Json()["errors"].contains("current_password"));
  EXPECT_TRUE(missing.Json()["errors"].contains("new_password"));
  auto extra = http.Post(kPassword,
                         json{{"current_password", who.password}, {"new_password", "Fresh-pass-77777"}, {"x", 1}}.dump(),
                         BearerHeaders(pair.access_token));
  EXPECT_TRUE(IsProblem(extra, 422, "validation_failed")) << extra;
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
}

// ---------------------------------------------------------------------------------------------
// DELETE /me

// Every table of the database, read from the database itself, so a table added later is covered.
std::vector<std::string> AllTables(DirectDb& db) {
  std::vector<std::string> tables;
  const std::string sql =
      db.IsMysql() ? "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
                   : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
  for (auto& row : db.Query(sql)) tables.push_back(row[0].value_or(""));
  return tables;
}

// "table: row" for every row of every table holding one of `needles` (compared lowercased).
std::vector<std::string> RowsMentioning(DirectDb& db, const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  for (const auto& table : AllTables(db)) {
    for (auto& row : db.Query("SELECT * FROM " + table)) {
      std::string text;
      for (auto& value : row) text += value.value_or("NULL") + " | ";
      const std::string lowered = support::LowerAscii(text);
      for (const auto& needle : needles) {
        if (lowered.find(support::LowerAscii(needle)) != std::string::npos) {
          found.push_back(table + ": " + text);
          break;
        }
      }
    }
  }
  return found;
}

TEST_F(ProfileTest, DeletingTheAccountLeavesNoRowOfItInAnyTable) {
  Http http(Server());
  auto gone = NewCredentials("gone");
  auto kept = NewCredentials("kept");
  auto pair = support::RegisterAndLogin(http, gone);
  auto second = support::LoginPair(http, gone);
  auto keeper = support::RegisterAndLogin(http, kept);
  // Something in every kind of table: tasks with tags, the map, a pending address change (a
  // token and mail), failed confirmations (rate events, activity), a spent refresh token.
  for (int i = 0; i < 3; ++i) {
    auto task = CreateTask(http, pair.access_token, {{"title", support::Numbered("mine ", i)}, {"tags", {"a", "b"}}});
    ASSERT_EQ(task.status, 201) << task;
  }
  ASSERT_EQ(CreateTask(http, keeper.access_token, {{"title", "theirs"}, {"tags", {"a"}}}).status, 201);
  ASSERT_EQ(http.Put("/api/v1/ikigai", json{{"love", {"tea"}}, {"statement", "mine"}}.dump(),
                     BearerHeaders(pair.access_token))
                .status,
            200);
  const std::string pending = "pending_" + gone.username + "@example.org";
  ASSERT_EQ(PatchMe(http, pair.access_token, {{"email", pending}, {"current_password", gone.password}}).status, 200);
  ASSERT_EQ(PatchMe(http, pair.access_token, {{"display_name", "x"}, {"current_password", "Wrong-password-1"}}).status,
            422);
  ASSERT_EQ(support::Refresh(http, second.refresh_token).status, 200);
  ASSERT_TRUE(IsUnauthorized(support::Login(http, "email", gone.email, "Wrong-password-2"), "invalid_credentials"));
  const long long kept_tasks = Count(Db(), "SELECT COUNT(*) FROM tasks WHERE user_id = " + DirectDb::Quote(keeper.user_id));
  const std::vector<std::string> needles = {pair.user_id, gone.username, gone.email, pending};
  ASSERT_FALSE(RowsMentioning(Db(), needles).empty());

  auto res = DeleteMe(http, pair.access_token, {{"password", gone.password}}, RequestId("gone.delete"));
  ASSERT_EQ(res.status, 204) << res;

  // The only trace is the user.deleted event: the id, and no address, agent or personal data.
  const auto rows = RowsMentioning(Db(), needles);
  ASSERT_EQ(rows.size(), 1u) << ::testing::PrintToString(rows);
  auto events = Db().Query("SELECT action, actor_id, target_id, ip, user_agent, data FROM activity WHERE target_id = " +
                           DirectDb::Quote(pair.user_id));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0][0], "user.deleted");
  EXPECT_EQ(events[0][3].value_or(""), "");
  EXPECT_EQ(events[0][4].value_or(""), "");
  EXPECT_EQ(events[0][5].value_or(""), "{}");
  // Signed out everywhere, and nobody by that name any more (this attempt is counted as one
  // for an unknown name, hence after the check above).
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, second.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", gone.username, gone.password), "invalid_credentials"));
  // The other account keeps everything.
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM tasks WHERE user_id = " + DirectDb::Quote(keeper.user_id)), kept_tasks);
  EXPECT_EQ(support::GetMe(http, keeper.access_token).status, 200);
  EXPECT_EQ(support::Login(http, "username", kept.username, kept.password).status, 200);
  // The name is free again.
  EXPECT_EQ(support::RegisterUser(http, gone).status, 201);
}

TEST_F(ProfileTest, DeletingNeedsTheRightPassword) {
  Http http(Server());
  auto who = NewCredentials("prof_delpw");
  auto pair = support::RegisterAndLogin(http, who);
  auto wrong = DeleteMe(http, pair.access_token, {{"password", "Wrong-password-3"}}, RequestId("prof-delpw"));
  ASSERT_TRUE(IsProblem(wrong, 422, "validation_failed")) << wrong;
  EXPECT_EQ(wrong.Json()["errors"]["password"], "is incorrect");
  EXPECT_EQ(EventData(Db(), "prof-delpw", "auth.login_failed").is_object(), true);
  auto missing = http.Delete(kMe, "", BearerHeaders(pair.access_token));
  ASSERT_TRUE(IsProblem(missing, 422, "validation_failed")) << missing;
  EXPECT_TRUE(missing.Json()["errors"].contains("password"));
  auto not_json = http.Delete(kMe, "password=x", BearerHeaders(pair.access_token, {{"Content-Type", "text/plain"}}));
  EXPECT_TRUE(IsProblem(not_json, 415, "unsupported_media_type")) << not_json;
  EXPECT_EQ(support::GetMe(http, pair.access_token).status, 200);
}

// ---------------------------------------------------------------------------------------------
// Confirmations count against the login limit of the account.

class ConfirmationLimitTest : public support::MailSuite<ConfirmationLimitTest> {
 public:
  static std::map<std::string, std::string> ExtraEnv() {
    return {{"IKIGAI_RATE_LIMITS", "login_account=3/15m,login_address=100000/15m,register_address=100000/1h"}};
  }
};

TEST_F(ConfirmationLimitTest, WrongConfirmationsReachTheLimitThen429EvenWithTheRightPassword) {
  Http http(Server());
  auto who = NewCredentials("prof_limit");
  auto pair = support::RegisterAndLogin(http, who);
  for (int i = 0; i < 3; ++i) {
    auto res = ChangePassword(http, pair.access_token, "Wrong-password-" + std::to_string(i), "Fresh-pass-5555");
    ASSERT_TRUE(IsProblem(res, 422, "validation_failed")) << res;
  }
  EXPECT_TRUE(support::IsRateLimited(ChangePassword(http, pair.access_token, who.password, "Fresh-pass-5555"), 900));
  EXPECT_TRUE(support::IsRateLimited(DeleteMe(http, pair.access_token, {{"password", who.password}}), 900));
  EXPECT_TRUE(support::IsRateLimited(
      PatchMe(http, pair.access_token, {{"email", "y_" + who.email}, {"current_password", who.password}}), 900));
  // The login form shares the count.
  EXPECT_TRUE(support::IsRateLimited(support::Login(http, "username", who.username, who.password), 900));
  // Changes that need no password still work.
  EXPECT_EQ(PatchMe(http, pair.access_token, {{"display_name", "Still here"}}).status, 200);
  EXPECT_EQ(support::GetMe(http, pair.access_token).status, 200);
}

}  // namespace
}  // namespace ikigai
