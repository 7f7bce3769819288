// Subcommands and the assembly of the running server.
#include "cli/app.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>

#include <CLI/CLI.hpp>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "auth/access_tokens.hpp"
#include "auth/account_service.hpp"
#include "auth/password_hasher.hpp"
#include "auth/password_policy.hpp"
#include "cli/commands.hpp"
#include "cli/logging.hpp"
#include "config/config.hpp"
#include "core/random.hpp"
#include "feedback/feedback_service.hpp"
#include "http/account_handlers.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "jobs/purge.hpp"
#include "jobs/runner.hpp"
#include "mail/mailer.hpp"
#include "mail/outbox.hpp"
#include "notify/notification_service.hpp"
#include "notify/notifier.hpp"
#include "notify/push_channel.hpp"
#include "notify/push_sender.hpp"
#include "notify/push_subscriptions.hpp"
#include "notify/reminders.hpp"
#include "notify/stream_hub.hpp"
#include "push/base64url.hpp"
#include "push/vapid_key.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

#ifndef IKIGAI_VERSION
#define IKIGAI_VERSION "0.0.0"
#endif

namespace ikigai::cli {
namespace {

// Flags given on the command line win over environment variables; both feed config::FromValues.
class SettingOptions {
 public:
  void AddTo(CLI::App& app) {
    for (const auto& s : config::Settings()) {
      std::string help = std::string(s.help) + " [env " + s.env + "]";
      if (s.default_value != nullptr && *s.default_value != '\0')
        help += " (default " + std::string(s.default_value) + ")";
      options_.emplace_back(s.env, app.add_option(s.flag, flag_values_[s.env], help));
    }
  }
  [[nodiscard]] std::map<std::string, std::string> Values() const {
    std::map<std::string, std::string> values;
    for (const auto& [env, option] : options_) {
      if (option->count() > 0) {
        values[env] = flag_values_.at(env);
      } else if (const char* v = std::getenv(env.c_str()); v != nullptr) {
        values[env] = v;
      }
    }
    return values;
  }

