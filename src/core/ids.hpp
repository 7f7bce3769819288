// Opaque identifiers: UUIDv7 text (time-ordered, so keyset pagination by id is stable).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/random.hpp"

namespace ikigai::core {

// RFC 9562 UUID version 7: 48-bit Unix milliseconds, then random bits. Lowercase hex with dashes.
[[nodiscard]] std::string NewId(const Clock& clock, Random& random);

// True for the canonical 36-character lowercase or uppercase UUID text form.
[[nodiscard]] bool IsUuidText(std::string_view s);

// True only for text NewId could have made: the canonical form in lowercase, version 7, variant
// 10xx. Anything else names no row of ours, so a path id failing it is 404 without a query (and
// never reaches a MariaDB comparison with an ASCII column, where non-ASCII bytes are an error).
[[nodiscard]] bool IsIdText(std::string_view s);

}  // namespace ikigai::core
