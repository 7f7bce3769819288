#include "notify/push_sender.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "core/ids.hpp"
#include "push/base64url.hpp"

namespace ikigai::notify {
namespace {

constexpr std::chrono::hours kJwtLifetime{12};             // RFC 8292: at most 24 h
constexpr std::chrono::hours kJwtRenewBefore{1};           // a cached header is renewed this early
constexpr std::chrono::seconds kLeaseMargin{60};           // beyond the request timeouts
constexpr int kRoundsPerBatch = 8;                          // a batch is this many times `parallel`
constexpr std::size_t kMaxResponseHeader = 4096;

long long Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string Trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

PushOutcome ClassifyPushStatus(long status) {
  if (status >= 200 && status < 300) return PushOutcome::kDelivered;
  if (status == 404 || status == 410) return PushOutcome::kGone;
  if (status == 0 || status == 429 || (status >= 500 && status < 600)) return PushOutcome::kRetry;
  return PushOutcome::kDrop;
}

std::chrono::milliseconds PushBackoff(int attempts, std::chrono::seconds retry_min,
                                      std::optional<std::chrono::seconds> retry_after, std::uint32_t random_bits) {
  using std::chrono::milliseconds;
  if (retry_after) return std::max<milliseconds>(*retry_after, std::chrono::seconds{1});
  milliseconds delay = retry_min;
  for (int i = 1; i < attempts && delay < kPushMaxBackoff; ++i) delay *= 2;
  delay = std::min<milliseconds>(delay, kPushMaxBackoff);
  const auto half = delay.count() / 2;
  return milliseconds{delay.count() - half + static_cast<long long>(random_bits % static_cast<std::uint32_t>(half + 1))};
}

std::optional<std::chrono::seconds> ParseRetryAfter(const std::string& value, core::TimePoint now) {
  const std::string v = Trim(value);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
    if (v.size() > 9) return kPushGiveUpAfter;  // more than a day: past the retry window anyway
    return std::chrono::seconds{std::stoll(v)};
  }
  const time_t at = curl_getdate(v.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  const auto delta = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::system_clock::from_time_t(at) - std::chrono::time_point_cast<std::chrono::seconds>(now));
  return std::max(delta, std::chrono::seconds{0});
}

struct PushSender::Transfer {
  store::PushJob job;
  std::string body;
  std::string audience;
  curl_slist* headers = nullptr;
  bool ready = false;     // false: nothing could be sent (a subscription whose keys are unusable)
  bool finished = false;  // the request ended (result and status are set); false after a multi error
  long status = 0;
  CURLcode result = CURLE_OK;
  std::string retry_after;
  std::size_t header_bytes = 0;
};

struct PushSender::Curl {
  CURLM* multi = nullptr;
  std::vector<CURL*> easy;
  explicit Curl(unsigned parallel) {
    multi = curl_multi_init();
    // At most `parallel` connections, kept open between batches for the next pushes to the
    // same push service (they are few: FCM, Mozilla, Apple, Microsoft).
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(parallel));
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(parallel));
    for (unsigned i = 0; i < parallel; ++i) easy.push_back(curl_easy_init());
  }
  ~Curl() {
    for (CURL* e : easy) curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
  }
};

namespace {

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<PushSender::Transfer*>(user);
  const std::size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes <= kMaxResponseHeader) {
    const std::string line(data, n);
    const auto colon = line.find(':');
    if (colon != std::string::npos && Lower(line.substr(0, colon)) == "retry-after") {
      t->retry_after = line.substr(colon + 1);
    }
  }
  return n;
}

size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

}  // namespace

PushSender::PushSender(store::Database& db, const push::EcKey& vapid, PushSenderOptions options,
                       const core::Clock& clock, core::Random& random)
    : db_(db),
      vapid_(vapid),
      options_(std::move(options)),
      clock_(clock),
      random_(random),
      curl_(std::make_unique<Curl>(std::max(1u, options_.parallel))) {}

PushSender::~PushSender() = default;

std::uint64_t PushSender::Failed(const char* status_class) const {
  const std::string c = status_class;
  if (c == "4xx") return failed_4xx_.load();
  if (c == "5xx") return failed_5xx_.load();
  if (c == "network") return failed_network_.load();
  return 0;
}

double PushSender::OldestAgeSeconds() const {
  const long long oldest = oldest_created_at_.load();
  if (oldest == 0) return 0;
  return std::max(0.0, static_cast<double>(core::ToMillis(clock_.Now()) - oldest) / 1000.0);
}

