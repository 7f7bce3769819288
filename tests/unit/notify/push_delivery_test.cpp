// The pure parts of push delivery: the payload shortened to fit 4096 encrypted bytes, the
// urgency per kind, what each push service answer means, backoff with jitter and Retry-After.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "notify/push_channel.hpp"
#include "notify/push_sender.hpp"
#include "notify/stream_hub.hpp"
#include "push/crypto.hpp"

namespace ikigai::notify {
namespace {

using namespace std::chrono_literals;

store::NotificationRow Row(std::string body) {
  store::NotificationRow row;
  row.id = "01890a5d-ac96-774b-bcce-b302099a8057";
  row.user_id = "01890a5d-ac96-774b-bcce-b302099a8058";
  row.kind = "announcement";
  row.title = "News";
  row.body = std::move(body);
  row.data = "{}";
  row.created_at = 1'800'000'000'000;
  return row;
}

TEST(PushPayload, ShortNotificationsAreTheNotificationJsonUnchanged) {
  const auto row = Row("Hello");
  EXPECT_EQ(PushPayload(row), NotificationJson(row));
}

TEST(PushPayload, LongBodiesAreCutAtACharacterSoTheMessageFits) {
  for (const std::string& unit : {std::string("a"), std::string("\xc3\xa9"), std::string("\""), std::string("\x01")}) {
    std::string body;
    while (body.size() < 10000) body += unit;
    const std::string payload = PushPayload(Row(body));
    ASSERT_LE(payload.size(), push::kMaxPlaintext) << unit;
    EXPECT_GT(payload.size(), push::kMaxPlaintext - 16) << "cut far more than needed";
    const auto json = nlohmann::json::parse(payload);  // still valid JSON and UTF-8
    const std::string cut = json["body"];
    EXPECT_EQ(cut.substr(cut.size() - 3), "\xe2\x80\xa6");
    EXPECT_EQ(body.rfind(cut.substr(0, cut.size() - 3), 0), 0u);
    EXPECT_EQ(json["title"], "News");
    EXPECT_EQ(json["id"], "01890a5d-ac96-774b-bcce-b302099a8057");
  }
}

TEST(PushPayload, UrgencyIsHighForSecurityAndTaskDue) {
  EXPECT_STREQ(PushUrgency(Kind::kSecurity), "high");
  EXPECT_STREQ(PushUrgency(Kind::kTaskDue), "high");
  EXPECT_STREQ(PushUrgency(Kind::kAnnouncement), "normal");
  EXPECT_STREQ(PushUrgency(Kind::kFeedbackReply), "normal");
}

TEST(PushDelivery, StatusesMapToOutcomes) {
  EXPECT_EQ(ClassifyPushStatus(201), PushOutcome::kDelivered);
  EXPECT_EQ(ClassifyPushStatus(200), PushOutcome::kDelivered);
  EXPECT_EQ(ClassifyPushStatus(404), PushOutcome::kGone);
  EXPECT_EQ(ClassifyPushStatus(410), PushOutcome::kGone);
  EXPECT_EQ(ClassifyPushStatus(429), PushOutcome::kRetry);
  EXPECT_EQ(ClassifyPushStatus(500), PushOutcome::kRetry);
  EXPECT_EQ(ClassifyPushStatus(503), PushOutcome::kRetry);
  EXPECT_EQ(ClassifyPushStatus(0), PushOutcome::kRetry);
  EXPECT_EQ(ClassifyPushStatus(400), PushOutcome::kDrop);
  EXPECT_EQ(ClassifyPushStatus(403), PushOutcome::kDrop);
  EXPECT_EQ(ClassifyPushStatus(413), PushOutcome::kDrop);
  EXPECT_EQ(ClassifyPushStatus(301), PushOutcome::kDrop);
}

TEST(PushDelivery, BackoffDoublesWithJitterUpToAnHourAndRetryAfterWins) {
  EXPECT_EQ(PushBackoff(1, 30s, std::nullopt, 0), 15s);
  EXPECT_EQ(PushBackoff(1, 30s, std::nullopt, 15000), 30s);
  EXPECT_EQ(PushBackoff(3, 30s, std::nullopt, 60000), 120s);
  EXPECT_EQ(PushBackoff(3, 30s, std::nullopt, 0), 60s);
  EXPECT_EQ(PushBackoff(40, 30s, std::nullopt, 1800000), 1h);
  EXPECT_EQ(PushBackoff(40, 30s, std::nullopt, 0), 30min);
  for (std::uint32_t bits : {1u, 77u, 123456u, 0xffffffffu}) {
    const auto d = PushBackoff(2, 10s, std::nullopt, bits);
    EXPECT_GE(d, 10s);
    EXPECT_LE(d, 20s);
  }
  EXPECT_EQ(PushBackoff(1, 30s, 120s, 5), 120s);
  EXPECT_EQ(PushBackoff(1, 30s, 0s, 5), 1s);
}

TEST(PushDelivery, RetryAfterIsSecondsOrAnHttpDate) {
  const auto now = core::FromMillis(1'800'000'000'000);  // 2027-01-15T08:00:00Z
  EXPECT_EQ(ParseRetryAfter(" 7\r\n", now), 7s);
  EXPECT_EQ(ParseRetryAfter("Fri, 15 Jan 2027 08:01:00 GMT", now), 60s);
  EXPECT_EQ(ParseRetryAfter("Fri, 15 Jan 2027 07:00:00 GMT", now), 0s);
  EXPECT_EQ(ParseRetryAfter("99999999999", now), kPushGiveUpAfter);
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
}

}  // namespace
}  // namespace ikigai::notify
