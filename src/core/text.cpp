// UTF-8 decoding for length rules.
#include "core/text.hpp"

#include <algorithm>
#include <cstddef>

namespace ikigai::core {

namespace {

// The length of the well-formed sequence at s[i] (1..4), or 0 when it is ill-formed; `subpart`
// is then the length of its maximal subpart (the bytes one U+FFFD replaces, at least 1).
std::size_t SequenceAt(std::string_view s, std::size_t i, std::size_t& subpart) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  subpart = 1;
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte (Unicode table 3-7)
  if (b0 >= 0xc2 && b0 <= 0xdf) len = 2;
  else if (b0 == 0xe0) { len = 3; lo = 0xa0; }
  else if (b0 == 0xed) { len = 3; hi = 0x9f; }
  else if (b0 >= 0xe1 && b0 <= 0xef) len = 3;
  else if (b0 == 0xf0) { len = 4; lo = 0x90; }
  else if (b0 >= 0xf1 && b0 <= 0xf3) len = 4;
  else if (b0 == 0xf4) { len = 4; hi = 0x8f; }
  else return 0;  // 80..C1, F5..FF never start a sequence
  for (std::size_t k = 1; k < len; ++k) {
    if (i + k >= s.size()) return 0;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (k == 1 ? (b < lo || b > hi) : (b & 0xc0) != 0x80) return 0;
    subpart = k + 1;
  }
  return len;
}

}  // namespace

// Decodes one UTF-8 sequence at s[i]; returns the code point or -1, advancing i. Validity is
// SequenceAt's (overlong forms, surrogates and values past U+10FFFF are not UTF-8).
long NextCodePoint(std::string_view s, std::size_t& i) {
  std::size_t subpart = 0;
  const std::size_t len = SequenceAt(s, i, subpart);
  if (len == 0) return -1;
  const auto b0 = static_cast<unsigned char>(s[i]);
  long cp = len == 1 ? b0 : b0 & (0x7f >> len);  // the lead byte's payload bits
  for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
  i += len;
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

namespace {

bool IsBlankCodePoint(long cp) {
  return (cp >= 0x09 && cp <= 0x0d) || cp == 0x20 || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         cp == 0x180e || (cp >= 0x2000 && cp <= 0x200d) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202f || cp == 0x205f || cp == 0x2060 || cp == 0x3000 || cp == 0xfeff;
}

}  // namespace

std::string ValidUtf8Prefix(std::string_view in, std::size_t max_bytes) {
  static constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  out.reserve(std::min(in.size(), max_bytes));
  for (std::size_t i = 0; i < in.size();) {
    std::size_t subpart = 0;
    const std::size_t len = SequenceAt(in, i, subpart);
    const std::string_view unit = len > 0 ? in.substr(i, len) : kReplacement;
    if (out.size() + unit.size() > max_bytes) break;
    out += unit;
    i += len > 0 ? len : subpart;
  }
  return out;
}

bool IsBlank(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const long cp = NextCodePoint(s, i);
    if (cp < 0 || !IsBlankCodePoint(cp)) return false;
  }
  return true;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool HasControl(std::string_view s, bool allow_newlines) {
  return std::any_of(s.begin(), s.end(), [&](char c) {
    const auto ch = static_cast<unsigned char>(c);
    if (allow_newlines && (ch == '\n' || ch == '\r' || ch == '\t')) return false;
    return ch < 0x20 || ch == 0x7f;
  });
}

std::string MailboxAddress(const std::string& mailbox) {
  const auto open = mailbox.rfind('<');
  const auto close = mailbox.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return mailbox.substr(open + 1, close - open - 1);
  }
  return mailbox;
}

}  // namespace ikigai::core
