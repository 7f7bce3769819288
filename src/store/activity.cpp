// Activity rows over SOCI.
#include "store/activity.hpp"

#include <soci/soci.h>

#include "store/columns.hpp"
#include "store/dynamic_sql.hpp"

namespace ikigai::store {
namespace {

constexpr const char* kColumns = "id, at, actor_id, action, target_type, target_id, ip, user_agent, request_id, data";

// The WHERE terms every branch shares: action, the time window and the keyset position. Each
// branch names its own placeholders (Binds are positional names), so a term is built per branch.
std::string CommonTerms(const ActivityQuery& q, Binds& b) {
  std::string where;
  if (q.action) where += " AND action = " + b.Add(*q.action);
  if (q.since) where += " AND at >= " + b.Add(*q.since);
  if (q.until) where += " AND at < " + b.Add(*q.until);
  if (q.after) {
    // "at <= k" is the index range; the OR only trims the rows of that one millisecond.
    const std::string at = b.Add(q.after->at);
    where += " AND at <= " + at + " AND (at < " + b.Add(q.after->at) + " OR id < " + b.Add(q.after->id) + ")";
  }
  return where;
}

}  // namespace

std::vector<ActivityRow> ActivityStore::List(Connection& c, const ActivityQuery& q) {
  Binds b;
  const std::string order = " ORDER BY at DESC, id DESC LIMIT ";
  std::string text;
  if (q.user_id) {
    // actor OR target as two ordered, limited range scans on (actor_id, at, id) and
    // (target_id, at, id), merged: an OR would scan the whole table or sort every event of the
    // user. The second branch leaves out what the user did to itself (already in the first).
    std::string actor = std::string("SELECT ") + kColumns + " FROM activity WHERE actor_id = " + b.Add(*q.user_id);
    actor += CommonTerms(q, b) + order + b.Add(static_cast<long long>(q.limit));
    std::string target = std::string("SELECT ") + kColumns + " FROM activity WHERE target_id = " +
                         b.Add(*q.user_id) + " AND (actor_id IS NULL OR actor_id <> " + b.Add(*q.user_id) + ")";
    target += CommonTerms(q, b) + order + b.Add(static_cast<long long>(q.limit));
    text = std::string("SELECT ") + kColumns + " FROM (SELECT * FROM (" + actor + ") a UNION ALL SELECT * FROM (" +
           target + ") t) u" + order + b.Add(static_cast<long long>(q.limit));
  } else {
    text = std::string("SELECT ") + kColumns + " FROM activity WHERE 1 = 1" + CommonTerms(q, b) + order +
           b.Add(static_cast<long long>(q.limit));
  }
  ActivityRow row;
  std::string actor;
  std::string target_type;
  std::string target_id;
  soci::indicator actor_ind = soci::i_null;
  soci::indicator type_ind = soci::i_null;
  soci::indicator target_ind = soci::i_null;
  soci::statement st(c.Sql());
  st.exchange(soci::into(row.id));
  st.exchange(soci::into(row.at));
  st.exchange(soci::into(actor, actor_ind));
  st.exchange(soci::into(row.action));
  st.exchange(soci::into(target_type, type_ind));
  st.exchange(soci::into(target_id, target_ind));
  st.exchange(soci::into(row.ip));
  st.exchange(soci::into(row.user_agent));
  st.exchange(soci::into(row.request_id));
  st.exchange(soci::into(row.data));
  b.Bind(st);
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  st.execute();
  std::vector<ActivityRow> out;
  while (st.fetch()) {
    ActivityRow r = row;
    r.actor_id = actor_ind == soci::i_ok ? std::optional<std::string>(actor) : std::nullopt;
    r.target_type = type_ind == soci::i_ok ? std::optional<std::string>(target_type) : std::nullopt;
    r.target_id = target_ind == soci::i_ok ? std::optional<std::string>(target_id) : std::nullopt;
    out.push_back(std::move(r));
  }
  return out;
}

long long ActivityStore::PurgeBefore(Connection& c, long long before, int limit) {
  Binds b;
  std::string text;
  if (c.GetDialect() == Dialect::kSqlite) {
    // SQLite's DELETE takes no LIMIT unless built with an option: a limited sub-select of ids.
    text = "DELETE FROM activity WHERE id IN (SELECT id FROM activity WHERE at < " + b.Add(before) +
           " ORDER BY at LIMIT " + b.Add(static_cast<long long>(limit)) + ")";
  } else {
    text = "DELETE FROM activity WHERE at < " + b.Add(before) + " ORDER BY at LIMIT " +
           b.Add(static_cast<long long>(limit));
  }
  soci::statement st(c.Sql());
  b.Bind(st);
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  st.execute(true);
  return st.get_affected_rows();
}

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
