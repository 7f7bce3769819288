// API.md "Two-factor sign-in (TOTP)": enrol, confirm, the 403 mfa_required and the second login
// step, the ±1-step window, replays, concurrent second steps, recovery codes, the fifth wrong
// code, turning it off (by the user, an admin, the command line), a disabled account at the
// second step, and the secret never shown again. Codes come from `oathtool --totp`, independent
// of the server's code; security notices go through the real SMTP sink.
#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/concurrency.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/mail_suite.hpp"
#include "support/server.hpp"
#include "support/totp.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::DirectDb;
using support::Http;
using support::IsProblem;
using support::NewCredentials;
using support::OathTotp;
using support::Response;

constexpr const char* kTotp = "/api/v1/me/mfa/totp";
constexpr const char* kConfirm = "/api/v1/me/mfa/totp/confirm";
constexpr const char* kRecovery = "/api/v1/me/mfa/recovery-codes";
constexpr const char* kSecondStep = "/api/v1/auth/login/mfa";

const std::regex kSecretPattern("[A-Z2-7]{32}");
const std::regex kRecoveryPattern("[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}");

long long Count(DirectDb& db, const std::string& sql) { return std::stoll(db.Scalar(sql).value_or("-1")); }

// A user with two-factor sign-in on.
struct Enrolled {
  Credentials who;
  support::TokenPair pair;  // the session that enrolled
  std::string secret;
  std::vector<std::string> recovery_codes;
  long long confirmed_at = 0;  // the Unix time whose step (offset -1) confirmed it
};

class MfaTest : public support::MailSuite<MfaTest> {
 protected:
  static Response Enrol(const Http& http, const std::string& token, const std::string& password) {
    return http.Post(kTotp, json{{"current_password", password}}.dump(), BearerHeaders(token));
  }
  static Response Confirm(const Http& http, const std::string& token, const std::string& code) {
    return http.Post(kConfirm, json{{"code", code}}.dump(), BearerHeaders(token));
  }
  static Response SecondStep(const Http& http, const std::string& mfa_token, const std::string& code) {
    return http.Post(kSecondStep, json{{"mfa_token", mfa_token}, {"code", code}}.dump());
  }
  static Response Disable(const Http& http, const std::string& token, const std::string& password,
                          const std::string& code) {
    return http.Delete(kTotp, json{{"current_password", password}, {"code", code}}.dump(), BearerHeaders(token));
  }

  // Registers, signs in, enrols and confirms with the code of the step before now.
  static Enrolled EnrolNew(const Http& http, const std::string& prefix) {
    Enrolled e;
    e.who = NewCredentials(prefix);
    e.pair = support::RegisterAndLogin(http, e.who);
    auto enrol = Enrol(http, e.pair.access_token, e.who.password);
    EXPECT_EQ(enrol.status, 200) << enrol;
    if (enrol.status != 200) return e;
    e.secret = enrol.Json()["secret"].get<std::string>();
    e.confirmed_at = support::NowInsideStep();
    auto confirm = Confirm(http, e.pair.access_token, OathTotp(e.secret, e.confirmed_at, -1));
    EXPECT_EQ(confirm.status, 200) << confirm;
    if (confirm.status == 200) e.recovery_codes = confirm.Json()["recovery_codes"].get<std::vector<std::string>>();
    return e;
  }

  // The password step of a user with two-factor sign-in on: must be 403 mfa_required; its mfa_token.
  static std::string PasswordStep(const Http& http, const Credentials& who, std::string_view path = "/api/v1/auth/login") {
    auto res = support::Login(http, "username", who.username, who.password, {}, path);
    EXPECT_TRUE(IsProblem(res, 403, "mfa_required")) << res;
    const json body = res.Json();
    EXPECT_FALSE(body.contains("access_token")) << res;
    EXPECT_FALSE(body.contains("token")) << res;
    if (!body.contains("mfa_token") || !body["mfa_token"].is_string()) {
      ADD_FAILURE() << "no mfa_token: " << res;
      return {};
    }
    const std::string token = body["mfa_token"].get<std::string>();
    EXPECT_TRUE(support::IsWellFormedToken(token));
    return token;
  }