const std::string& PushSender::Authorization(const std::string& audience) {
  const auto now = clock_.Now();
  auto it = authorizations_.find(audience);
  if (it == authorizations_.end() || now >= it->second.second - kJwtRenewBefore) {
    const auto expires = now + kJwtLifetime;
    const auto exp = std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
    it = authorizations_.insert_or_assign(audience, std::pair{push::VapidAuthorization(vapid_, audience, exp,
                                                                                         options_.subject),
                                                              expires})
             .first;
  }
  return it->second.first;
}

bool PushSender::Prepare(Transfer& t, CURL* e) {
  const auto p256dh = push::Base64UrlDecode(t.job.p256dh);
  const auto auth = push::Base64UrlDecode(t.job.auth);
  const auto audience = push::UrlOrigin(t.job.endpoint);
  if (!p256dh || !auth || auth->size() != push::kAuthBytes || !audience ||
      t.job.payload.size() > push::kMaxPlaintext) {
    return false;
  }
  auto body = push::EncryptAes128Gcm(t.job.payload, *p256dh, *auth);
  if (!body) return false;
  t.body = std::move(*body);
  t.audience = *audience;
  std::string topic = t.job.notification_id;
  topic.erase(std::remove(topic.begin(), topic.end(), '-'), topic.end());
  for (const std::string& h : {std::string("TTL: 86400"), "Urgency: " + t.job.urgency, "Topic: " + topic.substr(0, 32),
                               std::string("Content-Encoding: aes128gcm"),
                               std::string("Content-Type: application/octet-stream"),
                               "Authorization: " + Authorization(t.audience)}) {
    t.headers = curl_slist_append(t.headers, h.c_str());
  }
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, t.job.endpoint.c_str());
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_POST, 1L);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(t.body.size()));
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.body.data());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::chrono::milliseconds(options_.timeout).count()));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Discard);
  curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "ikigai-push/1");
  t.ready = true;
  return true;
}

void PushSender::SendBatch(std::vector<Transfer>& batch) {
  // A sliding window: up to `parallel` requests in flight, the next one encrypted and started as
  // soon as any finishes, so one slow push service answer holds up one slot, not the batch.
  std::vector<CURL*> idle(curl_->easy.rbegin(), curl_->easy.rend());
  std::size_t next = 0;
  std::size_t in_flight = 0;
  auto fill = [&] {
    while (!idle.empty() && next < batch.size()) {
      Transfer& t = batch[next++];
      if (!Prepare(t, idle.back())) continue;  // unusable keys or endpoint: recorded as dropped
      curl_multi_add_handle(curl_->multi, idle.back());
      idle.pop_back();
      ++in_flight;
    }
  };
  fill();
  while (in_flight > 0) {
    int running = 0;
    if (curl_multi_perform(curl_->multi, &running) != CURLM_OK) break;
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(curl_->multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* e = msg->easy_handle;
      Transfer* t = nullptr;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
      t->result = msg->data.result;
      if (t->result == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->status);
      t->finished = true;
      curl_multi_remove_handle(curl_->multi, e);
      idle.push_back(e);
      --in_flight;
    }
    const std::size_t before = in_flight;
    fill();
    // Wait for network activity only when nothing new was started (a new one is performed first).
    if (in_flight > 0 && in_flight == before) curl_multi_poll(curl_->multi, nullptr, 0, 1000, nullptr);
  }
  for (CURL* e : curl_->easy) curl_multi_remove_handle(curl_->multi, e);  // after a multi error
  for (auto& t : batch) {
    curl_slist_free_all(t.headers);
    t.headers = nullptr;
  }
}

