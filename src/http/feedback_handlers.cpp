// Decode, call the feedback service, encode; cursors are HTTP concerns here.
#include "http/feedback_handlers.hpp"

#include "core/ids.hpp"
#include "core/text.hpp"
#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/pagination.hpp"

namespace ikigai::http {
namespace {


nlohmann::json EncodeFeedback(const store::FeedbackRow& f) {
  // Stored by the service as a JSON object of strings; anything else reads as {}.
  auto context = nlohmann::json::parse(f.context, nullptr, false);
  if (!context.is_object()) context = nlohmann::json::object();
  return {{"id", f.id},
          {"user_id", f.user_id},
          {"category", f.category},
          {"message", f.message},
          {"rating", f.rating ? nlohmann::json(*f.rating) : nlohmann::json(nullptr)},
          {"context", std::move(context)},
          {"status", f.status},
          {"reply", f.reply ? nlohmann::json(*f.reply) : nlohmann::json(nullptr)},
          {"created_at", Timestamp(f.created_at)},
          {"updated_at", Timestamp(f.updated_at)}};
}

Reply Page(std::vector<store::FeedbackRow>& rows, int limit, const nlohmann::json& scope, const CursorSealer& cursors) {
  const bool more = static_cast<int>(rows.size()) > limit;
  if (more) rows.resize(static_cast<std::size_t>(limit));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& row : rows) items.push_back(EncodeFeedback(row));
  nlohmann::json next = nullptr;
  if (more) next = cursors.Seal({{"scope", scope}, {"k", rows.back().id}});
  return JsonReply(200, {{"items", std::move(items)}, {"next_cursor", std::move(next)}});
}

// A cursor of this list (same scope) holding a feedback id, or 400.
core::Result<std::optional<std::string>> OpenCursor(const Request& r, const CursorSealer& cursors,
                                                    const nlohmann::json& scope) {
  auto cursor = QueryParam(r, "cursor");
  if (!cursor) return std::optional<std::string>{};
  auto payload = cursors.Open(*cursor);
  if (!payload || !payload->contains("scope") || (*payload)["scope"] != scope || !payload->contains("k") ||
      !(*payload)["k"].is_string() || !core::IsIdText((*payload)["k"].get<std::string>())) {
    return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
  }
  return std::optional<std::string>((*payload)["k"].get<std::string>());
}

nlohmann::json AdminScope(const store::FeedbackQuery& q) {
  return {{"l", "admin/feedback"},
          {"st", q.status.value_or("")},
          {"c", q.category.value_or("")},
          {"q", q.q.value_or("")}};
}

core::Result<store::FeedbackQuery> ParseAdminQuery(const Request& r, const CursorSealer& cursors) {
  store::FeedbackQuery q;
  auto limit = ParseLimit(r);
  if (!limit) return core::Fail(limit.error());
  q.limit = *limit;
  if (auto status = QueryParam(r, "status")) {
    if (!feedback::IsStatus(*status)) {
      return core::Fail(BadQuery("status", core::FieldCode::kInvalidValue, "must be one of new, triaged, planned, done, dismissed"));
    }
    q.status = *status;
  }
  if (auto category = QueryParam(r, "category")) {
    if (!feedback::IsCategory(*category)) {
      return core::Fail(BadQuery("category", core::FieldCode::kInvalidValue, "must be one of bug, idea, praise, other"));
    }
    q.category = *category;
  }
  auto text = TextParam(r, "q", 800, "must be at most 200 characters");
  if (!text) return core::Fail(text.error());
  if (*text && !(*text)->empty()) {
    if (core::CountCodePoints(**text) > 200) return core::Fail(BadQuery("q", core::FieldCode::kTooLong, "must be at most 200 characters"));
    q.q = **text;
  }
  auto after = OpenCursor(r, cursors, AdminScope(q));
  if (!after) return core::Fail(after.error());
  q.before_id = *after;
  return q;
}

Reply CreateFeedback(feedback::FeedbackService& fb, Request& r) {
  // API.md's order: JSON syntax (400), then the rate limit (429), then validation (422, a body
  // that is not an object included).
  auto body = ParseJsonObject(r.body);
  if (!body && body.error().code != core::ErrorCode::kValidation) return ErrorReply(body.error(), r);
  auto reserved = fb.Reserve(r.auth->user.id);
  if (!reserved) return ErrorReply(reserved.error(), r);
  if (!body) {
    fb.Release(*reserved);
    return ErrorReply(body.error(), r);
  }
  FieldReader f(*body);
  f.Refuse({"id", "user_id", "status", "reply", "created_at", "updated_at"}, kServerOwned);
  feedback::FeedbackInput in;
  in.category = f.String("category", true).value_or("");
  in.message = f.String("message", true).value_or("");
  if (!f.IsNull("rating")) {
    if (auto rating = f.Integer("rating")) in.rating = *rating;
  }
  if (auto context = f.Raw("context")) {
    if (!context->is_object()) {
      f.AddError("context", core::FieldCode::kInvalidType, "must be an object of string values");
    } else {
      for (const auto& [key, value] : context->items()) {
        if (!value.is_string()) {
          f.AddError("context", core::FieldCode::kInvalidType, "must be an object of string values");
          break;
        }
        in.context.emplace_back(key, value.get<std::string>());
      }
    }
  }
  if (auto ok = f.Finish(); !ok) {
    fb.Release(*reserved);
    return ErrorReply(ok.error(), r);
  }
  auto created = fb.Create(r.auth->user.id, in, *reserved, r.Meta());
  if (!created) return ErrorReply(created.error(), r);
  return JsonReply(201, EncodeFeedback(*created)).With("Location", "/api/v1/feedback/" + created->id);
}

Reply UpdateFeedback(feedback::FeedbackService& fb, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  FieldReader f(*body);
  f.Refuse({"id", "user_id", "category", "message", "rating", "context", "created_at", "updated_at"}, kServerOwned);
  feedback::FeedbackChanges changes;
  changes.status = f.String("status");
  if (f.IsNull("reply")) {
    changes.reply = std::optional<std::string>{};
  } else if (auto reply = f.String("reply")) {
    changes.reply = std::optional<std::string>(*reply);
  }
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto updated = fb.Update(r.auth->user.id, r.Param("id"), changes, r.Meta());
  if (!updated) return ErrorReply(updated.error(), r);
  return JsonReply(200, EncodeFeedback(*updated));
}

nlohmann::json EncodeStats(const feedback::FeedbackStats& s) {
  nlohmann::json by_status = nlohmann::json::object(), by_category = nlohmann::json::object();
  for (const auto& [k, v] : s.by_status) by_status[k] = v;
  for (const auto& [k, v] : s.by_category) by_category[k] = v;
  return {{"total", s.total},
          {"by_status", std::move(by_status)},
          {"by_category", std::move(by_category)},
          {"average_rating", s.average_rating ? nlohmann::json(*s.average_rating) : nlohmann::json(nullptr)}};
}

}  // namespace

