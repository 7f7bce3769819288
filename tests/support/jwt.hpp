// Reading and forging JSON Web Tokens in tests (HMAC through libsodium), and token hashes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ikigai::support {

// RFC 4648 base64url without padding.
[[nodiscard]] std::string Base64UrlEncode(std::string_view bytes);
// nullopt when `text` is not unpadded base64url.
[[nodiscard]] std::optional<std::string> Base64UrlDecode(std::string_view text);

struct DecodedJwt {
  nlohmann::json header;
  nlohmann::json payload;
  // The three segments as they were in the token.
  std::string header_segment;
  std::string payload_segment;
  std::string signature_segment;
};

// Splits "header.payload.signature" and parses the two JSON objects; nullopt when the token is not
// three base64url segments of which the first two are JSON objects.
[[nodiscard]] std::optional<DecodedJwt> DecodeJwt(std::string_view token);

// Raw HMAC digests (any key length).
[[nodiscard]] std::string HmacSha256(std::string_view key, std::string_view message);
[[nodiscard]] std::string HmacSha512(std::string_view key, std::string_view message);

// "b64(header).b64(payload).b64(signature)" with the algorithm that header["alg"] names: "HS256"
// and "HS512" are signed with `secret`; anything else ("none") gets an empty signature.
[[nodiscard]] std::string SignJwt(const nlohmann::json& header, const nlohmann::json& payload,
                                  std::string_view secret);

// Lowercase hex SHA-256, as the server stores refresh tokens.
[[nodiscard]] std::string Sha256Hex(std::string_view bytes);

}  // namespace ikigai::support
