// The store contract: one typed suite over SQLite (a temporary file) and MariaDB (a fresh database
// on the shared test server). Each ctest pass runs the back end named by IKIGAI_TEST_BACKEND and
// skips the other. Time comes from a FakeClock; timestamps are integer milliseconds.
//
// Not covered here: jobs::PurgeExpired. It lives in ikigai_jobs, which the integration binary does
// not link (only ikigai_store, ikigai_config and ikigai_core); the store calls it makes
// (SessionStore::PurgeEnded, RateEventStore::PurgeBefore) are covered below.
#include <cstdio>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "core/error.hpp"
#include "store/activity.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/outbox.hpp"
#include "store/rate_events.hpp"
#include "store/sessions.hpp"
#include "store/users.hpp"
#include "support/backend.hpp"
#include "support/fake_clock.hpp"
#include "support/mariadb.hpp"
#include "support/temp_dir.hpp"

namespace ikigai {
namespace {

using store::Connection;
using store::SessionStore;
using store::UserStore;

constexpr long long kT0 = support::kSomeMondayMillis;
constexpr long long kSecond = 1000;
constexpr long long kHour = 3600 * kSecond;
constexpr long long kDay = 24 * kHour;

// ---- the back ends ----

// A migrated SQLite database in a file of its own (":memory:" would give every pooled session a
// database of its own).
class SqliteBackend {
 public:
  static constexpr const char* kName = "sqlite";
  SqliteBackend() : url_("sqlite://" + dir_.File("contract.db")) {}
  [[nodiscard]] const std::string& Url() const { return url_; }

 private:
  support::TempDir dir_{"ikigai-contract-"};
  std::string url_;
};

// A fresh database on the shared test MariaDB.
class MysqlBackend {
 public:
  static constexpr const char* kName = "mysql";
  MysqlBackend() : url_(support::SharedMariaDb().CreateDatabase().url) {}
  [[nodiscard]] const std::string& Url() const { return url_; }

 private:
  std::string url_;
};

struct BackendNames {
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

std::string Describe(const core::Error& e) {
  return "error code " + std::to_string(static_cast<int>(e.code)) + " " + e.detail;
}

// ---- rows ----

// Deterministic UUID-shaped ids: every table holds them in CHAR(36) on MariaDB.
std::string Id(int n) {
  char buffer[40];
  std::snprintf(buffer, sizeof buffer, "00000000-0000-7000-8000-%012d", n);
  return buffer;
}

// A SHA-256-hex-shaped refresh token hash.
std::string TokenHash(int n) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%04d", n);
  return std::string(60, 'a') + buffer;
}

store::UserRow User(int n, const std::string& username, const std::string& email,
                    const std::string& role = "user") {
  store::UserRow u;
  u.id = Id(n);
  u.username = username;
  u.email = email;
  u.display_name = "Display " + username;
  u.password_hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g-" + std::to_string(n);
  u.role = role;
  u.created_at = kT0 + n;
  u.updated_at = kT0 + n;
  return u;
}

store::SessionRow Session(int n, const std::string& user_id, long long created_at,
                          long long expires_at) {
  store::SessionRow s;
  s.id = Id(n);
  s.user_id = user_id;
  s.created_at = created_at;
  s.last_used_at = created_at + 1;
  s.expires_at = expires_at;
  s.ip = "203.0.113." + std::to_string(n % 250);
  s.user_agent = "agent " + std::to_string(n);
  return s;
}

// ---- the fixture ----

template <class Backend>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if (support::BackendName() != Backend::kName) {
      GTEST_SKIP() << "this pass uses " << support::BackendName();
    }
    backend_ = std::make_unique<Backend>();
    db_ = Open(2);
  }

  // Another pool on the same database, migrated.
  std::unique_ptr<store::Database> Open(std::size_t pool_size) {
    auto url = store::ParseDatabaseUrl(backend_->Url());
    if (!url) throw std::runtime_error("bad url: " + Describe(url.error()));
    auto db =
        std::make_unique<store::Database>(*url, store::DatabaseOptions{.pool_size = pool_size});
    auto migrated = store::Migrate(*db, clock_);
    if (!migrated) throw std::runtime_error("cannot migrate: " + Describe(migrated.error()));
    return db;
  }

  store::Database& Db() { return *db_; }

  // f(Connection&) in Database::Run on `db`; its value, or an exception (failing the test) when the
  // database call failed.
  template <class F>
  auto On(store::Database& db, F&& f) {
    using T = std::invoke_result_t<F&, Connection&>;
    if constexpr (std::is_void_v<T>) {
      auto r = db.Run([&](Connection& c) -> core::Result<void> {
        f(c);
        return {};
      });
      if (!r) throw std::runtime_error("database call failed: " + Describe(r.error()));
    } else {
      std::optional<T> out;
      auto r = db.Run([&](Connection& c) -> core::Result<void> {
        out.emplace(f(c));
        return {};
      });
      if (!r) throw std::runtime_error("database call failed: " + Describe(r.error()));
      return std::move(*out);
    }
  }
  template <class F>
  auto Do(F&& f) {
    return On(*db_, std::forward<F>(f));
  }

  void InsertUser(const store::UserRow& u) {
    auto r = Do([&](Connection& c) { return UserStore::Insert(c, u); });
    ASSERT_TRUE(r) << u.username << ": " << Describe(r.error());
  }
  void InsertSession(const store::SessionRow& s) {
    Do([&](Connection& c) { SessionStore::Insert(c, s); });
  }
  std::optional<store::UserRow> FindUser(const std::string& id) {
    return Do([&](Connection& c) { return UserStore::FindById(c, id); });
  }
  std::optional<store::SessionRow> FindSession(const std::string& id) {
    return Do([&](Connection& c) { return SessionStore::Find(c, id); });
  }
  long long Count(const std::string& sql) {
    return Do([&](Connection& c) {
      long long n = -1;
      c.Sql() << sql, soci::into(n);
      return n;
    });
  }
  // `sql` with one placeholder :v bound to `value`.
  long long Count(const std::string& sql, const std::string& value) {
    return Do([&](Connection& c) {
      long long n = -1;
      c.Sql() << sql, soci::use(value, "v"), soci::into(n);
      return n;
    });
  }

