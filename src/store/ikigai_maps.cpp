// Ikigai map rows over SOCI.
#include "store/ikigai_maps.hpp"

#include <soci/soci.h>

namespace ikigai::store {

std::optional<IkigaiMapRow> IkigaiMapStore::Get(Connection& c, const std::string& user_id, bool for_update) {
  IkigaiMapRow r;
  const std::string sql = std::string("SELECT user_id, love, good_at, world_needs, paid_for, statement, updated_at, "
                                      "version FROM ikigai_maps WHERE user_id = :u") +
                          (for_update && c.GetDialect() == Dialect::kMysql ? " FOR UPDATE" : "");
  c.Sql() << sql, soci::use(user_id), soci::into(r.user_id), soci::into(r.love), soci::into(r.good_at),
      soci::into(r.world_needs), soci::into(r.paid_for), soci::into(r.statement), soci::into(r.updated_at),
      soci::into(r.version);
  if (!c.Sql().got_data()) return std::nullopt;
  return r;
}

bool IkigaiMapStore::Save(Connection& c, const IkigaiMapRow& r, int expected_version) {
  if (expected_version == 0) {
    std::string constraint;
    try {
      c.Sql() << "INSERT INTO ikigai_maps (user_id, love, good_at, world_needs, paid_for, statement, updated_at, "
                 "version) VALUES (:u, :l, :g, :w, :p, :s, :t, :v)",
          soci::use(r.user_id), soci::use(r.love), soci::use(r.good_at), soci::use(r.world_needs),
          soci::use(r.paid_for), soci::use(r.statement), soci::use(r.updated_at), soci::use(r.version);
    } catch (const std::exception& e) {
      if (ClassifyDbError(e, c.GetDialect(), &constraint) == DbFailure::kDuplicate) return false;
      throw;
    }
    return true;
  }
  soci::statement st = (c.Sql().prepare << "UPDATE ikigai_maps SET love = :l, good_at = :g, world_needs = :w, "
                                           "paid_for = :p, statement = :s, updated_at = :t, version = :v "
                                           "WHERE user_id = :u AND version = :ev",
                        soci::use(r.love), soci::use(r.good_at), soci::use(r.world_needs), soci::use(r.paid_for),
                        soci::use(r.statement), soci::use(r.updated_at), soci::use(r.version), soci::use(r.user_id),
                        soci::use(expected_version));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace ikigai::store