void RegisterFeedbackRoutes(Router& router, feedback::FeedbackService& feedback, const CursorSealer& cursors) {
  auto& fb = feedback;
  router.Add({.method = "POST", .path = "/api/v1/feedback", .access = Access::kUser, .takes_body = true,
              .handler = [&fb](Request& r) { return CreateFeedback(fb, r); }});
  router.Add({.method = "GET", .path = "/api/v1/feedback", .access = Access::kUser,
              .handler = [&fb, &cursors](Request& r) {
                store::FeedbackQuery q;
                q.user_id = r.auth->user.id;
                auto limit = ParseLimit(r);
                if (!limit) return ErrorReply(limit.error(), r);
                q.limit = *limit;
                const nlohmann::json scope = {{"l", "feedback"}, {"u", *q.user_id}};
                auto after = OpenCursor(r, cursors, scope);
                if (!after) return ErrorReply(after.error(), r);
                q.before_id = *after;
                auto rows = fb.List(q);
                if (!rows) return ErrorReply(rows.error(), r);
                return Page(*rows, q.limit, scope, cursors);
              }});
  // Where POST's Location points: one item of the caller's own (404 for anyone else's).
  router.Add({.method = "GET", .path = "/api/v1/feedback/{id}", .access = Access::kUser,
              .handler = [&fb](Request& r) {
                auto row = fb.GetOwn(r.auth->user.id, r.Param("id"));
                if (!row) return ErrorReply(row.error(), r);
                return JsonReply(200, EncodeFeedback(*row));
              }});
  router.Add({.method = "GET", .path = "/api/v1/admin/feedback", .access = Access::kAdmin,
              .handler = [&fb, &cursors](Request& r) {
                auto q = ParseAdminQuery(r, cursors);
                if (!q) return ErrorReply(q.error(), r);
                auto rows = fb.List(*q);
                if (!rows) return ErrorReply(rows.error(), r);
                return Page(*rows, q->limit, AdminScope(*q), cursors);
              }});
  router.Add({.method = "GET", .path = "/api/v1/admin/feedback/stats", .access = Access::kAdmin,
              .handler = [&fb](Request& r) {
                auto stats = fb.Stats();
                if (!stats) return ErrorReply(stats.error(), r);
                return JsonReply(200, EncodeStats(*stats));
              }});
  router.Add({.method = "PATCH", .path = "/api/v1/admin/feedback/{id}", .access = Access::kAdmin,
              .takes_body = true, .handler = [&fb](Request& r) { return UpdateFeedback(fb, r); }});
}

}  // namespace ikigai::http
