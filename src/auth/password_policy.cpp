// Checks a new password against the rules of API.md and a common-password list from Debian.
#include "auth/password_policy.hpp"

#include <cstdint>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>

namespace ikigai::auth {
namespace {

// Users see "Password" and "password" as the same word, and so do guessing attacks; ASCII is
// enough because the list and the usernames are ASCII.
std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool InRange(std::uint8_t byte, std::uint8_t low, std::uint8_t high) {
  return byte >= low && byte <= high;
}

// The number of code points in well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates,
// nothing above U+10FFFF), or nullopt: only well-formed text has a length in code points, and the
// password must come back out of a JSON body unchanged.
std::optional<std::size_t> CountCodePoints(std::string_view s) {
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<std::uint8_t>(s[i]);
    std::size_t length = 0;
    std::uint8_t second_low = 0x80;
    std::uint8_t second_high = 0xBF;
    if (lead <= 0x7F) {
      length = 1;
    } else if (InRange(lead, 0xC2, 0xDF)) {
      length = 2;
    } else if (lead == 0xE0) {
      length = 3;
      second_low = 0xA0;  // below: overlong forms
    } else if (lead == 0xED) {
      length = 3;
      second_high = 0x9F;  // above: UTF-16 surrogates
    } else if (InRange(lead, 0xE1, 0xEF)) {
      length = 3;
    } else if (lead == 0xF0) {
      length = 4;
      second_low = 0x90;  // below: overlong forms
    } else if (lead == 0xF4) {
      length = 4;
      second_high = 0x8F;  // above: beyond U+10FFFF
    } else if (InRange(lead, 0xF1, 0xF3)) {
      length = 4;
    } else {
      return std::nullopt;  // a continuation byte, C0, C1 or F5..FF
    }
    if (s.size() - i < length) return std::nullopt;
    for (std::size_t k = 1; k < length; ++k) {
      const auto byte = static_cast<std::uint8_t>(s[i + k]);
      const bool ok = k == 1 ? InRange(byte, second_low, second_high) : InRange(byte, 0x80, 0xBF);
      if (!ok) return std::nullopt;
    }
    i += length;
    ++count;
  }
  return count;
}

}  // namespace

PasswordPolicy::PasswordPolicy(const std::filesystem::path& common_passwords_file) {
  std::ifstream in(common_passwords_file);
  if (!in) {
    throw std::runtime_error("cannot read the common-password list " +
                             common_passwords_file.string() +
                             " (on Debian it comes with the package john-data)");
  }
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#!comment")) continue;
    common_.insert(AsciiLower(line));
  }
  if (in.bad()) {
    throw std::runtime_error("error reading the common-password list " +
                             common_passwords_file.string());
  }
  if (common_.empty()) {
    throw std::runtime_error("the common-password list " + common_passwords_file.string() +
                             " holds no password");
  }
}

core::Result<void> PasswordPolicy::Check(std::string_view password, std::string_view username,
                                         std::string_view email) const {
  const auto code_points = CountCodePoints(password);
  if (!code_points) return core::FailField("password", "must be valid UTF-8");
  if (*code_points < kMinCodePoints) {
    return core::FailField("password", "must be at least 8 characters");
  }
  if (*code_points > kMaxCodePoints) {
    return core::FailField("password", "must be at most 256 characters");
  }
  const std::string lowered = AsciiLower(password);
  if (lowered == AsciiLower(username) || lowered == AsciiLower(email)) {
    return core::FailField("password", "must not be the same as the username or email");
  }
  if (common_.contains(lowered)) return core::FailField("password", "is too common");
  return {};
}

}  // namespace ikigai::auth
