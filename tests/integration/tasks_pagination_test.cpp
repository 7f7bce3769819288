// API.md "Tasks" and "Conventions" (cursor pagination): 45 tasks with null, equal and distinct due
// dates, every priority and equal created_at values are walked page by page in every sort order;
// each task must come exactly once and in the documented order, also while tasks are added or
// deleted between pages. Cursors are sealed: a tampered one, or one of another sort or another
// user, is 400 bad_request.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/accounts.hpp"
#include "support/direct_db.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/task_api.hpp"

namespace ikigai {
namespace {

using nlohmann::json;
using support::ApiUser;
using support::DirectDb;
using support::Http;
using support::IsProblem;
using support::TasksQuery;

constexpr int kTasks = 45;
// Whole seconds (2023-11-14T22:13:20Z), so that ties are visible in the API's created_at too.
constexpr long long kCreatedBase = 1700000000000;

int PriorityRank(const std::string& name) {
  if (name == "low") return 0;
  if (name == "normal") return 1;
  if (name == "high") return 2;
  ADD_FAILURE() << "unknown priority " << name;
  return -1;
}

// What a sort order compares: due_at (nullopt = none), priority rank, created_at, id. Values are
// comparable as they are: API timestamps are fixed-width RFC 3339 strings, database ones numbers
// padded to a fixed width.
struct SortKey {
  std::optional<std::string> due;
  int priority = 0;
  std::string created;
  std::string id;
};

SortKey KeyOfItem(const json& task) {
  SortKey k;
  if (!task["due_at"].is_null()) k.due = task["due_at"].get<std::string>();
  k.priority = PriorityRank(task["priority"].get<std::string>());
  k.created = task["created_at"].get<std::string>();
  k.id = task["id"].get<std::string>();
  return k;
}

// True when `a` must come before `b` in `sort` (API.md: ties by created_at then id ascending;
// tasks without due_at last in both due orders; -created_at wholly newest first).
bool Before(const std::string& sort, const SortKey& a, const SortKey& b) {
  const auto ties = std::tie(a.created, a.id) < std::tie(b.created, b.id);
  if (sort == "created_at") return ties;
  if (sort == "-created_at") return std::tie(b.created, b.id) < std::tie(a.created, a.id);
  if (sort == "priority") {
    if (a.priority != b.priority) return a.priority < b.priority;
    return ties;
  }
  if (sort == "-priority") {
    if (a.priority != b.priority) return a.priority > b.priority;
    return ties;
  }
  if (sort == "due_at" || sort == "-due_at") {
    if (a.due.has_value() != b.due.has_value()) return a.due.has_value();  // without due_at: last
    if (a.due && *a.due != *b.due) return sort == "due_at" ? *a.due < *b.due : *a.due > *b.due;
    return ties;
  }
  ADD_FAILURE() << "unknown sort " << sort;
  return false;
}

std::string Describe(const SortKey& k) {
  return k.id + " (due " + k.due.value_or("none") + support::Numbered(", priority ", k.priority) + ", created " +
         k.created + ")";
}

const std::vector<std::string>& AllSorts() {
  static const std::vector<std::string> sorts = {"created_at", "-created_at", "due_at",
                                                 "-due_at",    "priority",    "-priority"};
  return sorts;
}

struct Page {
  json items;
  std::optional<std::string> next;
};

class TaskPaginationTest : public support::TaskSuite<TaskPaginationTest> {
 protected:
  void SetUp() override {
    http_ = std::make_unique<Http>(Server());
    user_ = support::NewApiUser(*http_, "pages");
  }

  const Http& http() const { return *http_; }

