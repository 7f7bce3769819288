// Bounded worker pool.
#include "http/worker_pool.hpp"

#include <algorithm>
#include <cmath>

#include <spdlog/spdlog.h>

#include "core/thread_priority.hpp"

namespace ikigai::http {

WorkerPool::WorkerPool(std::string name, unsigned threads, std::size_t capacity, int nice)
    : name_(std::move(name)), capacity_(capacity), thread_count_(threads) {
  for (unsigned i = 0; i < threads; ++i) {
    threads_.emplace_back([this, nice] {
      if (nice > 0 && !core::LowerThreadPriority(nice)) {
        spdlog::warn("{} pool: could not lower thread priority", name_);
      }
      Loop();
    });
  }
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= capacity_) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    queue_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void WorkerPool::SetCapacity(std::size_t capacity) {
  std::lock_guard lock(mutex_);
  capacity_ = std::max<std::size_t>(1, capacity);
}

std::size_t WorkerPool::Capacity() const {
  std::lock_guard lock(mutex_);
  return capacity_;
}

void WorkerPool::SetTaskCost(std::chrono::nanoseconds cost) {
  task_cost_ns_.store(std::max<std::int64_t>(0, cost.count()), std::memory_order_relaxed);
}

int WorkerPool::RetryAfterSeconds() const {
  const auto threads = std::max(1u, thread_count_);
  const auto work = static_cast<double>(Depth() + Busy()) *
                    static_cast<double>(task_cost_ns_.load(std::memory_order_relaxed)) / 1e9;
  const double seconds = std::ceil(work / static_cast<double>(threads));
  return seconds < 1 ? 1 : static_cast<int>(std::min(seconds, 3600.0));
}

std::size_t QueueLimitForWait(std::chrono::nanoseconds task_cost, unsigned threads,
                              std::chrono::nanoseconds wait_per_thread, std::size_t upper_bound) {
  const auto per_thread = task_cost.count() <= 0
                              ? upper_bound
                              : static_cast<std::size_t>(std::max<std::int64_t>(1, wait_per_thread / task_cost));
  const std::size_t total = per_thread >= upper_bound ? upper_bound : per_thread * std::max(1u, threads);
  return std::clamp<std::size_t>(total, 1, std::max<std::size_t>(1, upper_bound));
}

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

std::size_t WorkerPool::Depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void WorkerPool::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
      busy_.fetch_add(1, std::memory_order_relaxed);
    }
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("{} pool: task threw: {}", name_, e.what());
    } catch (...) {
      spdlog::error("{} pool: task threw a non-standard exception", name_);
    }
    busy_.fetch_sub(1, std::memory_order_relaxed);
  }
}

}  // namespace ikigai::http
