// The HTTP/1.1 transport on Boost.Beast: framing (limits checked on the header, 100-continue,
// pipelining, HEAD, error answers before a close), the per-request pipeline of API.md's check
// order, common response headers, metrics, the access log, the connection cap and graceful
// shutdown on SIGTERM/SIGINT. Decision 0007 says why Beast replaced RESTinio here.
#include "http/server.hpp"

#include <sys/resource.h>

// Beast speaks std::string_view, like the rest of the code.
#define BOOST_BEAST_USE_STD_STRING_VIEW
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <future>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "core/ids.hpp"
#include "core/text.hpp"
#include "core/time_format.hpp"
#include "http/edge.hpp"
#include "http/problem.hpp"
#include "http/query.hpp"

namespace ikigai::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// Framing limits (API.md: 414, 431). The whole header section may be larger than one field so
// that a request with many ordinary fields still parses and gets the precise answer.
constexpr std::size_t kMaxTargetBytes = 8192;
constexpr std::size_t kMaxFieldCount = 100;
constexpr std::size_t kMaxFieldNameBytes = 256;
constexpr std::size_t kMaxFieldValueBytes = 16 * 1024;
constexpr std::uint32_t kHeaderSectionLimit = 64 * 1024;
// Bytes read per receive; the read buffer never holds more than a header section and this.
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kLingerChunk = 8 * 1024;
// An event stream reads only to notice the client going away: a small buffer will do.
constexpr std::size_t kWatchChunk = 256;
// Bytes an event stream may have queued and not yet written: a Send that finds more is refused and
// its client, one that does not read, is disconnected.
constexpr std::size_t kStreamQueueLimit = 256 * 1024;
// How long a client is told to wait before it opens another stream when there is no room.
constexpr int kStreamRetryAfterSeconds = 5;

constexpr auto kIdleTimeout = 60s;   // waiting for (the rest of) a request header
constexpr auto kBodyTimeout = 60s;   // receiving a body
constexpr auto kWriteTimeout = 30s;  // sending a response
// After an answer that closes the connection, what the client still sends is read and dropped
// for at most this long, so the answer is not lost to a TCP reset (RFC 9112 section 9.6).
constexpr auto kLingerTimeout = 5s;
// On shutdown, how long the stop waits for event streams' last chunks to be written.
constexpr auto kStreamDrain = 2s;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
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
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Status";
  }
}

// X-Ikigai-Refresh is the cookie mode's CSRF defence: a page of another origin can only send it
// after a preflight that names an allowed origin.
constexpr const char* kCorsAllowHeaders =
    "Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id, Last-Event-ID, X-Ikigai-Refresh";
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

// The error a parser failure is answered with; nullopt when the client just went away (or was
// too slow), which is not answered at all. `start` is what the buffer holds of the request.
// `target_size` is the parsed request target's size when the request line was complete.
std::optional<core::Error> FramingError(const beast::error_code& ec, std::string_view start,
                                        std::optional<std::size_t> target_size) {
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::operation_aborted ||
      ec == net::error::broken_pipe) {
    return std::nullopt;
  }
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    const auto eol = start.find('\n');
    // The request line is gone from the buffer once parsed: then its target decides.
    const std::size_t line = target_size ? *target_size : (eol == std::string_view::npos ? start.size() : eol);
    if (line > kMaxTargetBytes) {
      return core::Error{core::ErrorCode::kUriTooLong};
    }
    return core::Error{core::ErrorCode::kHeadersTooLarge};
  }
  if (ec == bhttp::error::body_limit) return core::Error{core::ErrorCode::kPayloadTooLarge};
  if (ec == bhttp::error::bad_version) {
    // Beast refuses any version but 1.0 and 1.1; a well-formed other version is 505.
    const std::string_view line = start.substr(0, start.find('\r'));
    const auto space = line.rfind(' ');
    const std::string_view version = space == std::string_view::npos ? line : line.substr(space + 1);
    if (version.size() == 8 && version.substr(0, 5) == "HTTP/" && std::isdigit(static_cast<unsigned char>(version[5])) &&
        version[6] == '.' && std::isdigit(static_cast<unsigned char>(version[7]))) {
      return core::Error{core::ErrorCode::kVersionNotSupported};
    }
    return core::Error{core::ErrorCode::kBadRequest, "The request line is malformed."};
  }
  if (ec == bhttp::error::bad_content_length || ec == bhttp::error::bad_transfer_encoding) {
    return core::Error{core::ErrorCode::kBadRequest,
                       "Content-Length and Transfer-Encoding are malformed, repeated or both present."};
  }
  if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension) {
    return core::Error{core::ErrorCode::kBadRequest, "The chunked body is malformed."};
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return core::Error{core::ErrorCode::kBadRequest, "The request is not valid HTTP/1.1."};
  }
  return std::nullopt;  // a socket error: nobody to answer
}

