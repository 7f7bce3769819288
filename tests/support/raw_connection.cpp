// A blocking raw-TCP HTTP/1.1 client for the server under test (see raw_connection.hpp).
#include "support/raw_connection.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/http_expectations.hpp"
#include "support/server.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

using Clock = RawConnection::Clock;

constexpr std::size_t kMaxHead = std::size_t{64} * 1024;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

enum class Parse { kDone, kMore, kBad };

// Parses one response from the start of `buf`. kDone sets `consumed`; kBad sets out.error.
// `eof`: no more bytes will come (a body without length then ends here).
Parse TryParse(std::string_view buf, bool head_request, bool eof, RawResponse& out,
               std::size_t& consumed) {
  out.headers.clear();
  out.body.clear();
  const std::string_view prefix = "HTTP/1.";
  if (buf.substr(0, std::min(buf.size(), prefix.size())) !=
      prefix.substr(0, std::min(buf.size(), prefix.size()))) {
    out.error = "the response does not start with \"HTTP/1.\"";
    return Parse::kBad;
  }
  auto head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (buf.size() > kMaxHead) {
      out.error = "no end of the response head within 64 KiB";
      return Parse::kBad;
    }
    return Parse::kMore;
  }
  std::string_view head = buf.substr(0, head_end + 2);
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK": version, a space, three digits, then a space and a reason (may be empty).
  if (status_line.size() < 12 || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    out.error = "malformed status line";
    return Parse::kBad;
  }
  out.version = std::string(status_line.substr(0, 8));
  int status = 0;
  auto digits = status_line.substr(9, 3);
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + 3, status);
  if (ec != std::errc{} || ptr != digits.data() + 3 || status < 100 || status > 599) {
    out.error = "malformed status code";
    return Parse::kBad;
  }
  out.status = status;
  out.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : "";
  std::size_t pos = line_end + 2;
  while (pos < head.size()) {
    auto end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
        line.front() == '\t') {
      out.error = "malformed header line: " + EscapeBytes(line, 200);
      return Parse::kBad;
    }
    out.headers.emplace_back(LowerAscii(line.substr(0, colon)),
                             std::string(Trim(line.substr(colon + 1))));
  }
  std::size_t body_start = head_end + 4;
  std::string_view rest = buf.substr(body_start);
  if (head_request || (status >= 100 && status < 200) || status == 204 || status == 304) {
    consumed = body_start;
    return Parse::kDone;
  }
  if (HeaderListContains(out.Header("transfer-encoding"), "chunked")) {
    std::size_t at = 0;
    while (true) {
      auto size_end = rest.find("\r\n", at);
      if (size_end == std::string_view::npos)
        return rest.size() - at > 1024 ? Parse::kBad : Parse::kMore;
      std::string_view size_line = rest.substr(at, size_end - at);
      size_line = size_line.substr(0, size_line.find(';'));
      std::size_t size = 0;
      auto [p, e] =
          std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
      if (e != std::errc{} || p != size_line.data() + size_line.size()) {
        out.error = "malformed chunk size line: " + EscapeBytes(size_line, 100);
        return Parse::kBad;
      }
      at = size_end + 2;
      if (size == 0) {
        // Trailer fields, then an empty line.
        while (true) {
          auto trailer_end = rest.find("\r\n", at);
          if (trailer_end == std::string_view::npos) return Parse::kMore;
          bool empty = trailer_end == at;
          at = trailer_end + 2;
          if (empty) break;
        }
        consumed = body_start + at;
        return Parse::kDone;
      }
      if (rest.size() < at + size + 2) return Parse::kMore;
      if (rest.substr(at + size, 2) != "\r\n") {
        out.error = "chunk data not followed by CRLF";
        return Parse::kBad;
      }
      out.body.append(rest.substr(at, size));
      at += size + 2;
    }
  }
  if (out.HasHeader("content-length")) {
    auto values = out.Headers("content-length");
    std::string_view text = values.front();
    std::size_t length = 0;
    auto [p, e] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (values.size() != 1 || e != std::errc{} || p != text.data() + text.size()) {
      out.error = "malformed or repeated Content-Length";
      return Parse::kBad;
    }
    if (rest.size() < length) return Parse::kMore;
    out.body = std::string(rest.substr(0, length));
    consumed = body_start + length;
    return Parse::kDone;
  }
  // No length: the body ends when the connection does.
  if (!eof) return Parse::kMore;
  out.body = std::string(rest);
  consumed = buf.size();
  return Parse::kDone;
}

}  // namespace

