// API.md "Authentication and sessions": forgot/reset password, email verification and resend,
// one-time tokens, the forgot_account limit, and the mail itself. The server sends through a real
// SMTP server (smtp_sink.py on aiosmtpd) and these tests read what arrives there: links, MIME
// structure, headers, escaping. Also: delivery after an SMTP outage, two instances sharing one
// database sending every mail exactly once, .eml files without SMTP, and no secret in the log.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/direct_db.hpp"
#include "support/email_message.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/jwt.hpp"
#include "support/mail_suite.hpp"
#include "support/process.hpp"
#include "support/server.hpp"
#include "support/smtp_sink.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::Email;
using support::Headers;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::NewCredentials;
using support::Response;
using support::AllAtOnce;
using support::AwaitToken;
using support::AwaitTokens;
using support::IsWellFormedToken;
using support::kMailFrom;
using support::kPublicUrl;
using support::kResetPrefix;
using support::kSmtpPassword;
using support::kSmtpUser;
using support::kVerifyPrefix;
using support::MailEnv;
using support::MailSuite;
using support::SmtpUrlWithAuth;
using support::TokenIn;

constexpr const char* kForgot = "/api/v1/auth/password/forgot";
constexpr const char* kReset = "/api/v1/auth/password/reset";
constexpr const char* kVerify = "/api/v1/auth/email/verify";
constexpr const char* kResend = "/api/v1/auth/email/verify/resend";

constexpr auto kResetTtlMs = 30LL * 60 * 1000;
constexpr auto kVerifyTtlMs = 24LL * 3600 * 1000;

// ---------------------------------------------------------------------------------------------
// Requests

Response Forgot(const Http& http, const std::string& email, Headers headers = {}) {
  return http.Post(kForgot, json{{"email", email}}.dump(), std::move(headers));
}

Response Reset(const Http& http, const std::string& token, const std::string& password,
               Headers headers = {}) {
  return http.Post(kReset, json{{"token", token}, {"password", password}}.dump(), std::move(headers));
}

Response Verify(const Http& http, const std::string& token, Headers headers = {}) {
  return http.Post(kVerify, json{{"token", token}}.dump(), std::move(headers));
}

Response Resend(const Http& http, const std::string& access_token) {
  return http.Post(kResend, "", BearerHeaders(access_token));
}

Headers RequestId(const std::string& id) { return {{"X-Request-Id", id}}; }

// ---------------------------------------------------------------------------------------------
// Reading mails

bool WaitForMetrics(const Http& http, const std::function<bool(const support::MailMetrics&)>& ok,
                    std::chrono::milliseconds timeout = 20s) {
  return support::WaitUntil(
      [&] {
        auto m = support::ScrapeMailMetrics(http);
        return m && ok(*m);
      },
      timeout, 50ms);
}

std::string Describe(const std::optional<support::MailMetrics>& m) {
  if (!m) return "(no mail metrics)";
  char buffer[160];
  std::snprintf(buffer, sizeof buffer, "sent=%g depth=%g retried=%g failed=%g", m->sent, m->depth,
                m->retried, m->failed);
  return buffer;
}

// A base64url token of 32 random bytes: the right shape, but never issued.
std::string RandomToken() {
  std::random_device device;
  std::string bytes(32, '\0');
  for (auto& b : bytes) b = static_cast<char>(device() & 0xFF);
  return support::Base64UrlEncode(bytes);
}

// ---------------------------------------------------------------------------------------------
// Database

struct ActivityRow {
  std::optional<std::string> actor_id;
  std::string target_type;
  std::optional<std::string> target_id;
  std::string ip;
  std::string request_id;
  std::string data;
};

std::vector<ActivityRow> Activity(support::DirectDb& db, const std::string& action,
                                  const std::string& request_id) {
  std::vector<ActivityRow> out;
  for (auto& row : db.Query("SELECT actor_id, target_type, target_id, ip, request_id, data FROM activity "
                            "WHERE action = " + support::DirectDb::Quote(action) +
                            " AND request_id = " + support::DirectDb::Quote(request_id))) {
    out.push_back({row[0], row[1].value_or(""), row[2], row[3].value_or(""), row[4].value_or(""),
                   row[5].value_or("")});
  }
  return out;
}

// The one activity row of `action` made by the request `request_id`, about `user_id`, holding no
// token or password.
void ExpectActivity(support::DirectDb& db, const std::string& action, const std::string& request_id,
                    const std::string& user_id, const std::vector<std::string>& secrets) {
  auto rows = Activity(db, action, request_id);
  ASSERT_EQ(rows.size(), 1u) << "expected one " << action << " row for request " << request_id;
  const auto& row = rows[0];
  EXPECT_EQ(row.actor_id, user_id) << action;
  EXPECT_EQ(row.target_id, user_id) << action;
  EXPECT_EQ(row.target_type, "user") << action;
  EXPECT_EQ(row.ip, "127.0.0.1") << action;
  EXPECT_TRUE(json::accept(row.data)) << action << ": " << row.data;
  for (const auto& secret : secrets) {
    EXPECT_EQ(row.data.find(secret), std::string::npos) << action << " data holds a secret: " << row.data;
  }
}

struct TokenRow {
  long long created_at = 0;
  long long expires_at = 0;
  bool used = false;
};

// The one_time_tokens row of `token` (stored as its SHA-256 hex); nullopt when there is none.
std::optional<TokenRow> FindTokenRow(support::DirectDb& db, const std::string& token) {
  auto rows = db.Query("SELECT created_at, expires_at, used_at FROM one_time_tokens WHERE token_hash = " +
                       support::DirectDb::Quote(support::Sha256Hex(token)));
  if (rows.size() != 1 || !rows[0][0] || !rows[0][1]) return std::nullopt;
  return TokenRow{std::stoll(*rows[0][0]), std::stoll(*rows[0][1]), rows[0][2].has_value()};
}

// Moves the token's life `ms` into the past, as if that much time had gone by.
void AgeToken(support::DirectDb& db, const std::string& token, long long ms) {
  db.Exec("UPDATE one_time_tokens SET created_at = created_at - " + std::to_string(ms) +
          ", expires_at = expires_at - " + std::to_string(ms) +
          " WHERE token_hash = " + support::DirectDb::Quote(support::Sha256Hex(token)));
}

long long Count(support::DirectDb& db, const std::string& sql) {
  return std::stoll(db.Scalar(sql).value_or("-1"));
}

// ---------------------------------------------------------------------------------------------
// Forgot and reset

class ResetPasswordTest : public MailSuite<ResetPasswordTest> {};

