// Randomness for ids and secrets; the real one is libsodium's CSPRNG, tests may pass a fake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ikigai::core {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(std::span<std::uint8_t> out) = 0;
};

// libsodium randombytes_buf. REQUIRES: sodium_init() succeeded (cli does it first).
class SodiumRandom final : public Random {
 public:
  void Fill(std::span<std::uint8_t> out) override;
};

// A URL-safe secret of `bytes` random bytes: base64url without padding, so only [A-Za-z0-9_-].
[[nodiscard]] std::string RandomToken(Random& random, std::size_t bytes = 32);

}  // namespace ikigai::core