 private:
  std::map<std::string, std::string> flag_values_;
  std::vector<std::pair<std::string, CLI::Option*>> options_;
};

std::optional<config::Config> LoadConfig(const SettingOptions& options) {
  auto cfg = config::FromValues(options.Values());
  if (!cfg) {
    std::cerr << "ikigai: configuration error: " << cfg.error().detail << "\n";
    return std::nullopt;
  }
  return *cfg;
}

// Development only: a secret made once and kept in the data folder as `name` (mode 0600), for the
// setting `variable` left unset. The file's first line is used when `valid` accepts it; otherwise
// `make` gives a new one, written atomically.
std::optional<std::string> DevelopmentSecretFile(
    const config::Config& cfg, const char* name, const char* variable,
    const std::function<bool(const std::string&)>& valid,
    const std::function<std::string()>& make) {
  const std::filesystem::path file = std::filesystem::path(cfg.data_dir) / name;
  std::error_code ec;
  std::filesystem::create_directories(cfg.data_dir, ec);
  if (std::ifstream in(file); in) {
    std::string secret;
    std::getline(in, secret);
    if (valid(secret)) {
      spdlog::warn("{} is not set: using the development value in {}", variable, file.string());
      return secret;
    }
  }
  const std::string secret = make();
  const std::string tmp = file.string() + ".tmp";
  const mode_t old_mask = umask(077);
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << secret << "\n";
    if (!out.flush()) {
      umask(old_mask);
      spdlog::error("cannot write the development value of {} to {}", variable, tmp);
      return std::nullopt;
    }
  }
  umask(old_mask);
  std::filesystem::permissions(
      tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(tmp, file, ec);
  if (ec) {
    spdlog::error("cannot create {}: {}", file.string(), ec.message());
    return std::nullopt;
  }
  spdlog::warn("{} is not set: generated a development value in {} (never do this in production)",
               variable, file.string());
  return secret;
}

// Development only: a random JWT secret made once and kept in the data folder.
bool EnsureDevelopmentSecret(config::Config& cfg, core::Random& random) {
  if (!cfg.jwt_secrets.empty()) return true;
  auto secret = DevelopmentSecretFile(
      cfg, "jwt_secret", "IKIGAI_JWT_SECRET", [](const std::string& s) { return s.size() >= 32; },
      [&random] { return core::RandomToken(random, 48); });
  if (!secret) return false;
  cfg.jwt_secrets.push_back(*secret);
  return true;
}

// Development only: a VAPID key pair made once and kept in the data folder (the base64url scalar),
// so that browsers' subscriptions stay valid across restarts.
bool EnsureDevelopmentVapidKey(config::Config& cfg) {
  if (!cfg.vapid_private_key.empty()) return true;
  auto key = DevelopmentSecretFile(
      cfg, "vapid_private_key", "IKIGAI_VAPID_PRIVATE_KEY",
      [](const std::string& s) { return push::ParseVapidPrivateKey(s).has_value(); },
      [] { return push::Base64UrlEncode(push::EcKey::Generate().PrivateScalar()); });
  if (!key) return false;
  cfg.vapid_private_key = *key;
  return true;
}

// Narrows an existing file or folder to owner-only `mode` when group or others have any access
// (made by an older version or copied in); a missing one is left alone.
void NarrowToOwner(const std::filesystem::path& path, std::filesystem::perms mode) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return;
  if ((status.permissions() & (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none)
    return;
  fs::permissions(path, mode, ec);
  if (ec) {
    spdlog::warn("cannot make {} private to its owner: {}", path.string(), ec.message());
  } else {
    spdlog::info("made {} private to its owner (was readable by others)", path.string());
  }
}

constexpr auto kPrivateFolder = std::filesystem::perms::owner_all;
constexpr auto kPrivateFile =
    std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;

// The data folder holds the database, the development JWT secret and development mail (reset
// links in clear): 0700, and each of those files 0600. New files get that from the process umask
// (set in Main); this narrows what an older version left behind. Only the names we write are
// touched, never other files an operator keeps there.
void SecureDataFolder(const config::Config& cfg) {
  namespace fs = std::filesystem;
  const fs::path dir(cfg.data_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  NarrowToOwner(dir, kPrivateFolder);
  NarrowToOwner(dir / "jwt_secret", kPrivateFile);
  NarrowToOwner(dir / "vapid_private_key", kPrivateFile);
  const fs::path mail = dir / "mail";
  NarrowToOwner(mail, kPrivateFolder);
  for (const auto& entry : fs::directory_iterator(mail, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.ends_with(".eml") || name.ends_with(".eml.tmp"))
      NarrowToOwner(entry.path(), kPrivateFile);
  }
}

// At most about this much hashing waits per hashing thread: in a login storm a client beyond it
// gets 503 with Retry-After at once instead of a long wait in the queue (1,024 hashes were about
// 78 s of work on 2 threads).
constexpr std::chrono::seconds kHashWaitPerThread{2};

// Bounds the hashing pool's queue by time: one hash with the configured parameters is measured
// here (~26 ms at the defaults), and the queue holds what the threads hash in kHashWaitPerThread,
// never more than IKIGAI_QUEUE_LIMIT.
void BoundHashQueue(http::WorkerPool& pool, const auth::PasswordHasher& hasher,
                    const config::Config& cfg) {
  const auto started = std::chrono::steady_clock::now();
  (void)hasher.Hash("start-up measurement of one hash");
  const auto hash_time = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - started);
  const std::size_t limit =
      http::QueueLimitForWait(hash_time, cfg.hash_threads, kHashWaitPerThread, cfg.queue_limit);
  pool.SetCapacity(limit);
  pool.SetTaskCost(hash_time);
  spdlog::info(
      "password hashing: {:.1f} ms per hash (Argon2id m={} KiB, t={}); hash queue limited to {} "
      "({} s of "
      "hashing per thread, {} threads, IKIGAI_QUEUE_LIMIT {})",
      static_cast<double>(hash_time.count()) / 1e6, cfg.argon2_memory_kib, cfg.argon2_ops, limit,
      kHashWaitPerThread.count(), cfg.hash_threads, cfg.queue_limit);
}

}  // namespace

std::unique_ptr<store::Database> OpenDatabase(const config::Config& cfg, std::size_t pool_size) {
  auto url = store::ParseDatabaseUrl(cfg.database_url);
  if (!url) {
    std::cerr << "ikigai: configuration error: " << url.error().detail << "\n";
    return nullptr;
  }
  if (url->dialect == store::Dialect::kSqlite && url->path != ":memory:") {
    std::error_code ec;
    const auto parent = std::filesystem::path(url->path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    // SQLite gives -wal, -shm and -journal the database file's mode, so a 0600 database keeps
    // them 0600 too; a database left readable by an older version is narrowed first. Its folder
    // is narrowed only when it is the data folder (SecureDataFolder): elsewhere it is the
    // operator's.
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      NarrowToOwner(url->path + suffix, kPrivateFile);
  }
  store::DatabaseOptions options;
  options.pool_size = pool_size;
  options.sqlite_synchronous = cfg.sqlite_synchronous;
  return std::make_unique<store::Database>(*url, options);
}

namespace {

int RunMigrate(const config::Config& cfg) {
  auto db = OpenDatabase(cfg, 1);
  if (!db) return kExitUsage;
  core::SystemClock clock;
  auto report = store::Migrate(*db, clock);
  if (!report) {
    std::cerr << "ikigai: migration failed: "
              << (report.error().detail.empty() ? "database error (see log)"
                                                : report.error().detail)
              << "\n";
    return kExitFailure;
  }
  std::cout << "database " << db->Url().Redacted() << " at schema version " << report->to_version;
  if (report->applied.empty()) {
    std::cout << " (up to date)\n";
  } else {
    std::cout << " (applied";
    for (const auto& m : report->applied) std::cout << " " << m;
    std::cout << ")\n";
  }
  return 0;
}

int RunServe(config::Config cfg) {
  core::SystemClock clock;
  core::SodiumRandom random;
  SecureDataFolder(cfg);
  if (!EnsureDevelopmentSecret(cfg, random)) return kExitFailure;
  if (!EnsureDevelopmentVapidKey(cfg)) return kExitFailure;
  // config::FromValues checked a given key and the development one was checked when read.
  const push::EcKey vapid_key = *push::ParseVapidPrivateKey(cfg.vapid_private_key);
  auto db = OpenDatabase(cfg, cfg.db_pool_size + cfg.hash_threads);
  if (!db) return kExitUsage;
  if (cfg.env == config::Environment::kDevelopment) {
    spdlog::info("CORS (development): http://localhost:* and http://127.0.0.1:* allowed{}",
                 cfg.cors_origins.empty() ? "" : ", and IKIGAI_CORS_ORIGINS");
  }
  auto migrated = store::Migrate(*db, clock);
  if (!migrated) {
    spdlog::error("cannot prepare the database {}: {}", db->Url().Redacted(),
                  migrated.error().detail.empty() ? "database error" : migrated.error().detail);
    return kExitFailure;
  }
  spdlog::info("database {} at schema version {}", db->Url().Redacted(), migrated->to_version);

  std::unique_ptr<auth::PasswordPolicy> policy;
  try {
    policy = std::make_unique<auth::PasswordPolicy>();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return kExitFailure;
  }
  auth::PasswordHasher hasher({cfg.argon2_memory_kib, cfg.argon2_ops});
  auth::AccessTokens tokens({cfg.jwt_secrets, cfg.jwt_issuer, cfg.jwt_audience, cfg.access_ttl},
                            clock, random);
  auth::AccountService accounts(*db, cfg, clock, random, hasher, *policy, tokens);
  http::BearerAuthenticator authenticator(accounts);

  http::Router router;
  http::Server server(cfg, router, clock, random);
  server.SetAuthenticator(&authenticator);
  BoundHashQueue(server.Hashers(), hasher, cfg);
  tasks::TaskService task_service(*db, clock, random);
  tasks::IkigaiMapService map_service(*db, clock, random);
  http::CursorSealer cursors(cfg.jwt_secrets);

  std::unique_ptr<mail::Mailer> mailer;
  if (cfg.smtp_url.empty()) {
    mailer = std::make_unique<mail::DirectoryMailer>(std::filesystem::path(cfg.data_dir) / "mail",
                                                     clock);
  } else {
    auto smtp = mail::ParseSmtpUrl(cfg.smtp_url);
    if (!smtp) {
      std::cerr << "ikigai: configuration error: " << smtp.error().detail << "\n";
      return kExitUsage;
    }
    mailer = std::make_unique<mail::SmtpMailer>(*smtp);
  }
  spdlog::info("mail: {}", mailer->Describe());
  mail::Outbox outbox(clock, random);
  mail::OutboxSender sender(*db, *mailer, {cfg.mail_from, cfg.mail_retry_min}, clock, random);
  // Every producer notifies through this one notifier: the inbox row, then each channel.
  notify::Notifier notifier(clock, random);
  notify::EmailChannel email_channel(outbox, cfg.public_url);
  notifier.AddChannel(&email_channel);
  notify::PushChannel push_channel(clock, random);
  notifier.AddChannel(&push_channel);
  notify::PushSender push_sender(
      *db, vapid_key, {cfg.vapid_subject, cfg.push_retry_min, cfg.push_timeout, cfg.push_parallel},
      clock, random);
  accounts.SetNotifier(&notifier);
  auth::RecoveryService recovery(*db, cfg, clock, random, hasher, *policy, outbox, notifier);
  accounts.SetMailHook(&recovery);
  // Work a request leaves behind after its answer (forgot-password's look-up and mail); stopped,
  // with what it holds done, before the database closes.
  http::WorkerPool background("background", 1, cfg.queue_limit);
  recovery.SetBackground(
      [&background](std::function<void()> task) { return background.TrySubmit(std::move(task)); });
  users::ProfileService profile(*db, cfg, clock, random, accounts, recovery, outbox, notifier);
  users::AdminService admin(*db, clock, random);
  admin.SetNotifier(&notifier);
  users::MfaService mfa(*db, clock, random, accounts, notifier);
  notify::NotificationService notifications(*db, notifier, clock, random);
  notify::Reminders reminders(*db, notifier, clock, cfg.public_url);
  notify::StreamHub hub(*db, clock);
  jobs::Runner jobs(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.jobs_interval));
  feedback::FeedbackService feedback_service(*db, cfg, clock, random, notifier);
  notify::PushSubscriptionService push_subscriptions(*db, clock, random, cfg.push_allow_http);
  http::Services services{*db,
                          accounts,
                          task_service,
                          map_service,
                          cursors,
                          recovery,
                          profile,
                          admin,
                          mfa,
                          notifications,
                          hub,
                          notifier,
                          feedback_service,
                          &sender,
                          &jobs,
                          &push_subscriptions,
                          push::Base64UrlEncode(vapid_key.PublicPoint()),
                          &push_sender};
  http::RegisterRoutes(router, server, services);
  std::uint16_t port = 0;
  try {
    port = server.Open();
  } catch (const std::exception& e) {
    spdlog::error("cannot listen on {}:{}: {}", cfg.listen.host, cfg.listen.port, e.what());
    return kExitFailure;
  }
  spdlog::info("ikigai {} serving on http://{}:{} ({} I/O threads, {} workers, {} hash threads)",
               IKIGAI_VERSION, cfg.listen.host, port, cfg.io_threads, cfg.workers,
               cfg.hash_threads);
  // The one line on stdout: launchers (tests, scripts) wait for it and read the port from it.
  std::printf("listening on %s:%u\n", cfg.listen.host.c_str(), static_cast<unsigned>(port));
  std::fflush(stdout);
  jobs.Add("outbox", [&] { sender.RunOnce(); });
  jobs.Add("purge", [&] {
    (void)jobs::PurgeExpired(*db, cfg, clock);
    (void)notifications.PurgeOld();
  });
  jobs.Add("reminders", [&] { (void)reminders.RunOnce(); });
  // Pushes on a thread of their own: a slow push service never holds up reminders or mail. Its
  // encryption costs CPU per message, so the thread runs at nice 12: a broadcast's pushes take the
  // cores when requests leave them idle, and yield them to requests under load.
  jobs::Runner push_jobs(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.jobs_interval), 12);
  push_jobs.Add("push", [&] { (void)push_sender.RunOnce(); });
  push_channel.SetWake([&push_jobs] { push_jobs.Wake(); });
  jobs.Add("announcements", [&] { (void)notifications.FanOut(); });
  outbox.SetWake([&jobs] { jobs.Wake(); });
  notifications.SetWake([&jobs] { jobs.Wake(); });
  jobs.Start();
  push_jobs.Start();
  hub.Start();
  // On SIGTERM the streams end first, so that they do not hold the drain up.
  server.Run(std::chrono::seconds(10), [&] {
    hub.Stop();
    jobs.Stop();
    push_jobs.Stop();
  });
  background.Stop();
  db->Close();
  spdlog::info("stopped");
  spdlog::shutdown();
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  // Everything this process creates is for its owner only: the data folder, the SQLite database
  // (and the -wal/-shm/-journal files SQLite makes beside it, with the database's mode), the
  // development JWT secret and development mail. SQLite creates its files itself, so the umask is
  // the one setting that reaches them; it is process-wide, hence set here before any thread.
  umask(S_IRWXG | S_IRWXO);
  if (sodium_init() < 0) {
    std::cerr << "ikigai: libsodium failed to initialise\n";
    return kExitFailure;
  }
  CLI::App app{"Ikigai backend: accounts, tasks, the ikigai map, notifications and feedback."};
  app.require_subcommand(1);
  SettingOptions serve_settings;
  SettingOptions migrate_settings;
  CLI::App* serve = app.add_subcommand("serve", "Serve the HTTP API (migrates the database first)");
  serve_settings.AddTo(*serve);
  CLI::App* migrate = app.add_subcommand("migrate", "Apply pending database migrations and exit");
  migrate_settings.AddTo(*migrate);
  app.add_subcommand("version", "Print the version");

  // ikigai user create|list|set-role|disable|enable|mfa-reset
  SettingOptions user_settings;
  UserArgs user_args;
  CLI::App* user = app.add_subcommand("user", "Manage users from the command line");
  user->require_subcommand(1);
  user_settings.AddTo(*user);
  CLI::App* create =
      user->add_subcommand("create", "Create a user (the first admin: --role admin)");
  create->add_option("--username", user_args.username, "username")->required();
  create->add_option("--email", user_args.email, "email address")->required();
  create->add_option("--display-name", user_args.display_name,
                     "display name (default: the username)");
  create->add_option("--role", user_args.role, "user or admin")->capture_default_str();
  create->add_flag("--password-stdin", user_args.password_stdin,
                   "read the password from standard input");
  CLI::App* list = user->add_subcommand("list", "List users");
  list->add_option("--limit", user_args.limit, "at most this many")->capture_default_str();
  CLI::App* set_role = user->add_subcommand("set-role", "Change a user's role");
  set_role->add_option("user", user_args.target, "id, username or email")->required();
  set_role->add_option("role", user_args.role, "user or admin")->required();
  CLI::App* disable = user->add_subcommand("disable", "Disable a user and end all their sessions");
  disable->add_option("user", user_args.target, "id, username or email")->required();
  CLI::App* enable = user->add_subcommand("enable", "Enable a disabled user");
  enable->add_option("user", user_args.target, "id, username or email")->required();
  CLI::App* mfa_reset = user->add_subcommand(
      "mfa-reset", "Turn two-factor sign-in off for a user who lost the device");
  mfa_reset->add_option("user", user_args.target, "id, username or email")->required();
  // Settings such as --database-url may follow the nested command: let them reach `user`.
  for (CLI::App* sub : {create, list, set_role, disable, enable, mfa_reset}) sub->fallthrough();

  SettingOptions import_settings;
  ImportArgs import_args;
  CLI::App* import = app.add_subcommand(
      "import-legacy-users",
      "Copy the original backend's users (bcrypt hashes kept, upgraded at login)");
  import_settings.AddTo(*import);
  import
      ->add_option("--from", import_args.from,
                   "mysql://USER:PASS@HOST:PORT/DB of the original backend")
      ->required();
  import->add_option("--table", import_args.table, "table name")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }

