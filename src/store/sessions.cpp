// Session and refresh-token rows over SOCI.
#include "store/sessions.hpp"

#include <soci/soci.h>

#include "store/columns.hpp"

namespace ikigai::store {
namespace {

long long Affected(soci::statement& st) { return st.get_affected_rows(); }

}  // namespace

void SessionStore::Insert(Connection& c, const SessionRow& s) {
  const std::string ip = FitColumn(s.ip, kIpColumn);
  const std::string user_agent = FitColumn(s.user_agent, kUserAgentColumn);
  c.Sql() << "INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at, ip, user_agent) "
             "VALUES (:id, :uid, :ca, :lu, :ea, :ip, :ua)",
      soci::use(s.id), soci::use(s.user_id), soci::use(s.created_at), soci::use(s.last_used_at),
      soci::use(s.expires_at), soci::use(ip), soci::use(user_agent);
}

void SessionStore::InsertRefreshToken(Connection& c, const std::string& token_hash, const std::string& session_id,
                                      long long now) {
  c.Sql() << "INSERT INTO refresh_tokens (token_hash, session_id, created_at) VALUES (:h, :s, :n)",
      soci::use(token_hash), soci::use(session_id), soci::use(now);
}

std::optional<RefreshLookup> SessionStore::FindRefreshToken(Connection& c, const std::string& token_hash) {
  RefreshLookup r;
  long long spent = 0, revoked = 0;
  soci::indicator spent_ind = soci::i_null, revoked_ind = soci::i_null;
  c.Sql() << "SELECT rt.session_id, s.user_id, rt.spent_at, s.revoked_at, s.expires_at FROM refresh_tokens rt "
             "JOIN sessions s ON s.id = rt.session_id WHERE rt.token_hash = :h",
      soci::use(token_hash), soci::into(r.session_id), soci::into(r.user_id), soci::into(spent, spent_ind),
      soci::into(revoked, revoked_ind), soci::into(r.session_expires_at);
  if (!c.Sql().got_data()) return std::nullopt;
  if (spent_ind == soci::i_ok) r.spent_at = spent;
  if (revoked_ind == soci::i_ok) r.session_revoked_at = revoked;
  return r;
}

bool SessionStore::SpendRefreshToken(Connection& c, const std::string& token_hash, long long now) {
  soci::statement st = (c.Sql().prepare << "UPDATE refresh_tokens SET spent_at = :n WHERE token_hash = :h "
                                           "AND spent_at IS NULL",
                        soci::use(now), soci::use(token_hash));
  st.execute(true);
  return Affected(st) == 1;
}

void SessionStore::Touch(Connection& c, const std::string& session_id, long long now) {
  c.Sql() << "UPDATE sessions SET last_used_at = :n WHERE id = :id", soci::use(now), soci::use(session_id);
}

bool SessionStore::Revoke(Connection& c, const std::string& session_id, const std::string& user_id, long long now) {
  soci::statement st = (c.Sql().prepare << "UPDATE sessions SET revoked_at = :n WHERE id = :id AND user_id = :u "
                                           "AND revoked_at IS NULL AND expires_at > :n2",
                        soci::use(now), soci::use(session_id), soci::use(user_id), soci::use(now));
  st.execute(true);
  return Affected(st) == 1;
}

long long SessionStore::RevokeAll(Connection& c, const std::string& user_id, long long now,
                                  const std::string& except_session_id) {
  soci::statement st = (c.Sql().prepare << "UPDATE sessions SET revoked_at = :n WHERE user_id = :u "
                                           "AND revoked_at IS NULL AND id <> :except",
                        soci::use(now), soci::use(user_id), soci::use(except_session_id));
  st.execute(true);
  return Affected(st);
}

std::optional<SessionRow> SessionStore::Find(Connection& c, const std::string& session_id) {
  SessionRow s;
  long long revoked = 0;
  soci::indicator revoked_ind = soci::i_null;
  c.Sql() << "SELECT id, user_id, created_at, last_used_at, expires_at, revoked_at, ip, user_agent FROM sessions "
             "WHERE id = :id",
      soci::use(session_id), soci::into(s.id), soci::into(s.user_id), soci::into(s.created_at),
      soci::into(s.last_used_at), soci::into(s.expires_at), soci::into(revoked, revoked_ind), soci::into(s.ip),
      soci::into(s.user_agent);
  if (!c.Sql().got_data()) return std::nullopt;
  if (revoked_ind == soci::i_ok) s.revoked_at = revoked;
  return s;
}

std::vector<SessionRow> SessionStore::ListLive(Connection& c, const std::string& user_id, long long now) {
  std::vector<SessionRow> out;
  SessionRow s;
  soci::statement st =
      (c.Sql().prepare << "SELECT id, created_at, last_used_at, expires_at, ip, user_agent FROM sessions "
                          "WHERE user_id = :u AND revoked_at IS NULL AND expires_at > :n "
                          "ORDER BY created_at DESC, id DESC",
       soci::use(user_id), soci::use(now), soci::into(s.id), soci::into(s.created_at), soci::into(s.last_used_at),
       soci::into(s.expires_at), soci::into(s.ip), soci::into(s.user_agent));
  st.execute();
  while (st.fetch()) {
    s.user_id = user_id;
    out.push_back(s);
  }
  return out;
}

long long SessionStore::PurgeEnded(Connection& c, long long before) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM sessions WHERE expires_at < :b OR revoked_at < :b2",
                        soci::use(before), soci::use(before));
  st.execute(true);
  return Affected(st);
}

}  // namespace ikigai::store
