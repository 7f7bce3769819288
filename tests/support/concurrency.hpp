// Requests that race: n threads released at once by a latch, for the tests of what the server
// does when clients collide (uniqueness, limits, versions, the last admin).
#pragma once

#include <functional>
#include <latch>
#include <thread>
#include <vector>

#include "support/http_client.hpp"

namespace ikigai::support {

// Runs request(i) for i in [0, n) on n threads released at once; returns the answers by i.
inline std::vector<Response> AllAtOnce(int n, const std::function<Response(int)>& request) {
  std::vector<Response> responses(static_cast<std::size_t>(n));
  std::latch start(n);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        responses[static_cast<std::size_t>(i)] = request(i);
      });
    }
  }
  return responses;
}

}  // namespace ikigai::support
