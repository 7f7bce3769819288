// Handlers of API.md's "Two-factor sign-in (TOTP)": /me/mfa/... for the signed-in user and the
// second login step /auth/login/mfa.
#pragma once

#include "auth/account_service.hpp"
#include "http/router.hpp"
#include "users/mfa_service.hpp"

namespace ikigai::http {

// `refresh_lifetime`: Max-Age of the refresh cookie of the second step in cookie mode.
void RegisterMfaRoutes(Router& router, auth::AccountService& accounts, users::MfaService& mfa,
                       std::chrono::seconds refresh_lifetime);

}  // namespace ikigai::http
