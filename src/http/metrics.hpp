// Prometheus text exposition of the server's counters: requests by route and status, latency
// histograms, in-flight requests, worker pools, and the database pool.
#pragma once

#include <string>

#include "http/routes.hpp"
#include "http/server.hpp"

namespace ikigai::http {

[[nodiscard]] std::string RenderMetrics(Server& server, const Services& services);

}  // namespace ikigai::http
