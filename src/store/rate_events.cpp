// Rate-limit events over SOCI.
#include "store/rate_events.hpp"

#include <soci/soci.h>

namespace ikigai::store {

long long RateEventStore::Add(Connection& c, const std::string& bucket, const std::string& subject, long long at) {
  c.Sql() << "INSERT INTO login_attempts (bucket, subject, at) VALUES (:b, :s, :a)", soci::use(bucket),
      soci::use(subject), soci::use(at);
  long long id = 0;
  c.Sql().get_last_insert_id("login_attempts", id);
  return id;
}

void RateEventStore::Remove(Connection& c, long long id) {
  c.Sql() << "DELETE FROM login_attempts WHERE id = :id", soci::use(id);
}

RateEventStore::Window RateEventStore::Count(Connection& c, const std::string& bucket, const std::string& subject,
                                             long long since) {
  Window w;
  long long oldest = 0;
  soci::indicator ind = soci::i_null;
  c.Sql() << "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE bucket = :b AND subject = :s AND at >= :since",
      soci::use(bucket), soci::use(subject), soci::use(since), soci::into(w.count), soci::into(oldest, ind);
  if (ind == soci::i_ok) w.oldest = oldest;
  return w;
}

long long RateEventStore::PurgeBefore(Connection& c, long long before) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM login_attempts WHERE at < :b", soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

void RateEventStore::RemoveSubject(Connection& c, const std::string& subject) {
  // Every bucket named, so that the (bucket, subject, at) index finds the rows.
  c.Sql() << "DELETE FROM login_attempts WHERE bucket IN ('login_account', 'login_address', 'register_address', "
             "'forgot_account', 'feedback_user', 'verify_account', 'email_change_account') AND subject = :s",
      soci::use(subject);
}

}  // namespace ikigai::store
