// RESTinio wiring: the per-request pipeline of API.md's check order, common response headers,
// metrics, the access log, and graceful shutdown on SIGTERM/SIGINT.
#include "http/server.hpp"

#include <restinio/all.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <thread>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time_format.hpp"
#include "http/edge.hpp"
#include "http/problem.hpp"
#include "store/columns.hpp"

namespace ikigai::http {
namespace {

using Traits = restinio::traits_t<restinio::asio_timer_manager_t, restinio::null_logger_t>;
using HttpServer = restinio::http_server_t<Traits>;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

constexpr const char* kCorsAllowHeaders =
    "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id, Last-Event-ID";
constexpr const char* kCorsExposeHeaders =
    "X-Request-Id, ETag, Location, Retry-After, X-Unread-Count, WWW-Authenticate";

// The Date header changes once a second: format it once a second per thread.
const std::string& CachedHttpDate(const core::Clock& clock) {
  thread_local std::int64_t cached_second = -1;
  thread_local std::string cached;
  const auto now = clock.Now();
  const std::int64_t second = core::ToMillis(now) / 1000;
  if (second != cached_second) {
    cached = core::FormatHttpDate(now);
    cached_second = second;
  }
  return cached;
}

bool IsApiPath(const std::string& path) {
  return path.rfind("/api/", 0) == 0 || path == "/register" || path == "/login";
}

std::string JsonEscapeForLog(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

struct Server::Impl {
  explicit Impl(Server& s) : self(s) {}

  Server& self;
  asio::io_context io;
  std::unique_ptr<HttpServer> http;
  std::vector<std::thread> threads;
  std::uint16_t port = 0;
  std::shared_ptr<spdlog::logger> access_log;

  restinio::request_handling_status_t Handle(const restinio::request_handle_t& req);
  void Dispatch(const restinio::request_handle_t& req, Request request, Route& route);
  Reply Invoke(Request& request, Route& route);
  void Respond(const restinio::request_handle_t& req, const Request& request, RouteMetrics& metrics,
               Reply reply);
};

Server::Server(const config::Config& config, Router& router, const core::Clock& clock,
               core::Random& random)
    : config_(config),
      router_(router),
      clock_(clock),
      random_(random),
      workers_(std::make_unique<WorkerPool>("db", config.workers, config.queue_limit)),
      hashers_(std::make_unique<WorkerPool>("hash", config.hash_threads, config.queue_limit, 19)),
      impl_(std::make_unique<Impl>(*this)) {
  impl_->access_log = spdlog::get("access");
  if (!impl_->access_log) impl_->access_log = spdlog::default_logger();
}

Server::~Server() {
  workers_->Stop();
  hashers_->Stop();
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

std::uint16_t Server::Open() {
  // RESTinio's own body limit closes the connection; ours answers 413 first. Keep RESTinio's at a
  // backstop well above ours so every body up to the backstop gets a proper 413.
  const std::uint64_t backstop = std::max<std::uint64_t>(config_.max_body_bytes * 4, 4u << 20);
  impl_->http = std::make_unique<HttpServer>(
      restinio::external_io_context(impl_->io),
      [&](auto& settings) {
        settings.address(config_.listen.host)
            .port(config_.listen.port)
            .request_handler([this](auto req) { return impl_->Handle(req); })
            .concurrent_accepts_count(config_.io_threads)
            .read_next_http_message_timelimit(std::chrono::seconds(60))
            .write_http_response_timelimit(std::chrono::seconds(30))
            .handle_request_timeout(std::chrono::seconds(120))
            .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                          .max_url_size(8 * 1024)
                                          .max_field_name_size(256)
                                          .max_field_value_size(16 * 1024)
                                          .max_field_count(100)
                                          .max_body_size(backstop))
            .acceptor_post_bind_hook([this](asio::ip::tcp::acceptor& acceptor) {
              impl_->port = acceptor.local_endpoint().port();
            });
      });
  impl_->http->open_sync();
  return impl_->port;
}

void Server::Run(std::chrono::seconds drain_timeout, const std::function<void()>& on_stop) {
  asio::signal_set signals(impl_->io, SIGTERM, SIGINT);
  std::atomic<bool> stop_requested{false};
  signals.async_wait([&](const asio::error_code& ec, int) {
    if (!ec) stop_requested = true;
  });
  auto work = asio::make_work_guard(impl_->io);
  for (unsigned i = 0; i < config_.io_threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->io.run(); });
  }
  while (!stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  spdlog::info("stopping: no new connections; draining {} in-flight request(s)", InFlight());
  draining_ = true;
  std::promise<void> closed;
  impl_->http->close_async([&] { closed.set_value(); }, [&](std::exception_ptr) { closed.set_value(); });
  closed.get_future().wait();
  if (on_stop) on_stop();
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  while (InFlight() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (InFlight() > 0) spdlog::warn("drain timeout: {} request(s) still in flight", InFlight());
  workers_->Stop();
  hashers_->Stop();
  work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

restinio::request_handling_status_t Server::Impl::Handle(const restinio::request_handle_t& req) {
  self.in_flight_.fetch_add(1, std::memory_order_relaxed);
  Request r;
  r.started = std::chrono::steady_clock::now();
  const auto& h = req->header();
  r.method = std::string(h.method().c_str());
  r.path = std::string(h.path());
  h.for_each_field([&](const restinio::http_header_field_t& f) {
    std::string name = f.name();
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    r.headers.emplace_back(std::move(name), f.value());
  });
  const auto incoming_id = r.Header("x-request-id");
  r.request_id = incoming_id && IsValidRequestId(*incoming_id) ? *incoming_id : core::NewId(self.clock_, self.random_);
  r.client_ip = ClientAddress(req->remote_endpoint().address().to_string(), r.Header("x-forwarded-for"),
                              self.config_.trusted_proxies);
  r.user_agent = core::ValidUtf8Prefix(r.Header("user-agent").value_or(""), store::kUserAgentColumn);

  Match m = self.router_.Find(r.method, r.path);
  if (r.method == "OPTIONS" && m.kind != Match::Kind::kNotFound) {
    Reply reply = NoContent();
    reply.With("Allow", m.allow);
    const auto origin = AllowedOrigin(r.Header("origin"), self.config_.cors_origins);
    if (origin && r.Header("access-control-request-method")) {
      reply.With("Access-Control-Allow-Methods", m.allow)
          .With("Access-Control-Allow-Headers", kCorsAllowHeaders)
          .With("Access-Control-Max-Age", "600");
    }
    Respond(req, r, self.unmatched_, std::move(reply));
    return restinio::request_accepted();
  }
  if (m.kind == Match::Kind::kNotFound) {
    Respond(req, r, self.unmatched_, ErrorReply({core::ErrorCode::kNotFound}, r));
    return restinio::request_accepted();
  }
  if (m.kind == Match::Kind::kMethodNotAllowed) {
    Reply reply = ErrorReply({core::ErrorCode::kMethodNotAllowed}, r);
    reply.With("Allow", m.allow);
    Respond(req, r, self.unmatched_, std::move(reply));
    return restinio::request_accepted();
  }
  Route& route = *m.route;
  r.route = route.path;
  r.params = std::move(m.params);

  // Size before anything looks at the body: the declared length first, then what arrived.
  std::uint64_t declared = 0;
  if (auto cl = r.Header("content-length")) {
    std::from_chars(cl->data(), cl->data() + cl->size(), declared);
  }
  if (declared > self.config_.max_body_bytes || req->body().size() > self.config_.max_body_bytes) {
    Respond(req, r, *route.metrics, ErrorReply({core::ErrorCode::kPayloadTooLarge}, r));
    return restinio::request_accepted();
  }
  if (!req->body().empty()) {
    const auto type = r.Header("content-type");
    if (!type || !IsJsonMediaType(*type)) {
      Respond(req, r, *route.metrics, ErrorReply({core::ErrorCode::kUnsupportedMediaType}, r));
      return restinio::request_accepted();
    }
    r.body = req->body();
  }
  const auto query = restinio::try_parse_query<restinio::parse_query_traits::x_www_form_urlencoded>(h.query());
  if (query) {
    for (const auto& [k, v] : *query) r.query.emplace(std::string(k), std::string(v));
  } else {
    r.malformed_query = true;
  }
  Dispatch(req, std::move(r), route);
  return restinio::request_accepted();
}

void Server::Impl::Dispatch(const restinio::request_handle_t& req, Request request, Route& route) {
  if (route.exec == Exec::kInline) {
    Reply reply = Invoke(request, route);
    Respond(req, request, *route.metrics, std::move(reply));
    return;
  }
  WorkerPool& pool = route.exec == Exec::kHash ? *self.hashers_ : *self.workers_;
  auto shared = std::make_shared<Request>(std::move(request));
  const bool queued = pool.TrySubmit([this, req, shared, &route] {
    Reply reply = Invoke(*shared, route);
    Respond(req, *shared, *route.metrics, std::move(reply));
  });
  if (!queued) {
    core::Error busy{core::ErrorCode::kUnavailable, "The server is busy. Try again shortly.", {}, 1};
    Respond(req, *shared, *route.metrics, ErrorReply(busy, *shared));
  }
}

Reply Server::Impl::Invoke(Request& request, Route& route) {
  try {
    if (route.access != Access::kPublic) {
      if (self.authenticator_ == nullptr) return ErrorReply({core::ErrorCode::kUnauthorized}, request);
      auto who = self.authenticator_->Authenticate(request);
      if (!who) return ErrorReply(who.error(), request);
      // The role in the database decides, not the token's claim: a demoted admin loses access now.
      if (route.access == Access::kAdmin && who->user.role != "admin") {
        return ErrorReply({core::ErrorCode::kForbidden, "This needs the admin role."}, request);
      }
      request.auth = std::move(*who);
    }
    if (request.malformed_query) {
      return ErrorReply({core::ErrorCode::kBadRequest, "The query string is malformed."}, request);
    }
    return route.handler(request);
  } catch (const std::exception& e) {
    spdlog::error("request {} {} {}: unhandled exception: {}", request.request_id, request.method,
                  request.route, e.what());
  } catch (...) {
    spdlog::error("request {} {} {}: unhandled non-standard exception", request.request_id,
                  request.method, request.route);
  }
  return ErrorReply({core::ErrorCode::kInternal}, request);
}

void Server::Impl::Respond(const restinio::request_handle_t& req, const Request& request,
                           RouteMetrics& metrics, Reply reply) {
  auto resp = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<std::uint16_t>(reply.status)}, ReasonPhrase(reply.status)});
  resp.append_header("Date", CachedHttpDate(self.clock_));
  resp.append_header("X-Request-Id", request.request_id);
  resp.append_header("X-Content-Type-Options", "nosniff");
  if (!reply.content_type.empty() && reply.status != 204) resp.append_header("Content-Type", reply.content_type);
  if (IsApiPath(request.path)) resp.append_header("Cache-Control", "no-store");
  if (!self.config_.cors_origins.empty()) {
    if (auto origin = AllowedOrigin(request.Header("origin"), self.config_.cors_origins)) {
      resp.append_header("Access-Control-Allow-Origin", *origin);
      resp.append_header("Access-Control-Expose-Headers", kCorsExposeHeaders);
    }
    resp.append_header("Vary", "Origin");
  }
  for (auto& [name, value] : reply.headers) resp.append_header(name, std::move(value));
  if (self.draining_.load(std::memory_order_relaxed)) resp.connection_close();
  if (reply.status != 204) resp.set_body(std::move(reply.body));

  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - request.started);
  metrics.Observe(reply.status, elapsed);
  const std::string& route = request.route.empty() ? std::string("unmatched") : request.route;
  if (self.config_.log_format == config::LogFormat::kJson) {
    access_log->info(
        R"("msg":"request","method":{},"route":{},"status":{},"duration_ms":{:.3f},"request_id":{},"ip":{})",
        JsonEscapeForLog(request.method), JsonEscapeForLog(route), reply.status,
        static_cast<double>(elapsed.count()) / 1000.0, JsonEscapeForLog(request.request_id),
        JsonEscapeForLog(request.client_ip));
  } else {
    access_log->info("{} {} {} {:.3f}ms request_id={} ip={}", request.method, route, reply.status,
                     static_cast<double>(elapsed.count()) / 1000.0, request.request_id, request.client_ip);
  }
  resp.done([this](const asio::error_code&) { self.in_flight_.fetch_sub(1, std::memory_order_relaxed); });
}

}  // namespace ikigai::http
