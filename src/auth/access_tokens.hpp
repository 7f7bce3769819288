// Access tokens: JWT HS256 via libjwt. libjwt 1.10 checks neither algorithm nor claims, so
// Verify pins HS256 and checks signature, iss, aud and exp itself.
#pragma once

#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/random.hpp"

namespace ikigai::auth {

struct AccessClaims {
  std::string user_id;     // sub
  std::string session_id;  // sid
  std::string role;        // informational only: authorization reads the database
  long long issued_at = 0;   // iat, seconds
  long long expires_at = 0;  // exp, seconds
  std::string token_id;    // jti
};

struct AccessTokenSettings {
  std::vector<std::string> secrets;  // the first signs, every one verifies (rotation)
  std::string issuer = "ikigai";
  std::string audience = "ikigai";
  std::chrono::seconds ttl{900};
};

class AccessTokens {
 public:
  AccessTokens(AccessTokenSettings settings, const core::Clock& clock, core::Random& random);
  AccessTokens(const AccessTokens&) = delete;
  AccessTokens& operator=(const AccessTokens&) = delete;

  [[nodiscard]] std::string Issue(const std::string& user_id, const std::string& session_id,
                                  const std::string& role) const;
  // kUnauthorized for anything but a valid, unexpired HS256 token of our issuer and audience.
  [[nodiscard]] core::Result<AccessClaims> Verify(const std::string& token) const;
  [[nodiscard]] std::chrono::seconds Ttl() const { return settings_.ttl; }

 private:
  AccessTokenSettings settings_;
  const core::Clock& clock_;
  core::Random& random_;
};

// SHA-256 of a secret token as lowercase hex: how refresh and one-time tokens are stored.
[[nodiscard]] std::string HashToken(const std::string& token);

}  // namespace ikigai::auth