TEST_F(ResetPasswordTest, FullRoundTripThroughTheMailedLink) {
  Http http(Server());
  auto who = NewCredentials("reset_trip");
  auto first = support::RegisterAndLogin(http, who);
  auto second = support::LoginPair(http, who);
  const std::string user_id = first.user_id;

  auto forgot = Forgot(http, who.email, RequestId("reset-trip.forgot"));
  ASSERT_EQ(forgot.status, 202) << forgot;
  auto mails = support::WaitForMailTo(Sink(), who.email, 1, kResetPrefix);
  ASSERT_EQ(mails.size(), 1u) << "no reset mail reached " << who.email;
  const Email& mail = mails[0];
  EXPECT_EQ(support::AddressOf(mail.Header("To")), who.email) << mail.raw;
  const std::string link = support::LinkIn(mail.Text(), kResetPrefix);
  const std::string token = link.substr(kResetPrefix.size());
  ASSERT_TRUE(IsWellFormedToken(token)) << mail.Text();
  EXPECT_EQ(support::HtmlUnescape(support::RawHref(mail.Html(), kResetPrefix)), link)
      << "the HTML part links elsewhere: " << mail.Html();
  // Stored only as a hash, expiring after 30 minutes.
  auto row = FindTokenRow(Db(), token);
  ASSERT_TRUE(row) << "no one_time_tokens row with the SHA-256 of the mailed token";
  EXPECT_EQ(row->expires_at - row->created_at, kResetTtlMs);
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = " +
                            support::DirectDb::Quote(token)),
            0)
      << "the token itself is stored";

  const std::string new_password = "Another-Fine-Passphrase-93";
  auto reset = Reset(http, token, new_password, RequestId("reset-trip.reset"));
  ASSERT_EQ(reset.status, 204) << reset;
  EXPECT_TRUE(reset.body.empty()) << reset;

  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, who.password),
                             "invalid_credentials"))
      << "the old password still works";
  auto fresh = support::ExpectTokenPair(support::Login(http, "email", who.email, new_password));
  EXPECT_EQ(support::GetMe(http, fresh.access_token).status, 200);
  for (const auto* pair : {&first, &second}) {
    EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair->access_token))) << "a session before the reset lives";
    EXPECT_TRUE(IsUnauthorized(support::Refresh(http, pair->refresh_token))) << "its refresh token too";
  }

  // The account is told (a security notification); that mail carries no reset token.
  auto all = support::WaitForMailTo(Sink(), who.email, 3);
  ASSERT_EQ(all.size(), 3u) << "expected the verification, reset and password-changed mails";
  EXPECT_EQ(all[2].raw.find(token), std::string::npos) << all[2].raw;
  EXPECT_EQ(support::LinkIn(all[2].Text(), kResetPrefix), "") << all[2].Text();

  const std::vector<std::string> secrets{token, who.password, new_password};
  ExpectActivity(Db(), "auth.password_reset_requested", "reset-trip.forgot", user_id, secrets);
  ExpectActivity(Db(), "auth.password_reset", "reset-trip.reset", user_id, secrets);
}

TEST_F(ResetPasswordTest, UnknownEmailGetsTheSame202AndNoMail) {
  Http http(Server());
  auto known = NewCredentials("forgot_known");
  (void)RegisterAndAwaitVerification(http, known);
  const std::string unknown = "nobody_" + known.username + "@example.com";

  auto for_unknown = Forgot(http, unknown);
  auto for_known = Forgot(http, known.email);
  ASSERT_EQ(for_unknown.status, 202) << for_unknown;
  ASSERT_EQ(for_known.status, 202) << for_known;
  EXPECT_EQ(for_unknown.body, for_known.body);
  EXPECT_EQ(for_unknown.Header("content-type"), for_known.Header("content-type"));

  // Barrier: the known account's mail was queued after anything the unknown address could have
  // caused, and one sender delivers in queue order.
  ASSERT_EQ(support::WaitForMailTo(Sink(), known.email, 1, kResetPrefix).size(), 1u);
  EXPECT_TRUE(support::MailTo(Sink(), unknown).empty()) << "a mail went to an unknown address";
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mail_outbox WHERE to_address = " + support::DirectDb::Quote(unknown)),
            0);
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM activity WHERE action = 'auth.password_reset_requested' AND "
                        "data LIKE " + support::DirectDb::Quote("%" + unknown + "%")),
            0);
  // Nothing waits in the outbox, and this instance sent exactly what arrived.
  std::optional<support::MailMetrics> last;
  EXPECT_TRUE(WaitForMetrics(http, [&](const support::MailMetrics& m) {
    last = m;
    return m.depth == 0 && m.sent == static_cast<double>(Sink().Messages().size());
  })) << Describe(last) << " with " << Sink().Messages().size() << " message(s) received";
}

TEST_F(ResetPasswordTest, LinkWorksOnlyOnce) {
  Http http(Server());
  auto who = NewCredentials("reset_once");
  (void)RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string token = AwaitToken(Sink(), who.email, kResetPrefix);
  ASSERT_FALSE(token.empty());
  const std::string first_password = "First-New-Passphrase-17";
  auto first = Reset(http, token, first_password);
  ASSERT_EQ(first.status, 204) << first;
  auto again = Reset(http, token, "Second-New-Passphrase-18");
  EXPECT_TRUE(IsProblem(again, 400, "invalid_token")) << again;
  EXPECT_EQ(support::Login(http, "username", who.username, first_password).status, 200)
      << "the refused second use changed the password";
}

TEST_F(ResetPasswordTest, ExpiredLinkIs400) {
  Http http(Server());
  auto who = NewCredentials("reset_expiry");
  (void)RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string stale = AwaitToken(Sink(), who.email, kResetPrefix, 1);
  ASSERT_FALSE(stale.empty());
  // 31 minutes later (no reset-token TTL setting: the row's times move into the past instead).
  AgeToken(Db(), stale, 31 * 60 * 1000);
  auto expired = Reset(http, stale, "Too-Late-Passphrase-44");
  EXPECT_TRUE(IsProblem(expired, 400, "invalid_token")) << expired;
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200)
      << "an expired link changed the password";

  // 29 minutes later a link still works.
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string fresh = AwaitToken(Sink(), who.email, kResetPrefix, 2);
  ASSERT_FALSE(fresh.empty());
  AgeToken(Db(), fresh, 29 * 60 * 1000);
  auto in_time = Reset(http, fresh, "In-Time-Passphrase-45");
  EXPECT_EQ(in_time.status, 204) << in_time;
}

TEST_F(ResetPasswordTest, NewerRequestVoidsOlderLinks) {
  Http http(Server());
  auto who = NewCredentials("reset_newer");
  (void)RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string older = AwaitToken(Sink(), who.email, kResetPrefix, 1);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string newer = AwaitToken(Sink(), who.email, kResetPrefix, 2);
  ASSERT_FALSE(older.empty());
  ASSERT_FALSE(newer.empty());
  EXPECT_NE(older, newer);
  auto with_older = Reset(http, older, "Older-Link-Passphrase-51");
  EXPECT_TRUE(IsProblem(with_older, 400, "invalid_token")) << with_older;
  auto with_newer = Reset(http, newer, "Newer-Link-Passphrase-52");
  EXPECT_EQ(with_newer.status, 204) << with_newer;
  EXPECT_EQ(support::Login(http, "username", who.username, "Newer-Link-Passphrase-52").status, 200);
}

TEST_F(ResetPasswordTest, WeakPasswordIs422AndTheLinkStaysUsable) {
  Http http(Server());
  auto who = NewCredentials("reset_weak");
  (void)RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string token = AwaitToken(Sink(), who.email, kResetPrefix);
  ASSERT_FALSE(token.empty());
  std::string too_long;
  for (int i = 0; i < 257; ++i) too_long += "é";
  for (const std::string& weak : {std::string("Short-7"), std::string("password"), std::string("12345678"),
                                  who.username, who.email, too_long}) {
    auto res = Reset(http, token, weak);
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << "\"" << weak << "\": " << res;
    if (res.status == 422) {
      EXPECT_TRUE(res.Json().value("errors", json::object()).contains("password")) << res;
    }
  }
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
  auto good = Reset(http, token, "Strong-Enough-Passphrase-61");
  EXPECT_EQ(good.status, 204) << "the link no longer works after a refused password: " << good;
}

TEST_F(ResetPasswordTest, FourthRequestWithinAnHourSendsNothing) {
  Http http(Server());
  auto who = NewCredentials("reset_limit");
  auto barrier = NewCredentials("reset_limit_barrier");
  (void)RegisterAndAwaitVerification(http, who);
  (void)RegisterAndAwaitVerification(http, barrier);
  std::vector<Response> answers;
  for (int i = 0; i < 3; ++i) answers.push_back(Forgot(http, who.email));
  ASSERT_EQ(AwaitTokens(Sink(), who.email, kResetPrefix, 3).size(), 3u);
  // The same account, its address written in capitals.
  std::string upper = who.email;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  answers.push_back(Forgot(http, upper));
  for (const auto& a : answers) {
    EXPECT_EQ(a.status, 202) << a;
    EXPECT_EQ(a.body, answers[0].body);
  }
  // Barrier: a later mail to another account has arrived, so a fourth mail would have too.
  ASSERT_EQ(Forgot(http, barrier.email).status, 202);
  ASSERT_EQ(support::WaitForMailTo(Sink(), barrier.email, 1, kResetPrefix).size(), 1u);
  EXPECT_EQ(support::MailTo(Sink(), who.email, kResetPrefix).size(), 3u) << "the 4th request sent a mail";
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'reset_password' AND to_address = " +
                            support::DirectDb::Quote(who.email)),
            3);
}

