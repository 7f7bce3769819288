// Notification rows over SOCI.
#include "store/notifications.hpp"

#include <soci/soci.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "store/dynamic_sql.hpp"

namespace ikigai::store {
namespace {

constexpr const char* kColumns = "id, user_id, kind, title, body, data, read_at, created_at";

// The row bound to a statement's output columns (kColumns order).
struct RowInto {
  NotificationRow row;
  long long read_at = 0;
  soci::indicator read_ind = soci::i_null;

  void Bind(soci::statement& st) {
    st.exchange(soci::into(row.id));
    st.exchange(soci::into(row.user_id));
    st.exchange(soci::into(row.kind));
    st.exchange(soci::into(row.title));
    st.exchange(soci::into(row.body));
    st.exchange(soci::into(row.data));
    st.exchange(soci::into(read_at, read_ind));
    st.exchange(soci::into(row.created_at));
  }
  NotificationRow Take() {
    NotificationRow out = row;
    out.read_at = read_ind == soci::i_ok ? std::optional<long long>(read_at) : std::nullopt;
    return out;
  }
};

std::vector<NotificationRow> Fetch(Connection& c, const std::string& text, Binds& binds) {
  RowInto into;
  soci::statement st(c.Sql());
  into.Bind(st);
  PrepareDynamic(st, binds, text);
  st.execute();
  std::vector<NotificationRow> out;
  while (st.fetch()) out.push_back(into.Take());
  return out;
}

void Execute(Connection& c, const std::string& text, Binds& binds, long long* affected = nullptr) {
  soci::statement st(c.Sql());
  PrepareDynamic(st, binds, text);
  st.execute(true);
  if (affected != nullptr) *affected = st.get_affected_rows();
}

// Prefs columns in the order of NotificationPrefsRow (email has no security column).
constexpr std::array<const char*, 11> kPrefColumns = {
    "email_task_due",      "email_announcement", "email_feedback_reply", "in_app_task_due",
    "in_app_security",     "in_app_announcement", "in_app_feedback_reply", "push_task_due",
    "push_security",       "push_announcement",  "push_feedback_reply"};

std::array<bool*, 11> PrefSlots(NotificationPrefsRow& p) {
  return {&p.email[0], &p.email[2], &p.email[3], &p.in_app[0], &p.in_app[1], &p.in_app[2], &p.in_app[3],
          &p.push[0],  &p.push[1],  &p.push[2],  &p.push[3]};
}

std::string PrefSelect(const char* alias) {
  std::string out;
  for (const char* col : kPrefColumns) {
    out += ", ";
    out += alias;
    out += '.';
    out += col;
  }
  out += ", ";
  out += alias;
  out += ".reminder_lead_minutes";
  return out;
}

// Reads the prefs columns of PrefSelect into p; a user without a row (NULLs) keeps the defaults.
struct PrefsInto {
  std::array<int, 11> flags{};
  std::array<soci::indicator, 11> inds{};
  int lead = 60;
  soci::indicator lead_ind = soci::i_null;

  PrefsInto() { inds.fill(soci::i_null); }  // i_ok is 0: a user without a row must read as NULLs

  void Bind(soci::statement& st) {
    for (std::size_t i = 0; i < flags.size(); ++i) st.exchange(soci::into(flags[i], inds[i]));
    st.exchange(soci::into(lead, lead_ind));
  }
  NotificationPrefsRow Take() {
    NotificationPrefsRow p;
    auto slots = PrefSlots(p);
    for (std::size_t i = 0; i < flags.size(); ++i) {
      if (inds[i] == soci::i_ok) *slots[i] = flags[i] != 0;
    }
    if (lead_ind == soci::i_ok) p.reminder_lead_minutes = lead;
    p.email[1] = true;
    return p;
  }
};

std::string InList(Binds& b, const std::vector<std::string>& ids) {
  std::string out = "(";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) out += ", ";
    out += b.Add(ids[i]);
  }
  out += ')';
  return out;
}

