// A clock that only moves when a test says so.
#pragma once

#include <atomic>
#include <chrono>

#include "core/clock.hpp"

namespace ikigai::support {

// Monday 2026-11-23 09:00:00 UTC.
inline constexpr std::int64_t kSomeMondayMillis = 1795424400000;

class FakeClock final : public core::Clock {
 public:
  explicit FakeClock(std::int64_t millis = kSomeMondayMillis) : millis_(millis) {}
  [[nodiscard]] core::TimePoint Now() const override { return core::FromMillis(millis_.load()); }
  void Advance(std::chrono::milliseconds d) { millis_ += d.count(); }
  void Set(std::int64_t millis) { millis_ = millis; }

 private:
  std::atomic<std::int64_t> millis_;
};

}  // namespace ikigai::support