// ---- RawResponse ---------------------------------------------------------------------------

std::string RawResponse::Header(std::string_view name) const {
  auto lower = LowerAscii(name);
  for (const auto& [key, value] : headers) {
    if (key == lower) return value;
  }
  return "";
}

bool RawResponse::HasHeader(std::string_view name) const {
  auto lower = LowerAscii(name);
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return h.first == lower; });
}

std::vector<std::string> RawResponse::Headers(std::string_view name) const {
  auto lower = LowerAscii(name);
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (key == lower) values.push_back(value);
  }
  return values;
}

bool RawResponse::ConnectionClose() const {
  for (const auto& value : Headers("connection")) {
    if (HeaderListContains(value, "close")) return true;
  }
  return false;
}

Response RawResponse::ToResponse() const {
  Response response;
  if (Complete()) response.status = status;
  for (const auto& [key, value] : headers) response.headers.emplace(key, value);
  response.body = body;
  if (!Complete()) response.error = Describe();
  return response;
}

std::ostream& operator<<(std::ostream& out, RawResponse::Outcome outcome) {
  switch (outcome) {
    case RawResponse::Outcome::kComplete:
      return out << "complete response";
    case RawResponse::Outcome::kTimeout:
      return out << "no complete response before the deadline";
    case RawResponse::Outcome::kClosed:
      return out << "connection closed before a complete response";
    case RawResponse::Outcome::kMalformed:
      return out << "malformed response";
  }
  return out << "?";
}

std::string RawResponse::Describe() const {
  std::ostringstream out;
  out << "[" << outcome;
  if (outcome == Outcome::kMalformed) out << ": " << error;
  out << "] " << EscapeBytes(raw, 2048);
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const RawResponse& response) {
  return out << response.Describe();
}

std::string EscapeBytes(std::string_view bytes, std::size_t max) {
  std::string out;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = 0; i < bytes.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    switch (c) {
      case '\r':
        out += "\\r";
        break;
      case '\n':
        out += "\\n\n";
        break;  // a real line break too, for readability
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  if (bytes.size() > max) {
    out += "[... " + std::to_string(bytes.size() - max) + " more bytes, " +
           std::to_string(bytes.size()) + " in all]";
  }
  return out;
}

// ---- RawConnection -------------------------------------------------------------------------

RawConnection::RawConnection(int port, std::chrono::milliseconds timeout) : timeout_(timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      int err = errno;
      Close();
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                               std::strerror(err));
    }
    pollfd p{fd_, POLLOUT, 0};
    int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
    int err = 0;
    socklen_t len = sizeof err;
    if (ready == 1) ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (ready != 1 || err != 0) {
      Close();
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": " +
                               (ready != 1 ? std::string("timed out") : std::strerror(err)));
    }
  }
}

RawConnection::RawConnection(const Server& server, std::chrono::milliseconds timeout)
    : RawConnection(server.Port(), timeout) {}

RawConnection::~RawConnection() { Close(); }

RawConnection::RawConnection(RawConnection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      timeout_(other.timeout_),
      buffer_(std::move(other.buffer_)),
      peer_closed_(other.peer_closed_),
      send_error_(std::move(other.send_error_)) {}

RawConnection& RawConnection::operator=(RawConnection&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    timeout_ = other.timeout_;
    buffer_ = std::move(other.buffer_);
    peer_closed_ = other.peer_closed_;
    send_error_ = std::move(other.send_error_);
  }
  return *this;
}

void RawConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawConnection::ShutdownWrite() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_WR);
}

