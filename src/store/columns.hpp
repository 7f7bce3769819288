// The columns that hold text no field rule has checked (request metadata, rate-limit subjects,
// remote error messages): their sizes, as migrations/mysql declares them, and the one way such
// text is made to fit before it reaches SQL. MariaDB in strict mode refuses (500) a string that is
// not valid UTF-8 or is longer than its column; SQLite would store it. Cutting to n bytes keeps
// at most n characters, so the result fits a VARCHAR(n) of either back end.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/text.hpp"

namespace ikigai::store {

inline constexpr std::size_t kIpColumn = 45;          // sessions.ip, activity.ip
inline constexpr std::size_t kUserAgentColumn = 512;  // sessions.user_agent, activity.user_agent
inline constexpr std::size_t kRequestIdColumn = 128;  // activity.request_id
inline constexpr std::size_t kRateSubjectColumn = 300;  // login_attempts.subject
inline constexpr std::size_t kMailErrorColumn = 500;    // mail_outbox.last_error

// Valid UTF-8 (invalid sequences become U+FFFD), at most `column` bytes, cut between characters.
[[nodiscard]] inline std::string FitColumn(std::string_view text, std::size_t column) {
  return core::ValidUtf8Prefix(text, column);
}

}  // namespace ikigai::store
