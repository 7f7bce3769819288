// Every email template renders, and the notification templates (issue 12) keep their promises:
// the subject is the notification title, optional values appear only when set, user text is
// escaped in the HTML part, and every kind but security points at the preferences page.
#include "mail/templates.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

namespace ikigai::mail {
namespace {

using Values = std::map<std::string, std::string>;

const char* const kSettingsUrl = "https://app.example.test/settings/notifications";

Values Required() {
  return {{"title", "Due soon: Write the essay"},
          {"body", "\"Write the essay\" is due at 2026-12-06T10:00:00Z.\nSecond line."},
          {"settings_url", kSettingsUrl}};
}

Values All() {
  Values v = Required();
  v["link"] = "https://app.example.test/tasks/0190a6f2-0000-7000-8000-000000000001";
  v["display_name"] = "Ada";
  v["reset_link"] = "https://app.example.test/reset-password";
  return v;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(EmailTemplatesTest, EveryKindHasBothPartsAndRenders) {
  std::set<std::string> kinds;
  for (const auto& [name, text] : EmbeddedTemplates()) {
    const auto dot = name.rfind('.');
    ASSERT_NE(dot, std::string::npos) << name;
    const std::string ext = name.substr(dot + 1);
    ASSERT_TRUE(ext == "txt" || ext == "html") << name;
    kinds.insert(name.substr(0, dot));
    if (ext == "txt") {
      EXPECT_EQ(text.rfind("Subject: ", 0), 0u) << name << " must start with its Subject line";
    }
  }
  for (const auto& kind : kinds) {
    SCOPED_TRACE(kind);
    const OutgoingMail mail = RenderTemplate(kind, "ada@example.test", All());
    EXPECT_FALSE(mail.subject.empty());
    EXPECT_FALSE(mail.text.empty());
    EXPECT_TRUE(Has(mail.html, "</html>"));
  }
  for (const char* kind : {"notify_task_due", "notify_announcement", "notify_feedback_reply", "notify_security"}) {
    EXPECT_TRUE(kinds.count(kind)) << "missing template " << kind;
  }
}

class NotificationTemplateTest : public testing::TestWithParam<std::string> {
 protected:
  std::string Kind() const { return "notify_" + GetParam(); }
  bool IsSecurity() const { return GetParam() == "security"; }
};

TEST_P(NotificationTemplateTest, SubjectIsTheTitleAndTheBodyIsKept) {
  for (const Values& values : {Required(), All()}) {
    const OutgoingMail mail = RenderTemplate(Kind(), "ada@example.test", values);
    EXPECT_EQ(mail.to, "ada@example.test");
    EXPECT_EQ(mail.subject, values.at("title"));
    EXPECT_TRUE(Has(mail.text, values.at("body"))) << mail.text;
    EXPECT_TRUE(Has(mail.html, "&quot;Write the essay&quot; is due at 2026-12-06T10:00:00Z.\nSecond line."))
        << mail.html;
    EXPECT_FALSE(Has(mail.text, "{{")) << mail.text;
    EXPECT_FALSE(Has(mail.html, "{{")) << mail.html;
    EXPECT_FALSE(Has(mail.text, "\n\n\n")) << "an optional part left an empty paragraph:\n" << mail.text;
  }
}

TEST_P(NotificationTemplateTest, OptionalValuesAppearOnlyWhenSet) {
  const OutgoingMail bare = RenderTemplate(Kind(), "ada@example.test", Required());
  EXPECT_EQ(bare.text.rfind("Hello,\n", 0), 0u) << bare.text;
  EXPECT_TRUE(Has(bare.html, "<p>Hello,</p>")) << bare.html;
  EXPECT_FALSE(Has(bare.text, "Ada"));
  EXPECT_FALSE(Has(bare.text, "/tasks/"));
  EXPECT_FALSE(Has(bare.html, "/tasks/"));
  EXPECT_FALSE(Has(bare.html, "href=\"\""));

  const Values all = All();
  const OutgoingMail full = RenderTemplate(Kind(), "ada@example.test", all);
  EXPECT_EQ(full.text.rfind("Hello Ada,\n", 0), 0u) << full.text;
  EXPECT_TRUE(Has(full.html, "Hello Ada,"));
  EXPECT_TRUE(Has(full.text, all.at("link")));
  EXPECT_TRUE(Has(full.html, "href=\"" + all.at("link") + "\""));
}

TEST_P(NotificationTemplateTest, UserTextIsEscapedInTheHtmlPartOnly) {
  Values values = All();
  values["title"] = "<script>alert(1)</script> & more";
  values["body"] = "<script>alert(2)</script>";
  values["display_name"] = "<b>Ada</b>";
  const OutgoingMail mail = RenderTemplate(Kind(), "ada@example.test", values);
  EXPECT_EQ(mail.subject, values["title"]);
  EXPECT_FALSE(Has(mail.html, "<script>")) << mail.html;
  EXPECT_FALSE(Has(mail.html, "<b>Ada")) << mail.html;
  EXPECT_TRUE(Has(mail.html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more")) << mail.html;
  EXPECT_TRUE(Has(mail.html, "&lt;script&gt;alert(2)&lt;/script&gt;")) << mail.html;
  EXPECT_TRUE(Has(mail.text, "<script>alert(2)</script>")) << "the text part is not HTML: no escaping";
}

TEST_P(NotificationTemplateTest, UnsubscribeHintOnEveryKindButSecurity) {
  const OutgoingMail mail = RenderTemplate(Kind(), "ada@example.test", Required());
  const std::string hint = std::string("Change which emails you get: ") + kSettingsUrl;
  if (IsSecurity()) {
    EXPECT_FALSE(Has(mail.text, "Change which emails you get")) << mail.text;
    EXPECT_FALSE(Has(mail.html, kSettingsUrl)) << mail.html;
    EXPECT_TRUE(Has(mail.text, "cannot be switched off")) << mail.text;
    EXPECT_TRUE(Has(mail.html, "cannot be switched off")) << mail.html;
  } else {
    EXPECT_TRUE(Has(mail.text, "You receive this because ")) << mail.text;
    EXPECT_TRUE(Has(mail.text, hint)) << mail.text;
    EXPECT_TRUE(Has(mail.html, "href=\"" + std::string(kSettingsUrl) + "\"")) << mail.html;
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, NotificationTemplateTest,
                         testing::Values("task_due", "announcement", "feedback_reply", "security"),
                         [](const testing::TestParamInfo<std::string>& info) { return info.param; });

TEST(SecurityTemplateTest, ResetLinkWhenSetAndAPlainHintOtherwise) {
  const Values all = All();
  const OutgoingMail with = RenderTemplate("notify_security", "ada@example.test", all);
  EXPECT_TRUE(Has(with.text, "If this was not you, reset your password at once: " + all.at("reset_link")))
      << with.text;
  EXPECT_TRUE(Has(with.html, "href=\"" + all.at("reset_link") + "\"")) << with.html;

  const OutgoingMail without = RenderTemplate("notify_security", "ada@example.test", Required());
  EXPECT_TRUE(Has(without.text, "If this was not you, reset your password at once with \"Forgot password\""))
      << without.text;
  EXPECT_FALSE(Has(without.html, "reset-password")) << without.html;
}

// To an address the account never proved, a security notice carries no body (it can hold text
// someone else typed, such as a sign-in's user agent): the mail then says only what happened.
TEST(SecurityTemplateTest, WithoutABodyTheTitleSaysWhatHappened) {
  Values values = Required();
  values.erase("body");
  values["title"] = "New sign-in to your account";
  const OutgoingMail mail = RenderTemplate("notify_security", "ada@example.test", values);
  EXPECT_EQ(mail.subject, "New sign-in to your account");
  EXPECT_TRUE(Has(mail.text, "Hello,\n\nNew sign-in to your account.\n\nIf this was not you")) << mail.text;
  EXPECT_FALSE(Has(mail.text, "\n\n\n")) << mail.text;
  EXPECT_FALSE(Has(mail.html, "pre-line")) << mail.html;
}

}  // namespace
}  // namespace ikigai::mail
