// A small libcurl HTTP client for talking to the server under test; never follows redirects.
#include "support/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <curl/curl.h>

#include "support/conformance_log.hpp"
#include "support/server.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

struct Transfer {
  Response* response;
  std::string_view upload;  // what is left to send (chunked mode)
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  transfer->response->body.append(data, size * count);
  return size * count;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response starts (after a 100 Continue, for instance): keep only the final one.
    transfer->response->headers.clear();
    return line.size();
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  transfer->response->headers.emplace(LowerAscii(Trim(line.substr(0, colon))),
                                      std::string(Trim(line.substr(colon + 1))));
  return line.size();
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  // Small chunks, so that a chunked body really arrives as many chunks.
  size_t n = std::min({size * count, transfer->upload.size(), size_t{16} * 1024});
  std::memcpy(buffer, transfer->upload.data(), n);
  transfer->upload.remove_prefix(n);
  return n;
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

nlohmann::json Response::Json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(std::string("response body is not JSON (") + e.what() +
                             "): " + Describe());
  }
}

std::string Response::Header(std::string_view name) const {
  auto it = headers.find(LowerAscii(name));
  return it == headers.end() ? std::string() : it->second;
}

bool Response::HasHeader(std::string_view name) const { return headers.count(LowerAscii(name)) != 0; }

std::vector<std::string> Response::Headers(std::string_view name) const {
  std::vector<std::string> values;
  auto [begin, end] = headers.equal_range(LowerAscii(name));
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

bool Response::ConnectionRefused() const { return curl_code == CURLE_COULDNT_CONNECT; }

bool Response::TimedOut() const { return curl_code == CURLE_OPERATION_TIMEDOUT; }

std::string Response::Describe() const {
  std::ostringstream out;
  if (status == 0) {
    out << "no response (curl " << curl_code << ": " << error << ")";
    return out.str();
  }
  out << "HTTP " << status;
  if (curl_code != 0) out << " (curl " << curl_code << ": " << error << ")";
  out << "\n";
  for (const auto& [name, value] : headers) out << name << ": " << value << "\n";
  constexpr size_t kMaxBody = 2000;
  out << "\n" << body.substr(0, kMaxBody);
  if (body.size() > kMaxBody) out << "[... " << body.size() - kMaxBody << " more bytes]";
  return out.str();
}

std::ostream& operator<<(std::ostream& out, const Response& response) {
  return out << response.Describe();
}

Http::Http(std::string base_url, Record record) : base_url_(std::move(base_url)), record_(record) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  GlobalInit();
  if (record_ == Record::kYes) OpenConformanceLog();
}

Http::Http(const Server& server) : Http(server.BaseUrl()) {}

Response Http::Send(const Request& request) const {
  Response response;
  Transfer transfer{&response, request.body};
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) {
    response.curl_code = CURLE_FAILED_INIT;
    response.error = "curl_easy_init failed";
    return response;
  }
  CURL* h = curl.get();
  std::string url = request.path.rfind("http", 0) == 0 ? request.path : base_url_ + request.path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<long>(request.timeout.count(), 10000)));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &transfer);

  const bool has_body = !request.body.empty() || request.chunked;
  if (request.method == "GET" && !has_body) {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    if (request.method != "POST") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
    if (request.chunked) {
      curl_easy_setopt(h, CURLOPT_POST, 1L);
      curl_easy_setopt(h, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(h, CURLOPT_READDATA, &transfer);
    } else if (has_body || request.method == "POST" || request.method == "PUT" ||
               request.method == "PATCH") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    }
  }

  std::unique_ptr<curl_slist, SlistDeleter> header_list;
  auto add = [&](const std::string& line) {
    curl_slist* next = curl_slist_append(header_list.get(), line.c_str());
    if (next != nullptr) {
      (void)header_list.release();
      header_list.reset(next);
    }
  };
  bool caller_sets_content_type = false;
  std::string sent_content_type;
  for (const auto& [name, value] : request.headers) {
    if (LowerAscii(name) == "content-type") {
      caller_sets_content_type = true;
      sent_content_type = value;
    }
    // "Name;" is libcurl's way to send a header with an empty value.
    add(value.empty() ? std::string(name).append(";")
                      : std::string(name).append(": ").append(value));
  }
  if (!caller_sets_content_type) {
    std::string content_type = request.content_type.value_or(
        request.body.empty() && !request.chunked ? "" : "application/json");
    // "Content-Type:" with nothing after it removes libcurl's form-encoded default.
    add(content_type.empty() ? "Content-Type:" : "Content-Type: " + content_type);
    sent_content_type = content_type;
  }
  if (request.chunked) add("Transfer-Encoding: chunked");
  add("Expect:");  // no 100-continue round trip: the server must cope with the body arriving
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());

  CURLcode code = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  response.curl_code = static_cast<int>(code);
  if (code != CURLE_OK) response.error = curl_easy_strerror(code);
  if (record_ == Record::kYes) {
    // What libcurl sent: it removes dot segments ("/a/../b") before sending.
    char* effective = nullptr;
    curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &effective);
    RecordExchange(request, effective != nullptr ? std::string_view(effective) : std::string_view(url),
                   sent_content_type, response);
  }
  return response;
}

Response Http::Simple(std::string method, std::string path, std::string body,
                      Headers headers) const {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  request.body = std::move(body);
  request.headers = std::move(headers);
  return Send(request);
}

Response Http::Get(std::string path, std::string body, Headers headers) const {
  return Simple("GET", std::move(path), std::move(body), std::move(headers));
}
Response Http::Post(std::string path, std::string body, Headers headers) const {
  return Simple("POST", std::move(path), std::move(body), std::move(headers));
}
Response Http::Put(std::string path, std::string body, Headers headers) const {
  return Simple("PUT", std::move(path), std::move(body), std::move(headers));
}
Response Http::Patch(std::string path, std::string body, Headers headers) const {
  return Simple("PATCH", std::move(path), std::move(body), std::move(headers));
}
Response Http::Delete(std::string path, std::string body, Headers headers) const {
  return Simple("DELETE", std::move(path), std::move(body), std::move(headers));
}
Response Http::Options(std::string path, std::string body, Headers headers) const {
  return Simple("OPTIONS", std::move(path), std::move(body), std::move(headers));
}

}  // namespace ikigai::support