void PushSender::Record(const std::vector<Transfer>& batch, const std::string& token) {
  const auto now = clock_.Now();
  const long long now_ms = core::ToMillis(now);
  std::uint64_t sent = 0, removed = 0, dropped = 0, f4 = 0, f5 = 0, fnet = 0;
  auto done = db_.Transaction([&](store::Connection& c) -> core::Result<void> {
    sent = removed = dropped = f4 = f5 = fnet = 0;
    for (const auto& t : batch) {
      const long status = t.finished && t.result == CURLE_OK ? t.status : 0;
      if (!t.ready) {
        spdlog::warn("push {} to subscription {} dropped: its keys or endpoint cannot be used",
                     t.job.notification_id, t.job.subscription_id);
        store::PushStore::Drop(c, t.job, token);
        ++dropped;
        continue;
      }
      if (status == 0) ++fnet;
      else if (status >= 500) ++f5;
      else if (status >= 300) ++f4;
      switch (ClassifyPushStatus(status)) {
        case PushOutcome::kDelivered:
          ++sent;  // its row goes with the batch's other delivered ones, below
          break;
        case PushOutcome::kGone:
          // The browser unsubscribed or the push service forgot it: the subscription goes now,
          // with everything queued for it.
          store::PushStore::Delete(c, t.job.subscription_id);
          spdlog::info("push subscription {} removed: {} answered {}", t.job.subscription_id, t.audience, status);
          ++removed;
          break;
        case PushOutcome::kRetry: {
          std::uint32_t bits = 0;
          random_.Fill({reinterpret_cast<std::uint8_t*>(&bits), sizeof bits});
          const auto delay = PushBackoff(t.job.attempts, options_.retry_min, ParseRetryAfter(t.retry_after, now), bits);
          const long long next = now_ms + delay.count();
          if (next > t.job.created_at + std::chrono::milliseconds(kPushGiveUpAfter).count()) {
            spdlog::warn("push {} to subscription {} given up after {} attempts in 24 h (last: {})",
                         t.job.notification_id, t.job.subscription_id, t.job.attempts,
                         status == 0 ? std::string(curl_easy_strerror(t.result)) : std::to_string(status));
            store::PushStore::Drop(c, t.job, token);
            ++dropped;
          } else {
            store::PushStore::Reschedule(c, t.job, token, next, static_cast<int>(status));
          }
          break;
        }
        case PushOutcome::kDrop:
          spdlog::warn("push {} to subscription {} dropped: {} answered {}", t.job.notification_id,
                       t.job.subscription_id, t.audience, status);
          store::PushStore::Drop(c, t.job, token);
          ++dropped;
          break;
      }
    }
    store::PushStore::DeliveredAll(c, token, now_ms);
    return {};
  });
  if (!done) {
    // The rows stay claimed until their lease ends; then any instance tries them again.
    spdlog::error("push: cannot record the results of {} pushes: {}", batch.size(), done.error().detail);
    return;
  }
  sent_ += sent;
  removed_ += removed;
  dropped_ += dropped;
  failed_4xx_ += f4;
  failed_5xx_ += f5;
  failed_network_ += fnet;
}

long long PushSender::RunOnce() {
  std::lock_guard lock(run_mutex_);
  long long attempted = 0;
  // A batch is claimed and recorded in one transaction each, and sent kRoundsPerBatch times
  // `parallel` at a time: fewer commits per push, while the lease still covers the slowest batch
  // (every request of it taking the whole timeout).
  const int batch_size = static_cast<int>(curl_->easy.size()) * kRoundsPerBatch;
  const auto lease = std::chrono::milliseconds(options_.timeout * kRoundsPerBatch + kLeaseMargin).count();
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    const std::string token = core::NewId(clock_, random_);
    const long long now = core::ToMillis(clock_.Now());
    auto claimed = db_.Transaction([&](store::Connection& c) -> core::Result<std::vector<store::PushJob>> {
      return store::PushStore::Claim(c, token, now, now + lease, batch_size);
    });
    if (!claimed) {
      spdlog::error("push: cannot claim queued pushes: {}", claimed.error().detail);
      break;
    }
    if (claimed->empty()) break;
    std::vector<Transfer> batch(claimed->size());
    for (std::size_t i = 0; i < claimed->size(); ++i) batch[i].job = std::move((*claimed)[i]);
    const auto claimed_at = std::chrono::steady_clock::now();
    SendBatch(batch);
    const auto sent_at = std::chrono::steady_clock::now();
    Record(batch, token);
    spdlog::debug("push: a batch of {} claimed in {} ms, sent in {} ms, recorded in {} ms", batch.size(),
                  Ms(claimed_at - started), Ms(sent_at - claimed_at), Ms(std::chrono::steady_clock::now() - sent_at));
    attempted += static_cast<long long>(batch.size());
  }
  auto stats = db_.Run([](store::Connection& c) -> core::Result<store::PushQueueStats> {
    return store::PushStore::QueueStats(c);
  });
  if (stats) {
    depth_ = stats->depth;
    oldest_created_at_ = stats->oldest_created_at.value_or(0);
  }
  return attempted;
}

}  // namespace ikigai::notify
