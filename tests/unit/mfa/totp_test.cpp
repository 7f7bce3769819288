// RFC 6238 appendix B (SHA-1 column), the ±1-step window, secrets, otpauth URLs and recovery codes.
#include "mfa/totp.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <vector>

namespace ikigai::mfa {
namespace {

// Bytes 0, 1, 2, ... so that what the code does with randomness is visible.
class SequenceRandom final : public core::Random {
 public:
  void Fill(std::span<std::uint8_t> out) override {
    for (auto& b : out) b = next_++;
  }

 private:
  std::uint8_t next_ = 0;
};

// RFC 6238's SHA-1 seed: the 20 ASCII bytes "12345678901234567890" ("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" in base32).
const std::string kRfcSeed = "12345678901234567890";
const std::string kRfcSeedBase32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

std::span<const std::uint8_t> SeedBytes() {
  return {reinterpret_cast<const std::uint8_t*>(kRfcSeed.data()), kRfcSeed.size()};
}

struct Vector {
  long long unix_seconds;
  const char* totp8;
};

// Appendix B, mode SHA1.
const std::vector<Vector> kRfc6238 = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
};

TEST(TotpTest, Rfc6238AppendixBSha1EightDigits) {
  for (const auto& v : kRfc6238) {
    EXPECT_EQ(CodeForKey(SeedBytes(), StepOf(v.unix_seconds), 8), v.totp8) << "T = " << v.unix_seconds;
  }
}

TEST(TotpTest, SixDigitsAreTheLastSixOfTheRfcValues) {
  // Dynamic truncation takes the value modulo 10^digits: the six-digit code is the tail.
  for (const auto& v : kRfc6238) {
    EXPECT_EQ(CodeForKey(SeedBytes(), StepOf(v.unix_seconds)), std::string(v.totp8).substr(2));
    EXPECT_EQ(CodeFor(kRfcSeedBase32, StepOf(v.unix_seconds)), std::string(v.totp8).substr(2));
  }
}

TEST(TotpTest, AcceptsTheStepBeforeAndAfterButNotTwoAway) {
  const long long now = 1111111111;
  const long long step = StepOf(now);
  for (long long offset = -1; offset <= 1; ++offset) {
    const auto code = CodeFor(kRfcSeedBase32, step + offset);
    ASSERT_TRUE(code);
    EXPECT_EQ(MatchStep(kRfcSeedBase32, *code, now), step + offset) << "offset " << offset;
  }
  for (long long offset : {-2LL, 2LL, -10LL}) {
    const auto code = CodeFor(kRfcSeedBase32, step + offset);
    ASSERT_TRUE(code);
    // A code of a step two away could also be a window code by chance; these are not.
    EXPECT_NE(*code, *CodeFor(kRfcSeedBase32, step - 1));
    EXPECT_NE(*code, *CodeFor(kRfcSeedBase32, step));
    EXPECT_NE(*code, *CodeFor(kRfcSeedBase32, step + 1));
    EXPECT_FALSE(MatchStep(kRfcSeedBase32, *code, now)) << "offset " << offset;
  }
  EXPECT_FALSE(MatchStep(kRfcSeedBase32, "12345", now));
  EXPECT_FALSE(MatchStep("not base32!", "123456", now));
}

TEST(TotpTest, NormalisesTotpInput) {
  EXPECT_EQ(NormaliseTotpCode("123456"), "123456");
  EXPECT_EQ(NormaliseTotpCode(" 123 456 "), "123456");
  EXPECT_FALSE(NormaliseTotpCode("12345"));
  EXPECT_FALSE(NormaliseTotpCode("1234567"));
  EXPECT_FALSE(NormaliseTotpCode("12345a"));
  EXPECT_FALSE(NormaliseTotpCode("１２３４５６"));  // full-width digits are not ASCII digits
  EXPECT_FALSE(NormaliseTotpCode(""));
}

TEST(TotpTest, SecretIs160BitsAs32Base32Characters) {
  SequenceRandom random;
  const std::string secret = NewSecret(random);
  EXPECT_TRUE(std::regex_match(secret, std::regex("[A-Z2-7]{32}"))) << secret;
  // Bytes 0..19 in base32 (RFC 4648).
  EXPECT_EQ(secret, "AAAQEAYEAUDAOCAJBIFQYDIOB4IBCEQT");
  core::SodiumRandom real;
  EXPECT_NE(NewSecret(real), NewSecret(real));
}

TEST(TotpTest, OtpauthUrlPercentEncodesTheUsername) {
  EXPECT_EQ(OtpauthUrl("alice", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Ikigai:alice?secret=JBSWY3DPEHPK3PXP&issuer=Ikigai&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(OtpauthUrl("a.b_c-d~e", "S"), "otpauth://totp/Ikigai:a.b_c-d~e?secret=S&issuer=Ikigai&algorithm=SHA1&digits=6&period=30");
  EXPECT_EQ(PercentEncode("Zoë Q:x/y?&=#%+"), "Zo%C3%AB%20Q%3Ax%2Fy%3F%26%3D%23%25%2B");
  EXPECT_EQ(PercentEncode("🌸"), "%F0%9F%8C%B8");
}

TEST(TotpTest, RecoveryCodesAre80BitsInGroupsOfFour) {
  SequenceRandom random;
  const std::string code = NewRecoveryCode(random);
  EXPECT_EQ(code, "AAAQ-EAYE-AUDA-OCAJ");  // bytes 0..9 in base32
  core::SodiumRandom real;
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string c = NewRecoveryCode(real);
    EXPECT_TRUE(std::regex_match(c, std::regex("[A-Z2-7]{4}(-[A-Z2-7]{4}){3}"))) << c;
    seen.insert(c);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TotpTest, RecoveryCodeInputIgnoresCaseSpacesAndDashes) {
  EXPECT_EQ(NormaliseRecoveryCode("ABCD-EFGH-JKLM-NPQR"), "ABCDEFGHJKLMNPQR");
  EXPECT_EQ(NormaliseRecoveryCode("abcd efgh jklm npqr"), "ABCDEFGHJKLMNPQR");
  EXPECT_EQ(NormaliseRecoveryCode(" abcd-EFGH--jklm  npqr "), "ABCDEFGHJKLMNPQR");
  EXPECT_FALSE(NormaliseRecoveryCode("ABCD-EFGH-JKLM-NPQ"));    // 15
  EXPECT_FALSE(NormaliseRecoveryCode("ABCD-EFGH-JKLM-NPQRS"));  // 17
  EXPECT_FALSE(NormaliseRecoveryCode("ABCD-EFGH-JKLM-NPQ1"));   // 1 is not base32
  EXPECT_FALSE(NormaliseRecoveryCode("ABCD_EFGH_JKLM_NPQR"));
  EXPECT_FALSE(NormaliseRecoveryCode("123456"));
}

}  // namespace
}  // namespace ikigai::mfa
