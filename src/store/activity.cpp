// Activity rows over SOCI.
#include "store/activity.hpp"

#include <soci/soci.h>

#include "store/columns.hpp"

namespace ikigai::store {

void ActivityStore::Insert(Connection& c, const ActivityRow& r) {
  const std::string actor = r.actor_id.value_or("");
  const std::string target_type = r.target_type.value_or("");
  const std::string target_id = r.target_id.value_or("");
  soci::indicator actor_ind = r.actor_id ? soci::i_ok : soci::i_null;
  soci::indicator type_ind = r.target_type ? soci::i_ok : soci::i_null;
  soci::indicator target_ind = r.target_id ? soci::i_ok : soci::i_null;
  // What the client sent about itself is stored as far as it fits, never refused.
  const std::string ip = FitColumn(r.ip, kIpColumn);
  const std::string user_agent = FitColumn(r.user_agent, kUserAgentColumn);
  const std::string request_id = FitColumn(r.request_id, kRequestIdColumn);
  c.Sql() << "INSERT INTO activity (id, at, actor_id, action, target_type, target_id, ip, user_agent, request_id, "
             "data) VALUES (:id, :at, :actor, :action, :tt, :tid, :ip, :ua, :rid, :data)",
      soci::use(r.id), soci::use(r.at), soci::use(actor, actor_ind), soci::use(r.action),
      soci::use(target_type, type_ind), soci::use(target_id, target_ind), soci::use(ip), soci::use(user_agent),
      soci::use(request_id), soci::use(r.data);
}

void ActivityStore::DeleteAbout(Connection& c, const std::string& user_id) {
  // What an admin did to other accounts stays in their audit trail, no longer naming who did it.
  c.Sql() << "UPDATE activity SET actor_id = NULL, ip = '', user_agent = '' WHERE actor_id = :u AND "
             "target_type = 'user' AND target_id <> :t",
      soci::use(user_id), soci::use(user_id);
  // Two statements rather than an OR, so that each uses its index (actor, target).
  c.Sql() << "DELETE FROM activity WHERE actor_id = :u", soci::use(user_id);
  c.Sql() << "DELETE FROM activity WHERE target_id = :u", soci::use(user_id);
}

}  // namespace ikigai::store
