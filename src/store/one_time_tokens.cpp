// One-time token rows over SOCI.
#include "store/one_time_tokens.hpp"

#include <soci/soci.h>

namespace ikigai::store {

void OneTimeTokenStore::VoidAll(Connection& c, const std::string& user_id, const std::string& purpose, long long now) {
  c.Sql() << "UPDATE one_time_tokens SET used_at = :n WHERE user_id = :u AND purpose = :p AND used_at IS NULL",
      soci::use(now), soci::use(user_id), soci::use(purpose);
}

void OneTimeTokenStore::Insert(Connection& c, const OneTimeTokenRow& r) {
  const std::string data = r.data.value_or("");
  soci::indicator data_ind = r.data ? soci::i_ok : soci::i_null;
  c.Sql() << "INSERT INTO one_time_tokens (id, user_id, purpose, token_hash, data, created_at, expires_at) "
             "VALUES (:id, :u, :p, :h, :d, :c, :e)",
      soci::use(r.id), soci::use(r.user_id), soci::use(r.purpose), soci::use(r.token_hash), soci::use(data, data_ind),
      soci::use(r.created_at), soci::use(r.expires_at);
}

std::optional<OneTimeTokenRow> OneTimeTokenStore::FindForUpdate(Connection& c, const std::string& token_hash) {
  OneTimeTokenRow r;
  std::string data;
  long long used = 0;
  soci::indicator data_ind = soci::i_null, used_ind = soci::i_null;
  const std::string lock = c.GetDialect() == Dialect::kMysql ? " FOR UPDATE" : "";
  c.Sql() << "SELECT id, user_id, purpose, token_hash, data, created_at, expires_at, used_at FROM one_time_tokens "
             "WHERE token_hash = :h" + lock,
      soci::use(token_hash), soci::into(r.id), soci::into(r.user_id), soci::into(r.purpose), soci::into(r.token_hash),
      soci::into(data, data_ind), soci::into(r.created_at), soci::into(r.expires_at), soci::into(used, used_ind);
  if (!c.Sql().got_data()) return std::nullopt;
  if (data_ind == soci::i_ok) r.data = data;
  if (used_ind == soci::i_ok) r.used_at = used;
  return r;
}

bool OneTimeTokenStore::Use(Connection& c, const std::string& id, long long now) {
  soci::statement st = (c.Sql().prepare << "UPDATE one_time_tokens SET used_at = :n WHERE id = :id AND used_at IS NULL",
                        soci::use(now), soci::use(id));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

long long OneTimeTokenStore::PurgeExpired(Connection& c, long long before) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM one_time_tokens WHERE expires_at < :b", soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace ikigai::store
