// Waiting for a condition instead of sleeping a fixed time.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace ikigai::support {

// Polls `predicate` until it returns true (then true) or `timeout` passes (then false, after one
// last try). Use it as ASSERT_TRUE(WaitUntil(...)) << "what did not happen".
template <class Predicate>
[[nodiscard]] bool WaitUntil(Predicate&& predicate,
                             std::chrono::milliseconds timeout = std::chrono::seconds{10},
                             std::chrono::milliseconds poll = std::chrono::milliseconds{10}) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (predicate()) return true;
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(poll, deadline - now));
  }
}

}  // namespace ikigai::support
