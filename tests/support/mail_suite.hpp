// Integration tests that read the mail the server sends: a real SMTP sink (smtp_sink.py), servers
// that deliver to it with credentials, the links and tokens inside the mails, and a suite fixture
// that shares one sink and one server between the tests of a suite.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/concurrency.hpp"
#include "support/email_message.hpp"
#include "support/http_client.hpp"
#include "support/smtp_sink.hpp"

namespace ikigai::support {

inline const std::string kPublicUrl = "https://app.ikigai.test";
inline const std::string kResetPrefix = kPublicUrl + "/reset-password?token=";
inline const std::string kVerifyPrefix = kPublicUrl + "/verify-email?token=";
inline const std::string kMailFrom = "Ikigai Mail <no-reply@ikigai.test>";
// The SMTP credentials the servers are given; the sink accepts any AUTH.
inline const std::string kSmtpUser = "mailer";
inline const std::string kSmtpPassword = "s3cr3t-pass";

inline std::string SmtpUrlWithAuth(const SmtpSink& sink) {
  return "smtp://" + kSmtpUser + ":" + kSmtpPassword + "@127.0.0.1:" + std::to_string(sink.Port());
}

// Overrides for StartAccountServer: real SMTP with credentials, the public URL and From of these
// tests, then `extra`.
inline std::map<std::string, std::string> MailEnv(const SmtpSink& sink,
                                           const std::map<std::string, std::string>& extra = {}) {
  std::map<std::string, std::string> env = {
      {"IKIGAI_SMTP_URL", SmtpUrlWithAuth(sink)},
      {"IKIGAI_PUBLIC_URL", kPublicUrl},
      {"IKIGAI_MAIL_FROM", kMailFrom},
  };
  for (const auto& [k, v] : extra) env[k] = v;
  return env;
}

// Tokens are random (>= 256 bits: 43 base64url characters or more) of [A-Za-z0-9_-].
inline ::testing::AssertionResult IsWellFormedToken(const std::string& token) {
  static const std::regex kPattern("[A-Za-z0-9_-]{43,}");
  if (!std::regex_match(token, kPattern)) {
    return ::testing::AssertionFailure() << "not a token of >= 43 [A-Za-z0-9_-]: \"" << token << "\"";
  }
  return ::testing::AssertionSuccess();
}

// The token of the link with `prefix` in the text part (what follows "token=" up to white space);
// "" when the text part has no such link.
inline std::string TokenIn(const Email& mail, const std::string& prefix) {
  const std::string link = LinkIn(mail.Text(), prefix);
  return link.empty() ? std::string{} : link.substr(prefix.size());
}

// The tokens of every mail to `to` carrying a link with `prefix`, oldest first, once `count` such
// mails arrived; fails the test (and returns fewer) otherwise.
inline std::vector<std::string> AwaitTokens(const SmtpSink& sink, const std::string& to,
                                     const std::string& prefix, std::size_t count) {
  auto mails = WaitForMailTo(sink, to, count, prefix);
  EXPECT_GE(mails.size(), count) << "expected " << count << " mail(s) to " << to << " with "
                                 << prefix << ", got " << mails.size();
  std::vector<std::string> tokens;
  for (const auto& mail : mails) {
    tokens.push_back(TokenIn(mail, prefix));
    EXPECT_TRUE(IsWellFormedToken(tokens.back())) << mail.raw;
  }
  return tokens;
}

// The token of the nth mail to `to` with `prefix`'s link (1-based); waits for it, "" (and a
// test failure) when it does not come.
inline std::string AwaitToken(const SmtpSink& sink, const std::string& to, const std::string& prefix,
                       std::size_t nth = 1) {
  auto tokens = AwaitTokens(sink, to, prefix, nth);
  return tokens.size() >= nth ? tokens[nth - 1] : std::string{};
}

// A sink and a server that sends to it, shared by the tests of one suite (each suite its own).
// Tests tell their mail apart by recipient: every test uses addresses of its own.

template <class Suite>
class MailSuite : public ::testing::Test {
 public:
  static std::map<std::string, std::string> ExtraEnv() { return {}; }

 protected:
  static void TearDownTestSuite() {
    if (server_) server_->Reset();
    server_.reset();
    sink_.reset();
  }
  static SmtpSink& Sink() {
    if (!sink_) sink_ = std::make_unique<SmtpSink>();
    return *sink_;
  }
  static ::ikigai::support::Server& Server() {
    if (!server_) {
      server_ = std::make_unique<SharedAccountServer>(MailEnv(Sink(), Suite::ExtraEnv()));
    }
    return server_->Get();
  }
  static DirectDb& Db() {
    (void)Server();
    return server_->Db();
  }
  // The database the suite's server uses (for the command line on the same data).
  static const std::string& DatabaseUrl() {
    (void)Server();
    return server_->DatabaseUrl();
  }

  // Registers `who` (201) and waits for the verification mail; returns the user's id and the
  // token of that mail.
  static std::pair<std::string, std::string> RegisterAndAwaitVerification(
      const Http& http, const Credentials& who, std::optional<std::string> display_name = std::nullopt) {
    auto res = http.Post("/api/v1/auth/register", RegisterBody(who, display_name));
    EXPECT_EQ(res.status, 201) << res;
    if (res.status != 201) return {};
    return {res.Json()["user"]["id"].get<std::string>(), AwaitToken(Sink(), who.email, kVerifyPrefix)};
  }

 private:
  static inline std::unique_ptr<SmtpSink> sink_;
  static inline std::unique_ptr<SharedAccountServer> server_;
};

}  // namespace ikigai::support