  if (app.got_subcommand("version")) {
    std::cout << "ikigai " << IKIGAI_VERSION << "\n";
    return 0;
  }
  const SettingOptions& settings = app.got_subcommand("serve")     ? serve_settings
                                   : app.got_subcommand("migrate") ? migrate_settings
                                   : app.got_subcommand("user")    ? user_settings
                                                                   : import_settings;
  auto cfg = LoadConfig(settings);
  if (!cfg) return kExitUsage;
  SetUpLogging(cfg->log_format, cfg->log_level);
  if (app.got_subcommand("migrate")) return RunMigrate(*cfg);
  if (app.got_subcommand("import-legacy-users")) return RunImportLegacyUsers(*cfg, import_args);
  if (user->got_subcommand("create")) return RunUserCreate(*cfg, user_args);
  if (user->got_subcommand("list")) return RunUserList(*cfg, user_args);
  if (user->got_subcommand("set-role")) return RunUserSetRole(*cfg, user_args);
  if (user->got_subcommand("disable")) return RunUserSetDisabled(*cfg, user_args, true);
  if (user->got_subcommand("enable")) return RunUserSetDisabled(*cfg, user_args, false);
  if (user->got_subcommand("mfa-reset")) return RunUserMfaReset(*cfg, user_args);
  return RunServe(*cfg);
}

}  // namespace ikigai::cli