std::vector<std::string> ParseIds(const std::optional<std::string>& json_text) {
  std::vector<std::string> out;
  if (!json_text) return out;
  const auto parsed = nlohmann::json::parse(*json_text, nullptr, false);
  if (!parsed.is_array()) return out;
  for (const auto& v : parsed) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

void NotificationStore::Insert(Connection& c, const NotificationRow& r) {
  InsertMany(c, {r});
}

void NotificationStore::InsertMany(Connection& c, const std::vector<NotificationRow>& rows) {
  if (rows.empty()) return;
  Binds b;
  std::string text = "INSERT INTO notifications (id, user_id, kind, title, body, data, read_at, created_at) VALUES ";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (i > 0) text += ", ";
    text += '(' + b.Add(r.id) + ", " + b.Add(r.user_id) + ", " + b.Add(r.kind) + ", " + b.Add(r.title) + ", " +
            b.Add(r.body) + ", " + b.Add(r.data) + ", NULL, " + b.Add(r.created_at) + ')';
  }
  Execute(c, text, b);
}

std::vector<NotificationRow> NotificationStore::List(Connection& c, const NotificationQuery& q) {
  Binds b;
  std::string text = std::string("SELECT ") + kColumns + " FROM notifications WHERE user_id = " + b.Add(q.user_id);
  if (q.kind) text += " AND kind = " + b.Add(*q.kind);
  if (q.unread) text += *q.unread ? " AND read_at IS NULL" : " AND read_at IS NOT NULL";
  if (q.before_id) text += " AND id < " + b.Add(*q.before_id);
  text += " ORDER BY id DESC LIMIT " + b.Add(static_cast<long long>(q.limit) + 1);
  return Fetch(c, text, b);
}

long long NotificationStore::UnreadCount(Connection& c, const std::string& user_id) {
  long long n = 0;
  c.Sql() << "SELECT COUNT(*) FROM notifications WHERE user_id = :u AND read_at IS NULL", soci::use(user_id),
      soci::into(n);
  return n;
}

bool NotificationStore::MarkRead(Connection& c, const std::string& user_id, const std::string& id, long long now) {
  soci::statement st = (c.Sql().prepare << "UPDATE notifications SET read_at = :now WHERE id = :id AND "
                                           "user_id = :u AND read_at IS NULL",
                        soci::use(now), soci::use(id), soci::use(user_id));
  st.execute(true);
  if (st.get_affected_rows() > 0) return true;
  long long n = 0;
  c.Sql() << "SELECT COUNT(*) FROM notifications WHERE id = :id AND user_id = :u", soci::use(id), soci::use(user_id),
      soci::into(n);
  return n > 0;
}

void NotificationStore::MarkAllRead(Connection& c, const std::string& user_id, long long now) {
  c.Sql() << "UPDATE notifications SET read_at = :now WHERE user_id = :u AND read_at IS NULL", soci::use(now),
      soci::use(user_id);
}

