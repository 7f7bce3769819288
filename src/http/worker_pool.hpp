// A fixed set of threads with a bounded queue: when the queue is full, TrySubmit says no and the
// caller answers 503, so load never grows memory without bound.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ikigai::http {

class WorkerPool {
 public:
  // `nice` > 0 lowers the threads' CPU priority (Linux per-thread nice): used for password
  // hashing, so that cheap requests preempt it and a login storm queues logins, not reads.
  WorkerPool(std::string name, unsigned threads, std::size_t capacity, int nice = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a task; false when the queue is full or the pool is stopping.
  [[nodiscard]] bool TrySubmit(std::function<void()> task);
  // Changes how many tasks may wait (at least 1); tasks already queued beyond it still run.
  void SetCapacity(std::size_t capacity);
  // What one task costs, for RetryAfterSeconds (the hash pool: one measured hash). Default: 0.
  void SetTaskCost(std::chrono::nanoseconds cost);
  // Seconds until what is queued and running now has drained at the task cost, at least 1: the
  // Retry-After of a refused task.
  [[nodiscard]] int RetryAfterSeconds() const;
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop();

  [[nodiscard]] const std::string& Name() const { return name_; }
  [[nodiscard]] std::size_t Depth() const;
  [[nodiscard]] std::size_t Capacity() const;
  [[nodiscard]] std::size_t Busy() const { return busy_.load(std::memory_order_relaxed); }
  [[nodiscard]] std::size_t Threads() const { return threads_.size(); }
  [[nodiscard]] std::uint64_t Rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  void Loop();

  std::string name_;
  std::size_t capacity_;  // guarded by mutex_
  std::atomic<std::int64_t> task_cost_ns_{0};
  unsigned thread_count_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::atomic<std::size_t> busy_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::vector<std::thread> threads_;
};

// The queue a pool of `threads` may hold so that a queued task waits at most about
// `wait_per_thread` when each task costs `task_cost` (at least one task per thread, at most
// `upper_bound`). The hashing pool: 2 s at the hash time measured at start-up, so that in a login
// storm a client gets a fast 503 rather than a minute in the queue.
[[nodiscard]] std::size_t QueueLimitForWait(std::chrono::nanoseconds task_cost, unsigned threads,
                                            std::chrono::nanoseconds wait_per_thread, std::size_t upper_bound);

}  // namespace ikigai::http
