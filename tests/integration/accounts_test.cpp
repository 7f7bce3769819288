// API.md "Users" and "Authentication and sessions": registration, login, /me, disabled and
// unverified accounts, legacy bcrypt hashes, the activity log of sign-ins, and no secret in logs.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/concurrency.hpp"
#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/jwt.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace ikigai {
namespace {

using support::Repeat;

using nlohmann::json;
using support::BearerHeaders;
using support::Credentials;
using support::Http;
using support::IsProblem;
using support::IsUnauthorized;
using support::NewCredentials;
using support::Response;

constexpr const char* kRegister = "/api/v1/auth/register";
constexpr const char* kLogin = "/api/v1/auth/login";

bool IsTimestamp(const json& value) {
  static const std::regex kPattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)");
  return value.is_string() && std::regex_match(value.get<std::string>(), kPattern);
}

bool IsUuidV7(const json& value) {
  static const std::regex kPattern(
      "[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  return value.is_string() && std::regex_match(value.get<std::string>(), kPattern);
}

// A User object of API.md "Users", exactly: these fields and no other.
::testing::AssertionResult IsUserOf(const json& user, const Credentials& who,
                                    const std::string& display_name) {
  const std::set<std::string> expected = {"id",       "username",   "email",
                                          "display_name", "role",   "email_verified",
                                          "disabled", "mfa_enabled", "created_at", "updated_at"};
  if (!user.is_object()) return ::testing::AssertionFailure() << "not an object: " << user;
  std::set<std::string> keys;
  for (const auto& [key, value] : user.items()) keys.insert(key);
  if (keys != expected) return ::testing::AssertionFailure() << "fields differ: " << user;
  if (!IsUuidV7(user["id"])) return ::testing::AssertionFailure() << "id: " << user;
  if (user["username"] != who.username || user["email"] != who.email ||
      user["display_name"] != display_name || user["role"] != "user" ||
      user["email_verified"] != false || user["disabled"] != false || user["mfa_enabled"] != false) {
    return ::testing::AssertionFailure() << "values differ for " << who.username << ": " << user;
  }
  if (!IsTimestamp(user["created_at"]) || !IsTimestamp(user["updated_at"])) {
    return ::testing::AssertionFailure() << "timestamps: " << user;
  }
  return ::testing::AssertionSuccess();
}

// The body mentions neither the password nor any hash.
::testing::AssertionResult HasNoSecret(const Response& res, const Credentials& who) {
  for (std::string_view secret : {std::string_view(who.password), std::string_view("$argon2"),
                                  std::string_view("$2a$"), std::string_view("$2b$"),
                                  std::string_view("password"), std::string_view("hash")}) {
    if (res.body.find(secret) != std::string::npos) {
      return ::testing::AssertionFailure() << "the body contains \"" << secret << "\": " << res;
    }
  }
  return ::testing::AssertionSuccess();
}

// errors.<field> of a 422 validation problem.
::testing::AssertionResult IsFieldError(const Response& res, const std::string& field) {
  auto problem = IsProblem(res, 422, "validation_failed");
  if (!problem) return problem;
  auto errors = res.Json().value("errors", json::object());
  if (!errors.is_object() || !errors.contains(field) || !errors[field].is_string()) {
    return ::testing::AssertionFailure() << "no errors." << field << " in " << res;
  }
  return ::testing::AssertionSuccess();
}

json Body(const Credentials& who) {
  return {{"username", who.username}, {"email", who.email}, {"password", who.password}};
}

// ---------------------------------------------------------------------------------------------
// Registration

class RegisterTest : public support::AccountSuite<RegisterTest> {};

TEST_F(RegisterTest, CreatesTheUserWithEveryField) {
  Http http(Server());
  auto who = NewCredentials("Reg_Mixed.Case-");
  auto res = support::RegisterUser(http, who);
  ASSERT_EQ(res.status, 201) << res;
  ASSERT_TRUE(support::IsJsonResponse(res));
  EXPECT_EQ(res.Header("location"), "/api/v1/me") << res;
  auto body = res.Json();
  ASSERT_EQ(body.size(), 1u) << "only {\"user\": User} expected: " << res;
  EXPECT_TRUE(IsUserOf(body["user"], who, who.username)) << "display_name defaults to username";
  EXPECT_TRUE(HasNoSecret(res, who));
  EXPECT_EQ(body["user"]["created_at"], body["user"]["updated_at"]);

  // "a verification email is queued": one verify_email message to the address. (Its body is
  // erased once delivered, so the link itself is checked on the received mail in email_test.)
  const std::string user_id = body["user"].value("id", "");
  auto mails = Db().Query("SELECT to_address, kind FROM mail_outbox WHERE user_id = " +
                          support::DirectDb::Quote(user_id));
  ASSERT_EQ(mails.size(), 1u) << "verification emails queued for " << user_id;
  EXPECT_EQ(mails[0][0], who.email);
  EXPECT_EQ(mails[0][1].value_or(""), "verify_email");

  // The same user, as /me shows it after a login.
  auto pair = support::LoginPair(http, who);
  auto me = support::GetMe(http, pair.access_token);
  ASSERT_EQ(me.status, 200) << me;
  EXPECT_EQ(me.Json(), body["user"]);
}

TEST_F(RegisterTest, DisplayNameIsKeptAsGiven) {
  Http http(Server());
  // 64 code points of which some take four bytes: the maximum.
  const std::string name = "Zoë 😀 " + Repeat("😀", 58);
  auto who = NewCredentials("display");
  auto res = http.Post(kRegister, support::RegisterBody(who, name));
  ASSERT_EQ(res.status, 201) << res;
  EXPECT_TRUE(IsUserOf(res.Json()["user"], who, name));

  auto empty = NewCredentials("display_empty");
  auto res2 = http.Post(kRegister, support::RegisterBody(empty, ""));
  ASSERT_EQ(res2.status, 201) << "an empty display_name is allowed (0..64): " << res2;
  EXPECT_TRUE(IsUserOf(res2.Json()["user"], empty, ""));
}

TEST_F(RegisterTest, DisplayNameOverSixtyFourCodePointsOrNotPrintableIs422) {
  Http http(Server());
  auto who = NewCredentials("display_long");
  for (const std::string& bad : {Repeat("é", 65), Repeat("a", 65), Repeat("😀", 65),
                                 std::string("bell\x07name"), std::string("line\nbreak"),
                                 std::string("nul\0name", 8)}) {
    EXPECT_TRUE(IsFieldError(http.Post(kRegister, support::RegisterBody(who, bad)), "display_name"))
        << json(bad).dump();
  }
  // Still free: nothing was created.
  EXPECT_EQ(support::RegisterUser(http, who).status, 201);
}

TEST_F(RegisterTest, UsernameRules) {
  Http http(Server());
  for (const std::string& bad :
       {std::string("ab"), std::string(33, 'a'), std::string("has space"), std::string("ali@ce"),
        std::string("ålice"), std::string("semi;colon"), std::string("slash/name"),
        std::string("")}) {
    auto who = NewCredentials("unused");
    who.username = bad;
    EXPECT_TRUE(IsFieldError(support::RegisterUser(http, who), "username")) << "\"" << bad << "\"";
  }
  for (const std::string& good : {std::string("abc"), std::string("a.b-c_D9"), std::string(32, 'z')}) {
    auto who = NewCredentials("unused");
    who.username = good;
    auto res = support::RegisterUser(http, who);
    EXPECT_EQ(res.status, 201) << "\"" << good << "\": " << res;
  }
}

TEST_F(RegisterTest, EmailRules) {
  Http http(Server());
  for (const char* bad :
       {"", "plainaddress", "no-at.example.com", "a@b", "a@b.c", "two@@example.com",
        "a b@example.com", "@example.com", "alice@", "alice@example..com",
        "alice@example.com ", " alice@example.com", "alice@-example.com"}) {
    auto who = NewCredentials("email_bad");
    who.email = bad;
    EXPECT_TRUE(IsFieldError(support::RegisterUser(http, who), "email")) << "\"" << bad << "\"";
  }
  // 254 characters is the maximum: 64 + 1 + 189.
  auto domain = [](int last_label) {
    return std::string(63, 'b') + "." + std::string(63, 'c') + "." +
           std::string(static_cast<std::size_t>(last_label), 'd') + ".com";
  };
  auto longest = NewCredentials("email_254");
  longest.email = std::string(64, 'x') + "@" + domain(57);
  ASSERT_EQ(longest.email.size(), 254u);
  auto ok = support::RegisterUser(http, longest);
  EXPECT_EQ(ok.status, 201) << ok;
  if (ok.status == 201) {
    EXPECT_EQ(ok.Json()["user"]["email"], longest.email);
  }

  auto too_long = NewCredentials("email_255");
  too_long.email = std::string(64, 'y') + "@" + domain(58);
  ASSERT_EQ(too_long.email.size(), 255u);
  EXPECT_TRUE(IsFieldError(support::RegisterUser(http, too_long), "email"));
}

TEST_F(RegisterTest, PasswordLengthCountsCodePoints) {
  Http http(Server());
  struct Case {
    std::string password;
    bool valid;
  };
  // 7 x "é" is 14 bytes but 7 characters; 8 x "é" is 8 characters; 257 ASCII characters is one
  // too many, while 256 x "é" (512 bytes) is within 256 characters.
  for (const auto& [password, valid] :
       {Case{"short1!", false}, Case{Repeat("é", 7), false}, Case{Repeat("é", 8), true},
        Case{Repeat("é", 256), true}, Case{std::string(256, 'q') , true},
        Case{std::string(257, 'q'), false}, Case{Repeat("é", 257), false}}) {
    auto who = NewCredentials("pw_len");
    who.password = password;
    auto res = support::RegisterUser(http, who);
    if (valid) {
      EXPECT_EQ(res.status, 201) << password.size() << " bytes: " << res;
      if (res.status == 201) {
        auto login = support::Login(http, "username", who.username, who.password);
        EXPECT_EQ(login.status, 200) << "cannot log in with the password just registered: "
                                     << login;
      }
    } else {
      EXPECT_TRUE(IsFieldError(res, "password")) << password.size() << " bytes";
    }
  }
}

TEST_F(RegisterTest, PasswordEqualToUsernameOrEmailIs422) {
  Http http(Server());
  auto same_as_username = NewCredentials("pw_same_user");
  same_as_username.password = same_as_username.username;
  EXPECT_TRUE(IsFieldError(support::RegisterUser(http, same_as_username), "password"));
  auto same_as_email = NewCredentials("pw_same_mail");
  same_as_email.password = same_as_email.email;
  EXPECT_TRUE(IsFieldError(support::RegisterUser(http, same_as_email), "password"));
}

TEST_F(RegisterTest, CommonPasswordIs422) {
  Http http(Server());
  for (const char* common : {"password1", "12345678", "iloveyou"}) {
    auto who = NewCredentials("pw_common");
    who.password = common;
    EXPECT_TRUE(IsFieldError(support::RegisterUser(http, who), "password")) << common;
  }
}

TEST_F(RegisterTest, MissingOrMistypedFieldsAre422) {
  Http http(Server());
  auto who = NewCredentials("fields");
  for (const char* field : {"username", "email", "password"}) {
    auto body = Body(who);
    body.erase(field);
    EXPECT_TRUE(IsFieldError(http.Post(kRegister, body.dump()), field)) << "without " << field;
    body[field] = 42;
    EXPECT_TRUE(IsFieldError(http.Post(kRegister, body.dump()), field)) << field << " a number";
  }
  auto body = Body(who);
  body["display_name"] = json::array();
  EXPECT_TRUE(IsFieldError(http.Post(kRegister, body.dump()), "display_name"));
}

TEST_F(RegisterTest, UnknownOrServerOwnedFieldIs422) {
  Http http(Server());
  auto who = NewCredentials("unknown_field");
  for (const char* field : {"role", "bogus", "email_verified", "id"}) {
    auto body = Body(who);
    body[field] = field == std::string("email_verified") ? json(true) : json("admin");
    EXPECT_TRUE(IsFieldError(http.Post(kRegister, body.dump()), field)) << field;
  }
  // None of them created the account.
  EXPECT_EQ(support::RegisterUser(http, who).status, 201);
}

TEST_F(RegisterTest, DuplicateUsernameIgnoringCaseIs409) {
  Http http(Server());
  auto first = NewCredentials("Dup_Name");
  ASSERT_EQ(support::RegisterUser(http, first).status, 201);
  auto again = NewCredentials("other");
  again.username = first.username;
  EXPECT_TRUE(IsProblem(support::RegisterUser(http, again), 409, "conflict"));
  auto upper = NewCredentials("other");
  upper.username = first.username;
  for (auto& c : upper.username) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto res = support::RegisterUser(http, upper);
  EXPECT_TRUE(IsProblem(res, 409, "conflict"));
  EXPECT_TRUE(HasNoSecret(res, upper));
  auto lower = NewCredentials("other");
  lower.username = first.username;
  for (auto& c : lower.username) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(IsProblem(support::RegisterUser(http, lower), 409, "conflict"));
}

TEST_F(RegisterTest, DuplicateEmailIgnoringCaseIs409) {
  Http http(Server());
  auto first = NewCredentials("dup_mail");
  first.email = "Dup.Mail." + first.username + "@Example.COM";
  ASSERT_EQ(support::RegisterUser(http, first).status, 201);
  auto same = NewCredentials("dup_mail2");
  same.email = first.email;
  EXPECT_TRUE(IsProblem(support::RegisterUser(http, same), 409, "conflict"));
  auto lower = NewCredentials("dup_mail3");
  lower.email = first.email;
  for (auto& c : lower.email) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_TRUE(IsProblem(support::RegisterUser(http, lower), 409, "conflict"));
}

TEST_F(RegisterTest, MalformedOrNonJsonBodyIsRefusedBeforeValidation) {
  Http http(Server());
  EXPECT_TRUE(IsProblem(http.Post(kRegister, R"({"username":)"), 400, "malformed_json"));
  support::Request text;
  text.method = "POST";
  text.path = kRegister;
  text.body = support::RegisterBody(NewCredentials("as_text"));
  text.content_type = "text/plain";
  EXPECT_TRUE(IsProblem(http.Send(text), 415, "unsupported_media_type"));
  text.path = kLogin;
  EXPECT_TRUE(IsProblem(http.Send(text), 415, "unsupported_media_type"));
  text.path = "/api/v1/auth/refresh";
  text.body = R"({"refresh_token":"abc"})";
  EXPECT_TRUE(IsProblem(http.Send(text), 415, "unsupported_media_type"));
}

TEST_F(RegisterTest, TwentyConcurrentRegistrationsOfOneUsernameGiveOne201) {
  constexpr int kRequests = 20;
  Http http(Server());
  const std::string username = NewCredentials("race").username;
  std::vector<Credentials> whos;
  for (int i = 0; i < kRequests; ++i) {
    whos.push_back(NewCredentials("race_mail"));
    whos.back().username = username;
  }
  auto responses = support::AllAtOnce(
      kRequests, [&](int i) { return support::RegisterUser(http, whos[static_cast<std::size_t>(i)]); });
  int created = 0;
  int conflicts = 0;
  for (const auto& res : responses) {
    if (res.status == 201) {
      ++created;
    } else if (IsProblem(res, 409, "conflict")) {
      ++conflicts;
    } else {
      ADD_FAILURE() << "neither 201 nor a 409 conflict: " << res;
    }
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(conflicts, kRequests - 1);
  std::string lower = username;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(Db().Scalar("SELECT COUNT(*) FROM users WHERE username_lower = " +
                        support::DirectDb::Quote(lower)),
            "1");
}

TEST_F(RegisterTest, CompatRegisterPathBehavesTheSame) {
  Http http(Server());
  auto who = NewCredentials("compat_reg");
  auto res = support::RegisterUser(http, who, {}, "/register");
  ASSERT_EQ(res.status, 201) << res;
  EXPECT_EQ(res.Header("location"), "/api/v1/me");
  EXPECT_TRUE(support::HeaderListContains(res.Header("cache-control"), "no-store")) << res;
  ASSERT_TRUE(res.Json().contains("user")) << res;
  EXPECT_TRUE(IsUserOf(res.Json()["user"], who, who.username));
  EXPECT_TRUE(HasNoSecret(res, who));
  EXPECT_TRUE(IsProblem(support::RegisterUser(http, who, {}, "/register"), 409, "conflict"));
  auto bad = NewCredentials("compat_bad");
  bad.password = "password1";
  EXPECT_TRUE(IsFieldError(support::RegisterUser(http, bad, {}, "/register"), "password"));
  auto body = Body(NewCredentials("compat_unknown"));
  body["bogus"] = 1;
  EXPECT_TRUE(IsFieldError(http.Post("/register", body.dump()), "bogus"));
  // The account made on the compatibility path signs in on the v1 path.
  EXPECT_EQ(support::Login(http, "email", who.email, who.password).status, 200);
}

// ---------------------------------------------------------------------------------------------
// Login

class LoginTest : public support::AccountSuite<LoginTest> {};

TEST_F(LoginTest, AnyIdentifierFieldMatchesUsernameOrEmailIgnoringCase) {
  Http http(Server());
  auto who = NewCredentials("Login_Any");
  who.email = "Login.Any." + who.username + "@Example.org";
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto upper = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const char* field : {"email", "username", "login"}) {
    for (const std::string& identifier :
         {who.username, who.email, upper(who.username), lower(who.email), upper(who.email)}) {
      auto res = support::Login(http, field, identifier, who.password);
      EXPECT_EQ(res.status, 200) << field << "=" << identifier << ": " << res;
      if (res.status == 200) {
        EXPECT_EQ(res.Json()["user"]["username"], who.username);
      }
    }
  }
}

TEST_F(LoginTest, TokenPairHasTheDocumentedShape) {
  Http http(Server());
  auto who = NewCredentials("pair_shape");
  auto registered = support::RegisterUser(http, who);
  ASSERT_EQ(registered.status, 201) << registered;
  auto res = support::Login(http, "login", who.email, who.password);
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(support::IsJsonResponse(res));
  EXPECT_TRUE(support::HeaderListContains(res.Header("cache-control"), "no-store")) << res;
  auto body = res.Json();
  std::set<std::string> keys;
  for (const auto& [key, value] : body.items()) keys.insert(key);
  EXPECT_EQ(keys, (std::set<std::string>{"access_token", "token_type", "expires_in",
                                         "refresh_token", "user"}))
      << res;
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 900);
  ASSERT_TRUE(body["refresh_token"].is_string()) << res;
  const std::string refresh = body["refresh_token"];
  EXPECT_GE(refresh.size(), 43u) << "a refresh token of at least 256 bits: " << refresh;
  EXPECT_TRUE(std::regex_match(refresh, std::regex("[A-Za-z0-9_-]+"))) << refresh;
  EXPECT_TRUE(IsUserOf(body["user"], who, who.username));
  EXPECT_EQ(body["user"], registered.Json()["user"]);
  EXPECT_EQ(res.body.find(who.password), std::string::npos) << res;
  EXPECT_EQ(res.body.find("$argon2"), std::string::npos) << res;

  // Two logins never share a refresh token.
  auto second = support::Login(http, "login", who.email, who.password);
  ASSERT_EQ(second.status, 200) << second;
  EXPECT_NE(second.Json()["refresh_token"], refresh);
}

