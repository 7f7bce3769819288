// Argon2id through libsodium; legacy bcrypt through libxcrypt, for verification only.
#include "auth/password_hasher.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include <crypt.h>
#include <sodium.h>

#include "core/error.hpp"

namespace ikigai::auth {
namespace {

// bcrypt never looks past this many bytes of the password.
constexpr std::size_t kBcryptMaxBytes = 72;

// libsodium wants a non-null pointer even for an empty password.
const char* Bytes(std::string_view s) { return s.empty() ? "" : s.data(); }

bool IsBcrypt(std::string_view hash) {
  return hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$");
}

}  // namespace

PasswordHasher::PasswordHasher(Argon2Params params)
    : ops_(params.ops), memlimit_bytes_(static_cast<std::size_t>(params.memory_kib) * 1024U) {
  // Idempotent and internally locked; 1 means another component already did it.
  if (sodium_init() < 0) throw core::InternalError("sodium_init failed");
  if (ops_ < crypto_pwhash_argon2id_OPSLIMIT_MIN || ops_ > crypto_pwhash_argon2id_OPSLIMIT_MAX) {
    throw std::invalid_argument("Argon2id ops out of range");
  }
  if (memlimit_bytes_ < crypto_pwhash_argon2id_MEMLIMIT_MIN ||
      memlimit_bytes_ > crypto_pwhash_argon2id_MEMLIMIT_MAX) {
    throw std::invalid_argument("Argon2id memory out of range (at least 8 KiB)");
  }
  // The password is irrelevant: only the time a verification takes matters.
  dummy_hash_ = Hash("ikigai dummy password for unknown users");
}

std::string PasswordHasher::Hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, Bytes(password), password.size(), ops_, memlimit_bytes_,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw core::InternalError("Argon2id hashing failed (out of memory?)");
  }
  return std::string(out);
}

VerifyResult PasswordHasher::Verify(std::string_view password, std::string_view stored_hash) const {
  // Both libraries read the hash as a C string; an embedded NUL would let them see only a prefix.
  if (stored_hash.find('\0') != std::string_view::npos) return {};
  const std::string stored(stored_hash);
  if (stored_hash.starts_with("$argon2id$")) return VerifyArgon2(password, stored, true);
  if (stored_hash.starts_with("$argon2i$")) return VerifyArgon2(password, stored, false);
  if (IsBcrypt(stored_hash)) return VerifyBcrypt(password, stored);
  return {};
}

void PasswordHasher::VerifyDummy(std::string_view password) const {
  // The result is meaningless by design; only the work counts.
  [[maybe_unused]] const int ignored =
      crypto_pwhash_str_verify(dummy_hash_.c_str(), Bytes(password), password.size());
}

VerifyResult PasswordHasher::VerifyArgon2(std::string_view password, const std::string& stored,
                                          bool is_argon2id) const {
  // Also returns -1 for a hash it cannot parse, or whose cost it cannot allocate.
  if (crypto_pwhash_str_verify(stored.c_str(), Bytes(password), password.size()) != 0) {
    return {};
  }
  // Not crypto_pwhash_str_needs_rehash: for an "$argon2i$" hash with our costs it answers "no",
  // but we want every hash to become Argon2id.
  const bool needs_rehash = !is_argon2id || crypto_pwhash_argon2id_str_needs_rehash(
                                                stored.c_str(), ops_, memlimit_bytes_) != 0;
  return {.ok = true, .needs_rehash = needs_rehash};
}

VerifyResult PasswordHasher::VerifyBcrypt(std::string_view password, const std::string& stored) {
  // libxcrypt takes a C string, so it would silently stop at a NUL; bcryptjs (the original
  // backend) would have hashed the bytes after it. Such a password cannot be the one that was
  // stored, so refuse it rather than accept a prefix of it.
  if (password.find('\0') != std::string_view::npos) return {};
  // bcryptjs hashed the UTF-8 bytes of the password cut to 72 bytes (even mid-character), so a
  // longer password was stored as its first 72 bytes: checking only those is what the original
  // did. Cutting here also keeps us under libxcrypt's 512-byte phrase limit, over which crypt_rn
  // fails instead of truncating. The user gets an Argon2id hash of the whole password next.
  std::string phrase(password.substr(0, kBcryptMaxBytes));
  // crypt_data is ~32 KiB: too big for the small stacks of pool threads. Value-initialised, as
  // libxcrypt requires the structure zeroed before its first use.
  auto data = std::make_unique<crypt_data>();
  const char* computed =
      crypt_rn(phrase.c_str(), stored.c_str(), data.get(), static_cast<int>(sizeof(crypt_data)));
  bool ok = false;
  if (computed != nullptr) {  // crypt_rn returns null for a setting it cannot parse
    const std::string_view result(computed);
    ok = result.size() == stored.size() &&
         sodium_memcmp(result.data(), stored.data(), stored.size()) == 0;
  }
  // Both hold material derived from the password.
  sodium_memzero(phrase.data(), phrase.size());
  sodium_memzero(data.get(), sizeof(crypt_data));
  // A bcrypt hash is always replaced by an Argon2id one at the next successful login.
  return {.ok = ok, .needs_rehash = ok};
}

}  // namespace ikigai::auth