  static long long Sessions(const std::string& user_id) {
    return Count(Db(), "SELECT COUNT(*) FROM sessions WHERE user_id = " + DirectDb::Quote(user_id));
  }
  static long long Events(const std::string& user_id, const std::string& action) {
    return Count(Db(), "SELECT COUNT(*) FROM activity WHERE actor_id = " + DirectDb::Quote(user_id) +
                           " AND action = " + DirectDb::Quote(action));
  }
};

TEST_F(MfaTest, EnrolConfirmSignInAndTurnOff) {
  Http http(Server());
  auto who = NewCredentials("mfa_flow");
  auto pair = support::RegisterAndLogin(http, who);

  auto wrong = Enrol(http, pair.access_token, who.password + "x");
  EXPECT_TRUE(IsProblem(wrong, 422, "validation_failed")) << wrong;
  EXPECT_EQ(wrong.Json()["errors"]["current_password"], "is incorrect");
  EXPECT_TRUE(IsProblem(Confirm(http, pair.access_token, "123456"), 409, "conflict"));  // nothing pending

  auto first = Enrol(http, pair.access_token, who.password);
  ASSERT_EQ(first.status, 200) << first;
  auto enrol = Enrol(http, pair.access_token, who.password);  // replaces the pending secret
  ASSERT_EQ(enrol.status, 200) << enrol;
  const std::string secret = enrol.Json()["secret"].get<std::string>();
  EXPECT_TRUE(std::regex_match(secret, kSecretPattern)) << secret;
  EXPECT_NE(secret, first.Json()["secret"].get<std::string>());
  EXPECT_EQ(enrol.Json()["otpauth_url"], "otpauth://totp/Ikigai:" + who.username + "?secret=" + secret +
                                              "&issuer=Ikigai&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(support::GetMe(http, pair.access_token).Json()["mfa_enabled"], false);

  // Pending: signing in still takes only the password.
  (void)support::LoginPair(http, who);
  const long long now = support::NowInsideStep();
  auto bad = Confirm(http, pair.access_token, OathTotp(first.Json()["secret"].get<std::string>(), now));
  EXPECT_TRUE(IsProblem(bad, 422, "validation_failed")) << bad;
  EXPECT_EQ(bad.Json()["errors"]["code"], "is incorrect");
  EXPECT_TRUE(IsProblem(Confirm(http, pair.access_token, "12ab56"), 422, "validation_failed"));

  auto confirm = Confirm(http, pair.access_token, OathTotp(secret, now));
  ASSERT_EQ(confirm.status, 200) << confirm;
  const auto codes = confirm.Json()["recovery_codes"].get<std::vector<std::string>>();
  ASSERT_EQ(codes.size(), 10u);
  for (const auto& c : codes) EXPECT_TRUE(std::regex_match(c, kRecoveryPattern)) << c;
  EXPECT_EQ(std::set<std::string>(codes.begin(), codes.end()).size(), 10u);
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = " + DirectDb::Quote(pair.user_id)),
            10);
  EXPECT_TRUE(IsProblem(Confirm(http, pair.access_token, OathTotp(secret, now, 1)), 409, "conflict"));
  EXPECT_TRUE(IsProblem(Enrol(http, pair.access_token, who.password), 409, "conflict"));

  auto me = support::GetMe(http, pair.access_token);
  EXPECT_EQ(me.Json()["mfa_enabled"], true);
  EXPECT_EQ(me.body.find(secret), std::string::npos);
  // Server-owned: the user cannot switch it through PATCH /me.
  auto patch = http.Patch("/api/v1/me", R"({"mfa_enabled": false})", BearerHeaders(pair.access_token));
  EXPECT_TRUE(IsProblem(patch, 422, "validation_failed")) << patch;
  EXPECT_TRUE(patch.Json()["errors"].contains("mfa_enabled"));

  // The password alone no longer makes a session, on either login path.
  const long long before = Sessions(pair.user_id);
  const std::string mfa_token = PasswordStep(http, who);
  (void)PasswordStep(http, who, "/login");
  EXPECT_EQ(Sessions(pair.user_id), before);
  auto wrong_pw = support::Login(http, "username", who.username, who.password + "x");
  EXPECT_TRUE(support::IsUnauthorized(wrong_pw, "invalid_credentials")) << wrong_pw;

  // The confirming code was the last accepted step: it is refused now (a replay).
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, mfa_token, OathTotp(secret, now)), "invalid_credentials"));
  auto second = SecondStep(http, mfa_token, OathTotp(secret, now, 1));
  auto signed_in = support::ExpectTokenPair(second);
  EXPECT_EQ(signed_in.user_id, pair.user_id);
  EXPECT_EQ(second.Json()["user"]["mfa_enabled"], true);
  EXPECT_EQ(Sessions(pair.user_id), before + 1);
  // The token is single use.
  EXPECT_TRUE(IsProblem(SecondStep(http, mfa_token, codes[0]), 400, "invalid_token"));

  // Turning it off takes the password and a code; a wrong code changes nothing.
  auto wrong_code = Disable(http, signed_in.access_token, who.password, "000000");
  EXPECT_TRUE(IsProblem(wrong_code, 422, "validation_failed")) << wrong_code;
  EXPECT_EQ(wrong_code.Json()["errors"]["code"], "is incorrect");
  auto wrong_pw_off = Disable(http, signed_in.access_token, who.password + "x", codes[0]);
  EXPECT_TRUE(IsProblem(wrong_pw_off, 422, "validation_failed")) << wrong_pw_off;
  EXPECT_EQ(wrong_pw_off.Json()["errors"]["current_password"], "is incorrect");
  auto off = Disable(http, signed_in.access_token, who.password, codes[0]);
  EXPECT_EQ(off.status, 204) << off;
  EXPECT_EQ(support::GetMe(http, signed_in.access_token).Json()["mfa_enabled"], false);
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM users WHERE mfa_secret IS NOT NULL AND id = " +
                            DirectDb::Quote(pair.user_id)),
            0);
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = " + DirectDb::Quote(pair.user_id)),
            0);
  (void)support::LoginPair(http, who);  // the password alone again
  EXPECT_TRUE(IsProblem(Disable(http, signed_in.access_token, who.password, "123456"), 409, "conflict"));

  EXPECT_EQ(Events(pair.user_id, "user.mfa_enabled"), 1);
  EXPECT_EQ(Events(pair.user_id, "user.mfa_disabled"), 1);
  EXPECT_GE(Events(pair.user_id, "auth.mfa_failed"), 2);  // the replay and the wrong code
  // Security notices by email, through the real SMTP sink (to an address not yet verified they
  // carry the title only).
  EXPECT_EQ(support::WaitForMailTo(Sink(), who.email, 1, "Two-factor sign-in is on").size(), 1u);
  EXPECT_EQ(support::WaitForMailTo(Sink(), who.email, 1, "Two-factor sign-in is off").size(), 1u);
}

