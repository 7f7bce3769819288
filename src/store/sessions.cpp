// Session and refresh-token rows over SOCI.
#include "store/sessions.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "store/columns.hpp"
#include "store/dynamic_sql.hpp"

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

std::set<std::string> SessionStore::LiveAmong(Connection& c, const std::vector<std::string>& session_ids,
                                              long long now) {
  constexpr std::size_t kChunk = 500;
  std::set<std::string> live;
  for (std::size_t start = 0; start < session_ids.size(); start += kChunk) {
    Binds b;
    std::string text = "SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.revoked_at IS NULL "
                       "AND u.disabled = 0 AND s.expires_at > " + b.Add(now) + " AND s.id IN (";
    const std::size_t end = std::min(session_ids.size(), start + kChunk);
    for (std::size_t i = start; i < end; ++i) {
      if (i > start) text += ", ";
      text += b.Add(session_ids[i]);
    }
    text += ')';
    for (auto& id : SelectTexts(c, b, text)) live.insert(std::move(id));
  }
  return live;
}

std::pair<long long, long long> SessionStore::CountDevice(Connection& c, const std::string& user_id,
                                                          const std::string& user_agent, const std::string& ip) {
  long long all = 0;
  long long same = 0;
  const std::string ua = FitColumn(user_agent, kUserAgentColumn);
  const std::string addr = FitColumn(ip, kIpColumn);
  c.Sql() << "SELECT COUNT(*), COALESCE(SUM(CASE WHEN user_agent = :ua AND ip = :ip THEN 1 ELSE 0 END), 0) "
             "FROM sessions WHERE user_id = :u",
      soci::use(ua), soci::use(addr), soci::use(user_id), soci::into(all), soci::into(same);
  return {all, same};
}

}  // namespace ikigai::store
