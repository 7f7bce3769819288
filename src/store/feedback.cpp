// Feedback SQL.
#include "store/feedback.hpp"

#include <soci/soci.h>

#include "store/dynamic_sql.hpp"

namespace ikigai::store {
namespace {

constexpr const char* kColumns =
    "id, user_id, category, message, rating, context, status, reply, created_at, updated_at";

// The row bound to a statement's output columns (kColumns order).
struct RowInto {
  FeedbackRow row;
  int rating = 0;
  std::string reply;
  soci::indicator rating_ind = soci::i_null, reply_ind = soci::i_null;

  void Bind(soci::statement& st) {
    st.exchange(soci::into(row.id));
    st.exchange(soci::into(row.user_id));
    st.exchange(soci::into(row.category));
    st.exchange(soci::into(row.message));
    st.exchange(soci::into(rating, rating_ind));
    st.exchange(soci::into(row.context));
    st.exchange(soci::into(row.status));
    st.exchange(soci::into(reply, reply_ind));
    st.exchange(soci::into(row.created_at));
    st.exchange(soci::into(row.updated_at));
  }
  FeedbackRow Take() {
    FeedbackRow out = row;
    out.rating = rating_ind == soci::i_ok ? std::optional<int>(rating) : std::nullopt;
    out.reply = reply_ind == soci::i_ok ? std::optional<std::string>(reply) : std::nullopt;
    return out;
  }
};

std::vector<FeedbackRow> Fetch(Connection& c, const std::string& text, Binds& binds) {
  RowInto into;
  soci::statement st(c.Sql());
  into.Bind(st);
  binds.Bind(st);
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  st.execute();
  std::vector<FeedbackRow> out;
  while (st.fetch()) out.push_back(into.Take());
  return out;
}

}  // namespace

void FeedbackStore::Insert(Connection& c, const FeedbackRow& r) {
  const int rating = r.rating.value_or(0);
  soci::indicator rating_ind = r.rating ? soci::i_ok : soci::i_null;
  const std::string reply = r.reply.value_or("");
  soci::indicator reply_ind = r.reply ? soci::i_ok : soci::i_null;
  c.Sql() << "INSERT INTO feedback (id, user_id, category, message, rating, context, status, reply, created_at, "
             "updated_at) VALUES (:id, :u, :c, :m, :r, :x, :s, :re, :ca, :ua)",
      soci::use(r.id), soci::use(r.user_id), soci::use(r.category), soci::use(r.message),
      soci::use(rating, rating_ind), soci::use(r.context), soci::use(r.status), soci::use(reply, reply_ind),
      soci::use(r.created_at), soci::use(r.updated_at);
}

std::optional<FeedbackRow> FeedbackStore::Get(Connection& c, const std::string& id, bool for_update) {
  Binds b;
  const std::string text = std::string("SELECT ") + kColumns + " FROM feedback WHERE id = " + b.Add(id) +
                           (for_update && c.GetDialect() == Dialect::kMysql ? " FOR UPDATE" : "");
  auto rows = Fetch(c, text, b);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

void FeedbackStore::Update(Connection& c, const FeedbackRow& r) {
  const std::string reply = r.reply.value_or("");
  soci::indicator reply_ind = r.reply ? soci::i_ok : soci::i_null;
  c.Sql() << "UPDATE feedback SET status = :s, reply = :re, updated_at = :ua WHERE id = :id", soci::use(r.status),
      soci::use(reply, reply_ind), soci::use(r.updated_at), soci::use(r.id);
}

std::vector<FeedbackRow> FeedbackStore::List(Connection& c, const FeedbackQuery& q) {
  Binds b;
  std::string where;
  auto cond = [&where](const std::string& text) {
    where += where.empty() ? " WHERE " : " AND ";
    where += text;
  };
  if (q.user_id) cond("user_id = " + b.Add(*q.user_id));
  if (q.status) cond("status = " + b.Add(*q.status));
  if (q.category) cond("category = " + b.Add(*q.category));
  // LIKE is case-insensitive here: ASCII on SQLite, the column collation on MariaDB; the
  // client's % and _ are literal.
  if (q.q) {
    std::string pattern(1, '%');  // built by appending: GCC 12 misreports "%" + s (-Wrestrict)
    pattern += EscapeLike(*q.q);
    pattern += '%';
    cond("message LIKE " + b.Add(std::move(pattern)) + " ESCAPE '!'");
  }
  if (q.before_id) cond("id < " + b.Add(*q.before_id));
  const std::string text = std::string("SELECT ") + kColumns + " FROM feedback" + where + " ORDER BY id DESC LIMIT " +
                           b.Add(static_cast<long long>(q.limit) + 1);
  return Fetch(c, text, b);
}

FeedbackCounts FeedbackStore::Counts(Connection& c) {
  // One statement, so the three parts agree (a statement reads one snapshot on both back ends);
  // each part reads only its index. SUM is DECIMAL on MariaDB: cast back to an integer.
  const bool sqlite = c.GetDialect() == Dialect::kSqlite;
  const std::string sum = sqlite ? "COALESCE(SUM(rating), 0)" : "CAST(COALESCE(SUM(rating), 0) AS SIGNED)";
  const std::string text =
      "SELECT 's', status, COUNT(*), 0 FROM feedback GROUP BY status "
      "UNION ALL SELECT 'c', category, COUNT(*), 0 FROM feedback GROUP BY category "
      "UNION ALL SELECT 'r', '', COUNT(rating), " + sum + " FROM feedback WHERE rating IS NOT NULL";
  std::string part, key;
  long long n = 0, s = 0;
  soci::statement st = (c.Sql().prepare << text, soci::into(part), soci::into(key), soci::into(n), soci::into(s));
  st.execute();
  FeedbackCounts out;
  while (st.fetch()) {
    if (part == "s") out.by_status[key] = n;
    else if (part == "c") out.by_category[key] = n;
    else {
      out.rated = n;
      out.rating_sum = s;
    }
  }
  return out;
}

}  // namespace ikigai::store