  support::FakeClock clock_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<store::Database> db_;
};

using Backends = ::testing::Types<SqliteBackend, MysqlBackend>;
TYPED_TEST_SUITE(StoreContract, Backends, BackendNames);

// ---- UserStore ----

TYPED_TEST(StoreContract, InsertedUserIsFoundByIdWithEveryField) {
  auto u = User(1, "Alice", "Alice@Example.com", "admin");
  u.email_verified = true;
  u.disabled = true;
  u.created_at = kT0 - kDay;
  u.updated_at = kT0;
  this->InsertUser(u);
  auto found = this->FindUser(u.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, u.id);
  EXPECT_EQ(found->username, "Alice") << "stored as given";
  EXPECT_EQ(found->email, "Alice@Example.com") << "stored as given";
  EXPECT_EQ(found->display_name, u.display_name);
  EXPECT_EQ(found->password_hash, u.password_hash);
  EXPECT_EQ(found->role, "admin");
  EXPECT_TRUE(found->email_verified);
  EXPECT_TRUE(found->disabled);
  EXPECT_FALSE(found->pending_email);
  EXPECT_FALSE(found->legacy_id);
  EXPECT_EQ(found->created_at, kT0 - kDay);
  EXPECT_EQ(found->updated_at, kT0);

  auto plain = User(2, "bob", "bob@example.com");
  this->InsertUser(plain);
  auto bob = this->FindUser(plain.id);
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->role, "user");
  EXPECT_FALSE(bob->email_verified);
  EXPECT_FALSE(bob->disabled);
  EXPECT_FALSE(this->FindUser(Id(99)));
}

TYPED_TEST(StoreContract, FindByLoginIgnoresCaseForUsernameAndEmail) {
  this->InsertUser(User(1, "Alice", "Alice@Example.com"));
  this->InsertUser(User(2, "bob", "bob@example.com"));
  for (const char* login :
       {"Alice", "alice", "ALICE", "Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"}) {
    auto found = this->Do([&](Connection& c) { return UserStore::FindByLogin(c, login); });
    ASSERT_TRUE(found) << login;
    EXPECT_EQ(found->id, Id(1)) << login;
  }
  auto bob = this->Do([&](Connection& c) { return UserStore::FindByLogin(c, "BOB@example.COM"); });
  ASSERT_TRUE(bob);
  EXPECT_EQ(bob->id, Id(2));
  EXPECT_FALSE(this->Do([&](Connection& c) { return UserStore::FindByLogin(c, "carol"); }));
  EXPECT_FALSE(this->Do([&](Connection& c) { return UserStore::FindByLogin(c, "alic"); }));
  EXPECT_TRUE(this->Do([&](Connection& c) { return UserStore::UsernameTaken(c, "aLiCe"); }));
  EXPECT_FALSE(this->Do([&](Connection& c) { return UserStore::UsernameTaken(c, "carol"); }));
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return UserStore::EmailTaken(c, "ALICE@example.com"); }));
  EXPECT_FALSE(
      this->Do([&](Connection& c) { return UserStore::EmailTaken(c, "alice@example.org"); }));
}

TYPED_TEST(StoreContract, UsernameDifferingOnlyInCaseIsAConflict) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  auto dup = this->Do(
      [&](Connection& c) { return UserStore::Insert(c, User(2, "ALICE", "other@example.com")); });
  ASSERT_FALSE(dup) << "a second ALICE was inserted";
  EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict) << Describe(dup.error());
  EXPECT_TRUE(dup.error().fields.contains("username")) << Describe(dup.error());
  EXPECT_FALSE(dup.error().fields.contains("email")) << Describe(dup.error());
  EXPECT_FALSE(this->FindUser(Id(2)));
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM users"), 1);
}

TYPED_TEST(StoreContract, EmailDifferingOnlyInCaseIsAConflict) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  auto dup = this->Do(
      [&](Connection& c) { return UserStore::Insert(c, User(2, "alice2", "Alice@EXAMPLE.com")); });
  ASSERT_FALSE(dup) << "a second alice@example.com was inserted";
  EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict) << Describe(dup.error());
  EXPECT_TRUE(dup.error().fields.contains("email")) << Describe(dup.error());
  EXPECT_FALSE(dup.error().fields.contains("username")) << Describe(dup.error());
  EXPECT_FALSE(this->FindUser(Id(2)));
}

TYPED_TEST(StoreContract, LegacyIdIsRecordedAndUnique) {
  auto legacy = User(1, "hana", "hana@example.com");
  legacy.legacy_id = 42;
  this->InsertUser(legacy);
  this->InsertUser(User(2, "own", "own@example.com"));  // no legacy id: NULLs never collide
  this->InsertUser(User(3, "own2", "own2@example.com"));
  EXPECT_TRUE(this->Do([&](Connection& c) { return UserStore::LegacyImported(c, 42); }));
  EXPECT_FALSE(this->Do([&](Connection& c) { return UserStore::LegacyImported(c, 43); }));
  auto found = this->FindUser(Id(1));
  ASSERT_TRUE(found);
  EXPECT_EQ(found->legacy_id, 42);

  auto again = User(4, "hana2", "hana2@example.com");
  again.legacy_id = 42;
  auto dup = this->Do([&](Connection& c) { return UserStore::Insert(c, again); });
  ASSERT_FALSE(dup) << "legacy id 42 was imported twice";
  EXPECT_EQ(dup.error().code, core::ErrorCode::kConflict);
  EXPECT_TRUE(dup.error().fields.contains("legacy_id")) << Describe(dup.error());
}

