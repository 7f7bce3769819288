// GET /api/v1/me/activity and /api/v1/admin/activity: filters checked here (400 naming the
// parameter), pages read by keyset on (at, id) with sealed cursors scoped to the filters.
#include "http/activity_handlers.hpp"

#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "http/encode.hpp"
#include "http/export_handlers.hpp"
#include "http/pagination.hpp"

namespace ikigai::http {
namespace {

bool IsActionText(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char ch : s) {
    if (!((ch >= 'a' && ch <= 'z') || ch == '.' || ch == '_')) return false;
  }
  return true;
}

// The filters of both lists; `user_id` is the caller for /me, the ?user_id= filter for admins.
core::Result<store::ActivityQuery> ParseActivityQuery(const Request& r, const CursorSealer& cursors,
                                                      std::optional<std::string> user_id, const char* list) {
  store::ActivityQuery q;
  q.user_id = std::move(user_id);
  auto limit = ParseLimit(r);
  if (!limit) return core::Fail(limit.error());
  q.limit = *limit;
  if (auto action = QueryParam(r, "action")) {
    if (!IsActionText(*action)) return core::Fail(BadQuery("action", core::FieldCode::kInvalidFormat, "must be 1 to 64 characters of a-z, '.' and '_'"));
    q.action = *action;
  }
  for (const char* name : {"since", "until"}) {
    if (auto v = QueryParam(r, name)) {
      auto t = core::ParseRfc3339(*v);
      if (!t) return core::Fail(BadQuery(name, core::FieldCode::kInvalidFormat, "must be an RFC 3339 date-time with a zone offset"));
      (std::string(name) == "since" ? q.since : q.until) = core::ToMillis(*t);
    }
  }
  if (auto cursor = QueryParam(r, "cursor")) {
    auto payload = cursors.Open(*cursor);
    // A cursor belongs to one list: the same route, user and filters.
    const nlohmann::json scope = {{"l", list}, {"u", q.user_id.value_or("")}, {"a", q.action.value_or("")},
                                  {"s", q.since.value_or(-1)}, {"un", q.until.value_or(-1)}};
    if (!payload || !payload->contains("scope") || (*payload)["scope"] != scope || !payload->contains("k")) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
    try {
      const auto& k = (*payload)["k"];
      q.after = store::ActivityQuery::Key{k.at("at").get<long long>(), k.at("i").get<std::string>()};
    } catch (const nlohmann::json::exception&) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
    if (!core::IsIdText(q.after->id)) return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
  }
  return q;
}

Reply ListActivity(store::Database& db, const CursorSealer& cursors, const Request& r,
                   std::optional<std::string> user_id, const char* list) {
  auto q = ParseActivityQuery(r, cursors, std::move(user_id), list);
  if (!q) return ErrorReply(q.error(), r);
  const int page = q->limit;
  q->limit = page + 1;
  auto rows = db.Run([&](store::Connection& c) -> core::Result<std::vector<store::ActivityRow>> {
    return store::ActivityStore::List(c, *q);
  });
  if (!rows) return ErrorReply(rows.error(), r);
  const bool more = static_cast<int>(rows->size()) > page;
  if (more) rows->resize(static_cast<std::size_t>(page));
  std::string body = "{\"items\":[";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    if (i > 0) body += ',';
    AppendActivity(body, (*rows)[i]);
  }
  body += "],\"next_cursor\":";
  if (more) {
    const nlohmann::json scope = {{"l", list}, {"u", q->user_id.value_or("")}, {"a", q->action.value_or("")},
                                  {"s", q->since.value_or(-1)}, {"un", q->until.value_or(-1)}};
    const nlohmann::json key = {{"at", rows->back().at}, {"i", rows->back().id}};
    AppendJsonString(body, cursors.Seal({{"scope", scope}, {"k", key}}));
  } else {
    body += "null";
  }
  body += '}';
  return JsonTextReply(200, std::move(body));
}

void AppendNullable(std::string& out, const std::optional<std::string>& v) {
  if (v) {
    AppendJsonString(out, *v);
  } else {
    out += "null";
  }
}

}  // namespace

void AppendActivity(std::string& out, const store::ActivityRow& row) {
  out += "{\"id\":";
  AppendJsonString(out, row.id);
  out += ",\"at\":";
  AppendJsonTimestamp(out, row.at);
  out += ",\"actor_id\":";
  AppendNullable(out, row.actor_id);
  out += ",\"action\":";
  AppendJsonString(out, row.action);
  out += ",\"target_type\":";
  AppendNullable(out, row.target_type);
  out += ",\"target_id\":";
  AppendNullable(out, row.target_id);
  out += ",\"ip\":";
  AppendJsonString(out, row.ip);
  out += ",\"user_agent\":";
  AppendJsonString(out, row.user_agent);
  out += ",\"request_id\":";
  AppendJsonString(out, row.request_id);
  out += ",\"data\":";
  // Written by activity::Recorder as a JSON object; anything else (a hand-edited row) is {}.
  auto data = nlohmann::json::parse(row.data, nullptr, false);
  out += data.is_object() ? data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "{}";
  out += '}';
}

void RegisterActivityRoutes(Router& router, Server& server, store::Database& db, const CursorSealer& cursors) {
  router.Add({.method = "GET", .path = "/api/v1/me/activity", .access = Access::kUser,
              .handler = [&db, &cursors](Request& r) {
                return ListActivity(db, cursors, r, r.auth->user.id, "me");
              }});
  router.Add({.method = "GET", .path = "/api/v1/admin/activity", .access = Access::kAdmin,
              .handler = [&db, &cursors](Request& r) {
                std::optional<std::string> user_id = QueryParam(r, "user_id");
                if (user_id && !core::IsIdText(*user_id)) {
                  return ErrorReply(BadQuery("user_id", core::FieldCode::kInvalidFormat, "must be a user id"), r);
                }
                return ListActivity(db, cursors, r, user_id, "admin");
              }});
  RegisterExportRoutes(router, server, db);
}

}  // namespace ikigai::http
