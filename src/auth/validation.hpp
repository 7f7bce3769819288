// Field rules of API.md's Users section, shared by registration, profile and administration.
#pragma once

#include <string>
#include <string_view>

namespace ikigai::auth {

// Empty string when valid, else the message for errors.<field>.
[[nodiscard]] std::string CheckUsername(std::string_view username);
[[nodiscard]] std::string CheckEmail(std::string_view email);
[[nodiscard]] std::string CheckDisplayName(std::string_view display_name);

}  // namespace ikigai::auth