TEST_F(MfaTest, NeighbourStepsAreAcceptedTwoAwayAreNot) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_window");
  ASSERT_FALSE(e.recovery_codes.empty());
  // As if the confirmation were long ago: no step accepted yet.
  Db().Exec("UPDATE users SET mfa_last_step = NULL WHERE id = " + DirectDb::Quote(e.pair.user_id));
  const long long now = support::NowInsideStep();
  std::string token = PasswordStep(http, e.who);
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, OathTotp(e.secret, now, 2)), "invalid_credentials"));
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, OathTotp(e.secret, now, -2)), "invalid_credentials"));
  EXPECT_EQ(SecondStep(http, token, OathTotp(e.secret, now, -1)).status, 200);

  token = PasswordStep(http, e.who);
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, OathTotp(e.secret, now, -1)), "invalid_credentials"))
      << "a replayed code";
  EXPECT_EQ(SecondStep(http, token, OathTotp(e.secret, now, 0)).status, 200);
  token = PasswordStep(http, e.who);
  EXPECT_EQ(SecondStep(http, token, OathTotp(e.secret, now, 1)).status, 200);
  token = PasswordStep(http, e.who);
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, OathTotp(e.secret, now, 0)), "invalid_credentials"))
      << "a step before the last accepted one";
  // Spaces inside a code are fine; the recovery code still works after failures.
  EXPECT_EQ(SecondStep(http, token, " " + e.recovery_codes[0] + " ").status, 200);
}

