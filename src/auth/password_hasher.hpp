// Hashes passwords with Argon2id and verifies them, including the original backend's bcrypt hashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ikigai::auth {

// Argon2id cost. Defaults are OWASP's (m=19 MiB, t=2, p=1); libsodium always uses p=1.
struct Argon2Params {
  std::uint32_t memory_kib = 19456;
  std::uint32_t ops = 2;
};

struct VerifyResult {
  bool ok = false;            // the password matches the stored hash
  bool needs_rehash = false;  // only meaningful when ok: store a fresh Hash() of the password
};

// Thread-safe: every method is const and keeps no state between calls, so one instance serves
// every thread of the hashing pool.
class PasswordHasher {
 public:
  // Throws std::invalid_argument when the parameters are below libsodium's minimum and
  // core::InternalError when libsodium cannot be initialised.
  explicit PasswordHasher(Argon2Params params = {});

  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // A "$argon2id$..." string with a fresh random salt. Throws core::InternalError on failure
  // (in practice: the memory limit could not be allocated).
  [[nodiscard]] std::string Hash(std::string_view password) const;

  // Accepts "$argon2id$" and "$argon2i$" hashes, and the legacy bcrypt hashes "$2a$", "$2b$",
  // "$2y$" of the original backend. Anything else, including a damaged hash, gives ok=false.
  // needs_rehash is true for every format but Argon2id with this hasher's parameters.
  [[nodiscard]] VerifyResult Verify(std::string_view password, std::string_view stored_hash) const;

  // Costs what a Verify against an Argon2id hash costs, so that a login for an unknown user
  // takes as long as one with a wrong password.
  void VerifyDummy(std::string_view password) const;

 private:
  [[nodiscard]] VerifyResult VerifyArgon2(std::string_view password, const std::string& stored,
                                          bool is_argon2id) const;
  [[nodiscard]] static VerifyResult VerifyBcrypt(std::string_view password,
                                                 const std::string& stored);

  unsigned long long ops_;
  std::size_t memlimit_bytes_;
  std::string dummy_hash_;
};

}  // namespace ikigai::auth