TEST_F(ResetPasswordTest, ConcurrentForgotRequestsSendNoMoreThanThree) {
  // "forgot-password to 3 emails per account per hour": requests racing each other must not each
  // see a count under the limit.
  Http http(Server());
  auto who = NewCredentials("reset_race");
  auto barrier = NewCredentials("reset_race_barrier");
  (void)RegisterAndAwaitVerification(http, who);
  (void)RegisterAndAwaitVerification(http, barrier);
  constexpr int kRequests = 12;
  auto answers = AllAtOnce(kRequests, [&](int) { return Forgot(http, who.email); });
  for (const auto& a : answers) EXPECT_EQ(a.status, 202) << a;
  ASSERT_GE(AwaitTokens(Sink(), who.email, kResetPrefix, 3).size(), 3u);
  ASSERT_EQ(Forgot(http, barrier.email).status, 202);
  ASSERT_EQ(support::WaitForMailTo(Sink(), barrier.email, 1, kResetPrefix).size(), 1u);
  auto tokens = AwaitTokens(Sink(), who.email, kResetPrefix, 3);
  EXPECT_EQ(tokens.size(), 3u) << tokens.size() << " of " << kRequests
                               << " concurrent forgot requests sent a mail; the limit is 3 per hour";
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'reset_password' AND to_address = " +
                            support::DirectDb::Quote(who.email)),
            3);
  // Newer voids older: of the mailed links at most one still works.
  int worked = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (Reset(http, tokens[i], "Raced-Passphrase-" + std::to_string(i) + "-x").status == 204) ++worked;
  }
  EXPECT_EQ(worked, 1) << "links that reset the password, of " << tokens.size();
}

TEST_F(ResetPasswordTest, ConcurrentResetsWithOneLinkSucceedOnce) {
  Http http(Server());
  auto who = NewCredentials("reset_once_race");
  auto [user_id, verify_token] = RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string token = AwaitToken(Sink(), who.email, kResetPrefix);
  ASSERT_FALSE(token.empty());
  constexpr int kRequests = 8;
  auto password = [](int i) { return "Racing-Reset-Passphrase-" + std::to_string(i); };
  auto answers = AllAtOnce(kRequests, [&](int i) { return Reset(http, token, password(i)); });
  int winner = -1;
  for (int i = 0; i < kRequests; ++i) {
    const auto& a = answers[static_cast<std::size_t>(i)];
    if (a.status == 204) {
      EXPECT_EQ(winner, -1) << "a second reset with one link succeeded";
      winner = i;
    } else {
      EXPECT_TRUE(IsProblem(a, 400, "invalid_token")) << a;
    }
  }
  ASSERT_NE(winner, -1) << "no reset succeeded";
  EXPECT_EQ(support::Login(http, "username", who.username, password(winner)).status, 200);
  for (int i = 0; i < kRequests; ++i) {
    if (i == winner) continue;
    EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, password(i)), "invalid_credentials"))
        << "the losing password " << i << " works";
  }
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM activity WHERE action = 'auth.password_reset' AND actor_id = " +
                            support::DirectDb::Quote(user_id)),
            1);
}

TEST_F(ResetPasswordTest, DeliveredMailLeavesNoTokenInClearInTheDatabase) {
  // "One-time tokens ... stored only as a hash": once the mail is out, nothing in the database
  // holds a working token in clear (the outbox row keeps the rendered message).
  Http http(Server());
  auto who = NewCredentials("token_at_rest");
  auto [user_id, verify_token] = RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string reset_token = AwaitToken(Sink(), who.email, kResetPrefix);
  ASSERT_FALSE(verify_token.empty());
  ASSERT_FALSE(reset_token.empty());
  // Delivered means recorded as sent (the sink may have the mail a moment before the sender
  // records it; the depth metric is only as fresh as the sender's last tick).
  const std::string unsent = "SELECT COUNT(*) FROM mail_outbox WHERE to_address = " +
                             support::DirectDb::Quote(who.email) + " AND status <> 'sent'";
  ASSERT_TRUE(support::WaitUntil([&] { return Count(Db(), unsent) == 0; }))
      << "the mails to " << who.email << " were never recorded as sent";
  for (const auto& [name, token] : {std::pair<std::string, std::string>{"verification", verify_token},
                                    std::pair<std::string, std::string>{"reset", reset_token}}) {
    const std::string like = support::DirectDb::Quote("%" + token + "%");
    auto rows = Db().Query("SELECT id, kind, status FROM mail_outbox WHERE text_body LIKE " + like +
                           " OR html_body LIKE " + like + " OR subject LIKE " + like);
    for (const auto& row : rows) {
      ADD_FAILURE() << "the " << name << " token (still usable) is stored in clear in mail_outbox row "
                    << row[0].value_or("?") << " (kind " << row[1].value_or("?") << ", status "
                    << row[2].value_or("?") << ")";
    }
  }
  EXPECT_EQ(Verify(http, verify_token).status, 204) << "the token was usable all along";
}

TEST_F(ResetPasswordTest, ResetAndVerifyTokensAreNotInterchangeable) {
  Http http(Server());
  auto who = NewCredentials("token_purpose");
  auto [user_id, verify_token] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(verify_token.empty());
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string reset_token = AwaitToken(Sink(), who.email, kResetPrefix);
  ASSERT_FALSE(reset_token.empty());
  auto reset_with_verify = Reset(http, verify_token, "Purpose-Mixup-Passphrase-71");
  EXPECT_TRUE(IsProblem(reset_with_verify, 400, "invalid_token")) << reset_with_verify;
  auto verify_with_reset = Verify(http, reset_token);
  EXPECT_TRUE(IsProblem(verify_with_reset, 400, "invalid_token")) << verify_with_reset;
  // Neither was spent by the wrong use.
  EXPECT_EQ(Verify(http, verify_token).status, 204);
  EXPECT_EQ(Reset(http, reset_token, "Purpose-Right-Passphrase-72").status, 204);
}

// ---------------------------------------------------------------------------------------------
// Email verification

class VerifyEmailTest : public MailSuite<VerifyEmailTest> {};

TEST_F(VerifyEmailTest, RoundTripMarksTheAddressVerified) {
  Http http(Server());
  auto who = NewCredentials("verify_trip");
  const std::string name = "Zoë 🌸";
  auto res = http.Post("/api/v1/auth/register", support::RegisterBody(who, name));
  ASSERT_EQ(res.status, 201) << res;
  const std::string user_id = res.Json()["user"]["id"];
  auto mails = support::WaitForMailTo(Sink(), who.email, 1, kVerifyPrefix);
  ASSERT_EQ(mails.size(), 1u) << "no verification mail reached " << who.email;
  const Email& mail = mails[0];
  EXPECT_EQ(support::AddressOf(mail.Header("To")), who.email);
  // The address is not proved yet: a neutral greeting, never the name the registration typed.
  EXPECT_NE(mail.Text().find("Hello,"), std::string::npos) << "greeting: " << mail.Text();
  EXPECT_EQ(mail.Text().find(name), std::string::npos) << "greeting: " << mail.Text();
  EXPECT_EQ(support::HtmlUnescape(mail.Html()).find(name), std::string::npos) << "greeting: " << mail.Html();
  const std::string link = support::LinkIn(mail.Text(), kVerifyPrefix);
  const std::string token = link.substr(std::min(link.size(), kVerifyPrefix.size()));
  ASSERT_TRUE(IsWellFormedToken(token)) << mail.Text();
  EXPECT_EQ(support::HtmlUnescape(support::RawHref(mail.Html(), kVerifyPrefix)), link) << mail.Html();
  auto row = FindTokenRow(Db(), token);
  ASSERT_TRUE(row) << "no one_time_tokens row with the SHA-256 of the mailed token";
  EXPECT_EQ(row->expires_at - row->created_at, kVerifyTtlMs);

  auto pair = support::LoginPair(http, who);
  EXPECT_EQ(support::GetMe(http, pair.access_token).Json()["email_verified"], false);
  auto verified = Verify(http, token, RequestId("verify-trip.verify"));
  ASSERT_EQ(verified.status, 204) << verified;
  EXPECT_TRUE(verified.body.empty());
  auto me = support::GetMe(http, pair.access_token);
  ASSERT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.Json()["email_verified"], true) << me;
  EXPECT_EQ(me.Json()["email"], who.email) << me;

  auto reused = Verify(http, token);
  EXPECT_TRUE(IsProblem(reused, 400, "invalid_token")) << reused;
  ExpectActivity(Db(), "auth.email_verified", "verify-trip.verify", user_id, {token, who.password});
}

