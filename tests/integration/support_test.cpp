// Checks the test support library itself: processes, the SMTP sink and link extraction, metrics.
#include <algorithm>
#include <chrono>
#include <string>

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <gtest/gtest.h>
#include <signal.h>

#include "support/conformance_log.hpp"
#include "support/http_client.hpp"
#include "support/http_expectations.hpp"
#include "support/process.hpp"
#include "support/smtp_sink.hpp"

namespace ikigai {
namespace {

using namespace std::chrono_literals;

TEST(ProcessTest, ReportsExitCodesAndSignals) {
  support::ProcessOptions exits;
  exits.binary = "/bin/sh";
  exits.args = {"-c", "echo out; echo err >&2; exit 3"};
  auto res = support::RunCommand(exits, 10s);
  EXPECT_EQ(res.exit_status, 3);
  EXPECT_EQ(res.out, "out\n");
  EXPECT_EQ(res.err, "err\n");

  support::ProcessOptions sleeps;
  sleeps.binary = "sleep";
  sleeps.args = {"60"};
  support::Process process(sleeps);
  EXPECT_TRUE(process.Running());
  EXPECT_FALSE(process.Wait(10ms).has_value());
  EXPECT_TRUE(process.Signal(SIGTERM));
  EXPECT_EQ(process.Wait(10s), 128 + SIGTERM);
  EXPECT_FALSE(process.Signal(SIGTERM)) << "signalled a reaped pid";
}

TEST(ProcessTest, PassesEnvironmentAndDropsPrefixes) {
  setenv("IKIGAI_SUPPORT_TEST_LEAK", "leaked", 1);
  support::ProcessOptions options;
  options.binary = "/bin/sh";
  options.args = {"-c", "echo \"$IKIGAI_SUPPORT_TEST_LEAK|$IKIGAI_GIVEN\""};
  options.env = {{"IKIGAI_GIVEN", "given"}};
  options.unset_env_prefixes = {"IKIGAI_"};
  auto res = support::RunCommand(options, 10s);
  unsetenv("IKIGAI_SUPPORT_TEST_LEAK");
  EXPECT_EQ(res.out, "|given\n");
}

TEST(ProcessTest, MissingBinaryThrows) {
  support::ProcessOptions options;
  options.binary = "/nonexistent/ikigai";
  EXPECT_THROW(support::Process{options}, std::runtime_error);
}

TEST(ExtractLinkTest, FindsAPlainLink) {
  std::string mail = "Subject: x\r\n\r\nOpen https://app.test/verify-email?token=abc_DEF-1.\r\n";
  EXPECT_EQ(support::ExtractLink(mail, "https://app.test/verify-email?token="),
            "https://app.test/verify-email?token=abc_DEF-1");
  EXPECT_EQ(support::ExtractLink(mail, "https://other.test/"), "");
}

TEST(ExtractLinkTest, DecodesQuotedPrintable) {
  std::string mail =
      "Subject: x\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n"
      "\r\n<a href=3D\"https://app.test/reset-password?token=3Dabc=\r\ndef\">reset</a>\r\n";
  EXPECT_EQ(support::ExtractLink(mail, "https://app.test/reset-password?token="),
            "https://app.test/reset-password?token=abcdef");
}

TEST(ExtractLinkTest, DecodesABase64Part) {
  // "See https://app.test/x?token=t0k3n\n" in base64, in the second part of a multipart mail.
  std::string mail =
      "Subject: x\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
      "--b\r\nContent-Type: text/plain\r\n\r\nnothing here\r\n"
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
      "U2VlIGh0dHBzOi8vYXBwLnRlc3QveD90b2tl\r\nbj10MGszbgo=\r\n--b--\r\n";
  EXPECT_EQ(support::ExtractLink(mail, "https://app.test/x?token="),
            "https://app.test/x?token=t0k3n");
}

TEST(EmailHeaderTest, ReadsUnfoldedHeaders) {
  std::string mail = "X-Sink-Rcpt-To: a@b.c\r\nSubject: Reset\r\n your password\r\n\r\nSubject: no";
  EXPECT_EQ(support::EmailHeader(mail, "subject"), "Reset your password");
  EXPECT_EQ(support::EmailHeader(mail, "X-Sink-Rcpt-To"), "a@b.c");
  EXPECT_EQ(support::EmailHeader(mail, "From"), "");
}

TEST(MetricSumTest, SumsMatchingSamples) {
  std::string text =
      "# HELP ikigai_http_requests_total Requests.\n"
      "# TYPE ikigai_http_requests_total counter\n"
      "ikigai_http_requests_total{route=\"/healthz\",status=\"200\"} 3\n"
      "ikigai_http_requests_total{route=\"/api/v1/tasks/{id}\",status=\"404\"} 2\n"
      "ikigai_http_requests_total_other 100\n"
      "ikigai_http_requests_in_flight 5\n";
  EXPECT_EQ(support::MetricSum(text, "ikigai_http_requests_total"), 5);
  EXPECT_EQ(support::MetricSum(text, "ikigai_http_requests_total", {"route=\"/healthz\""}), 3);
  EXPECT_EQ(support::MetricSum(text, "ikigai_http_requests_total", {"status=\"404\""}), 2);
  EXPECT_EQ(support::MetricSum(text, "ikigai_http_requests_in_flight"), 5);
  EXPECT_FALSE(support::MetricSum(text, "ikigai_missing").has_value());
}

struct Upload {
  std::string data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  size_t n = std::min(size * count, upload->data.size() - upload->offset);
  std::copy_n(upload->data.data() + upload->offset, n, buffer);
  upload->offset += n;
  return n;
}

// Sends one message with libcurl (as the server's mailer does), with AUTH; returns the CURLcode.
int SendMail(const support::SmtpSink& sink, const std::string& to, const std::string& message) {
  CURL* curl = curl_easy_init();
  Upload upload{message};
  curl_slist* recipients = curl_slist_append(nullptr, ("<" + to + ">").c_str());
  curl_easy_setopt(curl, CURLOPT_URL, sink.Url().c_str());
  curl_easy_setopt(curl, CURLOPT_USERNAME, "user");
  curl_easy_setopt(curl, CURLOPT_PASSWORD, "any password");
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, "<noreply@ikigai.test>");
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, recipients);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(recipients);
  curl_easy_cleanup(curl);
  return static_cast<int>(code);
}

