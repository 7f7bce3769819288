// Building test strings of exact lengths (in code points when the unit is one character).
#pragma once

#include <string>
#include <string_view>

namespace ikigai::support {

// `unit` repeated n times, e.g. Repeat("é", 8) is 8 code points in 16 bytes.
inline std::string Repeat(std::string_view unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

}  // namespace ikigai::support
