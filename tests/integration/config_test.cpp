// Start-up configuration: a bad value stops `serve` with exit 2; the development JWT secret.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

// `ikigai serve` on a free port that is expected to refuse to start (a start would time out).
support::CommandResult ServeExpectingExit(const support::TempDir& dir,
                                          std::map<std::string, std::string> env) {
  return support::RunIkigai({"serve", "--listen", "127.0.0.1:0", "--data-dir", dir.Path(),
                             "--database-url", support::FreshDatabaseUrl(dir)},
                            std::move(env), std::chrono::seconds{30});
}

TEST(ConfigTest, BadMaxBodyBytesStopsStartupNamingTheVariable) {
  support::TempDir dir;
  auto res = ServeExpectingExit(dir, {{"IKIGAI_MAX_BODY_BYTES", "abc"}});
  ASSERT_TRUE(res.exit_status.has_value()) << "it served instead of exiting; stderr:\n" << res.err;
  EXPECT_EQ(*res.exit_status, 2) << res.err;
  EXPECT_NE(res.err.find("IKIGAI_MAX_BODY_BYTES"), std::string::npos) << res.err;
}

TEST(ConfigTest, ProductionWithoutJwtSecretStopsStartupNamingTheVariable) {
  support::TempDir dir;
  // An SMTP URL is set, so that the JWT secret is the only thing missing.
  auto res = ServeExpectingExit(dir, {{"IKIGAI_ENV", "production"},
                                      {"IKIGAI_SMTP_URL", "smtp://127.0.0.1:1"},
                                      {"IKIGAI_PUBLIC_URL", "https://app.example.com"}});
  ASSERT_TRUE(res.exit_status.has_value()) << "it served instead of exiting; stderr:\n" << res.err;
  EXPECT_EQ(*res.exit_status, 2) << res.err;
  EXPECT_NE(res.err.find("IKIGAI_JWT_SECRET"), std::string::npos) << res.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("jwt_secret")))
      << "production must not generate a secret";
}

TEST(ConfigTest, DevelopmentGeneratesAPrivateJwtSecretOnceAndKeepsIt) {
  support::TempDir dir;
  support::ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = support::FreshDatabaseUrl(dir);
  const std::string secret_path = dir.File("jwt_secret");

  std::string first_secret;
  {
    auto server = support::StartServer(options);
    ASSERT_TRUE(std::filesystem::exists(secret_path));
    struct stat st {};
    ASSERT_EQ(stat(secret_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "mode is " << std::oct << (st.st_mode & 0777);
    first_secret = support::ReadFile(secret_path);
    EXPECT_GE(first_secret.size(), 32u) << "a short secret";
    EXPECT_EQ(server.Stop(), 0);
    std::string log = server.StderrLog() + server.StdoutLog();
    std::string trimmed = first_secret.substr(0, first_secret.find_last_not_of("\r\n") + 1);
    EXPECT_EQ(log.find(trimmed), std::string::npos) << "the secret was logged";
  }
  auto again = support::StartServer(options);
  EXPECT_EQ(support::ReadFile(secret_path), first_secret) << "the secret changed on restart";
}

TEST(ConfigTest, BadVapidKeyStopsStartupNamingTheVariableWithoutEchoingIt) {
  support::TempDir dir;
  // 32 bytes, but not below the P-256 group order: not a private key.
  const std::string bad = "__________________________________________8";
  auto res = ServeExpectingExit(dir, {{"IKIGAI_VAPID_PRIVATE_KEY", bad}});
  ASSERT_TRUE(res.exit_status.has_value()) << "it served instead of exiting; stderr:\n" << res.err;
  EXPECT_EQ(*res.exit_status, 2) << res.err;
  EXPECT_NE(res.err.find("IKIGAI_VAPID_PRIVATE_KEY"), std::string::npos) << res.err;
  EXPECT_EQ(res.err.find(bad), std::string::npos) << "the key was echoed";
}

TEST(ConfigTest, ProductionWithoutVapidKeyStopsStartupAndGeneratesNothing) {
  support::TempDir dir;
  auto res = ServeExpectingExit(dir, {{"IKIGAI_ENV", "production"},
                                      {"IKIGAI_JWT_SECRET", std::string(40, 's')},
                                      {"IKIGAI_SMTP_URL", "smtp://127.0.0.1:1"},
                                      {"IKIGAI_PUBLIC_URL", "https://app.example.com"}});
  ASSERT_TRUE(res.exit_status.has_value()) << "it served instead of exiting; stderr:\n" << res.err;
  EXPECT_EQ(*res.exit_status, 2) << res.err;
  EXPECT_NE(res.err.find("IKIGAI_VAPID_PRIVATE_KEY"), std::string::npos) << res.err;
  EXPECT_FALSE(std::filesystem::exists(dir.File("vapid_private_key")));
}

TEST(ConfigTest, DevelopmentGeneratesAPrivateVapidKeyOnceAndServesItsPublicHalf) {
  support::TempDir dir;
  support::ServerOptions options;
  options.data_dir = dir.Path();
  options.database_url = support::FreshDatabaseUrl(dir);
  const std::string key_path = dir.File("vapid_private_key");
  std::string first_key;
  std::string public_key;
  {
    auto server = support::StartServer(options);
    ASSERT_TRUE(std::filesystem::exists(key_path));
    struct stat st {};
    ASSERT_EQ(stat(key_path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << "mode is " << std::oct << (st.st_mode & 0777);
    first_key = support::ReadFile(key_path);
    support::Http http(server);
    public_key = http.Get("/api/v1/push/public-key").Json()["public_key"];
    EXPECT_EQ(public_key.size(), 87u);
    EXPECT_EQ(server.Stop(), 0);
    const std::string trimmed = first_key.substr(0, first_key.find_last_not_of("\r\n") + 1);
    EXPECT_EQ((server.StderrLog() + server.StdoutLog()).find(trimmed), std::string::npos) << "the key was logged";
  }
  auto again = support::StartServer(options);
  EXPECT_EQ(support::ReadFile(key_path), first_key) << "the key changed on restart";
  support::Http http(again);
  EXPECT_EQ(http.Get("/api/v1/push/public-key").Json()["public_key"], public_key);
  // A key given in the environment wins and is never written to the data folder.
  EXPECT_EQ(again.Stop(), 0);
  options.env["IKIGAI_VAPID_PRIVATE_KEY"] = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
  auto given = support::StartServer(options);
  support::Http http_given(given);
  EXPECT_EQ(http_given.Get("/api/v1/push/public-key").Json()["public_key"],
            "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8");
  EXPECT_EQ(support::ReadFile(key_path), first_key);
}

}  // namespace
}  // namespace ikigai
