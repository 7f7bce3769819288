// A small libcurl HTTP client for talking to the server under test; never follows redirects.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace ikigai::support {

class Server;

// Request headers in the order they are sent; a name may repeat.
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  // Appended to the client's base URL; a full "http://..." URL is used as is.
  std::string path = "/";
  std::string body;
  Headers headers;
  // nullopt (default): "application/json" when `body` is non-empty, no header otherwise.
  // "" : no Content-Type header at all. Anything else is sent as given.
  std::optional<std::string> content_type;
  // Send the body with Transfer-Encoding: chunked instead of Content-Length.
  bool chunked = false;
  // Whole-transfer timeout.
  std::chrono::milliseconds timeout = std::chrono::seconds{30};
};

struct Response {
  // 0 when no response arrived; `error` then says why.
  int status = 0;
  // Names lowercased, values trimmed; of the final response only (not of a 100 Continue).
  std::multimap<std::string, std::string> headers;
  std::string body;
  // libcurl's CURLcode (0 is success) and message.
  int curl_code = 0;
  std::string error;

  // The body parsed as JSON; throws std::runtime_error (quoting the body) when it is not JSON.
  [[nodiscard]] nlohmann::json Json() const;
  // The first value of a header (case-insensitive name), "" when absent.
  [[nodiscard]] std::string Header(std::string_view name) const;
  [[nodiscard]] bool HasHeader(std::string_view name) const;
  // Every value of a header.
  [[nodiscard]] std::vector<std::string> Headers(std::string_view name) const;
  // True when the connection could not be made (refused), as opposed to a timeout or a reset.
  [[nodiscard]] bool ConnectionRefused() const;
  [[nodiscard]] bool TimedOut() const;
  // Status, headers and (the start of) the body, for failure messages.
  [[nodiscard]] std::string Describe() const;
};

std::ostream& operator<<(std::ostream& out, const Response& response);

// An HTTP client bound to a base URL. Every call uses its own connection and libcurl handle, so
// one Http may be used from many threads at once. Proxies from the environment are ignored.
class Http {
 public:
  // kNo: the exchanges are not written to the conformance log (IKIGAI_CONFORMANCE_LOG), for the
  // test's own helper services (the push sink), which the OpenAPI document does not describe.
  enum class Record { kYes, kNo };

  explicit Http(std::string base_url, Record record = Record::kYes);
  explicit Http(const Server& server);

  [[nodiscard]] Response Send(const Request& request) const;
  [[nodiscard]] Response Get(std::string path, std::string body = "", Headers headers = {}) const;
  [[nodiscard]] Response Post(std::string path, std::string body = "", Headers headers = {}) const;
  [[nodiscard]] Response Put(std::string path, std::string body = "", Headers headers = {}) const;
  [[nodiscard]] Response Patch(std::string path, std::string body = "", Headers headers = {}) const;
  [[nodiscard]] Response Delete(std::string path, std::string body = "",
                                Headers headers = {}) const;
  [[nodiscard]] Response Options(std::string path, std::string body = "",
                                 Headers headers = {}) const;

  [[nodiscard]] const std::string& BaseUrl() const { return base_url_; }

 private:
  [[nodiscard]] Response Simple(std::string method, std::string path, std::string body,
                                Headers headers) const;

  std::string base_url_;
  Record record_ = Record::kYes;
};

}  // namespace ikigai::support