TEST(SmtpSinkTest, KeepsEveryMessageAndCanRefuse) {
  support::SmtpSink sink;
  EXPECT_TRUE(sink.Messages().empty());
  std::string mail =
      "From: noreply@ikigai.test\r\nTo: alice@example.com\r\nSubject: Verify\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "https://app.test/verify-email?token=3Dxyz=\r\n123\r\n";
  ASSERT_EQ(SendMail(sink, "alice@example.com", mail), CURLE_OK);
  ASSERT_EQ(SendMail(sink, "bob@example.com", "Subject: second\r\n\r\nhello\r\n"), CURLE_OK);
  auto messages = sink.WaitForMessages(2, 10s);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(support::EmailHeader(messages[0], "X-Sink-Rcpt-To"), "alice@example.com");
  EXPECT_EQ(support::EmailHeader(messages[1], "Subject"), "second");
  EXPECT_EQ(support::ExtractLink(messages[0], "https://app.test/verify-email?token="),
            "https://app.test/verify-email?token=xyz123");

  sink.SetFailing(true);
  EXPECT_NE(SendMail(sink, "carol@example.com", "Subject: refused\r\n\r\nx\r\n"), CURLE_OK);
  sink.SetFailing(false);
  EXPECT_EQ(SendMail(sink, "carol@example.com", "Subject: third\r\n\r\nx\r\n"), CURLE_OK);
  EXPECT_EQ(sink.WaitForMessages(3, 10s).size(), 3u);
}

// The conformance log line (tools/openapi/conformance.mjs reads it): what is kept, and that no
// credential reaches the file.
TEST(ConformanceLogTest, LineKeepsTheExchangeAndRedactsCredentials) {
  support::Request request;
  request.method = "POST";
  request.body = R"({"a":1})";
  request.headers = {{"Authorization", "Bearer secret.jwt.value"},
                     {"Cookie", "__Host-ikigai_refresh=refresh-secret"},
                     {"Origin", "https://app.example.com"}};
  support::Response response;
  response.status = 200;
  response.headers = {{"content-type", "application/json"},
                      {"set-cookie", "__Host-ikigai_refresh=refresh-secret; Path=/; HttpOnly"},
                      {"set-cookie", "__Host-ikigai_refresh=; Max-Age=0; Path=/"},
                      {"x-thing", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl"},
                      {"etag", "\"7\""}};
  response.body = R"({"ok":true})";
  std::string line = support::ConformanceLine(request, "http://127.0.0.1:1234/api/v1/x?limit=2&ticket=t0p",
                                              "application/json", response);
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find("secret"), std::string::npos) << line;
  EXPECT_EQ(line.find("eyJ"), std::string::npos) << line;
  EXPECT_EQ(line.find("t0p"), std::string::npos) << line;
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["method"], "POST");
  EXPECT_EQ(json["path"], "/api/v1/x?limit=2&ticket=<redacted>");
  EXPECT_EQ(json["request"]["authorization"], true);
  EXPECT_EQ(json["request"]["cookie"], true);
  EXPECT_EQ(json["request"]["body"], true);
  EXPECT_EQ(json["request"]["headers"]["content-type"], "application/json");
  EXPECT_EQ(json["request"]["headers"]["origin"], "https://app.example.com");
  EXPECT_EQ(json["status"], 200);
  EXPECT_EQ(json["headers"]["set-cookie"],
            nlohmann::json::array({"__Host-ikigai_refresh=<redacted>; Path=/; HttpOnly", "__Host-ikigai_refresh=; Max-Age=0; Path=/"}));
  EXPECT_EQ(json["headers"]["x-thing"], nlohmann::json::array({"<redacted>"}));
  EXPECT_EQ(json["headers"]["etag"], nlohmann::json::array({"\"7\""}));
  EXPECT_EQ(json["body"], R"({"ok":true})");
  EXPECT_FALSE(json.contains("body_skipped"));
}

TEST(ConformanceLogTest, LineSkipsStreamsHugeAndNonUtf8Bodies) {
  support::Request request;
  support::Response response;
  response.status = 200;
  response.headers = {{"content-type", "text/event-stream"}};
  response.body = "retry: 3000\n\n";
  auto stream = nlohmann::json::parse(support::ConformanceLine(request, "/s", "", response));
  EXPECT_EQ(stream["body_skipped"], "event_stream");
  EXPECT_FALSE(stream.contains("body"));
  EXPECT_FALSE(stream["request"]["headers"].contains("content-type"));

  response.headers = {{"content-type", "application/json"}};
  response.body = std::string((size_t{1} << 20) + 1, 'x');
  auto huge = nlohmann::json::parse(support::ConformanceLine(request, "/s", "", response));
  EXPECT_EQ(huge["body_skipped"], "too_large");
  EXPECT_EQ(huge["body_size"], (size_t{1} << 20) + 1);

  response.body = "\xff\xfe";
  auto binary = nlohmann::json::parse(support::ConformanceLine(request, "/s", "", response));
  EXPECT_EQ(binary["body_skipped"], "not_utf8");
}

}  // namespace
}  // namespace ikigai
