// `ikigai import-legacy-users`: copies the original backend's users with their bcrypt hashes.
// Idempotent (legacy_id is unique), conflicts reported and skipped, a summary at the end.
#include <soci/mysql/soci-mysql.h>
#include <soci/soci.h>

#include <ctime>
#include <iostream>

#include "activity/recorder.hpp"
#include "auth/validation.hpp"
#include "cli/commands.hpp"
#include "core/ids.hpp"
#include "core/random.hpp"
#include "store/migrations.hpp"
#include "store/users.hpp"

namespace ikigai::cli {
namespace {

struct LegacyUser {
  long long id = 0;
  std::string username;
  std::string email;
  std::string password;
  long long created_at_ms = 0;
};

bool IsBcrypt(const std::string& h) {
  return h.size() == 60 && (h.rfind("$2a$", 0) == 0 || h.rfind("$2b$", 0) == 0 || h.rfind("$2y$", 0) == 0);
}

}  // namespace

int RunImportLegacyUsers(const config::Config& cfg, const ImportArgs& args) {
  for (char ch : args.table) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') {
      std::cerr << "ikigai: --table must be a plain table name\n";
      return kExitUsage;
    }
  }
  auto source_url = store::ParseDatabaseUrl(args.from);
  if (!source_url || source_url->dialect != store::Dialect::kMysql) {
    std::cerr << "ikigai: --from must be mysql://USER:PASS@HOST:PORT/DB\n";
    return kExitUsage;
  }
  core::SystemClock clock;
  core::SodiumRandom random;
  auto db = OpenDatabase(cfg, 2);
  if (!db) return kExitFailure;
  if (auto m = store::Migrate(*db, clock); !m) {
    std::cerr << "ikigai: database not ready: " << m.error().detail << "\n";
    return kExitFailure;
  }

  std::vector<LegacyUser> legacy;
  store::Database source(*source_url, store::DatabaseOptions{.pool_size = 1});
  auto read = source.Run([&](store::Connection& c) -> core::Result<void> {
    LegacyUser u;
    std::tm created{};
    soci::indicator created_ind = soci::i_null;
    soci::statement st = (c.Sql().prepare << "SELECT id, username, email, password, created_at FROM " + args.table +
                                                 " ORDER BY id",
                          soci::into(u.id), soci::into(u.username), soci::into(u.email), soci::into(u.password),
                          soci::into(created, created_ind));
    st.execute();
    while (st.fetch()) {
      u.created_at_ms = created_ind == soci::i_ok ? static_cast<long long>(timegm(&created)) * 1000
                                                  : core::ToMillis(clock.Now());
      legacy.push_back(u);
    }
    return {};
  });
  if (!read) {
    std::cerr << "ikigai: cannot read " << args.table << " from " << source_url->Redacted() << "\n";
    return kExitFailure;
  }

  int imported = 0, already = 0, conflicts = 0, invalid = 0;
  activity::Recorder recorder(clock, random);
  for (const auto& u : legacy) {
    std::string why;
    if (auto m = auth::CheckUsername(u.username)) why = "username " + m->message;
    else if (auto e = auth::CheckEmail(u.email)) why = "email " + e->message;
    else if (!IsBcrypt(u.password)) why = "password is not a bcrypt hash";
    if (!why.empty()) {
      std::cout << "skipped legacy id " << u.id << ": " << why << "\n";
      ++invalid;
      continue;
    }
    store::UserRow row;
    row.id = core::NewId(clock, random);
    row.username = u.username;
    row.email = u.email;
    row.display_name = u.username;
    row.password_hash = u.password;
    row.legacy_id = u.id;
    row.created_at = u.created_at_ms;
    row.updated_at = core::ToMillis(clock.Now());
    auto done = db->Transaction([&](store::Connection& c) -> core::Result<void> {
      if (store::UserStore::LegacyImported(c, u.id)) {
        core::Error e{core::ErrorCode::kConflict, "already imported", {{"legacy_id", {core::FieldCode::kTaken, "is already imported"}}}, {}};
        return core::Fail(std::move(e));
      }
      if (auto inserted = store::UserStore::Insert(c, row); !inserted) return inserted;
      recorder.Record(c, {"", "ikigai-cli", "import-legacy-users"},
                      {.actor_id = row.id, .action = "auth.registered", .target_type = "user", .target_id = row.id,
                       .data = {{"imported", true}, {"legacy_id", u.id}}});
      return {};
    });
    if (done) {
      ++imported;
    } else if (done.error().fields.contains("legacy_id")) {
      ++already;
    } else if (done.error().code == core::ErrorCode::kConflict) {
      std::cout << "conflict for legacy id " << u.id << " (" << u.username << " <" << u.email
                << ">): " << done.error().detail << " skipped\n";
      ++conflicts;
    } else {
      std::cerr << "ikigai: import stopped at legacy id " << u.id << ": database error\n";
      return kExitFailure;
    }
  }
  std::cout << "legacy users: " << legacy.size() << " read, " << imported << " imported, " << already
            << " already imported, " << conflicts << " conflicts skipped, " << invalid << " invalid skipped\n";
  return 0;
}

}  // namespace ikigai::cli
