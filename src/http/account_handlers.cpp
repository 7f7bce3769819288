// Decode, call AccountService, encode.
#include "http/account_handlers.hpp"

#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/pagination.hpp"
#include "http/session_cookie.hpp"

namespace ikigai::http {
namespace {

// No Authorization header: "missing"; one that is not "Bearer <token>": "malformed".
core::Result<auth::AuthContext> MissingToken(const char* reason) {
  core::Error e{core::ErrorCode::kUnauthorized, "A bearer access token is required."};
  e.reason = reason;
  return core::Fail(std::move(e));
}

Reply RegisterHandler(auth::AccountService& accounts, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  if (auto rate = accounts.CheckRegisterRate(r.Meta()); !rate) return ErrorReply(rate.error(), r);
  FieldReader f(*body);
  auth::RegisterInput in;
  in.username = f.String("username", true).value_or("");
  in.email = f.String("email", true).value_or("");
  in.password = f.String("password", true).value_or("");
  if (!f.IsNull("display_name")) in.display_name = f.String("display_name");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto user = accounts.Register(in, r.Meta());
  if (!user) return ErrorReply(user.error(), r);
  return JsonReply(201, {{"user", EncodeUser(*user)}}).With("Location", "/api/v1/me");
}

Reply LoginHandler(auth::AccountService& accounts, Request& r, std::chrono::seconds lifetime, bool compat) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  // Which identifier did the client send? Exactly one of these is allowed.
  std::optional<std::string> login;
  std::string login_field;
  int given = 0;
  for (const char* name : {"email", "username", "login"}) {
    if (body->contains(name)) {
      ++given;
      login_field = name;
      if ((*body)[name].is_string()) login = (*body)[name].get<std::string>();
    }
  }
  if (given != 1) login.reset();
  if (auto rate = accounts.CheckLoginRate(login, r.Meta()); !rate) return ErrorReply(rate.error(), r);
  FieldReader f(*body);
  for (const char* name : {"email", "username", "login"}) {
    if (auto v = f.String(name); v && v->empty()) f.AddError(name, core::FieldCode::kRequired, "must not be empty");
  }
  const auto password = f.String("password", true);
  if (password && password->empty()) f.AddError("password", core::FieldCode::kRequired, "must not be empty");
  if (given == 0) f.AddError("login", core::FieldCode::kRequired, "is required: send one of email, username or login");
  if (given > 1) f.AddError("login", core::FieldCode::kInvalidValue, "send only one of email, username or login");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto pair = accounts.Login(*login, *password, r.Meta());
  if (!pair) return ErrorReply(pair.error(), r);
  return TokenPairReply(*pair, r, lifetime, compat);
}

// Body mode: {refresh_token}. Cookie mode (X-Ikigai-Refresh: cookie): the body's token if it has
// one, else the refresh cookie; a refused cookie is cleared so the browser stops sending it.
Reply RefreshHandler(auth::AccountService& accounts, Request& r, std::chrono::seconds lifetime) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  const bool cookie_mode = WantsRefreshCookie(r);
  FieldReader f(*body);
  auto token = f.String("refresh_token", !cookie_mode);
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  if (!token) token = RefreshCookie(r);
  auto pair = token ? accounts.Refresh(*token, r.Meta())
                    : core::Result<auth::TokenPair>(core::Fail(core::ErrorCode::kUnauthorized,
                                                               "No refresh token: sign in again."));
  if (pair) return TokenPairReply(*pair, r, lifetime);
  Reply refused = ErrorReply(pair.error(), r);
  if (cookie_mode && pair.error().code == core::ErrorCode::kUnauthorized) ClearRefreshCookie(refused);
  return refused;
}

// Routes without a body still refuse one they cannot use: an unknown field is a client bug.
core::Result<void> NoFields(const Request& r) { return RequireNoFields(r.body); }

}  // namespace

