// Periodic background jobs of one `ikigai serve`: each runs every interval on one thread of its
// own; jobs must be safe with any number of instances on the database (they only delete what is
// expired, or claim rows in transactions).
#pragma once

#include <chrono>
#include <condition_variable>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ikigai::jobs {

class Runner {
 public:
  // `nice` > 0: the loop's thread runs at that nice value (background work that should yield the
  // cores to requests).
  explicit Runner(std::chrono::milliseconds interval, int nice = 0) : interval_(interval), nice_(nice) {}
  ~Runner() { Stop(); }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // What /metrics shows of a job: how often it ran and how long its last run took.
  struct Stat {
    std::string name;
    std::atomic<std::uint64_t> runs{0};
    std::atomic<std::uint64_t> failures{0};
    std::atomic<std::int64_t> last_duration_us{0};
  };

  // REQUIRES: before Start.
  void Add(std::string name, std::function<void()> job);
  [[nodiscard]] const std::vector<std::unique_ptr<Stat>>& Stats() const { return stats_; }
  void Start();
  // Runs every job once more soon (e.g. new outbox rows); cheap.
  void Wake();
  void Stop();

 private:
  void Loop();

  std::chrono::milliseconds interval_;
  int nice_ = 0;
  std::vector<std::pair<std::string, std::function<void()>>> jobs_;
  std::vector<std::unique_ptr<Stat>> stats_;  // same order as jobs_
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace ikigai::jobs
