// Handlers of API.md's "Authentication and sessions" section, GET /me, the session list, and the
// original backend's /register and /login.
#pragma once

#include "auth/account_service.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace ikigai::http {

// Bearer tokens through AccountService::Authenticate.
class BearerAuthenticator final : public Authenticator {
 public:
  explicit BearerAuthenticator(auth::AccountService& accounts) : accounts_(accounts) {}
  [[nodiscard]] core::Result<auth::AuthContext> Authenticate(const Request& request) override;

 private:
  auth::AccountService& accounts_;
};

// `refresh_lifetime`: Max-Age of the refresh cookie (IKIGAI_REFRESH_TTL).
void RegisterAccountRoutes(Router& router, auth::AccountService& accounts, std::chrono::seconds refresh_lifetime);

}  // namespace ikigai::http
