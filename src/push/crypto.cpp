#include "push/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "push/base64url.hpp"

namespace ikigai::push {
namespace {

// Owning handles for the OpenSSL objects used here.
template <auto Free>
struct Freer {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Freer<EVP_PKEY_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Freer<EVP_CIPHER_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Freer<EVP_MD_CTX_free>>;
using Bignum = std::unique_ptr<BIGNUM, Freer<BN_clear_free>>;
using BnCtx = std::unique_ptr<BN_CTX, Freer<BN_CTX_free>>;
using Group = std::unique_ptr<EC_GROUP, Freer<EC_GROUP_free>>;
using Point = std::unique_ptr<EC_POINT, Freer<EC_POINT_free>>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, Freer<OSSL_PARAM_BLD_free>>;
using Params = std::unique_ptr<OSSL_PARAM, Freer<OSSL_PARAM_free>>;
using Bio = std::unique_ptr<BIO, Freer<BIO_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Freer<ECDSA_SIG_free>>;

constexpr const char* kCurve = "prime256v1";

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

[[noreturn]] void Fail(const char* what) { throw std::runtime_error(std::string("push crypto: ") + what); }

// Builds an EC EVP_PKEY from parameters (public point, and the scalar for a key pair).
Pkey FromData(std::string_view point, const BIGNUM* scalar) {
  ParamBld bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) ||
      (scalar != nullptr && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, scalar))) {
    Fail("parameter build");
  }
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) Fail("fromdata init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, scalar != nullptr ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params.get()) !=
      1) {
    return nullptr;  // the point does not decode on the curve
  }
  return Pkey(raw);
}

bool IsP256(EVP_PKEY* key) {
  char group[64] = {};
  std::size_t len = 0;
  return EVP_PKEY_is_a(key, "EC") == 1 &&
         EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len) == 1 &&
         (std::strcmp(group, kCurve) == 0 || std::strcmp(group, "P-256") == 0);
}

std::string Ecdh(const EcKey& mine, const EcKey& peer) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, mine.get(), nullptr));
  std::size_t len = 0;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) {
    Fail("ecdh");
  }
  std::string secret(len, '\0');
  if (EVP_PKEY_derive(ctx.get(), Bytes(secret), &len) != 1) Fail("ecdh");
  secret.resize(len);
  return secret;
}

std::string Hkdf(std::string_view salt, std::string_view ikm, std::string_view info, std::size_t length) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr));
  std::string out(length, '\0');
  std::size_t len = length;
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_hkdf_md(ctx.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_salt(ctx.get(), Bytes(salt), static_cast<int>(salt.size())) != 1 ||
      EVP_PKEY_CTX_set1_hkdf_key(ctx.get(), Bytes(ikm), static_cast<int>(ikm.size())) != 1 ||
      EVP_PKEY_CTX_add1_hkdf_info(ctx.get(), Bytes(info), static_cast<int>(info.size())) != 1 ||
      EVP_PKEY_derive(ctx.get(), Bytes(out), &len) != 1 || len != length) {
    Fail("hkdf");
  }
  return out;
}

struct ContentKeys {
  std::string cek;    // 16 bytes
  std::string nonce;  // 12 bytes
};

// RFC 8291 section 3.4 then RFC 8188 section 2.2/2.3: IKM from the ECDH secret and `auth`, then
// the content-encryption key and nonce from the salt.
ContentKeys DeriveKeys(std::string_view ecdh_secret, std::string_view auth, std::string_view ua_public,
                       std::string_view as_public, std::string_view salt) {
  std::string key_info = std::string("WebPush: info") + '\0';
  key_info.append(ua_public).append(as_public);
  const std::string ikm = Hkdf(auth, ecdh_secret, key_info, 32);
  return {Hkdf(salt, ikm, std::string("Content-Encoding: aes128gcm") + '\0', 16),
          Hkdf(salt, ikm, std::string("Content-Encoding: nonce") + '\0', 12)};
}

std::string Base64UrlJson(const nlohmann::json& value) { return Base64UrlEncode(value.dump()); }

}  // namespace

void PkeyDeleter::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

EcKey EcKey::Generate() {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) Fail("keygen");
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) Fail("keygen");
  Bignum scalar(raw);
  std::string bytes(kScalarBytes, '\0');
  if (BN_bn2binpad(scalar.get(), Bytes(bytes), static_cast<int>(bytes.size())) != static_cast<int>(kScalarBytes)) {
    Fail("keygen");
  }
  auto pair = FromScalar(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  if (!pair) Fail("keygen");
  return std::move(*pair);
}

