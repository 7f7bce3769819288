// Issue 11, item 7: the data folder (database, development JWT secret, development mail with reset
// links in clear) is private to the server's user whatever the umask it was started with: the
// folder and mail/ 0700, every file in them 0600, SQLite's -wal and -shm included; and what an
// older version left readable is narrowed at start-up.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/accounts.hpp"
#include "support/backend.hpp"
#include "support/http_client.hpp"
#include "support/server.hpp"
#include "support/temp_dir.hpp"
#include "support/wait.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Sets the umask of this process (inherited by the server it starts) for one scope.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(umask(mask)) {}
  ~ScopedUmask() { umask(previous_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

// "0700" style, or "missing".
std::string ModeOf(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return text;
}

std::vector<fs::path> EmlFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".eml") files.push_back(entry.path());
  }
  return files;
}

// A development server (no JWT secret, no SMTP: both land in the data folder) on `data`, with the
// database in the data folder for SQLite and a fresh MariaDB database for mysql.
support::Server StartDevelopmentServer(const std::string& data, const std::string& mysql_url) {
  support::ServerOptions options;
  options.data_dir = data;
  options.database_url = mysql_url;  // empty for sqlite: the default, DATA_DIR/ikigai.db
  options.env = {{"IKIGAI_ARGON2_MEMORY_KIB", "8192"}, {"IKIGAI_ARGON2_OPS", "1"}};
  return support::StartServer(options);
}

// Registers one account (a write to the database and a verification mail) and waits for its .eml.
void WriteAndMail(const support::Server& server, const fs::path& data, std::string_view prefix) {
  support::Http http(server);
  auto who = support::NewCredentials(prefix);
  const std::size_t before = EmlFiles(data / "mail").size();
  ASSERT_EQ(support::RegisterUser(http, who).status, 201);
  ASSERT_TRUE(support::WaitUntil([&] { return EmlFiles(data / "mail").size() > before; }, 20s))
      << "no new .eml file in " << (data / "mail");
}

void ExpectPrivate(const fs::path& data, bool sqlite) {
  EXPECT_EQ(ModeOf(data), "0700") << data;
  EXPECT_EQ(ModeOf(data / "jwt_secret"), "0600");
  EXPECT_EQ(ModeOf(data / "mail"), "0700");
  const auto mails = EmlFiles(data / "mail");
  EXPECT_FALSE(mails.empty());
  for (const auto& mail : mails) EXPECT_EQ(ModeOf(mail), "0600") << mail;
  if (sqlite) {
    EXPECT_EQ(ModeOf(data / "ikigai.db"), "0600");
    // WAL mode: both exist while the server runs.
    EXPECT_EQ(ModeOf(data / "ikigai.db-wal"), "0600");
    EXPECT_EQ(ModeOf(data / "ikigai.db-shm"), "0600");
  }
  // Nothing at all in the folder is readable by others.
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(data, ec)) {
    const auto perms = entry.symlink_status().permissions();
    EXPECT_EQ(perms & (fs::perms::group_all | fs::perms::others_all), fs::perms::none)
        << entry.path() << " is " << ModeOf(entry.path());
  }
}

TEST(FileModesTest, DataFolderAndEveryFileInItArePrivateUnderUmask022) {
  support::TempDir tmp;
  const fs::path data = fs::path(tmp.Path()) / "data";  // made by the server
  const bool sqlite = !support::UsingMysql();
  const std::string url = sqlite ? std::string{} : support::FreshDatabaseUrl(tmp);
  ScopedUmask loose(022);
  auto server = StartDevelopmentServer(data.string(), url);
  WriteAndMail(server, data, "modes");
  ExpectPrivate(data, sqlite);
}

TEST(FileModesTest, WhatAnOlderVersionLeftReadableIsNarrowedAtStartUp) {
  support::TempDir tmp;
  const fs::path data = fs::path(tmp.Path()) / "data";
  const bool sqlite = !support::UsingMysql();
  const std::string url = sqlite ? std::string{} : support::FreshDatabaseUrl(tmp);
  ScopedUmask loose(022);
  {
    auto first = StartDevelopmentServer(data.string(), url);
    WriteAndMail(first, data, "modes_old");
    ASSERT_EQ(first.Stop(), 0);
  }
  // As an older version (or a copy) would have left them.
  const auto readable_dir = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec;
  const auto readable_file =
      fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
  fs::permissions(data, readable_dir);
  fs::permissions(data / "mail", readable_dir);
  fs::permissions(data / "jwt_secret", readable_file);
  for (const auto& mail : EmlFiles(data / "mail")) fs::permissions(mail, readable_file);
  if (sqlite) fs::permissions(data / "ikigai.db", readable_file);
  // A file of the operator's in the folder is not ours to change.
  {
    std::FILE* f = std::fopen((data / "operator-notes.txt").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
    fs::permissions(data / "operator-notes.txt", readable_file);
  }

  auto second = StartDevelopmentServer(data.string(), url);
  WriteAndMail(second, data, "modes_new");
  EXPECT_EQ(ModeOf(data / "operator-notes.txt"), "0644");
  fs::permissions(data / "operator-notes.txt", fs::perms::owner_read | fs::perms::owner_write);
  ExpectPrivate(data, sqlite);
}

}  // namespace
}  // namespace ikigai
