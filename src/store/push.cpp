// Push subscriptions and the push outbox over SOCI.
#include "store/push.hpp"

#include <soci/soci.h>

namespace ikigai::store {
namespace {

constexpr const char* kColumns =
    "id, user_id, endpoint, p256dh, auth, user_agent, expiration_time, created_at, registered_at, last_success_at";

// Runs a SELECT of kColumns (with the `bind` parameters) and reads every row.
template <class Bind>
std::vector<PushSubscriptionRow> Select(Connection& c, const std::string& sql, Bind&& bind) {
  std::vector<PushSubscriptionRow> rows;
  PushSubscriptionRow r;
  std::string agent;
  long long expiration = 0;
  long long success = 0;
  soci::indicator agent_ind = soci::i_null, expiration_ind = soci::i_null, success_ind = soci::i_null;
  soci::statement st(c.Sql());
  bind(st);
  st.exchange(soci::into(r.id));
  st.exchange(soci::into(r.user_id));
  st.exchange(soci::into(r.endpoint));
  st.exchange(soci::into(r.p256dh));
  st.exchange(soci::into(r.auth));
  st.exchange(soci::into(agent, agent_ind));
  st.exchange(soci::into(expiration, expiration_ind));
  st.exchange(soci::into(r.created_at));
  st.exchange(soci::into(r.registered_at));
  st.exchange(soci::into(success, success_ind));
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    r.user_agent = agent_ind == soci::i_ok ? std::optional<std::string>(agent) : std::nullopt;
    r.expiration_time = expiration_ind == soci::i_ok ? std::optional<long long>(expiration) : std::nullopt;
    r.last_success_at = success_ind == soci::i_ok ? std::optional<long long>(success) : std::nullopt;
    rows.push_back(r);
  }
  return rows;
}

// The optional columns of a row as SOCI binds them.
struct NullableColumns {
  std::string agent;
  soci::indicator agent_ind;
  long long expiration;
  soci::indicator expiration_ind;
  explicit NullableColumns(const PushSubscriptionRow& r)
      : agent(r.user_agent.value_or("")),
        agent_ind(r.user_agent ? soci::i_ok : soci::i_null),
        expiration(r.expiration_time.value_or(0)),
        expiration_ind(r.expiration_time ? soci::i_ok : soci::i_null) {}
};

}  // namespace

