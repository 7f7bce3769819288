// Configuration defaults, validation messages that name the variable, and parsers.
#include "config/config.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace ikigai::config {
namespace {

TEST(ConfigTest, DefaultsMatchTheDesign) {
  auto c = FromValues({});
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->listen.host, "127.0.0.1");
  EXPECT_EQ(c->listen.port, 8080);
  EXPECT_EQ(c->database_url, "sqlite://./data/ikigai.db");
  EXPECT_EQ(c->max_body_bytes, 65536u);
  EXPECT_EQ(c->access_ttl, std::chrono::seconds(900));
  EXPECT_EQ(c->refresh_ttl, std::chrono::hours(24 * 30));
  EXPECT_EQ(c->argon2_memory_kib, 19456u);
  EXPECT_EQ(c->argon2_ops, 2u);
  EXPECT_EQ(c->jwt_issuer, "ikigai");
  EXPECT_EQ(c->jwt_audience, "ikigai");
  EXPECT_TRUE(c->rate_limits_enabled);
  EXPECT_EQ(c->rate_limits.at("login_account").max_events, 10);
  EXPECT_EQ(c->rate_limits.at("login_account").window, std::chrono::minutes(15));
  EXPECT_EQ(c->rate_limits.at("register_address").max_events, 20);
  EXPECT_EQ(c->db_pool_size, c->workers + 2);
  EXPECT_EQ(c->max_connections, 9000u);
  EXPECT_EQ(c->max_streams, 10000u);
}

TEST(ConfigTest, BadValuesNameTheirVariable) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"IKIGAI_MAX_BODY_BYTES", "abc"},      {"IKIGAI_LISTEN", "nowhere"},
      {"IKIGAI_ENV", "staging"},             {"IKIGAI_LOG_FORMAT", "xml"},
      {"IKIGAI_ACCESS_TTL", "-5"},           {"IKIGAI_TRUSTED_PROXIES", "10.0.0.0/99"},
      {"IKIGAI_RATE_LIMITS", "nonsense=1/1m"}, {"IKIGAI_DATABASE_URL", "postgres://x"},
      {"IKIGAI_JWT_SECRET", "short"},        {"IKIGAI_ARGON2_OPS", "0"},
      {"IKIGAI_REQUIRE_VERIFIED_EMAIL", "maybe"}, {"IKIGAI_CORS_ORIGINS", "https://a.example/"},
      {"IKIGAI_MAX_STREAMS", "0"},           {"IKIGAI_MAX_STREAMS", "1000001"},
      {"IKIGAI_MAX_STREAMS", "many"},
  };
  for (const auto& [name, value] : bad) {
    auto c = FromValues({{name, value}});
    ASSERT_FALSE(c) << name << "=" << value;
    EXPECT_NE(c.error().detail.find(name), std::string::npos) << c.error().detail;
  }
}

TEST(ConfigTest, MaxStreamsTakesItsRange) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::size_t>>{{"1", 1}, {"1000000", 1000000}}) {
    auto c = FromValues({{"IKIGAI_MAX_STREAMS", text}});
    ASSERT_TRUE(c) << text << ": " << c.error().detail;
    EXPECT_EQ(c->max_streams, expected);
  }
  const auto& settings = Settings();
  const auto it = std::find_if(settings.begin(), settings.end(),
                               [](const Setting& s) { return std::string(s.env) == "IKIGAI_MAX_STREAMS"; });
  ASSERT_NE(it, settings.end()) << "IKIGAI_MAX_STREAMS is not a setting (no serve flag)";
  EXPECT_STREQ(it->flag, "--max-streams");
}