// The transfer codings of a Transfer-Encoding value, lowercased.
std::vector<std::string> Codings(std::string_view value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = value.find(',', start);
    auto item = value.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    const auto semi = item.find(';');
    item = item.substr(0, semi);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (!item.empty()) out.push_back(core::LowerAscii(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// A connection's socket is bound to its own strand: handlers of one connection never run at
// once, and the concrete executor type avoids Asio's type-erased executor on every operation.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = tcp::socket::rebind_executor<Strand>::other;

class Connection;

// The EventSink of one stream: it holds its connection weakly, so a sink the poller still keeps
// does not keep a closed connection alive.
class StreamSink final : public EventSink {
 public:
  explicit StreamSink(std::weak_ptr<Connection> connection) : connection_(std::move(connection)) {}
  bool Send(std::string bytes) override;
  void Close() override;
  [[nodiscard]] bool IsOpen() const override { return open_.load(std::memory_order_acquire); }
  // The transport's side: the stream ended (last chunk queued, or the connection closed).
  void MarkClosed() { open_.store(false, std::memory_order_release); }

 private:
  std::weak_ptr<Connection> connection_;
  std::atomic<bool> open_{true};
};

}  // namespace

struct Server::Impl {
  explicit Impl(Server& s) : self(s) {}

  Server& self;
  std::shared_ptr<spdlog::logger> access_log;
  std::uint16_t port = 0;

  // Open connections, for the cap and for closing idle ones on shutdown.
  std::mutex connections_mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  std::atomic<std::size_t> open_connections{0};
  // Event streams: counted here, not in open_connections, from their start until their last chunk
  // is written (or the connection closes).
  std::atomic<std::size_t> open_streams{0};
  std::atomic<bool> tearing_down{false};

  // Declared after everything a connection's destructor touches: destroying the io_context
  // destroys the handlers that still own connections.
  net::io_context io;
  net::strand<net::io_context::executor_type> accept_strand{net::make_strand(io)};
  tcp::acceptor acceptor{accept_strand};
  net::steady_timer accept_retry{accept_strand};
  net::steady_timer sweep_timer{accept_strand};
  // Installed by Open, before "listening on" is printed: a SIGTERM that arrives before Run
  // starts the I/O threads is kept, not fatal.
  std::optional<net::signal_set> signals;
  std::atomic<bool> stop_requested{false};
  bool accept_paused = false;  // on accept_strand
  std::vector<std::thread> threads;

  [[nodiscard]] const config::Config& Config() const { return self.config_; }
  [[nodiscard]] const Router& Routes() const { return self.router_; }
  [[nodiscard]] bool Draining() const { return self.draining_.load(std::memory_order_relaxed); }
  void Enter() { self.in_flight_.fetch_add(1, std::memory_order_relaxed); }
  void Leave() { self.in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  [[nodiscard]] RouteMetrics& UnmatchedMetrics() { return self.unmatched_; }
  [[nodiscard]] std::string NewRequestId() { return core::NewId(self.clock_, self.random_); }
  // Work for the database worker pool (a download's next chunk); false when its queue is full.
  [[nodiscard]] bool SubmitWork(std::function<void()> task) { return self.workers_->TrySubmit(std::move(task)); }
  // 404, 405 or the OPTIONS answer: a request that no route handles.
  [[nodiscard]] Reply UnmatchedReply(const Request& request, const Match& match) const;

  void Accept();
  void OnAccept(const beast::error_code& ec, Socket socket);
  // `was_stream`: the connection had become an event stream (no longer in open_connections).
  void OnConnectionClosed(Connection* connection, bool was_stream);
  // A connection that is no longer counted against the cap: accept again if paused.
  void ResumeAccept();
  // A stream slot under IKIGAI_MAX_STREAMS; false when there is none.
  [[nodiscard]] bool EnterStream();
  void LeaveStream() { open_streams.fetch_sub(1, std::memory_order_relaxed); }
  // The connection turned into a stream: it leaves the connection count.
  void ConnectionBecameStream();
  void CloseIdleConnections();
  // The connections still open, held so none ends while it is being told something.
  std::vector<std::shared_ptr<Connection>> LiveConnections();
  // Once a second: closes connections whose read or write is past its deadline.
  void Sweep();

  // The route-level pipeline once a request (with its body) is complete.
  void Process(const std::shared_ptr<Connection>& connection, Request& request, const Match& match);
  Reply Invoke(Request& request, Route& route);
  // Response headers common to every answer.
  void Decorate(bhttp::response_header<>& res, const Request& request, Reply& reply) const;
  // CORS: the request's Origin when it is allowed (IKIGAI_CORS_ORIGINS, and in development
  // http://localhost:* and http://127.0.0.1:*), else nullopt.
  [[nodiscard]] std::optional<std::string> CorsOrigin(const Request& request) const {
    return AllowedOrigin(request.Header("origin"), self.config_.cors_origins, LocalOriginsAllowed());
  }
  [[nodiscard]] bool LocalOriginsAllowed() const { return self.config_.env == config::Environment::kDevelopment; }
  void LogAccess(const Request& request, int status, RouteMetrics& metrics) const;
};

namespace {

// One client connection. Requests are handled one at a time, in order: the next one (already in
// the buffer when the client pipelines) is parsed only after the previous answer is written.
// Everything except Deliver runs on the connection's strand.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, Socket&& socket)
      : server_(server), socket_(std::move(socket)), buffer_(kHeaderSectionLimit + kReadChunk) {}
  ~Connection() {
    if (stream_counted_) server_.LeaveStream();
    server_.OnConnectionClosed(this, became_stream_);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start() {
    net::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }

  // Shutdown: a connection waiting for a request is closed now; a busy one closes after its answer;
  // an event stream gets its last chunk now; a download goes on for as long as the stop waits
  // for streams (then it is cut, without its last chunk).
  void Drain() {
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kReadingHeader) self->Close();
      if (self->state_ == State::kStreaming && !self->download_) self->EndStream();
    });
  }

  // The sink's Send (any thread): one chunk for the stream. False when the stream is over, or when
  // more than the bound is already queued and unwritten: then the client is not reading and is
  // disconnected. The bytes already queued decide, not these: one Send of any size (a resume
  // backlog) goes out whole to a client that keeps up.
  bool QueueChunk(std::string bytes) {
    const std::size_t size = bytes.size();
    // The bound is on what waits behind the write in progress: a client that has read a large
    // chunk whose completion the strand has not run yet must not look like one that stopped.
    const std::size_t before = stream_queued_.fetch_add(size, std::memory_order_relaxed);
    const std::size_t writing = stream_in_write_.load(std::memory_order_relaxed);
    if (before - std::min(before, writing) > kStreamQueueLimit) {
      stream_queued_.fetch_sub(size, std::memory_order_relaxed);
      net::post(socket_.get_executor(), [self = shared_from_this()] {
        if (self->state_ != State::kStreaming) return;
        spdlog::info("event stream closed: the client at {} does not read ({} bytes queued)", self->Peer(),
                     self->stream_queued_.load(std::memory_order_relaxed));
        self->Close();
      });
      return false;
    }
    net::post(socket_.get_executor(), [self = shared_from_this(), bytes = std::move(bytes)]() mutable {
      if (self->state_ != State::kStreaming || self->stream_ending_) {
        self->stream_queued_.fetch_sub(bytes.size(), std::memory_order_relaxed);
        return;
      }
      self->PushChunk(std::move(bytes));
      self->WriteStream();
    });
    return true;
  }

  // The sink's Close (any thread).
  void EndStreamSoon() {
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->EndStream(); });
  }

  // The sweeper's check (any thread): a connection whose current read or write has run past its
  // deadline is closed on its strand, which ends that operation.
  void CloseIfExpired(std::int64_t now_ms) {
    const auto deadline = deadline_ms_.load(std::memory_order_relaxed);
    if (deadline == 0 || now_ms < deadline) return;
    net::post(socket_.get_executor(), [self = shared_from_this()] {
      const auto d = self->deadline_ms_.load(std::memory_order_relaxed);
      if (d != 0 && NowMs() >= d) self->Close();
    });
  }

  // The answer to the current request, from any thread (at once when already on the strand).
  void Deliver(Reply reply, RouteMetrics& metrics) {
    net::dispatch(socket_.get_executor(), [self = shared_from_this(), reply = std::move(reply), &metrics]() mutable {
      self->Write(std::move(reply), metrics, false);
    });
  }

  static std::int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  Request& CurrentRequest() { return request_; }

 private:
  enum class State { kReadingHeader, kReadingBody, kProcessing, kWriting, kStreaming, kLingering, kClosed };

  void ReadHeader() {
    if (state_ == State::kClosed) return;
    state_ = State::kReadingHeader;
    if (server_.Draining()) return Close();
    // An idle keep-alive connection holds no request, no body and no buffer memory.
    request_ = Request{};
    match_ = Match{};
    if (buffer_.size() == 0) buffer_.shrink_to_fit();
    header_parser_.emplace();
    header_parser_->header_limit(kHeaderSectionLimit);
    // Beast's default body limit (1 MiB) would refuse a large Content-Length inside the header
    // read, before the route and our limit are looked at; ours is applied in OnHeader/ReadBody.
    // (Not boost::none: Beast 1.74 then refuses every Content-Length, its issue #2070.)
    header_parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    body_parser_.reset();
    Arm(kIdleTimeout);
    ReadHeaderSome();
  }

  // The header is read here, one socket read at a time, rather than by http::async_read_header:
  // Beast's parser takes only CRLF line endings, and once a request line is split across reads it
  // looks for nothing but CRLF CRLF (and its read loop keeps reading until then), so a client
  // ending its lines with bare LF, which RFC 9112 section 2.2 lets a server refuse, would wait for
  // the header deadline. Here a blank bare-LF line in what arrived is answered 400 at once.
  void ReadHeaderSome() {
    // A pipelining client's next request may be in the buffer already.
    if (buffer_.size() > 0 && ParseBufferedHeader()) return;
    if (buffer_.size() >= buffer_.max_size()) return OnHeader(bhttp::error::buffer_overflow);
    const std::size_t room = std::min<std::size_t>(kReadChunk, buffer_.max_size() - buffer_.size());
    socket_.async_read_some(buffer_.prepare(room), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (self->state_ == State::kClosed) return;
      if (ec) {
        if (ec == net::error::eof) {
          ec = self->header_parser_->got_some() || self->buffer_.size() > 0 ? bhttp::error::partial_message
                                                                             : bhttp::error::end_of_stream;
        }
        return self->OnHeader(ec);
      }
      self->buffer_.commit(n);
      if (!self->ParseBufferedHeader()) self->ReadHeaderSome();
    });
  }

  // Feeds what the buffer holds to the header parser; true when the header is decided (complete
  // or refused) and OnHeader was called, false when more bytes are needed.
  bool ParseBufferedHeader() {
    for (;;) {
      beast::error_code ec;
      const std::size_t used = header_parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec || header_parser_->is_header_done()) {
        OnHeader(ec);
        return true;
      }
      if (used == 0) break;
    }
    const auto data = buffer_.data();
    const std::string_view rest(static_cast<const char*>(data.data()), data.size());
    if (rest.find("\n\n") != std::string_view::npos) {
      OnHeader(bhttp::error::bad_line_ending);
      return true;
    }
    return false;
  }

  void OnHeader(const beast::error_code& ec) {
    if (state_ == State::kClosed) return;
    request_.started = std::chrono::steady_clock::now();
    const auto& h = header_parser_->get();
    // What the parser got of the request line (nothing when it failed before its end).
    const bool have_line = !h.target().empty();
    head_ = have_line && h.method() == bhttp::verb::head;
    version_ = have_line && h.version() == 10 ? 10 : 11;
    if (ec) {
      auto error = FramingError(ec, Buffered(), have_line ? std::optional<std::size_t>(h.target().size()) : std::nullopt);
      if (!error) return Close();
      return Fail(std::move(*error));
    }
    // Every Connection line counts (Beast's message keep_alive() reads only the first).
    keep_alive_ = header_parser_->keep_alive();
    request_.method = std::string(h.method_string());
    if (h.version() != 10 && h.version() != 11) return Fail({core::ErrorCode::kVersionNotSupported});

    std::size_t fields = 0;
    std::size_t content_lengths = 0;
    std::size_t hosts = 0;
    for (const auto& f : h) {
      if (++fields > kMaxFieldCount || f.name_string().size() > kMaxFieldNameBytes ||
          f.value().size() > kMaxFieldValueBytes) {
        return Fail({core::ErrorCode::kHeadersTooLarge});
      }
      std::string name = core::LowerAscii(f.name_string());
      if (name == "content-length") ++content_lengths;
      if (name == "host") ++hosts;
      request_.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    const std::string_view target = h.target();
    if (target.size() > kMaxTargetBytes) return Fail({core::ErrorCode::kUriTooLong});
    // RFC 9112 6.3: a repeated Content-Length is refused rather than guessed at.
    if (content_lengths > 1) return Fail({core::ErrorCode::kBadRequest, "Content-Length is repeated."});
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
    if (hosts > 1 || (hosts == 0 && version_ == 11)) {
      return Fail({core::ErrorCode::kBadRequest, "Host is missing or repeated."});
    }
    // Every Transfer-Encoding line, joined in order (Request::Header).
    if (const auto transfer_encoding = request_.Header("transfer-encoding")) {
      const auto codings = Codings(*transfer_encoding);
      if (codings.empty()) return Fail({core::ErrorCode::kBadRequest, "Transfer-Encoding is empty."});
      for (const auto& c : codings) {
        if (c != "chunked") return Fail({core::ErrorCode::kNotImplemented});
      }
      if (codings.size() != 1 || !header_parser_->chunked()) {
        return Fail({core::ErrorCode::kBadRequest, "Transfer-Encoding must be chunked, once."});
      }
      // RFC 9112 6.1: after an HTTP/1.0 message with Transfer-Encoding the connection closes.
      if (version_ == 10) keep_alive_ = false;
    }

    FillRequest(target);
    match_ = server_.Routes().Find(request_.method, request_.path);
    if (match_.kind == Match::Kind::kFound) request_.route = match_.route->path;

    const auto declared = header_parser_->content_length();
    const std::size_t limit = server_.Config().max_body_bytes;
    if (declared && *declared > limit) {
      // Answered from the header alone; the body is never read into memory.
      if (match_.kind != Match::Kind::kFound) {
        return Answer(server_.UnmatchedReply(request_, match_), server_.UnmatchedMetrics(), true);
      }
      return Fail({core::ErrorCode::kPayloadTooLarge});
    }
    if (header_parser_->is_done()) return Complete();

    const auto expect = request_.Header("expect");
    if (expect && core::LowerAscii(*expect) == "100-continue" && version_ == 11) {
      // A request refused whatever its body says is answered now instead of inviting the body.
      if (match_.kind != Match::Kind::kFound) {
        return Answer(server_.UnmatchedReply(request_, match_), server_.UnmatchedMetrics(), true);
      }
      state_ = State::kWriting;
      continue_ = std::make_unique<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_, 11);
      Arm(kWriteTimeout);
      return bhttp::async_write(socket_, *continue_, [self = shared_from_this()](beast::error_code wec, std::size_t) {
        self->continue_.reset();
        if (wec) return self->Close();
        if (self->state_ == State::kClosed) return;
        self->ReadBody();
      });
    }
    ReadBody();
  }

  void ReadBody() {
    state_ = State::kReadingBody;
    body_parser_.emplace(std::move(*header_parser_));
    header_parser_.reset();
    body_parser_->body_limit(server_.Config().max_body_bytes);
    Arm(kBodyTimeout);
    bhttp::async_read(socket_, buffer_, *body_parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnBody(ec); });
  }

  void OnBody(const beast::error_code& ec) {
    if (state_ == State::kClosed) return;
    if (ec) {
      // A chunk line or trailer that overflows the read buffer is a malformed body, not a header.
      if (ec == bhttp::error::buffer_overflow) return Fail({core::ErrorCode::kBadRequest, "The chunked body is malformed."});
      auto error = FramingError(ec, {}, std::nullopt);
      if (!error) return Close();
      if (error->code == core::ErrorCode::kPayloadTooLarge && match_.kind != Match::Kind::kFound) {
        return Answer(server_.UnmatchedReply(request_, match_), server_.UnmatchedMetrics(), true);
      }
      return Fail(std::move(*error));
    }
    request_.body = std::move(body_parser_->get().body());
    body_parser_.reset();
    Complete();
  }

  // The whole request is here: leave the framing and run the route pipeline.
  void Complete() {
    header_parser_.reset();
    deadline_ms_.store(0, std::memory_order_relaxed);
    state_ = State::kProcessing;
    server_.Enter();
    counted_ = true;
    server_.Process(shared_from_this(), request_, match_);
  }

  // The request's fields from the header and the target.
  void FillRequest(std::string_view target) {
    // Absolute form (RFC 9112 3.2.2): keep only the path and query.
    for (std::string_view scheme : {"http://", "https://"}) {
      if (target.size() > scheme.size() && core::LowerAscii(target.substr(0, scheme.size())) == scheme) {
        const auto slash = target.find('/', scheme.size());
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        break;
      }
    }
    const auto hash = target.find('#');
    if (hash != std::string_view::npos) target = target.substr(0, hash);
    const auto qmark = target.find('?');
    request_.path = std::string(target.substr(0, qmark));
    if (qmark != std::string_view::npos) {
      auto query = ParseQuery(target.substr(qmark + 1));
      if (query) {
        request_.query = std::move(*query);
      } else {
        request_.malformed_query = true;
      }
    }
    FillMeta();
    const auto& config = server_.Config();
    request_.client_ip = ClientAddress(Peer(), request_.Header("x-forwarded-for"), config.trusted_proxies);
    // Kept as sent: the stores fit it to valid UTF-8 and their column (store/columns.hpp).
    request_.user_agent = request_.Header("user-agent").value_or("");
  }

  // The request id (and the client address when nothing else is known yet).
  void FillMeta() {
    const auto incoming_id = request_.Header("x-request-id");
    request_.request_id = incoming_id && IsValidRequestId(*incoming_id)
                              ? *incoming_id
                              : server_.NewRequestId();
    if (request_.client_ip.empty()) request_.client_ip = ClientAddress(Peer(), std::nullopt, {});
  }

  // The TCP peer's address, asked of the kernel once per connection.
  const std::string& Peer() {
    if (peer_.empty()) {
      beast::error_code ec;
      const auto endpoint = socket_.remote_endpoint(ec);
      peer_ = ec ? std::string("unknown") : endpoint.address().to_string();
    }
    return peer_;
  }

  // What the read buffer holds (the start of a request that failed to parse).
  std::string_view Buffered() const {
    const auto data = buffer_.data();
    return {static_cast<const char*>(data.data()), data.size()};
  }

  // A framing error: answered, then the connection closes.
  void Fail(core::Error error) {
    if (request_.request_id.empty()) FillMeta();
    Answer(ErrorReply(error, request_), server_.UnmatchedMetrics(), true);
  }

  // An answer decided on this strand (no route work): counted in flight like any other.
  void Answer(Reply reply, RouteMetrics& metrics, bool close) {
    server_.Enter();
    counted_ = true;
    Write(std::move(reply), metrics, close);
  }

  void Write(Reply reply, RouteMetrics& metrics, bool close) {
    if (state_ == State::kClosed) return Finish();
    if ((reply.stream || reply.download) && !head_) return StartStream(std::move(reply), metrics);
    state_ = State::kWriting;
    const bool keep = keep_alive_ && !close && !server_.Draining();
    response_.emplace();
    auto& res = *response_;
    res.version(version_ == 10 ? 10 : 11);
    res.result(static_cast<unsigned>(reply.status));
    res.reason(ReasonPhrase(reply.status));
    server_.Decorate(res, request_, reply);
    res.keep_alive(keep);
    if (reply.stream || reply.download) {
      // HEAD of a stream: its header without a length or a coding (there is no body to frame).
      res.set("X-Accel-Buffering", "no");
    } else if (reply.status != 204 && reply.status != 304) {
      res.content_length(reply.body.size());
      // HEAD: the same header as GET, Content-Length included, and no body (RFC 9110 9.3.2).
      if (!head_) res.body() = std::move(reply.body);
    }
    server_.LogAccess(request_, reply.status, metrics);
    Arm(kWriteTimeout);
    bhttp::async_write(socket_, res, [self = shared_from_this(), keep](beast::error_code ec, std::size_t) {
      self->response_.reset();
      self->Finish();
      if (ec || self->state_ == State::kClosed) return self->Close();
      if (!keep) return self->Linger();
      self->ReadHeader();
    });
  }

  void Finish() {
    if (counted_) server_.Leave();
    counted_ = false;
  }

  // Stop sending, then read and drop what the client still sends until it closes or the
  // linger time ends, so that it reads the answer instead of a reset.
  void Linger() {
    state_ = State::kLingering;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    linger_buffer_ = std::make_unique<char[]>(kLingerChunk);
    buffer_.clear();
    buffer_.shrink_to_fit();
    Arm(kLingerTimeout);  // one deadline for the whole linger, not per read
    LingerRead();
  }

  void LingerRead() {
    socket_.async_read_some(net::buffer(linger_buffer_.get(), kLingerChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) return self->Close();
                              self->LingerRead();
                            });
  }

  // ---- event streams -------------------------------------------------------------------------

  // A reply with `stream`: the header (and the body as the first chunk), then the connection reads
  // no more requests; the sink writes chunks until it or the client or the drain ends the stream.
  void StartStream(Reply reply, RouteMetrics& metrics) {
    const bool draining = server_.Draining();
    if (draining || !server_.EnterStream()) {
      core::Error full{core::ErrorCode::kUnavailable,
                       draining ? "The server is shutting down. Try again shortly."
                                : "The server has as many event streams open as it allows. Try again shortly.",
                       {}, kStreamRetryAfterSeconds};
      return Write(ErrorReply(full, request_), metrics, draining);
    }
    auto start = std::move(reply.stream);
    download_ = std::move(reply.download);
    stream_counted_ = true;
    became_stream_ = true;
    server_.ConnectionBecameStream();
    state_ = State::kStreaming;
    // HTTP/1.0 has no chunked coding: the body runs until the connection closes.
    chunked_ = version_ == 11;
    bhttp::response<bhttp::empty_body> res;
    res.version(version_ == 10 ? 10 : 11);
    res.result(static_cast<unsigned>(reply.status));
    res.reason(ReasonPhrase(reply.status));
    server_.Decorate(res, request_, reply);
    res.set("X-Accel-Buffering", "no");
    res.keep_alive(false);
    if (chunked_) res.chunked(true);
    std::ostringstream head;
    head << res.base();
    stream_queue_.push_back({head.str(), 0});
    if (!reply.body.empty()) {
      stream_queued_.fetch_add(reply.body.size(), std::memory_order_relaxed);
      PushChunk(std::move(reply.body));
    }
    // Logged and counted once, as it starts; it is no longer a request in flight.
    server_.LogAccess(request_, reply.status, metrics);
    Finish();
    // A stream holds no request, no parser and no read buffer; bytes after the request are dropped.
    request_ = Request{};
    match_ = Match{};
    header_parser_.reset();
    body_parser_.reset();
    buffer_.clear();
    buffer_.shrink_to_fit();
    sink_ = std::make_shared<StreamSink>(weak_from_this());
    // The stream is registered before its head can leave: a client that has read the head knows
    // the hub counts this stream, so streams opened one after another are registered in that
    // order (the per-user limit closes the oldest). Written after, a preempted I/O thread let a
    // later stream of the same user on the other I/O thread register first.
    if (!download_ && start && start->on_open) {
      try {
        start->on_open(sink_);
      } catch (const std::exception& e) {
        spdlog::error("event stream: on_open threw: {}", e.what());
        EndStream();
      }
    }
    WriteStream();
    WatchRead();
    if (download_) return PullDownload();
  }

  // Queues one chunk (its framing included); the bytes are already counted in stream_queued_.
  void PushChunk(std::string bytes) {
    const std::size_t counted = bytes.size();
    if (!chunked_) {
      stream_queue_.push_back({std::move(bytes), counted});
      return;
    }
    std::array<char, 20> size{};
    const auto [end, ec] = std::to_chars(size.data(), size.data() + size.size(), counted, 16);
    (void)ec;
    std::string framed;
    framed.reserve(static_cast<std::size_t>(end - size.data()) + counted + 4);
    framed.append(size.data(), end).append("\r\n").append(bytes).append("\r\n");
    stream_queue_.push_back({std::move(framed), counted});
  }

  // Writes everything queued as one gather write; one write at a time, on the strand.
  void WriteStream() {
    if (stream_writing_ || stream_queue_.empty() || state_ != State::kStreaming) return;
    stream_writing_ = true;
    stream_batch_.clear();
    stream_batch_.swap(stream_queue_);
    std::vector<net::const_buffer> buffers;
    buffers.reserve(stream_batch_.size());
    std::size_t counted = 0;
    for (const auto& frame : stream_batch_) {
      buffers.emplace_back(net::buffer(frame.bytes));
      counted += frame.counted;
    }
    stream_in_write_.store(counted, std::memory_order_relaxed);
    Arm(kWriteTimeout);
    net::async_write(socket_, buffers, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->OnStreamWritten(ec);
    });
  }

  void OnStreamWritten(const beast::error_code& ec) {
    stream_writing_ = false;
    std::size_t written = 0;
    for (const auto& frame : stream_batch_) written += frame.counted;
    stream_batch_.clear();
    stream_batch_.shrink_to_fit();
    stream_queued_.fetch_sub(written, std::memory_order_relaxed);
    stream_in_write_.store(0, std::memory_order_relaxed);
    if (ec || state_ != State::kStreaming) return Close();
    deadline_ms_.store(0, std::memory_order_relaxed);  // no deadline while nothing is being written
    if (!stream_queue_.empty()) return WriteStream();
    if (stream_ending_) return StreamDone();
    if (download_) PullDownload();
  }

  // ---- downloads ------------------------------------------------------------------------------

  // Asks the download's producer for its next chunk on the worker pool; the chunk comes back to
  // the strand. One at a time, and only when nothing is queued: memory stays at one chunk.
  void PullDownload() {
    if (download_pulling_ || state_ != State::kStreaming || stream_ending_ || stream_writing_ ||
        !stream_queue_.empty()) {
      return;
    }
    download_pulling_ = true;
    auto producer = download_;
    const bool queued = server_.SubmitWork([self = shared_from_this(), producer] {
      std::optional<std::string> chunk;
      bool failed = false;
      try {
        chunk = producer->next();
      } catch (const std::exception& e) {
        spdlog::error("download: the producer failed: {}", e.what());
        failed = true;
      }
      net::post(self->socket_.get_executor(), [self, chunk = std::move(chunk), failed]() mutable {
        self->OnDownloadChunk(std::move(chunk), failed);
      });
    });
    if (!queued) {
      // The worker queue is full: the transfer is cut (no last chunk), never silently short.
      spdlog::warn("download to {} cut: the worker queue is full", Peer());
      download_pulling_ = false;
      Close();
    }
  }

  void OnDownloadChunk(std::optional<std::string> chunk, bool failed) {
    download_pulling_ = false;
    if (state_ != State::kStreaming || stream_ending_) return;
    if (failed) return Close();
    if (!chunk) return EndStream();
    if (chunk->empty()) return PullDownload();
    stream_queued_.fetch_add(chunk->size(), std::memory_order_relaxed);
    PushChunk(std::move(*chunk));
    WriteStream();
  }

  // Ends the stream: the last chunk, then the connection closes (after a linger).
  void EndStream() {
    if (state_ != State::kStreaming || stream_ending_) return;
    stream_ending_ = true;
    if (sink_) sink_->MarkClosed();
    if (chunked_) stream_queue_.push_back({"0\r\n\r\n", 0});
    if (stream_writing_) return;  // OnStreamWritten goes on
    if (stream_queue_.empty()) return StreamDone();
    WriteStream();
  }

  // Everything, the last chunk included, is written: stop sending and let the client close.
  void StreamDone() {
    if (stream_counted_) server_.LeaveStream();
    stream_counted_ = false;
    state_ = State::kLingering;
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    Arm(kLingerTimeout);  // the watch read below goes on until the client closes or this passes
  }

  // The one read of a stream: it only notices the client. EOF or an error closes; bytes end the
  // stream (it takes no further request) and are dropped, as they are while lingering after it.
  void WatchRead() {
    if (!watch_buffer_) watch_buffer_ = std::make_unique<char[]>(kWatchChunk);
    socket_.async_read_some(net::buffer(watch_buffer_.get(), kWatchChunk),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (self->state_ == State::kClosed) return;
                              if (ec) return self->Close();
                              // A download goes on: only its producer ends it.
                              if (self->state_ == State::kStreaming && !self->download_) self->EndStream();
                              self->WatchRead();
                            });
  }

  void Close() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    if (sink_) sink_->MarkClosed();
    if (stream_counted_) server_.LeaveStream();
    stream_counted_ = false;
    deadline_ms_.store(0, std::memory_order_relaxed);
    beast::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  // Timeouts are deadlines checked by the server's once-a-second sweeper: cheaper than a timer
  // armed and cancelled around every read and write.
  void Arm(std::chrono::milliseconds timeout) {
    deadline_ms_.store(NowMs() + timeout.count(), std::memory_order_relaxed);
  }

  Server::Impl& server_;
  Socket socket_;
  std::atomic<std::int64_t> deadline_ms_{0};  // steady-clock ms; 0: no deadline
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::empty_body>> header_parser_;
  std::optional<bhttp::request_parser<bhttp::string_body>> body_parser_;
  std::optional<bhttp::response<bhttp::string_body>> response_;
  std::unique_ptr<bhttp::response<bhttp::empty_body>> continue_;
  std::unique_ptr<char[]> linger_buffer_;
  // Event stream state (StartStream on): frames waiting, the frames being written, and the bytes
  // the sink queued and not yet written (read by the sink's thread for the bound).
  struct Frame {
    std::string bytes;        // framed: chunk size line, data, CRLF
    std::size_t counted = 0;  // payload bytes in stream_queued_
  };
  std::shared_ptr<StreamSink> sink_;
  std::shared_ptr<Download> download_;  // a download's producer (StartStream with Reply::download)
  bool download_pulling_ = false;       // its next chunk is being produced
  // Vectors, not a deque: libstdc++'s deque allocates on construction, for every connection.
  std::vector<Frame> stream_queue_;
  std::vector<Frame> stream_batch_;
  std::atomic<std::size_t> stream_queued_{0};
  std::atomic<std::size_t> stream_in_write_{0};  // of stream_queued_, the bytes async_write holds now
  std::unique_ptr<char[]> watch_buffer_;
  bool stream_writing_ = false;
  bool stream_ending_ = false;
  bool stream_counted_ = false;  // in open_streams
  bool became_stream_ = false;   // left open_connections
  bool chunked_ = true;
  std::string peer_;
  Request request_;
  Match match_;
  State state_ = State::kReadingHeader;
  unsigned version_ = 11;
  bool head_ = false;
  bool keep_alive_ = true;
  bool counted_ = false;
};

