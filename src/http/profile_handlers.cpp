// Decode, call ProfileService / AdminService, encode.
#include "http/profile_handlers.hpp"

#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/pagination.hpp"

namespace ikigai::http {
namespace {


// Password confirmations count as login attempts: over the account's limit the answer is 429,
// which API.md's order puts before any field error.
std::optional<Reply> ConfirmationRate(users::ProfileService& profile, const nlohmann::json& body, const char* field,
                                      const Request& r) {
  if (!body.contains(field)) return std::nullopt;
  if (auto ok = profile.CheckConfirmationRate(*r.auth, r.Meta()); !ok) return ErrorReply(ok.error(), r);
  return std::nullopt;
}

Reply UpdateProfile(users::ProfileService& profile, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  if (auto limited = ConfirmationRate(profile, *body, "current_password", r)) return *limited;
  if (auto email = body->find("email"); email != body->end() && email->is_string()) {
    if (auto ok = profile.CheckEmailChangeRate(*r.auth, email->get<std::string>()); !ok) return ErrorReply(ok.error(), r);
  }
  FieldReader f(*body);
  users::ProfileChanges in;
  in.username = f.String("username");
  in.display_name = f.String("display_name");
  in.email = f.String("email");
  in.current_password = f.String("current_password");
  f.Refuse({"id", "role", "email_verified", "disabled", "mfa_enabled", "pending_email", "created_at", "updated_at"},
           kServerOwned);
  f.Refuse({"password", "new_password"}, "is changed with POST /api/v1/me/password");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto user = profile.Update(*r.auth, in, r.Meta());
  if (!user) return ErrorReply(user.error(), r);
  return JsonReply(200, EncodeUser(*user));
}

Reply ChangePassword(users::ProfileService& profile, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  if (auto limited = ConfirmationRate(profile, *body, "current_password", r)) return *limited;
  FieldReader f(*body);
  const auto current = f.String("current_password", true);
  const auto next = f.String("new_password", true);
  if (current && current->empty()) f.AddError("current_password", core::FieldCode::kRequired, "must not be empty");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto done = profile.ChangePassword(*r.auth, *current, *next, r.Meta());
  return done ? NoContent() : ErrorReply(done.error(), r);
}

Reply DeleteAccount(users::ProfileService& profile, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  if (auto limited = ConfirmationRate(profile, *body, "password", r)) return *limited;
  FieldReader f(*body);
  const auto password = f.String("password", true);
  if (password && password->empty()) f.AddError("password", core::FieldCode::kRequired, "must not be empty");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto done = profile.Delete(*r.auth, *password, r.Meta());
  return done ? NoContent() : ErrorReply(done.error(), r);
}

// The filters a cursor is bound to: a cursor of another filter set is 400, never a wrong page.
nlohmann::json ListScope(const store::UserQuery& q) {
  return {{"l", "admin/users"},
          {"q", q.q.value_or("")},
          {"r", q.role.value_or("")},
          {"d", q.disabled ? nlohmann::json(*q.disabled) : nlohmann::json(nullptr)}};
}

core::Result<store::UserQuery> ParseUserQuery(const Request& r, const CursorSealer& cursors) {
  store::UserQuery q;
  auto limit = ParseLimit(r);
  if (!limit) return core::Fail(limit.error());
  q.limit = *limit;
  auto text = TextParam(r, "q", 254, "must be at most 254 characters");
  if (!text) return core::Fail(text.error());
  if (*text && !(*text)->empty()) q.q = **text;
  if (auto role = QueryParam(r, "role")) {
    if (*role != "user" && *role != "admin") return core::Fail(BadQuery("role", core::FieldCode::kInvalidValue, "must be user or admin"));
    q.role = *role;
  }
  auto disabled = ParseBoolParam(r, "disabled");
  if (!disabled) return core::Fail(disabled.error());
  q.disabled = *disabled;
  if (auto cursor = QueryParam(r, "cursor")) {
    auto payload = cursors.Open(*cursor);
    if (!payload || !payload->contains("scope") || (*payload)["scope"] != ListScope(q)) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
    try {
      q.after_created_at = payload->at("k").at("c").get<long long>();
      q.after_id = payload->at("k").at("i").get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return core::Fail(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"));
    }
  }
  return q;
}

Reply ListUsers(users::AdminService& admin, const CursorSealer& cursors, Request& r) {
  auto q = ParseUserQuery(r, cursors);
  if (!q) return ErrorReply(q.error(), r);
  auto rows = admin.List(*q);
  if (!rows) return ErrorReply(rows.error(), r);
  const bool more = static_cast<int>(rows->size()) > q->limit;
  if (more) rows->resize(static_cast<std::size_t>(q->limit));
  nlohmann::json items = nlohmann::json::array();
  for (const auto& row : *rows) items.push_back(EncodeUser(row));
  nlohmann::json next = nullptr;
  if (more) {
    next = cursors.Seal({{"scope", ListScope(*q)}, {"k", {{"c", rows->back().created_at}, {"i", rows->back().id}}}});
  }
  return JsonReply(200, {{"items", items}, {"next_cursor", next}});
}

Reply UpdateUser(users::AdminService& admin, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  FieldReader f(*body);
  users::AdminChanges in;
  in.role = f.String("role");
  in.disabled = f.Boolean("disabled");
  in.display_name = f.String("display_name");
  in.mfa_enabled = f.Boolean("mfa_enabled");
  f.Refuse({"id", "email_verified", "pending_email", "created_at", "updated_at"}, kServerOwned);
  f.Refuse({"username", "email", "password"}, "can only be changed by the account's owner");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto user = admin.Update(r.auth->user.id, r.Param("id"), in, r.Meta());
  if (!user) return ErrorReply(user.error(), r);
  return JsonReply(200, EncodeUser(*user));
}

}  // namespace

void RegisterProfileRoutes(Router& router, users::ProfileService& profile) {
  auto& p = profile;
  // On the hash pool: each may verify a password.
  router.Add({.method = "PATCH", .path = "/api/v1/me", .exec = Exec::kHash, .access = Access::kUser,
              .takes_body = true, .handler = [&p](Request& r) { return UpdateProfile(p, r); }});
  router.Add({.method = "DELETE", .path = "/api/v1/me", .exec = Exec::kHash, .access = Access::kUser,
              .takes_body = true, .handler = [&p](Request& r) { return DeleteAccount(p, r); }});
  router.Add({.method = "POST", .path = "/api/v1/me/password", .exec = Exec::kHash, .access = Access::kUser,
              .takes_body = true, .handler = [&p](Request& r) { return ChangePassword(p, r); }});
}

void RegisterAdminRoutes(Router& router, users::AdminService& admin, const CursorSealer& cursors) {
  auto& a = admin;
  router.Add({.method = "GET", .path = "/api/v1/admin/users", .access = Access::kAdmin,
              .handler = [&a, &cursors](Request& r) { return ListUsers(a, cursors, r); }});
  router.Add({.method = "GET", .path = "/api/v1/admin/users/{id}", .access = Access::kAdmin,
              .handler = [&a](Request& r) {
                auto user = a.Get(r.Param("id"));
                return user ? JsonReply(200, EncodeUser(*user)) : ErrorReply(user.error(), r);
              }});
  router.Add({.method = "PATCH", .path = "/api/v1/admin/users/{id}", .access = Access::kAdmin, .takes_body = true,
              .handler = [&a](Request& r) { return UpdateUser(a, r); }});
  router.Add({.method = "DELETE", .path = "/api/v1/admin/users/{id}", .access = Access::kAdmin,
              .handler = [&a](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = a.Delete(r.auth->user.id, r.Param("id"), r.Meta());
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
}

}  // namespace ikigai::http