TEST(ConfigTest, ProductionNeedsSecretAndSmtp) {
  auto c = FromValues({{"IKIGAI_ENV", "production"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().detail.find("IKIGAI_JWT_SECRET"), std::string::npos);
  const std::string secret(40, 's');
  c = FromValues({{"IKIGAI_ENV", "production"}, {"IKIGAI_JWT_SECRET", secret}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().detail.find("IKIGAI_SMTP_URL"), std::string::npos);
  c = FromValues({{"IKIGAI_ENV", "production"}, {"IKIGAI_JWT_SECRET", secret},
                  {"IKIGAI_SMTP_URL", "smtp://mail.example.com:587"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().detail.find("IKIGAI_VAPID_PRIVATE_KEY"), std::string::npos);
  c = FromValues({{"IKIGAI_ENV", "production"}, {"IKIGAI_JWT_SECRET", secret},
                  {"IKIGAI_SMTP_URL", "smtp://mail.example.com:587"},
                  {"IKIGAI_VAPID_PRIVATE_KEY", "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"}});
  EXPECT_TRUE(c);
}

TEST(ConfigTest, VapidKeyAndSubject) {
  // The RFC 8291 example key, as a base64url scalar and as a one-line PEM with \n escapes.
  auto c = FromValues({{"IKIGAI_VAPID_PRIVATE_KEY", "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"},
                       {"IKIGAI_MAIL_FROM", "Ikigai <ops@example.org>"}});
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->vapid_subject, "mailto:ops@example.org");
  EXPECT_FALSE(c->push_allow_http);
  c = FromValues({{"IKIGAI_VAPID_PRIVATE_KEY",
                   "-----BEGIN EC PRIVATE KEY-----\\nMHcCAQEEIMn1j4mBPp+Ohy5x9CqmThdXySVNzGK3LdwBC7QEPqEcoAoGCCqGSM49\\n"
                   "AwEHoUQDQgAE/jP0qw3qcZFNtVgj9ztUlI9BMG2SBzLbuaWaUyhkgiAOWXp7e8Jg\\n"
                   "uhwieZhYCZLpOXMALzASooro8Gu7eOXsDw==\\n-----END EC PRIVATE KEY-----\\n"},
                  {"IKIGAI_VAPID_SUBJECT", "https://ikigai.example.org/contact"},
                  {"IKIGAI_PUSH_ALLOW_HTTP", "true"}});
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->vapid_subject, "https://ikigai.example.org/contact");
  EXPECT_TRUE(c->push_allow_http);
  for (const char* bad : {"short", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"}) {
    c = FromValues({{"IKIGAI_VAPID_PRIVATE_KEY", bad}});
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().detail.find("IKIGAI_VAPID_PRIVATE_KEY"), std::string::npos);
    EXPECT_EQ(c.error().detail.find(bad), std::string::npos) << "the key text must not be echoed";
  }
  c = FromValues({{"IKIGAI_VAPID_SUBJECT", "ops@example.org"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().detail.find("IKIGAI_VAPID_SUBJECT"), std::string::npos);
  c = FromValues({{"IKIGAI_PUSH_PARALLEL", "0"}});
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().detail.find("IKIGAI_PUSH_PARALLEL"), std::string::npos);
}

TEST(ConfigTest, SecretListRotates) {
  const std::string a(32, 'a');
  const std::string b(33, 'b');
  auto c = FromValues({{"IKIGAI_JWT_SECRET", a + "," + b}});
  ASSERT_TRUE(c);
  ASSERT_EQ(c->jwt_secrets.size(), 2u);
  EXPECT_EQ(c->jwt_secrets[0], a);
}

TEST(ConfigTest, RateLimitOverridesAndOff) {
  auto c = FromValues({{"IKIGAI_RATE_LIMITS", "login_account=5/1h, register_address=2/30s"}});
  ASSERT_TRUE(c) << c.error().detail;
  EXPECT_EQ(c->rate_limits.at("login_account").max_events, 5);
  EXPECT_EQ(c->rate_limits.at("login_account").window, std::chrono::hours(1));
  EXPECT_EQ(c->rate_limits.at("register_address").window, std::chrono::seconds(30));
  EXPECT_EQ(c->rate_limits.at("login_address").max_events, 100);
  auto off = FromValues({{"IKIGAI_RATE_LIMITS", "off"}});
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->rate_limits_enabled);
}

TEST(ConfigTest, MailBombingLimitsDefaultToThreeAnHourAndCanBeSet) {
  // Issue 11, item 4: verification resends and email changes per account.
  auto c = FromValues({});
  ASSERT_TRUE(c);
  for (const char* name : {"verify_account", "email_change_account", "export_user"}) {
    ASSERT_TRUE(c->rate_limits.contains(name)) << name;
    EXPECT_EQ(c->rate_limits.at(name).max_events, 3) << name;
    EXPECT_EQ(c->rate_limits.at(name).window, std::chrono::hours(1)) << name;
  }
  auto set = FromValues({{"IKIGAI_RATE_LIMITS", "verify_account=5/1d,email_change_account=1/10m"}});
  ASSERT_TRUE(set) << set.error().detail;
  EXPECT_EQ(set->rate_limits.at("verify_account").max_events, 5);
  EXPECT_EQ(set->rate_limits.at("verify_account").window, std::chrono::hours(24));
  EXPECT_EQ(set->rate_limits.at("email_change_account").window, std::chrono::minutes(10));
  auto exports = FromValues({{"IKIGAI_RATE_LIMITS", "export_user=10/1d"}});
  ASSERT_TRUE(exports) << exports.error().detail;
  EXPECT_EQ(exports->rate_limits.at("export_user").max_events, 10);
}

TEST(ConfigTest, ParsesListenAddresses) {
  EXPECT_EQ(ParseListen("0.0.0.0:80")->port, 80);
  EXPECT_EQ(ParseListen("[::1]:8080")->host, "::1");
  EXPECT_EQ(ParseListen("localhost:0")->host, "127.0.0.1");
  EXPECT_FALSE(ParseListen("127.0.0.1"));
  EXPECT_FALSE(ParseListen("127.0.0.1:70000"));
  EXPECT_FALSE(ParseListen("example.com:80"));
}

TEST(ConfigTest, ParsesDurations) {
  EXPECT_EQ(ParseDuration("90"), std::chrono::seconds(90));
  EXPECT_EQ(ParseDuration("15m"), std::chrono::minutes(15));
  EXPECT_EQ(ParseDuration("30d"), std::chrono::hours(720));
  EXPECT_FALSE(ParseDuration("0"));
  EXPECT_FALSE(ParseDuration("5w"));
  EXPECT_FALSE(ParseDuration(""));
}

TEST(ConfigTest, CidrContains) {
  auto c = FromValues({{"IKIGAI_TRUSTED_PROXIES", "10.0.0.0/8, ::1"}});
  ASSERT_TRUE(c);
  ASSERT_EQ(c->trusted_proxies.size(), 2u);
  EXPECT_TRUE(c->trusted_proxies[0].Contains(*ParseIp("10.1.2.3")));
  EXPECT_FALSE(c->trusted_proxies[0].Contains(*ParseIp("11.1.2.3")));
  EXPECT_TRUE(c->trusted_proxies[1].Contains(*ParseIp("::1")));
  EXPECT_FALSE(c->trusted_proxies[1].Contains(*ParseIp("::2")));
}

}  // namespace
}  // namespace ikigai::config
