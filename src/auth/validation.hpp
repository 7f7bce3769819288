// Field rules of API.md's Users section, shared by registration, profile and administration.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ikigai::auth {

// No username (32) or email address (254) is longer than this many bytes: a login identifier
// that is can name no account.
inline constexpr std::size_t kMaxIdentifierBytes = 254;

// Empty string when valid, else the message for errors.<field>.
[[nodiscard]] std::string CheckUsername(std::string_view username);
[[nodiscard]] std::string CheckEmail(std::string_view email);
[[nodiscard]] std::string CheckDisplayName(std::string_view display_name);

}  // namespace ikigai::auth
