#include "notify/push_subscriptions.hpp"

#include <algorithm>

#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "push/base64url.hpp"
#include "push/crypto.hpp"
#include "store/columns.hpp"

namespace ikigai::notify {

std::map<std::string, core::FieldError> SubscriptionErrors(const SubscriptionInput& in, bool allow_http) {
  using core::FieldCode;
  std::map<std::string, core::FieldError> errors;
  const std::string& e = in.endpoint;
  const bool printable_ascii =
      std::all_of(e.begin(), e.end(), [](char ch) { return ch > 0x20 && ch < 0x7f; });
  const bool https = e.rfind("https://", 0) == 0;
  const bool http = e.rfind("http://", 0) == 0;
  if (e.empty()) {
    errors["endpoint"] = {FieldCode::kRequired, "is required"};
  } else if (e.size() > kMaxEndpointBytes) {
    errors["endpoint"] = {FieldCode::kTooLong, "must be at most 2048 bytes"};
  } else if (!printable_ascii || !push::UrlOrigin(e) || (!https && !(allow_http && http))) {
    errors["endpoint"] = {FieldCode::kInvalidFormat, allow_http ? "must be an https or http URL" : "must be an https URL"};
  }
  const auto p256dh = push::Base64UrlDecode(in.p256dh);
  if (!p256dh || p256dh->size() != push::kPointBytes) {
    errors["keys.p256dh"] = {FieldCode::kInvalidFormat, "must be base64url of a 65-byte uncompressed P-256 point"};
  } else if (!push::IsP256Point(*p256dh)) {
    errors["keys.p256dh"] = {FieldCode::kInvalidValue, "is not a point on the P-256 curve"};
  }
  const auto auth = push::Base64UrlDecode(in.auth);
  if (!auth || auth->size() != push::kAuthBytes) errors["keys.auth"] = {FieldCode::kInvalidFormat, "must be base64url of 16 bytes"};
  return errors;
}

core::Result<Subscribed> PushSubscriptionService::Subscribe(const std::string& user_id,
                                                            const SubscriptionInput& input,
                                                            const core::RequestMeta& meta) {
  if (auto errors = SubscriptionErrors(input, allow_http_); !errors.empty()) {
    return core::Fail(core::Error{core::ErrorCode::kValidation, {}, std::move(errors)});
  }
  // Stored without padding whatever the browser sent: the same key always reads the same.
  const std::string p256dh = push::Base64UrlEncode(*push::Base64UrlDecode(input.p256dh));
  const std::string auth = push::Base64UrlEncode(*push::Base64UrlDecode(input.auth));
  std::optional<std::string> agent;
  if (!meta.user_agent.empty()) agent = store::FitColumn(meta.user_agent, store::kPushUserAgentColumn);

  auto attempt = [&]() {
    return db_.Transaction([&](store::Connection& c) -> core::Result<Subscribed> {
      const long long now = core::ToMillis(clock_.Now());
      auto existing = store::PushStore::FindByEndpoint(c, input.endpoint);
      if (existing && existing->user_id == user_id) {
        existing->p256dh = p256dh;
        existing->auth = auth;
        existing->user_agent = agent;
        existing->expiration_time = input.expiration_time;
        existing->registered_at = now;
        store::PushStore::Reregister(c, *existing);
        recorder_.Record(c, meta, {.actor_id = user_id, .action = "push.subscribed",
                                   .target_type = "push_subscription", .target_id = existing->id,
                                   .data = {{"renewed", true}}});
        return Subscribed{*existing, false};
      }
      if (existing) {
        // The browser now belongs to this user: the previous owner's row (and its queue, which
        // was meant for them) goes, and a new row starts.
        store::PushStore::Delete(c, existing->id);
        recorder_.Record(c, meta, {.actor_id = user_id, .action = "push.unsubscribed",
                                   .target_type = "push_subscription", .target_id = existing->id,
                                   .data = {{"reason", "moved"}}});
      }
      auto mine = store::PushStore::ForUserByRegistration(c, user_id);
      for (std::size_t i = 0; i + kMaxPushSubscriptions <= mine.size(); ++i) {
        store::PushStore::Delete(c, mine[i].id);
        recorder_.Record(c, meta, {.actor_id = user_id, .action = "push.unsubscribed",
                                   .target_type = "push_subscription", .target_id = mine[i].id,
                                   .data = {{"reason", "replaced"}}});
      }
      store::PushSubscriptionRow row;
      row.id = core::NewId(clock_, random_);
      row.user_id = user_id;
      row.endpoint = input.endpoint;
      row.p256dh = p256dh;
      row.auth = auth;
      row.user_agent = agent;
      row.expiration_time = input.expiration_time;
      row.created_at = now;
      row.registered_at = now;
      store::PushStore::Insert(c, row);
      recorder_.Record(c, meta, {.actor_id = user_id, .action = "push.subscribed", .target_type = "push_subscription",
                                 .target_id = row.id, .data = nlohmann::json::object()});
      return Subscribed{row, !existing.has_value()};
    });
  };
  auto result = attempt();
  // Two first registrations of one endpoint at once: the loser finds the winner's row.
  if (!result && result.error().code == core::ErrorCode::kConflict) result = attempt();
  return result;
}

core::Result<std::vector<store::PushSubscriptionRow>> PushSubscriptionService::List(
    const std::string& user_id, const std::optional<std::string>& before_id, int limit) {
  return db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::PushSubscriptionRow>> {
    return store::PushStore::Page(c, user_id, before_id, limit + 1);
  });
}

core::Result<void> PushSubscriptionService::Unsubscribe(const std::string& user_id, const std::string& id,
                                                        const core::RequestMeta& meta) {
  if (!core::IsIdText(id)) return core::Fail(core::ErrorCode::kNotFound);
  return db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    if (!store::PushStore::FindForUser(c, user_id, id)) return core::Fail(core::ErrorCode::kNotFound);
    store::PushStore::Delete(c, id);
    recorder_.Record(c, meta, {.actor_id = user_id, .action = "push.unsubscribed", .target_type = "push_subscription",
                               .target_id = id, .data = {{"reason", "deleted"}}});
    return {};
  });
}

}  // namespace ikigai::notify
