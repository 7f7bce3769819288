// Field rules of API.md's Users section, shared by registration, profile and administration.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace ikigai::auth {

// No username (32) or email address (254) is longer than this many bytes: a login identifier
// that is can name no account.
inline constexpr std::size_t kMaxIdentifierBytes = 254;

// nullopt when valid, else the code and message for errors.<field>.
[[nodiscard]] std::optional<core::FieldError> CheckUsername(std::string_view username);
[[nodiscard]] std::optional<core::FieldError> CheckEmail(std::string_view email);
[[nodiscard]] std::optional<core::FieldError> CheckDisplayName(std::string_view display_name);

}  // namespace ikigai::auth
