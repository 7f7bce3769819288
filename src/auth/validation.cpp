// Username, email and display-name rules.
#include "auth/validation.hpp"

#include <cctype>

namespace ikigai::auth {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns the code point or -1, advancing i.
long Next(std::string_view s, std::size_t& i) {
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

}  // namespace

long CountCodePoints(std::string_view s) {
  long n = 0;
  for (std::size_t i = 0; i < s.size();) {
    if (Next(s, i) < 0) return -1;
    ++n;
  }
  return n;
}

std::string CheckUsername(std::string_view u) {
  if (u.size() < 3 || u.size() > 32) return "must be 3 to 32 characters";
  for (char c : u) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return "may only contain letters, digits, '_', '.' and '-'";
    }
  }
  return {};
}

std::string CheckEmail(std::string_view e) {
  static const std::string kMessage = "must be a valid email address";
  if (e.empty() || e.size() > 254 || CountCodePoints(e) < 0) return kMessage;
  const auto at = e.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64 || e.find('@') != at) return kMessage;
  const std::string_view local = e.substr(0, at);
  const std::string_view domain = e.substr(at + 1);
  for (char c : local) {
    const auto uc = static_cast<unsigned char>(c);
    if (uc <= 0x20 || uc == 0x7f || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == ';' ||
        c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      return kMessage;
    }
  }
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) return kMessage;
  // domain: labels of letters, digits and '-', not starting or ending with '-', a dot, and a TLD
  // of at least two letters.
  if (domain.empty() || domain.size() > 253) return kMessage;
  std::size_t start = 0;
  int labels = 0;
  std::string_view last;
  while (start <= domain.size()) {
    const auto dot = domain.find('.', start);
    const std::string_view label = domain.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return kMessage;
    for (char c : label) {
      const auto uc = static_cast<unsigned char>(c);
      if (!(std::isalnum(uc) || c == '-' || uc >= 0x80)) return kMessage;
    }
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (labels < 2 || last.size() < 2) return kMessage;
  for (char c : last) {
    if (std::isdigit(static_cast<unsigned char>(c))) return kMessage;
  }
  return {};
}

std::string CheckDisplayName(std::string_view d) {
  const long n = CountCodePoints(d);
  if (n < 0) return "must be valid UTF-8";
  if (n > 64) return "must be at most 64 characters";
  for (std::size_t i = 0; i < d.size();) {
    const long cp = Next(d, i);
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029) {
      return "must not contain control characters";
    }
  }
  return {};
}

}  // namespace ikigai::auth
