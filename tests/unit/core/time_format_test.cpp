// RFC 3339 and HTTP date formatting and parsing.
#include "core/time_format.hpp"

#include <gtest/gtest.h>

#include "support/fake_clock.hpp"

namespace ikigai::core {
namespace {

TEST(TimeFormatTest, FormatsToTheSecondInUtc) {
  EXPECT_EQ(FormatRfc3339(FromMillis(support::kSomeMondayMillis + 999)), "2026-11-23T09:00:00Z");
}

TEST(TimeFormatTest, AppendsZeroPaddedFields) {
  std::string out = "at ";
  AppendRfc3339(out, FromMillis(-62135596800000LL + 3723000));  // 0001-01-01T01:02:03Z
  EXPECT_EQ(out, "at 0001-01-01T01:02:03Z");
  EXPECT_EQ(FormatRfc3339(FromMillis(253402300799000LL)), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(FromMillis(0)), "1970-01-01T00:00:00Z");
}

TEST(TimeFormatTest, FormatsHttpDate) {
  EXPECT_EQ(FormatHttpDate(FromMillis(support::kSomeMondayMillis)), "Mon, 23 Nov 2026 09:00:00 GMT");
}

TEST(TimeFormatTest, ParsesOffsetsToUtc) {
  auto z = ParseRfc3339("2026-11-23T09:00:00Z");
  auto plus = ParseRfc3339("2026-11-23T10:30:00+01:30");
  auto minus = ParseRfc3339("2026-11-23T04:00:00-05:00");
  ASSERT_TRUE(z && plus && minus);
  EXPECT_EQ(ToMillis(*z), support::kSomeMondayMillis);
  EXPECT_EQ(*plus, *z);
  EXPECT_EQ(*minus, *z);
}

TEST(TimeFormatTest, KeepsMillisecondsOfFractions) {
  auto t = ParseRfc3339("2026-11-23T09:00:00.250Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(ToMillis(*t), support::kSomeMondayMillis + 250);
}

TEST(TimeFormatTest, RefusesMissingZoneAndImpossibleDates) {
  EXPECT_FALSE(ParseRfc3339("2026-11-23T09:00:00"));
  EXPECT_FALSE(ParseRfc3339("2026-02-30T09:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-23 09:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-23T24:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("2026-11-23T09:00:00+25:00"));
  EXPECT_FALSE(ParseRfc3339("2026-11-23T09:00:00Zjunk"));
  EXPECT_FALSE(ParseRfc3339(""));
  EXPECT_FALSE(ParseRfc3339("tomorrow"));
}

TEST(TimeFormatTest, RefusesInstantsOutsideTheWritableYears) {
  // Local years 0001..9999, but the offset moves the instant to year 10000 or 0 in UTC.
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59-23:59"));
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59-00:01"));
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:30:00.000-00:30"));
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00+01:00"));
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:59:59.999+01:00"));
  EXPECT_FALSE(ParseRfc3339("0000-12-31T23:00:00Z"));
}

TEST(TimeFormatTest, AcceptsTheEdgesOfTheWritableYears) {
  auto last = ParseRfc3339("9999-12-31T23:59:59.999Z");
  auto last_offset = ParseRfc3339("9999-12-31T23:59:59+00:01");
  auto first = ParseRfc3339("0001-01-01T00:00:00Z");
  auto first_offset = ParseRfc3339("0001-01-01T01:00:00+01:00");
  ASSERT_TRUE(last && last_offset && first && first_offset);
  EXPECT_EQ(FormatRfc3339(*last), "9999-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(*last_offset), "9999-12-31T23:58:59Z");
  EXPECT_EQ(FormatRfc3339(*first), "0001-01-01T00:00:00Z");
  EXPECT_EQ(*first_offset, *first);
}

}  // namespace
}  // namespace ikigai::core
