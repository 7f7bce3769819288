// Decode, call the task and map services, encode; cursors and If-Match are HTTP concerns here.
#include "http/task_handlers.hpp"

#include <charconv>

#include "core/time_format.hpp"
#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/pagination.hpp"

namespace ikigai::http {

// A task as JSON text, written directly: building an nlohmann object per task was most of the
// list's cost. Keys in sorted order, as nlohmann's std::map-backed objects wrote them.
void AppendTask(std::string& out, const store::TaskRow& t) {
  out += "{\"completed_at\":";
  if (t.completed_at) AppendJsonTimestamp(out, *t.completed_at);
  else out += "null";
  out += ",\"created_at\":";
  AppendJsonTimestamp(out, t.created_at);
  out += ",\"due_at\":";
  if (t.due_at) AppendJsonTimestamp(out, *t.due_at);
  else out += "null";
  out += ",\"id\":";
  AppendJsonString(out, t.id);
  out += ",\"notes\":";
  AppendJsonString(out, t.notes);
  out += ",\"priority\":";
  AppendJsonString(out, tasks::PriorityName(t.priority));
  out += ",\"status\":";
  AppendJsonString(out, t.status);
  out += ",\"tags\":[";
  for (std::size_t i = 0; i < t.tags.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, t.tags[i]);
  }
  out += "],\"title\":";
  AppendJsonString(out, t.title);
  out += ",\"updated_at\":";
  AppendJsonTimestamp(out, t.updated_at);
  out += ",\"version\":";
  out += std::to_string(t.version);
  out += '}';
}