TEST_F(LoginTest, AccessTokenCarriesTheDocumentedClaims) {
  Http http(Server());
  auto who = NewCredentials("claims");
  auto pair = support::RegisterAndLogin(http, who);
  auto jwt = support::DecodeJwt(pair.access_token);
  ASSERT_TRUE(jwt) << pair.access_token;
  EXPECT_EQ(jwt->header.value("alg", ""), "HS256") << jwt->header;
  const auto& claims = jwt->payload;
  EXPECT_EQ(claims.value("iss", ""), "ikigai") << claims;
  EXPECT_EQ(claims.value("aud", ""), "ikigai") << claims;
  EXPECT_EQ(claims.value("sub", ""), pair.body["user"]["id"].get<std::string>()) << claims;
  EXPECT_TRUE(IsUuidV7(claims.value("sid", json()))) << claims;
  EXPECT_EQ(claims.value("role", ""), "user") << claims;
  ASSERT_TRUE(claims.contains("iat") && claims["iat"].is_number_integer()) << claims;
  ASSERT_TRUE(claims.contains("exp") && claims["exp"].is_number_integer()) << claims;
  EXPECT_EQ(claims["exp"].get<long long>(), claims["iat"].get<long long>() + 900) << claims;
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  EXPECT_NEAR(static_cast<double>(claims["iat"].get<long long>()), static_cast<double>(now), 60);
  ASSERT_TRUE(claims.contains("jti") && claims["jti"].is_string()) << claims;
  EXPECT_FALSE(claims["jti"].get<std::string>().empty());

  // Every login is a new session with a new token id.
  auto again = support::LoginPair(http, who);
  auto jwt2 = support::DecodeJwt(again.access_token);
  ASSERT_TRUE(jwt2);
  EXPECT_NE(jwt2->payload.value("sid", ""), claims.value("sid", ""));
  EXPECT_NE(jwt2->payload.value("jti", ""), claims.value("jti", ""));
}

