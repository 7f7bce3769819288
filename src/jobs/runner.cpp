// The periodic job loop.
#include "jobs/runner.hpp"

#include <spdlog/spdlog.h>

#include "core/thread_priority.hpp"

namespace ikigai::jobs {

void Runner::Add(std::string name, std::function<void()> job) {
  stats_.push_back(std::make_unique<Stat>());
  stats_.back()->name = name;
  jobs_.emplace_back(std::move(name), std::move(job));
}

void Runner::Start() {
  if (jobs_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] {
    if (nice_ > 0 && !core::LowerThreadPriority(nice_)) spdlog::warn("jobs: could not lower thread priority");
    Loop();
  });
}

void Runner::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wake_.notify_one();
}

void Runner::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Runner::Loop() {
  for (;;) {
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      auto& [name, job] = jobs_[i];
      Stat& stat = *stats_[i];
      const auto started = std::chrono::steady_clock::now();
      try {
        job();
      } catch (const std::exception& e) {
        stat.failures.fetch_add(1, std::memory_order_relaxed);
        spdlog::error("job {} failed: {}", name, e.what());
      }
      stat.last_duration_us.store(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - started).count(),
                                  std::memory_order_relaxed);
      stat.runs.fetch_add(1, std::memory_order_relaxed);
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, interval_, [&] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace ikigai::jobs
