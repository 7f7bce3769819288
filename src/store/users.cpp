// User rows over SOCI; the unique indexes on the lowered columns decide duplicates.
#include "store/users.hpp"

#include "core/text.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "store/dynamic_sql.hpp"
#include "store/mysql_statement.hpp"

namespace ikigai::store {
namespace {

constexpr const char* kColumns =
    "SELECT id, username, email, display_name, password_hash, role, email_verified, disabled, "
    "pending_email, legacy_id, created_at, updated_at, mfa_enabled FROM users ";

struct UserInto {
  UserRow row;
  int email_verified = 0;
  int disabled = 0;
  std::string pending;
  soci::indicator pending_ind = soci::i_null;
  long long legacy = 0;
  soci::indicator legacy_ind = soci::i_null;
  int mfa_enabled = 0;

  // For statements built at run time: the same columns, in kColumns' order.
  void Bind(soci::statement& st) {
    st.exchange(soci::into(row.id));
    st.exchange(soci::into(row.username));
    st.exchange(soci::into(row.email));
    st.exchange(soci::into(row.display_name));
    st.exchange(soci::into(row.password_hash));
    st.exchange(soci::into(row.role));
    st.exchange(soci::into(email_verified));
    st.exchange(soci::into(disabled));
    st.exchange(soci::into(pending, pending_ind));
    st.exchange(soci::into(legacy, legacy_ind));
    st.exchange(soci::into(row.created_at));
    st.exchange(soci::into(row.updated_at));
    st.exchange(soci::into(mfa_enabled));
  }

  std::optional<UserRow> Finish(bool got) {
    if (!got) return std::nullopt;
    row.email_verified = email_verified != 0;
    row.disabled = disabled != 0;
    row.mfa_enabled = mfa_enabled != 0;
    if (pending_ind == soci::i_ok) row.pending_email = pending;
    if (legacy_ind == soci::i_ok) row.legacy_id = legacy;
    return row;
  }
};

// Runs a user SELECT with the given tail and binds (soci::use objects).
template <class... Binds>
std::optional<UserRow> Select(Connection& c, const std::string& tail, Binds&&... binds) {
  UserInto u;
  ((c.Sql() << (kColumns + tail)), ..., std::forward<Binds>(binds)), soci::into(u.row.id),
      soci::into(u.row.username), soci::into(u.row.email), soci::into(u.row.display_name),
      soci::into(u.row.password_hash), soci::into(u.row.role), soci::into(u.email_verified),
      soci::into(u.disabled), soci::into(u.pending, u.pending_ind), soci::into(u.legacy, u.legacy_ind),
      soci::into(u.row.created_at), soci::into(u.row.updated_at), soci::into(u.mfa_enabled);
  return u.Finish(c.Sql().got_data());
}

// The authentication query, prepared once per pooled session.
struct SessionUserQuery {
  std::string session_id;
  UserInto u;
  long long revoked = 0;
  soci::indicator revoked_ind = soci::i_null;
  long long expires = 0;
  soci::statement st;