TYPED_TEST(StoreContract, SetRoleAndSetDisabledChangeTheRowAndCountAdmins) {
  this->InsertUser(User(1, "root1", "root1@example.com", "admin"));
  this->InsertUser(User(2, "root2", "root2@example.com", "admin"));
  this->InsertUser(User(3, "carol", "carol@example.com"));
  auto admins = [&] { return this->Do([&](Connection& c) { return UserStore::CountAdmins(c); }); };
  EXPECT_EQ(admins(), 2);

  EXPECT_TRUE(
      this->Do([&](Connection& c) { return UserStore::SetRole(c, Id(3), "admin", kT0 + kHour); }));
  EXPECT_EQ(admins(), 3);
  auto carol = this->FindUser(Id(3));
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->role, "admin");
  EXPECT_EQ(carol->updated_at, kT0 + kHour);

  // A change that changes nothing still names an existing user (MariaDB counts changed rows only).
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return UserStore::SetRole(c, Id(3), "admin", kT0 + kHour); }));
  EXPECT_TRUE(this->Do(
      [&](Connection& c) { return UserStore::SetDisabled(c, Id(3), false, kT0 + kHour); }));
  EXPECT_FALSE(
      this->Do([&](Connection& c) { return UserStore::SetRole(c, Id(99), "admin", kT0); }));
  EXPECT_FALSE(
      this->Do([&](Connection& c) { return UserStore::SetDisabled(c, Id(99), true, kT0); }));

  // A disabled admin is not counted.
  EXPECT_TRUE(this->Do(
      [&](Connection& c) { return UserStore::SetDisabled(c, Id(1), true, kT0 + 2 * kHour); }));
  EXPECT_EQ(admins(), 2);
  auto root1 = this->FindUser(Id(1));
  ASSERT_TRUE(root1);
  EXPECT_TRUE(root1->disabled);
  EXPECT_EQ(root1->role, "admin");
  EXPECT_EQ(root1->updated_at, kT0 + 2 * kHour);

  EXPECT_TRUE(this->Do(
      [&](Connection& c) { return UserStore::SetRole(c, Id(2), "user", kT0 + 3 * kHour); }));
  EXPECT_EQ(admins(), 1);
  EXPECT_TRUE(this->Do(
      [&](Connection& c) { return UserStore::SetDisabled(c, Id(1), false, kT0 + 4 * kHour); }));
  EXPECT_EQ(admins(), 2);
  EXPECT_FALSE(this->FindUser(Id(1))->disabled);

  this->Do([&](Connection& c) {
    UserStore::UpdatePasswordHash(c, Id(2), "$argon2id$new", kT0 + 5 * kHour);
  });
  EXPECT_EQ(this->FindUser(Id(2))->password_hash, "$argon2id$new");
  EXPECT_EQ(this->FindUser(Id(2))->updated_at, kT0 + 5 * kHour);

  auto all = this->Do([&](Connection& c) { return UserStore::ListAll(c, 2); });
  ASSERT_EQ(all.size(), 2u) << "the limit is not applied";
  EXPECT_EQ(all[0].id, Id(1)) << "not in creation order";
  EXPECT_EQ(all[1].id, Id(2)) << "not in creation order";
}

TYPED_TEST(StoreContract, FindBySessionJoinsTheUserAndShowsRevokedAndExpiredSessions) {
  auto u = User(1, "alice", "alice@example.com", "admin");
  this->InsertUser(u);
  this->InsertSession(Session(10, u.id, kT0, kT0 + kDay));
  this->InsertSession(Session(11, u.id, kT0 - 2 * kDay, kT0 - kDay));  // expired

  auto live = this->Do([&](Connection& c) { return UserStore::FindBySession(c, Id(10)); });
  ASSERT_TRUE(live);
  EXPECT_EQ(live->user.id, u.id);
  EXPECT_EQ(live->user.username, "alice");
  EXPECT_EQ(live->user.email, "alice@example.com");
  EXPECT_EQ(live->user.role, "admin");
  EXPECT_EQ(live->user.password_hash, u.password_hash);
  EXPECT_FALSE(live->user.disabled);
  EXPECT_EQ(live->session_expires_at, kT0 + kDay);
  EXPECT_FALSE(live->session_revoked_at);

  auto expired = this->Do([&](Connection& c) { return UserStore::FindBySession(c, Id(11)); });
  ASSERT_TRUE(expired) << "an expired session must still be found (the caller decides)";
  EXPECT_EQ(expired->session_expires_at, kT0 - kDay);
  EXPECT_FALSE(expired->session_revoked_at);

  EXPECT_FALSE(this->Do([&](Connection& c) { return UserStore::FindBySession(c, Id(12)); }));

  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::Revoke(c, Id(10), u.id, kT0 + 5); }));
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return UserStore::SetDisabled(c, u.id, true, kT0 + 6); }));
  auto revoked = this->Do([&](Connection& c) { return UserStore::FindBySession(c, Id(10)); });
  ASSERT_TRUE(revoked) << "a revoked session must still be found (the caller decides)";
  EXPECT_EQ(revoked->session_revoked_at, kT0 + 5);
  EXPECT_TRUE(revoked->user.disabled);
  EXPECT_EQ(revoked->user.updated_at, kT0 + 6);
}

// Authentication runs FindBySession on every request through a statement prepared once per pooled
// session. Whatever it leaves behind must not hide later changes made by other connections (the
// CLI, other server instances) from that session, nor make its next write fail.
TYPED_TEST(StoreContract, FindBySessionLeavesNoStaleSnapshotBehind) {
  auto u = User(1, "alice", "alice@example.com");
  this->InsertUser(u);
  this->InsertSession(Session(10, u.id, kT0, kT0 + kDay));
  auto solo = this->Open(1);  // one pooled session: every call below uses the same one
  ASSERT_TRUE(this->On(*solo, [&](Connection& c) { return UserStore::FindBySession(c, Id(10)); }));

  // Elsewhere: another connection disables the user and adds one.
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return UserStore::SetDisabled(c, u.id, true, kT0 + 1); }));
  this->InsertUser(User(2, "bob", "bob@example.com"));

  auto seen = this->On(*solo, [&](Connection& c) { return UserStore::FindById(c, u.id); });
  ASSERT_TRUE(seen);
  EXPECT_TRUE(seen->disabled) << "the session still reads the database as it was before the change";
  EXPECT_TRUE(this->On(*solo, [&](Connection& c) { return UserStore::FindByLogin(c, "bob"); }))
      << "a user added by another connection is invisible to this session";
  auto write = solo->Transaction([&](Connection& c) -> core::Result<void> {
    return UserStore::Insert(c, User(3, "carol", "carol@example.com"));
  });
  EXPECT_TRUE(write) << "a write after FindBySession failed: " << Describe(write.error());
}

