// Browser sessions without a readable refresh token (API.md "Authentication and sessions"): a
// request to /auth/login, /auth/login/mfa or /auth/refresh with `X-Ikigai-Refresh: cookie` gets
// the refresh token as an HttpOnly `__Host-` cookie instead of in the body, and /auth/refresh reads
// it back only when that header is present (a custom header forces a CORS preflight: the CSRF
// defence). Logout clears it.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "auth/account_service.hpp"
#include "http/request.hpp"

namespace ikigai::http {

inline constexpr const char* kRefreshCookieName = "__Host-ikigai_refresh";
inline constexpr const char* kRefreshModeHeader = "x-ikigai-refresh";

// True when the request carries `X-Ikigai-Refresh: cookie` (the value compared case-insensitively,
// surrounding white space ignored); any other value is body mode.
[[nodiscard]] bool WantsRefreshCookie(const Request& request);

// The refresh cookie's value from the Cookie header, or nullopt when there is none (or it is empty).
[[nodiscard]] std::optional<std::string> RefreshCookie(const Request& request);

// The 200 token pair: in cookie mode without `refresh_token` in the body and with a Set-Cookie of
// `lifetime`; `compat` adds the original backend's `token` member (POST /login).
[[nodiscard]] Reply TokenPairReply(const auth::TokenPair& pair, const Request& request, std::chrono::seconds lifetime,
                                   bool compat = false);

// Adds a Set-Cookie that removes the refresh cookie (Max-Age=0).
Reply& ClearRefreshCookie(Reply& reply);

}  // namespace ikigai::http