TEST_F(VerifyEmailTest, ResendMailsANewLinkAndVoidsTheOldOne) {
  Http http(Server());
  auto who = NewCredentials("verify_resend");
  auto pair = support::RegisterAndLogin(http, who);
  const std::string older = AwaitToken(Sink(), who.email, kVerifyPrefix, 1);
  ASSERT_FALSE(older.empty());

  EXPECT_TRUE(IsUnauthorized(http.Post(kResend))) << "resend without a token";
  auto resent = Resend(http, pair.access_token);
  ASSERT_EQ(resent.status, 202) << resent;
  const std::string newer = AwaitToken(Sink(), who.email, kVerifyPrefix, 2);
  ASSERT_FALSE(newer.empty());
  EXPECT_NE(older, newer);

  auto with_older = Verify(http, older);
  EXPECT_TRUE(IsProblem(with_older, 400, "invalid_token")) << with_older;
  EXPECT_EQ(support::GetMe(http, pair.access_token).Json()["email_verified"], false);
  auto with_newer = Verify(http, newer);
  EXPECT_EQ(with_newer.status, 204) << with_newer;
  EXPECT_EQ(support::GetMe(http, pair.access_token).Json()["email_verified"], true);
  // Once verified, asking again is still accepted.
  auto after = Resend(http, pair.access_token);
  EXPECT_EQ(after.status, 202) << after;
}

TEST_F(VerifyEmailTest, FourthResendWithinAnHourIs429AndSendsNothing) {
  // verify_account (default 3 per hour): a signed-in account cannot bomb the address it gave.
  Http http(Server());
  auto who = NewCredentials("verify_bomb");
  auto barrier = NewCredentials("verify_bomb_barrier");
  auto pair = support::RegisterAndLogin(http, who);
  ASSERT_FALSE(AwaitToken(Sink(), who.email, kVerifyPrefix, 1).empty());
  for (int i = 1; i <= 3; ++i) {
    auto res = Resend(http, pair.access_token);
    EXPECT_EQ(res.status, 202) << "resend " << i << " of 3 allowed: " << res;
  }
  ASSERT_EQ(AwaitTokens(Sink(), who.email, kVerifyPrefix, 4).size(), 4u);
  auto fourth = Resend(http, pair.access_token);
  EXPECT_TRUE(support::IsRateLimited(fourth, 3600)) << fourth;
  // Barrier: a later mail to another account has arrived, so a fifth mail to `who` would have too.
  (void)RegisterAndAwaitVerification(http, barrier);
  EXPECT_EQ(support::MailTo(Sink(), who.email, kVerifyPrefix).size(), 4u) << "the 4th resend sent a mail";
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'verify_email' AND to_address = " +
                            support::DirectDb::Quote(who.email)),
            4);
  // The refused request took no event: the limit ends with the window, not later.
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM login_attempts WHERE bucket = 'verify_account'"
                        " AND subject = " + support::DirectDb::Quote("user:" + pair.user_id)),
            3);
}

TEST_F(VerifyEmailTest, ConcurrentResendsSendNoMoreThanThree) {
  Http http(Server());
  auto who = NewCredentials("verify_race");
  auto pair = support::RegisterAndLogin(http, who);
  ASSERT_FALSE(AwaitToken(Sink(), who.email, kVerifyPrefix, 1).empty());
  auto answers = AllAtOnce(10, [&](int) { return Resend(http, pair.access_token); });
  int accepted = 0;
  for (const auto& a : answers) {
    if (a.status == 202) {
      ++accepted;
    } else {
      EXPECT_TRUE(support::IsRateLimited(a, 3600)) << a;
    }
  }
  EXPECT_LE(accepted, 3);
  EXPECT_LE(Count(Db(), "SELECT COUNT(*) FROM mail_outbox WHERE kind = 'verify_email' AND to_address = " +
                            support::DirectDb::Quote(who.email)),
            4);
}

TEST_F(VerifyEmailTest, ConcurrentVerifiesWithOneLinkSucceedOnce) {
  Http http(Server());
  auto who = NewCredentials("verify_race");
  auto [user_id, token] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(token.empty());
  constexpr int kRequests = 8;
  auto answers = AllAtOnce(kRequests, [&](int) { return Verify(http, token); });
  int succeeded = 0;
  for (const auto& a : answers) {
    if (a.status == 204) {
      ++succeeded;
    } else {
      EXPECT_TRUE(IsProblem(a, 400, "invalid_token")) << a;
    }
  }
  EXPECT_EQ(succeeded, 1) << "verifications that succeeded with one link";
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM activity WHERE action = 'auth.email_verified' AND actor_id = " +
                            support::DirectDb::Quote(user_id)),
            1);
}

TEST_F(VerifyEmailTest, ExpiredLinkIs400) {
  Http http(Server());
  auto who = NewCredentials("verify_expiry");
  auto [user_id, token] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(token.empty());
  AgeToken(Db(), token, kVerifyTtlMs + 60 * 1000);  // 24 h and a minute later
  auto expired = Verify(http, token);
  EXPECT_TRUE(IsProblem(expired, 400, "invalid_token")) << expired;
  auto pair = support::LoginPair(http, who);
  EXPECT_EQ(support::GetMe(http, pair.access_token).Json()["email_verified"], false);
}

// ---------------------------------------------------------------------------------------------
// What the endpoints refuse

class TokenInputTest : public MailSuite<TokenInputTest> {};

TEST_F(TokenInputTest, GarbageWrongLengthAndUnknownTokensAre400) {
  Http http(Server());
  auto who = NewCredentials("bad_tokens");
  auto [user_id, real] = RegisterAndAwaitVerification(http, who);
  ASSERT_EQ(real.size(), 43u) << "test assumes 43-character tokens: " << real;
  std::string flipped = real;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  const std::vector<std::string> bad = {
      "garbage",
      "not a token at all, with spaces and ümlauts",
      std::string(42, 'a'),
      std::string(44, 'a'),
      real.substr(0, 42),
      real + "A",
      RandomToken(),
      flipped,
      std::string(43, '+'),
      std::string(43, '/'),
      std::string(4096, 'x'),
  };
  for (const auto& token : bad) {
    auto reset = Reset(http, token, "Any-Good-Passphrase-81");
    EXPECT_TRUE(IsProblem(reset, 400, "invalid_token")) << "reset with \"" << token << "\": " << reset;
    auto verify = Verify(http, token);
    EXPECT_TRUE(IsProblem(verify, 400, "invalid_token")) << "verify with \"" << token << "\": " << verify;
  }
  // None of that touched the real token.
  EXPECT_EQ(Verify(http, real).status, 204);
}

