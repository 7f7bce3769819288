// Building test strings: exact lengths (in code points when the unit is one character), and ASCII
// case changes (the server compares usernames and emails ASCII-case-insensitively).
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace ikigai::support {

// `unit` repeated n times, e.g. Repeat("é", 8) is 8 code points in 16 bytes.
inline std::string Repeat(std::string_view unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

inline std::string UpperAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

inline std::string LowerAscii(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace ikigai::support
