// The stream hub and its poller.
#include "notify/stream_hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "core/time_format.hpp"
#include "store/sessions.hpp"

namespace ikigai::notify {
namespace {

// Above this many users with open streams, one query reads every recent row instead of an IN
// list of users (and the rows of users without a stream are skipped here).
constexpr std::size_t kMaxUsersInList = 500;
constexpr int kPollPage = 5000;

}  // namespace

std::string NotificationJson(const store::NotificationRow& row) {
  nlohmann::json data = nlohmann::json::parse(row.data, nullptr, false);
  if (!data.is_object()) data = nlohmann::json::object();
  const nlohmann::json j = {
      {"id", row.id},
      {"kind", row.kind},
      {"title", row.title},
      {"body", row.body},
      {"data", std::move(data)},
      {"read_at", row.read_at ? nlohmann::json(core::FormatRfc3339(core::FromMillis(*row.read_at)))
                              : nlohmann::json(nullptr)},
      {"created_at", core::FormatRfc3339(core::FromMillis(row.created_at))}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string EncodeEvent(const store::NotificationRow& row) {
  // The JSON text has no raw newline (dump escapes control characters), so one data: line holds it.
  std::string out = "id: ";
  out += row.id;
  out += "\nevent: notification\ndata: ";
  out += NotificationJson(row);
  out += "\n\n";
  return out;
}

std::string SmallestIdAt(long long ms) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(12, '0');
  auto v = static_cast<unsigned long long>(std::max(0LL, ms));
  for (int i = 11; i >= 0; --i) {
    hex[static_cast<std::size_t>(i)] = kHex[v & 0xF];
    v >>= 4;
  }
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-0000-0000-000000000000";
}

StreamHub::StreamHub(store::Database& db, const core::Clock& clock, StreamSettings settings)
    : db_(db), clock_(clock), settings_(settings) {}

StreamHub::~StreamHub() { Stop(); }

void StreamHub::Add(std::shared_ptr<StreamOutput> out, std::string user_id, std::string session_id,
                    std::string after_id, std::vector<std::string> sent) {
  if (after_id.empty()) after_id = SmallestIdAt(core::ToMillis(clock_.Now()));
  std::vector<std::shared_ptr<StreamOutput>> to_close;
  {
    std::lock_guard lock(mutex_);
    std::size_t mine = 0;
    for (const auto& s : streams_) mine += s.user_id == user_id && s.out->IsOpen() ? 1 : 0;
    for (auto it = streams_.begin(); it != streams_.end() && mine >= settings_.per_user;) {
      if (it->user_id == user_id && it->out->IsOpen()) {
        to_close.push_back(it->out);
        it = streams_.erase(it);
        --mine;
      } else {
        ++it;
      }
    }
    Stream s{std::move(out), std::move(user_id), std::move(session_id), std::move(after_id), {},
             std::chrono::steady_clock::now()};
    s.sent.insert(sent.begin(), sent.end());
    streams_.push_back(std::move(s));
  }
  for (auto& out_to_close : to_close) out_to_close->Close();
}

std::size_t StreamHub::Open() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& s : streams_) n += s.out->IsOpen() ? 1 : 0;
  return n;
}

void StreamHub::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void StreamHub::Stop() {
  {
    std::lock_guard lock(wake_mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::list<Stream> ending;
  {
    std::lock_guard lock(mutex_);
    ending.swap(streams_);
  }
  for (auto& s : ending) s.out->Close();
}

void StreamHub::Loop() {
  for (;;) {
    try {
      PollOnce();
    } catch (const std::exception& e) {
      spdlog::error("notification poller: {}", e.what());
    }
    std::unique_lock lock(wake_mutex_);
    if (wake_.wait_for(lock, settings_.poll_interval, [&] { return stopping_; })) return;
  }
}

void StreamHub::DropClosed() {
  std::lock_guard lock(mutex_);
  streams_.remove_if([](const Stream& s) { return !s.out->IsOpen(); });
}

void StreamHub::EndRevoked() {
  std::vector<std::string> sessions;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : streams_) sessions.push_back(s.session_id);
  }
  std::sort(sessions.begin(), sessions.end());
  sessions.erase(std::unique(sessions.begin(), sessions.end()), sessions.end());
  if (sessions.empty()) return;
  const long long now = core::ToMillis(clock_.Now());
  auto live = db_.Run([&](store::Connection& c) -> core::Result<std::set<std::string>> {
    return store::SessionStore::LiveAmong(c, sessions, now);
  });
  if (!live) return;  // the database is away: streams stay until it answers
  std::vector<std::shared_ptr<StreamOutput>> ending;
  {
    std::lock_guard lock(mutex_);
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (live->count(it->session_id) == 0 &&
          std::binary_search(sessions.begin(), sessions.end(), it->session_id)) {
        ending.push_back(it->out);
        it = streams_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& out : ending) out->Close();
}

void StreamHub::PollOnce() {
  const auto started = std::chrono::steady_clock::now();
  DropClosed();
  std::vector<std::string> users;
  {
    std::lock_guard lock(mutex_);
    for (const auto& s : streams_) users.push_back(s.user_id);
  }
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  if (users.empty()) {
    stats_.last_poll_ms.store(core::ToMillis(clock_.Now()));
    return;
  }
  const long long now = core::ToMillis(clock_.Now());
  const std::string floor = SmallestIdAt(now - settings_.overlap.count());
  const std::vector<std::string> filter = users.size() <= kMaxUsersInList ? users : std::vector<std::string>{};
  std::vector<store::NotificationRow> rows;
  std::string from = floor;
  for (;;) {
    auto page = db_.Run([&](store::Connection& c) -> core::Result<std::vector<store::NotificationRow>> {
      return store::NotificationStore::Recent(c, filter, from, kPollPage);
    });
    if (!page) break;
    const bool more = static_cast<int>(page->size()) == kPollPage;
    if (more) from = page->back().id + "0";  // the next id after it, in text order
    rows.insert(rows.end(), std::make_move_iterator(page->begin()), std::make_move_iterator(page->end()));
    if (!more) break;
  }
  std::map<std::string, std::vector<const store::NotificationRow*>> by_user;
  for (const auto& r : rows) by_user[r.user_id].push_back(&r);
  const auto tick = std::chrono::steady_clock::now();
  const long long sent_at = core::ToMillis(clock_.Now());
  {
    std::lock_guard lock(mutex_);
    for (auto& s : streams_) {
      // Ids older than the window cannot come back: forget them.
      s.sent.erase(s.sent.begin(), s.sent.lower_bound(floor));
      std::string batch;
      if (auto it = by_user.find(s.user_id); it != by_user.end()) {
        for (const auto* r : it->second) {
          if (r->id <= s.after_id || s.sent.count(r->id) > 0) continue;
          batch += EncodeEvent(*r);
          s.sent.insert(r->id);
          stats_.delivered.fetch_add(1, std::memory_order_relaxed);
          stats_.last_lag_ms.store(sent_at - r->created_at, std::memory_order_relaxed);
        }
      }
      if (batch.empty() && tick - s.last_write >= settings_.keep_alive) batch = ": keep-alive\n\n";
      if (!batch.empty()) {
        s.out->Send(std::move(batch));
        s.last_write = tick;
      }
    }
  }
  EndRevoked();
  stats_.polls.fetch_add(1, std::memory_order_relaxed);
  stats_.last_poll_ms.store(core::ToMillis(clock_.Now()));
  stats_.poll_duration_us.store(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace ikigai::notify