bool RawConnection::Send(std::string_view bytes) {
  send_error_.clear();
  if (fd_ < 0) {
    send_error_ = "not connected";
    return false;
  }
  const auto deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      int ready = ::poll(&p, 1, RemainingMs(deadline));
      if (ready == 0) {
        send_error_ = "the server stopped reading (send timed out)";
        return false;
      }
      if (p.revents & (POLLERR | POLLHUP)) {
        send_error_ = "connection closed or reset by the server";
        return false;
      }
      continue;
    }
    send_error_ = n < 0 ? std::string(std::strerror(errno)) : "send returned 0";
    return false;
  }
  return true;
}

bool RawConnection::SendInPieces(std::string_view bytes, std::size_t piece,
                                 std::chrono::milliseconds pause) {
  piece = std::max<std::size_t>(piece, 1);
  while (!bytes.empty()) {
    auto n = std::min(piece, bytes.size());
    if (!Send(bytes.substr(0, n))) return false;
    bytes.remove_prefix(n);
    if (!bytes.empty() && pause.count() > 0) std::this_thread::sleep_for(pause);
  }
  return true;
}

bool RawConnection::Fill(Clock::time_point deadline) {
  if (fd_ < 0 || peer_closed_) return false;
  while (true) {
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.append(chunk, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      peer_closed_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {  // ECONNRESET and friends
      peer_closed_ = true;
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, RemainingMs(deadline));
    if (ready == 0) return false;
  }
}

RawResponse RawConnection::ReadResponse(bool head_request) {
  return ReadResponse(head_request, timeout_);
}

RawResponse RawConnection::ReadResponse(bool head_request, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  RawResponse out;
  while (true) {
    std::size_t consumed = 0;
    Parse parse = buffer_.empty() ? Parse::kMore
                                  : TryParse(buffer_, head_request, peer_closed_, out, consumed);
    if (parse == Parse::kDone) {
      out.outcome = RawResponse::Outcome::kComplete;
      out.raw = buffer_.substr(0, consumed);
      buffer_.erase(0, consumed);
      return out;
    }
    if (parse == Parse::kBad) {
      out.outcome = RawResponse::Outcome::kMalformed;
      out.raw = buffer_;
      return out;
    }
    if (!Fill(deadline)) {
      if (peer_closed_) {
        // A close ends a body without a length: parse once more with eof.
        if (!buffer_.empty() &&
            TryParse(buffer_, head_request, true, out, consumed) == Parse::kDone) {
          continue;
        }
        out.outcome = RawResponse::Outcome::kClosed;
      } else {
        out.outcome = RawResponse::Outcome::kTimeout;
      }
      out.raw = buffer_;
      if (out.error.empty()) out.error = peer_closed_ ? "closed" : "timeout";
      return out;
    }
  }
}

RawResponse RawConnection::ReadFinalResponse(bool head_request) {
  const auto deadline = Clock::now() + timeout_;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto response = ReadResponse(head_request, std::max(left, std::chrono::milliseconds{0}));
    if (!response.Interim()) return response;
  }
}

bool RawConnection::WaitForClose() { return WaitForClose(timeout_); }

bool RawConnection::WaitForClose(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!peer_closed_) {
    if (!Fill(deadline) && !peer_closed_) return false;
  }
  return true;
}

bool RawConnection::ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (buffer_.find(needle) == std::string::npos) {
    if (!Fill(deadline)) return false;
  }
  return true;
}

std::string RawConnection::TakeUnread() { return std::exchange(buffer_, std::string{}); }

bool RawConnection::Readable(std::chrono::milliseconds timeout) {
  if (!buffer_.empty() || peer_closed_) return true;
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

std::string BuildRequest(std::string_view method, std::string_view target, const Headers& headers,
                         std::string_view body) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    if (LowerAscii(name) == "content-length" || LowerAscii(name) == "transfer-encoding") {
      has_length = true;
    }
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH")) {
    out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  out.append("\r\n").append(body);
  return out;
}

}  // namespace ikigai::support
