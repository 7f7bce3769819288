// TOTP over liboath's HOTP (a TOTP code is HOTP of the step number), base32 from liboath,
// randomness and hashing from libsodium.
#include "mfa/totp.hpp"

#include <liboath/oath.h>
#include <sodium.h>

#include <array>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <vector>

namespace ikigai::mfa {
namespace {

constexpr std::string_view kBase32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void InitOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (oath_init() != OATH_OK) throw std::runtime_error("liboath could not be initialised");
  });
}

// Base32 of raw bytes without padding (liboath pads to a multiple of 8 characters).
std::string Base32(std::span<const std::uint8_t> bytes) {
  InitOnce();
  char* out = nullptr;
  std::size_t len = 0;
  if (oath_base32_encode(reinterpret_cast<const char*>(bytes.data()), bytes.size(), &out, &len) != OATH_OK) {
    throw std::runtime_error("base32 encoding failed");
  }
  std::string text(out, len);
  std::free(out);
  while (!text.empty() && text.back() == '=') text.pop_back();
  return text;
}

std::optional<std::vector<std::uint8_t>> FromBase32(std::string_view text) {
  InitOnce();
  char* out = nullptr;
  std::size_t len = 0;
  if (oath_base32_decode(text.data(), text.size(), &out, &len) != OATH_OK) return std::nullopt;
  std::vector<std::uint8_t> bytes(reinterpret_cast<std::uint8_t*>(out), reinterpret_cast<std::uint8_t*>(out) + len);
  sodium_memzero(out, len);
  std::free(out);
  return bytes;
}

}  // namespace

std::string CodeForKey(std::span<const std::uint8_t> key, long long step, int digits) {
  InitOnce();
  std::array<char, 16> out{};
  if (oath_hotp_generate(reinterpret_cast<const char*>(key.data()), key.size(), static_cast<std::uint64_t>(step),
                         static_cast<unsigned>(digits), false, OATH_HOTP_DYNAMIC_TRUNCATION, out.data()) != OATH_OK) {
    throw std::runtime_error("TOTP code generation failed");
  }
  return std::string(out.data());
}

std::optional<std::string> CodeFor(std::string_view base32_secret, long long step, int digits) {
  auto key = FromBase32(base32_secret);
  if (!key || key->empty()) return std::nullopt;
  std::string code = CodeForKey(*key, step, digits);
  sodium_memzero(key->data(), key->size());
  return code;
}

std::string NewSecret(core::Random& random) {
  std::array<std::uint8_t, 20> raw{};
  random.Fill(raw);
  std::string secret = Base32(raw);
  sodium_memzero(raw.data(), raw.size());
  return secret;
}

std::optional<std::string> NormaliseTotpCode(std::string_view input) {
  std::string digits;
  for (char ch : input) {
    if (ch == ' ') continue;
    if (ch < '0' || ch > '9' || digits.size() == static_cast<std::size_t>(kDigits)) return std::nullopt;
    digits += ch;
  }
  if (digits.size() != static_cast<std::size_t>(kDigits)) return std::nullopt;
  return digits;
}

std::optional<long long> MatchStep(std::string_view base32_secret, std::string_view code, long long unix_seconds) {
  if (code.size() != static_cast<std::size_t>(kDigits)) return std::nullopt;
  auto key = FromBase32(base32_secret);
  if (!key || key->empty()) return std::nullopt;
  const long long now = StepOf(unix_seconds);
  std::optional<long long> matched;
  // Every step of the window is computed and compared, whichever matches, so the time taken
  // does not tell which one did.
  for (long long step = now - kWindow; step <= now + kWindow; ++step) {
    const std::string expected = CodeForKey(*key, step);
    if (sodium_memcmp(expected.data(), code.data(), expected.size()) == 0) matched = step;
  }
  sodium_memzero(key->data(), key->size());
  return matched;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') ||
                            ch == '-' || ch == '.' || ch == '_' || ch == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0f];
    }
  }
  return out;
}

std::string OtpauthUrl(std::string_view username, std::string_view base32_secret) {
  const std::string issuer = PercentEncode(kIssuer);
  return "otpauth://totp/" + issuer + ":" + PercentEncode(username) + "?secret=" + std::string(base32_secret) +
         "&issuer=" + issuer + "&algorithm=SHA1&digits=" + std::to_string(kDigits) +
         "&period=" + std::to_string(kStepSeconds);
}

std::string NewRecoveryCode(core::Random& random) {
  std::array<std::uint8_t, 10> raw{};
  random.Fill(raw);
  const std::string plain = Base32(raw);  // 80 bits: exactly 16 characters
  sodium_memzero(raw.data(), raw.size());
  std::string grouped;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    if (i > 0 && i % 4 == 0) grouped += '-';
    grouped += plain[i];
  }
  return grouped;
}

std::optional<std::string> NormaliseRecoveryCode(std::string_view input) {
  std::string out;
  for (char ch : input) {
    if (ch == ' ' || ch == '-') continue;
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
    if (kBase32Alphabet.find(ch) == std::string_view::npos || out.size() == 16) return std::nullopt;
    out += ch;
  }
  if (out.size() != 16) return std::nullopt;
  return out;
}

}  // namespace ikigai::mfa
