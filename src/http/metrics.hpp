// Prometheus text exposition of the server's counters: requests by route and status, latency
// histograms, in-flight requests, worker pools, and the database pool.
#pragma once

#include <string>

#include "http/server.hpp"
#include "mail/outbox.hpp"
#include "store/database.hpp"

namespace ikigai::http {

[[nodiscard]] std::string RenderMetrics(Server& server, const store::Database& db,
                                        const mail::OutboxSender* outbox_sender);

}  // namespace ikigai::http
