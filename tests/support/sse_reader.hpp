// A client for GET /api/v1/notifications/stream: one raw TCP connection that sends the request,
// reads the response head, and then reads the chunked text/event-stream body incrementally,
// parsing Server-Sent Events (WHATWG HTML "event stream interpretation") as they arrive. Every
// wait has a deadline, so a stream that never delivers fails the test instead of hanging it.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"

namespace ikigai::support {

class Server;

// One dispatched event: the fields of the lines before a blank line. Comment lines (": ...")
// are not events; they are counted in SseStream::Comments().
struct SseEvent {
  // The "id:" field of this event ("" when it had none; a stream's "last event id" is not
  // inherited here, so a missing id shows).
  std::string id;
  // The "event:" field ("" when absent, which a browser treats as "message").
  std::string event;
  // The "data:" lines joined by '\n'.
  std::string data;
  // The "retry:" field when the block had one.
  std::optional<long long> retry;

  // `data` parsed as JSON (discarded on error).
  [[nodiscard]] nlohmann::json Json() const;
};

std::ostream& operator<<(std::ostream& out, const SseEvent& event);

class SseStream {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to 127.0.0.1:port, sends `GET target HTTP/1.1` with Host, Accept: text/event-stream
  // and `headers`, and reads the response head (waiting up to `timeout`). A non-200 answer's body
  // is read to its end (Content-Length or chunked). Throws std::runtime_error when the connection
  // cannot be made; a missing or malformed head is Status() 0 with Error() set.
  SseStream(int port, const std::string& target, const Headers& headers = {},
            std::chrono::milliseconds timeout = std::chrono::seconds{10});
  SseStream(const Server& server, const std::string& target, const Headers& headers = {},
            std::chrono::milliseconds timeout = std::chrono::seconds{10});
  ~SseStream();
  SseStream(SseStream&& other) noexcept;
  SseStream& operator=(SseStream&& other) noexcept;
  SseStream(const SseStream&) = delete;
  SseStream& operator=(const SseStream&) = delete;

  // The status of the response (0 when no head arrived) and its headers (names lowercased).
  [[nodiscard]] int Status() const { return status_; }
  [[nodiscard]] std::string Header(std::string_view name) const;
  [[nodiscard]] const std::vector<std::pair<std::string, std::string>>& Headers() const { return headers_; }
  [[nodiscard]] bool Chunked() const { return chunked_; }
  // For a non-200 answer: the whole body and the same response as support::Response (for
  // IsProblem / IsUnauthorized).
  [[nodiscard]] Response ToResponse() const;
  [[nodiscard]] const std::string& Error() const { return error_; }

  // The next event, waiting up to `timeout` for it; nullopt when none came (timeout, or the
  // stream ended: see Ended()). Events already received are returned first.
  std::optional<SseEvent> Next(std::chrono::milliseconds timeout = std::chrono::seconds{10});
  // Every event that arrives within `quiet` of the previous one (or of the call), up to
  // `max_wait` in all.
  std::vector<SseEvent> Drain(std::chrono::milliseconds quiet,
                              std::chrono::milliseconds max_wait = std::chrono::seconds{10});
  // Reads (keeping events for Next) until `count` comment lines arrived in all; false when the
  // stream ended or `timeout` passed first.
  bool WaitForComments(std::size_t count, std::chrono::milliseconds timeout);
  // Reads (keeping events for Next) until the stream ends or `timeout` passes; true when it ended.
  bool WaitForEnd(std::chrono::milliseconds timeout = std::chrono::seconds{5});

  // The body ended: the last chunk (size 0) arrived, or the connection closed.
  [[nodiscard]] bool Ended() const { return final_chunk_ || closed_; }
  [[nodiscard]] bool FinalChunk() const { return final_chunk_; }
  [[nodiscard]] bool Closed() const { return closed_; }
  // The de-chunked body received so far (the event stream text).
  [[nodiscard]] const std::string& Body() const { return body_; }
  // How many comment lines arrived (": keep-alive").
  [[nodiscard]] std::size_t Comments() const { return comments_; }
  // Every event dispatched so far, in order (also those already taken by Next).
  [[nodiscard]] const std::vector<SseEvent>& AllEvents() const { return all_; }
  // Status, headers and the start of the body, for failure messages.
  [[nodiscard]] std::string Describe() const;

  void Close();

 private:
  // Reads what is available within `deadline`; false on timeout or end.
  bool Fill(Clock::time_point deadline);
  // Moves complete chunks from raw_ to body_ and dispatches complete events.
  void Process();
  void Dispatch(std::string_view block);

  int fd_ = -1;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool chunked_ = false;
  std::string raw_;       // bytes after the head not yet de-chunked
  std::string body_;      // de-chunked body
  std::size_t parsed_ = 0;  // how much of body_ has been split into events
  std::deque<SseEvent> pending_;
  std::vector<SseEvent> all_;
  std::size_t comments_ = 0;
  bool final_chunk_ = false;
  bool closed_ = false;
  std::string head_raw_;
  std::string error_;
};

std::ostream& operator<<(std::ostream& out, const SseStream& stream);

}  // namespace ikigai::support
