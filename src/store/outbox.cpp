// Outbox rows over SOCI.
#include "store/outbox.hpp"

#include <soci/soci.h>

#include "store/columns.hpp"

namespace ikigai::store {

namespace {

// Prepared once per connection: an announcement queues one row per verified recipient.
struct InsertStatement {
  OutboxRow row;
  std::string user;
  soci::indicator user_ind = soci::i_null;
  soci::statement st;
  explicit InsertStatement(soci::session& sql)
      : st((sql.prepare << "INSERT INTO mail_outbox (id, user_id, kind, to_address, subject, text_body, html_body, "
                           "status, attempts, next_attempt_at, created_at) VALUES (:id, :u, :k, :to, :s, :t, :h, "
                           "'pending', 0, :n, :c)",
            soci::use(row.id), soci::use(user, user_ind), soci::use(row.kind), soci::use(row.to_address),
            soci::use(row.subject), soci::use(row.text_body), soci::use(row.html_body),
            soci::use(row.next_attempt_at), soci::use(row.created_at))) {}
};
const int kInsertTag = 0;

}  // namespace

void OutboxStore::Insert(Connection& c, const OutboxRow& r) {
  auto& ins = c.Prepared<InsertStatement>(&kInsertTag, [](soci::session& sql) { return new InsertStatement(sql); });
  ins.row = r;
  ins.user = r.user_id.value_or("");
  ins.user_ind = r.user_id ? soci::i_ok : soci::i_null;
  ins.st.execute(true);
}

std::vector<OutboxRow> OutboxStore::Claim(Connection& c, const std::string& token, long long now,
                                          long long claim_until, int limit) {
  std::vector<OutboxRow> rows;
  OutboxRow r;
  std::string user;
  soci::indicator user_ind = soci::i_null;
  // SKIP LOCKED only spares a single server's senders from queuing behind each other; row locks
  // are per node on Galera, so the claim that counts is the conditional UPDATE below.
  const std::string lock = c.GetDialect() == Dialect::kMysql ? " FOR UPDATE SKIP LOCKED" : "";
  soci::statement st =
      (c.Sql().prepare << "SELECT id, user_id, kind, to_address, subject, text_body, html_body, status, attempts, "
                          "next_attempt_at, created_at FROM mail_outbox WHERE (status = 'pending' AND "
                          "next_attempt_at <= :now) OR (status = 'sending' AND claimed_until < :now2) "
                          "ORDER BY next_attempt_at LIMIT :lim" + lock,
       soci::use(now), soci::use(now), soci::use(limit), soci::into(r.id), soci::into(user, user_ind),
       soci::into(r.kind), soci::into(r.to_address), soci::into(r.subject), soci::into(r.text_body),
       soci::into(r.html_body), soci::into(r.status), soci::into(r.attempts), soci::into(r.next_attempt_at),
       soci::into(r.created_at));
  st.execute();
  while (st.fetch()) {
    r.user_id = user_ind == soci::i_ok ? std::optional<std::string>(user) : std::nullopt;
    rows.push_back(r);
  }
  // A row is this claim's only if it is still due and unclaimed when written: of two senders that
  // read it (two instances, two Galera nodes) one changes it; the other's UPDATE matches nothing,
  // or is aborted at certification and, run again, finds it taken.
  std::vector<OutboxRow> claimed;
  for (auto& row : rows) {
    soci::statement take =
        (c.Sql().prepare << "UPDATE mail_outbox SET status = 'sending', claimed_by = :t, claimed_until = :until, "
                            "attempts = attempts + 1 WHERE id = :id AND ((status = 'pending' AND next_attempt_at <= "
                            ":now) OR (status = 'sending' AND claimed_until < :now2))",
         soci::use(token), soci::use(claim_until), soci::use(row.id), soci::use(now), soci::use(now));
    take.execute(true);
    if (take.get_affected_rows() != 1) continue;
    row.attempts += 1;
    row.status = "sending";
    claimed.push_back(std::move(row));
  }
  return claimed;
}

void OutboxStore::MarkSent(Connection& c, const std::string& id, const std::string& token, long long now) {
  // The bodies hold one-time links: once delivered they are erased, so no usable token stays in
  // the database in clear (tokens are otherwise stored only as hashes).
  c.Sql() << "UPDATE mail_outbox SET status = 'sent', sent_at = :now, claimed_by = NULL, claimed_until = NULL, "
             "last_error = NULL, text_body = '', html_body = '' WHERE id = :id AND claimed_by = :me",
      soci::use(now), soci::use(id), soci::use(token);
}

void OutboxStore::MarkFailed(Connection& c, const std::string& id, const std::string& token,
                             const std::string& error, std::optional<long long> next_attempt_at) {
  // The text comes from the mail server: it need be neither UTF-8 nor short.
  const std::string message = FitColumn(error, kMailErrorColumn);
  if (next_attempt_at) {
    c.Sql() << "UPDATE mail_outbox SET status = 'pending', next_attempt_at = :n, claimed_by = NULL, "
               "claimed_until = NULL, last_error = :e WHERE id = :id AND claimed_by = :me",
        soci::use(*next_attempt_at), soci::use(message), soci::use(id), soci::use(token);
  } else {
    c.Sql() << "UPDATE mail_outbox SET status = 'failed', claimed_by = NULL, claimed_until = NULL, last_error = :e, "
               "text_body = '', html_body = '' WHERE id = :id AND claimed_by = :me",
        soci::use(message), soci::use(id), soci::use(token);
  }
}

long long OutboxStore::Depth(Connection& c) {
  long long n = 0;
  c.Sql() << "SELECT COUNT(*) FROM mail_outbox WHERE status IN ('pending', 'sending')", soci::into(n);
  return n;
}

long long OutboxStore::PurgeSent(Connection& c, long long before) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM mail_outbox WHERE status = 'sent' AND sent_at < :b",
                        soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace ikigai::store
