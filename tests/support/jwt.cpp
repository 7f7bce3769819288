// Reading and forging JSON Web Tokens in tests (HMAC through libsodium), and token hashes.
#include "support/jwt.hpp"

#include <stdexcept>
#include <vector>

#include <sodium.h>

namespace ikigai::support {
namespace {

void InitSodium() {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
}

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  InitSodium();
  const std::size_t size =
      sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  std::string out(size, '\0');
  sodium_bin2base64(out.data(), out.size(), Bytes(bytes), bytes.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  InitSodium();
  std::string out(text.size(), '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      end != text.data() + text.size()) {
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

std::optional<DecodedJwt> DecodeJwt(std::string_view token) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  DecodedJwt jwt;
  jwt.header_segment = std::string(token.substr(0, first));
  jwt.payload_segment = std::string(token.substr(first + 1, second - first - 1));
  jwt.signature_segment = std::string(token.substr(second + 1));
  auto header = Base64UrlDecode(jwt.header_segment);
  auto payload = Base64UrlDecode(jwt.payload_segment);
  if (!header || !payload || !Base64UrlDecode(jwt.signature_segment)) return std::nullopt;
  jwt.header = nlohmann::json::parse(*header, nullptr, false);
  jwt.payload = nlohmann::json::parse(*payload, nullptr, false);
  if (!jwt.header.is_object() || !jwt.payload.is_object()) return std::nullopt;
  return jwt;
}

std::string HmacSha256(std::string_view key, std::string_view message) {
  InitSodium();
  crypto_auth_hmacsha256_state state;
  std::string out(crypto_auth_hmacsha256_BYTES, '\0');
  crypto_auth_hmacsha256_init(&state, Bytes(key), key.size());
  crypto_auth_hmacsha256_update(&state, Bytes(message), message.size());
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string HmacSha512(std::string_view key, std::string_view message) {
  InitSodium();
  crypto_auth_hmacsha512_state state;
  std::string out(crypto_auth_hmacsha512_BYTES, '\0');
  crypto_auth_hmacsha512_init(&state, Bytes(key), key.size());
  crypto_auth_hmacsha512_update(&state, Bytes(message), message.size());
  crypto_auth_hmacsha512_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string SignJwt(const nlohmann::json& header, const nlohmann::json& payload,
                    std::string_view secret) {
  const std::string input = Base64UrlEncode(header.dump()) + "." + Base64UrlEncode(payload.dump());
  const std::string alg = header.value("alg", "");
  std::string signature;
  if (alg == "HS256") signature = HmacSha256(secret, input);
  if (alg == "HS512") signature = HmacSha512(secret, input);
  return input + "." + Base64UrlEncode(signature);
}

std::string Sha256Hex(std::string_view bytes) {
  InitSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, Bytes(bytes), bytes.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex, crypto_hash_sha256_BYTES * 2);
}

}  // namespace ikigai::support
