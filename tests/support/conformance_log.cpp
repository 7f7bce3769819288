#include "support/conformance_log.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "support/http_client.hpp"
#include "support/text.hpp"

namespace ikigai::support {
namespace {

// Bodies over this are not stored (export downloads of big accounts, the 1 MiB body tests):
// the line says so with `body_skipped`, and the checker validates status and headers only.
constexpr size_t kMaxStoredBody = size_t{1} << 20;

const char* LogPath() {
  static const char* path = [] {
    const char* value = std::getenv("IKIGAI_CONFORMANCE_LOG");
    return value != nullptr && *value != '\0' ? value : nullptr;
  }();
  return path;
}

struct Log {
  std::mutex mutex;
  std::ofstream out;
};

Log& TheLog() {
  // Opened (and truncated) on first use; never destroyed, so that threads still running at exit
  // cannot write into a closed stream.
  static Log* log = [] {
    auto* opened = new Log;
    opened->out.open(LogPath(), std::ios::out | std::ios::trunc | std::ios::binary);
    if (!opened->out) {
      throw std::runtime_error(std::string("cannot open IKIGAI_CONFORMANCE_LOG ") + LogPath());
    }
    return opened;
  }();
  return *log;
}

bool IsBase64UrlChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '=';
}

// Three dot-separated base64url runs, as a JWT is: the access token must not reach a log file.
bool LooksLikeJwt(std::string_view value) {
  int dots = 0;
  size_t run = 0;
  size_t longest_run = 0;
  for (char c : value) {
    if (c == '.') {
      ++dots;
      run = 0;
    } else if (IsBase64UrlChar(c)) {
      longest_run = std::max(longest_run, ++run);
    } else {
      dots = 0;
      run = 0;
    }
    if (dots == 2 && longest_run >= 10) return true;
  }
  return false;
}

// "name=value; Path=/; HttpOnly" -> "name=<redacted>; Path=/; HttpOnly": the checker sees which
// cookie was set or cleared (an empty value stays empty) and its attributes, never the secret.
std::string RedactSetCookie(std::string_view value) {
  auto eq = value.find('=');
  if (eq == std::string_view::npos) return "<redacted>";
  auto end = value.find(';', eq);
  std::string_view cookie_value =
      value.substr(eq + 1, end == std::string_view::npos ? std::string_view::npos : end - eq - 1);
  std::string out(value.substr(0, eq + 1));
  if (!cookie_value.empty()) out += "<redacted>";
  if (end != std::string_view::npos) out += value.substr(end);
  return out;
}

std::string RedactedHeader(const std::string& name, const std::string& value) {
  if (name == "set-cookie") return RedactSetCookie(value);
  if (name == "authorization" || name == "proxy-authorization" || name == "cookie" ||
      name.find("token") != std::string::npos || name.find("secret") != std::string::npos ||
      LooksLikeJwt(value)) {
    return "<redacted>";
  }
  return value;
}

std::string PathOf(std::string_view url) {
  // "http://host:port/path?query" -> "/path?query"; a relative path stays as it is.
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  auto slash = url.find('/', scheme + 3);
  return slash == std::string_view::npos ? std::string("/") : std::string(url.substr(slash));
}

// The body as a JSON string when it is UTF-8; nullopt otherwise (nlohmann refuses to dump it).
std::optional<std::string> DumpString(const std::string& body) {
  try {
    return nlohmann::json(body).dump();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

bool ConformanceLogEnabled() { return LogPath() != nullptr; }

void OpenConformanceLog() {
  if (ConformanceLogEnabled()) (void)TheLog();
}

void RecordExchange(const Request& request, std::string_view url, std::string_view content_type,
                    const Response& response) {
  if (!ConformanceLogEnabled() || response.status == 0) return;

  nlohmann::json sent = nlohmann::json::object();
  if (!content_type.empty()) sent["content-type"] = content_type;
  bool authorization = false;
  bool cookie = false;
  for (const auto& [raw_name, value] : request.headers) {
    std::string name = LowerAscii(raw_name);
    if (name == "authorization") {
      authorization = authorization || !value.empty();
    } else if (name == "cookie") {
      cookie = cookie || !value.empty();
    } else if (name == "origin" || name == "accept" || name == "x-ikigai-refresh" ||
               name == "if-match" || name == "if-none-match" || name == "last-event-id" ||
               name.rfind("access-control-request-", 0) == 0) {
      sent[name] = value;
    }
  }

  nlohmann::json headers = nlohmann::json::object();
  for (const auto& [name, value] : response.headers) {
    headers[name].push_back(RedactedHeader(name, value));
  }

  nlohmann::json line = {
      {"method", request.method},
      {"path", PathOf(url)},
      {"request",
       {{"headers", sent},
        {"authorization", authorization},
        {"cookie", cookie},
        {"body", !request.body.empty() || request.chunked}}},
      {"status", response.status},
      {"headers", headers},
      {"body_size", response.body.size()},
  };
  if (response.curl_code != 0) line["transfer_error"] = response.error;

  std::string response_type = LowerAscii(response.Header("content-type"));
  std::string text = line.dump();
  text.pop_back();  // the closing brace: the body member is appended as already-dumped text
  if (response_type.rfind("text/event-stream", 0) == 0) {
    text += R"(,"body_skipped":"event_stream"})";
  } else if (response.body.size() > kMaxStoredBody) {
    text += R"(,"body_skipped":"too_large"})";
  } else if (auto body = DumpString(response.body)) {
    text.append(",\"body\":").append(*body).append("}");
  } else {
    text += R"(,"body_skipped":"not_utf8"})";
  }
  text += '\n';

  Log& log = TheLog();
  std::lock_guard lock(log.mutex);
  log.out << text;
  log.out.flush();
}

}  // namespace ikigai::support