TEST_F(LoginTest, CompatLoginAlsoReturnsTheTokenUnderToken) {
  Http http(Server());
  auto who = NewCredentials("compat_login");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto res = support::Login(http, "username", who.username, who.password, {}, "/login");
  ASSERT_EQ(res.status, 200) << res;
  auto body = res.Json();
  ASSERT_TRUE(body.contains("token") && body["token"].is_string()) << res;
  EXPECT_EQ(body["token"], body["access_token"]);
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 900);
  EXPECT_TRUE(body["refresh_token"].is_string());
  EXPECT_TRUE(support::HeaderListContains(res.Header("cache-control"), "no-store")) << res;
  EXPECT_EQ(support::GetMe(http, body["token"].get<std::string>()).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-Password-1",
                                            {}, "/login"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsProblem(http.Post("/login", json{{"password", who.password}}.dump()), 422,
                        "validation_failed"));
}

TEST_F(LoginTest, MoreThanOneIdentifierIs422) {
  Http http(Server());
  auto who = NewCredentials("two_ids");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  for (const json& body :
       {json{{"email", who.email}, {"username", who.username}, {"password", who.password}},
        json{{"login", who.email}, {"username", who.username}, {"password", who.password}},
        json{{"email", who.email}, {"login", who.email}, {"password", who.password}},
        json{{"email", who.email},
             {"username", who.username},
             {"login", who.username},
             {"password", who.password}}}) {
    auto res = http.Post(kLogin, body.dump());
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << body;
    if (res.status == 422) {
      EXPECT_FALSE(res.Json().value("errors", json::object()).empty()) << res;
    }
  }
}

