// Subcommands other than serve and migrate: user administration and the legacy import.
#pragma once

#include <memory>
#include <string>

#include "config/config.hpp"
#include "store/database.hpp"

namespace ikigai::cli {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// The configured database (SQLite folders created), or nullptr after printing why.
std::unique_ptr<store::Database> OpenDatabase(const config::Config& cfg, std::size_t pool_size);

struct UserArgs {
  std::string username;
  std::string email;
  std::string display_name;
  std::string role = "user";
  bool password_stdin = false;
  std::string target;  // id, username or email
  int limit = 100;
};

int RunUserCreate(const config::Config& cfg, const UserArgs& args);
int RunUserList(const config::Config& cfg, const UserArgs& args);
int RunUserSetRole(const config::Config& cfg, const UserArgs& args);
int RunUserSetDisabled(const config::Config& cfg, const UserArgs& args, bool disabled);
// Turns two-factor sign-in off for a user who lost the device (as PATCH {"mfa_enabled": false}).
int RunUserMfaReset(const config::Config& cfg, const UserArgs& args);

struct ImportArgs {
  std::string from;  // mysql://user:pass@host:port/db of the original backend
  std::string table = "users";
};

int RunImportLegacyUsers(const config::Config& cfg, const ImportArgs& args);

}  // namespace ikigai::cli
