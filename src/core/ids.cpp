// UUIDv7 generation and shape check.
#include "core/ids.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace ikigai::core {

std::string NewId(const Clock& clock, Random& random) {
  std::array<std::uint8_t, 16> b{};
  random.Fill(std::span<std::uint8_t>(b).subspan(6));
  const auto ms = static_cast<std::uint64_t>(ToMillis(clock.Now()));
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0f]);
  }
  return out;
}

bool IsUuidText(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool IsIdText(std::string_view s) {
  if (!IsUuidText(s) || s[14] != '7') return false;
  if (s[19] != '8' && s[19] != '9' && s[19] != 'a' && s[19] != 'b') return false;
  return std::none_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'F'; });
}

}  // namespace ikigai::core
