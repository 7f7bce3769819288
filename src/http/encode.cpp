// Resource encoders.
#include "http/encode.hpp"

#include <algorithm>

#include "core/time_format.hpp"

namespace ikigai::http {

std::string Timestamp(long long millis) { return core::FormatRfc3339(core::FromMillis(millis)); }

void AppendJsonString(std::string& out, std::string_view s) {
  // Printable ASCII other than '"' and '\\' needs no escaping: copy it. Anything else (controls,
  // non-ASCII, which needs UTF-8 checking) goes through nlohmann's serializer.
  const bool plain = std::all_of(s.begin(), s.end(), [](char ch) {
    const auto u = static_cast<unsigned char>(ch);
    return u >= 0x20 && u < 0x7f && ch != '"' && ch != '\\';
  });
  if (!plain) {
    out += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

void AppendJsonTimestamp(std::string& out, long long millis) {
  out += '"';
  core::AppendRfc3339(out, core::FromMillis(millis));
  out += '"';
}

nlohmann::json EncodeUser(const store::UserRow& u) {
  return {{"id", u.id},
          {"username", u.username},
          {"email", u.email},
          {"display_name", u.display_name},
          {"role", u.role},
          {"email_verified", u.email_verified},
          {"disabled", u.disabled},
          {"mfa_enabled", u.mfa_enabled},
          {"created_at", Timestamp(u.created_at)},
          {"updated_at", Timestamp(u.updated_at)}};
}

nlohmann::json EncodeTokenPair(const auth::TokenPair& pair) {
  return {{"access_token", pair.access_token},
          {"token_type", "Bearer"},
          {"expires_in", pair.expires_in},
          {"refresh_token", pair.refresh_token},
          {"user", EncodeUser(pair.user)}};
}

nlohmann::json EncodeSession(const store::SessionRow& s, bool current) {
  return {{"id", s.id},
          {"created_at", Timestamp(s.created_at)},
          {"last_used_at", Timestamp(s.last_used_at)},
          {"ip", s.ip},
          {"user_agent", s.user_agent},
          {"current", current}};
}

}  // namespace ikigai::http
