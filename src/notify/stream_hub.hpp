// Live notification streams of one instance. The transport holds the connections; the hub keeps,
// per stream, who it belongs to and what it has sent, and one poller thread feeds them all: about
// once a second one query reads the notifications made in the last few seconds (ids are UUIDv7,
// so "made after t" is "id >= the smallest id of t"), for the users with open streams, and sends
// each to that user's streams that have not had it. The window overlaps the previous poll, so a
// row whose transaction committed late, or on another instance with a slightly different clock,
// is still seen; per-stream sets of sent ids keep it from going out twice. The same tick ends the
// streams whose session was revoked or expired or whose user was disabled or deleted, and writes
// a keep-alive comment on streams idle for 25 s.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "store/database.hpp"
#include "store/notifications.hpp"

namespace ikigai::notify {

// What the hub needs of an open stream (the HTTP transport's event sink). Thread safe.
class StreamOutput {
 public:
  virtual ~StreamOutput() = default;
  virtual bool Send(std::string bytes) = 0;
  virtual void Close() = 0;
  [[nodiscard]] virtual bool IsOpen() const = 0;
};

struct StreamSettings {
  std::size_t per_user = 5;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds overlap{5000};
  std::chrono::seconds keep_alive{25};
};

// One SSE event for a notification: `id:`, `event: notification`, `data:` (the JSON on one line).
[[nodiscard]] std::string EncodeEvent(const store::NotificationRow& row);
// The Notification JSON of API.md.
[[nodiscard]] std::string NotificationJson(const store::NotificationRow& row);
// The smallest UUIDv7 text of millisecond `ms`: ids made at or after it compare >= it.
[[nodiscard]] std::string SmallestIdAt(long long ms);

struct HubStats {
  std::atomic<std::uint64_t> delivered{0};
  std::atomic<std::uint64_t> polls{0};
  std::atomic<std::int64_t> last_lag_ms{0};     // created_at to sent, of the last event sent
  std::atomic<std::int64_t> last_poll_ms{0};    // when the last poll finished (epoch ms)
  std::atomic<std::int64_t> poll_duration_us{0};
};

class StreamHub {
 public:
  StreamHub(store::Database& db, const core::Clock& clock, StreamSettings settings = {});
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Registers an open stream. `after_id`: send only ids greater than it (resume), or empty for
  // "made from now on"; `sent`: ids already written to it (the resume's backlog). A user's
  // streams beyond settings.per_user close, oldest first.
  void Add(std::shared_ptr<StreamOutput> out, std::string user_id, std::string session_id, std::string after_id,
           std::vector<std::string> sent);
  [[nodiscard]] std::size_t Open() const;
  // Where a stream opened now starts: notifications made from this millisecond on. Taken when the
  // request is handled, before its answer can reach the client, so that nothing the client makes
  // after seeing the stream open falls before it.
  [[nodiscard]] std::string StartingPoint() const { return SmallestIdAt(core::ToMillis(clock_.Now())); }
  [[nodiscard]] const HubStats& Stats() const { return stats_; }

  void Start();
  // Ends every stream (SIGTERM) and the poller.
  void Stop();
  // One tick (tests and the poller thread).
  void PollOnce();

 private:
  struct Stream {
    std::shared_ptr<StreamOutput> out;
    std::string user_id;
    std::string session_id;
    std::string after_id;
    std::set<std::string> sent;
    std::chrono::steady_clock::time_point last_write;
  };

  void Loop();
  void DropClosed();
  void EndRevoked();

  store::Database& db_;
  const core::Clock& clock_;
  StreamSettings settings_;
  mutable std::mutex mutex_;
  std::list<Stream> streams_;  // oldest first
  HubStats stats_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace ikigai::notify
