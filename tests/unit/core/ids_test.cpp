// UUIDv7 ids: shape, version, and time order.
#include "core/ids.hpp"

#include <gtest/gtest.h>

#include <set>

#include "support/fake_clock.hpp"

namespace ikigai::core {
namespace {

TEST(IdsTest, NewIdIsCanonicalUuidVersion7) {
  support::FakeClock clock;
  SodiumRandom random;
  const std::string id = NewId(clock, random);
  ASSERT_TRUE(IsUuidText(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b');
}

TEST(IdsTest, LaterIdsSortAfterEarlierOnes) {
  support::FakeClock clock;
  SodiumRandom random;
  const std::string first = NewId(clock, random);
  clock.Advance(std::chrono::milliseconds(1));
  EXPECT_LT(first, NewId(clock, random));
}

TEST(IdsTest, IdsAreUnique) {
  support::FakeClock clock;
  SodiumRandom random;
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) ids.insert(NewId(clock, random));
  EXPECT_EQ(ids.size(), 1000u);
}

TEST(IdsTest, IsIdTextAcceptsWhatNewIdMakes) {
  support::FakeClock clock;
  SodiumRandom random;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(IsIdText(NewId(clock, random)));
  EXPECT_TRUE(IsIdText("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
  EXPECT_TRUE(IsIdText("01900000-0000-7000-b000-000000000000"));
}

TEST(IdsTest, IsIdTextRejectsEverythingElse) {
  for (const std::string& s :
       {std::string(""), std::string("1"), std::string("not-a-uuid"),
        std::string("0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"),   // uppercase: not what we write
        std::string("0193a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b"),   // version 4
        std::string("0193a1b2-c3d4-7e5f-ca9b-0c1d2e3f4a5b"),   // variant 110
        std::string("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0"),  // too long
        std::string("0193a1b2c3d47e5f8a9b0c1d2e3f4a5b"),       // no dashes
        std::string("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5\xff"),
        std::string("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a\xc3\xa9")}) {
    EXPECT_FALSE(IsIdText(s)) << s;
  }
}

TEST(IdsTest, IsUuidTextRejectsOtherShapes) {
  EXPECT_FALSE(IsUuidText("not-a-uuid"));
  EXPECT_FALSE(IsUuidText("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5"));
  EXPECT_FALSE(IsUuidText("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g"));
  EXPECT_TRUE(IsUuidText("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
}

TEST(RandomTokenTest, UrlSafeAndLongEnough) {
  SodiumRandom random;
  const std::string token = RandomToken(random, 32);
  EXPECT_EQ(token.size(), 43u);  // 256 bits in base64url without padding
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"),
            std::string::npos);
  EXPECT_NE(token, RandomToken(random, 32));
}

}  // namespace
}  // namespace ikigai::core