TEST_F(MfaTest, ConcurrentSecondStepsWithOneCodeMakeOneSession) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_race");
  ASSERT_FALSE(e.recovery_codes.empty());
  std::vector<std::string> tokens;
  for (int i = 0; i < 4; ++i) tokens.push_back(PasswordStep(http, e.who));
  const long long before = Sessions(e.pair.user_id);
  const std::string code = OathTotp(e.secret, support::NowInsideStep(), 1);
  // Eight requests: each of four tokens twice, all with the same code.
  auto answers = support::AllAtOnce(8, [&](int i) {
    return SecondStep(http, tokens[static_cast<std::size_t>(i % 4)], code);
  });
  int ok = 0;
  for (const auto& res : answers) {
    if (res.status == 200) {
      ++ok;
    } else {
      EXPECT_TRUE(res.status == 401 || res.status == 400) << res;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(Sessions(e.pair.user_id), before + 1);

  // One recovery code from two requests at once: one session.
  std::vector<std::string> more = {PasswordStep(http, e.who), PasswordStep(http, e.who)};
  auto twice = support::AllAtOnce(2, [&](int i) {
    return SecondStep(http, more[static_cast<std::size_t>(i)], e.recovery_codes[3]);
  });
  EXPECT_EQ(std::count_if(twice.begin(), twice.end(), [](const Response& r) { return r.status == 200; }), 1);
  EXPECT_EQ(Sessions(e.pair.user_id), before + 2);
}

TEST_F(MfaTest, RecoveryCodeWorksOnceAndRegeneratingVoidsTheOldSet) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_recovery");
  ASSERT_EQ(e.recovery_codes.size(), 10u);
  // Case, spaces and dashes do not matter.
  std::string typed = e.recovery_codes[0];
  std::transform(typed.begin(), typed.end(), typed.begin(), [](char ch) {
    return ch == '-' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  });
  std::string token = PasswordStep(http, e.who);
  auto used = SecondStep(http, token, typed);
  auto pair = support::ExpectTokenPair(used);
  token = PasswordStep(http, e.who);
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, e.recovery_codes[0]), "invalid_credentials"));
  EXPECT_EQ(support::WaitForMailTo(Sink(), e.who.email, 1, "A recovery code was used to sign in").size(), 1u);

  // A new set: password and a code (here a recovery code of the old set).
  auto wrong = http.Post(kRecovery, json{{"current_password", e.who.password}, {"code", e.recovery_codes[0]}}.dump(),
                         BearerHeaders(pair.access_token));
  EXPECT_TRUE(IsProblem(wrong, 422, "validation_failed")) << wrong;
  auto fresh = http.Post(kRecovery, json{{"current_password", e.who.password}, {"code", e.recovery_codes[1]}}.dump(),
                         BearerHeaders(pair.access_token));
  ASSERT_EQ(fresh.status, 200) << fresh;
  const auto codes = fresh.Json()["recovery_codes"].get<std::vector<std::string>>();
  ASSERT_EQ(codes.size(), 10u);
  for (const auto& c : codes) {
    EXPECT_TRUE(std::regex_match(c, kRecoveryPattern)) << c;
    EXPECT_EQ(std::find(e.recovery_codes.begin(), e.recovery_codes.end(), c), e.recovery_codes.end());
  }
  EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, e.recovery_codes[2]), "invalid_credentials"))
      << "a code of the old set";
  EXPECT_EQ(SecondStep(http, token, codes[9]).status, 200);
  EXPECT_EQ(Events(e.pair.user_id, "user.recovery_codes_regenerated"), 1);
  EXPECT_EQ(support::WaitForMailTo(Sink(), e.who.email, 1, "New recovery codes").size(), 1u);
}