// ---- SessionStore ----

TYPED_TEST(StoreContract, SessionIsFoundWithEveryField) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  auto s = Session(10, Id(1), kT0, kT0 + 30 * kDay);
  this->InsertSession(s);
  auto found = this->FindSession(s.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, s.id);
  EXPECT_EQ(found->user_id, Id(1));
  EXPECT_EQ(found->created_at, kT0);
  EXPECT_EQ(found->last_used_at, kT0 + 1);
  EXPECT_EQ(found->expires_at, kT0 + 30 * kDay);
  EXPECT_FALSE(found->revoked_at);
  EXPECT_EQ(found->ip, s.ip);
  EXPECT_EQ(found->user_agent, s.user_agent);
  this->Do([&](Connection& c) { SessionStore::Touch(c, s.id, kT0 + kHour); });
  EXPECT_EQ(this->FindSession(s.id)->last_used_at, kT0 + kHour);
  EXPECT_FALSE(this->FindSession(Id(11)));
}

TYPED_TEST(StoreContract, RefreshTokenIsSpentOnce) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  this->InsertSession(Session(10, Id(1), kT0, kT0 + kDay));
  this->Do([&](Connection& c) { SessionStore::InsertRefreshToken(c, TokenHash(1), Id(10), kT0); });

  auto fresh =
      this->Do([&](Connection& c) { return SessionStore::FindRefreshToken(c, TokenHash(1)); });
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->session_id, Id(10));
  EXPECT_EQ(fresh->user_id, Id(1));
  EXPECT_FALSE(fresh->spent_at);
  EXPECT_FALSE(fresh->session_revoked_at);
  EXPECT_EQ(fresh->session_expires_at, kT0 + kDay);

  EXPECT_TRUE(this->Do(
      [&](Connection& c) { return SessionStore::SpendRefreshToken(c, TokenHash(1), kT0 + 7); }));
  EXPECT_FALSE(this->Do([&](Connection& c) {
    return SessionStore::SpendRefreshToken(c, TokenHash(1), kT0 + 8);
  })) << "a refresh token was spent twice";
  auto spent =
      this->Do([&](Connection& c) { return SessionStore::FindRefreshToken(c, TokenHash(1)); });
  ASSERT_TRUE(spent) << "a spent token must stay (reuse detection)";
  EXPECT_EQ(spent->spent_at, kT0 + 7) << "the second spend overwrote the first";

  EXPECT_FALSE(
      this->Do([&](Connection& c) { return SessionStore::FindRefreshToken(c, TokenHash(2)); }));
  EXPECT_FALSE(this->Do(
      [&](Connection& c) { return SessionStore::SpendRefreshToken(c, TokenHash(2), kT0); }));

  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::Revoke(c, Id(10), Id(1), kT0 + 9); }));
  auto revoked =
      this->Do([&](Connection& c) { return SessionStore::FindRefreshToken(c, TokenHash(1)); });
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->session_revoked_at, kT0 + 9);
}

TYPED_TEST(StoreContract, RevokeOnlyEndsTheOwnersLiveSession) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  this->InsertUser(User(2, "bob", "bob@example.com"));
  this->InsertSession(Session(10, Id(1), kT0, kT0 + kDay));
  this->InsertSession(Session(20, Id(2), kT0, kT0 + kDay));
  this->InsertSession(Session(11, Id(1), kT0 - 2 * kDay, kT0 - kDay));  // expired
  auto revoke = [&](int session, int user, long long now) {
    return this->Do(
        [&](Connection& c) { return SessionStore::Revoke(c, Id(session), Id(user), now); });
  };

  EXPECT_FALSE(revoke(20, 1, kT0 + 1)) << "alice revoked bob's session";
  EXPECT_FALSE(this->FindSession(Id(20))->revoked_at);
  EXPECT_FALSE(revoke(11, 1, kT0 + 1)) << "an expired session counts as live";
  EXPECT_FALSE(revoke(99, 1, kT0 + 1));

  EXPECT_TRUE(revoke(10, 1, kT0 + 2));
  EXPECT_EQ(this->FindSession(Id(10))->revoked_at, kT0 + 2);
  EXPECT_FALSE(revoke(10, 1, kT0 + 3)) << "a revoked session was revoked again";
  EXPECT_EQ(this->FindSession(Id(10))->revoked_at, kT0 + 2) << "the revocation time moved";
}

TYPED_TEST(StoreContract, RevokeAllSparesTheExceptedSessionAndOtherUsers) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  this->InsertUser(User(2, "bob", "bob@example.com"));
  for (int n : {10, 11, 12}) this->InsertSession(Session(n, Id(1), kT0 + n, kT0 + kDay));
  this->InsertSession(Session(20, Id(2), kT0, kT0 + kDay));

  EXPECT_EQ(this->Do([&](Connection& c) {
    return SessionStore::RevokeAll(c, Id(1), kT0 + kHour, Id(11));
  }),
            2);
  auto live =
      this->Do([&](Connection& c) { return SessionStore::ListLive(c, Id(1), kT0 + kHour); });
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].id, Id(11));
  EXPECT_EQ(this->FindSession(Id(10))->revoked_at, kT0 + kHour);
  EXPECT_FALSE(this->FindSession(Id(20))->revoked_at) << "bob's session was revoked";

  EXPECT_EQ(
      this->Do([&](Connection& c) { return SessionStore::RevokeAll(c, Id(1), kT0 + 2 * kHour); }),
      1);
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::ListLive(c, Id(1), kT0 + 2 * kHour); })
          .empty());
  EXPECT_EQ(this->FindSession(Id(10))->revoked_at, kT0 + kHour)
      << "an old revocation was overwritten";
  EXPECT_EQ(
      this->Do([&](Connection& c) { return SessionStore::RevokeAll(c, Id(1), kT0 + 3 * kHour); }),
      0);
  EXPECT_FALSE(this->FindSession(Id(20))->revoked_at);
}