TEST_F(TokenInputTest, MissingOrUnknownFieldsAre422) {
  Http http(Server());
  auto who = NewCredentials("bad_fields");
  auto pair = support::RegisterAndLogin(http, who);
  const std::string token = AwaitToken(Sink(), who.email, kVerifyPrefix);
  ASSERT_FALSE(token.empty());
  auto field_error = [](const Response& res, const std::string& field) -> ::testing::AssertionResult {
    auto problem = IsProblem(res, 422, "validation_failed");
    if (!problem) return problem;
    auto errors = res.Json().value("errors", json::object());
    if (!errors.contains(field)) return ::testing::AssertionFailure() << "no errors." << field << ": " << res;
    return ::testing::AssertionSuccess();
  };
  EXPECT_TRUE(field_error(http.Post(kForgot, "{}"), "email"));
  EXPECT_TRUE(field_error(http.Post(kForgot, ""), "email")) << "an empty body counts as {}";
  EXPECT_TRUE(field_error(http.Post(kForgot, json{{"email", 42}}.dump()), "email"));
  EXPECT_TRUE(field_error(http.Post(kForgot, json{{"email", who.email}, {"user_id", "x"}}.dump()), "user_id"));
  EXPECT_TRUE(field_error(http.Post(kReset, json{{"password", "Any-Good-Passphrase-82"}}.dump()), "token"));
  EXPECT_TRUE(field_error(http.Post(kReset, json{{"token", RandomToken()}}.dump()), "password"));
  EXPECT_TRUE(field_error(http.Post(kReset, json{{"token", 7}, {"password", "Any-Good-Passphrase-83"}}.dump()),
                          "token"));
  EXPECT_TRUE(field_error(http.Post(kReset, json{{"token", RandomToken()},
                                                 {"password", "Any-Good-Passphrase-84"},
                                                 {"email", who.email}}.dump()),
                          "email"));
  EXPECT_TRUE(field_error(http.Post(kVerify, "{}"), "token"));
  EXPECT_TRUE(field_error(http.Post(kVerify, json{{"token", token}, {"email", who.email}}.dump()), "email"));
  EXPECT_TRUE(field_error(http.Post(kResend, json{{"email", who.email}}.dump(), BearerHeaders(pair.access_token)),
                          "email"));
  for (const char* path : {kForgot, kReset, kVerify}) {
    auto res = http.Post(path, "{\"token\": ");
    EXPECT_TRUE(IsProblem(res, 400, "malformed_json")) << path << ": " << res;
  }
  // The refused verify with an extra field did not spend the token.
  EXPECT_EQ(Verify(http, token).status, 204);

  // A refused forgot sends nothing: the next good one is the only reset mail.
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  ASSERT_EQ(support::WaitForMailTo(Sink(), who.email, 1, kResetPrefix).size(), 1u);
  auto resets = support::MailTo(Sink(), who.email, kResetPrefix);
  EXPECT_EQ(resets.size(), 1u) << "a refused forgot request sent a mail";
}

// ---------------------------------------------------------------------------------------------
// The message itself

class MessageFormatTest : public MailSuite<MessageFormatTest> {
 public:
  // A public URL that needs escaping in HTML, and a From with a UTF-8 display name.
  static std::map<std::string, std::string> ExtraEnv() {
    return {{"IKIGAI_PUBLIC_URL", "https://app.ikigai.test/q&a"},
            {"IKIGAI_MAIL_FROM", "Ikigaï 🌸 Team <no-reply@ikigai.test>"}};
  }
};

const std::string kOddVerifyPrefix = "https://app.ikigai.test/q&a/verify-email?token=";
const std::string kOddResetPrefix = "https://app.ikigai.test/q&a/reset-password?token=";

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The raw header block of a sink message, without the sink's two envelope lines.
std::vector<std::string> HeaderLines(const std::string& raw) {
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < raw.size()) {
    std::size_t end = raw.find("\r\n", pos);
    if (end == std::string::npos) end = raw.size();
    std::string line = raw.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) break;
    if (line.rfind("X-Sink-", 0) != 0) lines.push_back(line);
  }
  return lines;
}

// "Tue, 03 Nov 2026 10:11:12 +0000" (RFC 5322 date-time, zone as an offset) as seconds since the
// epoch; nullopt when it is not one.
std::optional<std::time_t> ParseMailDate(const std::string& value) {
  static const std::regex kPattern(
      R"((?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}))");
  std::smatch m;
  if (!std::regex_match(value, m, kPattern)) return std::nullopt;
  static const std::vector<std::string> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  tm.tm_mday = std::stoi(m[2]);
  tm.tm_mon = static_cast<int>(std::find(kMonths.begin(), kMonths.end(), m[3].str()) - kMonths.begin());
  tm.tm_year = std::stoi(m[4]) - 1900;
  tm.tm_hour = std::stoi(m[5]);
  tm.tm_min = std::stoi(m[6]);
  tm.tm_sec = std::stoi(m[7]);
  std::time_t t = timegm(&tm);
  const int offset = (std::stoi(m[9]) * 60 + std::stoi(m[10])) * 60;
  t += m[8] == "+" ? -offset : offset;
  return t;
}

TEST_F(MessageFormatTest, HeadersAndMultipartStructure) {
  Http http(Server());
  auto who = NewCredentials("mime");
  const std::string name = "Zoë 🌸";
  ASSERT_EQ(http.Post("/api/v1/auth/register", support::RegisterBody(who, name)).status, 201);
  auto mails = support::WaitForMailTo(Sink(), who.email, 1, kOddVerifyPrefix);
  ASSERT_EQ(mails.size(), 1u);
  const Email& mail = mails[0];
  SCOPED_TRACE(mail.raw);

  // Headers: 7-bit (UTF-8 only as RFC 2047 encoded words), no overlong line, each once.
  for (const auto& line : HeaderLines(mail.raw)) {
    EXPECT_TRUE(std::all_of(line.begin(), line.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; }) ||
                (!line.empty() && (line[0] == ' ' || line[0] == '\t')))
        << "header line with 8-bit or control characters: " << line;
    EXPECT_LE(line.size(), 998u);
  }
  for (const char* header : {"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}) {
    EXPECT_EQ(mail.HeaderCount(header), 1u) << header;
  }

  // From: IKIGAI_MAIL_FROM, the display name decoded back to UTF-8; the envelope sender its address.
  const std::string from = mail.DecodedHeader("From");
  EXPECT_EQ(support::AddressOf(from), "no-reply@ikigai.test") << from;
  std::string display = from.substr(0, from.rfind('<'));
  while (!display.empty() && display.back() == ' ') display.pop_back();
  if (display.size() >= 2 && display.front() == '"' && display.back() == '"') display = display.substr(1, display.size() - 2);
  EXPECT_EQ(display, "Ikigaï 🌸 Team") << "raw From: " << mail.Header("From");
  EXPECT_EQ(mail.envelope_from, "no-reply@ikigai.test");
  EXPECT_EQ(Lower(mail.envelope_to), Lower(who.email));
  EXPECT_EQ(support::AddressOf(mail.DecodedHeader("To")), who.email);
  EXPECT_FALSE(mail.DecodedHeader("Subject").empty());

  auto date = ParseMailDate(mail.Header("Date"));
  ASSERT_TRUE(date) << "Date is not an RFC 5322 date: " << mail.Header("Date");
  EXPECT_LE(std::llabs(static_cast<long long>(*date - std::time(nullptr))), 600) << mail.Header("Date");
  static const std::regex kMessageId(R"(<[^<>@\s]+@[^<>@\s]+>)");
  const std::string message_id = mail.Header("Message-ID");
  EXPECT_TRUE(std::regex_match(message_id, kMessageId)) << message_id;
  EXPECT_EQ(mail.Header("MIME-Version"), "1.0");

  // multipart/alternative: text/plain, then text/html, both UTF-8.
  EXPECT_EQ(mail.MediaType(), "multipart/alternative");
  EXPECT_FALSE(mail.MediaParam("boundary").empty());
  EXPECT_TRUE(mail.closed) << "no closing boundary";
  ASSERT_EQ(mail.parts.size(), 2u);
  EXPECT_EQ(mail.parts[0].MediaType(), "text/plain");
  EXPECT_EQ(mail.parts[1].MediaType(), "text/html");
  for (const auto& part : mail.parts) {
    EXPECT_EQ(Lower(part.MediaParam("charset")), "utf-8") << part.Header("Content-Type");
    const std::string cte = Lower(part.Header("Content-Transfer-Encoding"));
    EXPECT_TRUE(cte == "base64" || cte == "quoted-printable") << "8-bit text needs an encoding: " << cte;
    EXPECT_EQ(part.body.find(name), std::string::npos) << "the display name went to an unproved address: " << part.body;
  }
  const std::string text_link = support::LinkIn(mail.Text(), kOddVerifyPrefix);
  const std::string token = text_link.substr(std::min(text_link.size(), kOddVerifyPrefix.size()));
  EXPECT_TRUE(IsWellFormedToken(token));

  // Every mail has its own Message-ID; to the proved address the name comes through in UTF-8.
  ASSERT_EQ(Verify(http, token).status, 204);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  auto resets = support::WaitForMailTo(Sink(), who.email, 1, kOddResetPrefix);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_TRUE(std::regex_match(resets[0].Header("Message-ID"), kMessageId));
  EXPECT_NE(resets[0].Header("Message-ID"), message_id);
  ASSERT_EQ(resets[0].parts.size(), 2u);
  for (const auto& part : resets[0].parts) {
    EXPECT_EQ(Lower(part.MediaParam("charset")), "utf-8") << part.Header("Content-Type");
    EXPECT_NE(part.body.find(name), std::string::npos) << part.body;
  }
}

