// Task SQL: one statement per page with the filters and the keyset condition of the sort.
#include "store/tasks.hpp"

#include <soci/soci.h>

#include <cctype>

#include "store/dynamic_sql.hpp"
#include "store/mysql_statement.hpp"

namespace ikigai::store {
namespace {

constexpr const char* kSelect =
    "SELECT id, user_id, title, notes, status, priority, due_at, created_at, updated_at, completed_at, version ";

// Fetch target for one task row.
struct TaskInto {
  TaskRow row;
  long long due = 0, completed = 0;
  soci::indicator due_ind = soci::i_null, completed_ind = soci::i_null;

  void Bind(soci::statement& st) {
    st.exchange(soci::into(row.id));
    st.exchange(soci::into(row.user_id));
    st.exchange(soci::into(row.title));
    st.exchange(soci::into(row.notes));
    st.exchange(soci::into(row.status));
    st.exchange(soci::into(row.priority));
    st.exchange(soci::into(due, due_ind));
    st.exchange(soci::into(row.created_at));
    st.exchange(soci::into(row.updated_at));
    st.exchange(soci::into(completed, completed_ind));
    st.exchange(soci::into(row.version));
  }
  // Moves the strings out: the next fetch assigns every column again.
  TaskRow Take() {
    TaskRow out = std::move(row);
    out.due_at = due_ind == soci::i_ok ? std::optional<long long>(due) : std::nullopt;
    out.completed_at = completed_ind == soci::i_ok ? std::optional<long long>(completed) : std::nullopt;
    return out;
  }
};

void LoadTags(Connection& c, std::vector<TaskRow>& tasks) {
  if (tasks.empty()) return;
  Binds binds;
  std::string in;
  for (const auto& t : tasks) in += (in.empty() ? "" : ", ") + binds.Add(t.id);
  std::string task_id, tag;
  soci::statement st(c.Sql());
  st.exchange(soci::into(task_id));
  st.exchange(soci::into(tag));
  PrepareDynamic(st, binds, "SELECT task_id, tag FROM task_tags WHERE task_id IN (" + in + ") ORDER BY task_id, position");
  st.execute();
  while (st.fetch()) {
    for (auto& t : tasks) {
      if (t.id == task_id) {
        t.tags.push_back(tag);
        break;
      }
    }
  }
}

// Joins a task's tags in one column, in position order. Tags never hold control characters
// (tasks::TaskService checks every tag written), so the unit separator cannot occur inside one.
constexpr char kTagSeparator = '\x1f';

std::string TagsColumn(Dialect dialect, const char* task) {
  std::string out;
  if (dialect == Dialect::kSqlite) {
    // group_concat keeps the order of its input: the inner ORDER BY keeps the subquery from
    // being flattened away (an aggregate over an ordered subquery is never flattened).
    out = "(SELECT group_concat(tag, char(31)) FROM (SELECT g.tag FROM task_tags g WHERE g.task_id = ";
    out += task;
    out += ".id ORDER BY g.position))";
  } else {
    out = "(SELECT GROUP_CONCAT(g.tag ORDER BY g.position SEPARATOR '";
    out += kTagSeparator;
    out += "') FROM task_tags g WHERE g.task_id = ";
    out += task;
    out += ".id)";
  }
  return out;
}

void SplitTags(const std::string& joined, std::vector<std::string>& tags) {
  std::size_t start = 0;
  for (;;) {
    const auto end = joined.find(kTagSeparator, start);
    tags.emplace_back(joined, start, end == std::string::npos ? std::string::npos : end - start);
    if (end == std::string::npos) return;
    start = end + 1;
  }
}

// One page of tasks with their tags, kept per pooled connection under its SQL text: a text is
// one query shape (filters, sort, keyset condition), and its values are bound anew per call.
struct ListStatement {
  Binds binds;
  TaskInto into;
  std::string tags;
  soci::indicator tags_ind = soci::i_null;
  soci::statement st;

  ListStatement(soci::session& sql, const Binds& values, const std::string& text) : binds(values), st(sql) {
    into.Bind(st);
    st.exchange(soci::into(tags, tags_ind));
    PrepareDynamic(st, binds, text);
  }

