// MIME rendering: quoted-printable for SMTP (lines of at most 76 characters, soft breaks, a long
// link that decodes back whole) and 8bit for development .eml files (the link readable as is).
#include "mail/message.hpp"

#include <gtest/gtest.h>

#include <string>

#include "support/email_message.hpp"
#include "support/smtp_sink.hpp"

namespace ikigai::mail {
namespace {

const std::string kLink =
    "https://app.example.com/reset-password?token=Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9v"
    "&next=%2Ftasks%3Fsort%3D-due_at";

OutgoingMail Sample() {
  return OutgoingMail{"alice@example.com", "Réinitialiser",
                      "Bonjour Zoë,\n\nOpen this link:\n" + kLink + "\n\nTrailing space \nTabs\tinside\n",
                      "<p>Open <a href=\"" + kLink + "\">this link</a> — merci.</p>\n"};
}

TEST(MailMessageTest, QuotedPrintableLinesStayWithin76AndALongLinkSurvivesDecoding) {
  const std::string encoded = QuotedPrintable(Sample().text);
  std::size_t start = 0;
  while (start < encoded.size()) {
    const auto end = encoded.find("\r\n", start);
    ASSERT_NE(end, std::string::npos) << "every line ends with CRLF";
    const std::string line = encoded.substr(start, end - start);
    EXPECT_LE(line.size(), 76u) << line;
    for (char c : line) EXPECT_TRUE((c >= 33 && c <= 126) || c == ' ' || c == '\t') << "not 7-bit printable: " << line;
    EXPECT_NE(line.back(), ' ') << "a space before a line end is encoded";
    start = end + 2;
  }
  EXPECT_NE(encoded.find("=3D"), std::string::npos) << "'=' is escaped";
  EXPECT_NE(encoded.find("=\r\n"), std::string::npos) << "the link is longer than a line: a soft break";
  EXPECT_NE(encoded.find("Zo=C3=AB"), std::string::npos) << encoded;
  // Decoded (by the tests' own decoder) the text is what was written, CRLF line ends.
  const std::string decoded = support::DecodeQuotedPrintable(encoded);
  EXPECT_NE(decoded.find(kLink), std::string::npos) << decoded;
  EXPECT_NE(decoded.find("Trailing space \r\n"), std::string::npos) << decoded;
  EXPECT_NE(decoded.find("Tabs\tinside"), std::string::npos) << decoded;
}

TEST(MailMessageTest, SoftBreaksNeverSplitAnEscape) {
  // 80 'é' (two bytes each, six characters encoded): every line must end on a whole "=XX".
  std::string text;
  for (int i = 0; i < 80; ++i) text += "\xc3\xa9";
  const std::string encoded = QuotedPrintable(text);
  std::size_t start = 0;
  while (start < encoded.size()) {
    const auto end = encoded.find("\r\n", start);
    const std::string line = encoded.substr(start, end - start);
    EXPECT_LE(line.size(), 76u);
    const std::string body = line.back() == '=' ? line.substr(0, line.size() - 1) : line;
    EXPECT_EQ(body.size() % 3, 0u) << line;
    start = end + 2;
  }
  EXPECT_EQ(support::DecodeQuotedPrintable(encoded), text + "\r\n");
}

TEST(MailMessageTest, SmtpMessagesAreQuotedPrintableAndDecodeToTheParts) {
  const std::string mime = RenderMime(Sample(), "Ikigai <no-reply@ikigai.test>", core::TimePoint{}, "abc@ikigai.test");
  for (char c : mime) ASSERT_LT(static_cast<unsigned char>(c), 0x80) << "SMTP output is 7-bit";
  EXPECT_EQ(mime.find("Content-Transfer-Encoding: base64"), std::string::npos);
  const auto mail = support::ParseEmail(mime);
  EXPECT_NE(mail.Text().find(kLink), std::string::npos) << mime;
  EXPECT_NE(mail.Html().find("href=\"" + kLink + "\""), std::string::npos) << mime;
}

TEST(MailMessageTest, DevelopmentFilesAre8bitWithTheLinkWhole) {
  const std::string mime =
      RenderMime(Sample(), "Ikigai <no-reply@ikigai.test>", core::TimePoint{}, "abc@ikigai.test", BodyEncoding::k8bit);
  EXPECT_NE(mime.find("Content-Transfer-Encoding: 8bit"), std::string::npos);
  EXPECT_NE(mime.find("\r\n" + kLink + "\r\n"), std::string::npos) << "the link on one line, as written";
  EXPECT_NE(mime.find("Bonjour Zo\xc3\xab"), std::string::npos) << "UTF-8 as written";
  const auto mail = support::ParseEmail(mime);
  EXPECT_NE(mail.Text().find(kLink), std::string::npos);
  // A line over 998 bytes cannot be 8bit: that part falls back to quoted-printable.
  OutgoingMail huge = Sample();
  huge.html = std::string(1200, 'x');
  const std::string fallback = RenderMime(huge, "no-reply@ikigai.test", core::TimePoint{}, "abc@ikigai.test", BodyEncoding::k8bit);
  EXPECT_NE(fallback.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  EXPECT_NE(support::ParseEmail(fallback).Html().find(std::string(1200, 'x')), std::string::npos) << fallback;
}

}  // namespace
}  // namespace ikigai::mail