  explicit SessionUserQuery(soci::session& sql)
      : st((sql.prepare << "SELECT u.id, u.username, u.email, u.display_name, u.password_hash, u.role, "
                           "u.email_verified, u.disabled, u.pending_email, u.legacy_id, u.created_at, u.updated_at, "
                           "s.revoked_at, s.expires_at, u.mfa_enabled FROM sessions s JOIN users u ON u.id = s.user_id "
                           "WHERE s.id = :sid",
            soci::use(session_id), soci::into(u.row.id), soci::into(u.row.username), soci::into(u.row.email),
            soci::into(u.row.display_name), soci::into(u.row.password_hash), soci::into(u.row.role),
            soci::into(u.email_verified), soci::into(u.disabled), soci::into(u.pending, u.pending_ind),
            soci::into(u.legacy, u.legacy_ind), soci::into(u.row.created_at), soci::into(u.row.updated_at),
            soci::into(revoked, revoked_ind), soci::into(expires), soci::into(u.mfa_enabled))) {}
};

const int kSessionUserQueryTag = 0;
const int kSessionUserMysqlTag = 0;

constexpr const char* kSessionUserSql =
    "SELECT u.id, u.username, u.email, u.display_name, u.password_hash, u.role, u.email_verified, u.disabled, "
    "u.pending_email, u.legacy_id, u.created_at, u.updated_at, s.revoked_at, s.expires_at, u.mfa_enabled "
    "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?";

// The same query as a server-side prepared statement on MariaDB (see MysqlStatement).
std::optional<SessionUser> FindBySessionMysql(Connection& c, const std::string& session_id) {
  auto& st = c.Prepared<MysqlStatement>(&kSessionUserMysqlTag,
                                        [](soci::session& sql) { return new MysqlStatement(sql, kSessionUserSql); });
  auto rows = st.Query({std::string_view(session_id)});
  if (rows.empty()) return std::nullopt;
  auto& r = rows.front();
  auto text = [&](int i) { return r[static_cast<std::size_t>(i)].value_or(""); };
  auto number = [&](int i) { return std::stoll(r[static_cast<std::size_t>(i)].value_or("0")); };
  SessionUser out;
  UserRow& u = out.user;
  u.id = text(0);
  u.username = text(1);
  u.email = text(2);
  u.display_name = text(3);
  u.password_hash = text(4);
  u.role = text(5);
  u.email_verified = number(6) != 0;
  u.disabled = number(7) != 0;
  u.pending_email = r[8];
  if (r[9]) u.legacy_id = number(9);
  u.created_at = number(10);
  u.updated_at = number(11);
  if (r[12]) out.session_revoked_at = number(12);
  out.session_expires_at = number(13);
  u.mfa_enabled = number(14) != 0;
  return out;
}

}  // namespace

std::optional<SessionUser> UserStore::FindBySession(Connection& c, const std::string& session_id) {
  if (c.GetDialect() == Dialect::kMysql) return FindBySessionMysql(c, session_id);
  auto& q = c.Prepared<SessionUserQuery>(&kSessionUserQueryTag,
                                         [](soci::session& sql) { return new SessionUserQuery(sql); });
  q.session_id = session_id;
  q.u = UserInto{};
  q.revoked_ind = soci::i_null;
  const bool got = q.st.execute(true);
  // Step the statement to its end: a kept SQLite statement that still has a row pending holds
  // its read transaction open, and every later query on this connection would see that snapshot.
  if (got) {
    UserInto spare = q.u;
    while (q.st.fetch()) {
    }
    q.u = spare;
  }
  auto user = q.u.Finish(got);
  if (!user) return std::nullopt;
  SessionUser out{std::move(*user), std::nullopt, q.expires};
  if (q.revoked_ind == soci::i_ok) out.session_revoked_at = q.revoked;
  return out;
}

std::string LowerAscii(std::string_view s) { return core::LowerAscii(s); }

core::Result<void> UserStore::Insert(Connection& c, const UserRow& u) {
  const std::string username_lower = LowerAscii(u.username);
  const std::string email_lower = LowerAscii(u.email);
  const int verified = u.email_verified ? 1 : 0;
  const int disabled = u.disabled ? 1 : 0;
  const long long legacy = u.legacy_id.value_or(0);
  soci::indicator legacy_ind = u.legacy_id ? soci::i_ok : soci::i_null;
  try {
    c.Sql() << "INSERT INTO users (id, username, username_lower, email, email_lower, display_name, "
               "password_hash, role, email_verified, disabled, legacy_id, created_at, updated_at) "
               "VALUES (:id, :username, :ul, :email, :el, :dn, :ph, :role, :ev, :dis, :legacy, :ca, :ua)",
        soci::use(u.id), soci::use(u.username), soci::use(username_lower), soci::use(u.email),
        soci::use(email_lower), soci::use(u.display_name), soci::use(u.password_hash), soci::use(u.role),
        soci::use(verified), soci::use(disabled), soci::use(legacy, legacy_ind), soci::use(u.created_at),
        soci::use(u.updated_at);
  } catch (const std::exception& e) {
    std::string constraint;
    if (ClassifyDbError(e, c.GetDialect(), &constraint) != DbFailure::kDuplicate) throw;
    core::Error err{core::ErrorCode::kConflict, {}, {}, std::nullopt};
    if (constraint.find("email_lower") != std::string::npos) {
      err.detail = "That email address is already registered.";
      err.fields["email"] = {core::FieldCode::kTaken, "is already taken"};
    } else if (constraint.find("legacy_id") != std::string::npos) {
      err.detail = "That legacy user was already imported.";
      err.fields["legacy_id"] = {core::FieldCode::kTaken, "is already imported"};
    } else {
      err.detail = "That username is already taken.";
      err.fields["username"] = {core::FieldCode::kTaken, "is already taken"};
    }
    return core::Fail(std::move(err));
  }
  return {};
}

std::optional<UserRow> UserStore::FindById(Connection& c, const std::string& id, bool for_update) {
  if (for_update && c.GetDialect() == Dialect::kMysql) return Select(c, "WHERE id = :id FOR UPDATE", soci::use(id, "id"));
  return Select(c, "WHERE id = :id", soci::use(id, "id"));
}

std::optional<UserRow> UserStore::FindByLogin(Connection& c, const std::string& login) {
  const std::string lower = LowerAscii(login);
  // Two indexed lookups; a username can never contain '@', so at most one row matches... unless
  // an imported legacy username did: the username match wins.
  if (auto u = Select(c, "WHERE username_lower = :l", soci::use(lower, "l"))) return u;
  return Select(c, "WHERE email_lower = :l", soci::use(lower, "l"));
}

bool UserStore::LegacyImported(Connection& c, long long legacy_id) {
  int n = 0;
  c.Sql() << "SELECT COUNT(*) FROM users WHERE legacy_id = :l", soci::use(legacy_id), soci::into(n);
  return n > 0;
}

bool UserStore::UsernameTaken(Connection& c, const std::string& username) {
  const std::string lower = LowerAscii(username);
  int n = 0;
  c.Sql() << "SELECT COUNT(*) FROM users WHERE username_lower = :l", soci::use(lower), soci::into(n);
  return n > 0;
}

bool UserStore::EmailTaken(Connection& c, const std::string& email) {
  const std::string lower = LowerAscii(email);
  int n = 0;
  c.Sql() << "SELECT COUNT(*) FROM users WHERE email_lower = :l", soci::use(lower), soci::into(n);
  return n > 0;
}

void UserStore::UpdatePasswordHash(Connection& c, const std::string& id, const std::string& hash, long long now) {
  c.Sql() << "UPDATE users SET password_hash = :h, updated_at = :now WHERE id = :id", soci::use(hash),
      soci::use(now), soci::use(id);
}

bool UserStore::SetRole(Connection& c, const std::string& id, const std::string& role, long long now) {
  soci::statement st = (c.Sql().prepare << "UPDATE users SET role = :r, updated_at = :now WHERE id = :id",
                        soci::use(role), soci::use(now), soci::use(id));
  st.execute(true);
  return st.get_affected_rows() > 0 || FindById(c, id).has_value();
}

bool UserStore::SetDisabled(Connection& c, const std::string& id, bool disabled, long long now) {
  const int d = disabled ? 1 : 0;
  soci::statement st = (c.Sql().prepare << "UPDATE users SET disabled = :d, updated_at = :now WHERE id = :id",
                        soci::use(d), soci::use(now), soci::use(id));
  st.execute(true);
  return st.get_affected_rows() > 0 || FindById(c, id).has_value();
}

void UserStore::SetEmailVerified(Connection& c, const std::string& id, long long now) {
  c.Sql() << "UPDATE users SET email_verified = 1, updated_at = :now WHERE id = :id", soci::use(now), soci::use(id);
}

void UserStore::ClearPendingEmail(Connection& c, const std::string& id, long long now) {
  c.Sql() << "UPDATE users SET pending_email = NULL, updated_at = :now WHERE id = :id AND pending_email IS NOT NULL",
      soci::use(now), soci::use(id);
}

core::Result<void> UserStore::ChangeEmail(Connection& c, const std::string& id, const std::string& email, long long now) {
  const std::string lower = LowerAscii(email);
  try {
    c.Sql() << "UPDATE users SET email = :e, email_lower = :el, email_verified = 1, pending_email = NULL, "
               "updated_at = :now WHERE id = :id",
        soci::use(email), soci::use(lower), soci::use(now), soci::use(id);
  } catch (const std::exception& e) {
    if (ClassifyDbError(e, c.GetDialect(), nullptr) != DbFailure::kDuplicate) throw;
    core::Error err{core::ErrorCode::kConflict, "That email address now belongs to another account.", {}, std::nullopt};
    err.fields["email"] = {core::FieldCode::kTaken, "is already taken"};
    return core::Fail(std::move(err));
  }
  return {};
}

long long UserStore::CountAdmins(Connection& c) {
  // The admins' rows are locked on MariaDB, so two demotions at once cannot both see two admins
  // (SQLite transactions already hold the single write lock).
  const std::string lock = c.GetDialect() == Dialect::kMysql ? " FOR UPDATE" : "";
  std::vector<std::string> ids(64);
  long long n = 0;
  soci::statement st = (c.Sql().prepare << "SELECT id FROM users WHERE role = 'admin' AND disabled = 0" + lock,
                        soci::into(ids));
  st.execute();
  while (st.fetch()) {
    n += static_cast<long long>(ids.size());
    ids.resize(64);
  }
  return n;
}

void UserStore::TouchAdminGuard(Connection& c) {
  c.Sql() << "UPDATE admin_guard SET changes = changes + 1 WHERE id = 1";
}

core::Result<void> UserStore::Update(Connection& c, const std::string& id, const ProfileUpdate& u, long long now) {
  const std::string username_lower = LowerAscii(u.username);
  const std::string pending = u.pending_email.value_or("");
  soci::indicator pending_ind = u.pending_email ? soci::i_ok : soci::i_null;
  const int disabled = u.disabled ? 1 : 0;
  try {
    c.Sql() << "UPDATE users SET username = :u, username_lower = :ul, display_name = :dn, pending_email = :pe, "
               "role = :r, disabled = :d, updated_at = :now WHERE id = :id",
        soci::use(u.username), soci::use(username_lower), soci::use(u.display_name), soci::use(pending, pending_ind),
        soci::use(u.role), soci::use(disabled), soci::use(now), soci::use(id);
  } catch (const std::exception& e) {
    if (ClassifyDbError(e, c.GetDialect(), nullptr) != DbFailure::kDuplicate) throw;
    core::Error err{core::ErrorCode::kConflict, "That username is already taken.", {}, std::nullopt};
    err.fields["username"] = {core::FieldCode::kTaken, "is already taken"};
    return core::Fail(std::move(err));
  }
  return {};
}

bool UserStore::Delete(Connection& c, const std::string& id) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM users WHERE id = :id", soci::use(id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

std::vector<UserRow> UserStore::List(Connection& c, const UserQuery& q) {
  Binds b;
  std::string where = "WHERE 1 = 1";
  if (q.role) where += " AND role = " + b.Add(*q.role);
  if (q.disabled) where += " AND disabled = " + b.Add(static_cast<long long>(*q.disabled ? 1 : 0));
  if (q.q) {
    // The lowered columns match ASCII case-insensitively on both back ends; the display name
    // follows LIKE's own rules (ASCII on SQLite, the column collation on MariaDB).
    const std::string lowered = "%" + EscapeLike(LowerAscii(*q.q)) + "%";
    const std::string as_given = "%" + EscapeLike(*q.q) + "%";
    const std::string username_like = b.Add(lowered);
    const std::string email_like = b.Add(lowered);
    const std::string name_like = b.Add(as_given);
    where += " AND (username_lower LIKE " + username_like + " ESCAPE '!' OR email_lower LIKE " + email_like +
             " ESCAPE '!' OR display_name LIKE " + name_like + " ESCAPE '!')";
  }
  if (q.after_created_at) {
    const long long at = *q.after_created_at;
    where += " AND (created_at < " + b.Add(at) + " OR (created_at = " + b.Add(at) + " AND id < " + b.Add(q.after_id) +
             "))";
  }
  const std::string limit = " LIMIT " + b.Add(static_cast<long long>(q.limit) + 1);
  UserInto into;
  soci::statement st(c.Sql());
  into.Bind(st);
  PrepareDynamic(st, b, kColumns + where + " ORDER BY created_at DESC, id DESC" + limit);
  st.execute();
  std::vector<UserRow> out;
  while (st.fetch()) {
    out.push_back(*into.Finish(true));
    into = UserInto{};
  }
  return out;
}

std::vector<UserRow> UserStore::ListAll(Connection& c, int limit) {
  std::vector<UserRow> out;
  soci::rowset<std::string> ids = (c.Sql().prepare << "SELECT id FROM users ORDER BY created_at, id LIMIT :n",
                                   soci::use(limit));
  std::vector<std::string> all(ids.begin(), ids.end());
  for (const auto& id : all) {
    if (auto u = FindById(c, id)) out.push_back(std::move(*u));
  }
  return out;
}

}  // namespace ikigai::store
