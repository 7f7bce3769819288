// Web Push crypto against the published vectors and independent checks: the RFC 8291 appendix A
// example byte for byte, VAPID JWTs that verify with the public key (checked here with OpenSSL's
// verifier on the DER form, not with our signer), and p256dh points refused unless on P-256.
#include "push/crypto.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <string>

#include "push/base64url.hpp"

namespace ikigai::push {
namespace {

std::string B64(std::string_view text) {
  auto bytes = Base64UrlDecode(text);
  EXPECT_TRUE(bytes.has_value()) << text;
  return bytes.value_or("");
}

// RFC 8291 appendix A.
constexpr const char* kPlaintext = "When I grow up, I want to be a watermelon";
constexpr const char* kAsPrivate = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw";
constexpr const char* kAsPublic =
    "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
constexpr const char* kUaPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
constexpr const char* kUaPublic =
    "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
constexpr const char* kSalt = "DGv6ra1nlYgDCS1FRnbzlw";
constexpr const char* kAuth = "BTBZMqHH6r4Tts7J_aSIgg";
constexpr const char* kMessage =
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_"
    "yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

TEST(PushCrypto, Rfc8291AppendixAGivesExactlyItsMessage) {
  auto ephemeral = EcKey::FromScalar(B64(kAsPrivate));
  ASSERT_TRUE(ephemeral.has_value());
  EXPECT_EQ(Base64UrlEncode(ephemeral->PublicPoint()), kAsPublic);
  const EncryptionSeam seam{.ephemeral = &*ephemeral, .salt = B64(kSalt)};
  auto body = EncryptAes128Gcm(kPlaintext, B64(kUaPublic), B64(kAuth), seam);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(Base64UrlEncode(*body), kMessage);
}

TEST(PushCrypto, Rfc8291AppendixADecryptsWithTheUserAgentKey) {
  auto user_agent = EcKey::FromScalar(B64(kUaPrivate));
  ASSERT_TRUE(user_agent.has_value());
  EXPECT_EQ(Base64UrlEncode(user_agent->PublicPoint()), kUaPublic);
  EXPECT_EQ(DecryptAes128Gcm(B64(kMessage), *user_agent, B64(kAuth)), kPlaintext);
  std::string tampered = B64(kMessage);
  tampered.back() = static_cast<char>(tampered.back() ^ 1);
  EXPECT_FALSE(DecryptAes128Gcm(tampered, *user_agent, B64(kAuth)).has_value());
}

TEST(PushCrypto, FreshKeyAndSaltPerMessageAndTheLargestPlaintextFits) {
  const EcKey user_agent = EcKey::Generate();
  const std::string auth(16, '\x07');
  const std::string plaintext(kMaxPlaintext, 'x');
  auto first = EncryptAes128Gcm(plaintext, user_agent.PublicPoint(), auth);
  auto second = EncryptAes128Gcm(plaintext, user_agent.PublicPoint(), auth);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->size(), 4096u);
  EXPECT_NE(first->substr(0, kSaltBytes), second->substr(0, kSaltBytes));
  EXPECT_NE(first->substr(21, kPointBytes), second->substr(21, kPointBytes));
  EXPECT_EQ(first->substr(16, 5), std::string("\x00\x00\x10\x00\x41", 5));  // rs 4096, idlen 65
  EXPECT_EQ(DecryptAes128Gcm(*first, user_agent, auth), plaintext);
}

TEST(PushCrypto, OffCurveAndMalformedPointsAreRefused) {
  const std::string good = B64(kUaPublic);
  EXPECT_TRUE(IsP256Point(good));
  std::string off_curve = good;
  off_curve.back() = static_cast<char>(off_curve.back() ^ 1);  // y changed: no longer on the curve
  EXPECT_FALSE(IsP256Point(off_curve));
  EXPECT_FALSE(IsP256Point(std::string(65, '\0')));
  std::string zeros(65, '\0');
  zeros[0] = '\x04';
  EXPECT_FALSE(IsP256Point(zeros));
  EXPECT_FALSE(IsP256Point(std::string(65, '\xff')));
  EXPECT_FALSE(IsP256Point(good.substr(0, 33)));  // compressed-length input
  std::string compressed_prefix = good;
  compressed_prefix[0] = '\x02';
  EXPECT_FALSE(IsP256Point(compressed_prefix));
  EXPECT_FALSE(EncryptAes128Gcm("x", off_curve, B64(kAuth)).has_value());
}

TEST(PushCrypto, PrivateKeysLoadFromScalarAndPemOnlyOnP256) {
  EXPECT_FALSE(EcKey::FromScalar(std::string(32, '\0')).has_value());
  EXPECT_FALSE(EcKey::FromScalar(std::string(32, '\xff')).has_value());  // >= the group order
  EXPECT_FALSE(EcKey::FromScalar(std::string(31, '\x01')).has_value());
  // The RFC 8291 application server key as SEC1 PEM (openssl ec -outform PEM of the scalar).
  const char* pem =
      "-----BEGIN EC PRIVATE KEY-----\n"
      "MHcCAQEEIMn1j4mBPp+Ohy5x9CqmThdXySVNzGK3LdwBC7QEPqEcoAoGCCqGSM49\n"
      "AwEHoUQDQgAE/jP0qw3qcZFNtVgj9ztUlI9BMG2SBzLbuaWaUyhkgiAOWXp7e8Jg\n"
      "uhwieZhYCZLpOXMALzASooro8Gu7eOXsDw==\n"
      "-----END EC PRIVATE KEY-----\n";
  auto key = EcKey::FromPem(pem);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(Base64UrlEncode(key->PublicPoint()), kAsPublic);
  EXPECT_EQ(Base64UrlEncode(key->PrivateScalar()), kAsPrivate);
  EXPECT_FALSE(EcKey::FromPem("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n").has_value());
  EXPECT_FALSE(EcKey::FromPem("not a key").has_value());
}

TEST(PushCrypto, UrlOriginIsSchemeHostAndNonDefaultPort) {
  EXPECT_EQ(UrlOrigin("https://fcm.googleapis.com/fcm/send/abc"), "https://fcm.googleapis.com");
  EXPECT_EQ(UrlOrigin("HTTPS://Push.Example.COM:443/x?y#z"), "https://push.example.com");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:8123/p/1"), "http://127.0.0.1:8123");
  EXPECT_EQ(UrlOrigin("https://[::1]:9000/p"), "https://[::1]:9000");
  EXPECT_FALSE(UrlOrigin("ftp://example.com/x").has_value());
  EXPECT_FALSE(UrlOrigin("https:///x").has_value());
  EXPECT_FALSE(UrlOrigin("https://user@example.com/x").has_value());
  EXPECT_FALSE(UrlOrigin("https://example.com:80a/x").has_value());
}

// Verifies a JOSE ES256 signature with OpenSSL's verifier after turning r || s back into DER.
bool VerifyEs256(const std::string& jwt, const std::string& public_point) {
  const auto dot = jwt.rfind('.');
  const std::string input = jwt.substr(0, dot);
  const std::string jose = B64(jwt.substr(dot + 1));
  if (jose.size() != 64) return false;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(reinterpret_cast<const unsigned char*>(jose.data()), 32, nullptr),
                 BN_bin2bn(reinterpret_cast<const unsigned char*>(jose.data()) + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  auto key = EcKey::FromPublicPoint(public_point);
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  const bool ok = key && EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key->get()) == 1 &&
                  EVP_DigestVerify(md, der, static_cast<std::size_t>(der_len),
                                   reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(md);
  OPENSSL_free(der);
  return ok;
}

TEST(PushCrypto, VapidJwtVerifiesWithThePublicKey) {
  const EcKey vapid = EcKey::Generate();
  const std::string jwt = VapidJwt(vapid, "https://push.example.net", 1'800'000'000, "mailto:ops@example.org");
  ASSERT_EQ(std::count(jwt.begin(), jwt.end(), '.'), 2);
  const auto first_dot = jwt.find('.');
  const auto header = nlohmann::json::parse(B64(jwt.substr(0, first_dot)));
  EXPECT_EQ(header, (nlohmann::json{{"typ", "JWT"}, {"alg", "ES256"}}));
  const auto claims = nlohmann::json::parse(B64(jwt.substr(first_dot + 1, jwt.rfind('.') - first_dot - 1)));
  EXPECT_EQ(claims, (nlohmann::json{{"aud", "https://push.example.net"}, {"exp", 1'800'000'000},
                                    {"sub", "mailto:ops@example.org"}}));
  EXPECT_TRUE(VerifyEs256(jwt, vapid.PublicPoint()));
  EXPECT_FALSE(VerifyEs256(jwt, EcKey::Generate().PublicPoint()));
  std::string forged = jwt;
  forged[first_dot + 2] = forged[first_dot + 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(VerifyEs256(forged, vapid.PublicPoint()));

  const std::string header_value = VapidAuthorization(vapid, "https://push.example.net", 1'800'000'000, "mailto:x@y");
  EXPECT_EQ(header_value.rfind("vapid t=", 0), 0u);
  EXPECT_NE(header_value.find(", k=" + Base64UrlEncode(vapid.PublicPoint())), std::string::npos);
}

TEST(PushCrypto, Base64UrlRoundTripsAndRefusesOtherAlphabets) {
  EXPECT_EQ(Base64UrlEncode(std::string("\xfb\xff", 2)), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xfb\xff", 2));
  EXPECT_EQ(Base64UrlDecode("-_8="), std::string("\xfb\xff", 2));
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());
  EXPECT_FALSE(Base64UrlDecode("a b").has_value());
  EXPECT_FALSE(Base64UrlDecode("A").has_value());
}

}  // namespace
}  // namespace ikigai::push