bool NotificationStore::Delete(Connection& c, const std::string& user_id, const std::string& id) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM notifications WHERE id = :id AND user_id = :u",
                        soci::use(id), soci::use(user_id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

std::vector<NotificationRow> NotificationStore::After(Connection& c, const std::string& user_id,
                                                      const std::string& after_id, int limit) {
  Binds b;
  const std::string text = std::string("SELECT ") + kColumns + " FROM notifications WHERE user_id = " +
                           b.Add(user_id) + " AND id > " + b.Add(after_id) + " ORDER BY id DESC LIMIT " +
                           b.Add(static_cast<long long>(limit));
  auto rows = Fetch(c, text, b);
  std::reverse(rows.begin(), rows.end());
  return rows;
}

std::vector<NotificationRow> NotificationStore::Recent(Connection& c, const std::vector<std::string>& users,
                                                       const std::string& min_id, int limit) {
  Binds b;
  std::string text = std::string("SELECT ") + kColumns + " FROM notifications WHERE id >= " + b.Add(min_id);
  if (!users.empty()) text += " AND user_id IN " + InList(b, users);
  text += " ORDER BY id LIMIT " + b.Add(static_cast<long long>(limit));
  return Fetch(c, text, b);
}

long long NotificationStore::PurgeBefore(Connection& c, long long before, int limit) {
  // Bounded batches: the oldest ids first (UUIDv7 order is creation order), so a purge of
  // millions of rows never holds the write lock for long.
  Binds b;
  std::string text;
  if (c.GetDialect() == Dialect::kSqlite) {
    text = "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications WHERE created_at < " +
           b.Add(before) + " LIMIT " + b.Add(static_cast<long long>(limit)) + ")";
  } else {
    text = "DELETE FROM notifications WHERE created_at < " + b.Add(before) + " LIMIT " +
           b.Add(static_cast<long long>(limit));
  }
  long long affected = 0;
  Execute(c, text, b, &affected);
  return affected;
}

NotificationPrefsRow NotificationStore::Prefs(Connection& c, const std::string& user_id) {
  PrefsInto into;
  Binds b;
  std::string text = "SELECT ";
  text += PrefSelect("p").substr(2);
  text += " FROM notification_prefs p WHERE p.user_id = " + b.Add(user_id);
  soci::statement st(c.Sql());
  into.Bind(st);
  PrepareDynamic(st, b, text);
  st.execute(true);
  return into.Take();
}

void NotificationStore::SavePrefs(Connection& c, const std::string& user_id, const NotificationPrefsRow& prefs,
                                  long long now) {
  NotificationPrefsRow p = prefs;
  auto slots = PrefSlots(p);
  Binds b;
  std::string columns = "user_id";
  std::string values = b.Add(user_id);
  std::string updates;
  for (std::size_t i = 0; i < kPrefColumns.size(); ++i) {
    columns += std::string(", ") + kPrefColumns[i];
    values += ", " + b.Add(static_cast<long long>(*slots[i] ? 1 : 0));
  }
  columns += ", reminder_lead_minutes, updated_at";
  values += ", " + b.Add(static_cast<long long>(p.reminder_lead_minutes)) + ", " + b.Add(now);
  const bool sqlite = c.GetDialect() == Dialect::kSqlite;
  for (std::size_t i = 0; i < kPrefColumns.size(); ++i) {
    if (i > 0) updates += ", ";
    updates += std::string(kPrefColumns[i]) + (sqlite ? " = excluded." : " = VALUES(") + kPrefColumns[i] +
               (sqlite ? "" : ")");
  }
  updates += sqlite ? ", reminder_lead_minutes = excluded.reminder_lead_minutes, updated_at = excluded.updated_at"
                    : ", reminder_lead_minutes = VALUES(reminder_lead_minutes), updated_at = VALUES(updated_at)";
  const std::string text = "INSERT INTO notification_prefs (" + columns + ") VALUES (" + values + ")" +
                           (sqlite ? " ON CONFLICT (user_id) DO UPDATE SET " : " ON DUPLICATE KEY UPDATE ") +
                           updates;
  Execute(c, text, b);
}

void BroadcastStore::Insert(Connection& c, const BroadcastRow& r) {
  const std::string by = r.created_by.value_or("");
  const std::string role = r.role.value_or("");
  const std::string ids = r.user_ids.value_or("");
  soci::indicator by_ind = r.created_by ? soci::i_ok : soci::i_null;
  soci::indicator role_ind = r.role ? soci::i_ok : soci::i_null;
  soci::indicator ids_ind = r.user_ids ? soci::i_ok : soci::i_null;
  c.Sql() << "INSERT INTO broadcasts (id, created_by, title, body, role, user_ids, recipients, next_user_id, "
             "created_at) VALUES (:id, :by, :t, :b, :r, :ids, :n, '', :c)",
      soci::use(r.id), soci::use(by, by_ind), soci::use(r.title), soci::use(r.body), soci::use(role, role_ind),
      soci::use(ids, ids_ind), soci::use(r.recipients), soci::use(r.created_at);
}

long long BroadcastStore::CountRecipients(Connection& c, const std::optional<std::string>& role,
                                          const std::vector<std::string>& user_ids) {
  Binds b;
  std::string text = "SELECT COUNT(*) FROM users WHERE disabled = 0";
  if (role) text += " AND role = " + b.Add(*role);
  if (!user_ids.empty()) text += " AND id IN " + InList(b, user_ids);
  long long n = 0;
  soci::statement st(c.Sql());
  st.exchange(soci::into(n));
  PrepareDynamic(st, b, text);
  st.execute(true);
  return n;
}

std::vector<std::string> BroadcastStore::ExistingUsers(Connection& c, const std::vector<std::string>& ids) {
  if (ids.empty()) return {};
  Binds b;
  return SelectTexts(c, b, "SELECT id FROM users WHERE id IN " + InList(b, ids));
}

std::optional<BroadcastRow> BroadcastStore::Claim(Connection& c, const std::string& instance, long long now,
                                                  long long lease_until) {
  BroadcastRow r;
  std::string by, role, ids;
  soci::indicator by_ind = soci::i_null, role_ind = soci::i_null, ids_ind = soci::i_null;
  soci::statement st =
      (c.Sql().prepare << "SELECT id, created_by, title, body, role, user_ids, recipients, next_user_id, created_at "
                          "FROM broadcasts WHERE done_at IS NULL AND (claimed_until IS NULL OR claimed_until < :now) "
                          "ORDER BY created_at LIMIT 1",
       soci::use(now), soci::into(r.id), soci::into(by, by_ind), soci::into(r.title), soci::into(r.body),
       soci::into(role, role_ind), soci::into(ids, ids_ind), soci::into(r.recipients), soci::into(r.next_user_id),
       soci::into(r.created_at));
  if (!st.execute(true)) return std::nullopt;
  if (by_ind == soci::i_ok) r.created_by = by;
  if (role_ind == soci::i_ok) r.role = role;
  if (ids_ind == soci::i_ok) r.user_ids = ids;
  // The claim itself is the conditional UPDATE: of two instances that read the same row, one
  // changes it and the other changes nothing (and on Galera, one of two such writes is aborted).
  soci::statement claim = (c.Sql().prepare << "UPDATE broadcasts SET claimed_by = :me, claimed_until = :until "
                                              "WHERE id = :id AND done_at IS NULL AND (claimed_until IS NULL OR "
                                              "claimed_until < :now)",
                           soci::use(instance), soci::use(lease_until), soci::use(r.id), soci::use(now));
  claim.execute(true);
  if (claim.get_affected_rows() != 1) return std::nullopt;
  return r;
}

std::vector<RecipientRow> BroadcastStore::NextRecipients(Connection& c, const BroadcastRow& bc,
                                                         const std::string& after_id, int limit) {
  Binds b;
  std::string text = "SELECT u.id, u.email, u.email_verified, u.display_name" + PrefSelect("p") +
                     " FROM users u LEFT JOIN notification_prefs p ON p.user_id = u.id WHERE u.disabled = 0 AND "
                     "u.id > " + b.Add(after_id);
  if (bc.role) text += " AND u.role = " + b.Add(*bc.role);
  const auto ids = ParseIds(bc.user_ids);
  if (bc.user_ids) {
    if (ids.empty()) return {};
    text += " AND u.id IN " + InList(b, ids);
  }
  text += " ORDER BY u.id LIMIT " + b.Add(static_cast<long long>(limit));
  RecipientRow r;
  int verified = 0;
  PrefsInto prefs;
  soci::statement st(c.Sql());
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.email));
  st.exchange(soci::into(verified));
  st.exchange(soci::into(r.display_name));
  prefs.Bind(st);
  PrepareDynamic(st, b, text);
  st.execute();
  std::vector<RecipientRow> out;
  while (st.fetch()) {
    r.email_verified = verified != 0;
    r.prefs = prefs.Take();
    out.push_back(r);
  }
  return out;
}

bool BroadcastStore::Advance(Connection& c, const std::string& id, const std::string& instance,
                             const std::string& from, const std::string& to, long long lease_until) {
  soci::statement st = (c.Sql().prepare << "UPDATE broadcasts SET next_user_id = :to, claimed_until = :until "
                                           "WHERE id = :id AND claimed_by = :me AND next_user_id = :from AND "
                                           "done_at IS NULL",
                        soci::use(to), soci::use(lease_until), soci::use(id), soci::use(instance), soci::use(from));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void BroadcastStore::Finish(Connection& c, const std::string& id, const std::string& instance, long long now) {
  c.Sql() << "UPDATE broadcasts SET done_at = :now, claimed_by = NULL, claimed_until = NULL WHERE id = :id AND "
             "claimed_by = :me",
      soci::use(now), soci::use(id), soci::use(instance);
}

}  // namespace ikigai::store