std::optional<EcKey> EcKey::FromScalar(std::string_view scalar) {
  if (scalar.size() != kScalarBytes) return std::nullopt;
  Group group(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
  BnCtx bn_ctx(BN_CTX_new());
  Bignum d(BN_bin2bn(Bytes(scalar), static_cast<int>(scalar.size()), nullptr));
  if (!group || !bn_ctx || !d) Fail("scalar");
  if (BN_is_zero(d.get()) || BN_cmp(d.get(), EC_GROUP_get0_order(group.get())) >= 0) return std::nullopt;
  // The public point d*G: OpenSSL 3.0's EC import does not compute it from the scalar.
  Point q(EC_POINT_new(group.get()));
  std::string point(kPointBytes, '\0');
  if (!q || EC_POINT_mul(group.get(), q.get(), d.get(), nullptr, nullptr, bn_ctx.get()) != 1 ||
      EC_POINT_point2oct(group.get(), q.get(), POINT_CONVERSION_UNCOMPRESSED, Bytes(point), point.size(),
                         bn_ctx.get()) != kPointBytes) {
    Fail("public point");
  }
  Pkey key = FromData(point, d.get());
  if (!key) return std::nullopt;
  return EcKey(std::move(key), std::move(point));
}

std::optional<EcKey> EcKey::FromPem(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) Fail("bio");
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key || !IsP256(key.get())) return std::nullopt;
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) return std::nullopt;
  Bignum scalar(raw);
  std::string bytes(kScalarBytes, '\0');
  if (BN_bn2binpad(scalar.get(), Bytes(bytes), static_cast<int>(bytes.size())) != static_cast<int>(kScalarBytes)) {
    return std::nullopt;
  }
  auto pair = FromScalar(bytes);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return pair;
}

std::optional<EcKey> EcKey::FromPublicPoint(std::string_view point) {
  if (point.size() != kPointBytes || static_cast<unsigned char>(point[0]) != 0x04) return std::nullopt;
  Pkey key = FromData(point, nullptr);
  if (!key) return std::nullopt;
  PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) return std::nullopt;
  return EcKey(std::move(key), std::string(point));
}

std::string EcKey::PrivateScalar() const {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_PRIV_KEY, &raw) != 1) Fail("not a private key");
  Bignum scalar(raw);
  std::string bytes(kScalarBytes, '\0');
  BN_bn2binpad(scalar.get(), Bytes(bytes), static_cast<int>(bytes.size()));
  return bytes;
}

bool IsP256Point(std::string_view point) { return EcKey::FromPublicPoint(point).has_value(); }

std::optional<std::string> EncryptAes128Gcm(std::string_view plaintext, std::string_view p256dh,
                                            std::string_view auth, const EncryptionSeam& seam) {
  if (plaintext.size() > kMaxPlaintext || auth.size() != kAuthBytes) Fail("encrypt preconditions");
  auto user_agent = EcKey::FromPublicPoint(p256dh);
  if (!user_agent) return std::nullopt;
  std::optional<EcKey> fresh;
  if (seam.ephemeral == nullptr) fresh.emplace(EcKey::Generate());
  const EcKey& ephemeral = seam.ephemeral != nullptr ? *seam.ephemeral : *fresh;
  std::string salt = seam.salt;
  if (salt.empty()) {
    salt.resize(kSaltBytes);
    if (RAND_bytes(Bytes(salt), static_cast<int>(salt.size())) != 1) Fail("salt");
  }
  if (salt.size() != kSaltBytes) Fail("salt size");

  const ContentKeys keys =
      DeriveKeys(Ecdh(ephemeral, *user_agent), auth, user_agent->PublicPoint(), ephemeral.PublicPoint(), salt);

  std::string body = salt;
  const std::uint32_t rs = kRecordSize;
  body.push_back(static_cast<char>(rs >> 24));
  body.push_back(static_cast<char>((rs >> 16) & 0xff));
  body.push_back(static_cast<char>((rs >> 8) & 0xff));
  body.push_back(static_cast<char>(rs & 0xff));
  body.push_back(static_cast<char>(kPointBytes));
  body.append(ephemeral.PublicPoint());

  std::string record(plaintext);
  record.push_back('\x02');  // the last (and only) record's padding delimiter, no padding after it
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string sealed(record.size() + 16, '\0');
  int len = 0;
  int tail = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, Bytes(keys.cek), Bytes(keys.nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), Bytes(sealed), &len, Bytes(record), static_cast<int>(record.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), Bytes(sealed) + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, Bytes(sealed) + len + tail) != 1) {
    Fail("aes-128-gcm");
  }
  sealed.resize(static_cast<std::size_t>(len + tail) + 16);
  body.append(sealed);
  return body;
}

