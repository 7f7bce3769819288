// Web Push cryptography with OpenSSL 3 EVP only: P-256 keys, RFC 8291 "aes128gcm" message
// encryption and RFC 8292 VAPID (ES256 JWT). Byte strings are std::string of raw bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

using EVP_PKEY = struct evp_pkey_st;

namespace ikigai::push {

inline constexpr std::size_t kPointBytes = 65;   // uncompressed P-256 point 0x04 || X || Y
inline constexpr std::size_t kScalarBytes = 32;  // P-256 private scalar
inline constexpr std::size_t kAuthBytes = 16;    // the subscription's auth secret
inline constexpr std::size_t kSaltBytes = 16;
inline constexpr std::uint32_t kRecordSize = 4096;
// salt(16) + rs(4) + idlen(1) + keyid(65): the aes128gcm header this code writes.
inline constexpr std::size_t kHeaderBytes = kSaltBytes + 4 + 1 + kPointBytes;
// The AEAD tag plus the 0x02 padding delimiter of the single record.
inline constexpr std::size_t kRecordOverhead = 16 + 1;
// Largest plaintext whose encrypted message (header + record) fits in 4096 bytes.
inline constexpr std::size_t kMaxPlaintext = kRecordSize - kHeaderBytes - kRecordOverhead;

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const noexcept;
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

// A P-256 key pair (or public key only) held as an EVP_PKEY.
class EcKey {
 public:
  // A fresh key pair from the OpenSSL CSPRNG.
  [[nodiscard]] static EcKey Generate();
  // From the 32-byte private scalar (the public point is computed). nullopt if not in [1, n-1].
  [[nodiscard]] static std::optional<EcKey> FromScalar(std::string_view scalar);
  // From a PEM private key (PKCS#8 or SEC1 "EC PRIVATE KEY"); nullopt unless it is a P-256 key.
  [[nodiscard]] static std::optional<EcKey> FromPem(std::string_view pem);
  // From a 65-byte uncompressed point; nullopt unless the point lies on P-256.
  [[nodiscard]] static std::optional<EcKey> FromPublicPoint(std::string_view point);

  [[nodiscard]] const std::string& PublicPoint() const { return public_point_; }
  // The 32-byte scalar; REQUIRES: a private key.
  [[nodiscard]] std::string PrivateScalar() const;
  [[nodiscard]] EVP_PKEY* get() const { return key_.get(); }

 private:
  EcKey(Pkey key, std::string public_point) : key_(std::move(key)), public_point_(std::move(public_point)) {}
  Pkey key_;
  std::string public_point_;
};

// True when `point` is 65 bytes, uncompressed, and lies on P-256 (what a p256dh must be).
[[nodiscard]] bool IsP256Point(std::string_view point);

// Fixed inputs for the RFC 8291 test vector; production passes none and gets fresh ones.
struct EncryptionSeam {
  const EcKey* ephemeral = nullptr;  // the application server's one-message key pair
  std::string salt;                  // 16 bytes when set
};

// RFC 8291 / RFC 8188: the whole request body (header and one record, rs 4096) for `plaintext`
// encrypted to the user agent's `p256dh` point and `auth` secret. REQUIRES: plaintext.size() <=
// kMaxPlaintext, auth 16 bytes. nullopt if `p256dh` is not a P-256 point.
[[nodiscard]] std::optional<std::string> EncryptAes128Gcm(std::string_view plaintext, std::string_view p256dh,
                                                          std::string_view auth, const EncryptionSeam& seam = {});

// The inverse, for a user agent's key pair: what a push service hands to the browser, decrypted.
// Tests use it; nullopt on any malformed or unauthentic message.
[[nodiscard]] std::optional<std::string> DecryptAes128Gcm(std::string_view body, const EcKey& user_agent,
                                                          std::string_view auth);

// "scheme://host[:port]" of an absolute http(s) URL (the VAPID audience); nullopt if not such a URL.
[[nodiscard]] std::optional<std::string> UrlOrigin(std::string_view url);

// RFC 8292: an ES256 JWT {"aud", "exp", "sub"} signed with the VAPID key, signature in the 64-byte
// JOSE form (r || s).
[[nodiscard]] std::string VapidJwt(const EcKey& vapid, std::string_view audience, std::int64_t expires_at,
                                   std::string_view subject);
// The Authorization header value: "vapid t=<jwt>, k=<base64url public point>".
[[nodiscard]] std::string VapidAuthorization(const EcKey& vapid, std::string_view audience,
                                             std::int64_t expires_at, std::string_view subject);

}  // namespace ikigai::push