TEST_F(LoginTest, NoIdentifierOrNoPasswordIs422) {
  Http http(Server());
  auto who = NewCredentials("no_ids");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  for (const json& body : {json{{"password", who.password}}, json::object(),
                           json{{"username", who.username}}, json{{"email", who.email}},
                           json{{"username", 42}, {"password", who.password}},
                           json{{"username", who.username}, {"password", 42}},
                           json{{"username", who.username}, {"password", who.password},
                                {"remember_me", true}}}) {
    auto res = http.Post(kLogin, body.dump());
    EXPECT_TRUE(IsProblem(res, 422, "validation_failed")) << body;
    if (res.status == 422) {
      EXPECT_FALSE(res.Json().value("errors", json::object()).empty()) << res;
    }
  }
  EXPECT_TRUE(IsProblem(http.Post(kLogin, R"({"username":)"), 400, "malformed_json"));
}

TEST_F(LoginTest, WrongPasswordAndUnknownUserAreTheSame401) {
  Http http(Server());
  auto who = NewCredentials("wrong_pw");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto wrong = support::Login(http, "username", who.username, who.password + "x");
  auto unknown = support::Login(http, "username", who.username + "_nobody", who.password);
  auto unknown_mail = support::Login(http, "email", "nobody-" + who.email, who.password);
  for (const auto* res : {&wrong, &unknown, &unknown_mail}) {
    EXPECT_TRUE(IsUnauthorized(*res, "invalid_credentials"));
  }
  // Uniform: the same title and detail, so nothing tells the two cases apart.
  ASSERT_TRUE(support::IsJsonResponse(wrong) && support::IsJsonResponse(unknown));
  auto a = wrong.Json();
  auto b = unknown.Json();
  EXPECT_EQ(a.value("title", ""), b.value("title", ""));
  EXPECT_EQ(a.value("detail", ""), b.value("detail", ""));
  EXPECT_EQ(a.value("type", ""), b.value("type", ""));
  // The password is case-sensitive.
  std::string shouted = who.password;
  for (auto& c : shouted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, shouted),
                             "invalid_credentials"));
}

