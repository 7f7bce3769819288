// The route table: path templates with {param} segments, matched segment by segment, so a request
// knows its route template (for metrics and logs) and a known path with a wrong method gets 405.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace ikigai::http {

// Where a handler runs: on the I/O thread (no blocking at all), on the database worker pool, or
// on the password-hashing pool.
enum class Exec { kInline, kWorker, kHash };

// Who may call a route.
enum class Access { kPublic, kUser, kAdmin };

using Handler = std::function<Reply(Request&)>;

// Request counts by status and a latency histogram, per route and method; lock-free.
struct RouteMetrics {
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1.0,   2.5,   5.0,  10.0};
  std::array<std::atomic<std::uint64_t>, 500> by_status{};  // index: status - 100
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> buckets{};  // last: +Inf
  std::atomic<std::uint64_t> count{0};
  std::atomic<std::uint64_t> sum_micros{0};

  void Observe(int status, std::chrono::microseconds elapsed);
};

struct Route {
  std::string method;
  std::string path;  // template, e.g. "/api/v1/tasks/{id}"
  Exec exec = Exec::kWorker;
  Access access = Access::kPublic;
  bool takes_body = false;  // a JSON body is expected (media type checked)
  Handler handler;
  std::unique_ptr<RouteMetrics> metrics = std::make_unique<RouteMetrics>();
  std::vector<std::string> segments{};  // split template (filled by Router::Add)
};

struct Match {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed } kind = Kind::kNotFound;
  Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::string allow;  // "GET, POST" for kMethodNotAllowed (and OPTIONS)
};

class Router {
 public:
  // REQUIRES: path starts with '/'; no two routes share method and template.
  // A parameter named {id} or {..._id} holds one of our ids: when the segment cannot be one
  // (core::IsIdText), the request is 404 not_found from inside the handler, so after
  // authentication and role (401/403 keep their place) and before the body or the database.
  Route& Add(Route route);
  [[nodiscard]] Match Find(std::string_view method, std::string_view path) const;
  [[nodiscard]] const std::vector<std::unique_ptr<Route>>& Routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace ikigai::http
