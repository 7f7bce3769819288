// The password rules of API.md: length in code points, not the username or email, not common.
#include "auth/password_policy.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <unistd.h>
#include "support/text.hpp"

namespace ikigai::auth {
namespace {

using support::Repeat;

constexpr std::string_view kUsername = "alice_smith";
constexpr std::string_view kEmail = "alice@example.com";

// The message on the "password" field, or "" when the password is accepted.
std::string Problem(const core::Result<void>& result) {
  if (result) return "";
  if (result.error().code != core::ErrorCode::kValidation) return "<not a validation error>";
  const auto it = result.error().fields.find("password");
  return it == result.error().fields.end() ? "<no password field>" : it->second.message;
}

// A list file of the test's own, removed at the end of the test.
class ListFile {
 public:
  explicit ListFile(std::string_view contents)
      : path_(std::filesystem::temp_directory_path() /
              ("ikigai_password_list_" + std::to_string(::getpid()) + "_" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::ofstream(path_) << contents;
  }
  ~ListFile() { std::filesystem::remove(path_); }
  ListFile(const ListFile&) = delete;
  ListFile& operator=(const ListFile&) = delete;
  const std::filesystem::path& Path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class PasswordPolicyTest : public ::testing::Test {
 protected:
  std::string Check(std::string_view password) const {
    return Problem(policy_.Check(password, kUsername, kEmail));
  }
  PasswordPolicy policy_;  // the default list, as in production
};

TEST_F(PasswordPolicyTest, StrongPassphrasePasses) {
  EXPECT_EQ(Check("correct horse battery staple"), "");
  EXPECT_EQ(Check("Ikigai morning walk, 6:30!"), "");
  EXPECT_EQ(Check("zq8#Lm2!vR"), "");
}

TEST_F(PasswordPolicyTest, AsciiLengthBoundaries) {
  EXPECT_EQ(Check("zq8#Lm2"), "must be at least 8 characters");
  EXPECT_EQ(Check("zq8#Lm2!"), "");
  EXPECT_EQ(Check(""), "must be at least 8 characters");
}

TEST_F(PasswordPolicyTest, LengthCountsCodePointsNotBytes) {
  const std::string e_acute = "\xC3\xA9";                                 // é: 2 bytes
  EXPECT_EQ(Check(Repeat(e_acute, 7)), "must be at least 8 characters");  // 14 bytes
  EXPECT_EQ(Check(Repeat(e_acute, 8)), "");                               // 16 bytes
  EXPECT_EQ(Check(Repeat(e_acute, 256)), "");                             // 512 bytes
  EXPECT_EQ(Check(Repeat(e_acute, 257)), "must be at most 256 characters");
}

TEST_F(PasswordPolicyTest, FourByteCharactersCountOnce) {
  const std::string clef = "\xF0\x9D\x84\x9E";  // U+1D11E: 4 bytes
  EXPECT_EQ(Check(Repeat(clef, 7)), "must be at least 8 characters");
  EXPECT_EQ(Check(Repeat(clef, 8)), "");
  EXPECT_EQ(Check(Repeat(clef, 256)), "");  // 1024 bytes, all of them kept
  EXPECT_EQ(Check(Repeat(clef, 257)), "must be at most 256 characters");
  EXPECT_EQ(Check(Repeat("a", 255) + clef), "");
  EXPECT_EQ(Check(Repeat("a", 256) + clef), "must be at most 256 characters");
}

TEST_F(PasswordPolicyTest, InvalidUtf8IsRejected) {
  for (const std::string& bad : {
           std::string("abcdefgh\xC3"),              // cut inside a character
           std::string("abcdefgh\xC3\x28"),          // bad continuation byte
           std::string("abcdefgh\x80"),              // lone continuation byte
           std::string("abcdefgh\xC0\xAF"),          // overlong '/'
           std::string("abcdefgh\xE0\x80\xAF"),      // overlong '/'
           std::string("abcdefgh\xED\xA0\x80"),      // UTF-16 surrogate
           std::string("abcdefgh\xF4\x90\x80\x80"),  // above U+10FFFF
           std::string("abcdefgh\xFF"),
       }) {
    EXPECT_EQ(Check(bad), "must be valid UTF-8");
  }
  // Every code point from U+0000 up is fine, so is the largest one.
  EXPECT_EQ(Check(std::string("abc\0defgh", 9)), "");
  EXPECT_EQ(Check("abcdefgh\xF4\x8F\xBF\xBF"), "");
}

TEST_F(PasswordPolicyTest, SameAsUsernameOrEmailIgnoringCase) {
  const std::string kMessage = "must not be the same as the username or email";
  EXPECT_EQ(Problem(policy_.Check("alice_smith", "alice_smith", kEmail)), kMessage);
  EXPECT_EQ(Problem(policy_.Check("Alice_Smith", "alice_smith", kEmail)), kMessage);
  EXPECT_EQ(Problem(policy_.Check("alice_smith", "ALICE_SMITH", kEmail)), kMessage);
  EXPECT_EQ(Problem(policy_.Check("ALICE@example.COM", kUsername, "alice@example.com")), kMessage);
  EXPECT_EQ(Problem(policy_.Check("alice_smith1", "alice_smith", kEmail)), "");
  EXPECT_EQ(Problem(policy_.Check("alice@example.co", kUsername, "alice@example.com")), "");
}

TEST_F(PasswordPolicyTest, CommonPasswordsAreRejectedIgnoringCase) {
  for (const std::string_view common :
       {"password", "password1", "12345678", "123456789", "qwertyuiop", "iloveyou", "trustno1",
        "PassWord1", "QWERTYUIOP"}) {
    EXPECT_EQ(Check(common), "is too common") << common;
  }
}

TEST_F(PasswordPolicyTest, LengthIsCheckedBeforeTheList) {
  EXPECT_EQ(Check("123456"), "must be at least 8 characters");
}

TEST(PasswordPolicyListTest, MissingListStopsStartUp) {
  try {
    PasswordPolicy policy{"/nonexistent/ikigai/password.lst"};
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ikigai/password.lst"), std::string::npos)
        << e.what();
  }
}

TEST(PasswordPolicyListTest, EmptyListStopsStartUp) {
  const ListFile file("#!comment: nothing but comments\n\n");
  EXPECT_THROW(PasswordPolicy{file.Path()}, std::runtime_error);
}

TEST(PasswordPolicyListTest, OwnListIsUsedAndCommentsSkipped) {
  const ListFile file("#!comment: a test list\nHunter2Hunter2\r\nnotreallycommon\n");
  const PasswordPolicy policy{file.Path()};
  EXPECT_EQ(Problem(policy.Check("hunter2hunter2", kUsername, kEmail)), "is too common");
  EXPECT_EQ(Problem(policy.Check("NotReallyCommon", kUsername, kEmail)), "is too common");
  EXPECT_EQ(Problem(policy.Check("#!comment: a test list", kUsername, kEmail)), "");
  EXPECT_EQ(Problem(policy.Check("password1", kUsername, kEmail)), "");  // not in this list
}

}  // namespace
}  // namespace ikigai::auth