  // 45 tasks: every third priority, a fifth without due_at, few distinct due dates (so many are
  // equal, some written with a zone offset), and created_at forced into groups of three equal
  // values in an order unrelated to creation (and so to the ids). Returns them as GET shows them.
  std::vector<json> MakeFixture(const ApiUser& user) {
    static const char* kPriorities[] = {"low", "normal", "high"};
    std::vector<std::string> ids;
    for (int i = 0; i < kTasks; ++i) {
      json body = {{"title", support::Numbered("Task ", i)}, {"priority", kPriorities[i % 3]}};
      if (i % 5 != 0) {
        const int day = i % 9 == 4 ? 2 : 1;
        const int hour = 8 + i % 4;
        char due[40];
        if (i % 2 == 1) {
          std::snprintf(due, sizeof due, "2026-12-%02dT%02d:30:00+02:00", day, hour + 2);
        } else {
          std::snprintf(due, sizeof due, "2026-12-%02dT%02d:30:00Z", day, hour);
        }
        body["due_at"] = due;
      } else if (i % 2 == 0) {
        body["due_at"] = nullptr;
      }
      ids.push_back(support::CreateTask(http(), user, body)["id"]);
    }
    for (int i = 0; i < kTasks; ++i) {
      const int rank = (i * 17) % kTasks;  // a permutation of 0..44
      const long long created = kCreatedBase + static_cast<long long>(rank / 3) * 1000;
      Db().Exec(support::Numbered("UPDATE tasks SET created_at = ", created) +
                " WHERE id = " + DirectDb::Quote(ids[static_cast<std::size_t>(i)]));
    }
    std::vector<json> tasks;
    for (const auto& id : ids) {
      auto res = support::GetTask(http(), user, id);
      EXPECT_EQ(res.status, 200) << res;
      tasks.push_back(res.Json());
    }
    return tasks;
  }

  Page GetPage(const ApiUser& user, const std::vector<std::pair<std::string, std::string>>& params) {
    auto res = http().Get(TasksQuery(params), "", user.auth);
    Page page;
    EXPECT_EQ(res.status, 200) << res;
    if (res.status != 200) return page;
    auto body = res.Json();
    page.items = body["items"];
    EXPECT_TRUE(body["next_cursor"].is_null() || body["next_cursor"].is_string()) << res;
    if (body["next_cursor"].is_string()) page.next = body["next_cursor"].get<std::string>();
    return page;
  }

  // Follows next_cursor from the first page to the last; `between` runs after every page that has a
  // next one. Page sizes are checked: `limit` (20 when nullopt) except on the last page.
  std::vector<json> WalkAll(const ApiUser& user, const std::string& sort, std::optional<int> limit,
                            const std::function<void(const Page&)>& between = nullptr) {
    std::vector<json> seen;
    std::optional<std::string> cursor;
    const std::size_t page_size = static_cast<std::size_t>(limit.value_or(20));
    for (int pages = 0; pages < 500; ++pages) {
      std::vector<std::pair<std::string, std::string>> params = {{"sort", sort}};
      if (limit) params.emplace_back("limit", std::to_string(*limit));
      if (cursor) params.emplace_back("cursor", *cursor);
      auto page = GetPage(user, params);
      if (::testing::Test::HasFatalFailure() || !page.items.is_array()) return seen;
      for (const auto& item : page.items) seen.push_back(item);
      if (!page.next) {
        EXPECT_LE(page.items.size(), page_size);
        return seen;
      }
      EXPECT_EQ(page.items.size(), page_size) << "a page before the last one is short";
      if (page.items.empty()) {
        ADD_FAILURE() << "an empty page with a next_cursor";
        return seen;
      }
      if (between) between(page);
      cursor = page.next;
    }
    ADD_FAILURE() << "more than 500 pages: the cursor does not advance";
    return seen;
  }

  static std::vector<json> Sorted(std::vector<json> tasks, const std::string& sort) {
    std::stable_sort(tasks.begin(), tasks.end(),
                     [&](const json& a, const json& b) { return Before(sort, KeyOfItem(a), KeyOfItem(b)); });
    return tasks;
  }

  static std::vector<std::string> Ids(const std::vector<json>& tasks) {
    std::vector<std::string> out;
    for (const auto& t : tasks) out.push_back(t["id"].get<std::string>());
    return out;
  }

