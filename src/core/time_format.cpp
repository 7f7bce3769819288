// RFC 3339 and HTTP date formatting, without locale or time-zone state (thread safe).
#include "core/time_format.hpp"

#include <array>
#include <chrono>
#include <cstdio>

namespace ikigai::core {
namespace {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

struct Civil {
  int year, month, day, hour, minute, second, weekday;
};

Civil ToCivil(TimePoint t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto day_point = std::chrono::floor<days>(secs);
  const year_month_day ymd{day_point};
  const std::chrono::hh_mm_ss hms{secs - day_point};
  const std::chrono::weekday wd{day_point};
  return {static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
          static_cast<int>(static_cast<unsigned>(ymd.day())), static_cast<int>(hms.hours().count()),
          static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
          static_cast<int>(wd.c_encoding())};
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

}  // namespace

std::string FormatRfc3339(TimePoint t) {
  std::string out;
  AppendRfc3339(out, t);
  return out;
}

void AppendRfc3339(std::string& out, TimePoint t) {
  const Civil c = ToCivil(t);
  if (c.year < 0 || c.year > 9999) {  // never from our own clock; keep printf's rendering
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month,
                  c.day, c.hour, c.minute, c.second);
    out += buf.data();
    return;
  }
  // By hand: snprintf was a visible share of encoding a page of tasks (three stamps per task).
  char buf[20];
  auto two = [&](int at, int v) {
    buf[at] = static_cast<char>('0' + v / 10);
    buf[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, c.year / 100);
  two(2, c.year % 100);
  buf[4] = '-';
  two(5, c.month);
  buf[7] = '-';
  two(8, c.day);
  buf[10] = 'T';
  two(11, c.hour);
  buf[13] = ':';
  two(14, c.minute);
  buf[16] = ':';
  two(17, c.second);
  buf[19] = 'Z';
  out.append(buf, sizeof buf);
}

std::string FormatHttpDate(TimePoint t) {
  static constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const Civil c = ToCivil(t);
  std::array<char, 40> buf{};
  std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                kDays[static_cast<std::size_t>(c.weekday)], c.day,
                kMonths[static_cast<std::size_t>(c.month - 1)], c.year, c.hour, c.minute, c.second);
  return buf.data();
}

std::optional<TimePoint> ParseRfc3339(std::string_view s) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, month) ||
      s[7] != '-' || !Digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, hour) || s[13] != ':' || !Digits(s, 14, 2, minute) || s[16] != ':' ||
      !Digits(s, 17, 2, second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  int millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (pos - start < 3) millis = millis * 10 + (s[pos] - '0');
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
    for (std::size_t n = pos - start; n < 3; ++n) millis *= 10;
  }
  int offset_minutes = 0;
  if (pos >= s.size()) return std::nullopt;  // the zone offset is required
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!Digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  if (year < 1 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const auto t = sys_days{ymd} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                 std::chrono::seconds{second} + std::chrono::milliseconds{millis} -
                 std::chrono::minutes{offset_minutes};
  // The offset may carry the instant out of the years RFC 3339 can write ("0001-01-01T00:00:00+01:00"
  // is in year 0 in UTC): such an instant could never be shown again, so it is not accepted.
  static constexpr sys_days kFirst{year_month_day{std::chrono::year{1}, std::chrono::January, std::chrono::day{1}}};
  static constexpr sys_days kPastLast{year_month_day{std::chrono::year{10000}, std::chrono::January, std::chrono::day{1}}};
  if (t < kFirst || t >= kPastLast) return std::nullopt;
  return std::chrono::time_point_cast<std::chrono::milliseconds>(t);
}

}  // namespace ikigai::core
