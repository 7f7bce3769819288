// A client for the notification stream (see sse_reader.hpp).
#include "support/sse_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/conformance_log.hpp"
#include "support/raw_connection.hpp"
#include "support/server.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

using Clock = SseStream::Clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int Connect(int port, Clock::time_point deadline) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      throw std::runtime_error("connect to port " + std::to_string(port) + ": " +
                               std::strerror(errno));
    }
    pollfd p{fd, POLLOUT, 0};
    int ready = ::poll(&p, 1, RemainingMs(deadline));
    int err = 0;
    socklen_t len = sizeof err;
    if (ready <= 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      throw std::runtime_error("connect to port " + std::to_string(port) + " failed");
    }
  }
  return fd;
}

bool SendAll(int fd, std::string_view bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) <= 0) return false;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return false;
  }
  return true;
}

}  // namespace

nlohmann::json SseEvent::Json() const { return nlohmann::json::parse(data, nullptr, false); }

std::ostream& operator<<(std::ostream& out, const SseEvent& event) {
  out << "{id: \"" << event.id << "\", event: \"" << event.event << "\", data: " << event.data;
  if (event.retry) out << ", retry: " << *event.retry;
  return out << "}";
}

SseStream::SseStream(const Server& server, const std::string& target,
                     const support::Headers& headers, std::chrono::milliseconds timeout)
    : SseStream(server.Port(), target, headers, timeout) {
  // The answer's head (and a non-200's body; the event stream itself is not stored) goes to the
  // conformance log like an Http exchange: only the server under test is reached this way.
  Request request;
  request.path = target;
  request.headers = {{"Accept", "text/event-stream"}};
  request.headers.insert(request.headers.end(), headers.begin(), headers.end());
  RecordExchange(request, server.BaseUrl() + target, "", ToResponse());
}

SseStream::SseStream(int port, const std::string& target, const support::Headers& headers,
                     std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  fd_ = Connect(port, deadline);
  support::Headers all = {{"Accept", "text/event-stream"}};
  all.insert(all.end(), headers.begin(), headers.end());
  if (!SendAll(fd_, BuildRequest("GET", target, all), deadline)) {
    error_ = "could not send the request";
    return;
  }
  // The head.
  while (true) {
    auto end = raw_.find("\r\n\r\n");
    if (end != std::string::npos) {
      head_raw_ = raw_.substr(0, end + 4);
      raw_.erase(0, end + 4);
      break;
    }
    if (!Fill(deadline)) {
      error_ =
          closed_ ? "the connection closed before a response head" : "no response head in time";
      head_raw_ = raw_;
      return;
    }
  }
  std::string_view head = head_raw_;
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ') {
    error_ = "malformed status line";
    return;
  }
  int status = 0;
  auto digits = status_line.substr(9, 3);
  std::from_chars(digits.data(), digits.data() + 3, status);
  std::size_t pos = line_end + 2;
  while (pos + 2 < head.size()) {
    auto end = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers_.emplace_back(LowerAscii(line.substr(0, colon)),
                          std::string(Trim(line.substr(colon + 1))));
  }
  status_ = status;
  chunked_ = LowerAscii(Header("transfer-encoding")).find("chunked") != std::string::npos;
  // The bytes after the head can already be part of the body.
  Process();
  if (status_ != 200) {
    // An error answer: read it completely, so that ToResponse has the problem body.
    while (!Ended()) {
      if (!Fill(deadline)) break;
      Process();
    }
  }
}

SseStream::~SseStream() { Close(); }

SseStream::SseStream(SseStream&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      status_(other.status_),
      headers_(std::move(other.headers_)),
      chunked_(other.chunked_),
      raw_(std::move(other.raw_)),
      body_(std::move(other.body_)),
      parsed_(other.parsed_),
      pending_(std::move(other.pending_)),
      all_(std::move(other.all_)),
      comments_(other.comments_),
      final_chunk_(other.final_chunk_),
      closed_(other.closed_),
      head_raw_(std::move(other.head_raw_)),
      error_(std::move(other.error_)) {}

SseStream& SseStream::operator=(SseStream&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    status_ = other.status_;
    headers_ = std::move(other.headers_);
    chunked_ = other.chunked_;
    raw_ = std::move(other.raw_);
    body_ = std::move(other.body_);
    parsed_ = other.parsed_;
    pending_ = std::move(other.pending_);
    all_ = std::move(other.all_);
    comments_ = other.comments_;
    final_chunk_ = other.final_chunk_;
    closed_ = other.closed_;
    head_raw_ = std::move(other.head_raw_);
    error_ = std::move(other.error_);
  }
  return *this;
}

void SseStream::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string SseStream::Header(std::string_view name) const {
  auto lower = LowerAscii(name);
  for (const auto& [key, value] : headers_) {
    if (key == lower) return value;
  }
  return "";
}

Response SseStream::ToResponse() const {
  Response response;
  response.status = status_;
  for (const auto& [key, value] : headers_) response.headers.emplace(key, value);
  response.body = body_;
  if (status_ == 0) response.error = error_;
  return response;
}

