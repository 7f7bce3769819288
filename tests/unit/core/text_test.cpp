// UTF-8 repair and cutting (ValidUtf8Prefix), blank detection, and code-point counting.
#include "core/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace ikigai::core {
namespace {

const std::string kFffd = "\xef\xbf\xbd";

TEST(ValidUtf8PrefixTest, ValidTextIsKeptWhole) {
  EXPECT_EQ(ValidUtf8Prefix("", 10), "");
  EXPECT_EQ(ValidUtf8Prefix("Mozilla/5.0", 512), "Mozilla/5.0");
  const std::string mixed = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";  // é, €, 😀
  EXPECT_EQ(ValidUtf8Prefix(mixed, 512), mixed);
  EXPECT_EQ(ValidUtf8Prefix("\xef\xbf\xbf\xf4\x8f\xbf\xbf", 8), "\xef\xbf\xbf\xf4\x8f\xbf\xbf");  // U+FFFF, U+10FFFF
}

TEST(ValidUtf8PrefixTest, StrayBytesAreEachReplaced) {
  EXPECT_EQ(ValidUtf8Prefix("a\xff" "b", 10), "a" + kFffd + "b");
  EXPECT_EQ(ValidUtf8Prefix("\x80\x80", 10), kFffd + kFffd);  // lone continuation bytes
  EXPECT_EQ(ValidUtf8Prefix("\xc0\xc1\xf5\xfe", 20), kFffd + kFffd + kFffd + kFffd);
}

TEST(ValidUtf8PrefixTest, OverlongFormsAreInvalid) {
  // "/" as 2, 3 and 4 bytes: the lead byte is never valid (C0) or the second byte is out of range.
  EXPECT_EQ(ValidUtf8Prefix("\xc0\xaf", 10), kFffd + kFffd);
  EXPECT_EQ(ValidUtf8Prefix("\xe0\x80\xaf", 10), kFffd + kFffd + kFffd);
  EXPECT_EQ(ValidUtf8Prefix("\xf0\x80\x80\xaf", 20), kFffd + kFffd + kFffd + kFffd);
  // NUL as two bytes (Java's "modified UTF-8") is not UTF-8 either.
  EXPECT_EQ(ValidUtf8Prefix("\xc0\x80", 10), kFffd + kFffd);
}

TEST(ValidUtf8PrefixTest, SurrogatesAndValuesPastTheLastCodePointAreInvalid) {
  EXPECT_EQ(ValidUtf8Prefix("\xed\xa0\x80", 10), kFffd + kFffd + kFffd);  // U+D800
  EXPECT_EQ(ValidUtf8Prefix("\xed\xbf\xbf", 10), kFffd + kFffd + kFffd);  // U+DFFF
  EXPECT_EQ(ValidUtf8Prefix("\xed\x9f\xbf", 10), "\xed\x9f\xbf");         // U+D7FF is fine
  EXPECT_EQ(ValidUtf8Prefix("\xf4\x90\x80\x80", 20), kFffd + kFffd + kFffd + kFffd);  // U+110000
}

TEST(ValidUtf8PrefixTest, ATruncatedSequenceIsOneReplacement) {
  EXPECT_EQ(ValidUtf8Prefix("\xe2\x82", 10), kFffd);              // € without its last byte
  EXPECT_EQ(ValidUtf8Prefix("\xe2\x82" "a", 10), kFffd + "a");
  EXPECT_EQ(ValidUtf8Prefix("\xf0\x9f\x98", 10), kFffd);           // 😀 without its last byte
  EXPECT_EQ(ValidUtf8Prefix("\xf0\x9f\x98\xc3\xa9", 10), kFffd + "\xc3\xa9");
  EXPECT_EQ(ValidUtf8Prefix("x\xc3", 10), "x" + kFffd);
}

TEST(ValidUtf8PrefixTest, CutsOnlyAtCodePointBoundaries) {
  const std::string e_acute = "\xc3\xa9";
  // 511 ASCII bytes and an é: 513 bytes; at most 512 keeps the ASCII and drops the whole é.
  const std::string ua = std::string(511, 'a') + e_acute;
  EXPECT_EQ(ValidUtf8Prefix(ua, 512), std::string(511, 'a'));
  EXPECT_EQ(ValidUtf8Prefix(ua, 513), ua);
  const std::string euro = "\xe2\x82\xac";
  EXPECT_EQ(ValidUtf8Prefix(euro + euro, 5), euro);
  EXPECT_EQ(ValidUtf8Prefix(euro + euro, 6), euro + euro);
  EXPECT_EQ(ValidUtf8Prefix("\xf0\x9f\x98\x80", 3), "");
  EXPECT_EQ(ValidUtf8Prefix("abc", 0), "");
  EXPECT_EQ(ValidUtf8Prefix("abcdef", 3), "abc");
}

TEST(ValidUtf8PrefixTest, AReplacementIsNeverCutEither) {
  EXPECT_EQ(ValidUtf8Prefix("ab\xff", 4), "ab");
  EXPECT_EQ(ValidUtf8Prefix("ab\xff", 5), "ab" + kFffd);
  // A replacement may make the text longer than it came in; the limit still holds.
  const std::string bad(600, '\xff');
  const std::string out = ValidUtf8Prefix(bad, 512);
  EXPECT_LE(out.size(), 512u);
  EXPECT_EQ(out.size(), 510u);  // 170 replacements
  EXPECT_GE(CountCodePoints(out), 0);
}

TEST(ValidUtf8PrefixTest, NulAndControlsAreKept) {
  const std::string text("a\0b\x01\x7f\t", 6);
  EXPECT_EQ(ValidUtf8Prefix(text, 10), text);
  EXPECT_EQ(ValidUtf8Prefix("\xc2\x85", 10), "\xc2\x85");  // U+0085 (C1) is valid UTF-8
}

TEST(ValidUtf8PrefixTest, ResultIsAlwaysValidUtf8) {
  // Every two-byte string, cut at every length up to 8.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 3) {
      const std::string in{static_cast<char>(a), static_cast<char>(b), '\xbf', '\x80'};
      for (std::size_t max = 0; max <= 8; ++max) {
        const std::string out = ValidUtf8Prefix(in, max);
        ASSERT_LE(out.size(), max);
        ASSERT_GE(CountCodePoints(out), 0) << a << " " << b << " " << max;
      }
    }
  }
}

TEST(IsBlankTest, SpacesAndInvisibleCharactersAreBlank) {
  EXPECT_TRUE(IsBlank(""));
  EXPECT_TRUE(IsBlank("   "));
  EXPECT_TRUE(IsBlank(" \t\r\n"));
  EXPECT_TRUE(IsBlank("\xc2\xa0"));              // no-break space
  EXPECT_TRUE(IsBlank("\xe3\x80\x80"));          // ideographic space
  EXPECT_TRUE(IsBlank("\xe2\x80\x8b\xef\xbb\xbf"));  // zero-width space, BOM
  EXPECT_TRUE(IsBlank("\xe2\x80\x83 \xe2\x80\xaf"));  // em space, narrow no-break space
}

TEST(IsBlankTest, AnyVisibleCharacterIsNotBlank) {
  EXPECT_FALSE(IsBlank(" a "));
  EXPECT_FALSE(IsBlank("."));
  EXPECT_FALSE(IsBlank("\xc3\xa9"));
  EXPECT_FALSE(IsBlank(" \xff "));  // invalid UTF-8 is not blank (it is refused elsewhere)
}

}  // namespace
}  // namespace ikigai::core