TEST_F(LoginTest, LongPasswordIsNeverTruncated) {
  Http http(Server());
  auto who = NewCredentials("long_pw");
  who.password = std::string(200, 'L') + "-tail";
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
  // bcrypt would have looked at the first 72 bytes only; every character counts.
  for (std::size_t cut : {72u, 128u, 204u}) {
    EXPECT_TRUE(IsUnauthorized(
        support::Login(http, "username", who.username, who.password.substr(0, cut)),
        "invalid_credentials"))
        << "the first " << cut << " characters were accepted";
  }
  // A NUL (escaped in JSON) is a character like any other, not the end of the password.
  auto nul = NewCredentials("nul_pw");
  nul.password = std::string("Before-The-Nul-7") + '\0' + "and-after";
  ASSERT_EQ(support::RegisterUser(http, nul).status, 201);
  EXPECT_EQ(support::Login(http, "username", nul.username, nul.password).status, 200);
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", nul.username, "Before-The-Nul-7"),
                             "invalid_credentials"));
}

TEST(LoginTimingTest, UnknownUserTakesAsLongAsAWrongPassword) {
  // API.md: unknown user and wrong password "take the same time (a dummy hash is verified for
  // unknown users)". With the default Argon2id costs the hash dominates a login; interleaved
  // medians keep machine load out of the comparison.
  support::TempDir dir;
  auto server = support::StartAccountServer(
      dir, support::FreshDatabaseUrl(dir),
      {{"IKIGAI_ARGON2_MEMORY_KIB", "19456"}, {"IKIGAI_ARGON2_OPS", "2"}});
  Http http(server);
  auto who = NewCredentials("timing");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto timed = [&](const std::string& login) {
    const auto start = std::chrono::steady_clock::now();
    auto res = support::Login(http, "username", login, "Wrong-Password-For-Timing");
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(IsUnauthorized(res, "invalid_credentials"));
    return std::chrono::duration<double, std::milli>(took).count();
  };
  std::vector<double> wrong;
  std::vector<double> unknown;
  for (int i = 0; i < 9; ++i) {
    wrong.push_back(timed(who.username));
    unknown.push_back(timed(who.username + "_nobody" + std::to_string(i)));
  }
  std::sort(wrong.begin(), wrong.end());
  std::sort(unknown.begin(), unknown.end());
  const double wrong_median = wrong[wrong.size() / 2];
  const double unknown_median = unknown[unknown.size() / 2];
  EXPECT_GT(unknown_median, 0.5 * wrong_median)
      << "unknown user " << unknown_median << " ms vs wrong password " << wrong_median << " ms";
  EXPECT_LT(unknown_median, 2.0 * wrong_median)
      << "unknown user " << unknown_median << " ms vs wrong password " << wrong_median << " ms";
}

// ---------------------------------------------------------------------------------------------
// GET /api/v1/me

class MeTest : public support::AccountSuite<MeTest> {};

