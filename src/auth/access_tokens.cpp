// JWT issue and verification with the algorithm pinned and every claim checked by us.
#include "auth/access_tokens.hpp"

#include <jwt.h>
#include <sodium.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "core/ids.hpp"

namespace ikigai::auth {
namespace {

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

// Anything wrong with the token itself; an expired one that is otherwise valid says so, so the
// client knows that one refresh may help.
core::Result<AccessClaims> Unauthorized(const char* reason = "malformed") {
  core::Error e{core::ErrorCode::kUnauthorized, "The access token is invalid or expired."};
  e.reason = reason;
  return core::Fail(std::move(e));
}

}  // namespace

AccessTokens::AccessTokens(AccessTokenSettings settings, const core::Clock& clock, core::Random& random)
    : settings_(std::move(settings)), clock_(clock), random_(random) {
  if (settings_.secrets.empty()) throw std::invalid_argument("AccessTokens needs at least one secret");
}

std::string AccessTokens::Issue(const std::string& user_id, const std::string& session_id,
                                const std::string& role) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw core::InternalError("jwt_new failed");
  JwtPtr jwt(raw);
  const long now = static_cast<long>(core::ToMillis(clock_.Now()) / 1000);
  const std::string jti = core::NewId(clock_, random_);
  const auto& key = settings_.secrets.front();
  int rc = jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(key.data()),
                       static_cast<int>(key.size()));
  rc |= jwt_add_grant(jwt.get(), "iss", settings_.issuer.c_str());
  rc |= jwt_add_grant(jwt.get(), "aud", settings_.audience.c_str());
  rc |= jwt_add_grant(jwt.get(), "sub", user_id.c_str());
  rc |= jwt_add_grant(jwt.get(), "sid", session_id.c_str());
  rc |= jwt_add_grant(jwt.get(), "role", role.c_str());
  rc |= jwt_add_grant_int(jwt.get(), "iat", now);
  rc |= jwt_add_grant_int(jwt.get(), "exp", now + static_cast<long>(settings_.ttl.count()));
  rc |= jwt_add_grant(jwt.get(), "jti", jti.c_str());
  if (rc != 0) throw core::InternalError("building the access token failed");
  char* encoded = jwt_encode_str(jwt.get());
  if (encoded == nullptr) throw core::InternalError("jwt_encode_str failed");
  std::string out(encoded);
  free(encoded);  // libjwt 1.10 has no jwt_free_str: the string comes from malloc
  return out;
}

core::Result<AccessClaims> AccessTokens::Verify(const std::string& token) const {
  // Three base64url segments and nothing else; keeps odd input away from the parser.
  if (token.empty() || token.size() > 4096) return Unauthorized();
  int dots = 0;
  for (char c : token) {
    if (c == '.') {
      ++dots;
    } else if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') {
      return Unauthorized();
    }
  }
  if (dots != 2 || token.back() == '.') return Unauthorized();  // an empty signature is alg "none"

  for (const auto& key : settings_.secrets) {
    jwt_t* raw = nullptr;
    const int rc = jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(key.data()),
                              static_cast<int>(key.size()));
    JwtPtr jwt(raw);
    if (rc != 0 || !jwt) continue;
    // libjwt verifies with whatever algorithm the header names: accept HS256 only.
    if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) return Unauthorized();
    const char* iss = jwt_get_grant(jwt.get(), "iss");
    const char* aud = jwt_get_grant(jwt.get(), "aud");
    const char* sub = jwt_get_grant(jwt.get(), "sub");
    const char* sid = jwt_get_grant(jwt.get(), "sid");
    const char* role = jwt_get_grant(jwt.get(), "role");
    const char* jti = jwt_get_grant(jwt.get(), "jti");
    if (iss == nullptr || aud == nullptr || sub == nullptr || sid == nullptr || role == nullptr) return Unauthorized();
    if (settings_.issuer != iss || settings_.audience != aud) return Unauthorized();
    errno = 0;
    const long exp = jwt_get_grant_int(jwt.get(), "exp");
    if (errno != 0) return Unauthorized();
    const long iat = jwt_get_grant_int(jwt.get(), "iat");
    if (errno != 0) return Unauthorized();
    const long long now = core::ToMillis(clock_.Now()) / 1000;
    if (now >= exp) return Unauthorized("expired");
    AccessClaims claims{sub, sid, role, iat, exp, jti == nullptr ? std::string{} : std::string(jti)};
    return claims;
  }
  return Unauthorized();
}

std::string HashToken(const std::string& token) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

}  // namespace ikigai::auth
