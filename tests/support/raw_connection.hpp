// A blocking raw-TCP HTTP/1.1 client for the server under test: it sends exactly the bytes a test
// gives it (malformed, pipelined, in pieces) and reads one response at a time, so that tests can
// see what libcurl hides (framing, interim responses, a close after the answer).
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/http_client.hpp"

namespace ikigai::support {

class Server;

// One response as it came off the wire.
struct RawResponse {
  // Why no (complete) response was read; `status` is then 0 unless the head was read.
  enum class Outcome {
    kComplete,   // status line, headers and the whole body
    kTimeout,    // nothing more arrived before the deadline (the connection is still open)
    kClosed,     // the server closed (FIN or reset) before a complete response
    kMalformed,  // bytes that are not an HTTP/1.x response (`error` says where)
  };
  Outcome outcome = Outcome::kTimeout;
  int status = 0;
  std::string version;  // "HTTP/1.1"
  std::string reason;
  // In wire order; names lowercased, values with surrounding blanks removed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // de-chunked
  // Everything read for this response (head and body as sent), for failure messages.
  std::string raw;
  std::string error;

  [[nodiscard]] bool Complete() const { return outcome == Outcome::kComplete; }
  // 1xx: an interim response; the final one follows.
  [[nodiscard]] bool Interim() const { return Complete() && status >= 100 && status < 200; }
  // The first value of a header (case-insensitive name), "" when absent.
  [[nodiscard]] std::string Header(std::string_view name) const;
  [[nodiscard]] bool HasHeader(std::string_view name) const;
  [[nodiscard]] std::vector<std::string> Headers(std::string_view name) const;
  // True when the Connection header lists "close".
  [[nodiscard]] bool ConnectionClose() const;
  // The same response as support::Response, for IsProblem and the other predicates.
  [[nodiscard]] Response ToResponse() const;
  // Outcome, status line, headers and (the start of) the body, for failure messages.
  [[nodiscard]] std::string Describe() const;
};

std::ostream& operator<<(std::ostream& out, const RawResponse& response);
std::ostream& operator<<(std::ostream& out, RawResponse::Outcome outcome);

// Printable form of raw bytes: \r \n \t \0 and non-printable bytes escaped as \xNN; cut to
// `max` bytes (with a note of the full length).
[[nodiscard]] std::string EscapeBytes(std::string_view bytes, std::size_t max = 4096);

// One TCP connection to 127.0.0.1:PORT. Every wait has a deadline, so a server that never answers
// fails the test instead of hanging it. Move-only; the destructor closes the socket.
class RawConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects (throws std::runtime_error when the connection cannot be made within `timeout`).
  // `timeout` is also the default deadline of every later read, send and wait.
  explicit RawConnection(int port, std::chrono::milliseconds timeout = std::chrono::seconds{5});
  explicit RawConnection(const Server& server,
                         std::chrono::milliseconds timeout = std::chrono::seconds{5});
  ~RawConnection();
  RawConnection(RawConnection&& other) noexcept;
  RawConnection& operator=(RawConnection&& other) noexcept;
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes`. False when the server closed or reset the connection, or the bytes
  // could not be written within the timeout (the server stopped reading); `SendError()` says which.
  bool Send(std::string_view bytes);
  // Sends `bytes` in pieces of `piece` bytes with `pause` between them (a slow client, or a
  // request split across TCP segments). False as Send.
  bool SendInPieces(std::string_view bytes, std::size_t piece,
                    std::chrono::milliseconds pause = std::chrono::milliseconds{0});
  [[nodiscard]] const std::string& SendError() const { return send_error_; }

  // Reads ONE response. `head_request`: it answers a HEAD, so it has no body whatever its
  // headers say. An interim 1xx response is returned as it is (call again for the final one).
  // Bytes after the response stay buffered for the next call.
  RawResponse ReadResponse(bool head_request = false);
  RawResponse ReadResponse(bool head_request, std::chrono::milliseconds timeout);
  // Reads responses until one is not interim (1xx); the interim ones are dropped.
  RawResponse ReadFinalResponse(bool head_request = false);

  // True when the server has closed the connection (EOF or reset) within `timeout`. Bytes that
  // arrive meanwhile are kept and returned by Unread() (a well-behaved server sends none).
  bool WaitForClose();
  bool WaitForClose(std::chrono::milliseconds timeout);
  // True when something (bytes or a close) can be read within `timeout`, without consuming it.
  bool Readable(std::chrono::milliseconds timeout);
  // True when the server closed the connection (seen by an earlier read).
  [[nodiscard]] bool PeerClosed() const { return peer_closed_; }
  // Bytes read past the last response.
  [[nodiscard]] const std::string& Unread() const { return buffer_; }
  // Reads until the unread bytes contain `needle` (true), or the deadline passes or the server
  // closes first (false). For a response that does not end (an event stream).
  bool ReadUntil(std::string_view needle, std::chrono::milliseconds timeout);
  // The unread bytes, which are then forgotten.
  std::string TakeUnread();

  // Half-close: no more bytes from us (the server sees EOF).
  void ShutdownWrite();
  void Close();
  [[nodiscard]] bool IsOpen() const { return fd_ >= 0; }
  [[nodiscard]] std::chrono::milliseconds Timeout() const { return timeout_; }
  void SetTimeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

 private:
  // Reads what is available into buffer_ (waiting until `deadline`). False on timeout or close.
  bool Fill(Clock::time_point deadline);

  int fd_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
  bool peer_closed_ = false;
  std::string send_error_;
};

// "METHOD TARGET HTTP/1.1\r\nHost: 127.0.0.1\r\n" + each header + "\r\n" + body, with a
// Content-Length when `body` is not empty or `method` is POST/PUT/PATCH (and no Content-Length
// header was given). Headers are written as given ("Name: value").
[[nodiscard]] std::string BuildRequest(std::string_view method, std::string_view target,
                                       const Headers& headers = {}, std::string_view body = "");

}  // namespace ikigai::support