TEST_F(MeTest, TokenOfADeletedUserIs401) {
  Http http(Server());
  auto pair = support::RegisterAndLogin(http, NewCredentials("me_deleted"));
  ASSERT_EQ(support::GetMe(http, pair.access_token).status, 200);
  Db().Exec("DELETE FROM users WHERE id = " + support::DirectDb::Quote(pair.user_id));
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, pair.refresh_token)));
}

TEST_F(MeTest, ReturnsTheCallersUser) {
  Http http(Server());
  auto alice = NewCredentials("me_alice");
  auto bob = NewCredentials("me_bob");
  auto alice_pair = support::RegisterAndLogin(http, alice);
  auto bob_pair = support::RegisterAndLogin(http, bob);
  auto res = support::GetMe(http, alice_pair.access_token);
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(support::IsJsonResponse(res));
  EXPECT_TRUE(IsUserOf(res.Json(), alice, alice.username));
  EXPECT_EQ(res.Json(), alice_pair.body["user"]);
  EXPECT_TRUE(support::HeaderListContains(res.Header("cache-control"), "no-store")) << res;
  EXPECT_TRUE(HasNoSecret(res, alice));
  EXPECT_EQ(support::GetMe(http, bob_pair.access_token).Json()["username"], bob.username);
  // The scheme name is case-insensitive (RFC 9110).
  auto lower = http.Get("/api/v1/me", "", {{"Authorization", "bearer " + alice_pair.access_token}});
  EXPECT_EQ(lower.status, 200) << lower;
}

TEST_F(MeTest, WithoutAValidTokenIs401) {
  Http http(Server());
  auto who = NewCredentials("me_bad");
  auto pair = support::RegisterAndLogin(http, who);
  EXPECT_TRUE(IsUnauthorized(http.Get("/api/v1/me")));
  for (const std::string& header :
       {std::string("Bearer"), std::string("Bearer "), std::string("Basic dXNlcjpwYXNz"),
        std::string("Token ") + pair.access_token, pair.access_token, std::string("Bearer garbage"),
        std::string("Bearer a.b.c"), std::string("Bearer ") + pair.access_token + "x",
        std::string("Bearer ") + pair.refresh_token, std::string("Bearer ") + pair.access_token +
        "." + pair.access_token}) {
    auto res = http.Get("/api/v1/me", "", {{"Authorization", header}});
    EXPECT_TRUE(IsUnauthorized(res)) << "Authorization: " << header;
  }
  // Authentication comes before the body is looked at.
  auto with_body = http.Get("/api/v1/me", "{not json", {});
  EXPECT_TRUE(IsUnauthorized(with_body));
}

// ---------------------------------------------------------------------------------------------
// Disabled and unverified accounts

TEST(DisabledAccountTest, DisabledAccountIs403AfterTheRightPasswordOnly) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto server = support::StartAccountServer(dir, url);
  Http http(server);
  auto who = NewCredentials("disabled");
  auto pair = support::RegisterAndLogin(http, who);
  auto other = NewCredentials("still_enabled");
  auto other_pair = support::RegisterAndLogin(http, other);
  ASSERT_EQ(support::GetMe(http, pair.access_token).status, 200);

  auto cli = support::RunIkigai({"user", "disable", who.username, "--database-url", url,
                                 "--data-dir", dir.Path()},
                                support::AccountServerEnv());
  ASSERT_EQ(cli.exit_status, 0) << "ikigai user disable failed:\n" << cli.out << cli.err;

  // The existing access token is refused from the next request on, and so is its refresh token.
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, pair.access_token)));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, pair.refresh_token)));
  auto right = support::Login(http, "username", who.username, who.password);
  EXPECT_TRUE(IsProblem(right, 403, "account_disabled"));
  EXPECT_EQ(right.body.find("access_token"), std::string::npos) << right;
  EXPECT_TRUE(IsProblem(support::Login(http, "email", who.email, who.password), 403,
                        "account_disabled"));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-Password-99"),
                             "invalid_credentials"));
  // Nobody else is affected.
  EXPECT_EQ(support::GetMe(http, other_pair.access_token).status, 200);

  auto enable = support::RunIkigai({"user", "enable", who.username, "--database-url", url,
                                    "--data-dir", dir.Path()},
                                   support::AccountServerEnv());
  ASSERT_EQ(enable.exit_status, 0) << enable.out << enable.err;
  EXPECT_EQ(support::Login(http, "username", who.username, who.password).status, 200);
}

TEST(VerifiedEmailTest, UnverifiedAccountIs403AfterTheRightPasswordOnly) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto server =
      support::StartAccountServer(dir, url, {{"IKIGAI_REQUIRE_VERIFIED_EMAIL", "true"}});
  Http http(server);
  auto who = NewCredentials("unverified");
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  auto right = support::Login(http, "username", who.username, who.password);
  EXPECT_TRUE(IsProblem(right, 403, "email_not_verified"));
  EXPECT_EQ(right.body.find("access_token"), std::string::npos) << right;
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "Wrong-Password-99"),
                             "invalid_credentials"));
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username + "_x", who.password),
                             "invalid_credentials"));

  // Once the address is verified the same password signs in.
  support::DirectDb db(url);
  db.Exec("UPDATE users SET email_verified = 1 WHERE username = " +
          support::DirectDb::Quote(who.username));
  auto after = support::Login(http, "username", who.username, who.password);
  ASSERT_EQ(after.status, 200) << after;
  EXPECT_EQ(after.Json()["user"]["email_verified"], true);
}

TEST(VerifiedEmailTest, UnverifiedAccountSignsInByDefault) {
  support::TempDir dir;
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir));
  Http http(server);
  auto who = NewCredentials("unverified_ok");
  auto pair = support::RegisterAndLogin(http, who);
  EXPECT_EQ(pair.body["user"]["email_verified"], false);
}

