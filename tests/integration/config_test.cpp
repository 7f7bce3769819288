// Start-up configuration: a bad value stops `serve` with exit 2; the development JWT secret.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "support/backend.hpp"
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

}  // namespace
}  // namespace ikigai