std::optional<std::string> DecryptAes128Gcm(std::string_view body, const EcKey& user_agent, std::string_view auth) {
  if (body.size() < kSaltBytes + 5 || auth.size() != kAuthBytes) return std::nullopt;
  const std::string_view salt = body.substr(0, kSaltBytes);
  const auto* b = Bytes(body);
  const std::uint32_t rs = (std::uint32_t{b[16]} << 24) | (std::uint32_t{b[17]} << 16) | (std::uint32_t{b[18]} << 8) |
                           std::uint32_t{b[19]};
  const std::size_t idlen = b[20];
  if (idlen != kPointBytes || body.size() < kSaltBytes + 5 + idlen + 17) return std::nullopt;
  auto server = EcKey::FromPublicPoint(body.substr(kSaltBytes + 5, idlen));
  const std::string_view record = body.substr(kSaltBytes + 5 + idlen);
  if (!server || record.size() > rs) return std::nullopt;
  const ContentKeys keys =
      DeriveKeys(Ecdh(user_agent, *server), auth, user_agent.PublicPoint(), server->PublicPoint(), salt);
  const std::string_view ciphertext = record.substr(0, record.size() - 16);
  std::string tag(record.substr(record.size() - 16));
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string plain(ciphertext.size() + 16, '\0');
  int len = 0;
  int tail = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, Bytes(keys.cek), Bytes(keys.nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(plain), &len, Bytes(ciphertext), static_cast<int>(ciphertext.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), Bytes(plain) + len, &tail) != 1) {
    return std::nullopt;
  }
  plain.resize(static_cast<std::size_t>(len + tail));
  while (!plain.empty() && plain.back() == '\0') plain.pop_back();
  if (plain.empty() || plain.back() != '\x02') return std::nullopt;
  plain.pop_back();
  return plain;
}

std::optional<std::string> UrlOrigin(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  std::string scheme(url.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  if (scheme != "https" && scheme != "http") return std::nullopt;
  const std::string_view rest = url.substr(sep + 3);
  std::string authority(rest.substr(0, rest.find_first_of("/?#")));
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;
  std::transform(authority.begin(), authority.end(), authority.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  // The port is after the last ':' that follows any IPv6 literal's ']'.
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  std::string host = authority;
  std::string port;
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char c) {
          return std::isdigit(c) != 0;
        })) {
      return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  if ((scheme == "https" && port == "443") || (scheme == "http" && port == "80")) port.clear();
  return scheme + "://" + host + (port.empty() ? "" : ":" + port);
}

std::string VapidJwt(const EcKey& vapid, std::string_view audience, std::int64_t expires_at,
                     std::string_view subject) {
  const std::string signing_input =
      Base64UrlJson({{"typ", "JWT"}, {"alg", "ES256"}}) + "." +
      Base64UrlJson({{"aud", std::string(audience)}, {"exp", expires_at}, {"sub", std::string(subject)}});
  MdCtx md(EVP_MD_CTX_new());
  std::size_t der_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, vapid.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len, Bytes(signing_input), signing_input.size()) != 1) {
    Fail("sign");
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), Bytes(der), &der_len, Bytes(signing_input), signing_input.size()) != 1) Fail("sign");
  // JOSE (RFC 7518 section 3.4) wants r || s, each 32 bytes big-endian, not the DER sequence.
  const unsigned char* p = Bytes(der);
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) Fail("signature decode");
  std::string jose(64, '\0');
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), Bytes(jose), 32) != 32 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), Bytes(jose) + 32, 32) != 32) {
    Fail("signature encode");
  }
  return signing_input + "." + Base64UrlEncode(jose);
}

std::string VapidAuthorization(const EcKey& vapid, std::string_view audience, std::int64_t expires_at,
                               std::string_view subject) {
  return "vapid t=" + VapidJwt(vapid, audience, expires_at, subject) + ", k=" + Base64UrlEncode(vapid.PublicPoint());
}

}  // namespace ikigai::push
