// Decode, call MfaService / AccountService, encode.
#include "http/mfa_handlers.hpp"

#include "http/encode.hpp"
#include "http/json_body.hpp"
#include "http/session_cookie.hpp"

namespace ikigai::http {
namespace {

// The password confirmations count as login attempts: over the account's limit the answer is 429,
// which API.md's order puts before any field error.
std::optional<Reply> ConfirmationRate(auth::AccountService& accounts, const nlohmann::json& body, const Request& r) {
  if (!body.contains("current_password")) return std::nullopt;
  if (auto ok = accounts.CheckConfirmRate(r.auth->user, r.Meta()); !ok) return ErrorReply(ok.error(), r);
  return std::nullopt;
}

// A required, non-empty string member.
std::optional<std::string> NonEmpty(FieldReader& f, const char* name) {
  auto value = f.String(name, true);
  if (value && value->empty()) f.AddError(name, core::FieldCode::kRequired, "must not be empty");
  return value;
}

nlohmann::json RecoveryCodes(const std::vector<std::string>& codes) { return {{"recovery_codes", codes}}; }

Reply Enrol(auth::AccountService& accounts, users::MfaService& mfa, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  if (auto limited = ConfirmationRate(accounts, *body, r)) return *limited;
  FieldReader f(*body);
  const auto password = NonEmpty(f, "current_password");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto enrolment = mfa.Enrol(*r.auth, *password, r.Meta());
  if (!enrolment) return ErrorReply(enrolment.error(), r);
  return JsonReply(200, {{"secret", enrolment->secret}, {"otpauth_url", enrolment->otpauth_url}});
}

Reply Confirm(users::MfaService& mfa, Request& r) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  FieldReader f(*body);
  const auto code = NonEmpty(f, "code");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto codes = mfa.Confirm(*r.auth, *code, r.Meta());
  if (!codes) return ErrorReply(codes.error(), r);
  return JsonReply(200, RecoveryCodes(*codes));
}

// DELETE /me/mfa/totp and POST /me/mfa/recovery-codes: the password and a code.
template <class Call>
Reply WithPasswordAndCode(auth::AccountService& accounts, Request& r, Call&& call) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  if (auto limited = ConfirmationRate(accounts, *body, r)) return *limited;
  FieldReader f(*body);
  const auto password = NonEmpty(f, "current_password");
  const auto code = NonEmpty(f, "code");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  return call(*password, *code);
}

Reply SecondStep(auth::AccountService& accounts, Request& r, std::chrono::seconds lifetime) {
  auto body = ParseJsonObject(r.body);
  if (!body) return ErrorReply(body.error(), r);
  std::string token;
  if (auto t = body->find("mfa_token"); t != body->end() && t->is_string()) token = t->get<std::string>();
  if (auto rate = accounts.CheckMfaLoginRate(token, r.Meta()); !rate) return ErrorReply(rate.error(), r);
  FieldReader f(*body);
  const auto mfa_token = NonEmpty(f, "mfa_token");
  const auto code = NonEmpty(f, "code");
  if (auto ok = f.Finish(); !ok) return ErrorReply(ok.error(), r);
  auto pair = accounts.LoginSecondStep(*mfa_token, *code, r.Meta());
  if (!pair) return ErrorReply(pair.error(), r);
  return TokenPairReply(*pair, r, lifetime);
}

}  // namespace

void RegisterMfaRoutes(Router& router, auth::AccountService& accounts, users::MfaService& mfa,
                       std::chrono::seconds refresh_lifetime) {
  auto& a = accounts;
  auto& m = mfa;
  // On the hash pool: each verifies a password.
  router.Add({.method = "POST", .path = "/api/v1/me/mfa/totp", .exec = Exec::kHash, .access = Access::kUser,
              .takes_body = true, .handler = [&a, &m](Request& r) { return Enrol(a, m, r); }});
  router.Add({.method = "DELETE", .path = "/api/v1/me/mfa/totp", .exec = Exec::kHash, .access = Access::kUser,
              .takes_body = true, .handler = [&a, &m](Request& r) {
                return WithPasswordAndCode(a, r, [&](const std::string& password, const std::string& code) {
                  auto done = m.Disable(*r.auth, password, code, r.Meta());
                  return done ? NoContent() : ErrorReply(done.error(), r);
                });
              }});
  router.Add({.method = "POST", .path = "/api/v1/me/mfa/recovery-codes", .exec = Exec::kHash,
              .access = Access::kUser, .takes_body = true, .handler = [&a, &m](Request& r) {
                return WithPasswordAndCode(a, r, [&](const std::string& password, const std::string& code) {
                  auto codes = m.RegenerateRecoveryCodes(*r.auth, password, code, r.Meta());
                  return codes ? JsonReply(200, RecoveryCodes(*codes)) : ErrorReply(codes.error(), r);
                });
              }});
  router.Add({.method = "POST", .path = "/api/v1/me/mfa/totp/confirm", .access = Access::kUser, .takes_body = true,
              .handler = [&m](Request& r) { return Confirm(m, r); }});
  router.Add({.method = "POST", .path = "/api/v1/auth/login/mfa", .exec = Exec::kWorker, .takes_body = true,
              .handler = [&a, refresh_lifetime](Request& r) { return SecondStep(a, r, refresh_lifetime); }});
}

}  // namespace ikigai::http
