// Cursor sealing with libsodium's HMAC-SHA256.
#include "http/cursor.hpp"

#include <sodium.h>

namespace ikigai::http {
namespace {

std::string Base64Url(const unsigned char* data, std::size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  return out;
}

std::optional<std::string> FromBase64Url(const std::string& text) {
  std::string out(text.size(), '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(), nullptr,
                        &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace

CursorSealer::CursorSealer(const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    // A key of its own for cursors, so a cursor seal is never a valid token signature.
    const std::string material = "ikigai-cursor-v1:" + secret;
    std::string key(crypto_auth_hmacsha256_KEYBYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(key.data()),
                       reinterpret_cast<const unsigned char*>(material.data()), material.size());
    keys_.push_back(std::move(key));
  }
}

std::string CursorSealer::Seal(const nlohmann::json& payload) const {
  const std::string body = payload.dump();
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256(mac, reinterpret_cast<const unsigned char*>(body.data()), body.size(),
                         reinterpret_cast<const unsigned char*>(keys_.front().data()));
  return Base64Url(reinterpret_cast<const unsigned char*>(body.data()), body.size()) + "." + Base64Url(mac, sizeof mac);
}

std::optional<nlohmann::json> CursorSealer::Open(const std::string& cursor) const {
  if (cursor.size() > 2048) return std::nullopt;
  const auto dot = cursor.find('.');
  if (dot == std::string::npos) return std::nullopt;
  auto body = FromBase64Url(cursor.substr(0, dot));
  auto mac = FromBase64Url(cursor.substr(dot + 1));
  if (!body || !mac || mac->size() != crypto_auth_hmacsha256_BYTES) return std::nullopt;
  for (const auto& key : keys_) {
    if (crypto_auth_hmacsha256_verify(reinterpret_cast<const unsigned char*>(mac->data()),
                                      reinterpret_cast<const unsigned char*>(body->data()), body->size(),
                                      reinterpret_cast<const unsigned char*>(key.data())) == 0) {
      auto json = nlohmann::json::parse(*body, nullptr, false);
      if (json.is_discarded() || !json.is_object()) return std::nullopt;
      return json;
    }
  }
  return std::nullopt;
}

}  // namespace ikigai::http
