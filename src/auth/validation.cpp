// Username, email and display-name rules.
#include "auth/validation.hpp"

#include "core/text.hpp"

#include <cctype>

namespace ikigai::auth {
using core::FieldCode;
using core::FieldError;

std::optional<FieldError> CheckUsername(std::string_view u) {
  if (u.size() < 3) return FieldError{FieldCode::kTooShort, "must be 3 to 32 characters"};
  if (u.size() > 32) return FieldError{FieldCode::kTooLong, "must be 3 to 32 characters"};
  for (char c : u) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return FieldError{FieldCode::kInvalidFormat, "may only contain letters, digits, '_', '.' and '-'"};
    }
  }
  return std::nullopt;
}

std::optional<FieldError> CheckEmail(std::string_view e) {
  const FieldError kMessage{FieldCode::kInvalidFormat, "must be a valid email address"};
  if (e.empty()) return FieldError{FieldCode::kRequired, "must be a valid email address"};
  if (e.size() > 254) return FieldError{FieldCode::kTooLong, "must be a valid email address"};
  if (core::CountCodePoints(e) < 0) return kMessage;
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
  return std::nullopt;
}

std::optional<FieldError> CheckDisplayName(std::string_view d) {
  const long n = core::CountCodePoints(d);
  if (n < 0) return FieldError{FieldCode::kInvalidFormat, "must be valid UTF-8"};
  if (n > 64) return FieldError{FieldCode::kTooLong, "must be at most 64 characters"};
  for (std::size_t i = 0; i < d.size();) {
    const long cp = core::NextCodePoint(d, i);
    if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029) {
      return FieldError{FieldCode::kInvalidFormat, "must not contain control characters"};
    }
  }
  return std::nullopt;
}

}  // namespace ikigai::auth
