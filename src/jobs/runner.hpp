// Periodic background jobs of one `ikigai serve`: each runs every interval on one thread of its
// own; jobs must be safe with any number of instances on the database (they only delete what is
// expired, or claim rows in transactions).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ikigai::jobs {

class Runner {
 public:
  explicit Runner(std::chrono::milliseconds interval) : interval_(interval) {}
  ~Runner() { Stop(); }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // REQUIRES: before Start.
  void Add(std::string name, std::function<void()> job);
  void Start();
  // Runs every job once more soon (e.g. new outbox rows); cheap.
  void Wake();
  void Stop();

 private:
  void Loop();

  std::chrono::milliseconds interval_;
  std::vector<std::pair<std::string, std::function<void()>>> jobs_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace ikigai::jobs