TYPED_TEST(StoreContract, ListLiveIsNewestFirstWithoutRevokedOrExpired) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  this->InsertUser(User(2, "bob", "bob@example.com"));
  const long long now = kT0;
  this->InsertSession(Session(11, Id(1), now - 3000, now + kHour));
  this->InsertSession(Session(13, Id(1), now - 1000, now + kHour));
  this->InsertSession(Session(12, Id(1), now - 2000, now + kHour));
  this->InsertSession(Session(14, Id(1), now - 500, now));      // expires exactly now
  this->InsertSession(Session(15, Id(1), now - 400, now - 1));  // expired
  this->InsertSession(Session(16, Id(1), now - 300, now + kHour));
  this->InsertSession(Session(20, Id(2), now - 100, now + kHour));
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::Revoke(c, Id(16), Id(1), now - 100); }));

  auto live = this->Do([&](Connection& c) { return SessionStore::ListLive(c, Id(1), now); });
  std::vector<std::string> ids;
  for (const auto& s : live) ids.push_back(s.id);
  EXPECT_EQ(ids, (std::vector<std::string>{Id(13), Id(12), Id(11)}));
  ASSERT_FALSE(live.empty());
  EXPECT_EQ(live[0].user_id, Id(1));
  EXPECT_EQ(live[0].created_at, now - 1000);
  EXPECT_EQ(live[0].last_used_at, now - 999);
  EXPECT_EQ(live[0].expires_at, now + kHour);
  EXPECT_FALSE(live[0].revoked_at);
  EXPECT_EQ(live[0].ip, Session(13, "", 0, 0).ip);
  EXPECT_EQ(live[0].user_agent, "agent 13");
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::ListLive(c, Id(3), now); }).empty());
}

TYPED_TEST(StoreContract, PurgeEndedDeletesEndedSessionsAndTheirRefreshTokens) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  const long long before = kT0 - kDay;
  this->InsertSession(Session(10, Id(1), kT0 - kHour, kT0 + kHour));        // live
  this->InsertSession(Session(11, Id(1), kT0 - 3 * kDay, kT0 - 2 * kDay));  // expired long ago
  this->InsertSession(Session(12, Id(1), kT0 - 3 * kDay, kT0 - kHour));     // expired recently
  this->InsertSession(Session(13, Id(1), kT0 - 3 * kDay, before));          // expired at the line
  this->InsertSession(Session(14, Id(1), kT0 - 3 * kDay, kT0 + kDay));      // revoked long ago
  this->InsertSession(Session(15, Id(1), kT0 - 3 * kDay, kT0 + kDay));      // revoked recently
  EXPECT_TRUE(this->Do(
      [&](Connection& c) { return SessionStore::Revoke(c, Id(14), Id(1), kT0 - 2 * kDay); }));
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::Revoke(c, Id(15), Id(1), kT0 - kHour); }));
  for (int n = 10; n <= 15; ++n) {
    this->Do([&](Connection& c) {
      SessionStore::InsertRefreshToken(c, TokenHash(n), Id(n), kT0 - 3 * kDay);
    });
  }

  EXPECT_EQ(this->Do([&](Connection& c) { return SessionStore::PurgeEnded(c, before); }), 2);
  for (int n : {11, 14}) {
    EXPECT_FALSE(this->FindSession(Id(n))) << "session " << n << " was kept";
    EXPECT_FALSE(this->Do([&](Connection& c) {
      return SessionStore::FindRefreshToken(c, TokenHash(n));
    })) << "the refresh token of purged session "
        << n << " was kept";
  }
  for (int n : {10, 12, 13, 15}) {
    EXPECT_TRUE(this->FindSession(Id(n))) << "session " << n << " was purged";
    EXPECT_TRUE(
        this->Do([&](Connection& c) { return SessionStore::FindRefreshToken(c, TokenHash(n)); }));
  }
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM refresh_tokens"), 4);
  EXPECT_EQ(this->Do([&](Connection& c) { return SessionStore::PurgeEnded(c, before); }), 0);
}

// ---- ActivityStore ----

store::ActivityRow Event(int n, long long at, std::optional<std::string> actor, std::optional<std::string> target,
                         const std::string& action = "task.created") {
  store::ActivityRow r;
  r.id = Id(n);
  r.at = at;
  r.actor_id = std::move(actor);
  r.action = action;
  if (target) r.target_type = "user";
  r.target_id = std::move(target);
  return r;
}

// The retention purge deletes in bounded statements: each call at most `limit` rows, the oldest
// first, and never one at or after the cut.
TYPED_TEST(StoreContract, ActivityPurgeBeforeDeletesAtMostItsLimitOldestFirst) {
  for (int n = 1; n <= 7; ++n) {
    this->Do([&](Connection& c) { store::ActivityStore::Insert(c, Event(n, kT0 - 100 + n, Id(900), std::nullopt)); });
  }
  this->Do([&](Connection& c) { store::ActivityStore::Insert(c, Event(8, kT0, Id(900), std::nullopt)); });
  auto purge = [&] { return this->Do([&](Connection& c) { return store::ActivityStore::PurgeBefore(c, kT0, 3); }); };
  EXPECT_EQ(purge(), 3);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM activity WHERE at < " + std::to_string(kT0 - 100 + 4)), 0);
  EXPECT_EQ(purge(), 3);
  EXPECT_EQ(purge(), 1);
  EXPECT_EQ(purge(), 0);
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM activity"), 1);  // the event at the cut stays
}