// API.md: the second step honours cookie mode like /auth/login: the refresh token goes to the
// HttpOnly cookie, not the body, and that cookie refreshes.
TEST_F(MfaTest, TheSecondStepHonoursCookieMode) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_cookie");
  ASSERT_EQ(e.recovery_codes.size(), 10u);
  const std::string token = PasswordStep(http, e.who);
  auto res = http.Post(kSecondStep, json{{"mfa_token", token}, {"code", e.recovery_codes[0]}}.dump(), support::kCookieMode);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_TRUE(res.Json().contains("access_token")) << res;
  EXPECT_FALSE(res.Json().contains("refresh_token")) << res;
  auto cookie = support::RefreshCookieOf(res);
  ASSERT_TRUE(cookie) << res;
  EXPECT_TRUE(cookie->attributes.contains("httponly")) << res;
  support::Headers refresh_headers = support::kCookieMode;
  refresh_headers.emplace_back("Cookie", std::string(support::kRefreshCookie) + "=" + cookie->value);
  auto refreshed = http.Post("/api/v1/auth/refresh", "", refresh_headers);
  EXPECT_EQ(refreshed.status, 200) << refreshed;
  EXPECT_TRUE(support::RefreshCookieOf(refreshed)) << refreshed;
}

TEST_F(MfaTest, FifthWrongCodeSpendsTheToken) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_fifth");
  ASSERT_FALSE(e.recovery_codes.empty());
  const long long failed_before = Events(e.pair.user_id, "auth.mfa_failed");
  // Four wrong codes leave the token usable.
  std::string token = PasswordStep(http, e.who);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, "000000"), "invalid_credentials"));
  }
  EXPECT_EQ(SecondStep(http, token, e.recovery_codes[0]).status, 200);
  // The fifth spends it: even the right code is refused after it.
  token = PasswordStep(http, e.who);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, "AAAA-BBBB-CCCC-DDDD"), "invalid_credentials"));
  }
  EXPECT_TRUE(IsProblem(SecondStep(http, token, e.recovery_codes[1]), 400, "invalid_token"));
  EXPECT_EQ(Events(e.pair.user_id, "auth.mfa_failed"), failed_before + 9);
  EXPECT_TRUE(IsProblem(SecondStep(http, "not-a-token-at-all", "123456"), 400, "invalid_token"));
  EXPECT_TRUE(IsProblem(http.Post(kSecondStep, R"({"mfa_token": "x"})"), 422, "validation_failed"));
}

TEST_F(MfaTest, WrongCodesCountAsFailedLoginsOfTheAccount) {
  // A server of its own with a small account limit.
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_RATE_LIMITS", "login_account=3/15m,login_address=1000/15m"}});
  Http http(server);
  auto e = EnrolNew(http, "mfa_limit");
  ASSERT_FALSE(e.recovery_codes.empty());
  std::string token = PasswordStep(http, e.who);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(support::IsUnauthorized(SecondStep(http, token, "000000"), "invalid_credentials"));
  }
  EXPECT_TRUE(support::IsRateLimited(SecondStep(http, token, e.recovery_codes[0]), 15 * 60));
  EXPECT_TRUE(support::IsRateLimited(support::Login(http, "username", e.who.username, e.who.password), 15 * 60));
}

