// The text and context rules of feedback (feedback::Check, CheckText, HasForbiddenControl): the
// code-point limits, the control characters refused (C0 but newline and tab, DEL, C1), blanks.
#include <gtest/gtest.h>

#include "feedback/feedback_service.hpp"

namespace ikigai::feedback {
namespace {

std::string Repeat(const std::string& unit, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += unit;
  return out;
}

FeedbackInput Valid() { return {"idea", "Dark mode", std::nullopt, {}}; }

TEST(FeedbackRulesTest, ControlCharactersOtherThanNewlineAndTabAreForbidden) {
  EXPECT_FALSE(HasForbiddenControl("line\nnext\tcolumn"));
  EXPECT_FALSE(HasForbiddenControl("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_TRUE(HasForbiddenControl("carriage\rreturn"));
  EXPECT_TRUE(HasForbiddenControl(std::string("nul\0", 4)));
  EXPECT_TRUE(HasForbiddenControl("bell\x07"));
  EXPECT_TRUE(HasForbiddenControl("del\x7f"));
  EXPECT_TRUE(HasForbiddenControl("c1\xc2\x85"));   // U+0085
  EXPECT_TRUE(HasForbiddenControl("c1\xc2\x9f"));   // U+009F
  EXPECT_FALSE(HasForbiddenControl("nbsp\xc2\xa0"));  // U+00A0 is not a control
  EXPECT_TRUE(HasForbiddenControl("\xff"));          // invalid UTF-8
}

TEST(FeedbackRulesTest, TextIsOneTo5000CodePointsAndNotBlank) {
  EXPECT_FALSE(CheckText("x"));
  EXPECT_FALSE(CheckText(Repeat("\xf0\x9f\x98\x80", 5000)));
  EXPECT_TRUE(CheckText(Repeat("\xc3\xa9", 5001)));
  EXPECT_TRUE(CheckText(""));
  EXPECT_TRUE(CheckText(" \n\t\xe2\x80\x8b"));  // white space and U+200B only
  EXPECT_TRUE(CheckText("a\rb"));
}

TEST(FeedbackRulesTest, EachFieldRuleNamesItsField) {
  EXPECT_TRUE(Check(Valid()).empty());
  auto in = Valid();
  in.category = "feature";
  EXPECT_TRUE(Check(in).contains("category"));
  for (long long rating : {0LL, 6LL, -1LL}) {
    in = Valid();
    in.rating = rating;
    EXPECT_TRUE(Check(in).contains("rating")) << rating;
  }
  in = Valid();
  in.rating = 5;
  EXPECT_TRUE(Check(in).empty());

  in = Valid();
  for (int i = 0; i < 10; ++i) in.context.emplace_back("k" + std::to_string(i), Repeat("\xc3\xa9", 200));
  EXPECT_TRUE(Check(in).empty()) << "10 members of 200 characters";
  in.context.emplace_back("k10", "v");
  EXPECT_TRUE(Check(in).contains("context")) << "11 members";
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"", "empty key"},
      {std::string(65, 'k'), "long key"},
      {"a\nb", "newline in a key"},
      {"page", std::string(201, 'p')},
      {"page", "a\x01z"},
  };
  for (const auto& member : bad) {
    in = Valid();
    in.context = {member};
    EXPECT_TRUE(Check(in).contains("context")) << member.first << " = " << member.second;
  }
  in = Valid();
  in.context = {{std::string(64, 'k'), ""}};
  EXPECT_TRUE(Check(in).empty()) << "a 64-character key, an empty value";
}

TEST(FeedbackRulesTest, EnumsAreExact) {
  for (auto s : kStatuses) EXPECT_TRUE(IsStatus(s));
  for (auto c : kCategories) EXPECT_TRUE(IsCategory(c));
  EXPECT_FALSE(IsStatus("New"));
  EXPECT_FALSE(IsStatus(""));
  EXPECT_FALSE(IsCategory("bugs"));
}

}  // namespace
}  // namespace ikigai::feedback