bool SseStream::Fill(Clock::time_point deadline) {
  if (fd_ < 0 || closed_) return false;
  char buffer[16384];
  while (true) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      raw_.append(buffer, static_cast<std::size_t>(n));
      return true;
    }
    if (n == 0) {
      closed_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      closed_ = true;  // reset
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, RemainingMs(deadline));
    if (ready <= 0) return false;
  }
}

void SseStream::Process() {
  if (status_ == 0) return;
  // De-chunk (or, without chunking, take bytes as they are; Content-Length ends the body).
  if (chunked_) {
    while (!final_chunk_) {
      auto size_end = raw_.find("\r\n");
      if (size_end == std::string::npos) break;
      std::string_view size_line = std::string_view(raw_).substr(0, size_end);
      size_line = size_line.substr(0, size_line.find(';'));
      std::size_t size = 0;
      auto [p, e] =
          std::from_chars(size_line.data(), size_line.data() + size_line.size(), size, 16);
      if (e != std::errc{} || p != size_line.data() + size_line.size()) {
        error_ = "malformed chunk size line: " + EscapeBytes(size_line, 100);
        closed_ = true;
        break;
      }
      if (size == 0) {
        final_chunk_ = true;
        raw_.erase(0, size_end + 2);
        break;
      }
      if (raw_.size() < size_end + 2 + size + 2) break;
      body_.append(raw_, size_end + 2, size);
      raw_.erase(0, size_end + 2 + size + 2);
    }
  } else {
    body_ += raw_;
    raw_.clear();
    const std::string length = Header("content-length");
    if (!length.empty() && body_.size() >= std::strtoull(length.c_str(), nullptr, 10))
      final_chunk_ = true;
  }
  if (status_ != 200) return;
  // Split into event blocks: a blank line ends one (LF, CRLF or CR line endings).
  while (parsed_ < body_.size()) {
    std::string_view rest = std::string_view(body_).substr(parsed_);
    std::size_t end = std::string_view::npos;
    std::size_t skip = 0;
    for (std::string_view sep : {"\r\n\r\n", "\n\n", "\r\r"}) {
      auto at = rest.find(sep);
      if (at != std::string_view::npos && at < end) {
        end = at;
        skip = sep.size();
      }
    }
    if (end == std::string_view::npos) break;
    Dispatch(rest.substr(0, end));
    parsed_ += end + skip;
  }
}

void SseStream::Dispatch(std::string_view block) {
  SseEvent event;
  bool has_field = false;
  bool has_data = false;
  std::size_t pos = 0;
  while (pos < block.size()) {
    auto end = block.find('\n', pos);
    if (end == std::string_view::npos) end = block.size();
    std::string_view line = block.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.front() == ':') {
      ++comments_;
      continue;
    }
    auto colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    has_field = true;
    if (name == "id") {
      event.id = std::string(value);
    } else if (name == "event") {
      event.event = std::string(value);
    } else if (name == "data") {
      if (has_data) event.data += '\n';
      event.data += value;
      has_data = true;
    } else if (name == "retry") {
      long long ms = 0;
      auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), ms);
      if (e == std::errc{} && p == value.data() + value.size()) event.retry = ms;
    }
  }
  if (!has_field) return;
  // A block with only "retry:" is kept too: tests check it comes first.
  all_.push_back(event);
  pending_.push_back(std::move(event));
}

std::optional<SseEvent> SseStream::Next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (!pending_.empty()) {
      SseEvent event = std::move(pending_.front());
      pending_.pop_front();
      return event;
    }
    if (Ended() || status_ != 200) return std::nullopt;
    if (!Fill(deadline)) {
      Process();
      if (!pending_.empty()) continue;
      return std::nullopt;
    }
    Process();
  }
}

std::vector<SseEvent> SseStream::Drain(std::chrono::milliseconds quiet,
                                       std::chrono::milliseconds max_wait) {
  std::vector<SseEvent> out;
  const auto end = Clock::now() + max_wait;
  while (Clock::now() < end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now());
    auto event = Next(std::min(quiet, left));
    if (!event) break;
    out.push_back(std::move(*event));
  }
  return out;
}

bool SseStream::WaitForComments(std::size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (comments_ < count && !Ended()) {
    if (!Fill(deadline)) {
      Process();
      break;
    }
    Process();
  }
  return comments_ >= count;
}

bool SseStream::WaitForEnd(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!Ended()) {
    if (!Fill(deadline)) {
      Process();
      break;
    }
    Process();
  }
  return Ended();
}

std::string SseStream::Describe() const {
  std::ostringstream out;
  out << "[stream status " << status_;
  if (!error_.empty()) out << ", " << error_;
  out << (final_chunk_ ? ", final chunk seen" : "") << (closed_ ? ", connection closed" : "")
      << "] " << EscapeBytes(head_raw_, 2048) << EscapeBytes(body_, 4096);
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const SseStream& stream) {
  return out << stream.Describe();
}

}  // namespace ikigai::support