// ---------------------------------------------------------------------------------------------
// Legacy bcrypt hashes from the original backend (bcryptjs)

struct LegacyFixture {
  const char* name;
  const char* hash;
};

constexpr const char* kLegacyPassword = "ikigai-legacy-pass";

class LegacyBcryptTest : public support::AccountSuite<LegacyBcryptTest, ::testing::TestWithParam<LegacyFixture>> {
 protected:
  // Inserts a user as `ikigai import-legacy-users` would have; returns its id.
  static std::string InsertLegacyUser(const Credentials& who, const std::string& hash) {
    static int next = 0;
    ++next;
    char id[40];
    std::snprintf(id, sizeof id, "01900000-0000-7000-8000-%012d", next);
    const std::string lower_name = Lower(who.username);
    const std::string lower_email = Lower(who.email);
    using support::DirectDb;
    Db().Exec(
        "INSERT INTO users (id, username, username_lower, email, email_lower, display_name, "
        "password_hash, role, email_verified, disabled, legacy_id, created_at, updated_at) VALUES "
        "(" +
        DirectDb::Quote(id) + ", " + DirectDb::Quote(who.username) + ", " +
        DirectDb::Quote(lower_name) + ", " + DirectDb::Quote(who.email) + ", " +
        DirectDb::Quote(lower_email) + ", " + DirectDb::Quote(who.username) + ", " +
        DirectDb::Quote(hash) + ", 'user', 1, 0, " + std::to_string(7000 + next) +
        ", 1700000000000, 1700000000000)");
    return id;
  }

  static std::string StoredHash(const std::string& id) {
    return Db()
        .Scalar("SELECT password_hash FROM users WHERE id = " + support::DirectDb::Quote(id))
        .value_or("");
  }

  static std::string Lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
};

TEST_P(LegacyBcryptTest, LogsInAndIsUpgradedToArgon2id) {
  Http http(Server());
  auto who = NewCredentials(std::string("Legacy_") + GetParam().name);
  const std::string id = InsertLegacyUser(who, GetParam().hash);

  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "not-the-password"),
                             "invalid_credentials"));
  EXPECT_EQ(StoredHash(id), GetParam().hash) << "a failed login changed the hash";

  auto first = support::Login(http, "email", who.email, kLegacyPassword);
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.Json()["user"]["id"], id);
  const std::string upgraded = StoredHash(id);
  EXPECT_EQ(upgraded.rfind("$argon2id$", 0), 0u) << "stored hash after login: " << upgraded;
  EXPECT_EQ(first.body.find(upgraded), std::string::npos);
  EXPECT_EQ(support::GetMe(http, support::ExpectTokenPair(first).access_token).status, 200);

  auto second = support::Login(http, "username", Lower(who.username), kLegacyPassword);
  EXPECT_EQ(second.status, 200) << "the upgraded hash does not verify: " << second;
  EXPECT_EQ(StoredHash(id), upgraded) << "an Argon2id hash with current costs is kept";
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, "not-the-password"),
                             "invalid_credentials"));
}