  std::unique_ptr<Http> http_;
  ApiUser user_;
};

TEST_F(TaskPaginationTest, TheFixtureHasTiesNullsAndEveryPriority) {
  auto tasks = MakeFixture(user_);
  ASSERT_EQ(tasks.size(), static_cast<std::size_t>(kTasks));
  std::map<std::string, int> created, due, priority;
  int without_due = 0;
  for (const auto& t : tasks) {
    ++created[t["created_at"].get<std::string>()];
    ++priority[t["priority"].get<std::string>()];
    if (t["due_at"].is_null()) ++without_due;
    else ++due[t["due_at"].get<std::string>()];
  }
  EXPECT_EQ(created.size(), 15u) << "groups of three equal created_at";
  EXPECT_EQ(priority.size(), 3u);
  EXPECT_EQ(without_due, 9);
  EXPECT_GE(due.size(), 4u);
  EXPECT_LT(due.size(), 36u) << "some due dates are equal";
  // created_at order is not creation (and so id) order.
  EXPECT_NE(Ids(Sorted(tasks, "created_at")), Ids(Sorted(tasks, "priority")));
  std::vector<std::string> by_id = Ids(tasks);
  std::sort(by_id.begin(), by_id.end());
  EXPECT_NE(Ids(Sorted(tasks, "created_at")), by_id);
}

class TaskSortTest : public TaskPaginationTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(TaskSortTest, EveryTaskComesExactlyOnceInTheDocumentedOrder) {
  const std::string sort = GetParam();
  const auto tasks = MakeFixture(user_);
  const auto expected = Sorted(tasks, sort);
  for (std::optional<int> limit : {std::optional<int>(1), std::optional<int>(7), std::optional<int>(),
                                   std::optional<int>(44), std::optional<int>(45), std::optional<int>(100)}) {
    SCOPED_TRACE("sort=" + sort + " limit=" + (limit ? std::to_string(*limit) : std::string("(default)")));
    const auto seen = WalkAll(user_, sort, limit);
    std::set<std::string> unique;
    for (const auto& t : seen) EXPECT_TRUE(unique.insert(t["id"]).second) << "seen twice: " << t;
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(kTasks));
    EXPECT_EQ(Ids(seen), Ids(expected));
    for (std::size_t i = 1; i < seen.size(); ++i) {
      const auto a = KeyOfItem(seen[i - 1]), b = KeyOfItem(seen[i]);
      EXPECT_TRUE(Before(sort, a, b)) << "out of order at " << i << ": " << Describe(a) << " then " << Describe(b);
    }
    // Listed tasks are the tasks as GET shows them.
    std::map<std::string, json> by_id;
    for (const auto& t : tasks) by_id[t["id"]] = t;
    for (const auto& t : seen) EXPECT_EQ(t, by_id[t["id"]]);
  }
}

TEST_P(TaskSortTest, ExistingTasksComeExactlyOnceWhileTasksAreAdded) {
  const std::string sort = GetParam();
  const auto tasks = MakeFixture(user_);
  const auto expected = Sorted(tasks, sort);
  std::set<std::string> existing;
  for (const auto& t : tasks) existing.insert(t["id"]);
  int added = 0;
  // After every page: one task that sorts early (low priority, early due date), one that sorts
  // late (high priority, no due date), one with a due date equal to existing ones.
  auto add = [&](const Page&) {
    const std::vector<json> bodies = {
        {{"title", support::Numbered("Added early ", added)}, {"priority", "low"}, {"due_at", "2026-11-30T00:00:00Z"}},
        {{"title", support::Numbered("Added late ", added)}, {"priority", "high"}},
        {{"title", support::Numbered("Added equal ", added)}, {"priority", "normal"}, {"due_at", "2026-12-01T09:30:00Z"}},
    };
    for (const auto& body : bodies) support::CreateTask(http(), user_, body);
    ++added;
  };
  const auto seen = WalkAll(user_, sort, 7, add);
  EXPECT_GT(added, 0);
  std::map<std::string, int> count;
  for (const auto& t : seen) ++count[t["id"].get<std::string>()];
  for (const auto& [id, n] : count) EXPECT_EQ(n, 1) << "seen " << n << " times: " << id;
  for (const auto& id : existing) EXPECT_EQ(count[id], 1) << "an existing task was not seen exactly once: " << id;
  std::vector<json> old_ones;
  for (const auto& t : seen) {
    if (existing.contains(t["id"])) old_ones.push_back(t);
  }
  EXPECT_EQ(Ids(old_ones), Ids(expected)) << "existing tasks out of the documented order";
  // Everything the walk returned, new tasks included, is in order by what the database holds.
  std::map<std::string, SortKey> db_keys;
  for (const auto& row : Db().Query("SELECT id, due_at, priority, created_at FROM tasks WHERE user_id = " +
                                    DirectDb::Quote(user_.id))) {
    auto pad = [](const std::optional<std::string>& v) -> std::optional<std::string> {
      if (!v) return std::nullopt;
      return std::string(20 - std::min<std::size_t>(20, v->size()), '0') + *v;
    };
    SortKey k;
    k.due = pad(row[1]);
    k.priority = std::stoi(row[2].value_or("-1"));
    k.created = *pad(row[3]);
    k.id = *row[0];
    db_keys[k.id] = k;
  }
  for (std::size_t i = 1; i < seen.size(); ++i) {
    const auto& a = db_keys[seen[i - 1]["id"]];
    const auto& b = db_keys[seen[i]["id"]];
    EXPECT_TRUE(Before(sort, a, b)) << "out of order at " << i << ": " << Describe(a) << " then " << Describe(b);
  }
}

TEST_P(TaskSortTest, DeletingTheLastTaskOfAPageDoesNotDerailTheCursor) {
  const std::string sort = GetParam();
  const auto tasks = MakeFixture(user_);
  std::set<std::string> deleted;
  auto remove_last = [&](const Page& page) {
    const std::string id = page.items.back()["id"];
    auto res = http().Delete("/api/v1/tasks/" + id, "", user_.auth);
    EXPECT_EQ(res.status, 204) << res;
    deleted.insert(id);
  };
  const auto seen = WalkAll(user_, sort, 6, remove_last);
  EXPECT_FALSE(deleted.empty());
  std::vector<json> expected = Sorted(tasks, sort);
  EXPECT_EQ(Ids(seen), Ids(expected)) << "every task, each once (the deleted ones were seen before deletion)";
}

INSTANTIATE_TEST_SUITE_P(TaskSorts, TaskSortTest, ::testing::ValuesIn(AllSorts()), [](const auto& info) {
  std::string name = info.param;
  if (name.front() == '-') name = "Descending_" + name.substr(1);
  return name;
});

TEST_F(TaskPaginationTest, TheDefaultSortIsNewestFirst) {
  const auto tasks = MakeFixture(user_);
  auto page = GetPage(user_, {{"limit", "100"}});
  ASSERT_EQ(page.items.size(), static_cast<std::size_t>(kTasks));
  EXPECT_EQ(Ids(std::vector<json>(page.items.begin(), page.items.end())), Ids(Sorted(tasks, "-created_at")));
  const auto walked = WalkAll(user_, "-created_at", 8);
  // The same order through a cursor of the default sort.
  std::vector<json> seen;
  std::optional<std::string> cursor;
  for (int pages = 0; pages < 20; ++pages) {
    std::vector<std::pair<std::string, std::string>> params = {{"limit", "8"}};
    if (cursor) params.emplace_back("cursor", *cursor);
    auto p = GetPage(user_, params);
    for (const auto& item : p.items) seen.push_back(item);
    if (!p.next) break;
    cursor = p.next;
  }
  EXPECT_EQ(Ids(seen), Ids(walked));
}

// ---------------------------------------------------------------------------------------------
// Sealed cursors

// `cursor` with the character at `pos` replaced by another base64url character.
std::string Flip(std::string cursor, std::size_t pos) {
  cursor[pos] = cursor[pos] == 'A' ? 'B' : 'A';
  return cursor;
}

class TaskCursorTest : public TaskPaginationTest {
 protected:
  void SetUp() override {
    TaskPaginationTest::SetUp();
    for (int i = 0; i < 6; ++i) {
      support::CreateTask(http(), user_,
                          {{"title", support::Numbered("C", i)},
                           {"due_at", support::Numbered("2026-12-0", i + 1) + "T10:00:00Z"}});
    }
    auto page = GetPage(user_, {{"sort", "due_at"}, {"limit", "2"}});
    ASSERT_TRUE(page.next.has_value());
    cursor_ = *page.next;
  }

