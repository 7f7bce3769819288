// RFC 3339 timestamps as API.md wants them: emitted to the second in UTC with a Z; inputs must
// carry a zone offset and are normalised to UTC.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace ikigai::core {

// "2026-11-24T11:00:00Z" (fractions of a second are dropped).
[[nodiscard]] std::string FormatRfc3339(TimePoint t);
// The same text appended to `out`: encoders of long lists write timestamps without a string each.
void AppendRfc3339(std::string& out, TimePoint t);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (T or t, Z or z). Returns nullopt for
// anything else, including a missing offset, an impossible date, and an instant whose UTC form
// falls outside the years 0001..9999 ("9999-12-31T23:59:59-00:01").
[[nodiscard]] std::optional<TimePoint> ParseRfc3339(std::string_view s);

// "Wed, 25 Nov 2026 13:34:57 GMT" for the HTTP Date header.
[[nodiscard]] std::string FormatHttpDate(TimePoint t);

}  // namespace ikigai::core
