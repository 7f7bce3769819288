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

}  // namespace ikigai::core
