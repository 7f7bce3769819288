// `ikigai user create|list|set-role|disable|enable|mfa-reset`: the first admin and day-to-day fixes.
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "auth/access_tokens.hpp"
#include "auth/account_service.hpp"
#include "cli/commands.hpp"
#include "core/random.hpp"
#include "core/time_format.hpp"
#include "store/migrations.hpp"
#include "store/users.hpp"
#include "mail/outbox.hpp"
#include "notify/notifier.hpp"
#include "users/admin_service.hpp"

namespace ikigai::cli {
namespace {

const core::RequestMeta kCliMeta{"", "ikigai-cli", "cli"};

std::unique_ptr<store::Database> OpenMigrated(const config::Config& cfg, const core::Clock& clock) {
  auto db = OpenDatabase(cfg, 2);
  if (!db) return nullptr;
  if (auto m = store::Migrate(*db, clock); !m) {
    std::cerr << "ikigai: database not ready: " << (m.error().detail.empty() ? "database error" : m.error().detail)
              << "\n";
    return nullptr;
  }
  return db;
}

int Report(const core::Error& e) {
  std::cerr << "ikigai: " << (e.detail.empty() ? "failed" : e.detail);
  for (const auto& [field, problem] : e.fields) std::cerr << "\n  " << field << ": " << problem.message;
  std::cerr << "\n";
  return kExitFailure;
}

std::optional<store::UserRow> FindTarget(store::Database& db, const std::string& target) {
  auto found = db.Run([&](store::Connection& c) -> core::Result<std::optional<store::UserRow>> {
    if (auto u = store::UserStore::FindById(c, target)) return u;
    return store::UserStore::FindByLogin(c, target);
  });
  if (!found || !*found) {
    std::cerr << "ikigai: no user '" << target << "' (give an id, a username or an email)\n";
    return std::nullopt;
  }
  return **found;
}

}  // namespace

int RunUserCreate(const config::Config& cfg, const UserArgs& args) {
  if (!args.password_stdin) {
    std::cerr << "ikigai: give the password on standard input with --password-stdin\n";
    return kExitUsage;
  }
  if (args.role != "user" && args.role != "admin") {
    std::cerr << "ikigai: --role must be user or admin\n";
    return kExitUsage;
  }
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  core::SystemClock clock;
  core::SodiumRandom random;
  auto db = OpenMigrated(cfg, clock);
  if (!db) return kExitFailure;
  std::unique_ptr<auth::PasswordPolicy> policy;
  try {
    policy = std::make_unique<auth::PasswordPolicy>();
  } catch (const std::exception& e) {
    std::cerr << "ikigai: " << e.what() << "\n";
    return kExitFailure;
  }
  auth::PasswordHasher hasher({cfg.argon2_memory_kib, cfg.argon2_ops});
  // No token is issued here; the signer only satisfies the service's constructor.
  auth::AccessTokens tokens({{core::RandomToken(random, 32)}, cfg.jwt_issuer, cfg.jwt_audience, cfg.access_ttl},
                            clock, random);
  auth::AccountService accounts(*db, cfg, clock, random, hasher, *policy, tokens);
  auth::RegisterInput in{args.username, args.email, password,
                         args.display_name.empty() ? std::nullopt : std::optional<std::string>(args.display_name)};
  auto user = accounts.Register(in, kCliMeta, args.role);
  if (!user) return Report(user.error());
  // An operator creating an account vouches for its address (else, with
  // IKIGAI_REQUIRE_VERIFIED_EMAIL=true, the first admin could never sign in).
  auto verified = db->Run([&](store::Connection& c) -> core::Result<void> {
    store::UserStore::SetEmailVerified(c, user->id, core::ToMillis(clock.Now()));
    return {};
  });
  if (!verified) return Report(verified.error());
  std::cout << "created " << user->role << " " << user->username << " <" << user->email << "> id " << user->id << "\n";
  return 0;
}

int RunUserList(const config::Config& cfg, const UserArgs& args) {
  core::SystemClock clock;
  auto db = OpenMigrated(cfg, clock);
  if (!db) return kExitFailure;
  auto users = db->Run([&](store::Connection& c) -> core::Result<std::vector<store::UserRow>> {
    return store::UserStore::ListAll(c, args.limit);
  });
  if (!users) return Report(users.error());
  std::printf("%-36s  %-20s  %-30s  %-5s  %-8s  %-8s  %s\n", "id", "username", "email", "role", "disabled",
              "verified", "created_at");
  for (const auto& u : *users) {
    std::printf("%-36s  %-20s  %-30s  %-5s  %-8s  %-8s  %s\n", u.id.c_str(), u.username.c_str(), u.email.c_str(),
                u.role.c_str(), u.disabled ? "yes" : "no", u.email_verified ? "yes" : "no",
                core::FormatRfc3339(core::FromMillis(u.created_at)).c_str());
  }
  return 0;
}

namespace {

// Applies an administration change to the USER argument with the rules of
// PATCH /api/v1/admin/users/{id} (the same code): the last enabled admin stays one, disabling
// revokes every session at once, and the event is admin.user_updated with data.via "cli".
int ApplyAdminChange(const config::Config& cfg, const UserArgs& args, const users::AdminChanges& change,
                     const std::string& done_message) {
  core::SystemClock clock;
  core::SodiumRandom random;
  auto db = OpenMigrated(cfg, clock);
  if (!db) return kExitFailure;
  auto user = FindTarget(*db, args.target);
  if (!user) return kExitFailure;
  // A user disabled from here is told so as from the API: the security notice is queued in the
  // same transaction and sent by the running servers' outbox sender.
  mail::Outbox outbox(clock, random);
  notify::EmailChannel email(outbox, cfg.public_url);
  notify::Notifier notifier(clock, random);
  notifier.AddChannel(&email);
  users::AdminService admin(*db, clock, random);
  admin.SetNotifier(&notifier);
  auto done = admin.Update(std::nullopt, user->id, change, kCliMeta);
  if (!done) return Report(done.error());
  std::cout << user->username << done_message << "\n";
  return 0;
}

}  // namespace

int RunUserSetRole(const config::Config& cfg, const UserArgs& args) {
  if (args.role != "user" && args.role != "admin") {
    std::cerr << "ikigai: the role must be user or admin\n";
    return kExitUsage;
  }
  users::AdminChanges change;
  change.role = args.role;
  return ApplyAdminChange(cfg, args, change, " is now " + args.role);
}

int RunUserSetDisabled(const config::Config& cfg, const UserArgs& args, bool disabled) {
  users::AdminChanges change;
  change.disabled = disabled;
  return ApplyAdminChange(cfg, args, change, disabled ? " is disabled (sessions revoked)" : " is enabled");
}

int RunUserMfaReset(const config::Config& cfg, const UserArgs& args) {
  users::AdminChanges change;
  change.mfa_enabled = false;
  return ApplyAdminChange(cfg, args, change, ": two-factor sign-in is off");
}

}  // namespace ikigai::cli
