// UTF-8 decoding for length rules.
#include "core/text.hpp"

#include <cstddef>

namespace ikigai::core {

// Decodes one UTF-8 sequence at s[i]; returns the code point or -1, advancing i.
long NextCodePoint(std::string_view s, std::size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  int len = 0;
  long cp = 0;
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  if ((b0 & 0xe0) == 0xc0) { len = 2; cp = b0 & 0x1f; }
  else if ((b0 & 0xf0) == 0xe0) { len = 3; cp = b0 & 0x0f; }
  else if ((b0 & 0xf8) == 0xf0) { len = 4; cp = b0 & 0x07; }
  else return -1;
  if (i + static_cast<std::size_t>(len) > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
    if ((b & 0xc0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) {
    return -1;
  }
  i += static_cast<std::size_t>(len);
  return cp;
}

long CountCodePoints(std::string_view s) {
  long n = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (NextCodePoint(s, i) < 0) return -1;
    ++n;
  }
  return n;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace ikigai::core