// "Done by or to the user" merges two index scans: each event once (also one the user did to
// itself), newest first by (at, id), and the keyset continues strictly after the last row.
TYPED_TEST(StoreContract, ActivityListOfAUserMergesActorAndTargetOnce) {
  const std::string alice = Id(901);
  const std::string bob = Id(902);
  this->Do([&](Connection& c) {
    store::ActivityStore::Insert(c, Event(1, kT0 + 1, alice, alice, "auth.registered"));
    store::ActivityStore::Insert(c, Event(2, kT0 + 2, bob, alice, "admin.user_updated"));
    store::ActivityStore::Insert(c, Event(3, kT0 + 2, alice, std::nullopt));
    store::ActivityStore::Insert(c, Event(4, kT0 + 3, bob, bob, "auth.registered"));
    store::ActivityStore::Insert(c, Event(5, kT0 + 4, std::nullopt, alice, "auth.login_failed"));
  });
  store::ActivityQuery q;
  q.user_id = alice;
  q.limit = 10;
  auto rows = this->Do([&](Connection& c) { return store::ActivityStore::List(c, q); });
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  EXPECT_EQ(ids, (std::vector<std::string>{Id(5), Id(3), Id(2), Id(1)}));
  q.limit = 2;
  q.after = store::ActivityQuery::Key{kT0 + 2, Id(3)};
  rows = this->Do([&](Connection& c) { return store::ActivityStore::List(c, q); });
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, Id(2));
  EXPECT_EQ(rows[1].id, Id(1));
  q = {};
  q.action = "auth.registered";
  q.since = kT0 + 1;
  q.until = kT0 + 3;  // exclusive
  rows = this->Do([&](Connection& c) { return store::ActivityStore::List(c, q); });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, Id(1));
  EXPECT_EQ(rows[0].actor_id, alice);
  EXPECT_EQ(rows[0].target_type, "user");
}

// ---- RateEventStore ----

TYPED_TEST(StoreContract, RateWindowIncludesItsStartAndCountsOnlyItsBucketAndSubject) {
  for (long long at : {kT0 - 1000, kT0 - 500, kT0}) {
    this->Do([&](Connection& c) { store::RateEventStore::Add(c, "login_account", "alice", at); });
  }
  this->Do([&](Connection& c) { store::RateEventStore::Add(c, "login_account", "bob", kT0); });
  this->Do([&](Connection& c) { store::RateEventStore::Add(c, "login_address", "alice", kT0); });
  auto count = [&](long long since) {
    return this->Do([&](Connection& c) {
      return store::RateEventStore::Count(c, "login_account", "alice", since);
    });
  };

  auto all = count(kT0 - 1000);
  EXPECT_EQ(all.count, 3);
  EXPECT_EQ(all.oldest, kT0 - 1000);
  auto from_middle = count(kT0 - 500);  // inclusive
  EXPECT_EQ(from_middle.count, 2);
  EXPECT_EQ(from_middle.oldest, kT0 - 500);
  auto just_after = count(kT0 - 499);
  EXPECT_EQ(just_after.count, 1);
  EXPECT_EQ(just_after.oldest, kT0);
  auto none = count(kT0 + 1);
  EXPECT_EQ(none.count, 0);
  EXPECT_FALSE(none.oldest);
}

TYPED_TEST(StoreContract, RatePurgeBeforeIsStrict) {
  for (long long at : {kT0 - 1000, kT0 - 500, kT0}) {
    this->Do([&](Connection& c) { store::RateEventStore::Add(c, "login_account", "alice", at); });
  }
  EXPECT_EQ(
      this->Do([&](Connection& c) { return store::RateEventStore::PurgeBefore(c, kT0 - 500); }), 1);
  auto left = this->Do(
      [&](Connection& c) { return store::RateEventStore::Count(c, "login_account", "alice", 0); });
  EXPECT_EQ(left.count, 2);
  EXPECT_EQ(left.oldest, kT0 - 500);
  EXPECT_EQ(
      this->Do([&](Connection& c) { return store::RateEventStore::PurgeBefore(c, kT0 - 500); }), 0);
}

// ---- ActivityStore ----

TYPED_TEST(StoreContract, ActivityAcceptsANullActorAndTarget) {
  store::ActivityRow anonymous;
  anonymous.id = Id(1);
  anonymous.at = kT0;
  anonymous.action = "auth.login_failed";
  anonymous.ip = "203.0.113.7";
  anonymous.user_agent = "curl";
  anonymous.request_id = "req-1";
  anonymous.data = R"({"login":"nobody"})";
  this->Do([&](Connection& c) { store::ActivityStore::Insert(c, anonymous); });

  store::ActivityRow by_user = anonymous;
  by_user.id = Id(2);
  by_user.actor_id = Id(7);
  by_user.target_type = "user";
  by_user.target_id = Id(7);
  by_user.action = "user.updated";
  this->Do([&](Connection& c) { store::ActivityStore::Insert(c, by_user); });

  struct Read {
    std::optional<std::string> actor, target_type, target_id;
    std::string action, ip, user_agent, request_id, data;
    long long at = 0;
  };
  auto read = [&](const std::string& id) {
    return this->Do([&](Connection& c) {
      Read r;
      std::string actor, type, target;
      soci::indicator actor_ind = soci::i_null, type_ind = soci::i_null, target_ind = soci::i_null;
      c.Sql() << "SELECT at, actor_id, action, target_type, target_id, ip, user_agent, request_id, "
                 "data "
                 "FROM activity WHERE id = :id",
          soci::use(id), soci::into(r.at), soci::into(actor, actor_ind), soci::into(r.action),
          soci::into(type, type_ind), soci::into(target, target_ind), soci::into(r.ip),
          soci::into(r.user_agent), soci::into(r.request_id), soci::into(r.data);
      if (!c.Sql().got_data()) throw std::runtime_error("no activity row " + id);
      if (actor_ind == soci::i_ok) r.actor = actor;
      if (type_ind == soci::i_ok) r.target_type = type;
      if (target_ind == soci::i_ok) r.target_id = target;
      return r;
    });
  };
  auto a = read(Id(1));
  EXPECT_FALSE(a.actor) << "stored as '" << a.actor.value_or("") << "', not NULL";
  EXPECT_FALSE(a.target_type);
  EXPECT_FALSE(a.target_id);
  EXPECT_EQ(a.at, kT0);
  EXPECT_EQ(a.action, "auth.login_failed");
  EXPECT_EQ(a.ip, "203.0.113.7");
  EXPECT_EQ(a.user_agent, "curl");
  EXPECT_EQ(a.request_id, "req-1");
  EXPECT_EQ(a.data, R"({"login":"nobody"})");
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM activity WHERE actor_id IS NULL"), 1);
  auto b = read(Id(2));
  EXPECT_EQ(b.actor, Id(7));
  EXPECT_EQ(b.target_type, "user");
  EXPECT_EQ(b.target_id, Id(7));
}

