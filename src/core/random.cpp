// libsodium-backed randomness and URL-safe tokens.
#include "core/random.hpp"

#include <vector>

#include <sodium.h>

namespace ikigai::core {

void SodiumRandom::Fill(std::span<std::uint8_t> out) { randombytes_buf(out.data(), out.size()); }

std::string RandomToken(Random& random, std::size_t bytes) {
  std::vector<std::uint8_t> raw(bytes);
  random.Fill(raw);
  std::string out(sodium_base64_encoded_len(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

}  // namespace ikigai::core
