// RFC 6238 time-based one-time passwords (SHA-1, 30-second steps) through liboath, the secrets
// and otpauth:// URLs of authenticator apps, and recovery codes. No database, no HTTP: pure
// functions, so the RFC's vectors test them directly.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/random.hpp"

namespace ikigai::mfa {

inline constexpr long long kStepSeconds = 30;
inline constexpr int kDigits = 6;
inline constexpr int kWindow = 1;  // steps before and after the current one that are accepted
inline constexpr std::string_view kIssuer = "Ikigai";
inline constexpr int kRecoveryCodes = 10;

// The 30-second step of a Unix time in seconds (RFC 6238's T).
[[nodiscard]] constexpr long long StepOf(long long unix_seconds) { return unix_seconds / kStepSeconds; }

// HOTP(key, step) truncated to `digits` (6..8) decimal digits, zero-padded.
[[nodiscard]] std::string CodeForKey(std::span<const std::uint8_t> key, long long step, int digits = kDigits);
// The same for a base32 secret; nullopt when it is not valid base32.
[[nodiscard]] std::optional<std::string> CodeFor(std::string_view base32_secret, long long step,
                                                 int digits = kDigits);

// A new 160-bit secret as 32 characters of RFC 4648 base32 (no padding).
[[nodiscard]] std::string NewSecret(core::Random& random);

// "123456" or "123 456": the six digits; nullopt for anything else.
[[nodiscard]] std::optional<std::string> NormaliseTotpCode(std::string_view input);

// The highest step in [StepOf(now) - kWindow, StepOf(now) + kWindow] whose code is `code`
// (compared in constant time); nullopt when none is.
[[nodiscard]] std::optional<long long> MatchStep(std::string_view base32_secret, std::string_view code,
                                                 long long unix_seconds);

// otpauth://totp/Ikigai:<username>?secret=...&issuer=Ikigai&algorithm=SHA1&digits=6&period=30,
// the label's username percent-encoded (RFC 3986 unreserved characters stay).
[[nodiscard]] std::string OtpauthUrl(std::string_view username, std::string_view base32_secret);
[[nodiscard]] std::string PercentEncode(std::string_view text);

// A new recovery code: 80 random bits as 16 base32 characters in groups of four
// ("ABCD-EFGH-JKLM-NPQR").
[[nodiscard]] std::string NewRecoveryCode(core::Random& random);
// What a recovery code is stored and compared as: case, spaces and dashes ignored, so
// "abcd efgh-jklm npqr" is "ABCDEFGHJKLMNPQR"; nullopt when the rest is not 16 base32 characters.
// (Stored only as auth::HashToken of this form.)
[[nodiscard]] std::optional<std::string> NormaliseRecoveryCode(std::string_view input);

}  // namespace ikigai::mfa