// ---- Database ----

TYPED_TEST(StoreContract, TransactionCommitsWhenTheBodySucceeds) {
  auto r = this->Db().Transaction([&](Connection& c) -> core::Result<std::string> {
    auto inserted = UserStore::Insert(c, User(1, "alice", "alice@example.com"));
    if (!inserted) return core::Fail(inserted.error());
    SessionStore::Insert(c, Session(10, Id(1), kT0, kT0 + kDay));
    return std::string("done");
  });
  ASSERT_TRUE(r) << Describe(r.error());
  EXPECT_EQ(*r, "done");
  EXPECT_TRUE(this->FindUser(Id(1)));
  EXPECT_TRUE(this->FindSession(Id(10)));
}

TYPED_TEST(StoreContract, TransactionRollsBackWhenTheBodyReturnsAnError) {
  auto r = this->Db().Transaction([&](Connection& c) -> core::Result<void> {
    auto inserted = UserStore::Insert(c, User(1, "alice", "alice@example.com"));
    if (!inserted) return inserted;
    SessionStore::Insert(c, Session(10, Id(1), kT0, kT0 + kDay));
    return core::Fail(core::ErrorCode::kConflict, "changed my mind");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kConflict);
  EXPECT_EQ(r.error().detail, "changed my mind") << "the body's error is not passed on";
  EXPECT_FALSE(this->FindUser(Id(1))) << "the user outlived the rollback";
  EXPECT_FALSE(this->FindSession(Id(10))) << "the session outlived the rollback";
  // The pool is fine afterwards.
  this->InsertUser(User(2, "bob", "bob@example.com"));
  EXPECT_TRUE(this->FindUser(Id(2)));
}

TYPED_TEST(StoreContract, TransactionRollsBackWhenTheBodyThrows) {
  core::Result<void> r;
  EXPECT_NO_THROW(r = this->Db().Transaction([&](Connection& c) -> core::Result<void> {
    auto inserted = UserStore::Insert(c, User(1, "alice", "alice@example.com"));
    if (!inserted) return inserted;
    throw std::runtime_error("boom");
  }));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kInternal);
  EXPECT_EQ(r.error().detail.find("boom"), std::string::npos) << "internals leak into the error";
  EXPECT_FALSE(this->FindUser(Id(1))) << "the user outlived the rollback";
  this->InsertUser(User(2, "bob", "bob@example.com"));
  EXPECT_TRUE(this->FindUser(Id(2)));
}

TYPED_TEST(StoreContract, AConflictInsideATransactionLeavesItUsable) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  auto r = this->Db().Transaction([&](Connection& c) -> core::Result<void> {
    if (auto a = UserStore::Insert(c, User(2, "bob", "bob@example.com")); !a) return a;
    auto dup = UserStore::Insert(c, User(3, "ALICE", "x@example.com"));
    if (dup || dup.error().code != core::ErrorCode::kConflict) {
      return core::Fail(core::ErrorCode::kInternal, "the duplicate was not a conflict");
    }
    return UserStore::Insert(c, User(4, "carol", "carol@example.com"));
  });
  ASSERT_TRUE(r) << Describe(r.error());
  EXPECT_TRUE(this->FindUser(Id(2)));
  EXPECT_FALSE(this->FindUser(Id(3)));
  EXPECT_TRUE(this->FindUser(Id(4)));
}

TYPED_TEST(StoreContract, RunOfFailingSqlIsInternalAndThePoolStillWorks) {
  for (const char* sql : {"SELECT no_such_column FROM users",
                          "INSERT INTO no_such_table (x) VALUES (1)", "THIS IS NOT SQL"}) {
    core::Result<void> r;
    EXPECT_NO_THROW(r = this->Db().Run([&](Connection& c) -> core::Result<void> {
      c.Sql() << sql;
      return {};
    })) << sql;
    ASSERT_FALSE(r) << sql;
    EXPECT_EQ(r.error().code, core::ErrorCode::kInternal) << sql << ": " << Describe(r.error());
    EXPECT_EQ(r.error().detail.find("no_such"), std::string::npos) << "SQL leaks into the error";
  }
  // A failing statement inside a transaction as well.
  core::Result<void> tx;
  EXPECT_NO_THROW(tx = this->Db().Transaction([&](Connection& c) -> core::Result<void> {
    if (auto a = UserStore::Insert(c, User(1, "alice", "alice@example.com")); !a) return a;
    c.Sql() << "UPDATE no_such_table SET x = 1";
    return {};
  }));
  ASSERT_FALSE(tx);
  EXPECT_EQ(tx.error().code, core::ErrorCode::kInternal);
  EXPECT_FALSE(this->FindUser(Id(1))) << "the transaction was not rolled back";
  for (int n = 2; n < 6; ++n) {  // more calls than pooled sessions
    this->InsertUser(
        User(n, "user" + std::to_string(n), "user" + std::to_string(n) + "@example.com"));
  }
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM users"), 4);
}