TEST_F(MessageFormatTest, HtmlPartEscapesTheDisplayNameAndTheLink) {
  Http http(Server());
  auto who = NewCredentials("mime_escape");
  const std::string name = "<script>alert(\"x\")</script> & 'Co'";
  ASSERT_EQ(http.Post("/api/v1/auth/register", support::RegisterBody(who, name)).status, 201);
  auto mails = support::WaitForMailTo(Sink(), who.email, 1, kOddVerifyPrefix);
  ASSERT_EQ(mails.size(), 1u);
  const Email& mail = mails[0];
  const std::string html = mail.Html();
  ASSERT_FALSE(html.empty()) << mail.raw;
  EXPECT_EQ(Lower(html).find("<script"), std::string::npos) << "raw <script> in the HTML part: " << html;

  // The link's '&' is &amp; inside href, and unescaped it is the text part's link.
  const std::string text_link = support::LinkIn(mail.Text(), kOddVerifyPrefix);
  ASSERT_FALSE(text_link.empty()) << mail.Text();
  const std::string href = support::RawHref(html, kOddVerifyPrefix);
  ASSERT_FALSE(href.empty()) << "no href to " << kOddVerifyPrefix << " in " << html;
  static const std::regex kBareAmpersand("&(?!amp;|lt;|gt;|quot;|apos;|#[0-9]+;|#x[0-9a-fA-F]+;)");
  EXPECT_FALSE(std::regex_search(href, kBareAmpersand)) << "unescaped & in href: " << href;
  EXPECT_NE(href.find("q&amp;a"), std::string::npos) << href;
  EXPECT_EQ(support::HtmlUnescape(href), text_link);
  const std::string token = text_link.substr(kOddVerifyPrefix.size());
  ASSERT_TRUE(IsWellFormedToken(token));
  EXPECT_EQ(Verify(http, token).status, 204) << "the mailed link does not verify";

  // The name goes only to a proved address: in the reset mail now, escaped in the HTML part.
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  auto resets = support::WaitForMailTo(Sink(), who.email, 1, kOddResetPrefix);
  ASSERT_EQ(resets.size(), 1u);
  const std::string reset_html = resets[0].Html();
  EXPECT_EQ(Lower(reset_html).find("<script"), std::string::npos) << "raw <script> in the HTML part: " << reset_html;
  EXPECT_NE(reset_html.find("&lt;script&gt;"), std::string::npos) << reset_html;
  EXPECT_NE(support::HtmlUnescape(reset_html).find(name), std::string::npos)
      << "the name, unescaped, is not there: " << reset_html;
  EXPECT_NE(resets[0].Text().find(name), std::string::npos) << "the text part shows the name as given: " << resets[0].Text();
}

// ---------------------------------------------------------------------------------------------
// Mail to an address nobody has proved carries nothing a user typed (issue 11, item 10)

class UnprovedAddressMailTest : public MailSuite<UnprovedAddressMailTest> {};

// Whether any part of the mail (decoded, and the HTML part unescaped) contains `text`.
bool MailContains(const Email& mail, const std::string& text) {
  if (mail.raw.find(text) != std::string::npos) return true;
  for (const auto& part : mail.parts) {
    if (part.body.find(text) != std::string::npos) return true;
    if (support::HtmlUnescape(part.body).find(text) != std::string::npos) return true;
  }
  return false;
}

TEST_F(UnprovedAddressMailTest, SpamInTheDisplayNameNeverReachesAnUnprovedAddress) {
  // A spammer registers with someone else's address and an advert as the display name.
  Http http(Server());
  auto who = NewCredentials("spam_name");
  const std::string advert = "Visit http://evil.test/claim now";
  auto [user_id, first] = RegisterAndAwaitVerification(http, who, advert);
  ASSERT_FALSE(first.empty());
  auto pair = support::LoginPair(http, who);
  // Resend, forgot-password to the unproved address, a password change, and an email change
  // (link to the new address, notice to the old one) whose new address is itself an advert.
  ASSERT_EQ(Resend(http, pair.access_token).status, 202);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string new_password = "Another-Strong-Passphrase-77";
  ASSERT_EQ(http.Post("/api/v1/me/password",
                      json{{"current_password", who.password}, {"new_password", new_password}}.dump(),
                      BearerHeaders(pair.access_token))
                .status,
            204);
  const std::string advert_address = "visit-evil-test-claim-now_" + who.username + "@example.org";
  ASSERT_EQ(http.Patch("/api/v1/me", json{{"email", advert_address}, {"current_password", new_password}}.dump(),
                       BearerHeaders(pair.access_token))
                .status,
            200);

  auto to_victim = support::WaitForMailTo(Sink(), who.email, 5);  // verify x2, reset, password, notice
  ASSERT_EQ(to_victim.size(), 5u);
  auto to_new = support::WaitForMailTo(Sink(), advert_address, 1);
  ASSERT_EQ(to_new.size(), 1u);
  for (const auto& mail : to_victim) {
    SCOPED_TRACE(mail.DecodedHeader("Subject"));
    EXPECT_FALSE(MailContains(mail, "evil.test")) << mail.Text();
    EXPECT_FALSE(MailContains(mail, "claim now")) << mail.Text();
    EXPECT_FALSE(MailContains(mail, "visit-evil-test")) << "the new address reached the unproved old one: " << mail.Text();
    EXPECT_NE(mail.Text().find("Hello,"), std::string::npos) << "a neutral greeting: " << mail.Text();
  }
  // The mail to the new address names that address (its own), and nothing else typed.
  EXPECT_FALSE(MailContains(to_new[0], "evil.test")) << to_new[0].Text();
  EXPECT_FALSE(MailContains(to_new[0], "claim now")) << to_new[0].Text();
  EXPECT_NE(to_new[0].Text().find("Hello,"), std::string::npos) << to_new[0].Text();
  EXPECT_NE(to_new[0].Text().find(advert_address), std::string::npos);
}

TEST_F(UnprovedAddressMailTest, AProvedAddressIsGreetedByName) {
  Http http(Server());
  auto who = NewCredentials("proved_name");
  auto [user_id, token] = RegisterAndAwaitVerification(http, who, "Zoë Example");
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(Verify(http, token).status, 204);
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  auto resets = support::WaitForMailTo(Sink(), who.email, 1, kResetPrefix);
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_NE(resets[0].Text().find("Hello Zoë Example,"), std::string::npos) << resets[0].Text();
}

