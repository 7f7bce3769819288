// Outbox queuing and the claim-send-mark loop.
#include "mail/outbox.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/ids.hpp"
#include "mail/templates.hpp"
#include "store/outbox.hpp"

namespace ikigai::mail {

void Outbox::Enqueue(store::Connection& c, const std::optional<std::string>& user_id, const std::string& kind,
                     const std::string& to, const std::map<std::string, std::string>& values) const {
  const OutgoingMail mail = RenderTemplate(kind, to, values);
  store::OutboxRow row;
  row.id = core::NewId(clock_, random_);
  row.user_id = user_id;
  row.kind = kind;
  row.to_address = to;
  row.subject = mail.subject;
  row.text_body = mail.text;
  row.html_body = mail.html;
  row.created_at = row.next_attempt_at = core::ToMillis(clock_.Now());
  store::OutboxStore::Insert(c, row);
}

OutboxSender::OutboxSender(store::Database& db, Mailer& mailer, SenderSettings settings, const core::Clock& clock,
                           core::Random& random)
    : db_(db), mailer_(mailer), settings_(std::move(settings)), clock_(clock), random_(random) {}

int OutboxSender::RunOnce() {
  int sent = 0;
  const std::string from_address = AddressOf(settings_.from);
  const std::string domain = from_address.substr(from_address.find('@') + 1);
  for (int round = 0; round < 100; ++round) {  // at most 1000 messages per tick
    const long long now = core::ToMillis(clock_.Now());
    // A fresh token per claim: an outcome is recorded only by the claim that still holds the row.
    const std::string token = core::NewId(clock_, random_);
    auto claimed = db_.Transaction([&](store::Connection& c) -> core::Result<std::vector<store::OutboxRow>> {
      return store::OutboxStore::Claim(c, token, now, now + settings_.claim_timeout.count() * 1000, 10);
    });
    if (!claimed || claimed->empty()) break;
    for (const auto& row : *claimed) {
      const OutgoingMail mail{row.to_address, row.subject, row.text_body, row.html_body};
      const std::string mime = RenderMime(mail, settings_.from, clock_.Now(), row.id + "@" + domain, mailer_.Encoding());
      auto delivered = mailer_.Send(from_address, row.to_address, mime);
      const long long after = core::ToMillis(clock_.Now());
      std::optional<long long> next;
      if (!delivered) {
        const long long delay_s = std::min<long long>(settings_.retry_max.count(),
                                                      settings_.retry_min.count() << std::min(row.attempts - 1, 20));
        const long long give_up = row.created_at + std::chrono::duration_cast<std::chrono::milliseconds>(
                                                       settings_.give_up_after).count();
        if (after + delay_s * 1000 < give_up) next = after + delay_s * 1000;
      }
      auto marked = db_.Run([&](store::Connection& c) -> core::Result<void> {
        if (delivered) {
          store::OutboxStore::MarkSent(c, row.id, token, after);
        } else {
          store::OutboxStore::MarkFailed(c, row.id, token, delivered.error().detail, next);
        }
        return {};
      });
      if (delivered) {
        ++sent;
        sent_.fetch_add(1);
        spdlog::info("mail {} ({}) sent", row.id, row.kind);
      } else if (next) {
        retried_.fetch_add(1);
        spdlog::warn("mail {} ({}) not sent, retry in {} s: {}", row.id, row.kind, (*next - after) / 1000,
                     delivered.error().detail);
      } else {
        failed_.fetch_add(1);
        spdlog::error("mail {} ({}) failed for good: {}", row.id, row.kind, delivered.error().detail);
      }
      if (!marked) spdlog::warn("mail {}: could not record the outcome; its claim will expire and it is retried", row.id);
    }
  }
  auto depth = db_.Run([](store::Connection& c) -> core::Result<long long> { return store::OutboxStore::Depth(c); });
  if (depth) depth_.store(*depth);
  return sent;
}

}  // namespace ikigai::mail
