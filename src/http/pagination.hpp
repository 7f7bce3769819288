// Query-parameter checks shared by every list: a bad value is 400 bad_request naming the
// parameter, never silently clamped (API.md's conventions).
#pragma once

#include <optional>
#include <string>

#include "core/error.hpp"
#include "http/request.hpp"

namespace ikigai::http {

inline constexpr int kDefaultLimit = 20;
inline constexpr int kMaxLimit = 100;

// 400 with detail "Query parameter '<name>' <why>.", errors.<name> = why and error_codes.<name>.
[[nodiscard]] core::Error BadQuery(const std::string& name, core::FieldCode code, const std::string& why);
// The first value of a query parameter, or nullopt.
[[nodiscard]] std::optional<std::string> QueryParam(const Request& r, const char* name);
// A free-text parameter (a search text, a tag): nullopt when absent; 400 naming it with
// `too_long` when it is over max_bytes, and "must be valid UTF-8" when it is not (percent-decoding
// can make any bytes, and no stored text can equal or contain them).
[[nodiscard]] core::Result<std::optional<std::string>> TextParam(const Request& r, const char* name,
                                                                 std::size_t max_bytes,
                                                                 const std::string& too_long);
// ?limit=: 1..100, default 20.
[[nodiscard]] core::Result<int> ParseLimit(const Request& r);
// ?name=true|false, or nullopt when absent.
[[nodiscard]] core::Result<std::optional<bool>> ParseBoolParam(const Request& r, const char* name);

}  // namespace ikigai::http