namespace {

using store::TaskSort;

Reply TaskReply(int status, const store::TaskRow& t) {
  std::string body;
  AppendTask(body, t);
  return JsonTextReply(status, std::move(body));
}

std::string ETag(int version) {
  std::string tag(1, '"');  // built step by step: GCC 12 warns (-Wrestrict) on "\"" + to_string
  tag += std::to_string(version);
  tag += '"';
  return tag;
}

// If-Match: "*" matches any version; "\"3\"" matches version 3; anything else never matches.
std::optional<int> IfMatch(const Request& r) {
  auto h = r.Header("if-match");
  if (!h) return std::nullopt;
  std::string v = *h;
  v.erase(0, v.find_first_not_of(' '));
  while (!v.empty() && v.back() == ' ') v.pop_back();
  if (v == "*") return tasks::kAnyVersion;
  if (v.size() < 3 || v.front() != '"' || v.back() != '"') return -1;
  int n = -1;
  auto [p, ec] = std::from_chars(v.data() + 1, v.data() + v.size() - 1, n);
  if (ec != std::errc{} || p != v.data() + v.size() - 1 || n < 0) return -1;
  return n;
}

// Reads the writable task fields; type errors and unknown fields accumulate in the reader.
// A client that sends a task back as it read it gets read_only for the server's members.
tasks::TaskFields ReadTaskFields(FieldReader& f) {
  f.Refuse({"id", "created_at", "updated_at", "completed_at", "version"}, kServerOwned);
  tasks::TaskFields out;
  out.title = f.String("title");
  out.notes = f.String("notes");
  out.status = f.String("status");
  out.priority = f.String("priority");
  if (f.IsNull("due_at")) {
    out.due_at = std::optional<std::string>{};
  } else if (auto due = f.String("due_at")) {
    out.due_at = std::optional<std::string>(*due);
  }
  if (auto tags = f.Raw("tags")) {
    if (!tags->is_array()) {
      f.AddError("tags", core::FieldCode::kInvalidType, "must be an array of strings");
    } else {
      std::vector<std::string> list;
      for (const auto& t : *tags) {
        if (!t.is_string()) {
          f.AddError("tags", core::FieldCode::kInvalidType, "must be an array of strings");
          break;
        }
        list.push_back(t.get<std::string>());
      }
      out.tags = std::move(list);
    }
  }
  return out;
}

core::Result<store::TaskQuery> ParseListQuery(const Request& r, const CursorSealer& cursors) {
  store::TaskQuery q;
  q.user_id = r.auth->user.id;
  auto get = [&](const char* name) { return QueryParam(r, name); };
  auto limit = ParseLimit(r);
  if (!limit) return core::Fail(limit.error());
  q.limit = *limit;
  if (auto status = get("status")) {
    if (*status != "todo" && *status != "in_progress" && *status != "done") {
      return core::Fail(BadQuery("status", core::FieldCode::kInvalidValue, "must be one of todo, in_progress, done"));
    }
    q.status = *status;
  }
  auto tag = TextParam(r, "tag", 128, "must be 1 to 32 characters");
  if (!tag) return core::Fail(tag.error());
  if (*tag) {
    if ((*tag)->empty()) return core::Fail(BadQuery("tag", core::FieldCode::kTooShort, "must be 1 to 32 characters"));
    q.tag = **tag;
  }
  auto text = TextParam(r, "q", 200, "must be at most 200 characters");
  if (!text) return core::Fail(text.error());
  if (*text && !(*text)->empty()) q.q = **text;
  for (const char* name : {"due_before", "due_after"}) {
    if (auto v = get(name)) {
      auto t = core::ParseRfc3339(*v);
      if (!t) return core::Fail(BadQuery(name, core::FieldCode::kInvalidFormat, "must be an RFC 3339 date-time with a zone offset"));
      (std::string(name) == "due_before" ? q.due_before : q.due_after) = core::ToMillis(*t);
    }
  }
  const std::string sort = get("sort").value_or("-created_at");
  static const std::map<std::string, TaskSort> kSorts = {
      {"created_at", TaskSort::kCreatedAsc}, {"-created_at", TaskSort::kCreatedDesc},
      {"due_at", TaskSort::kDueAsc},         {"-due_at", TaskSort::kDueDesc},
      {"priority", TaskSort::kPriorityAsc},  {"-priority", TaskSort::kPriorityDesc}};
  auto s = kSorts.find(sort);
  if (s == kSorts.end()) {
    return core::Fail(BadQuery("sort", core::FieldCode::kInvalidValue, "must be one of created_at, -created_at, due_at, -due_at, priority, -priority"));
  }
  q.sort = s->second;
  if (auto cursor = get("cursor")) {
    auto payload = cursors.Open(*cursor);
    // The cursor belongs to one list: the same user, sort and filters.
    const nlohmann::json scope = {{"u", q.user_id}, {"s", sort}, {"st", q.status.value_or("")},
                                  {"tg", q.tag.value_or("")}, {"q", q.q.value_or("")},
                                  {"db", q.due_before.value_or(-1)}, {"da", q.due_after.value_or(-1)}};
    if (!payload || !payload->contains("scope") || (*payload)["scope"] != scope || !payload->contains("k")) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
    const auto& k = (*payload)["k"];
    try {
      store::TaskKey key;
      if (!k.at("d").is_null()) key.due_at = k.at("d").get<long long>();
      key.priority = k.at("p").get<int>();
      key.created_at = k.at("c").get<long long>();
      key.id = k.at("i").get<std::string>();
      q.after = key;
    } catch (const nlohmann::json::exception&) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
  }
  return q;
}

std::string NextCursor(const store::TaskQuery& q, const std::string& sort, const store::TaskRow& last,
                       const CursorSealer& cursors) {
  const nlohmann::json scope = {{"u", q.user_id}, {"s", sort}, {"st", q.status.value_or("")},
                                {"tg", q.tag.value_or("")}, {"q", q.q.value_or("")},
                                {"db", q.due_before.value_or(-1)}, {"da", q.due_after.value_or(-1)}};
  const nlohmann::json key = {{"d", last.due_at ? nlohmann::json(*last.due_at) : nlohmann::json(nullptr)},
                              {"p", last.priority}, {"c", last.created_at}, {"i", last.id}};
  return cursors.Seal({{"scope", scope}, {"k", key}});
}

nlohmann::json EncodeMap(const tasks::IkigaiMap& m) {
  return {{"love", m.love},
          {"good_at", m.good_at},
          {"world_needs", m.world_needs},
          {"paid_for", m.paid_for},
          {"statement", m.statement},
          {"updated_at", m.updated_at ? nlohmann::json(Timestamp(*m.updated_at)) : nlohmann::json(nullptr)},
          {"version", m.version}};
}

std::optional<std::vector<std::string>> ReadStringArray(FieldReader& f, const char* name) {
  auto raw = f.Raw(name);
  if (!raw) return std::vector<std::string>{};
  if (!raw->is_array()) {
    f.AddError(name, core::FieldCode::kInvalidType, "must be an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& e : *raw) {
    if (!e.is_string()) {
      f.AddError(name, core::FieldCode::kInvalidType, "must be an array of strings");
      return std::nullopt;
    }
    out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

void RegisterTaskRoutes(Router& router, tasks::TaskService& tasks, tasks::IkigaiMapService& maps,
                        const CursorSealer& cursors) {
  auto& t = tasks;
  router.Add({.method = "GET", .path = "/api/v1/tasks", .access = Access::kUser, .handler = [&t, &cursors](Request& r) {
                auto q = ParseListQuery(r, cursors);
                if (!q) return ErrorReply(q.error(), r);
                auto rows = t.List(*q);
                if (!rows) return ErrorReply(rows.error(), r);
                const bool more = static_cast<int>(rows->size()) > q->limit;
                if (more) rows->resize(static_cast<std::size_t>(q->limit));
                std::string body;
                body.reserve(64 + rows->size() * 400);
                body += "{\"items\":[";
                for (std::size_t i = 0; i < rows->size(); ++i) {
                  if (i > 0) body += ',';
                  AppendTask(body, (*rows)[i]);
                }
                body += "],\"next_cursor\":";
                if (more) {
                  const auto sort = r.query.find("sort");
                  AppendJsonString(body, NextCursor(*q, sort == r.query.end() ? "-created_at" : sort->second,
                                                    rows->back(), cursors));
                } else {
                  body += "null";
                }
                body += '}';
                return JsonTextReply(200, std::move(body));
              }});
  router.Add({.method = "POST", .path = "/api/v1/tasks", .access = Access::kUser, .takes_body = true,
              .handler = [&t](Request& r) {
                auto body = ParseJsonObject(r.body);
                if (!body) return ErrorReply(body.error(), r);
                FieldReader f(*body);
                auto fields = ReadTaskFields(f);
                if (!body->contains("title")) f.AddError("title", core::FieldCode::kRequired, "is required");
                if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
                auto task = t.Create(r.auth->user.id, fields, r.Meta());
                if (!task) return ErrorReply(task.error(), r);
                return TaskReply(201, *task)
                    .With("Location", "/api/v1/tasks/" + task->id)
                    .With("ETag", ETag(task->version));
              }});
  router.Add({.method = "GET", .path = "/api/v1/tasks/{id}", .access = Access::kUser, .handler = [&t](Request& r) {
                auto task = t.Get(r.auth->user.id, r.Param("id"));
                if (!task) return ErrorReply(task.error(), r);
                return TaskReply(200, *task).With("ETag", ETag(task->version));
              }});
  router.Add({.method = "PATCH", .path = "/api/v1/tasks/{id}", .access = Access::kUser, .takes_body = true,
              .handler = [&t](Request& r) {
                auto body = ParseJsonObject(r.body);
                if (!body) return ErrorReply(body.error(), r);
                FieldReader f(*body);
                auto fields = ReadTaskFields(f);
                if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
                auto task = t.Update(r.auth->user.id, r.Param("id"), fields, IfMatch(r), r.Meta());
                if (!task) return ErrorReply(task.error(), r);
                return TaskReply(200, *task).With("ETag", ETag(task->version));
              }});
  router.Add({.method = "DELETE", .path = "/api/v1/tasks/{id}", .access = Access::kUser, .handler = [&t](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = t.Delete(r.auth->user.id, r.Param("id"), IfMatch(r), r.Meta());
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
  auto& m = maps;
  router.Add({.method = "GET", .path = "/api/v1/ikigai", .access = Access::kUser, .handler = [&m](Request& r) {
                auto map = m.Get(r.auth->user.id);
                if (!map) return ErrorReply(map.error(), r);
                return JsonReply(200, EncodeMap(*map)).With("ETag", ETag(map->version));
              }});
  router.Add({.method = "PUT", .path = "/api/v1/ikigai", .access = Access::kUser, .takes_body = true,
              .handler = [&m](Request& r) {
                auto body = ParseJsonObject(r.body);
                if (!body) return ErrorReply(body.error(), r);
                FieldReader f(*body);
                tasks::IkigaiMap map;
                map.love = ReadStringArray(f, "love").value_or(std::vector<std::string>{});
                map.good_at = ReadStringArray(f, "good_at").value_or(std::vector<std::string>{});
                map.world_needs = ReadStringArray(f, "world_needs").value_or(std::vector<std::string>{});
                map.paid_for = ReadStringArray(f, "paid_for").value_or(std::vector<std::string>{});
                if (!f.IsNull("statement")) map.statement = f.String("statement").value_or("");
                f.Refuse({"updated_at", "version"}, kServerOwned);
                if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
                auto saved = m.Put(r.auth->user.id, map, IfMatch(r), r.Meta());
                if (!saved) return ErrorReply(saved.error(), r);
                return JsonReply(200, EncodeMap(*saved)).With("ETag", ETag(saved->version));
              }});
}

}  // namespace ikigai::http
