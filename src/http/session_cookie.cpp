// The refresh cookie of browser sessions: mode header, cookie parsing, Set-Cookie.
#include "http/session_cookie.hpp"

#include <string_view>

#include "core/text.hpp"
#include "http/encode.hpp"

namespace ikigai::http {
namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// __Host- requires Secure, Path=/ and no Domain (RFC 6265bis 4.1.3.2); browsers treat
// http://localhost as a secure context, so the cookie works in development too.
std::string SetCookie(const std::string& value, long long max_age) {
  return std::string(kRefreshCookieName) + "=" + value + "; Max-Age=" + std::to_string(max_age) +
         "; Path=/; Secure; HttpOnly; SameSite=Strict";
}

}  // namespace

bool WantsRefreshCookie(const Request& request) {
  const auto value = request.Header(kRefreshModeHeader);
  return value && core::LowerAscii(TrimSpace(*value)) == "cookie";
}

std::optional<std::string> RefreshCookie(const Request& request) {
  const auto header = request.Header("cookie");
  if (!header) return std::nullopt;
  // "a=1; b=2": the first pair of this name wins (RFC 6265 5.4 orders the longer path first).
  std::string_view rest = *header;
  while (!rest.empty()) {
    const auto semi = rest.find(';');
    const std::string_view pair = TrimSpace(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || TrimSpace(pair.substr(0, eq)) != kRefreshCookieName) continue;
    std::string_view value = TrimSpace(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.empty()) return std::nullopt;
    return std::string(value);
  }
  return std::nullopt;
}

Reply TokenPairReply(const auth::TokenPair& pair, const Request& request, std::chrono::seconds lifetime,
                     bool compat) {
  auto json = EncodeTokenPair(pair);
  if (compat) json["token"] = pair.access_token;  // the original backend's field
  if (!WantsRefreshCookie(request)) return JsonReply(200, json);
  json.erase("refresh_token");
  Reply reply = JsonReply(200, json);
  reply.With("Set-Cookie", SetCookie(pair.refresh_token, lifetime.count()));
  return reply;
}

Reply& ClearRefreshCookie(Reply& reply) { return reply.With("Set-Cookie", SetCookie("", 0)); }

}  // namespace ikigai::http