  support::Response ListWith(const ApiUser& user, const std::string& cursor, const std::string& sort = "due_at") {
    std::vector<std::pair<std::string, std::string>> params;
    if (!sort.empty()) params.emplace_back("sort", sort);
    params.emplace_back("limit", "2");
    params.emplace_back("cursor", cursor);
    return http().Get(TasksQuery(params), "", user.auth);
  }

  std::string cursor_;
};

TEST_F(TaskCursorTest, AnUntouchedCursorWorks) {
  auto res = ListWith(user_, cursor_);
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_EQ(res.Json()["items"].size(), 2u);
  EXPECT_EQ(res.Json()["items"][0]["title"], "C2");
  EXPECT_EQ(res.Json()["items"][1]["title"], "C3");
}

TEST_F(TaskCursorTest, AFlippedCharacterInThePayloadIs400) {
  const auto dot = cursor_.find('.');
  ASSERT_NE(dot, std::string::npos) << "expected payload.signature: " << cursor_;
  ASSERT_GT(dot, 4u);
  for (std::size_t pos : {std::size_t{0}, dot / 2, dot - 2}) {
    SCOPED_TRACE(support::Numbered("position ", pos) + " of " + cursor_);
    EXPECT_TRUE(IsProblem(ListWith(user_, Flip(cursor_, pos)), 400, "bad_request"));
  }
}

TEST_F(TaskCursorTest, AFlippedCharacterInTheSignatureIs400) {
  const auto dot = cursor_.find('.');
  ASSERT_NE(dot, std::string::npos) << "expected payload.signature: " << cursor_;
  ASSERT_GT(cursor_.size() - dot, 8u);
  for (std::size_t pos : {dot + 1, dot + (cursor_.size() - dot) / 2, cursor_.size() - 2}) {
    SCOPED_TRACE(support::Numbered("position ", pos) + " of " + cursor_);
    EXPECT_TRUE(IsProblem(ListWith(user_, Flip(cursor_, pos)), 400, "bad_request"));
  }
  // A signature cut short or dropped.
  EXPECT_TRUE(IsProblem(ListWith(user_, cursor_.substr(0, cursor_.size() - 1)), 400, "bad_request"));
  EXPECT_TRUE(IsProblem(ListWith(user_, cursor_.substr(0, dot)), 400, "bad_request"));
  EXPECT_TRUE(IsProblem(ListWith(user_, cursor_.substr(0, dot + 1)), 400, "bad_request"));
}

TEST_F(TaskCursorTest, ThePayloadOfOneCursorWithTheSignatureOfAnotherIs400) {
  auto page = GetPage(user_, {{"sort", "due_at"}, {"limit", "3"}});
  ASSERT_TRUE(page.next.has_value());
  const std::string other = *page.next;
  ASSERT_NE(other, cursor_);
  const std::string swapped = cursor_.substr(0, cursor_.find('.')) + other.substr(other.find('.'));
  EXPECT_TRUE(IsProblem(ListWith(user_, swapped), 400, "bad_request"));
}

TEST_F(TaskCursorTest, ACursorOfAnotherSortIs400) {
  for (const std::string& sort : AllSorts()) {
    if (sort == "due_at") continue;
    SCOPED_TRACE(sort);
    EXPECT_TRUE(IsProblem(ListWith(user_, cursor_, sort), 400, "bad_request"));
  }
  // No sort means -created_at, which is another sort too.
  EXPECT_TRUE(IsProblem(ListWith(user_, cursor_, ""), 400, "bad_request"));
  // And a cursor of the default sort does not serve an explicit other sort.
  auto page = GetPage(user_, {{"limit", "2"}});
  ASSERT_TRUE(page.next.has_value());
  EXPECT_TRUE(IsProblem(ListWith(user_, *page.next, "created_at"), 400, "bad_request"));
  EXPECT_EQ(ListWith(user_, *page.next, "-created_at").status, 200);
}

TEST_F(TaskCursorTest, ACursorOfAnotherUserIs400) {
  auto other = support::NewApiUser(http(), "cursor-thief");
  for (int i = 0; i < 6; ++i) {
    support::CreateTask(http(), other, {{"title", support::Numbered("O", i)}, {"due_at", "2026-12-01T10:00:00Z"}});
  }
  auto res = ListWith(other, cursor_);
  EXPECT_TRUE(IsProblem(res, 400, "bad_request"));
  // And the other way round.
  auto theirs = GetPage(other, {{"sort", "due_at"}, {"limit", "2"}});
  ASSERT_TRUE(theirs.next.has_value());
  EXPECT_TRUE(IsProblem(ListWith(user_, *theirs.next), 400, "bad_request"));
}

TEST_F(TaskCursorTest, GarbageCursorsAre400) {
  const std::vector<std::string> garbage = {
      "garbage",
      "not.a.cursor",
      ".",
      "..",
      "eyJ9.eyJ9",
      "e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  // {} with a zero signature
      cursor_ + ".extra",
      cursor_ + "A",
      "!!!!.????",
      std::string(3000, 'A'),
      std::string(3000, 'A') + "." + std::string(43, 'A'),
  };
  for (const auto& cursor : garbage) {
    SCOPED_TRACE(cursor.substr(0, 60));
    EXPECT_TRUE(IsProblem(ListWith(user_, cursor), 400, "bad_request"));
  }
}

}  // namespace
}  // namespace ikigai
