// Text measures shared by every field rule: lengths are Unicode code points, never bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ikigai::core {

// Code points of valid UTF-8, or -1 for invalid UTF-8 (overlong forms, surrogates included).
[[nodiscard]] long CountCodePoints(std::string_view s);

// Decodes one code point at s[i] and advances i; -1 (and i unchanged) for invalid UTF-8.
[[nodiscard]] long NextCodePoint(std::string_view s, std::size_t& i);

// Valid UTF-8 (each invalid sequence replaced by U+FFFD), cut at a code-point boundary so
// that the result is at most max_bytes bytes.
// What "invalid sequence" means: Unicode's "maximal subpart" rule (the W3C/WHATWG decoder's), so
// one U+FFFD stands for a truncated sequence and one for each stray byte; overlong forms,
// surrogates (ED A0..BF) and values past U+10FFFF are invalid. Every valid code point is kept as
// it is, U+0000 and other control characters included: this repairs the encoding so a database
// in strict utf8mb4 mode accepts the text, it does not judge content (field rules refuse
// controls where they matter, and every JSON answer escapes them). The cut never splits a code
// point or a U+FFFD, so the result may be up to 3 bytes shorter than max_bytes.
[[nodiscard]] std::string ValidUtf8Prefix(std::string_view in, std::size_t max_bytes);

// True when every code point is white space (Unicode White_Space: ASCII spaces and controls
// \t \n \v \f \r, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000) or an invisible format character (U+180E, U+200B..U+200D, U+2060, U+FEFF). The empty
// string is blank. Invalid UTF-8 is not blank.
[[nodiscard]] bool IsBlank(std::string_view s);

// ASCII-only lowercase: how usernames and emails are compared (the *_lower unique columns).
[[nodiscard]] std::string LowerAscii(std::string_view s);

// True when the text holds an ASCII control character (U+0000..U+001F, U+007F); tab, CR and LF
// count only when !allow_newlines. Titles refuse them: a newline would cut an email subject.
[[nodiscard]] bool HasControl(std::string_view s, bool allow_newlines);

// The address of a mailbox: "Name <a@b>" gives "a@b"; text without angle brackets is returned
// as it is.
[[nodiscard]] std::string MailboxAddress(const std::string& mailbox);

}  // namespace ikigai::core
