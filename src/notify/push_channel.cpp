#include "notify/push_channel.hpp"

#include "core/ids.hpp"
#include "core/text.hpp"
#include "notify/stream_hub.hpp"
#include "push/crypto.hpp"
#include "store/push.hpp"

namespace ikigai::notify {

std::string PushPayload(store::NotificationRow row) {
  std::string json = NotificationJson(row);
  if (json.size() <= push::kMaxPlaintext) return json;
  // The longest prefix of the body (at a character boundary, plus an ellipsis) that fits; JSON
  // escapes make the size per byte uneven, so search rather than subtract (a dozen encodings of a
  // few KiB, only for bodies that are too long).
  const std::string original = row.body;
  auto with = [&](std::size_t keep) {
    const std::string kept = core::ValidUtf8Prefix(original, keep);
    row.body = kept.empty() ? std::string() : kept + "\xe2\x80\xa6";
    return NotificationJson(row);
  };
  std::size_t lo = 0;  // fits (an empty body always does: titles are at most 255 bytes)
  std::size_t hi = original.size();  // does not fit
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    if (with(mid).size() <= push::kMaxPlaintext) lo = mid; else hi = mid;
  }
  return with(lo);
}

const char* PushUrgency(Kind kind) {
  return kind == Kind::kSecurity || kind == Kind::kTaskDue ? "high" : "normal";
}

void PushChannel::Deliver(store::Connection& c, const Recipient& to, const store::NotificationPrefsRow& prefs,
                          const Notice& notice, const store::NotificationRow& row) {
  if (!prefs.push[Index(notice.kind)]) return;
  if (!store::PushStore::HasSubscriptions(c, to.id)) return;  // most recipients: no payload to make
  store::NotificationRow pushed = row;
  // With the inbox off for this kind there is no inbox row: the push still has an id (its Topic).
  if (pushed.id.empty()) pushed.id = core::NewId(clock_, random_);
  const std::string payload = PushPayload(pushed);
  if (payload.size() > push::kMaxPlaintext) return;  // a title alone too long to push: cannot happen (255 bytes)
  if (store::PushStore::Enqueue(c, pushed.id, to.id, payload, PushUrgency(notice.kind), row.created_at) > 0) {
    queued_.store(true, std::memory_order_relaxed);
  }
}

void PushChannel::AfterCommit() {
  if (queued_.exchange(false, std::memory_order_relaxed) && wake_) wake_();
}

}  // namespace ikigai::notify