// ---------------------------------------------------------------------------------------------
// IKIGAI_REQUIRE_VERIFIED_EMAIL

class RequireVerifiedEmailTest : public MailSuite<RequireVerifiedEmailTest> {
 public:
  static std::map<std::string, std::string> ExtraEnv() { return {{"IKIGAI_REQUIRE_VERIFIED_EMAIL", "true"}}; }
};

TEST_F(RequireVerifiedEmailTest, LoginWaitsForTheMailedLink) {
  Http http(Server());
  auto who = NewCredentials("must_verify");
  auto [user_id, token] = RegisterAndAwaitVerification(http, who);
  ASSERT_FALSE(token.empty());
  auto before = support::Login(http, "username", who.username, who.password);
  EXPECT_TRUE(IsProblem(before, 403, "email_not_verified")) << before;
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-Passphrase-For-It-9"),
                             "invalid_credentials"))
      << "403 only after the right password";
  ASSERT_EQ(Verify(http, token).status, 204);
  auto after = support::Login(http, "email", who.email, who.password);
  ASSERT_EQ(after.status, 200) << after;
  EXPECT_EQ(after.Json()["user"]["email_verified"], true) << after;
}

// ---------------------------------------------------------------------------------------------
// Without IKIGAI_SMTP_URL: .eml files in DATA_DIR/mail

std::vector<std::string> EmlFiles(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".eml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(DevelopmentMailTest, WithoutSmtpUrlMailIsAnEmlFileInDataDir) {
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_PUBLIC_URL", kPublicUrl}, {"IKIGAI_MAIL_FROM", kMailFrom}});
  Http http(server);
  auto who = NewCredentials("eml");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  const std::string mail_dir = dir.File("mail");
  std::vector<std::string> files;
  ASSERT_TRUE(support::WaitUntil([&] { return !(files = EmlFiles(mail_dir)).empty(); }, 20s))
      << "no .eml file in " << mail_dir;
  ASSERT_EQ(files.size(), 1u);
  const Email mail = support::ParseEmail(support::ReadFile(files[0]));
  EXPECT_EQ(support::AddressOf(mail.Header("To")), who.email) << mail.raw;
  EXPECT_EQ(support::AddressOf(mail.Header("From")), "no-reply@ikigai.test") << mail.raw;
  EXPECT_EQ(mail.MediaType(), "multipart/alternative");
  const std::string token = TokenIn(mail, kVerifyPrefix);
  ASSERT_TRUE(IsWellFormedToken(token)) << mail.raw;
  EXPECT_EQ(Verify(http, token).status, 204);
  // Readable in a text editor: 8bit text parts, the link whole on its line as written.
  const std::string raw = support::ReadFile(files[0]);
  EXPECT_NE(raw.find("Content-Transfer-Encoding: 8bit"), std::string::npos) << raw;
  EXPECT_EQ(raw.find("base64\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find(std::string(kVerifyPrefix) + token + "\r\n"), std::string::npos) << raw;
}

// ---------------------------------------------------------------------------------------------
// SMTP outage

TEST(MailRetryTest, MailQueuedWhileSmtpFailsIsDeliveredOnceItWorks) {
  support::SmtpSink sink;
  sink.SetFailing(true);
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto server = support::StartAccountServer(
      dir, url, MailEnv(sink, {{"IKIGAI_JOBS_INTERVAL", "1"}, {"IKIGAI_MAIL_RETRY_MIN", "1"}}));
  Http http(server);
  support::DirectDb db(url);
  auto who = NewCredentials("retry");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);

  std::optional<support::MailMetrics> last;
  ASSERT_TRUE(WaitForMetrics(http, [&](const support::MailMetrics& m) {
    last = m;
    return m.retried >= 1;
  })) << "no failed delivery was retried: " << Describe(last);
  EXPECT_TRUE(sink.Messages().empty());
  EXPECT_EQ(last->sent, 0);
  EXPECT_EQ(last->failed, 0);
  auto pending = db.Query("SELECT status, attempts, last_error FROM mail_outbox WHERE to_address = " +
                          support::DirectDb::Quote(who.email));
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(pending[0][0] == "pending" || pending[0][0] == "sending") << pending[0][0].value_or("NULL");
  EXPECT_GE(std::stoi(pending[0][1].value_or("0")), 1);
  EXPECT_EQ(pending[0][2].value_or("").find(kSmtpPassword), std::string::npos) << *pending[0][2];

  sink.SetFailing(false);
  auto mails = support::WaitForMailTo(sink, who.email, 1, kVerifyPrefix, 30s);
  ASSERT_EQ(mails.size(), 1u) << "not delivered after the SMTP server recovered; " << Describe(support::ScrapeMailMetrics(http));
  EXPECT_TRUE(WaitForMetrics(http, [&](const support::MailMetrics& m) {
    last = m;
    return m.sent == 1 && m.depth == 0;
  })) << Describe(last);

  // Barrier: a later mail has arrived, so a second copy of the first would have too.
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  ASSERT_EQ(support::WaitForMailTo(sink, who.email, 1, kResetPrefix).size(), 1u);
  EXPECT_EQ(support::MailTo(sink, who.email, kVerifyPrefix).size(), 1u) << "delivered more than once";
  EXPECT_EQ(sink.Messages().size(), 2u);
  auto sent = db.Query("SELECT status, attempts FROM mail_outbox WHERE kind = 'verify_email' AND to_address = " +
                       support::DirectDb::Quote(who.email));
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0][0], "sent");
  EXPECT_GE(std::stoi(sent[0][1].value_or("0")), 2);
  const std::string token = TokenIn(mails[0], kVerifyPrefix);
  ASSERT_TRUE(IsWellFormedToken(token));
  EXPECT_EQ(Verify(http, token).status, 204);
  auto final_metrics = support::ScrapeMailMetrics(http);
  ASSERT_TRUE(final_metrics);
  EXPECT_EQ(final_metrics->failed, 0);
}

// ---------------------------------------------------------------------------------------------
// Two instances on one database