  // Same text, same sequence of Add calls: the values line up with the bound slots.
  void SetValues(const Binds& values) {
    for (std::size_t i = 0; i < values.strings.size(); ++i) binds.strings[i] = values.strings[i];
    for (std::size_t i = 0; i < values.numbers.size(); ++i) binds.numbers[i] = values.numbers[i];
  }
};

// The same page on MariaDB as a server-side prepared statement (see MysqlStatement): the named
// placeholders become '?' and their values are passed in the order they appear in the text.
std::vector<TaskRow> ListMysql(Connection& c, const Binds& b, const std::string& text, int limit) {
  std::string positional;
  std::vector<MysqlStatement::Param> params;
  positional.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == ':' && i + 2 < text.size() && text[i + 1] == 'p' && std::isdigit(static_cast<unsigned char>(text[i + 2]))) {
      std::size_t end = i + 2;
      std::size_t n = 0;
      while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) {
        n = n * 10 + static_cast<std::size_t>(text[end] - '0');
        ++end;
      }
      const auto [is_string, index] = b.order.at(n - 1);
      if (is_string) {
        params.emplace_back(std::string_view(b.strings[index]));
      } else {
        params.emplace_back(b.numbers[index]);
      }
      positional += '?';
      i = end;
    } else {
      positional += text[i++];
    }
  }
  auto& st = c.PreparedText<MysqlStatement>(positional,
                                            [&](soci::session& sql) { return new MysqlStatement(sql, positional); });
  std::vector<MysqlStatement::Row> rows;
  try {
    rows = st.Query(params);
  } catch (...) {
    c.ForgetText(positional);  // prepared afresh next time, whatever state the failure left
    throw;
  }
  std::vector<TaskRow> out;
  out.reserve(static_cast<std::size_t>(limit) + 1);
  for (const auto& r : rows) {
    auto number = [&](std::size_t i) { return std::stoll(r.at(i).value_or("0")); };
    auto optional_number = [&](std::size_t i) { return r.at(i) ? std::optional<long long>(number(i)) : std::nullopt; };
    TaskRow t;
    t.id = r.at(0).value_or("");
    t.user_id = r.at(1).value_or("");
    t.title = r.at(2).value_or("");
    t.notes = r.at(3).value_or("");
    t.status = r.at(4).value_or("");
    t.priority = static_cast<int>(number(5));
    t.due_at = optional_number(6);
    t.created_at = number(7);
    t.updated_at = number(8);
    t.completed_at = optional_number(9);
    t.version = static_cast<int>(number(10));
    if (r.at(11)) SplitTags(*r.at(11), t.tags);
    out.push_back(std::move(t));
  }
  return out;
}

void WriteTags(Connection& c, const TaskRow& task) {
  c.Sql() << "DELETE FROM task_tags WHERE task_id = :id", soci::use(task.id);
  for (std::size_t i = 0; i < task.tags.size(); ++i) {
    const int position = static_cast<int>(i);
    c.Sql() << "INSERT INTO task_tags (task_id, user_id, tag, position) VALUES (:t, :u, :g, :p)", soci::use(task.id),
        soci::use(task.user_id), soci::use(task.tags[i]), soci::use(position);
  }
}

}  // namespace

void TaskStore::Insert(Connection& c, const TaskRow& t) {
  const long long due = t.due_at.value_or(0), completed = t.completed_at.value_or(0);
  soci::indicator due_ind = t.due_at ? soci::i_ok : soci::i_null;
  soci::indicator completed_ind = t.completed_at ? soci::i_ok : soci::i_null;
  c.Sql() << "INSERT INTO tasks (id, user_id, title, notes, status, priority, due_at, created_at, updated_at, "
             "completed_at, version) VALUES (:id, :u, :t, :n, :s, :p, :d, :ca, :ua, :co, :v)",
      soci::use(t.id), soci::use(t.user_id), soci::use(t.title), soci::use(t.notes), soci::use(t.status),
      soci::use(t.priority), soci::use(due, due_ind), soci::use(t.created_at), soci::use(t.updated_at),
      soci::use(completed, completed_ind), soci::use(t.version);
  WriteTags(c, t);
}

std::optional<TaskRow> TaskStore::Get(Connection& c, const std::string& user_id, const std::string& id,
                                      bool for_update) {
  TaskInto into;
  soci::statement st(c.Sql());
  std::string uid = user_id, tid = id;
  into.Bind(st);
  st.exchange(soci::use(tid));
  st.exchange(soci::use(uid));
  st.alloc();
  st.prepare(std::string(kSelect) + "FROM tasks WHERE id = :id AND user_id = :u" +
             (for_update && c.GetDialect() == Dialect::kMysql ? " FOR UPDATE" : ""));
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  std::vector<TaskRow> one{into.Take()};
  LoadTags(c, one);
  return one.front();
}