core::Result<auth::AuthContext> BearerAuthenticator::Authenticate(const Request& request) {
  const auto header = request.Header("authorization");
  if (!header) return MissingToken("missing");
  if (header->size() < 8) return MissingToken("malformed");
  std::string scheme = header->substr(0, 7);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "bearer ") return MissingToken("malformed");
  std::string token = header->substr(7);
  const auto start = token.find_first_not_of(' ');
  if (start == std::string::npos) return MissingToken("malformed");
  token = token.substr(start);
  while (!token.empty() && token.back() == ' ') token.pop_back();
  return accounts_.Authenticate(token);
}

void RegisterAccountRoutes(Router& router, auth::AccountService& accounts, std::chrono::seconds refresh_lifetime) {
  auto& a = accounts;
  for (const char* path : {"/api/v1/auth/register", "/register"}) {
    router.Add({.method = "POST", .path = path, .exec = Exec::kHash, .takes_body = true,
                .handler = [&a](Request& r) { return RegisterHandler(a, r); }});
  }
  router.Add({.method = "POST", .path = "/api/v1/auth/login", .exec = Exec::kHash, .takes_body = true,
              .handler = [&a, refresh_lifetime](Request& r) { return LoginHandler(a, r, refresh_lifetime, false); }});
  router.Add({.method = "POST", .path = "/login", .exec = Exec::kHash, .takes_body = true,
              .handler = [&a, refresh_lifetime](Request& r) { return LoginHandler(a, r, refresh_lifetime, true); }});
  router.Add({.method = "POST", .path = "/api/v1/auth/refresh", .exec = Exec::kWorker, .takes_body = true,
              .handler = [&a, refresh_lifetime](Request& r) { return RefreshHandler(a, r, refresh_lifetime); }});
  router.Add({.method = "POST", .path = "/api/v1/auth/logout", .access = Access::kUser,
              .handler = [&a](Request& r) {
                if (auto ok = NoFields(r); !ok) return ErrorReply(ok.error(), r);
                auto done = a.Logout(*r.auth, r.Meta());
                if (!done) return ErrorReply(done.error(), r);
                Reply ended = NoContent();
                return ClearRefreshCookie(ended);
              }});
  router.Add({.method = "POST", .path = "/api/v1/auth/logout-all", .access = Access::kUser,
              .handler = [&a](Request& r) {
                if (auto ok = NoFields(r); !ok) return ErrorReply(ok.error(), r);
                auto done = a.LogoutAll(*r.auth, r.Meta());
                if (!done) return ErrorReply(done.error(), r);
                Reply ended = NoContent();
                return ClearRefreshCookie(ended);
              }});
  router.Add({.method = "GET", .path = "/api/v1/me", .access = Access::kUser,
              .handler = [](Request& r) { return JsonReply(200, EncodeUser(r.auth->user)); }});
  router.Add({.method = "GET", .path = "/api/v1/me/sessions", .access = Access::kUser,
              .handler = [&a](Request& r) {
                // One page holds every live session: a limit must still be valid, and no cursor
                // was ever issued for this list.
                if (auto limit = ParseLimit(r); !limit) return ErrorReply(limit.error(), r);
                if (r.query.contains("cursor")) {
                  return ErrorReply(BadQuery("cursor", core::FieldCode::kInvalidValue, "is not a cursor of this list"), r);
                }
                auto sessions = a.Sessions(*r.auth);
                if (!sessions) return ErrorReply(sessions.error(), r);
                nlohmann::json items = nlohmann::json::array();
                for (const auto& s : *sessions) items.push_back(EncodeSession(s, s.id == r.auth->session_id));
                return JsonReply(200, {{"items", items}, {"next_cursor", nullptr}});
              }});
  router.Add({.method = "DELETE", .path = "/api/v1/me/sessions/{id}", .access = Access::kUser,
              .handler = [&a](Request& r) {
                if (auto ok = NoFields(r); !ok) return ErrorReply(ok.error(), r);
                auto done = a.RevokeSession(*r.auth, r.Param("id"), r.Meta());
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
}

}  // namespace ikigai::http