TEST_F(MfaTest, AdminAndCommandLineTurnItOff) {
  Http http(Server());
  auto boss = NewCredentials("mfa_boss");
  auto boss_pair = support::RegisterAndLogin(http, boss);
  Db().Exec("UPDATE users SET role = 'admin' WHERE id = " + DirectDb::Quote(boss_pair.user_id));
  auto e = EnrolNew(http, "mfa_lost");
  ASSERT_FALSE(e.recovery_codes.empty());
  const std::string path = "/api/v1/admin/users/" + e.pair.user_id;

  auto on = http.Patch(path, R"({"mfa_enabled": true})", BearerHeaders(boss_pair.access_token));
  EXPECT_TRUE(IsProblem(on, 422, "validation_failed")) << on;
  EXPECT_TRUE(on.Json()["errors"].contains("mfa_enabled"));
  auto off = http.Patch(path, R"({"mfa_enabled": false})", BearerHeaders(boss_pair.access_token));
  ASSERT_EQ(off.status, 200) << off;
  EXPECT_EQ(off.Json()["mfa_enabled"], false);
  (void)support::LoginPair(http, e.who);  // the password alone
  EXPECT_EQ(Count(Db(), "SELECT COUNT(*) FROM mfa_recovery_codes WHERE user_id = " + DirectDb::Quote(e.pair.user_id)),
            0);
  EXPECT_EQ(support::WaitForMailTo(Sink(), e.who.email, 1, "Two-factor sign-in was turned off by an administrator").size(),
            1u);

  // On again, then off from the command line.
  auto enrol = Enrol(http, e.pair.access_token, e.who.password);
  ASSERT_EQ(enrol.status, 200) << enrol;
  const std::string secret = enrol.Json()["secret"].get<std::string>();
  ASSERT_EQ(Confirm(http, e.pair.access_token, OathTotp(secret, support::NowInsideStep())).status, 200);
  (void)PasswordStep(http, e.who);
  auto cli = support::RunIkigai({"user", "--database-url", DatabaseUrl(), "mfa-reset", e.who.username});
  EXPECT_EQ(cli.exit_status, 0) << cli.out << cli.err;
  (void)support::LoginPair(http, e.who);
  auto events = Db().Query("SELECT data FROM activity WHERE action = 'admin.user_updated' AND target_id = " +
                           DirectDb::Quote(e.pair.user_id) + " ORDER BY at, id");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(json::parse(events[0][0].value_or("{}"))["fields"], json::array({"mfa_enabled"}));
  EXPECT_EQ(json::parse(events[1][0].value_or("{}"))["via"], "cli");
}

TEST_F(MfaTest, DisabledAccountAtTheSecondStepIs403) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_disabled");
  ASSERT_FALSE(e.recovery_codes.empty());
  const std::string token = PasswordStep(http, e.who);
  Db().Exec("UPDATE users SET disabled = 1 WHERE id = " + DirectDb::Quote(e.pair.user_id));
  EXPECT_TRUE(IsProblem(SecondStep(http, token, e.recovery_codes[0]), 403, "account_disabled"));
  // Nothing was spent: the same code works once the account is enabled again.
  Db().Exec("UPDATE users SET disabled = 0 WHERE id = " + DirectDb::Quote(e.pair.user_id));
  EXPECT_EQ(SecondStep(http, token, e.recovery_codes[0]).status, 200);
}

TEST_F(MfaTest, TheSecretIsNeverShownAgain) {
  Http http(Server());
  auto e = EnrolNew(http, "mfa_secret");
  ASSERT_FALSE(e.recovery_codes.empty());
  const std::string token = PasswordStep(http, e.who);
  auto pair = support::ExpectTokenPair(SecondStep(http, token, e.recovery_codes[0]));
  auto me = support::GetMe(http, pair.access_token);
  auto exported = http.Get("/api/v1/me/export", "", BearerHeaders(pair.access_token));
  ASSERT_EQ(exported.status, 200) << exported;
  auto activity = http.Get("/api/v1/me/activity?limit=100", "", BearerHeaders(pair.access_token));
  ASSERT_EQ(activity.status, 200) << activity;
  std::string rows;
  for (auto& row : Db().Query("SELECT action, data FROM activity WHERE actor_id = " + DirectDb::Quote(e.pair.user_id))) {
    rows += row[0].value_or("") + " " + row[1].value_or("") + "\n";
  }
  for (const std::string* text : {&me.body, &exported.body, &activity.body, &rows}) {
    EXPECT_EQ(text->find(e.secret), std::string::npos) << *text;
    for (const auto& code : e.recovery_codes) EXPECT_EQ(text->find(code), std::string::npos) << *text;
  }
  EXPECT_NE(rows.find("user.mfa_enabled"), std::string::npos) << rows;
  EXPECT_EQ(json::parse(exported.body)["user"]["mfa_enabled"], true);
  const std::string logs = Server().StdoutLog() + Server().StderrLog();
  EXPECT_EQ(logs.find(e.secret), std::string::npos);
}

}  // namespace
}  // namespace ikigai
