// Argon2id hashing, rehash decisions, and the original backend's bcryptjs hashes.
#include "auth/password_hasher.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <sodium.h>

namespace ikigai::auth {
namespace {

// Small costs keep the suite fast; one test below runs the defaults.
constexpr Argon2Params kFast{.memory_kib = 8192, .ops = 1};

constexpr std::string_view kLegacyPassword = "ikigai-legacy-pass";
// Made by the original backend's library for kLegacyPassword.
constexpr std::string_view kBcryptjs243 =
    "$2a$10$xV0RWMldUd1U3acWL65nzeqtmNuwUEYNht5nzCA7IOvV7yA./4.pa";
constexpr std::string_view kBcryptjs303 =
    "$2b$10$DcMzGUX4HEGDmH6kgB1e3.zI.RthQvT7ntMnHxVqUEZiNYJKgey1S";

// 300 bytes, 'a'..'z' repeated: far over the 72 bytes bcrypt reads.
std::string LongPassword() {
  std::string s;
  for (int i = 0; i < 300; ++i) s.push_back(static_cast<char>('a' + i % 26));
  return s;
}
// LongPassword() hashed at cost 4 by bcryptjs 2.4.3 and 3.0.3.
constexpr std::string_view kLongBcryptjs243 =
    "$2a$04$1Xyl3LpqFaLhul/LZd8hRu1JLA.jeUk9k9eKWMR67F4A.QVrhm5nW";
constexpr std::string_view kLongBcryptjs303 =
    "$2b$04$.QcOS6rGMUQoCFj5QbqTCePCaCefJuCJIELoHjNu8bxnrKvo/UFfS";

// "a" then 40 x "é": 81 bytes, so byte 72 falls inside a character.
std::string MultibytePassword() {
  std::string s = "a";
  for (int i = 0; i < 40; ++i) s += "\xC3\xA9";
  return s;
}
// MultibytePassword() hashed at cost 4 by bcryptjs 2.4.3 and 3.0.3.
constexpr std::string_view kMultibyteBcryptjs243 =
    "$2a$04$/u42biL2sswSDqWwvnwns.86UuBns5zlar4/1TitIJA8b7LcdQw8a";
constexpr std::string_view kMultibyteBcryptjs303 =
    "$2b$04$ZWOkoJQ1VMs/etk543rfL.SW1VB5zx0X0o/FxF0XDM.spMTBbzQUu";

TEST(PasswordHasherTest, HashVerifiesWithoutRehash) {
  PasswordHasher hasher{kFast};
  const std::string hash = hasher.Hash("correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=8192,t=1,p=1$")) << hash;
  const VerifyResult result = hasher.Verify("correct horse battery staple", hash);
  EXPECT_TRUE(result.ok);
  EXPECT_FALSE(result.needs_rehash);
}

TEST(PasswordHasherTest, WrongPasswordDoesNotVerify) {
  PasswordHasher hasher{kFast};
  const std::string hash = hasher.Hash("correct horse battery staple");
  EXPECT_FALSE(hasher.Verify("correct horse battery stapl", hash).ok);
  EXPECT_FALSE(hasher.Verify("Correct horse battery staple", hash).ok);
  EXPECT_FALSE(hasher.Verify("", hash).ok);
}

TEST(PasswordHasherTest, SaltMakesEachHashDifferent) {
  PasswordHasher hasher{kFast};
  EXPECT_NE(hasher.Hash("same password"), hasher.Hash("same password"));
}

TEST(PasswordHasherTest, EveryByteCountsForArgon2) {
  PasswordHasher hasher{kFast};
  const std::string with_nul("before\0after", 12);
  const std::string hash = hasher.Hash(with_nul);
  EXPECT_TRUE(hasher.Verify(with_nul, hash).ok);
  EXPECT_FALSE(hasher.Verify("before", hash).ok);
  const std::string long_password = LongPassword();
  const std::string long_hash = hasher.Hash(long_password);
  EXPECT_TRUE(hasher.Verify(long_password, long_hash).ok);
  EXPECT_FALSE(hasher.Verify(long_password.substr(0, 299), long_hash).ok);
}

TEST(PasswordHasherTest, DefaultsAreOwaspArgon2id) {
  PasswordHasher hasher;
  const std::string hash = hasher.Hash("correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << hash;
  const VerifyResult result = hasher.Verify("correct horse battery staple", hash);
  EXPECT_TRUE(result.ok);
  EXPECT_FALSE(result.needs_rehash);
}

TEST(PasswordHasherTest, Argon2idWithOtherParametersVerifiesAndNeedsRehash) {
  const std::string hash = PasswordHasher{kFast}.Hash("correct horse battery staple");
  for (const Argon2Params other :
       {Argon2Params{.memory_kib = 8192, .ops = 2}, Argon2Params{.memory_kib = 16384, .ops = 1}}) {
    PasswordHasher hasher{other};
    const VerifyResult result = hasher.Verify("correct horse battery staple", hash);
    EXPECT_TRUE(result.ok);
    EXPECT_TRUE(result.needs_rehash);
    EXPECT_FALSE(hasher.Verify("wrong", hash).ok);
  }
}

TEST(PasswordHasherTest, Argon2iVerifiesAndAlwaysNeedsRehash) {
  // Argon2i needs at least 3 passes; give the hasher the same costs to show the type alone
  // triggers the rehash.
  constexpr Argon2Params kSameCosts{.memory_kib = 8192, .ops = 3};
  ASSERT_GE(sodium_init(), 0);
  char argon2i[crypto_pwhash_STRBYTES];
  const std::string password = "correct horse battery staple";
  ASSERT_EQ(
      crypto_pwhash_str_alg(argon2i, password.c_str(), password.size(), kSameCosts.ops,
                            std::size_t{kSameCosts.memory_kib} * 1024, crypto_pwhash_ALG_ARGON2I13),
      0);
  ASSERT_TRUE(std::string_view(argon2i).starts_with("$argon2i$"));
  PasswordHasher hasher{kSameCosts};
  const VerifyResult result = hasher.Verify(password, argon2i);
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.needs_rehash);
  EXPECT_FALSE(hasher.Verify("wrong", argon2i).ok);
}

TEST(PasswordHasherTest, BcryptjsHashesVerifyAndNeedRehash) {
  PasswordHasher hasher{kFast};
  for (const std::string_view hash : {kBcryptjs243, kBcryptjs303}) {
    const VerifyResult result = hasher.Verify(kLegacyPassword, hash);
    EXPECT_TRUE(result.ok) << hash;
    EXPECT_TRUE(result.needs_rehash) << hash;
  }
}

TEST(PasswordHasherTest, BcryptjsHashesRejectWrongPasswords) {
  PasswordHasher hasher{kFast};
  for (const std::string_view hash : {kBcryptjs243, kBcryptjs303}) {
    for (const std::string_view wrong :
         {"ikigai-legacy-pas", "ikigai-legacy-pass ", "IKIGAI-LEGACY-PASS", "", "password"}) {
      const VerifyResult result = hasher.Verify(wrong, hash);
      EXPECT_FALSE(result.ok) << hash << " with " << wrong;
      EXPECT_FALSE(result.needs_rehash);
    }
  }
}

TEST(PasswordHasherTest, Bcrypt2yPrefixVerifies) {
  // $2y$ is crypt_blowfish's (and PHP's) name for the same algorithm as $2b$.
  std::string hash(kBcryptjs303);
  hash.replace(0, 4, "$2y$");
  PasswordHasher hasher{kFast};
  const VerifyResult result = hasher.Verify(kLegacyPassword, hash);
  EXPECT_TRUE(result.ok);
  EXPECT_TRUE(result.needs_rehash);
  EXPECT_FALSE(hasher.Verify("ikigai-legacy-pas", hash).ok);
}

TEST(PasswordHasherTest, BcryptLongPasswordVerifiesLikeBcryptjs) {
  PasswordHasher hasher{kFast};
  const std::string password = LongPassword();
  ASSERT_EQ(password.size(), 300U);
  for (const std::string_view hash : {kLongBcryptjs243, kLongBcryptjs303}) {
    const VerifyResult result = hasher.Verify(password, hash);
    EXPECT_TRUE(result.ok) << hash;
    EXPECT_TRUE(result.needs_rehash);
    // bcryptjs ignored everything after byte 72, so did its stored hash.
    EXPECT_TRUE(hasher.Verify(password.substr(0, 72), hash).ok);
    EXPECT_TRUE(hasher.Verify(password.substr(0, 72) + "anything else", hash).ok);
    // Over libxcrypt's 512-byte limit, yet within API.md's 256 code points.
    EXPECT_TRUE(hasher.Verify(password.substr(0, 72) + std::string(900, 'x'), hash).ok);
    EXPECT_FALSE(hasher.Verify(password.substr(0, 71), hash).ok);
    std::string changed_early = password;
    changed_early[70] = '!';
    EXPECT_FALSE(hasher.Verify(changed_early, hash).ok);
  }
}

TEST(PasswordHasherTest, BcryptCutsAt72BytesEvenInsideACharacter) {
  PasswordHasher hasher{kFast};
  const std::string password = MultibytePassword();
  ASSERT_EQ(password.size(), 81U);
  for (const std::string_view hash : {kMultibyteBcryptjs243, kMultibyteBcryptjs303}) {
    EXPECT_TRUE(hasher.Verify(password, hash).ok) << hash;
    EXPECT_TRUE(hasher.Verify(password.substr(0, 72), hash).ok) << hash;
    EXPECT_FALSE(hasher.Verify(password.substr(0, 71), hash).ok) << hash;
  }
}

TEST(PasswordHasherTest, BcryptRejectsPasswordsWithNul) {
  // libxcrypt would stop at the NUL and accept these; bcryptjs hashed the bytes after it.
  PasswordHasher hasher{kFast};
  const std::string trailing = std::string(kLegacyPassword) + std::string(1, '\0');
  const std::string inside = std::string(kLegacyPassword) + std::string("\0tail", 5);
  for (const std::string_view hash : {kBcryptjs243, kBcryptjs303}) {
    EXPECT_FALSE(hasher.Verify(trailing, hash).ok);
    EXPECT_FALSE(hasher.Verify(inside, hash).ok);
  }
}

TEST(PasswordHasherTest, GarbageHashesNeverVerify) {
  PasswordHasher hasher{kFast};
  const std::string valid = hasher.Hash("correct horse battery staple");
  const std::vector<std::string> garbage = {
      "",
      "garbage",
      "$",
      "$2b$",
      "$2b$10$",
      "$2b$10$short",
      "$2b$99$DcMzGUX4HEGDmH6kgB1e3.zI.RthQvT7ntMnHxVqUEZiNYJKgey1S",  // cost out of range
      std::string(kBcryptjs303.substr(0, 40)),                         // cut short
      std::string(kBcryptjs303) + "x",                                 // one byte too many
      "$2x$10$DcMzGUX4HEGDmH6kgB1e3.zI.RthQvT7ntMnHxVqUEZiNYJKgey1S",  // not accepted
      "$1$saltsalt$abcdefghijklmnopqrstuv",                            // md5crypt: not ours
      "$argon2id$",
      "$argon2id$v=19$m=8192,t=1,p=1$bad$bad",
      "$argon2d$v=19$m=8192,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",
      valid.substr(0, valid.size() - 5),
      valid + std::string(1, '\0') + "junk",
      std::string(1000, '$'),
      std::string("\xff\xfe\x00\x01", 4),
  };
  for (const std::string& hash : garbage) {
    const VerifyResult result = hasher.Verify("correct horse battery staple", hash);
    EXPECT_FALSE(result.ok) << hash;
    EXPECT_FALSE(result.needs_rehash) << hash;
  }
}

TEST(PasswordHasherTest, VerifyDummyAcceptsAnyPassword) {
  PasswordHasher hasher{kFast};
  hasher.VerifyDummy("");
  hasher.VerifyDummy("some password");
  hasher.VerifyDummy(LongPassword());
}

TEST(PasswordHasherTest, RejectsCostsBelowLibsodiumMinimum) {
  EXPECT_THROW(PasswordHasher(Argon2Params{.memory_kib = 4, .ops = 1}), std::invalid_argument);
  EXPECT_THROW(PasswordHasher(Argon2Params{.memory_kib = 8192, .ops = 0}), std::invalid_argument);
}

TEST(PasswordHasherTest, OneHasherServesManyThreads) {
  const PasswordHasher hasher{kFast};
  const std::string argon2 = hasher.Hash("correct horse battery staple");
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        if (!hasher.Verify("correct horse battery staple", argon2).ok) ++failures[t];
        if (hasher.Verify("wrong", argon2).ok) ++failures[t];
        if (!hasher.Verify(LongPassword(), kLongBcryptjs303).ok) ++failures[t];
        if (hasher.Verify("wrong", kLongBcryptjs243).ok) ++failures[t];
        const std::string own = hasher.Hash("thread password");
        if (!hasher.Verify("thread password", own).ok) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const int count : failures) EXPECT_EQ(count, 0);
}

}  // namespace
}  // namespace ikigai::auth
