// Decode, call the push subscription service, encode.
#include "http/push_handlers.hpp"

#include <cmath>

#include "core/ids.hpp"
#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/pagination.hpp"

namespace ikigai::http {
namespace {

nlohmann::json EncodeSubscription(const store::PushSubscriptionRow& s) {
  return {{"id", s.id},
          {"endpoint", s.endpoint},
          {"user_agent", s.user_agent ? nlohmann::json(*s.user_agent) : nlohmann::json(nullptr)},
          {"created_at", Timestamp(s.created_at)},
          {"last_success_at", s.last_success_at ? nlohmann::json(Timestamp(*s.last_success_at)) : nlohmann::json(nullptr)}};
}

// PushSubscription.toJSON(): {endpoint, expirationTime?, keys: {p256dh, auth}}; any other member
// (at either level) is refused like every unknown field.
core::Result<notify::SubscriptionInput> ReadSubscription(const std::string& text, bool allow_http) {
  auto body = ParseJsonObject(text);
  if (!body) return core::Fail(body.error());
  FieldReader f(*body);
  notify::SubscriptionInput in;
  in.endpoint = f.String("endpoint", true).value_or("");
  if (auto expiration = f.Raw("expirationTime"); expiration && !expiration->is_null()) {
    // A DOMHighResTimeStamp in milliseconds: a number, possibly with a fraction.
    if (!expiration->is_number() || expiration->get<double>() < 0 || expiration->get<double>() > 1e15) {
      f.AddError("expirationTime", core::FieldCode::kInvalidType, "must be null or a time in milliseconds since the epoch");
    } else {
      in.expiration_time = static_cast<long long>(std::floor(expiration->get<double>()));
    }
  }
  bool keys_read = false;
  if (auto keys = f.Raw("keys", true)) {
    if (!keys->is_object()) {
      f.AddError("keys", core::FieldCode::kInvalidType, "must be an object with p256dh and auth");
    } else {
      keys_read = true;
      FieldReader k(*keys);
      in.p256dh = k.String("p256dh", true).value_or("");
      in.auth = k.String("auth", true).value_or("");
      if (auto ok = k.Finish(); !ok) {
        for (const auto& [name, problem] : ok.error().fields) f.AddError("keys." + name, problem.code, problem.message);
      }
    }
  }
  // The first problem of a field is the one reported (a wrong type before a wrong value); the
  // keys' values are judged only when `keys` was an object.
  for (const auto& [name, problem] : notify::SubscriptionErrors(in, allow_http)) {
    if (name.rfind("keys.", 0) == 0 && !keys_read) continue;
    f.AddError(name, problem.code, problem.message);
  }
  if (auto ok = f.Finish(); !ok) return core::Fail(ok.error());
  return in;
}

nlohmann::json Scope(const std::string& user_id) { return {{"u", user_id}, {"l", "push"}}; }

}  // namespace

void RegisterPushRoutes(Router& router, const PushRoutes& deps) {
  auto& s = deps.subscriptions;
  router.Add({.method = "GET", .path = "/api/v1/push/public-key",
              .handler = [key = deps.public_key](Request&) { return JsonReply(200, {{"public_key", key}}); }});
  router.Add({.method = "POST", .path = "/api/v1/me/push-subscriptions", .access = Access::kUser, .takes_body = true,
              .handler = [&s](Request& r) {
                auto in = ReadSubscription(r.body, s.AllowsHttp());
                if (!in) return ErrorReply(in.error(), r);
                auto done = s.Subscribe(r.auth->user.id, *in, r.Meta());
                if (!done) return ErrorReply(done.error(), r);
                return JsonReply(done->created ? 201 : 200, EncodeSubscription(done->row));
              }});
  router.Add({.method = "GET", .path = "/api/v1/me/push-subscriptions", .access = Access::kUser,
              .handler = [&s, &cursors = deps.cursors](Request& r) {
                auto limit = ParseLimit(r);
                if (!limit) return ErrorReply(limit.error(), r);
                std::optional<std::string> before;
                if (auto cursor = QueryParam(r, "cursor")) {
                  auto payload = cursors.Open(*cursor);
                  if (!payload || !payload->contains("scope") || (*payload)["scope"] != Scope(r.auth->user.id) ||
                      !payload->contains("k") || !(*payload)["k"].is_string() ||
                      !core::IsIdText((*payload)["k"].get<std::string>())) {
                    return ErrorReply(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"), r);
                  }
                  before = (*payload)["k"].get<std::string>();
                }
                auto rows = s.List(r.auth->user.id, before, *limit);
                if (!rows) return ErrorReply(rows.error(), r);
                const bool more = static_cast<int>(rows->size()) > *limit;
                if (more) rows->resize(static_cast<std::size_t>(*limit));
                nlohmann::json items = nlohmann::json::array();
                for (const auto& row : *rows) items.push_back(EncodeSubscription(row));
                nlohmann::json next = nullptr;
                if (more) next = cursors.Seal({{"scope", Scope(r.auth->user.id)}, {"k", rows->back().id}});
                return JsonReply(200, {{"items", items}, {"next_cursor", next}});
              }});
  router.Add({.method = "DELETE", .path = "/api/v1/me/push-subscriptions/{id}", .access = Access::kUser,
              .handler = [&s](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = s.Unsubscribe(r.auth->user.id, r.Param("id"), r.Meta());
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
}

}  // namespace ikigai::http
