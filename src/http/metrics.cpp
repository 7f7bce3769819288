// Renders metrics in the Prometheus text format (version 0.0.4).
#include "http/metrics.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <fstream>

namespace ikigai::http {
namespace {

std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void RouteSeries(std::string& out, const std::string& method, const std::string& route,
                 const RouteMetrics& m, std::string& histograms) {
  for (std::size_t i = 0; i < m.by_status.size(); ++i) {
    const auto n = m.by_status[i].load(std::memory_order_relaxed);
    if (n == 0) continue;
    fmt::format_to(std::back_inserter(out),
                   "ikigai_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{}\"}} {}\n", method,
                   Label(route), i + 100, n);
  }
  const auto count = m.count.load(std::memory_order_relaxed);
  if (count == 0) return;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < RouteMetrics::kBuckets.size(); ++i) {
    cumulative += m.buckets[i].load(std::memory_order_relaxed);
    fmt::format_to(std::back_inserter(histograms),
                   "ikigai_http_request_duration_seconds_bucket{{method=\"{}\",route=\"{}\",le=\"{}\"}} {}\n",
                   method, Label(route), RouteMetrics::kBuckets[i], cumulative);
  }
  cumulative += m.buckets.back().load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(histograms),
                 "ikigai_http_request_duration_seconds_bucket{{method=\"{}\",route=\"{}\",le=\"+Inf\"}} {}\n"
                 "ikigai_http_request_duration_seconds_sum{{method=\"{}\",route=\"{}\"}} {:.6f}\n"
                 "ikigai_http_request_duration_seconds_count{{method=\"{}\",route=\"{}\"}} {}\n",
                 method, Label(route), cumulative, method, Label(route),
                 static_cast<double>(m.sum_micros.load(std::memory_order_relaxed)) / 1e6, method,
                 Label(route), count);
}

long ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// Notifications: inbox rows made by kind, the live streams and their poller.
void NotificationSeries(std::string& out, const notify::Notifier& notifier, const notify::StreamHub& hub) {
  out += "# HELP ikigai_notifications_created_total Inbox notifications written by this instance, by kind.\n"
         "# TYPE ikigai_notifications_created_total counter\n";
  for (notify::Kind k : notify::kKinds) {
    fmt::format_to(std::back_inserter(out), "ikigai_notifications_created_total{{kind=\"{}\"}} {}\n",
                   notify::KindName(k), notifier.Stats().created[notify::Index(k)].load(std::memory_order_relaxed));
  }
  const auto& s = hub.Stats();
  const long long last_poll = s.last_poll_ms.load(std::memory_order_relaxed);
  fmt::format_to(std::back_inserter(out),
                 "# HELP ikigai_notification_streams_open Open notification streams of this instance.\n"
                 "# TYPE ikigai_notification_streams_open gauge\n"
                 "ikigai_notification_streams_open {}\n"
                 "# HELP ikigai_notification_events_delivered_total Notification events written to streams.\n"
                 "# TYPE ikigai_notification_events_delivered_total counter\n"
                 "ikigai_notification_events_delivered_total {}\n"
                 "# HELP ikigai_notification_poller_lag_seconds From a notification's creation to its event on a "
                 "stream, for the last event sent.\n"
                 "# TYPE ikigai_notification_poller_lag_seconds gauge\n"
                 "ikigai_notification_poller_lag_seconds {:.3f}\n"
                 "# HELP ikigai_notification_poll_duration_seconds How long the last poll took.\n"
                 "# TYPE ikigai_notification_poll_duration_seconds gauge\n"
                 "ikigai_notification_poll_duration_seconds {:.6f}\n"
                 "# HELP ikigai_notification_last_poll_timestamp_seconds When the poller last finished a tick.\n"
                 "# TYPE ikigai_notification_last_poll_timestamp_seconds gauge\n"
                 "ikigai_notification_last_poll_timestamp_seconds {:.3f}\n",
                 hub.Open(), s.delivered.load(std::memory_order_relaxed),
                 static_cast<double>(s.last_lag_ms.load(std::memory_order_relaxed)) / 1000.0,
                 static_cast<double>(s.poll_duration_us.load(std::memory_order_relaxed)) / 1e6,
                 static_cast<double>(last_poll) / 1000.0);
}

}  // namespace