std::optional<PushSubscriptionRow> PushStore::FindByEndpoint(Connection& c, const std::string& endpoint) {
  auto rows = Select(c, std::string("SELECT ") + kColumns + " FROM push_subscriptions WHERE endpoint = :e",
                     [&](soci::statement& st) { st.exchange(soci::use(endpoint)); });
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::optional<PushSubscriptionRow> PushStore::FindForUser(Connection& c, const std::string& user_id,
                                                          const std::string& id) {
  auto rows = Select(c, std::string("SELECT ") + kColumns + " FROM push_subscriptions WHERE id = :id AND user_id = :u",
                     [&](soci::statement& st) {
                       st.exchange(soci::use(id));
                       st.exchange(soci::use(user_id));
                     });
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::vector<PushSubscriptionRow> PushStore::ForUserByRegistration(Connection& c, const std::string& user_id) {
  return Select(c,
                std::string("SELECT ") + kColumns +
                    " FROM push_subscriptions WHERE user_id = :u ORDER BY registered_at, id",
                [&](soci::statement& st) { st.exchange(soci::use(user_id)); });
}

std::vector<PushSubscriptionRow> PushStore::Page(Connection& c, const std::string& user_id,
                                                 const std::optional<std::string>& before_id, int limit) {
  if (before_id) {
    return Select(c,
                  std::string("SELECT ") + kColumns +
                      " FROM push_subscriptions WHERE user_id = :u AND id < :b ORDER BY id DESC LIMIT :n",
                  [&](soci::statement& st) {
                    st.exchange(soci::use(user_id));
                    st.exchange(soci::use(*before_id));
                    st.exchange(soci::use(limit));
                  });
  }
  return Select(c,
                std::string("SELECT ") + kColumns + " FROM push_subscriptions WHERE user_id = :u ORDER BY id DESC LIMIT :n",
                [&](soci::statement& st) {
                  st.exchange(soci::use(user_id));
                  st.exchange(soci::use(limit));
                });
}

void PushStore::Insert(Connection& c, const PushSubscriptionRow& r) {
  NullableColumns n(r);
  c.Sql() << "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent, expiration_time, "
             "created_at, registered_at) VALUES (:id, :u, :e, :p, :a, :ua, :x, :c, :r)",
      soci::use(r.id), soci::use(r.user_id), soci::use(r.endpoint), soci::use(r.p256dh), soci::use(r.auth),
      soci::use(n.agent, n.agent_ind), soci::use(n.expiration, n.expiration_ind), soci::use(r.created_at),
      soci::use(r.registered_at);
}

void PushStore::Reregister(Connection& c, const PushSubscriptionRow& r) {
  NullableColumns n(r);
  c.Sql() << "UPDATE push_subscriptions SET p256dh = :p, auth = :a, user_agent = :ua, expiration_time = :x, "
             "registered_at = :r WHERE id = :id",
      soci::use(r.p256dh), soci::use(r.auth), soci::use(n.agent, n.agent_ind), soci::use(n.expiration, n.expiration_ind),
      soci::use(r.registered_at), soci::use(r.id);
}

bool PushStore::Delete(Connection& c, const std::string& id) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM push_subscriptions WHERE id = :id", soci::use(id));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

namespace {

// Prepared once per connection: an announcement asks them once per recipient.
struct HasSubscriptionsStatement {
  std::string user;
  int found = 0;
  soci::indicator found_ind = soci::i_null;
  soci::statement st;
  explicit HasSubscriptionsStatement(soci::session& sql)
      : st((sql.prepare << "SELECT 1 FROM push_subscriptions WHERE user_id = :user LIMIT 1", soci::use(user),
            soci::into(found, found_ind))) {}
};
struct EnqueueStatement {
  std::string notification_id;
  std::string user;
  std::string payload;
  std::string urgency;
  long long now = 0;
  soci::statement st;
  explicit EnqueueStatement(soci::session& sql)
      : st((sql.prepare << "INSERT INTO push_outbox (notification_id, subscription_id, payload, urgency, attempts, "
                           "next_attempt_at, created_at) SELECT :n, id, :p, :u, 0, :now, :c FROM push_subscriptions "
                           "WHERE user_id = :user",
            soci::use(notification_id), soci::use(payload), soci::use(urgency), soci::use(now), soci::use(now),
            soci::use(user))) {}
};
const int kHasSubscriptionsTag = 0;
const int kEnqueueTag = 0;

}  // namespace

bool PushStore::HasSubscriptions(Connection& c, const std::string& user_id) {
  auto& q = c.Prepared<HasSubscriptionsStatement>(
      &kHasSubscriptionsTag, [](soci::session& sql) { return new HasSubscriptionsStatement(sql); });
  q.user = user_id;
  const bool got = q.st.execute(true);
  // Step the statement to its end: a kept SQLite statement with a row pending holds its read
  // transaction open (and a COMMIT on this connection fails while it does), as in UserStore.
  if (got) {
    while (q.st.fetch()) {
    }
  }
  return got;
}

long long PushStore::Enqueue(Connection& c, const std::string& notification_id, const std::string& user_id,
                             const std::string& payload, const std::string& urgency, long long now) {
  // One statement whatever the number of subscriptions.
  auto& ins = c.Prepared<EnqueueStatement>(&kEnqueueTag, [](soci::session& sql) { return new EnqueueStatement(sql); });
  ins.notification_id = notification_id;
  ins.user = user_id;
  ins.payload = payload;
  ins.urgency = urgency;
  ins.now = now;
  ins.st.execute(true);
  return ins.st.get_affected_rows();
}

std::vector<PushJob> PushStore::Claim(Connection& c, const std::string& token, long long now, long long lease_until,
                                      int limit) {
  // Due and not under a live lease: a conditional UPDATE, so of two instances (or two Galera
  // nodes) racing for a row exactly one's change stands; the other's matches nothing or is
  // aborted at certification and finds the row taken when it runs again.
  if (c.GetDialect() == Dialect::kMysql) {
    c.Sql() << "UPDATE push_outbox SET claim_token = :t, claimed_until = :until, attempts = attempts + 1 "
               "WHERE next_attempt_at <= :now AND (claimed_until IS NULL OR claimed_until < :now2) "
               "ORDER BY next_attempt_at LIMIT :lim",
        soci::use(token), soci::use(lease_until), soci::use(now), soci::use(now), soci::use(limit);
  } else {
    c.Sql() << "UPDATE push_outbox SET claim_token = :t, claimed_until = :until, attempts = attempts + 1 "
               "WHERE rowid IN (SELECT rowid FROM push_outbox WHERE next_attempt_at <= :now AND "
               "(claimed_until IS NULL OR claimed_until < :now2) ORDER BY next_attempt_at LIMIT :lim)",
        soci::use(token), soci::use(lease_until), soci::use(now), soci::use(now), soci::use(limit);
  }
  std::vector<PushJob> jobs;
  PushJob j;
  soci::statement st =
      (c.Sql().prepare << "SELECT o.notification_id, o.subscription_id, o.payload, o.urgency, o.attempts, "
                          "o.created_at, s.endpoint, s.p256dh, s.auth FROM push_outbox o JOIN push_subscriptions s "
                          "ON s.id = o.subscription_id WHERE o.claim_token = :t",
       soci::use(token), soci::into(j.notification_id), soci::into(j.subscription_id), soci::into(j.payload),
       soci::into(j.urgency), soci::into(j.attempts), soci::into(j.created_at), soci::into(j.endpoint),
       soci::into(j.p256dh), soci::into(j.auth));
  st.execute();
  while (st.fetch()) jobs.push_back(j);
  return jobs;
}

void PushStore::DeliveredAll(Connection& c, const std::string& token, long long now) {
  c.Sql() << "UPDATE push_subscriptions SET last_success_at = :now WHERE id IN "
             "(SELECT subscription_id FROM push_outbox WHERE claim_token = :t)",
      soci::use(now), soci::use(token);
  c.Sql() << "DELETE FROM push_outbox WHERE claim_token = :t", soci::use(token);
}

void PushStore::Reschedule(Connection& c, const PushJob& job, const std::string& token, long long next_attempt_at,
                           int status) {
  c.Sql() << "UPDATE push_outbox SET next_attempt_at = :n, claim_token = NULL, claimed_until = NULL, "
             "last_status = :st WHERE notification_id = :id AND subscription_id = :s AND claim_token = :t",
      soci::use(next_attempt_at), soci::use(status), soci::use(job.notification_id), soci::use(job.subscription_id),
      soci::use(token);
}

void PushStore::Drop(Connection& c, const PushJob& job, const std::string& token) {
  c.Sql() << "DELETE FROM push_outbox WHERE notification_id = :n AND subscription_id = :s AND claim_token = :t",
      soci::use(job.notification_id), soci::use(job.subscription_id), soci::use(token);
}

PushQueueStats PushStore::QueueStats(Connection& c) {
  PushQueueStats stats;
  long long oldest = 0;
  soci::indicator oldest_ind = soci::i_null;
  c.Sql() << "SELECT COUNT(*), MIN(created_at) FROM push_outbox", soci::into(stats.depth),
      soci::into(oldest, oldest_ind);
  if (oldest_ind == soci::i_ok) stats.oldest_created_at = oldest;
  return stats;
}

}  // namespace ikigai::store
