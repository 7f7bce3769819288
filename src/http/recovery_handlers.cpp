// Decode, call RecoveryService, encode.
#include "http/recovery_handlers.hpp"

#include "http/json_body.hpp"

namespace ikigai::http {
namespace {

// Reads the named string fields (all required) or answers 400/422.
core::Result<std::vector<std::string>> Fields(const Request& r, std::initializer_list<const char*> names) {
  auto body = ParseJsonObject(r.body);
  if (!body) return core::Fail(body.error());
  FieldReader f(*body);
  std::vector<std::string> out;
  for (const char* name : names) out.push_back(f.String(name, true).value_or(""));
  if (auto ok = f.Finish(); !ok) return core::Fail(ok.error());
  return out;
}

Reply Accepted() {
  return JsonReply(202, {{"status", "accepted"}});
}

}  // namespace

void RegisterRecoveryRoutes(Router& router, auth::RecoveryService& recovery) {
  auto& rs = recovery;
  router.Add({.method = "POST", .path = "/api/v1/auth/password/forgot", .takes_body = true,
              .handler = [&rs](Request& r) {
                auto f = Fields(r, {"email"});
                if (!f) return ErrorReply(f.error(), r);
                if ((*f)[0].empty() || (*f)[0].size() > 254) return ErrorReply(core::Error{core::ErrorCode::kValidation, {}, {{"email", {core::FieldCode::kInvalidFormat, "must be a valid email address"}}}, {}}, r);
                auto done = rs.Forgot((*f)[0], r.Meta());
                return done ? Accepted() : ErrorReply(done.error(), r);
              }});
  router.Add({.method = "POST", .path = "/api/v1/auth/password/reset", .exec = Exec::kHash, .takes_body = true,
              .handler = [&rs](Request& r) {
                auto f = Fields(r, {"token", "password"});
                if (!f) return ErrorReply(f.error(), r);
                auto done = rs.Reset((*f)[0], (*f)[1], r.Meta());
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
  router.Add({.method = "POST", .path = "/api/v1/auth/email/verify", .takes_body = true,
              .handler = [&rs](Request& r) {
                auto f = Fields(r, {"token"});
                if (!f) return ErrorReply(f.error(), r);
                auto done = rs.Verify((*f)[0], r.Meta());
                return done ? NoContent() : ErrorReply(done.error(), r);
              }});
  router.Add({.method = "POST", .path = "/api/v1/auth/email/verify/resend", .access = Access::kUser,
              .handler = [&rs](Request& r) {
                if (auto ok = RequireNoFields(r.body); !ok) return ErrorReply(ok.error(), r);
                auto done = rs.Resend(*r.auth, r.Meta());
                return done ? Accepted() : ErrorReply(done.error(), r);
              }});
}

}  // namespace ikigai::http