std::string RenderMetrics(Server& server, const Services& services) {
  const store::Database& db = services.db;
  const mail::OutboxSender* outbox_sender = services.outbox_sender;
  std::string out;
  std::string histograms;
  out += "# HELP ikigai_http_requests_total HTTP requests by method, route template and status.\n"
         "# TYPE ikigai_http_requests_total counter\n";
  for (const auto& r : server.GetRouter().Routes()) RouteSeries(out, r->method, r->path, *r->metrics, histograms);
  RouteSeries(out, "any", "unmatched", server.Unmatched(), histograms);
  out += "# HELP ikigai_http_request_duration_seconds Time from parsed request to response.\n"
         "# TYPE ikigai_http_request_duration_seconds histogram\n";
  out += histograms;
  fmt::format_to(std::back_inserter(out),
                 "# HELP ikigai_http_requests_in_flight Requests received and not yet answered.\n"
                 "# TYPE ikigai_http_requests_in_flight gauge\n"
                 "ikigai_http_requests_in_flight {}\n"
                 "# HELP ikigai_http_connections_open Open client connections, event streams excepted (IKIGAI_MAX_CONNECTIONS caps them).\n"
                 "# TYPE ikigai_http_connections_open gauge\n"
                 "ikigai_http_connections_open {}\n"
                 "# HELP ikigai_http_streams_open Open event streams (IKIGAI_MAX_STREAMS caps them).\n"
                 "# TYPE ikigai_http_streams_open gauge\n"
                 "ikigai_http_streams_open {}\n",
                 server.InFlight(), server.OpenConnections(), server.OpenStreams());
  out += "# HELP ikigai_worker_queue_depth Tasks waiting in a worker pool.\n"
         "# TYPE ikigai_worker_queue_depth gauge\n";
  std::string busy = "# HELP ikigai_worker_busy Threads of a worker pool running a task.\n"
                     "# TYPE ikigai_worker_busy gauge\n";
  std::string threads = "# HELP ikigai_worker_threads Threads of a worker pool.\n"
                        "# TYPE ikigai_worker_threads gauge\n";
  std::string rejected = "# HELP ikigai_worker_rejected_total Tasks refused because the queue was full (503).\n"
                         "# TYPE ikigai_worker_rejected_total counter\n";
  std::string capacity = "# HELP ikigai_worker_queue_capacity Tasks a worker pool queues before it answers 503 "
                         "(hash pool: derived from the hash time measured at start-up).\n"
                         "# TYPE ikigai_worker_queue_capacity gauge\n";
  for (WorkerPool* pool : {&server.Workers(), &server.Hashers()}) {
    fmt::format_to(std::back_inserter(out), "ikigai_worker_queue_depth{{pool=\"{}\"}} {}\n", pool->Name(), pool->Depth());
    fmt::format_to(std::back_inserter(busy), "ikigai_worker_busy{{pool=\"{}\"}} {}\n", pool->Name(), pool->Busy());
    fmt::format_to(std::back_inserter(threads), "ikigai_worker_threads{{pool=\"{}\"}} {}\n", pool->Name(), pool->Threads());
    fmt::format_to(std::back_inserter(rejected), "ikigai_worker_rejected_total{{pool=\"{}\"}} {}\n", pool->Name(), pool->Rejected());
    fmt::format_to(std::back_inserter(capacity), "ikigai_worker_queue_capacity{{pool=\"{}\"}} {}\n", pool->Name(),
                   pool->Capacity());
  }
  out += busy + threads + rejected + capacity;
  const auto stats = db.Stats();
  fmt::format_to(std::back_inserter(out),
                 "# HELP ikigai_db_pool_connections Database connections of the pool.\n"
                 "# TYPE ikigai_db_pool_connections gauge\n"
                 "ikigai_db_pool_connections{{state=\"in_use\"}} {}\n"
                 "ikigai_db_pool_connections{{state=\"size\"}} {}\n"
                 "# HELP ikigai_db_connects_total Database connections opened (including reconnects).\n"
                 "# TYPE ikigai_db_connects_total counter\n"
                 "ikigai_db_connects_total {}\n"
                 "# HELP ikigai_db_failures_total Database calls that failed because it was unreachable.\n"
                 "# TYPE ikigai_db_failures_total counter\n"
                 "ikigai_db_failures_total {}\n"
                 "# HELP ikigai_db_retries_total Transactions run again after a deadlock or a Galera certification conflict.\n"
                 "# TYPE ikigai_db_retries_total counter\n"
                 "ikigai_db_retries_total {}\n"
                 "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                 "# TYPE process_resident_memory_bytes gauge\n"
                 "process_resident_memory_bytes {}\n",
                 stats.in_use, stats.size, stats.reconnects, stats.failures, stats.retries, ResidentBytes());
  if (outbox_sender != nullptr) {
    fmt::format_to(std::back_inserter(out),
                   "# HELP ikigai_mail_outbox_depth Emails waiting to be sent (as of the last sender run).\n"
                   "# TYPE ikigai_mail_outbox_depth gauge\n"
                   "ikigai_mail_outbox_depth {}\n"
                   "# HELP ikigai_mail_sent_total Emails delivered by this instance.\n"
                   "# TYPE ikigai_mail_sent_total counter\n"
                   "ikigai_mail_sent_total {}\n"
                   "# HELP ikigai_mail_retried_total Deliveries that failed and were scheduled again.\n"
                   "# TYPE ikigai_mail_retried_total counter\n"
                   "ikigai_mail_retried_total {}\n"
                   "# HELP ikigai_mail_failed_total Emails given up after 24 hours of failures.\n"
                   "# TYPE ikigai_mail_failed_total counter\n"
                   "ikigai_mail_failed_total {}\n",
                   outbox_sender->Depth(), outbox_sender->Sent(), outbox_sender->Retried(), outbox_sender->Failed());
  }
  if (const notify::PushSender* push = services.push_sender; push != nullptr) {
    fmt::format_to(std::back_inserter(out),
                   "# HELP ikigai_push_sent_total Pushes a push service accepted from this instance.\n"
                   "# TYPE ikigai_push_sent_total counter\n"
                   "ikigai_push_sent_total {}\n"
                   "# HELP ikigai_push_failed_total Push attempts that failed, by status class (network: no answer).\n"
                   "# TYPE ikigai_push_failed_total counter\n"
                   "ikigai_push_failed_total{{class=\"4xx\"}} {}\n"
                   "ikigai_push_failed_total{{class=\"5xx\"}} {}\n"
                   "ikigai_push_failed_total{{class=\"network\"}} {}\n"
                   "# HELP ikigai_push_dropped_total Pushes given up (a 4xx other than 404/410, or 24 h of retries).\n"
                   "# TYPE ikigai_push_dropped_total counter\n"
                   "ikigai_push_dropped_total {}\n"
                   "# HELP ikigai_push_subscriptions_removed_total Subscriptions deleted after a 404 or 410.\n"
                   "# TYPE ikigai_push_subscriptions_removed_total counter\n"
                   "ikigai_push_subscriptions_removed_total {}\n"
                   "# HELP ikigai_push_queue_depth Pushes waiting in the queue (as of the last sender run).\n"
                   "# TYPE ikigai_push_queue_depth gauge\n"
                   "ikigai_push_queue_depth {}\n"
                   "# HELP ikigai_push_queue_oldest_age_seconds Age of the oldest queued push (as of the last sender run).\n"
                   "# TYPE ikigai_push_queue_oldest_age_seconds gauge\n"
                   "ikigai_push_queue_oldest_age_seconds {:.3f}\n",
                   push->Sent(), push->Failed("4xx"), push->Failed("5xx"), push->Failed("network"), push->Dropped(),
                   push->SubscriptionsRemoved(), push->QueueDepth(), push->OldestAgeSeconds());
  }
  NotificationSeries(out, services.notifier, services.hub);
  if (services.jobs != nullptr) {
    out += "# HELP ikigai_job_runs_total Runs of a periodic job on this instance.\n"
           "# TYPE ikigai_job_runs_total counter\n";
    std::string failures = "# HELP ikigai_job_failures_total Runs of a periodic job that ended in an error.\n"
                           "# TYPE ikigai_job_failures_total counter\n";
    std::string duration = "# HELP ikigai_job_last_duration_seconds How long the last run of a periodic job took.\n"
                           "# TYPE ikigai_job_last_duration_seconds gauge\n";
    for (const auto& stat : services.jobs->Stats()) {
      fmt::format_to(std::back_inserter(out), "ikigai_job_runs_total{{job=\"{}\"}} {}\n", stat->name,
                     stat->runs.load(std::memory_order_relaxed));
      fmt::format_to(std::back_inserter(failures), "ikigai_job_failures_total{{job=\"{}\"}} {}\n", stat->name,
                     stat->failures.load(std::memory_order_relaxed));
      fmt::format_to(std::back_inserter(duration), "ikigai_job_last_duration_seconds{{job=\"{}\"}} {:.6f}\n",
                     stat->name, static_cast<double>(stat->last_duration_us.load(std::memory_order_relaxed)) / 1e6);
    }
    out += failures + duration;
  }
  return out;
}

}  // namespace ikigai::http