TYPED_TEST(StoreContract, DeletingAUserCascadesToSessionsAndRefreshTokens) {
  this->InsertUser(User(1, "alice", "alice@example.com"));
  this->InsertUser(User(2, "bob", "bob@example.com"));
  this->InsertSession(Session(10, Id(1), kT0, kT0 + kDay));
  this->InsertSession(Session(11, Id(1), kT0, kT0 + kDay));
  this->InsertSession(Session(20, Id(2), kT0, kT0 + kDay));
  for (int n : {10, 11, 20}) {
    this->Do([&](Connection& c) { SessionStore::InsertRefreshToken(c, TokenHash(n), Id(n), kT0); });
  }
  const std::string alice = Id(1);
  this->Do([&](Connection& c) { c.Sql() << "DELETE FROM users WHERE id = :id", soci::use(alice); });

  EXPECT_FALSE(this->FindUser(alice));
  EXPECT_FALSE(this->FindSession(Id(10))) << "the session outlived its user";
  EXPECT_FALSE(this->FindSession(Id(11))) << "the session outlived its user";
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM sessions WHERE user_id = :v", alice), 0);
  for (int n : {10, 11}) {
    EXPECT_EQ(this->Count("SELECT COUNT(*) FROM refresh_tokens WHERE session_id = :v", Id(n)), 0)
        << "the refresh token outlived session " << n;
  }
  EXPECT_TRUE(this->FindSession(Id(20))) << "bob's session went too";
  EXPECT_TRUE(
      this->Do([&](Connection& c) { return SessionStore::FindRefreshToken(c, TokenHash(20)); }));

  // And the constraint holds the other way: no session for a user that does not exist.
  auto orphan = this->Db().Run([&](Connection& c) -> core::Result<void> {
    SessionStore::Insert(c, Session(30, Id(99), kT0, kT0 + kDay));
    return {};
  });
  EXPECT_FALSE(orphan) << "a session of an unknown user was accepted: foreign keys are off";
  EXPECT_FALSE(this->FindSession(Id(30)));
}

// ---- claims and locks that must hold across instances (and Galera nodes) ----

// A queued email is taken by one claim at a time: a second claimer gets nothing while the lease
// runs, the outcome of a claim that lost its lease changes nothing, and an expired lease is
// taken over (a new attempt) by a new token.
TYPED_TEST(StoreContract, OutboxRowIsClaimedByOneTokenUntilItsLeaseRunsOut) {
  store::OutboxRow row;
  row.id = Id(700);
  row.kind = "verify_email";
  row.to_address = "once@example.com";
  row.subject = "Subject";
  row.text_body = "text";
  row.html_body = "<p>html</p>";
  row.created_at = row.next_attempt_at = kT0;
  this->Do([&](Connection& c) { store::OutboxStore::Insert(c, row); });
  auto claim = [&](const std::string& token, long long now) {
    auto r = this->Db().Transaction([&](Connection& c) -> core::Result<std::vector<store::OutboxRow>> {
      return store::OutboxStore::Claim(c, token, now, now + 5 * 60 * kSecond, 10);
    });
    if (!r) throw std::runtime_error("claim failed: " + Describe(r.error()));
    return *r;
  };
  auto first = claim("token-a", kT0 + kSecond);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].attempts, 1);
  EXPECT_TRUE(claim("token-b", kT0 + 2 * kSecond).empty()) << "claimed twice while the lease runs";
  // An outcome under a token that does not hold the row is ignored.
  this->Do([&](Connection& c) { store::OutboxStore::MarkSent(c, row.id, "token-b", kT0 + 3 * kSecond); });
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sending' AND claimed_by = :v", "token-a"), 1);
  // The lease runs out (the holder died): another token takes the row over.
  auto second = claim("token-c", kT0 + 6 * 60 * kSecond);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].attempts, 2);
  this->Do([&](Connection& c) { store::OutboxStore::MarkSent(c, row.id, "token-a", kT0 + 7 * 60 * kSecond); });
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sending' AND claimed_by = :v", "token-c"), 1);
  this->Do([&](Connection& c) { store::OutboxStore::MarkSent(c, row.id, "token-c", kT0 + 7 * 60 * kSecond); });
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent' AND claimed_by IS NULL"), 1);
  EXPECT_TRUE(claim("token-d", kT0 + 60 * 60 * kSecond).empty());
}

// Instances starting at once on an empty database: each migration is applied once, every
// migrator succeeds, and (MariaDB) the migration lease is free afterwards.
TYPED_TEST(StoreContract, ConcurrentMigratorsApplyEachMigrationOnce) {
  this->backend_ = std::make_unique<TypeParam>();  // a fresh, empty database
  auto url = store::ParseDatabaseUrl(this->backend_->Url());
  ASSERT_TRUE(url);
  constexpr int kMigrators = 4;
  std::vector<std::unique_ptr<store::Database>> pools;
  for (int i = 0; i < kMigrators; ++i) {
    pools.push_back(std::make_unique<store::Database>(*url, store::DatabaseOptions{.pool_size = 2}));
  }
  std::vector<core::Result<store::MigrationReport>> results(kMigrators);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kMigrators; ++i) {
      threads.emplace_back([&, i] { results[static_cast<std::size_t>(i)] = store::Migrate(*pools[static_cast<std::size_t>(i)], this->clock_); });
    }
  }
  std::size_t applied = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r) << Describe(r.error());
    EXPECT_EQ(r->to_version, store::LatestVersion(pools[0]->GetDialect()));
    applied += r->applied.size();
  }
  EXPECT_EQ(applied, static_cast<std::size_t>(store::LatestVersion(pools[0]->GetDialect())));
  const long long versions = this->On(*pools[0], [](Connection& c) {
    long long n = -1;
    c.Sql() << "SELECT COUNT(*) FROM schema_migrations", soci::into(n);
    return n;
  });
  EXPECT_EQ(versions, store::LatestVersion(pools[0]->GetDialect()));
  if (pools[0]->GetDialect() == store::Dialect::kMysql) {
    const long long held = this->On(*pools[0], [](Connection& c) {
      long long n = -1;
      c.Sql() << "SELECT COUNT(*) FROM schema_migrations_lock WHERE holder IS NOT NULL", soci::into(n);
      return n;
    });
    EXPECT_EQ(held, 0);
  }
}

// Every change that removes an admin writes the guard row: the common write that makes two such
// changes on two Galera nodes conflict.
TYPED_TEST(StoreContract, AdminGuardRowExistsAndCountsItsTouches) {
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM admin_guard WHERE id = 1 AND changes = 0"), 1);
  this->Do([](Connection& c) { UserStore::TouchAdminGuard(c); });
  this->Do([](Connection& c) { UserStore::TouchAdminGuard(c); });
  EXPECT_EQ(this->Count("SELECT COUNT(*) FROM admin_guard WHERE id = 1 AND changes = 2"), 1);
}

}  // namespace
}  // namespace ikigai
