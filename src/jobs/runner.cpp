// The periodic job loop.
#include "jobs/runner.hpp"

#include <spdlog/spdlog.h>

namespace ikigai::jobs {

void Runner::Add(std::string name, std::function<void()> job) { jobs_.emplace_back(std::move(name), std::move(job)); }

void Runner::Start() {
  if (jobs_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
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
    for (auto& [name, job] : jobs_) {
      try {
        job();
      } catch (const std::exception& e) {
        spdlog::error("job {} failed: {}", name, e.what());
      }
    }
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, interval_, [&] { return stopping_ || woken_; });
    if (stopping_) return;
    woken_ = false;
  }
}

}  // namespace ikigai::jobs