INSTANTIATE_TEST_SUITE_P(
    Bcryptjs, LegacyBcryptTest,
    ::testing::Values(
        LegacyFixture{"v243_2a", "$2a$10$xV0RWMldUd1U3acWL65nzeqtmNuwUEYNht5nzCA7IOvV7yA./4.pa"},
        LegacyFixture{"v303_2b", "$2b$10$DcMzGUX4HEGDmH6kgB1e3.zI.RthQvT7ntMnHxVqUEZiNYJKgey1S"},
        // The same hash with PHP's "$2y$" prefix, which API.md lists as well.
        LegacyFixture{"php_2y", "$2y$10$DcMzGUX4HEGDmH6kgB1e3.zI.RthQvT7ntMnHxVqUEZiNYJKgey1S"}),
    [](const auto& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------
// The activity log of sign-ins, and secrets kept out of the database and the log

struct ActivityRow {
  std::optional<std::string> actor_id;
  std::string action;
  std::optional<std::string> target_id;
  std::string ip;
  std::string user_agent;
  std::string request_id;
  std::string data;
};

std::vector<ActivityRow> ReadActivity(support::DirectDb& db) {
  std::vector<ActivityRow> out;
  for (auto& row : db.Query("SELECT actor_id, action, target_id, ip, user_agent, request_id, data "
                            "FROM activity ORDER BY at, id")) {
    out.push_back({row[0], row[1].value_or(""), row[2], row[3].value_or(""), row[4].value_or(""),
                   row[5].value_or(""), row[6].value_or("")});
  }
  return out;
}

TEST(ActivityTest, SignInEventsAreRecordedWithRequestIdAndNoSecret) {
  support::TempDir dir;
  const std::string url = support::FreshDatabaseUrl(dir);
  auto server = support::StartAccountServer(dir, url);
  Http http(server);
  support::DirectDb db(url);
  const std::string agent = "activity-agent/2.0";
  auto headers = [&](const std::string& request_id) {
    support::Headers h{{"User-Agent", agent}};
    if (!request_id.empty()) h.emplace_back("X-Request-Id", request_id);
    return h;
  };
  struct Expected {
    std::string action;
    std::string request_id;
    std::optional<std::string> actor_id;
  };
  std::vector<Expected> expected;
  std::vector<std::string> secrets;

  auto who = NewCredentials("activity");
  secrets.push_back(who.password);
  auto registered = support::RegisterUser(http, who, headers("act-register.1"));
  ASSERT_EQ(registered.status, 201) << registered;
  EXPECT_EQ(registered.Header("x-request-id"), "act-register.1");
  const std::string user_id = registered.Json()["user"]["id"];
  expected.push_back({"auth.registered", "act-register.1", user_id});

  auto login = support::Login(http, "username", who.username, who.password, headers("act:login"));
  auto pair = support::ExpectTokenPair(login);
  secrets.push_back(pair.access_token);
  secrets.push_back(pair.refresh_token);
  expected.push_back({"auth.login_succeeded", login.Header("x-request-id"), user_id});

  const std::string wrong_password = "Wrong-Guess-Of-A-Password-31";
  secrets.push_back(wrong_password);
  auto failed = support::Login(http, "email", who.email, wrong_password, headers(""));
  ASSERT_TRUE(IsUnauthorized(failed, "invalid_credentials"));
  expected.push_back({"auth.login_failed", failed.Header("x-request-id"), user_id});

  auto unknown = support::Login(http, "login", "nobody-" + who.username, wrong_password,
                                headers("act-unknown"));
  ASSERT_TRUE(IsUnauthorized(unknown, "invalid_credentials"));
  expected.push_back({"auth.login_failed", "act-unknown", std::nullopt});

  // Refresh, then show the spent token again after the grace window: reuse. The window is
  // passed by moving the token's spent_at 60 s into the past rather than by waiting.
  auto refreshed = support::ExpectTokenPair(support::Refresh(http, pair.refresh_token));
  secrets.push_back(refreshed.access_token);
  secrets.push_back(refreshed.refresh_token);
  db.Exec("UPDATE refresh_tokens SET spent_at = spent_at - 60000 WHERE token_hash = " +
          support::DirectDb::Quote(support::Sha256Hex(pair.refresh_token)));
  auto reused = support::Refresh(http, pair.refresh_token, headers("act-reuse"));
  ASSERT_TRUE(IsUnauthorized(reused)) << "reuse after the grace window";
  expected.push_back({"auth.refresh_reused", "act-reuse", user_id});

  auto second = support::LoginPair(http, who, headers("act-login-2"));
  secrets.push_back(second.access_token);
  secrets.push_back(second.refresh_token);
  expected.push_back({"auth.login_succeeded", "act-login-2", user_id});
  auto logout =
      http.Post("/api/v1/auth/logout", "", support::BearerHeaders(second.access_token,
                                                                  headers("act-logout")));
  ASSERT_EQ(logout.status, 204) << logout;
  expected.push_back({"auth.logout", "act-logout", user_id});

  auto rows = ReadActivity(db);
  for (const auto& e : expected) {
    ASSERT_FALSE(e.request_id.empty());
    const ActivityRow* found = nullptr;
    for (const auto& row : rows) {
      if (row.action == e.action && row.request_id == e.request_id) found = &row;
    }
    if (found == nullptr) {
      ADD_FAILURE() << "no " << e.action << " row with request_id " << e.request_id;
      continue;
    }
    EXPECT_EQ(found->actor_id, e.actor_id) << e.action << " " << e.request_id;
    EXPECT_EQ(found->ip, "127.0.0.1") << e.action;
    EXPECT_EQ(found->user_agent, agent) << e.action;
  }
  for (const auto& row : rows) {
    for (const auto& secret : secrets) {
      EXPECT_EQ(row.data.find(secret), std::string::npos)
          << row.action << " data holds a secret: " << row.data;
    }
    EXPECT_EQ(row.data.find("$argon2"), std::string::npos) << row.action << ": " << row.data;
    EXPECT_TRUE(json::accept(row.data)) << row.action << ": " << row.data;
  }
}

TEST(SecretsInLogsTest, NoPasswordOrTokenIsLogged) {
  support::TempDir dir;
  // Debug level: nothing secret may be logged at any level.
  auto server = support::StartAccountServer(dir, support::FreshDatabaseUrl(dir),
                                            {{"IKIGAI_LOG_LEVEL", "debug"}});
  Http http(server);
  auto who = NewCredentials("logs");
  std::vector<std::string> secrets{who.password};
  auto pair = support::RegisterAndLogin(http, who);
  auto refreshed = support::ExpectTokenPair(support::Refresh(http, pair.refresh_token));
  auto grace = support::ExpectTokenPair(support::Refresh(http, pair.refresh_token));
  const std::string wrong = "Not-The-Password-But-Close-42";
  EXPECT_TRUE(IsUnauthorized(support::Login(http, "username", who.username, wrong),
                             "invalid_credentials"));
  EXPECT_TRUE(IsUnauthorized(support::Refresh(http, "an-unknown-refresh-token-value-xyz")));
  EXPECT_EQ(support::GetMe(http, refreshed.access_token).status, 200);
  EXPECT_EQ(http.Post("/api/v1/auth/logout", "", BearerHeaders(grace.access_token)).status, 204);
  EXPECT_TRUE(IsUnauthorized(support::GetMe(http, grace.access_token)));
  secrets.insert(secrets.end(), {wrong, "an-unknown-refresh-token-value-xyz", pair.access_token,
                                 pair.refresh_token, refreshed.access_token,
                                 refreshed.refresh_token, grace.access_token, grace.refresh_token});
  for (const auto& token : {pair.access_token, refreshed.access_token, grace.access_token}) {
    secrets.push_back(token.substr(token.rfind('.') + 1));  // the signature alone
  }
  EXPECT_EQ(server.Stop(), 0);
  const std::string log = server.StderrLog() + server.StdoutLog();
  EXPECT_FALSE(log.empty()) << "no log at all";
  for (const auto& secret : secrets) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log contains a secret: " << secret;
  }
  EXPECT_EQ(log.find("$argon2"), std::string::npos) << "the log contains a hash";
}

}  // namespace
}  // namespace ikigai
