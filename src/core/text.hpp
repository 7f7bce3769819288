// Text measures shared by every field rule: lengths are Unicode code points, never bytes.
#pragma once

#include <string>
#include <string_view>

namespace ikigai::core {

// Code points of valid UTF-8, or -1 for invalid UTF-8 (overlong forms, surrogates included).
[[nodiscard]] long CountCodePoints(std::string_view s);

// Decodes one code point at s[i] and advances i; -1 (and i unchanged) for invalid UTF-8.
[[nodiscard]] long NextCodePoint(std::string_view s, std::size_t& i);

// ASCII-only lowercase: how usernames and emails are compared (the *_lower unique columns).
[[nodiscard]] std::string LowerAscii(std::string_view s);

}  // namespace ikigai::core
