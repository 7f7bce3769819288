// Rate-limit events over SOCI.
#include "store/rate_events.hpp"

#include <soci/soci.h>

#include "store/columns.hpp"

namespace ikigai::store {
namespace {

// Subjects are addresses, user ids and lowered login identifiers; the services keep them short,
// and this keeps any that is not from turning an insert into a database error. Add, Count and
// Remove all use the same fitted text, so a cut subject is still counted as one.
std::string Subject(const std::string& subject) { return FitColumn(subject, kRateSubjectColumn); }

}  // namespace

long long RateEventStore::Add(Connection& c, const std::string& bucket, const std::string& subject, long long at) {
  const std::string s = Subject(subject);
  c.Sql() << "INSERT INTO login_attempts (bucket, subject, at) VALUES (:b, :s, :a)", soci::use(bucket),
      soci::use(s), soci::use(at);
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
  const std::string s = Subject(subject);
  c.Sql() << "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE bucket = :b AND subject = :s AND at >= :since",
      soci::use(bucket), soci::use(s), soci::use(since), soci::into(w.count), soci::into(oldest, ind);
  if (ind == soci::i_ok) w.oldest = oldest;
  return w;
}

long long RateEventStore::PurgeBefore(Connection& c, long long before) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM login_attempts WHERE at < :b", soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

void RateEventStore::RemoveSubject(Connection& c, const std::string& subject) {
  const std::string s = Subject(subject);
  // Every bucket named, so that the (bucket, subject, at) index finds the rows.
  c.Sql() << "DELETE FROM login_attempts WHERE bucket IN ('login_account', 'login_address', 'register_address', "
             "'forgot_account', 'feedback_user', 'verify_account', 'email_change_account') AND subject = :s",
      soci::use(s);
}

}  // namespace ikigai::store