TEST(TwoInstancesMailTest, EveryMailIsSentExactlyOnce) {
  support::SmtpSink sink;
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);  // one MariaDB database, or one SQLite file
  const auto env = MailEnv(sink, {{"IKIGAI_JOBS_INTERVAL", "1"}, {"IKIGAI_LOG_LEVEL", "debug"}});
  auto a = support::StartAccountServer(dir, url, env);
  auto b = support::StartAccountServer(dir, url, env);
  const std::vector<Http> https{Http(a), Http(b)};

  // 12 accounts, half through each instance, registered concurrently: 12 verification mails;
  // then a forgot request for each, through the other instance: 12 reset mails.
  constexpr int kPerInstance = 6;
  std::vector<Credentials> people;
  for (int i = 0; i < 2 * kPerInstance; ++i) people.push_back(NewCredentials("twice"));
  auto run_on_both = [&](const std::function<int(int index)>& request, int expected) {
    std::vector<std::vector<int>> statuses(2);
    std::vector<std::thread> threads;
    for (int instance = 0; instance < 2; ++instance) {
      threads.emplace_back([&, instance] {
        for (int i = instance; i < 2 * kPerInstance; i += 2) statuses[instance].push_back(request(i));
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& list : statuses) {
      for (int status : list) EXPECT_EQ(status, expected);
    }
  };
  run_on_both([&](int i) { return support::RegisterUser(https[i % 2], people[i]).status; }, 201);
  run_on_both([&](int i) { return Forgot(https[(i + 1) % 2], people[i].email).status; }, 202);
  const std::size_t queued = 4 * kPerInstance;

  auto messages = sink.WaitForMessages(queued, 60s);
  ASSERT_GE(messages.size(), queued) << "mails missing; a: " << Describe(support::ScrapeMailMetrics(https[0]))
                                     << ", b: " << Describe(support::ScrapeMailMetrics(https[1]));
  // Barrier: one more mail through each instance; once they are in, every earlier claim has been
  // delivered (or would show as a duplicate).
  auto late_a = NewCredentials("twice_late");
  auto late_b = NewCredentials("twice_late");
  ASSERT_EQ(support::RegisterUser(https[0], late_a).status, 201);
  ASSERT_EQ(support::RegisterUser(https[1], late_b).status, 201);
  ASSERT_EQ(support::WaitForMailTo(sink, late_a.email, 1, kVerifyPrefix, 30s).size(), 1u);
  ASSERT_EQ(support::WaitForMailTo(sink, late_b.email, 1, kVerifyPrefix, 30s).size(), 1u);
  std::optional<support::MailMetrics> ma, mb;
  EXPECT_TRUE(support::WaitUntil(
      [&] {
        ma = support::ScrapeMailMetrics(https[0]);
        mb = support::ScrapeMailMetrics(https[1]);
        return ma && mb && ma->depth == 0 && mb->depth == 0 && ma->sent + mb->sent == static_cast<double>(queued + 2);
      },
      20s, 50ms))
      << "a: " << Describe(ma) << ", b: " << Describe(mb) << ", expected " << queued + 2 << " sent in all";

  messages = sink.Messages();
  EXPECT_EQ(messages.size(), queued + 2) << "duplicates or strays";
  std::set<std::string> message_ids;
  std::set<std::string> tokens;
  std::map<std::string, int> verify_mails;
  std::map<std::string, int> reset_mails;
  std::vector<std::string> secrets{kSmtpPassword};
  for (const auto& raw : messages) {
    const Email mail = support::ParseEmail(raw);
    EXPECT_TRUE(message_ids.insert(mail.Header("Message-ID")).second)
        << "Message-ID twice: " << mail.Header("Message-ID");
    const std::string to = Lower(mail.envelope_to);
    for (const auto* prefix : {&kVerifyPrefix, &kResetPrefix}) {
      const std::string token = TokenIn(mail, *prefix);
      if (token.empty()) continue;
      EXPECT_TRUE(tokens.insert(token).second) << "token mailed twice: " << token;
      secrets.push_back(token);
      (prefix == &kVerifyPrefix ? verify_mails : reset_mails)[to] += 1;
    }
  }
  for (const auto& who : people) {
    secrets.push_back(who.password);
    EXPECT_EQ(verify_mails[Lower(who.email)], 1) << "verification mails to " << who.email;
    EXPECT_EQ(reset_mails[Lower(who.email)], 1) << "reset mails to " << who.email;
  }
  EXPECT_EQ(verify_mails[Lower(late_a.email)], 1);
  EXPECT_EQ(verify_mails[Lower(late_b.email)], 1);
  support::DirectDb db(url);
  EXPECT_EQ(Count(db, "SELECT COUNT(*) FROM mail_outbox WHERE status <> 'sent'"), 0);

  // The mails are real: every verification link works, on either instance.
  for (std::size_t i = 0; i < people.size(); ++i) {
    auto mails = support::MailTo(sink, people[i].email, kVerifyPrefix);
    ASSERT_EQ(mails.size(), 1u);
    EXPECT_EQ(Verify(https[i % 2], TokenIn(mails[0], kVerifyPrefix)).status, 204) << people[i].email;
  }

  // Neither instance logged a token, a password or the SMTP password.
  EXPECT_EQ(a.Stop(), 0);
  EXPECT_EQ(b.Stop(), 0);
  for (const auto* server : {&a, &b}) {
    const std::string log = server->StderrLog() + server->StdoutLog();
    EXPECT_FALSE(log.empty());
    for (const auto& secret : secrets) {
      EXPECT_EQ(log.find(secret), std::string::npos) << "instance on port " << server->Port()
                                                     << " logged a secret: " << secret;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Secrets in the log

TEST(MailSecretsInLogsTest, NoTokenPasswordOrSmtpCredentialIsLogged) {
  support::SmtpSink sink;
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto server = support::StartAccountServer(
      dir, url,
      MailEnv(sink, {{"IKIGAI_JOBS_INTERVAL", "1"}, {"IKIGAI_MAIL_RETRY_MIN", "1"}, {"IKIGAI_LOG_LEVEL", "debug"}}));
  Http http(server);
  std::vector<std::string> secrets{kSmtpPassword};

  // Register, verify (and once more), resend.
  auto who = NewCredentials("log_mail");
  auto pair = support::RegisterAndLogin(http, who);
  secrets.insert(secrets.end(), {who.password, pair.access_token, pair.refresh_token});
  const std::string verify_token = AwaitToken(sink, who.email, kVerifyPrefix, 1);
  EXPECT_EQ(Resend(http, pair.access_token).status, 202);
  const std::string verify_token_2 = AwaitToken(sink, who.email, kVerifyPrefix, 2);
  EXPECT_TRUE(IsProblem(Verify(http, verify_token), 400, "invalid_token"));
  EXPECT_EQ(Verify(http, verify_token_2).status, 204);
  EXPECT_TRUE(IsProblem(Verify(http, verify_token_2), 400, "invalid_token"));

  // Forgot, a weak password, a reset, a reused link, a made-up token.
  ASSERT_EQ(Forgot(http, who.email).status, 202);
  const std::string reset_token = AwaitToken(sink, who.email, kResetPrefix, 1);
  const std::string weak = "password";
  const std::string new_password = "Logged-Nowhere-Passphrase-77";
  const std::string made_up = RandomToken();
  secrets.insert(secrets.end(), {new_password, made_up});
  EXPECT_EQ(Reset(http, reset_token, weak).status, 422);
  EXPECT_EQ(Reset(http, reset_token, new_password).status, 204);
  EXPECT_TRUE(IsProblem(Reset(http, reset_token, new_password), 400, "invalid_token"));
  EXPECT_TRUE(IsProblem(Reset(http, made_up, new_password), 400, "invalid_token"));

  // A delivery that fails (its error is logged), then succeeds.
  sink.SetFailing(true);
  auto other = NewCredentials("log_mail_retry");
  secrets.push_back(other.password);
  ASSERT_EQ(support::RegisterUser(http, other).status, 201);
  std::optional<support::MailMetrics> last;
  EXPECT_TRUE(WaitForMetrics(http, [&](const support::MailMetrics& m) {
    last = m;
    return m.retried >= 1;
  })) << Describe(last);
  sink.SetFailing(false);
  const std::string other_token = AwaitToken(sink, other.email, kVerifyPrefix, 1);
  EXPECT_FALSE(other_token.empty());

  // Every token that was mailed.
  for (const auto& raw : sink.Messages()) {
    const Email mail = support::ParseEmail(raw);
    for (const auto* prefix : {&kVerifyPrefix, &kResetPrefix}) {
      if (auto token = TokenIn(mail, *prefix); !token.empty()) secrets.push_back(token);
    }
  }
  ASSERT_GE(secrets.size(), 10u);

  EXPECT_EQ(server.Stop(), 0);
  const std::string log = server.StderrLog() + server.StdoutLog();
  EXPECT_NE(log.find("mail"), std::string::npos) << "the log says nothing about mail: " << log;
  for (const auto& secret : secrets) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log contains a secret: " << secret;
  }
  EXPECT_EQ(log.find(kSmtpUser + ":"), std::string::npos) << "the log shows the SMTP userinfo";

  support::DirectDb db(url);
  for (const auto& row : db.Query("SELECT last_error FROM mail_outbox WHERE last_error IS NOT NULL")) {
    EXPECT_EQ(row[0]->find(kSmtpPassword), std::string::npos) << *row[0];
  }
  for (const auto& row : db.Query("SELECT data FROM activity")) {
    for (const auto& secret : secrets) {
      EXPECT_EQ(row[0].value_or("").find(secret), std::string::npos) << "activity data holds a secret";
    }
  }
}

}  // namespace
}  // namespace ikigai