bool StreamSink::Send(std::string bytes) {
  if (!IsOpen()) return false;
  auto connection = connection_.lock();
  if (!connection) {
    MarkClosed();
    return false;
  }
  if (bytes.empty()) return true;
  if (connection->QueueChunk(std::move(bytes))) return true;
  MarkClosed();  // over the bound: the connection is being closed
  return false;
}

void StreamSink::Close() {
  if (!open_.exchange(false, std::memory_order_acq_rel)) return;
  if (auto connection = connection_.lock()) connection->EndStreamSoon();
}

}  // namespace

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
  impl_->tearing_down = true;
  impl_->io.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
}

std::size_t Server::OpenConnections() const { return impl_->open_connections.load(std::memory_order_relaxed); }
std::size_t Server::OpenStreams() const { return impl_->open_streams.load(std::memory_order_relaxed); }

void Server::Stop() { impl_->stop_requested = true; }

std::uint16_t Server::Open() {
  // Each connection is a file descriptor: allow as many as the hard limit permits.
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  // Streams are connections too, outside IKIGAI_MAX_CONNECTIONS.
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY &&
      files.rlim_cur < config_.max_connections + config_.max_streams + 256) {
    spdlog::warn(
        "IKIGAI_MAX_CONNECTIONS ({}) plus IKIGAI_MAX_STREAMS ({}) need more file descriptors than the {} allowed "
        "(ulimit -n)",
        config_.max_connections, config_.max_streams, files.rlim_cur);
  }
  impl_->signals.emplace(impl_->io, SIGTERM, SIGINT);
  impl_->signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) Stop();
  });
  const tcp::endpoint endpoint(net::ip::make_address(config_.listen.host), config_.listen.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(net::socket_base::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(net::socket_base::max_listen_connections);
  impl_->port = acceptor.local_endpoint().port();
  net::post(impl_->accept_strand, [this] {
    impl_->Accept();
    impl_->Sweep();
  });
  return impl_->port;
}

void Server::Run(std::chrono::seconds drain_timeout, const std::function<void()>& on_stop) {
  auto work = net::make_work_guard(impl_->io);
  for (unsigned i = 0; i < config_.io_threads; ++i) {
    impl_->threads.emplace_back([this] {
      // A handler that throws (bad_alloc, a header Beast refuses) must not end the process.
      for (;;) {
        try {
          impl_->io.run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("I/O thread: unhandled exception: {}", e.what());
        }
      }
    });
  }
  while (!impl_->stop_requested.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));

  spdlog::info("stopping: no new connections; draining {} in-flight request(s)", InFlight());
  draining_ = true;
  std::promise<void> closed;
  net::post(impl_->accept_strand, [&] {
    beast::error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->accept_retry.cancel();
    closed.set_value();
  });
  closed.get_future().wait();
  impl_->CloseIdleConnections();
  if (on_stop) on_stop();
  // Streams were told to end (CloseIdleConnections): their last chunks go out at once. A client
  // that does not read its last chunk holds the stop for at most kStreamDrain, not the whole drain.
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + drain_timeout;
  const auto streams_deadline = std::min(deadline, start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(kStreamDrain));
  for (auto now = start; now < deadline; now = std::chrono::steady_clock::now()) {
    if (InFlight() == 0 && (OpenStreams() == 0 || now >= streams_deadline)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (InFlight() > 0) spdlog::warn("drain timeout: {} request(s) still in flight", InFlight());
  if (OpenStreams() > 0) spdlog::warn("drain timeout: {} event stream(s) not ended", OpenStreams());
  workers_->Stop();
  hashers_->Stop();
  work.reset();
  net::post(impl_->accept_strand, [this] { impl_->sweep_timer.cancel(); });
  impl_->tearing_down = true;
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

Reply Server::Impl::UnmatchedReply(const Request& request, const Match& match) const {
  if (match.kind == Match::Kind::kNotFound) return ErrorReply({core::ErrorCode::kNotFound}, request);
  if (request.method != "OPTIONS") {
    Reply reply = ErrorReply({core::ErrorCode::kMethodNotAllowed}, request);
    reply.With("Allow", match.allow);
    return reply;
  }
  Reply reply = NoContent();
  reply.With("Allow", match.allow);
  const auto origin = CorsOrigin(request);
  if (origin && request.Header("access-control-request-method")) {
    reply.With("Access-Control-Allow-Methods", match.allow)
        .With("Access-Control-Allow-Headers", kCorsAllowHeaders)
        .With("Access-Control-Max-Age", "600");
  }
  return reply;
}

void Server::Impl::Accept() {
  if (!acceptor.is_open()) return;
  acceptor.async_accept(net::make_strand(io), [this](beast::error_code ec, Socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Server::Impl::OnAccept(const beast::error_code& ec, Socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of file descriptors (or a transient error): try again shortly instead of spinning.
    spdlog::warn("accept failed: {}", ec.message());
    accept_retry.expires_after(100ms);
    accept_retry.async_wait([this](const beast::error_code& wec) {
      if (!wec) Accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  const std::size_t open = open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
  auto connection = std::make_shared<Connection>(*this, std::move(socket));
  {
    std::lock_guard lock(connections_mutex);
    connections.emplace(connection.get(), connection);
  }
  connection->Start();
  // At the cap the acceptor waits; new clients queue in the kernel backlog until one closes.
  if (open >= self.config_.max_connections) {
    accept_paused = true;
    return;
  }
  Accept();
}

void Server::Impl::OnConnectionClosed(Connection* connection, bool was_stream) {
  {
    std::lock_guard lock(connections_mutex);
    connections.erase(connection);
  }
  if (was_stream) return;  // it left open_connections when it became one
  open_connections.fetch_sub(1, std::memory_order_relaxed);
  ResumeAccept();
}

void Server::Impl::ConnectionBecameStream() {
  open_connections.fetch_sub(1, std::memory_order_relaxed);
  ResumeAccept();
}

bool Server::Impl::EnterStream() {
  std::size_t open = open_streams.load(std::memory_order_relaxed);
  do {
    if (open >= self.config_.max_streams) return false;
  } while (!open_streams.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
  return true;
}

void Server::Impl::ResumeAccept() {
  if (tearing_down.load()) return;
  net::post(accept_strand, [this] {
    if (accept_paused && open_connections.load(std::memory_order_relaxed) < self.config_.max_connections) {
      accept_paused = false;
      Accept();
    }
  });
}

void Server::Impl::Sweep() {
  sweep_timer.expires_after(1s);
  sweep_timer.async_wait([this](const beast::error_code& ec) {
    if (ec) return;
    const auto now = Connection::NowMs();
    for (auto& c : LiveConnections()) c->CloseIfExpired(now);
    Sweep();
  });
}

std::vector<std::shared_ptr<Connection>> Server::Impl::LiveConnections() {
  std::vector<std::shared_ptr<Connection>> open;
  std::lock_guard lock(connections_mutex);
  open.reserve(connections.size());
  for (auto& [ptr, weak] : connections) {
    if (auto c = weak.lock()) open.push_back(std::move(c));
  }
  return open;
}

void Server::Impl::CloseIdleConnections() {
  for (auto& c : LiveConnections()) c->Drain();
}

void Server::Impl::Process(const std::shared_ptr<Connection>& connection, Request& r, const Match& m) {
  if (m.kind != Match::Kind::kFound) {
    connection->Deliver(UnmatchedReply(r, m), self.unmatched_);
    return;
  }
  Route& route = *m.route;
  r.params = m.params;
  if (!r.body.empty()) {
    const auto type = r.Header("content-type");
    if (!type || !IsJsonMediaType(*type)) {
      connection->Deliver(ErrorReply({core::ErrorCode::kUnsupportedMediaType}, r), *route.metrics);
      return;
    }
  }
  if (route.exec == Exec::kInline) {
    connection->Deliver(Invoke(r, route), *route.metrics);
    return;
  }
  WorkerPool& pool = route.exec == Exec::kHash ? *self.hashers_ : *self.workers_;
  const bool queued = pool.TrySubmit([this, connection, &route] {
    connection->Deliver(Invoke(connection->CurrentRequest(), route), *route.metrics);
  });
  if (!queued) {
    core::Error busy{core::ErrorCode::kUnavailable, "The server is busy. Try again shortly.", {},
                     pool.RetryAfterSeconds()};
    connection->Deliver(ErrorReply(busy, r), *route.metrics);
  }
}

Reply Server::Impl::Invoke(Request& request, Route& route) {
  try {
    if (route.access != Access::kPublic) {
      if (self.authenticator_ == nullptr) {
        core::Error none{core::ErrorCode::kUnauthorized};
        none.reason = "missing";
        return ErrorReply(none, request);
      }
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

void Server::Impl::Decorate(bhttp::response_header<>& res, const Request& request, Reply& reply) const {
  res.set(bhttp::field::date, CachedHttpDate(self.clock_));
  res.set("X-Request-Id", request.request_id);
  res.set("X-Content-Type-Options", "nosniff");
  if (!reply.content_type.empty() && reply.status != 204) res.set(bhttp::field::content_type, reply.content_type);
  if (IsApiPath(request.path)) res.set(bhttp::field::cache_control, "no-store");
  if (!self.config_.cors_origins.empty() || LocalOriginsAllowed()) {
    if (auto origin = CorsOrigin(request)) {
      // Credentials (the refresh cookie) are allowed, so the origin is always echoed, never "*".
      res.set(bhttp::field::access_control_allow_origin, *origin);
      res.set(bhttp::field::access_control_allow_credentials, "true");
      res.set(bhttp::field::access_control_expose_headers, kCorsExposeHeaders);
    }
    res.set(bhttp::field::vary, "Origin");
  }
  for (auto& [name, value] : reply.headers) res.insert(name, value);
}

void Server::Impl::LogAccess(const Request& request, int status, RouteMetrics& metrics) const {
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - request.started);
  metrics.Observe(status, elapsed);
  const std::string route = request.route.empty() ? std::string("unmatched") : request.route;
  if (self.config_.log_format == config::LogFormat::kJson) {
    access_log->info(
        R"("msg":"request","method":{},"route":{},"status":{},"duration_ms":{:.3f},"request_id":{},"ip":{})",
        JsonEscapeForLog(request.method), JsonEscapeForLog(route), status,
        static_cast<double>(elapsed.count()) / 1000.0, JsonEscapeForLog(request.request_id),
        JsonEscapeForLog(request.client_ip));
  } else {
    access_log->info("{} {} {} {:.3f}ms request_id={} ip={}", JsonEscapeForLog(request.method), route, status,
                     static_cast<double>(elapsed.count()) / 1000.0, request.request_id, request.client_ip);
  }
}

}  // namespace ikigai::http