bool TaskStore::Update(Connection& c, const TaskRow& t, int expected_version) {
  const long long due = t.due_at.value_or(0), completed = t.completed_at.value_or(0);
  soci::indicator due_ind = t.due_at ? soci::i_ok : soci::i_null;
  soci::indicator completed_ind = t.completed_at ? soci::i_ok : soci::i_null;
  soci::statement st = (c.Sql().prepare << "UPDATE tasks SET title = :t, notes = :n, status = :s, priority = :p, "
                                           "due_at = :d, updated_at = :ua, completed_at = :co, version = :v "
                                           "WHERE id = :id AND user_id = :u AND version = :ev",
                        soci::use(t.title), soci::use(t.notes), soci::use(t.status), soci::use(t.priority),
                        soci::use(due, due_ind), soci::use(t.updated_at), soci::use(completed, completed_ind),
                        soci::use(t.version), soci::use(t.id), soci::use(t.user_id), soci::use(expected_version));
  st.execute(true);
  if (st.get_affected_rows() != 1) return false;
  WriteTags(c, t);
  return true;
}

bool TaskStore::Delete(Connection& c, const std::string& user_id, const std::string& id) {
  soci::statement st = (c.Sql().prepare << "DELETE FROM tasks WHERE id = :id AND user_id = :u", soci::use(id),
                        soci::use(user_id));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

std::vector<TaskRow> TaskStore::List(Connection& c, const TaskQuery& q) {
  Binds b;
  std::string where = "WHERE user_id = " + b.Add(q.user_id);
  if (q.status) where += " AND status = " + b.Add(*q.status);
  if (q.tag) {
    where += " AND EXISTS (SELECT 1 FROM task_tags g WHERE g.task_id = tasks.id AND g.user_id = " + b.Add(q.user_id) +
             " AND g.tag = " + b.Add(*q.tag) + ")";
  }
  if (q.q) {
    // LIKE is case-insensitive here: ASCII on SQLite, the column collation on MariaDB.
    const std::string pattern = "%" + EscapeLike(*q.q) + "%";
    const std::string title_like = b.Add(pattern);
    const std::string notes_like = b.Add(pattern);
    where += " AND (title LIKE " + title_like + " ESCAPE '!' OR notes LIKE " + notes_like + " ESCAPE '!')";
  }
  if (q.due_before) where += " AND due_at IS NOT NULL AND due_at < " + b.Add(*q.due_before);
  if (q.due_after) where += " AND due_at IS NOT NULL AND due_at > " + b.Add(*q.due_after);

  // Ties are broken by created_at then id, ascending; -created_at runs wholly newest first.
  auto ties_asc = [&](const TaskKey& k) {
    return "(created_at > " + b.Add(k.created_at) + " OR (created_at = " + b.Add(k.created_at) + " AND id > " +
           b.Add(k.id) + "))";
  };
  std::string order;
  switch (q.sort) {
    case TaskSort::kCreatedAsc:
      order = " ORDER BY created_at ASC, id ASC";
      if (q.after) where += " AND " + ties_asc(*q.after);
      break;
    case TaskSort::kCreatedDesc:
      order = " ORDER BY created_at DESC, id DESC";
      if (q.after) {
        where += " AND (created_at < " + b.Add(q.after->created_at) + " OR (created_at = " +
                 b.Add(q.after->created_at) + " AND id < " + b.Add(q.after->id) + "))";
      }
      break;
    case TaskSort::kPriorityAsc:
    case TaskSort::kPriorityDesc: {
      const bool asc = q.sort == TaskSort::kPriorityAsc;
      order = asc ? " ORDER BY priority ASC, created_at ASC, id ASC" : " ORDER BY priority DESC, created_at ASC, id ASC";
      if (q.after) {
        const long long p = q.after->priority;
        where += std::string(" AND (priority ") + (asc ? ">" : "<") + " " + b.Add(p) + " OR (priority = " + b.Add(p) +
                 " AND " + ties_asc(*q.after) + "))";
      }
      break;
    }
    case TaskSort::kDueAsc:
    case TaskSort::kDueDesc: {
      // Tasks without a due date come last in both directions.
      const bool asc = q.sort == TaskSort::kDueAsc;
      order = std::string(" ORDER BY CASE WHEN due_at IS NULL THEN 1 ELSE 0 END, due_at ") + (asc ? "ASC" : "DESC") +
              ", created_at ASC, id ASC";
      if (q.after) {
        if (q.after->due_at) {
          const long long d = *q.after->due_at;
          where += std::string(" AND (due_at IS NULL OR due_at ") + (asc ? ">" : "<") + " " + b.Add(d) +
                   " OR (due_at = " + b.Add(d) + " AND " + ties_asc(*q.after) + "))";
        } else {
          where += " AND due_at IS NULL AND " + ties_asc(*q.after);
        }
      }
      break;
    }
  }
  const std::string limit = " LIMIT " + b.Add(static_cast<long long>(q.limit) + 1);

  std::string text;
  if (c.GetDialect() == Dialect::kSqlite) {
    // The page is cut first and the tags read for its rows only: a sort that needs a sorter would
    // otherwise run the tags subquery for every task of the user. Both ORDER BYs keep SQLite from
    // flattening the page into the outer query.
    text = "SELECT p.*, " + TagsColumn(Dialect::kSqlite, "p") + " FROM (" + kSelect + "FROM tasks " + where + order +
           limit + ") AS p" + order;
  } else {
    // MariaDB evaluates the select list after the sort and the LIMIT.
    text = kSelect + (", " + TagsColumn(Dialect::kMysql, "tasks")) + " FROM tasks " + where + order + limit;
  }
  if (c.GetDialect() == Dialect::kMysql) return ListMysql(c, b, text, q.limit);
  auto& st = c.PreparedText<ListStatement>(text, [&](soci::session& sql) { return new ListStatement(sql, b, text); });
  st.SetValues(b);
  std::vector<TaskRow> out;
  out.reserve(static_cast<std::size_t>(q.limit) + 1);
  try {
    st.tags_ind = soci::i_null;
    st.st.execute();
    // Fetched to the end (SQLITE_DONE), so the kept statement holds no read snapshot afterwards.
    while (st.st.fetch()) {
      out.push_back(st.into.Take());
      if (st.tags_ind == soci::i_ok) SplitTags(st.tags, out.back().tags);
      st.tags_ind = soci::i_null;
    }
  } catch (...) {
    c.ForgetText(text);
    throw;
  }
  return out;
}

void TaskStore::Rearm(Connection& c, const std::string& id) {
  c.Sql() << "UPDATE tasks SET remind_at = CASE WHEN due_at IS NULL OR status = 'done' OR "
             "(reminded_due_at IS NOT NULL AND reminded_due_at = due_at) THEN NULL ELSE due_at - 60000 * "
             "COALESCE((SELECT p.reminder_lead_minutes FROM notification_prefs p WHERE p.user_id = tasks.user_id), "
             "60) END WHERE id = :id",
      soci::use(id);
}

void TaskStore::RearmUser(Connection& c, const std::string& user_id, int lead_minutes) {
  const long long lead_ms = 60000LL * lead_minutes;
  c.Sql() << "UPDATE tasks SET remind_at = due_at - :lead WHERE user_id = :u AND remind_at IS NOT NULL",
      soci::use(lead_ms), soci::use(user_id);
}

std::vector<ReminderRow> TaskStore::OwedReminders(Connection& c, long long now, int limit) {
  std::vector<ReminderRow> out;
  ReminderRow r;
  soci::statement st = (c.Sql().prepare << "SELECT id, user_id, title, due_at, remind_at FROM tasks WHERE "
                                           "remind_at <= :now ORDER BY remind_at LIMIT :lim",
                        soci::use(now), soci::use(limit), soci::into(r.id), soci::into(r.user_id),
                        soci::into(r.title), soci::into(r.due_at), soci::into(r.remind_at));
  st.execute();
  while (st.fetch()) out.push_back(r);
  return out;
}

bool TaskStore::TakeReminder(Connection& c, const ReminderRow& r) {
  soci::statement st = (c.Sql().prepare << "UPDATE tasks SET remind_at = NULL, reminded_due_at = due_at WHERE "
                                           "id = :id AND remind_at = :r AND due_at = :d AND status <> 'done'",
                        soci::use(r.id), soci::use(r.remind_at), soci::use(r.due_at));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace ikigai::store
